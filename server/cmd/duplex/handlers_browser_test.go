//go:build !(js && wasm)

package main

import (
	"fmt"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserControlsAfterOlderLoad: once older messages load above,
// every row's controls act on the message the row shows. go-app keeps the
// first handler of a reused element when the new one is the same function
// literal, so a control that closed over its message acted on the one
// drawn there before (Reply on message 6 quoted message 36). Bad inputs:
// Reply and a reaction on rows that were reused, a row that was new.
func TestBrowserControlsAfterOlderLoad(t *testing.T) {
	exe := requireBrowser(t)
	timed(t)
	ta := startApp(t, "", "")
	bob := person(t, ta, "bob", "older")
	for i := 1; i <= 80; i++ {
		say(t, bob, "older", fmt.Sprintf("message number %d", i))
	}
	a := newTab(t, exe, "alice")
	a.setViewport(1280, 800)
	a.open(ta.URL + "/r/older")
	a.signIn("alice")
	a.waitRow("message number 80", "bob", "sent")
	a.do("load older", chromedp.Click(chromedp.CSS(`[data-test=load-older]`)))
	poll[bool](a, "message 6 loaded", `!!document.querySelector('[data-test=message][data-seq="6"]')`)
	for _, seq := range []int{6, 2, 80} {
		a.do("reply to "+fmt.Sprint(seq), chromedp.Click(chromedp.CSS(msgSel(int64(seq), `[data-test=reply-button]`))))
		poll[bool](a, fmt.Sprintf("replying to %d", seq), fmt.Sprintf(`document.querySelector('[data-test=composer-reply]')?.dataset.seq === '%d'`, seq))
	}
	a.do("react to 7", chromedp.Click(chromedp.CSS(msgSel(7, `[data-test=add-reaction]`))))
	a.do("pick", chromedp.Click(chromedp.CSS(msgSel(7, `[data-test=pick-emoji][data-emoji="👍"]`))))
	poll[bool](a, "the reaction on 7", `!!document.querySelector(`+quote(msgSel(7, `[data-test=reaction]`))+`)`)
	if n := eval[int](a, `document.querySelectorAll('[data-test=reaction]').length`); n != 1 {
		t.Errorf("%d reactions on the page, want the one on message 7", n)
	}
}
