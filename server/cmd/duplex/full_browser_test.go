//go:build !(js && wasm)

package main

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/duplex-chat/duplex/app/client"
	"github.com/duplex-chat/duplex/shared"
)

// TestBrowserFullChat puts every feature of the complete chat on one page
// at once, as people meet them together: formatting, a mention of the
// reader, a reply, reactions, an edit, an image, a typing indicator and
// an unread count in the sidebar. Each must show in Alice's browser, and
// axe-core must find no violation with all of them on screen, in both
// themes and on a phone. DUPLEX_SCREENSHOTS=1 writes the README's
// screenshots (web/screenshot.png, web/screenshot-light.png) from it.
func TestBrowserFullChat(t *testing.T) {
	exe := requireBrowser(t)
	timed(t)
	ta := startApp(t, "", "")
	bob := person(t, ta, "bob", "design", "random")
	carol := person(t, ta, "carol", "design")

	a := newTab(t, exe, "alice")
	a.setViewport(1280, 800)
	a.open(ta.URL + "/r/random")
	a.signIn("alice")
	a.open(ta.URL + "/r/design")
	a.waitOnline()

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	ack := func(c *client.Client, body string) shared.SendAck {
		t.Helper()
		sa, err := c.SendWait(ctx, "design", body)
		if err != nil {
			t.Fatalf("send %q: %v", body, err)
		}
		return sa
	}
	// A morning's short lines first, so the screenshots show the dense list.
	for i, line := range []string{
		"standup in 5?", "yes, joining now", "I'm on the flaky test", "which one?",
		"TestResumeAfterKill, 1 in 40 runs", "ah, the port reuse again", "probably: I'll pin it",
		"thanks", "coffee first ☕", "same",
	} {
		ack([]*client.Client{bob, carol}[i%2], line)
	}
	notes := ack(bob, "Morning! The **release notes** are up: https://example.com/notes")
	ack(carol, "I'll check the `build` first, then the *changelog*")
	a.sendEnter("@carol thanks, and the numbers look good")
	mine := a.waitRow("@carol thanks, and the numbers look good", "alice", "sent").Seq
	ack(bob, "```\nmake test   # 6 min\nmake bench  # 3 min\n```")
	if _, err := bob.Edit(ctx, "design", notes.Seq, "Morning! The **release notes** are up (v2): https://example.com/notes"); err != nil {
		t.Fatal(err)
	}
	for _, r := range []struct {
		c     *client.Client
		emoji string
	}{{bob, "👍"}, {carol, "👍"}, {carol, "🎉"}} {
		if _, err := r.c.React(ctx, "design", mine, r.emoji, true); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := carol.Reply("design", notes.Seq, "@alice can you review the notes before noon?"); err != nil {
		t.Fatal(err)
	}
	img, err := bob.Upload(ctx, "design", "dashboard.png", testPNG(t, 256, 160))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bob.SendImage("design", img, "today's dashboard"); err != nil {
		t.Fatal(err)
	}
	say(t, bob, "random", "lunch at 12:30?")
	say(t, bob, "random", "the usual place")

	type view struct {
		Bold, Code, Block, Link, Edited, Mention, Reply, Image, Typing bool
		Thumbs, Likes                                                  string
		Unread                                                         string
	}
	show := func() view {
		return eval[view](a, `(() => {
			const q = s => document.querySelector(s);
			const r = q('[data-test=reaction][data-emoji="👍"]');
			const img = q('[data-test=image]');
			const u = q('[data-test=room-list] [data-room=random] [data-test=unread]');
			return {
				Bold: !!q('[data-test=body] strong'), Code: !!q('[data-test=body] code'),
				Block: !!q('[data-test=body] pre.codeblock'), Link: !!q('[data-test=body] a[href="https://example.com/notes"]'),
				Edited: !!q('[data-test=edited]'), Mention: !!q('[data-test=mention][data-me=true]'),
				Reply: !!q('[data-test=reply][data-seq="`+itoa(int(notes.Seq))+`"]'),
				Image: !!img && img.getAttribute('width') !== null && img.complete && img.naturalWidth > 0,
				Typing: (q('[data-test=typing]')?.textContent || '').includes('bob'),
				Thumbs: r ? r.dataset.count : '', Likes: r ? r.getAttribute('aria-pressed') : '',
				Unread: u ? u.dataset.count : '',
			};
		})()`)
	}
	poll[bool](a, "every feature on the page", `(() => {
		const q = s => document.querySelector(s);
		return !!q('[data-test=body] strong') && !!q('[data-test=edited]') && !!q('[data-test=mention][data-me=true]') &&
			!!q('[data-test=reply]') && !!q('[data-test=image]') && q('[data-test=image]').complete &&
			q('[data-test=reaction][data-emoji="👍"]')?.dataset.count === '2' &&
			q('[data-test=room-list] [data-room=random] [data-test=unread]')?.dataset.count === '2';
	})()`)
	bob.Typing("design")
	poll[bool](a, "bob typing", `(document.querySelector('[data-test=typing]')?.textContent || '').includes('bob')`)
	v := show()
	if !v.Bold || !v.Code || !v.Block || !v.Link || !v.Edited || !v.Mention || !v.Reply || !v.Image || v.Thumbs != "2" || v.Unread != "2" {
		t.Errorf("the page shows %+v", v)
	}
	for _, theme := range []string{"light", "dark"} {
		a.setTheme(theme)
		a.axeCheck("the full chat (" + theme + ")")
		if os.Getenv("DUPLEX_SCREENSHOTS") == "1" {
			bob.Typing("design") // the indicator expires after a few seconds
			poll[bool](a, "bob typing", `(document.querySelector('[data-test=typing]')?.textContent || '').includes('bob')`)
			name := map[string]string{"light": "screenshot-light.png", "dark": "screenshot.png"}[theme]
			a.screenshot(filepath.Join(repoWeb(t), name))
		}
	}
	a.setViewport(390, 844)
	for _, theme := range []string{"light", "dark"} {
		a.setTheme(theme)
		a.axeCheck("the full chat on a phone (" + theme + ")")
		if os.Getenv("DUPLEX_SCREENSHOTS") == "1" {
			bob.Typing("design")
			poll[bool](a, "bob typing", `(document.querySelector('[data-test=typing]')?.textContent || '').includes('bob')`)
			name := map[string]string{"light": "screenshot-phone-light.png", "dark": "screenshot-phone.png"}[theme]
			a.screenshot(filepath.Join(repoWeb(t), name))
		}
	}
}
