//go:build !(js && wasm)

package main

// Browser tests of unread counts, mentions, notifications and search
// (issue #10 points 6 to 8), against the real binary's handler and
// headless Chromium.

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/duplex-chat/duplex/server/store"
	"github.com/duplex-chat/duplex/shared"
)

// focusPage makes the tab believe it has the focus, as the window of a
// person reading would: a room is marked read only then.
func (b *tab) focusPage() {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 15*time.Second)
	defer cancel()
	if _, err := chromedp.Call(ctx, emulation.SetFocusEmulationEnabled, emulation.SetFocusEmulationEnabledParams{Enabled: true}); err != nil {
		b.t.Fatalf("%s: focus emulation: %v", b.name, err)
	}
}

// badgeJS is the unread count (and mentions) of room's sidebar entry.
func badgeJS(room, test string) string {
	return `(() => { const b = document.querySelector('[data-test=room][data-room=` + room + `] [data-test=` + test + `]'); return b ? Number(b.dataset.count) : 0; })()`
}

// copyIdentity makes tab b the same person as tab a (a second device of
// theirs): a's localStorage (credential, nickname, joined rooms) is
// written into b's before the app loads.
func copyIdentity(a, b *tab, origin string) {
	b.t.Helper()
	saved := eval[string](a, `JSON.stringify(Object.fromEntries(Object.entries(localStorage)))`)
	b.do("open a static page of the origin", chromedp.Navigate(origin+"/web/duplex.css"))
	eval[bool](b, `(() => { const s = `+saved+`; for (const k in s) localStorage.setItem(k, s[k]); return true; })()`)
}

// TestBrowserUnreadAcrossBrowsersAndReload: the sidebar shows unread and
// mention badges (apart from the member count), the title the total; the
// same person on a second browser sees the same counts, and they clear
// there when the first browser reads the room; a reload keeps them (they
// come from the server); opening a room draws the "new messages" line
// before the first unread message.
func TestBrowserUnreadAcrossBrowsersAndReload(t *testing.T) {
	exe := requireBrowser(t)
	timed(t)
	ta := startApp(t, "", "")
	bob := person(t, ta, "bob-u", "side", "main")

	a := newTab(t, exe, "alice-1")
	a.focusPage()
	a.open(ta.URL + "/r/side")
	a.signIn("alice-u")
	a.open(ta.URL + "/r/main")
	a.waitOnline()
	poll[bool](a, "both rooms in the sidebar", `!!document.querySelector('[data-test=room][data-room=side]') && !!document.querySelector('[data-test=room][data-room=main]')`)

	say(t, bob, "side", "first unread")
	say(t, bob, "side", "second unread, @alice-u look")
	say(t, bob, "side", "third unread")
	poll[bool](a, "3 unread in side", badgeJS("side", "unread")+` === 3`)
	poll[bool](a, "1 mention in side", badgeJS("side", "unread-mentions")+` === 1`)
	poll[bool](a, "the total in the title", `document.title.startsWith('(3) ')`)
	if n := eval[float64](a, badgeJS("main", "unread")); n != 0 {
		t.Errorf("main shows %v unread: the room in view is read", n)
	}

	b := newTab(t, exe, "alice-2")
	b.focusPage()
	copyIdentity(a, b, ta.URL)
	b.open(ta.URL + "/r/main")
	b.waitOnline()
	poll[bool](b, "the same counts on the second browser", badgeJS("side", "unread")+` === 3 && `+badgeJS("side", "unread-mentions")+` === 1`)

	// The first browser reads side: both clear.
	a.do("open side", chromedp.Click(chromedp.CSS(`[data-test=room][data-room=side] a`)))
	poll[bool](a, "side read", badgeJS("side", "unread")+` === 0 && !document.title.startsWith('(')`)
	line := poll[string](a, "the new-messages line before the first unread", `(() => {
		const l = document.querySelector('[data-test=new-messages-line]');
		const m = l && l.parentElement.querySelector('[data-test=message]');
		return m && m.querySelector('[data-test=body]').textContent; })()`)
	if line != "first unread" {
		t.Errorf("the line is before %q, want the first unread message", line)
	}
	poll[bool](b, "the second browser cleared by the push", badgeJS("side", "unread")+` === 0 && !document.title.startsWith('(')`)

	// Away from side, a new message counts on both, and a reload keeps it.
	a.do("back to main", chromedp.Click(chromedp.CSS(`[data-test=room][data-room=main] a`)))
	poll[bool](a, "main open", `location.pathname === '/r/main'`)
	say(t, bob, "side", "while away")
	poll[bool](a, "1 unread", badgeJS("side", "unread")+` === 1`)
	poll[bool](b, "1 unread", badgeJS("side", "unread")+` === 1 && document.title.startsWith('(1) ')`)
	b.reload()
	b.waitOnline()
	poll[bool](b, "1 unread after a reload", badgeJS("side", "unread")+` === 1 && document.title.startsWith('(1) ')`)
	b.axeCheck("the sidebar with unread badges")
	b.do("open side on the second browser", chromedp.Click(chromedp.CSS(`[data-test=room][data-room=side] a`)))
	line = poll[string](b, "the new-messages line", `(() => {
		const l = document.querySelector('[data-test=new-messages-line]');
		const m = l && l.parentElement.querySelector('[data-test=message]');
		return m && m.querySelector('[data-test=body]').textContent; })()`)
	if line != "while away" {
		t.Errorf("after the reload the line is before %q, want \"while away\"", line)
	}
	poll[bool](a, "the first browser cleared", badgeJS("side", "unread")+` === 0`)
}

// TestBrowserMentionsAndNotifications: typing @ and letters lists the
// room's members (a listbox); Enter picks one, Escape closes the list
// without sending; @nicks are highlighted, the person's own distinctly;
// with notifications on (permission granted through CDP) and the tab
// hidden, a message mentioning the person goes to go-app's notification
// API, and one that does not mention them does not.
//
// What is and is not tested: the call into go-app's notification function
// (goappNewNotification, which shows it through the service worker or
// the Notification constructor) is observed; the notification as the
// operating system shows it is not. The permission prompt itself is not
// tested (CDP grants the permission).
func TestBrowserMentionsAndNotifications(t *testing.T) {
	exe := requireBrowser(t)
	timed(t)
	ta := startApp(t, "", "")
	bob := person(t, ta, "bob-m", "talk")
	a := newTab(t, exe, "alice")
	a.focusPage()
	ctx, cancel := context.WithTimeout(a.ctx, 15*time.Second)
	if _, err := chromedp.Call(ctx, browser.SetPermission, browser.SetPermissionParams{
		Permission: &browser.PermissionDescriptor{Name: "notifications"}, Setting: browser.PermissionSettingGranted, Origin: ta.URL,
	}); err != nil {
		t.Fatalf("grant notifications: %v", err)
	}
	cancel()
	a.open(ta.URL + "/r/talk")
	a.signIn("alice-m")
	poll[bool](a, "bob listed", js(`__members().includes('bob-m')`))

	// Autocomplete: @bo lists bob; Enter picks; then the message is sent.
	a.do("type @bo", chromedp.Click(chromedp.CSS(`[data-test=composer]`)), chromedp.SendKeys(chromedp.CSS(`[data-test=composer]`), "@bo"))
	poll[bool](a, "the suggestions", `(() => { const l = document.querySelector('[data-test=mention-suggestions]');
		return l && !l.hidden && l.getAttribute('role') === 'listbox' && [...l.querySelectorAll('[data-test=mention-option]')].map(o => o.textContent).join() === '@bob-m'; })()`)
	if v := eval[string](a, `document.querySelector('[data-test=composer]').getAttribute('aria-activedescendant')`); v != "mention-opt-0" {
		t.Errorf("the composer's aria-activedescendant is %q", v)
	}
	a.axeCheck("the composer with mention suggestions")
	a.do("pick with Enter", chromedp.SendKeys(chromedp.CSS(`[data-test=composer]`), kb.Enter))
	poll[bool](a, "the nick inserted, nothing sent", `document.querySelector('[data-test=composer]').value === '@bob-m ' &&
		document.querySelector('[data-test=mention-suggestions]').hidden && !__rows().length`)
	a.sendEnter("hello")
	a.waitRow("@bob-m hello", "alice-m", "sent")
	poll[bool](a, "bob's nick highlighted", `(() => { const m = [...document.querySelectorAll('[data-test=body] [data-test=mention]')];
		return m.length === 1 && m[0].textContent === '@bob-m' && m[0].dataset.me === 'false'; })()`)

	// Escape closes the list and keeps the text; Enter then sends.
	a.do("type @b and Escape", chromedp.SendKeys(chromedp.CSS(`[data-test=composer]`), "@b"))
	poll[bool](a, "the suggestions again", `!document.querySelector('[data-test=mention-suggestions]').hidden`)
	a.do("Escape", chromedp.SendKeys(chromedp.CSS(`[data-test=composer]`), kb.Escape))
	poll[bool](a, "closed, text kept", `document.querySelector('[data-test=mention-suggestions]').hidden &&
		document.querySelector('[data-test=composer]').value === '@b'`)
	eval[string](a, `document.querySelector('[data-test=composer]').value = ''`)

	// A mention of alice is highlighted as hers.
	say(t, bob, "talk", "@alice-m are you there?")
	poll[bool](a, "her mention highlighted", `(() => { const r = [...document.querySelectorAll('[data-test=message]')].find(m => m.textContent.includes('are you there'));
		const m = r && r.querySelector('[data-test=mention]');
		return m && m.dataset.me === 'true' && m.textContent === '@alice-m' && r.classList.contains('mentions-me'); })()`)

	// Notifications: on, the tab hidden; go-app's function is observed.
	a.do("turn notifications on", chromedp.Click(chromedp.CSS(`[data-test=notify]`)))
	poll[bool](a, "the bell on", `document.querySelector('[data-test=notify]').getAttribute('aria-pressed') === 'true'`)
	eval[bool](a, `(() => {
		window.__notes = [];
		const orig = window.goappNewNotification;
		window.goappNewNotification = j => { window.__notes.push(JSON.parse(j)); return orig(j); };
		Object.defineProperty(document, 'visibilityState', {configurable: true, get: () => 'hidden'});
		return true; })()`)
	say(t, bob, "talk", "plain words, nobody mentioned")
	say(t, bob, "talk", "@alice-m ping")
	notes := poll[[]map[string]any](a, "a notification", `window.__notes.length > 0 && window.__notes`)
	if len(notes) != 1 || notes[0]["title"] != "bob-m mentioned you in #talk" || notes[0]["body"] != "@alice-m ping" || notes[0]["path"] != "/r/talk" {
		t.Errorf("notifications: %v", notes)
	}

	// A new direct conversation: the page joins it from the room list, so
	// its message notifies and shows as unread before alice opens it.
	aliceID := eval[string](a, `[...document.querySelectorAll('[data-test=member]')].find(m => m.textContent === 'alice-m').dataset.user`)
	dctx, dcancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer dcancel()
	info, err := bob.DirectMessage(dctx, aliceID)
	if err != nil {
		t.Fatal(err)
	}
	if err := bob.Join(dctx, info.Name); err != nil {
		t.Fatal(err)
	}
	say(t, bob, info.Name, "psst, a direct message")
	notes = poll[[]map[string]any](a, "a notification of the DM", `window.__notes.length > 1 && window.__notes`)
	if len(notes) != 2 || notes[1]["title"] != "bob-m wrote to you" || notes[1]["path"] != "/r/"+info.Name {
		t.Errorf("notifications: %v", notes)
	}
	poll[bool](a, "the DM's unread badge", badgeJS(info.Name, "unread")+` === 1`)
}

// TestBrowserSearchJump: a search finds a message 160 messages back in a
// room the person has not opened; choosing it opens the room, loads
// history until the message is there, scrolls to it and highlights it.
// Hostile input ("NEAR(, a lone quote) finds nothing and breaks nothing.
func TestBrowserSearchJump(t *testing.T) {
	exe := requireBrowser(t)
	timed(t)
	ta := startApp(t, "", "")
	author := shared.Member{User: "seed-user", Nick: "seeder"}
	now := time.Now().UnixMilli()
	msgs := []store.NewMessage{{Room: "archive", MsgID: "needle", Author: author, Body: "the zebra crossing", TS: now - 200_000}}
	for i := 1; i <= 160; i++ {
		msgs = append(msgs, store.NewMessage{Room: "archive", MsgID: fmt.Sprint("hay-", i), Author: author, Body: fmt.Sprintf("hay %d", i), TS: now - 200_000 + int64(i)*1000})
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	if _, err := ta.app.store.Append(sctx, msgs); err != nil {
		t.Fatal(err)
	}
	cancel()

	a := newTab(t, exe, "seeker")
	a.focusPage()
	a.open(ta.URL + "/r/lobby")
	a.signIn("seeker")
	for _, q := range []string{`"NEAR(`, `"`} {
		eval[string](a, `document.querySelector('[data-test=search]').value = ''`)
		a.do("search "+q, chromedp.SendKeys(chromedp.CSS(`[data-test=search]`), q+kb.Enter))
		poll[bool](a, "no results for "+q, `(() => { const r = document.querySelector('[data-test=search-results]');
			return r && r.getAttribute('aria-busy') === 'false' && r.textContent.includes('No messages match') && !document.querySelector('[data-test=notice]'); })()`)
	}
	eval[string](a, `document.querySelector('[data-test=search]').value = ''`)
	a.do("search zebra", chromedp.SendKeys(chromedp.CSS(`[data-test=search]`), "zeb"+kb.Enter))
	poll[bool](a, "one result", `(() => { const r = [...document.querySelectorAll('[data-test=search-result]')];
		return r.length === 1 && r[0].dataset.room === 'archive' && r[0].dataset.seq === '1' && r[0].textContent.includes('the zebra crossing'); })()`)
	a.axeCheck("search results")
	a.do("open the result", chromedp.Click(chromedp.CSS(`[data-test=search-result]`)))
	poll[bool](a, "the message loaded, highlighted and in view", `(() => {
		if (location.pathname !== '/r/archive') return false;
		const m = document.querySelector('[data-test=messages] [data-test=message][data-seq="1"]');
		if (!m || !m.classList.contains('target')) return false;
		const r = m.getBoundingClientRect(), l = document.querySelector('[data-test=messages]').getBoundingClientRect();
		return r.top >= l.top - 1 && r.bottom <= l.bottom + 1; })()`)
	if n := len(a.rows()); n < 161 {
		t.Errorf("%d rows loaded, want the 161 back to the result", n)
	}
}
