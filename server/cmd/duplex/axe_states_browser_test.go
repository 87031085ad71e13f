//go:build !(js && wasm)

package main

import (
	"context"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/duplex-chat/duplex/shared"
)

// TestBrowserAxeEveryState (issue #17): axe-core finds no violation with
// the rows of every kind on screen (one's own, one mentioning the reader,
// one highlighted by a jump, the target of a message link, a pending one
// saying "sending" and one saying "not delivered" with Retry and Delete,
// a reaction, a reply; then a failed one, refused for good because its
// writer lost access to the private room while offline), in both themes,
// on a desktop and on a phone.
func TestBrowserAxeEveryState(t *testing.T) {
	exe := requireBrowser(t)
	timed(t)
	ta := startApp(t, "", "")
	px := newStallProxy(t, ta.Addr)
	base := "http://" + px.ln.Addr().String()
	bob := person(t, ta, "bob", "states")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	first, err := bob.SendWait(ctx, "states", "the first message, to be replied to")
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range []string{"filler one", "filler two", "filler three"} {
		say(t, bob, "states", b)
	}
	a := newTab(t, exe, "alice")
	a.setViewport(1280, 800)
	a.open(base + "/r/states?m=2")
	a.signIn("alice")
	poll[bool](a, "the link target marked", `!!document.querySelector('[data-test=message].target')`)
	a.sendEnter("my own message")
	mine := a.waitRow("my own message", "alice", "sent")
	if _, err := bob.React(ctx, "states", mine.Seq, "🎉", true); err != nil {
		t.Fatal(err)
	}
	if _, err := bob.Reply("states", first.Seq, "@alice a reply that mentions you"); err != nil {
		t.Fatal(err)
	}
	a.waitRow("@alice a reply that mentions you", "bob", "sent")
	poll[bool](a, "a mention of alice", `!!document.querySelector('[data-test=message].mentions-me')`)

	// pending and not delivered: the network goes away.
	px.stall()
	a.setOffline(true)
	a.sendEnter("written offline, not delivered")
	poll[bool](a, "not delivered", `document.querySelector('[data-test=delivery]')?.dataset.state === 'undelivered'`)
	a.sendEnter("written offline, still sending")
	poll[bool](a, "sending", `[...document.querySelectorAll('[data-test=delivery]')].some(d => d.dataset.state === 'sending')`)

	check := func(where string) {
		t.Helper()
		for _, theme := range []string{"light", "dark"} {
			a.setTheme(theme)
			// A jump highlights the quoted message (a 3 s flash): axe
			// looks at it mid-flash.
			a.do("show the quoted message", chromedp.Click(chromedp.CSS(`[data-test=reply]`)))
			poll[bool](a, "the highlight", `!!document.querySelector('[data-test=message].highlight')`)
			a.axeCheck("every kind of row, " + where + ", " + theme)
		}
	}
	check("desktop")
	a.setViewport(390, 844)
	check("phone")
	a.setOffline(false)
	a.waitOnline()
	a.waitRow("written offline, still sending", "alice", "sent")

	// failed ("not sent", data-status=failed): a message written offline
	// to a private room whose owner removes the writer meanwhile; back
	// online, the server refuses it for good (the client drops it with
	// MessageFailed) and the row stays, marked failed.
	a.setViewport(1280, 800)
	aliceID := eval[string](a, `document.querySelector('[data-test=message].own').dataset.user`)
	if _, err := bob.CreateRoom(ctx, "hideout", shared.RoomPrivate); err != nil {
		t.Fatal(err)
	}
	if err := bob.Join(ctx, "hideout"); err != nil {
		t.Fatal(err)
	}
	if err := bob.Invite(ctx, "hideout", aliceID); err != nil {
		t.Fatal(err)
	}
	say(t, bob, "hideout", "welcome to the hideout")
	// Opened from the sidebar, not by URL: the stalled proxy still holds
	// the page's old keep-alive connections.
	a.do("open #hideout", chromedp.Click(chromedp.CSS(`[data-test=private-list] [data-room=hideout] a`)))
	a.waitRow("welcome to the hideout", "bob", "sent")
	a.waitOnline()
	px.stall()
	a.setOffline(true)
	a.sendEnter("written while being removed")
	a.waitRow("written while being removed", "alice", "pending")
	if err := bob.Remove(ctx, "hideout", aliceID); err != nil {
		t.Fatal(err)
	}
	a.setOffline(false)
	a.waitRow("written while being removed", "alice", "failed")
	poll[bool](a, "the failed row on screen, saying why", `(() => { const r = document.querySelector('[data-test=message][data-status=failed]');
		return !!r && r.getClientRects().length > 0 && r.title.startsWith('Not sent'); })()`)
	t.Logf("the failed row: %s", eval[string](a, `document.querySelector('[data-test=message][data-status=failed]').title`))
	checkFailed := func(where string) {
		t.Helper()
		for _, theme := range []string{"light", "dark"} {
			a.setTheme(theme)
			a.axeCheck("a failed row, " + where + ", " + theme)
		}
	}
	checkFailed("desktop")
	a.setViewport(390, 844)
	checkFailed("phone")
}
