//go:build !(js && wasm)

package main

import (
	"context"
	"fmt"
	"github.com/duplex-chat/duplex/shared/testpoll"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// TestBrowserReactionPicker (issue #17): a reaction names who reacted,
// on hover (title) and to screen readers (its label); the picker holds
// every emoji of Unicode's emoji-test.txt (one category rendered at a
// time), a search (capped at 120 results) that finds emoji the former
// curated set lacked (🦘, 🪓), the recent ones first, and the arrow keys
// move through it (↓ from the search into the emoji, ↑/↓ by laid-out rows
// across the recent row and the grid, ↑ from the first row back to the
// search, ←/→ among the categories). Bad inputs: a search that matches
// nothing, ↑ past the first row, a search matching too many.
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
	// One category at a time: the first (Smileys & Emotion) and the recent
	// row, never the ~1,870 emoji at once.
	n := eval[int](a, `document.querySelectorAll('[data-test=emoji-picker] [data-test=pick-emoji]').length`)
	if n < 150 || n > 500 {
		t.Errorf("the picker renders %d emoji, want one category (150-500)", n)
	}
	if c := eval[string](a, `[...document.querySelectorAll('[data-test=emoji-category]')].map(b => b.dataset.category + (b.getAttribute('aria-pressed') === 'true' ? '*' : '')).join()`); c != "Smileys & Emotion*,People & Body,Animals & Nature,Food & Drink,Travel & Places,Activities,Objects,Symbols,Flags" {
		t.Errorf("the categories are %q", c)
	}
	// ←/→ along, ↑/↓ to the emoji above or below (the recent row holds 6
	// of 8 columns: ↓ from its second emoji is the grid's second), ↑ from
	// the first row back to the search.
	idx := `[...document.querySelectorAll('[data-test=emoji-picker] [data-test=pick-emoji]')].indexOf(document.activeElement)`
	pos := `(() => { const r = document.activeElement.getBoundingClientRect(); return Math.round(r.left) + ',' + Math.round(r.top); })()`
	a.do("ArrowRight", chromedp.KeyEvent(kb.ArrowRight))
	poll[bool](a, "the second emoji", idx+` === 1`)
	at := eval[string](a, pos)
	a.do("ArrowDown", chromedp.KeyEvent(kb.ArrowDown))
	poll[bool](a, "one row down, the same column", `(() => { const [l, t] = `+quote(at)+`.split(',').map(Number);
		const r = document.activeElement.getBoundingClientRect();
		return document.activeElement.closest('[data-test=emoji-results]') && Math.abs(r.left - l) < 3 && r.top > t; })()`)
	a.do("ArrowDown", chromedp.KeyEvent(kb.ArrowDown))
	a.do("ArrowLeft", chromedp.KeyEvent(kb.ArrowLeft))
	below := eval[int](a, idx)
	if first := eval[int](a, `document.querySelectorAll('[data-test=recent-emoji] [data-test=pick-emoji]').length`); below != first+8 {
		t.Errorf("↓ ↓ ← from the recent row's second emoji reached emoji %d, want %d (the grid's second row, first column)", below, first+8)
	}
	a.do("ArrowUp", chromedp.KeyEvent(kb.ArrowUp))
	a.do("ArrowUp", chromedp.KeyEvent(kb.ArrowUp))
	poll[bool](a, "the recent row", `!!document.activeElement.closest('[data-test=recent-emoji]')`)
	a.do("ArrowUp", chromedp.KeyEvent(kb.ArrowUp))
	poll[bool](a, "the search box", `document.activeElement?.dataset.test === 'emoji-search'`)
	a.axeCheck("the emoji picker")

	// Another category, and ←/→ among the categories.
	a.do("Animals & Nature", chromedp.Click(chromedp.CSS(`[data-test=emoji-category][data-category="Animals & Nature"]`)))
	poll[bool](a, "the animals shown, the kangaroo among them", `document.querySelector('[data-test=emoji-category][data-category="Animals & Nature"]').getAttribute('aria-pressed') === 'true' &&
		!!document.querySelector('[data-test=emoji-results] [data-test=pick-emoji][data-emoji="🦘"]') && !document.querySelector('[data-test=emoji-results] [data-emoji="😀"]')`)
	a.do("ArrowRight on the categories", chromedp.KeyEvent(kb.ArrowRight))
	poll[bool](a, "Food & Drink shown", `document.activeElement?.dataset.category === 'Food & Drink' && document.activeElement.getAttribute('aria-pressed') === 'true' &&
		!!document.querySelector('[data-test=emoji-results] [data-emoji="🍔"]')`)
	a.axeCheck("the emoji picker, another category")

	// Search: nothing, then a capped list, then emoji the curated set of
	// ~190 did not have.
	a.do("focus the search", chromedp.Focus(chromedp.CSS(`[data-test=emoji-search]`)))
	a.do("search qqqq", chromedp.KeyEvent("qqqq"))
	poll[bool](a, "nothing matches", `/No emoji match/.test(document.querySelector('[data-test=emoji-picker]').textContent) && !document.querySelector('[data-test=emoji-category]')`)
	clear := func() {
		for range 8 {
			a.do("Backspace", chromedp.KeyEvent(kb.Backspace))
		}
	}
	clear()
	a.do("search face", chromedp.KeyEvent("face"))
	poll[bool](a, "at most 120 faces, said so", `document.querySelectorAll('[data-test=emoji-results] [data-test=pick-emoji]').length === 120 &&
		/matching, first 120 shown/.test(document.querySelector('[data-test=emoji-picker]').textContent)`)
	clear()
	a.do("search axe", chromedp.KeyEvent("axe"))
	poll[bool](a, "the axe first", `document.querySelector('[data-test=emoji-results] [data-test=pick-emoji]')?.dataset.emoji === '🪓'`)
	clear()
	a.do("search kangaroo", chromedp.KeyEvent("kangaroo"))
	poll[bool](a, "only the kangaroo", `[...document.querySelectorAll('[data-test=emoji-picker] [data-test=pick-emoji]')].map(b => b.dataset.emoji).join() === '🦘'`)
	a.do("ArrowDown", chromedp.KeyEvent(kb.ArrowDown))
	poll[bool](a, "the kangaroo focused, named", `document.activeElement?.dataset.emoji === '🦘' && document.activeElement.getAttribute('aria-label') === 'React with 🦘 kangaroo'`)
	a.do("Enter", chromedp.KeyEvent(kb.Enter))
	poll[bool](a, "the kangaroo reaction, mine", `document.querySelector(`+quote(msgSel(m.Seq, `[data-test=reaction][data-emoji="🦘"]`))+`)?.getAttribute('aria-pressed') === 'true'`)
	a.do("open the picker again", chromedp.Click(chromedp.CSS(msgSel(m.Seq, `[data-test=add-reaction]`))))
	recent := poll[string](a, "the recent emoji", `document.querySelector('[data-test=recent-emoji]')?.textContent`)
	if !strings.HasPrefix(recent, "🦘") {
		t.Errorf("the recent emoji are %q, want the kangaroo first", recent)
	}
	// The axe, by mouse; both reach the server: bob's history holds them.
	a.do("search axe again", chromedp.SendKeys(chromedp.CSS(`[data-test=emoji-search]`), "axe"))
	a.do("pick the axe", chromedp.Click(chromedp.CSS(`[data-test=emoji-results] [data-test=pick-emoji][data-emoji="🪓"]`)))
	poll[bool](a, "the axe reaction", `document.querySelector(`+quote(msgSel(m.Seq, `[data-test=reaction][data-emoji="🪓"]`))+`)?.getAttribute('aria-pressed') === 'true'`)
	var got map[string]bool
	testpoll.Until(t, "bob's client to see 🦘 and 🪓 on the message", func() bool {
		got = map[string]bool{}
		page, err := bob.History(ctx, "react", 0, 50)
		if err != nil {
			t.Fatal(err)
		}
		for _, msg := range page.Messages {
			if msg.Seq == m.Seq {
				for _, rc := range msg.Reactions {
					got[rc.Emoji] = true
				}
			}
		}
		return got["🦘"] && got["🪓"]
	}, func() string { return fmt.Sprintf("bob's client sees the reactions %v", got) })
}
