//go:build !(js && wasm)

package main

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// TestBrowserManageRooms (issue #17): a private room's URL opened by
// someone without access shows a page that says so, with no composer and
// nothing added to the sidebar (also after a reload); an invite is
// confirmed to the inviter and reaches the invitee as a notice with a
// "new" badge; a private room and a DM can be left (the DM stays hidden,
// across a reload, until a new message arrives); a DM is named by the
// other person in the header, the composer and the title, and its member
// list offers no "Message" for that person. Bad inputs: the private URL
// opened twice, a reload after leaving the DM.
func TestBrowserManageRooms(t *testing.T) {
	exe := requireBrowser(t)
	timed(t)
	ta := startApp(t, "", "")
	alice := newTab(t, exe, "alice")
	bob := newTab(t, exe, "bob")
	for _, p := range []struct {
		b    *tab
		nick string
	}{{alice, "alice"}, {bob, "bob"}} {
		p.b.open(ta.URL + "/r/lobby")
		p.b.signIn(p.nick)
	}
	poll[bool](alice, "bob in the lobby", js(`JSON.stringify(__members()) === '["alice","bob"]'`))

	// alice creates the private room #secret.
	alice.do("create #secret",
		chromedp.Click(chromedp.CSS(`[data-test=new-room-private]`)),
		chromedp.SendKeys(chromedp.CSS(`[data-test=new-room]`), "secret"),
		chromedp.SendKeys(chromedp.CSS(`[data-test=new-room]`), kb.Enter))
	poll[bool](alice, "#secret open", js(`location.pathname === '/r/secret' && !!document.querySelector('[data-test=invite]')`))
	alice.waitOnline()

	// bob opens its URL: a clear page, no composer, no ghost in the sidebar.
	noGhost := func(what string) {
		t.Helper()
		poll[bool](bob, what, js(`/private room: ask a member to invite you/.test(document.querySelector('[data-test=no-access]')?.textContent || '') &&
			!document.querySelector('[data-test=composer]') && !document.querySelector('[data-test=room][data-room=secret]') &&
			!!document.querySelector('[data-test=room][data-room=lobby]')`))
	}
	bob.open(ta.URL + "/r/secret")
	noGhost("the no-access page")
	bob.axeCheck("the no-access page")
	bob.reload()
	noGhost("the no-access page after a reload")
	bob.open(ta.URL + "/r/lobby")
	bob.waitOnline()
	if n := eval[int](bob, `document.querySelectorAll('[data-test=room][data-room=secret]').length`); n != 0 {
		t.Errorf("bob's sidebar lists #secret %d times after he was refused", n)
	}

	// alice invites bob: she is told it worked; he gets a notice and a badge.
	alice.do("invite bob",
		chromedp.SendKeys(chromedp.CSS(`[data-test=invite]`), "bob"),
		chromedp.SendKeys(chromedp.CSS(`[data-test=invite]`), kb.Enter))
	poll[bool](alice, "the invite confirmed", js(`(() => { const n = document.querySelector('[data-test=notice]');
		return !!n && n.dataset.kind === 'info' && n.textContent.includes('Invited bob to #secret'); })()`))
	poll[bool](bob, "the invitation notice and badge", js(`(document.querySelector('[data-test=notice]')?.textContent || '').includes('invited to #secret') &&
		!!document.querySelector('[data-test=private-list] [data-room=secret] [data-test=invited]')`))
	bob.axeCheck("an invitation")
	bob.do("open #secret", chromedp.Click(chromedp.CSS(`[data-test=private-list] [data-room=secret] a`)))
	poll[bool](bob, "#secret readable, the badge gone", js(`location.pathname === '/r/secret' && !!document.querySelector('[data-test=composer]') &&
		!document.querySelector('[data-test=invited]')`))
	bob.sendEnter("thanks for the invite")
	alice.waitRow("thanks for the invite", "bob", "sent")

	// bob leaves the private room: gone from his sidebar.
	bob.do("leave #secret", chromedp.Click(chromedp.CSS(`[data-test=leave-room][data-room=secret]`)))
	poll[bool](bob, "#secret left", js(`location.pathname !== '/r/secret' && !document.querySelector('[data-test=room][data-room=secret]')`))

	// A DM: named by the other person everywhere, no "Message" for them.
	alice.open(ta.URL + "/r/lobby")
	alice.waitOnline()
	alice.do("message bob", chromedp.Click(chromedp.CSS(`[data-test=member] [data-test=dm][aria-label="Message bob"]`)))
	dmPath := poll[string](alice, "the DM page", js(`location.pathname.startsWith('/r/dm-') && !!document.querySelector('[data-test=composer]') && location.pathname`))
	alice.waitOnline()
	poll[bool](alice, "the DM named @bob", js(`document.querySelector('[data-test=composer]').placeholder === 'Message @bob' &&
		document.querySelector('.room-title').textContent === '@bob' && document.title.includes('@bob')`))
	alice.sendEnter("hi bob, in private")
	poll[bool](alice, "bob listed in the DM's members", js(`__members().includes('bob')`))
	if n := eval[int](alice, `document.querySelectorAll('[data-test=members] [data-test=dm]').length`); n != 0 {
		t.Errorf("the DM's member list offers %d Message buttons", n)
	}
	if html := eval[string](alice, `document.querySelector('.top').textContent + document.querySelector('.room-head').textContent + document.querySelector('[data-test=composer]').placeholder + document.title`); strings.Contains(html, "dm-") {
		t.Errorf("the DM shows its internal name: %q", html)
	}

	// bob leaves the DM: hidden, also after a reload, until alice writes.
	poll[bool](bob, "the DM in bob's sidebar", js(`!!document.querySelector('[data-test=dm-list] [data-test=room] [data-test=leave-room]')`))
	bob.do("leave the DM", chromedp.Click(chromedp.CSS(`[data-test=dm-list] [data-test=leave-room]`)))
	poll[bool](bob, "the DM hidden", js(`!document.querySelector('[data-test=dm-list] [data-test=room]')`))
	bob.reload()
	bob.waitOnline()
	poll[bool](bob, "the lobby listed after the reload", js(`!!document.querySelector('[data-test=room][data-room=lobby]')`))
	if n := eval[int](bob, `document.querySelectorAll('[data-test=dm-list] [data-test=room]').length`); n != 0 {
		t.Errorf("the DM bob left is back after a reload (%d)", n)
	}
	alice.open(ta.URL + dmPath)
	alice.waitOnline()
	alice.sendEnter("are you there?")
	alice.waitRow("are you there?", "alice", "sent")
	poll[bool](bob, "the DM back with the new message", js(`!!document.querySelector('[data-test=dm-list] [data-test=room]') &&
		document.querySelector('[data-test=dm-list] [data-test=room] a').textContent === '@alice'`))
}
