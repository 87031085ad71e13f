//go:build !(js && wasm)

package main

import (
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// TestBrowserReconnectOnOnline: with the server down the page waits out its
// reconnect backoff, here fixed at ten minutes (localStorage duplex.backoff)
// so that nothing but the browser's online event can explain a reconnect
// within the test; the server comes back, the page stays offline (asserted
// on state), then an online event makes it reconnect at once.
func TestBrowserReconnectOnOnline(t *testing.T) {
	exe := requireBrowser(t)
	timed(t)
	ta := startApp(t, "", "")
	a := newTab(t, exe, "alice")
	a.open(ta.URL + "/r/online")
	eval[chromedp.Void](a, `localStorage.setItem('duplex.backoff', '10m'), undefined`)
	a.signIn("alice")
	ta.Stop()
	poll[bool](a, "offline, waiting to retry", js(`__conn() === 'offline' && /retrying in \d+ s/.test(document.querySelector('[data-test=connection]').textContent)`))
	ta = startApp(t, ta.Addr, ta.Data)
	// The server is back, but the page waits minutes before its next try.
	if s := eval[string](a, js(`__conn()`)); s != "offline" {
		t.Fatalf("with a ten-minute backoff the page is %q right after the server came back, want offline", s)
	}
	eval[chromedp.Void](a, `window.dispatchEvent(new Event('online')), undefined`)
	a.waitOnline()
	a.sendEnter("back online")
	a.waitRow("back online", "alice", "sent")
}

// TestBrowserTyping: two people in two browsers. Bob sees "alice is
// typing…" in the typing slot ([data-test=typing], a polite live region)
// while Alice types, and it clears when she empties the composer and when
// she sends; the slot has a fixed height, so the message list and the
// composer do not move when it fills or empties. Alice never sees herself.
func TestBrowserTyping(t *testing.T) {
	exe := requireBrowser(t)
	timed(t)
	ta := startApp(t, "", "")
	a, b := newTab(t, exe, "alice"), newTab(t, exe, "bob")
	for _, p := range []*tab{a, b} {
		p.open(ta.URL + "/r/typing")
		p.signIn(p.name)
	}
	poll[bool](b, "alice in the member list", js(`__members().includes('alice')`))
	typing := `(() => { const e = document.querySelector('[data-test=typing]'); return e ? e.textContent : null; })()`
	layout := `(() => { const m = document.querySelector('[data-test=messages]').getBoundingClientRect();
		const c = document.querySelector('[data-test=composer]').getBoundingClientRect(); return [m.top, m.height, c.top].join(','); })()`
	if live := eval[string](b, `document.querySelector('[data-test=typing]').getAttribute('aria-live')`); live != "polite" {
		t.Fatalf("typing slot aria-live=%q, want polite", live)
	}
	before := eval[string](b, layout)

	a.do("type", chromedp.SendKeys(chromedp.CSS(`[data-test=composer]`), "hel"))
	poll[bool](b, "alice is typing", typing+` === 'alice is typing…'`)
	if after := eval[string](b, layout); after != before {
		t.Errorf("the layout moved when the typing line filled: %s, then %s", before, after)
	}
	if s := eval[string](a, typing); s != "" {
		t.Errorf("alice sees %q about herself", s)
	}

	// Emptying the composer stops it.
	a.do("empty the composer", chromedp.SendKeys(chromedp.CSS(`[data-test=composer]`), kb.Backspace+kb.Backspace+kb.Backspace))
	poll[bool](b, "nobody typing", typing+` === ''`)
	if after := eval[string](b, layout); after != before {
		t.Errorf("the layout moved when the typing line emptied: %s, then %s", before, after)
	}

	// Sending stops it too.
	a.do("type again", chromedp.SendKeys(chromedp.CSS(`[data-test=composer]`), "hi bob"))
	poll[bool](b, "alice is typing again", typing+` === 'alice is typing…'`)
	a.do("send", chromedp.SendKeys(chromedp.CSS(`[data-test=composer]`), kb.Enter))
	b.waitRow("hi bob", "alice", "sent")
	poll[bool](b, "nobody typing after the send", typing+` === ''`)
	if s := eval[string](a, typing); s != "" {
		t.Errorf("alice sees %q", s)
	}
}

// TestBrowserTwoTabsOutbox: two tabs of one browser (one localStorage, one
// identity) are offline; each sends a message, then tab 1 is closed. When
// the server is back, tab 2 delivers both: it finds tab 1's unsent message
// under its own localStorage key when it is welcomed again. Bob, in
// another browser, sees each message exactly once. (With the whole outbox
// under one key, each tab's write replaced the other's, and the closed
// tab's message was lost.)
func TestBrowserTwoTabsOutbox(t *testing.T) {
	exe := requireBrowser(t)
	timed(t)
	ta := startApp(t, "", "")
	url := ta.URL + "/r/tabs"
	two := newTab(t, exe, "alice-tab2")
	two.open(url)
	two.signIn("alice")
	// A second tab of the same browser: it signs in from localStorage.
	ctx1, close1 := chromedp.NewContext(two.ctx)
	defer close1()
	// The first Run binds the tab to its context: one without a deadline.
	if err := chromedp.Do(ctx1, chromedp.EmulateViewport(1200, 800)); err != nil {
		t.Fatalf("open a second tab: %v", err)
	}
	one := &tab{t: t, name: "alice-tab1", ctx: ctx1}
	one.open(url)
	one.waitOnline()
	bob := newTab(t, exe, "bob")
	bob.open(url)
	bob.signIn("bob")

	ta.Stop()
	for _, p := range []*tab{one, two} {
		poll[bool](p, "the page to see the server gone", js(`__conn() !== 'online'`))
	}
	one.sendEnter("from tab one")
	one.waitRow("from tab one", "alice", "pending")
	two.sendEnter("from tab two")
	two.waitRow("from tab two", "alice", "pending")
	close1() // the person closes tab 1 with its message unsent

	ta = startApp(t, ta.Addr, ta.Data)
	for _, body := range []string{"from tab one", "from tab two"} {
		bob.waitRow(body, "alice", "sent")
		two.waitRow(body, "alice", "sent")
	}
	for _, p := range []*tab{bob, two} {
		if rows := p.noDuplicates(); len(rows) != 2 {
			t.Errorf("%s: %d messages, want 2: %+v", p.name, len(rows), rows)
		}
	}
}
