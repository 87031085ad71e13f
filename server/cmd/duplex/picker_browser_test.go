//go:build !(js && wasm)

package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// TestBrowserReactionPicker (issue #17): a reaction names who reacted,
// on hover (title) and to screen readers (its label); the picker holds
// every emoji, a search, the recent ones first, and the arrow keys move
// through it (↓ from the search into the emoji, ↑ from the first row back
// to the search). Bad inputs: a search that matches nothing, ↑ past the
// first row.
func TestBrowserReactionPicker(t *testing.T) {
	exe := requireBrowser(t)
	timed(t)
	ta := startApp(t, "", "")
	bob := person(t, ta, "bob", "react")
	carol := person(t, ta, "carol", "react")
	say(t, bob, "react", "react to this")
	a := newTab(t, exe, "alice")
	a.setViewport(1280, 800)
	a.open(ta.URL + "/r/react")
	a.signIn("alice")
	m := a.waitRow("react to this", "bob", "sent")
	poll[bool](a, "carol in the members", js(`__members().includes('carol')`))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := carol.React(ctx, "react", m.Seq, "👍", true); err != nil {
		t.Fatal(err)
	}
	sel := msgSel(m.Seq, `[data-test=reaction][data-emoji="👍"]`)
	poll[bool](a, "carol named on the reaction", `(() => { const r = document.querySelector(`+quote(sel)+`);
		return !!r && r.title === 'carol reacted with 👍' && r.getAttribute('aria-label').startsWith('👍 1') && r.getAttribute('aria-label').includes('carol'); })()`)

	a.do("open the picker", chromedp.Click(chromedp.CSS(msgSel(m.Seq, `[data-test=add-reaction]`))))
	poll[bool](a, "the first emoji focused", `document.activeElement?.dataset.test === 'pick-emoji'`)
	n := eval[int](a, `document.querySelectorAll('[data-test=emoji-picker] [data-test=pick-emoji]').length`)
	if n < 150 {
		t.Errorf("the picker offers %d emoji, want the full set", n)
	}
	idx := `[...document.querySelectorAll('[data-test=emoji-picker] [data-test=pick-emoji]')].indexOf(document.activeElement)`
	a.do("ArrowRight", chromedp.KeyEvent(kb.ArrowRight))
	poll[bool](a, "the second emoji", idx+` === 1`)
	a.do("ArrowDown", chromedp.KeyEvent(kb.ArrowDown))
	poll[bool](a, "one row down", idx+` === 9`)
	a.do("ArrowUp", chromedp.KeyEvent(kb.ArrowUp))
	a.do("ArrowUp", chromedp.KeyEvent(kb.ArrowUp))
	poll[bool](a, "the search box", `document.activeElement?.dataset.test === 'emoji-search'`)
	a.axeCheck("the emoji picker")
	a.do("search qqqq", chromedp.KeyEvent("qqqq"))
	poll[bool](a, "nothing matches", `/No emoji match/.test(document.querySelector('[data-test=emoji-picker]').textContent)`)
	for range 4 {
		a.do("Backspace", chromedp.KeyEvent(kb.Backspace))
	}
	a.do("search rocket", chromedp.KeyEvent("rocket"))
	poll[bool](a, "only the rocket", `[...document.querySelectorAll('[data-test=emoji-picker] [data-test=pick-emoji]')].map(b => b.dataset.emoji).join() === '🚀'`)
	a.do("ArrowDown", chromedp.KeyEvent(kb.ArrowDown))
	poll[bool](a, "the rocket focused", `document.activeElement?.dataset.emoji === '🚀'`)
	a.do("Enter", chromedp.KeyEvent(kb.Enter))
	poll[bool](a, "the rocket reaction, mine", `document.querySelector(`+quote(msgSel(m.Seq, `[data-test=reaction][data-emoji="🚀"]`))+`)?.getAttribute('aria-pressed') === 'true'`)
	a.do("open the picker again", chromedp.Click(chromedp.CSS(msgSel(m.Seq, `[data-test=add-reaction]`))))
	recent := poll[string](a, "the recent emoji", `document.querySelector('[data-test=recent-emoji]')?.textContent`)
	if !strings.HasPrefix(recent, "🚀") {
		t.Errorf("the recent emoji are %q, want the rocket first", recent)
	}
}
