//go:build !(js && wasm)

package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/duplex-chat/duplex/app/client"
	"github.com/duplex-chat/duplex/shared"
	"github.com/duplex-chat/duplex/shared/testpoll"
)

// Issue #15 point 1: one ordered outbox for everything a person does.

// observer is a real client that keeps what it receives (Messages holds
// each message once, by seq, in its latest state).
func observer(t *testing.T, ta *testApp, room string) *client.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := client.Dial(ctx, ta.WS, &client.Options{Nick: "observer", CacheSize: 1000, MaxBackoff: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	go func() {
		for range c.Events() {
		}
	}()
	if err := c.Join(ctx, room); err != nil {
		t.Fatal(err)
	}
	return c
}

// bodiesBy lists the bodies of author's messages in c's room in seq order.
func bodiesBy(c *client.Client, room, author string) []string {
	var out []string
	for _, m := range c.Messages(room) {
		if m.Kind == shared.KindMessage && m.Author.Nick == author {
			out = append(out, m.Body)
		}
	}
	return out
}

// TestBrowserOfflineOrder: alice types 80 short messages while the server
// is down (her page is offline), then the server comes back with the
// default rate limits (10 sends a second, bursts of 50), so 30 of them
// are refused with rate_limited at first. A second real client receives
// them, and the order of their seqs is the order alice typed them in,
// each exactly once. Before the one ordered outbox each refused send was
// retried on its own timer and the room stored 1–50, 61, 72, 51–60, ….
func TestBrowserOfflineOrder(t *testing.T) {
	exe := requireBrowser(t)
	timed(t)
	const room, n = "order", 80
	ta := startAppWith(t, config{}) // the default limits
	obs := observer(t, ta, room)
	a := newTab(t, exe, "alice")
	a.open(ta.URL + "/r/" + room)
	a.signIn("alice")

	ta.Stop()
	poll[bool](a, "the page to see the server gone", js(`__conn() !== 'online'`))
	var typed []string
	for i := 1; i <= n; i++ {
		body := fmt.Sprintf("m%02d", i)
		typed = append(typed, body)
		a.do("type "+body,
			chromedp.SetValue(chromedp.CSS(`[data-test=composer]`), body),
			chromedp.SendKeys(chromedp.CSS(`[data-test=composer]`), kb.Enter),
		)
	}
	poll[bool](a, "80 pending rows", js(`__rows().filter(r => r.status === 'pending').length === 80`))

	ta = startAppWith(t, config{addr: ta.Addr, dataDir: ta.Data})
	back := time.Now()
	var got []string
	// The order check below reports a shortfall with what did arrive.
	_ = testpoll.Wait(90*time.Second, "all messages at the observer", func() bool {
		got = bodiesBy(obs, room, "alice")
		return len(got) >= n
	})
	t.Logf("all %d delivered %v after the server came back", len(got), time.Since(back).Round(time.Millisecond))
	t.Logf("received order: %s", compactOrder(got))
	if strings.Join(got, ",") != strings.Join(typed, ",") {
		t.Fatalf("the observer received %d messages in the order\n  %v\nwant the typed order\n  %v", len(got), got, typed)
	}
	poll[bool](a, "all 80 sent in alice's page", js(`__rows().filter(r => r.status === 'sent').length === 80 &&
		__rows().every(r => r.status === 'sent')`))
	a.noDuplicates()
	a.noCSPViolations()
}

// compactOrder writes bodies m01..m80 as runs: "1..50, 61, 51..60".
func compactOrder(bodies []string) string {
	var parts []string
	start, prev := -1, -1
	flush := func() {
		switch {
		case start < 0:
		case start == prev:
			parts = append(parts, strconv.Itoa(start))
		default:
			parts = append(parts, fmt.Sprintf("%d..%d", start, prev))
		}
	}
	for _, b := range bodies {
		v, err := strconv.Atoi(strings.TrimPrefix(b, "m"))
		if err != nil {
			v = -2
		}
		if start >= 0 && v == prev+1 {
			prev = v
			continue
		}
		flush()
		start, prev = v, v
	}
	flush()
	return strings.Join(parts, ", ")
}

// TestBrowserOfflineEditAndReaction: alice's page goes offline (the
// server stops) after she sent a message; she edits it (Up-arrow, new
// text, Enter) and reacts to it with the picker. Both show at once in her
// page, survive a reload made while still offline (from localStorage),
// and when the server is back they are applied: bob's real client holds
// the message edited with alice's 👍, the edit before the reaction.
func TestBrowserOfflineEditAndReaction(t *testing.T) {
	exe := requireBrowser(t)
	timed(t)
	const room = "offline-edit"
	ta := startAppWith(t, config{})
	bob := observer(t, ta, room)
	a := newTab(t, exe, "alice")
	a.open(ta.URL + "/r/" + room)
	a.signIn("alice")
	const plan, edited = "the plan, first draft", "the plan, edited offline"
	a.sendEnter(plan)
	m := a.waitRow(plan, "alice", "sent")
	poll[bool](a, "the service worker cache", `(async () => {
		await navigator.serviceWorker.ready;
		for (const k of await caches.keys()) {
			const c = await caches.open(k);
			if (await c.match('/') && await c.match('/web/app.wasm') && await c.match('/app.js')) return true;
		}
		return false;
	})()`)

	ta.Stop()
	poll[bool](a, "the page to see the server gone", js(`__conn() !== 'online'`))
	poll[bool](a, "an empty composer", `document.querySelector('[data-test=composer]').value === ''`)
	a.do("Up-arrow, new text, Enter",
		chromedp.Focus(chromedp.CSS(`[data-test=composer]`)),
		chromedp.KeyEvent(kb.ArrowUp),
	)
	poll[bool](a, "the composer to hold the message to edit", `document.querySelector('[data-test=composer]').value === `+quote(plan))
	a.do("save the edit",
		chromedp.SetValue(chromedp.CSS(`[data-test=composer]`), edited),
		chromedp.KeyEvent(kb.Enter),
	)
	// The edit shows at once; only then open the picker (the row's
	// layout moves when the body changes, and a click aimed before that
	// may miss the button).
	poll[bool](a, "the edit shown while offline", `(() => { const m = document.querySelector(`+quote(msgSel(m.Seq, ""))+`.trim());
		return !!m && m.querySelector('[data-test=body]').textContent === `+quote(edited)+`; })()`)
	for i := 0; ; i++ {
		a.do("open the emoji picker", chromedp.Click(chromedp.CSS(msgSel(m.Seq, `[data-test=add-reaction]`))))
		if _, err := tryPoll[bool](a, `document.activeElement?.dataset.test === 'pick-emoji'`, 5*time.Second); err == nil {
			break
		} else if i == 3 {
			t.Fatalf("the emoji picker did not open: %v\n%s", err, a.state())
		}
	}
	a.do("pick 👍", chromedp.Click(chromedp.CSS(msgSel(m.Seq, `[data-test=pick-emoji][data-emoji="👍"]`))))
	shown := `(() => { const m = document.querySelector(` + quote(msgSel(m.Seq, "")) + `.trim());
		return !!m && m.querySelector('[data-test=body]').textContent === ` + quote(edited) + ` &&
			` + reactionJS(m.Seq, "👍") + ` === '1/true'; })()`
	poll[bool](a, "the edit and the reaction shown while offline", shown)
	// (A read marker may wait there too: the page marks what it shows.)
	if got := eval[string](a, `Object.keys(localStorage).filter(k => k.includes('duplex.outbox.v3.')).
		map(k => JSON.parse(localStorage.getItem(k))).filter(p => p.kind !== 'read').
		sort((x, y) => x.n - y.n).map(p => p.kind + ':' + p.target).join(' ')`); got != fmt.Sprintf("edit:%d react:%d", m.Seq, m.Seq) {
		t.Errorf("localStorage holds the outbox entries %q, want the edit, then the reaction", got)
	}

	a.reload() // still offline: the page comes from the service worker
	if s := eval[string](a, js(`__conn()`)); s == "online" {
		t.Fatalf("alice is online with the server down")
	}
	poll[bool](a, "the edit and the reaction shown after the reload", shown)

	ta = startAppWith(t, config{addr: ta.Addr, dataDir: ta.Data})
	var got shared.Message
	// The check below reports what bob holds if this never happens.
	_ = testpoll.Wait(testpoll.Timeout, "the edit and the reaction at bob", func() bool {
		for _, msg := range bob.Messages(room) {
			if msg.Seq == m.Seq {
				got = msg
			}
		}
		return got.Body == edited && len(got.Reactions) == 1
	})
	if got.Body != edited || len(got.Reactions) != 1 || got.Reactions[0].Emoji != "👍" || got.Reactions[0].Count != 1 {
		t.Fatalf("bob holds %+v, want the edited body with one 👍", got)
	}
	var kinds []string
	for _, ev := range rcStoreAll(t, ta.app.store, room) {
		if ev.Target == m.Seq {
			kinds = append(kinds, string(ev.Kind))
		}
	}
	if strings.Join(kinds, " ") != "edit react" {
		t.Fatalf("the store holds the events %q on seq %d, want the edit, then the reaction", kinds, m.Seq)
	}
	poll[bool](a, "alice online with the edit and reaction applied", js(`__conn() === 'online'`)+` && `+shown)
	poll[bool](a, "the outbox emptied in localStorage", `Object.keys(localStorage).filter(k => k.includes('duplex.outbox.')).length === 0`)
	a.noCSPViolations()
}
