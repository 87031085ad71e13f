//go:build !(js && wasm)

package main

import (
	"fmt"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// TestBrowserKeyboard (issue #17): with 50 messages in the room the Tab
// stops from the top bar to the composer stay few (the message list is
// one stop); ↑/↓/Home/End move between messages (roving tabindex), → and
// Enter reach a message's controls (Reply works from there), Escape comes
// back; ↓ from the search box enters the results, Escape closes them;
// Ctrl+K opens a quick switcher that goes to a room or to a person (a DM).
// Bad inputs: ↑ on the first loaded message, a query matching nothing.
func TestBrowserKeyboard(t *testing.T) {
	exe := requireBrowser(t)
	timed(t)
	ta := startApp(t, "", "")
	bob := person(t, ta, "bob", "keys")
	person(t, ta, "carol", "other-room")
	for i := range 50 {
		say(t, bob, "keys", fmt.Sprintf("filler %d", i))
	}
	a := newTab(t, exe, "alice")
	a.setViewport(1280, 800)
	a.open(ta.URL + "/r/keys")
	a.signIn("alice")
	a.waitRow("filler 49", "bob", "sent")

	// Tab stops from the first control of the top bar to the composer.
	eval[bool](a, `(() => { const f = [...document.querySelectorAll('.top button, .top a, .top input')].find(e => e.offsetParent !== null); f.focus(); return true; })()`)
	stops, path := 0, []string{}
	for ; stops < 80; stops++ {
		if eval[string](a, focusedJS) == "composer" {
			break
		}
		path = append(path, eval[string](a, focusedJS))
		a.do("Tab", chromedp.KeyEvent(kb.Tab))
	}
	t.Logf("Tab stops from the top bar to the composer with 50 messages: %d (%v)", stops, path)
	if stops > 20 {
		t.Errorf("%d Tab stops from the top bar to the composer: the message list must be one stop", stops)
	}
	msgStops := 0
	for _, p := range path {
		if p == "message" {
			msgStops++
		}
	}
	if msgStops != 1 {
		t.Errorf("the message list took %d Tab stops, want 1: %v", msgStops, path)
	}

	// Arrows between messages, into a message's controls and back.
	eval[bool](a, `(document.querySelector('[data-test=messages] [data-test=message][tabindex="0"]').focus(), true)`)
	seq := func() string { return eval[string](a, `document.activeElement?.dataset?.seq || ''`) }
	if s := seq(); s != "50" {
		t.Errorf("the tabbable message is seq %q, want the newest (50)", s)
	}
	a.do("ArrowUp", chromedp.KeyEvent(kb.ArrowUp))
	poll[bool](a, "message 49 focused", `document.activeElement?.dataset?.seq === '49' && document.activeElement.tabIndex === 0`)
	a.do("End", chromedp.KeyEvent(kb.End))
	poll[bool](a, "message 50 focused", `document.activeElement?.dataset?.seq === '50'`)
	a.do("ArrowRight", chromedp.KeyEvent(kb.ArrowRight))
	poll[bool](a, "a control of message 50 focused", `document.activeElement?.closest('[data-test=message]')?.dataset.seq === '50' && document.activeElement.dataset.test !== 'message'`)
	for range 5 {
		if eval[string](a, focusedJS) == "reply-button" {
			break
		}
		a.do("ArrowRight", chromedp.KeyEvent(kb.ArrowRight))
	}
	a.do("Enter on Reply", chromedp.KeyEvent(kb.Enter))
	poll[bool](a, "replying to message 50", `document.querySelector('[data-test=composer-reply]')?.dataset.seq === '50'`)
	a.do("Escape the reply", chromedp.KeyEvent(kb.Escape))

	// Search: ↓ into the results, Escape closes them.
	a.do("search", chromedp.SendKeys(chromedp.CSS(`[data-test=search]`), "filler"+kb.Enter))
	poll[bool](a, "results", `document.querySelectorAll('[data-test=search-result]').length > 2`)
	a.do("ArrowDown", chromedp.KeyEvent(kb.ArrowDown))
	poll[bool](a, "the first result focused", `document.activeElement === document.querySelectorAll('[data-test=search-result]')[0]`)
	a.do("ArrowDown", chromedp.KeyEvent(kb.ArrowDown))
	poll[bool](a, "the second result focused", `document.activeElement === document.querySelectorAll('[data-test=search-result]')[1]`)
	a.do("Escape", chromedp.KeyEvent(kb.Escape))
	poll[bool](a, "results closed, focus in the box", `!document.querySelector('[data-test=search-results]') && document.activeElement?.dataset.test === 'search'`)

	// Ctrl+K: a room by name, then a person.
	ctrlK := func() {
		t.Helper()
		a.do("Ctrl+K", chromedp.KeyEvent("k", chromedp.KeyModifiers(chromedp.ModifierCtrl)))
		poll[bool](a, "the switcher, focused", `document.activeElement?.dataset.test === 'switcher-input'`)
	}
	ctrlK()
	a.do("type zzz", chromedp.KeyEvent("zzz"))
	poll[bool](a, "nothing matches", `/Nothing matches/.test(document.querySelector('[data-test=switcher]').textContent)`)
	eval[bool](a, `(() => { const i = document.querySelector('[data-test=switcher-input]'); i.value = ''; i.dispatchEvent(new Event('input', {bubbles: true})); return true; })()`)
	a.do("type oth", chromedp.KeyEvent("oth"))
	poll[bool](a, "#other-room offered", `document.querySelector('[data-test=switcher-option].selected')?.textContent === '#other-room'`)
	a.axeCheck("the quick switcher")
	a.do("Enter", chromedp.KeyEvent(kb.Enter))
	poll[bool](a, "#other-room open", js(`location.pathname === '/r/other-room' && !document.querySelector('[data-test=switcher]')`))
	a.waitOnline()
	poll[bool](a, "carol in the members", js(`__members().includes('carol')`))
	ctrlK()
	a.do("type carol", chromedp.KeyEvent("carol"))
	poll[bool](a, "@carol offered", `document.querySelector('[data-test=switcher-option].selected')?.textContent === '@carol'`)
	a.do("Enter", chromedp.KeyEvent(kb.Enter))
	poll[bool](a, "the DM with carol", js(`location.pathname.startsWith('/r/dm-') && document.querySelector('[data-test=composer]')?.placeholder === 'Message @carol'`))
}
