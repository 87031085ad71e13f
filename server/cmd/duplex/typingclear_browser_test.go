//go:build !(js && wasm)

package main

import (
	"errors"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBrowserTypingClearsOnMessage (issue #17): the typing line stops
// naming someone the moment their message arrives, in the same update
// that shows the message (it used to linger 0.5–1 s), and a typing list
// that arrives just after, still naming them, does not bring them back.
// Bad inputs: three sends in a row, each right after typing.
func TestBrowserTypingClearsOnMessage(t *testing.T) {
	exe := requireBrowser(t)
	timed(t)
	ta := startApp(t, "", "")
	bob := person(t, ta, "bob", "typist")
	a := newTab(t, exe, "alice")
	a.open(ta.URL + "/r/typist")
	a.signIn("alice")
	poll[bool](a, "bob in the members", js(`__members().includes('bob')`))
	// Record, for every message row that appears, what the typing line
	// said in the same DOM update.
	eval[bool](a, `(() => {
		window.__atArrival = {};
		new MutationObserver(() => {
			const typing = document.querySelector('[data-test=typing]')?.textContent || '';
			for (const m of document.querySelectorAll('[data-test=messages] [data-test=message]')) {
				const b = m.querySelector('[data-test=body]')?.textContent;
				if (b && !(b in __atArrival)) __atArrival[b] = typing;
			}
		}).observe(document.body, {subtree: true, childList: true, characterData: true});
		return true;
	})()`)
	for _, body := range []string{"first after typing", "second after typing", "third after typing"} {
		bob.Typing("typist")
		poll[bool](a, "bob typing", `(document.querySelector('[data-test=typing]')?.textContent || '').includes('bob')`)
		say(t, bob, "typist", body)
		at := poll[string](a, "the message "+body, `(window.__atArrival || {})[`+quote(body)+`] !== undefined && ('|' + __atArrival[`+quote(body)+`])`)
		if at != "|" {
			t.Errorf("when %q arrived the typing line said %q", body, at[1:])
		}
		if v, err := tryPoll[bool](a, `(document.querySelector('[data-test=typing]')?.textContent || '').includes('bob')`, 1200*time.Millisecond); !errors.Is(err, chromedp.ErrPollingTimeout) {
			t.Errorf("bob is shown typing again after %q (%v, %v)", body, v, err)
		}
	}
}
