//go:build !(js && wasm)

package main

import (
	"fmt"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/duplex-chat/duplex/app/client"
	"github.com/duplex-chat/duplex/shared/testpoll"
)

// TestBrowserLeaveRoom: the leave control of a joined room (issue #9)
// leaves it on the server, drops it from the sidebar for good (across a
// reload), moves to another joined room when it was the room on screen,
// and to the room browser after the last one; the room stays joinable
// from the browser. Keyboard: the control is a labelled button that Enter
// activates. Bad inputs: leaving the room on screen, leaving the last
// room, rejoining a room just left.
func TestBrowserLeaveRoom(t *testing.T) {
	exe := requireBrowser(t)
	timed(t)
	ta := startApp(t, "", "")
	bob := person(t, ta, "bob", "lobby")
	a := newTab(t, exe, "alice")
	a.open(ta.URL + "/r/lobby")
	a.signIn("alice")
	for _, room := range []string{"second", "third"} {
		a.do("join "+room,
			chromedp.SendKeys(chromedp.CSS(`[data-test=new-room]`), room),
			chromedp.SendKeys(chromedp.CSS(`[data-test=new-room]`), kb.Enter))
		poll[bool](a, "#"+room+" open", js(`location.pathname === '/r/`+room+`' && __conn() === 'online'`))
	}
	sidebar := func(want string) {
		t.Helper()
		poll[bool](a, "sidebar rooms "+want, `[...document.querySelectorAll('[data-test=room-list] [data-test=room]')].map(r => r.dataset.room).join(',') === `+quote(want))
	}
	sidebar("lobby,second,third")
	waitMember(t, bob, "lobby", "alice", true)
	if l := eval[string](a, `document.querySelector('[data-test=leave-room][data-room=lobby]').getAttribute('aria-label')`); l != "Leave #lobby" {
		t.Errorf("leave control label %q", l)
	}

	// Leave a room that is not on screen: it goes, the page stays.
	a.do("leave lobby", chromedp.Click(chromedp.CSS(`[data-test=leave-room][data-room=lobby]`)))
	sidebar("second,third")
	waitMember(t, bob, "lobby", "alice", false)
	if p := eval[string](a, `location.pathname`); p != "/r/third" {
		t.Errorf("leaving another room moved the page to %s", p)
	}

	// Leave the room on screen with the keyboard: the page moves to
	// another joined room.
	a.do("focus leave third", chromedp.Focus(chromedp.CSS(`[data-test=leave-room][data-room=third]`)))
	a.do("press Enter", chromedp.KeyEvent(kb.Enter))
	poll[bool](a, "#second on screen", js(`location.pathname === '/r/second' && !!document.querySelector('[data-test=composer]')`))
	sidebar("second")

	// Kept across a reload: the rooms left are not joined again.
	a.reload()
	a.waitOnline()
	sidebar("second")
	if j := eval[string](a, `localStorage.getItem('duplex.joined.v1')`); j != `["second"]` {
		t.Errorf("joined rooms kept: %s", j)
	}

	// The room browser still offers the rooms left; joining again works.
	a.do("browse", chromedp.Click(chromedp.CSS(`[data-test=browse]`)))
	poll[bool](a, "lobby and third in the browser", `!!document.querySelector('[data-test=browse-list] [data-room=lobby]') &&
		!!document.querySelector('[data-test=browse-list] [data-room=third]')`)
	a.do("rejoin lobby", chromedp.Click(chromedp.CSS(`[data-test=browse-list] [data-room=lobby] a`)))
	poll[bool](a, "#lobby again", js(`location.pathname === '/r/lobby' && __conn() === 'online'`))
	sidebar("second,lobby")
	waitMember(t, bob, "lobby", "alice", true)
	say(t, bob, "lobby", "welcome back")
	a.waitRow("welcome back", "bob", "sent")

	// Leave everything: the last leave shows the room browser.
	a.do("leave lobby", chromedp.Click(chromedp.CSS(`[data-test=leave-room][data-room=lobby]`)))
	poll[bool](a, "#second on screen", js(`location.pathname === '/r/second'`))
	a.do("leave second", chromedp.Click(chromedp.CSS(`[data-test=leave-room][data-room=second]`)))
	poll[bool](a, "the room browser", `!!document.querySelector('[data-test=no-room] [data-test=browse-room][data-room=lobby]') &&
		!document.querySelector('[data-test=room-list] [data-test=room]') && !document.querySelector('[data-test=composer]')`)
	a.axeCheck("the room browser after leaving every room")
	a.do("join third from the browser", chromedp.Click(chromedp.CSS(`[data-test=no-room] [data-room=third] a`)))
	poll[bool](a, "#third", js(`location.pathname === '/r/third' && !!document.querySelector('[data-test=composer]')`))
	sidebar("third")
}

// waitMember polls c's member list of room until nick is in it (or not).
func waitMember(t *testing.T, c *client.Client, room, nick string, in bool) {
	t.Helper()
	testpoll.Until(t, fmt.Sprintf("%s in #%s's members to be %v", nick, room, in), func() bool {
		found := false
		for _, m := range c.Members(room) {
			found = found || m.Nick == nick
		}
		return found == in
	}, func() string { return fmt.Sprintf("members %v", c.Members(room)) })
}
