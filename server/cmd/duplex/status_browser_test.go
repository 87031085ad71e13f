//go:build !(js && wasm)

package main

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/duplex-chat/duplex/app/client"
)

// setOffline takes the tab's network away (every request fails, the page
// gets navigator.onLine false and its offline event) or gives it back.
func (b *tab) setOffline(off bool) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 15*time.Second)
	defer cancel()
	var rules []*network.Conditions
	if off {
		rules = []*network.Conditions{{Offline: true, DownloadThroughput: -1, UploadThroughput: -1}}
	}
	_, err := chromedp.Call(ctx, network.Enable, network.EnableParams{})
	if err == nil {
		_, err = chromedp.Call(ctx, network.EmulateNetworkConditionsByRule, network.EmulateNetworkConditionsByRuleParams{MatchedNetworkConditions: rules})
	}
	if err == nil {
		_, err = chromedp.Call(ctx, network.OverrideNetworkState, network.OverrideNetworkStateParams{Offline: off, DownloadThroughput: -1, UploadThroughput: -1})
	}
	if err != nil {
		b.t.Fatalf("%s: network offline=%v: %v", b.name, off, err)
	}
}

// recordStates keeps every state the connection pill shows, with the
// time (Date.now()) it showed it, in window.__states.
func (b *tab) recordStates() {
	b.t.Helper()
	eval[bool](b, `(() => {
		window.__states = [];
		const note = () => {
			const c = document.querySelector('[data-test=connection]');
			const s = c ? c.dataset.state : '';
			if (!__states.length || __states[__states.length - 1].state !== s) __states.push({state: s, at: Date.now()});
		};
		note();
		new MutationObserver(note).observe(document.body, {subtree: true, childList: true, attributes: true, attributeFilter: ['data-state']});
		return true;
	})()`)
}

// firstState is when the pill first showed state after (Unix ms) since.
func (b *tab) firstState(state string, since int64) int64 {
	b.t.Helper()
	return poll[int64](b, "the pill to say "+state, fmt.Sprintf(`(window.__states || []).find(s => s.state === %q && s.at >= %d)?.at || 0`, state, since))
}

// delivery is the delivery line of the pending message with body.
func (b *tab) delivery(body string) string {
	return eval[string](b, `(() => { const m = [...document.querySelectorAll('[data-test=message]')].find(m =>
		m.querySelector('[data-test=body]')?.textContent === `+quote(body)+`);
		const d = m && m.querySelector('[data-test=delivery]'); return d ? d.dataset.state : ''; })()`)
}

// TestBrowserHonestStatus: the pill says offline within moments of the
// browser going offline (with the socket also silenced, as dead Wi-Fi
// leaves it), and when the socket goes silent while the browser still
// believes it is online (a send goes unanswered); it says online again only
// once the server answered. A message written meanwhile says "sending",
// then "not delivered" with Retry and Delete: Delete removes it for good,
// Retry starts over, and it is delivered once, when the network is back.
// The own message just sent is fully in view. Bad inputs tried: a link
// silenced mid-session (no FIN, no close frame), the browser offline with
// a message written, Delete of an undelivered message.
func TestBrowserHonestStatus(t *testing.T) {
	exe := requireBrowser(t)
	timed(t)
	ta := startApp(t, "", "")
	px := newStallProxy(t, ta.Addr)
	base := "http://" + px.ln.Addr().String()
	bob := person(t, ta, "bob", "status")
	for i := range 40 {
		say(t, bob, "status", fmt.Sprintf("filler %d", i))
	}

	a := newTab(t, exe, "alice")
	a.setViewport(1280, 800)
	a.open(base + "/r/status")
	a.signIn("alice")
	a.sendEnter("hello before anything breaks")
	a.waitRow("hello before anything breaks", "alice", "sent")
	ownInView := func(body string) {
		t.Helper()
		poll[bool](a, "the own message "+body+" fully in view", `(() => {
			const m = [...document.querySelectorAll('[data-test=message]')].find(m => m.querySelector('[data-test=body]')?.textContent === `+quote(body)+`);
			const l = document.querySelector('[data-test=messages]').getBoundingClientRect();
			if (!m) return false;
			const r = m.getBoundingClientRect();
			return r.top >= l.top - 0.5 && r.bottom <= l.bottom + 0.5;
		})()`)
	}
	ownInView("hello before anything breaks")

	// 1. The browser goes offline, and the socket goes silent with it.
	a.recordStates()
	px.stall()
	off := time.Now().UnixMilli()
	a.setOffline(true)
	at := a.firstState("offline", off)
	t.Logf("browser offline: the pill said offline after %d ms", at-off)
	if at-off > 20000 {
		t.Errorf("the pill took %d ms to say offline: the heartbeat, not the page, noticed", at-off)
	}
	const gone = "written offline, then deleted"
	const kept = "written offline, then retried"
	a.sendEnter(gone)
	a.sendEnter(kept)
	a.waitRow(gone, "alice", "pending")
	if d := a.delivery(gone); d != "sending" {
		t.Errorf("a message just written offline says %q, want sending", d)
	}
	poll[bool](a, "both not delivered", js(`[...document.querySelectorAll('[data-test=delivery]')].filter(d => d.dataset.state === 'undelivered').length === 2 &&
		!!document.querySelector('[data-test=retry-send]') && !!document.querySelector('[data-test=discard-send]')`))
	ownInView(kept)
	a.axeCheck("undelivered messages")
	a.do("delete the first", chromedp.Click(chromedp.CSS(`[data-test=discard-send]`)))
	poll[bool](a, "the deleted message gone", js(`!__rows().some(r => r.body === `+quote(gone)+`)`))
	a.do("retry the second", chromedp.Click(chromedp.CSS(`[data-test=retry-send]`)))
	poll[bool](a, "the retried message sending again", js(`document.querySelector('[data-test=delivery]')?.dataset.state === 'sending'`))
	if s := eval[string](a, js(`__conn()`)); s != "offline" {
		t.Errorf("the pill says %q while the browser is offline", s)
	}

	// 2. The network is back: online only once the server answered, and
	// the retried message delivered once; the deleted one never.
	back := time.Now().UnixMilli()
	a.setOffline(false)
	a.waitRow(kept, "alice", "sent")
	onAt := a.firstState("online", back)
	t.Logf("network back: online after %d ms", onAt-back)
	if got := stored(t, bob, "status"); strings.Count(got, kept) != 1 || strings.Contains(got, gone) {
		t.Errorf("the server holds %q: want the retried message once and the deleted one never", got)
	}

	// 3. The socket goes silent while the browser believes it is online:
	// a send goes unanswered, the page asks the server, gets nothing, and
	// says offline, then connects again and delivers it.
	px.stall()
	const silent = "sent into a silent socket"
	quiet := time.Now().UnixMilli()
	a.sendEnter(silent)
	at = a.firstState("offline", quiet)
	t.Logf("silent socket: the pill said offline %d ms after the unanswered send", at-quiet)
	if at-quiet > 20000 {
		t.Errorf("the pill took %d ms to say offline on a silent socket", at-quiet)
	}
	a.waitRow(silent, "alice", "sent")
	a.waitOnline()
	ownInView(silent)
	a.noDuplicates()
}

// stored is the bodies of room's newest messages on the server, a line each.
func stored(t *testing.T, c *client.Client, room string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	page, err := c.History(ctx, room, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, m := range page.Messages {
		b.WriteString(m.Body + "\n")
	}
	return b.String()
}
