//go:build !(js && wasm)

package main

// UI tests, one per numbered point of issue #9, in real headless Chromium
// against the real server (see browser_test.go for the harness).
//
// DUPLEX_SCREENSHOTS=1 makes TestBrowserUIReading write the README's
// phone screenshots: web/screenshot-phone.png and
// web/screenshot-phone-members.png at 390x844 (TestBrowserFullChat writes
// the desktop ones).

import (
	"context"
	"encoding/json"
	"errors"
	"hash/fnv"
	"image/png"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/duplex-chat/duplex/server/store"
	"github.com/duplex-chat/duplex/shared"
)

// TestBrowserUI1EarlySignIn: a nickname typed and submitted with Enter
// before app.wasm has started is kept: no reload, and the sign-in
// completes with it once the app starts. A second tab only types (no
// Enter): the text is still in the box after the app replaced the form.
// Bad input tried: pressing Enter on an empty box before the app runs
// (nothing submitted, no reload).
func TestBrowserUI1EarlySignIn(t *testing.T) {
	exe := requireBrowser(t)
	timed(t)
	ta := startApp(t, "", "")
	a := newTab(t, exe, "early")
	b := newTab(t, exe, "typist")
	ga, gb := holdWasm(a), holdWasm(b)
	for _, p := range []*tab{a, b} {
		p.do("navigate", chromedp.Navigate(ta.URL+"/r/early"))
		eval[chromedp.Void](p, `window.__sameDocument = true`)
	}
	ga.waitHeld()
	gb.waitHeld()

	// Enter on the empty box first: the browser's own validation stops it.
	a.do("enter on an empty box", chromedp.SendKeys(chromedp.CSS(`[data-test=nickname]`), kb.Enter))
	a.do("type and submit before the wasm", chromedp.SendKeys(chromedp.CSS(`[data-test=nickname]`), "early-bird"+kb.Enter))
	b.do("type before the wasm", chromedp.SendKeys(chromedp.CSS(`[data-test=nickname]`), "half-typed"))
	for _, p := range []*tab{a, b} {
		if !eval[bool](p, `!window.duplexReady && !!document.getElementById('app-wasm-loader')`) {
			t.Fatalf("%s: the app started while app.wasm was held", p.name)
		}
	}
	if got := eval[string](a, `sessionStorage.getItem('duplex.early.nick') || ''`); got != "early-bird" {
		t.Fatalf("duplex.js kept %q, want early-bird", got)
	}
	ga.Release()
	gb.Release()
	poll[bool](a, "the sign-in to complete with the early nickname", js(`window.__sameDocument === true &&
		__loaded() && __conn() === 'online' && !!document.querySelector('[data-test=composer]') &&
		document.querySelector('[data-test=my-nick]')?.textContent === 'early-bird' && location.pathname === '/r/early'`))
	poll[bool](a, "early-bird in the member list", js(`__members().includes('early-bird')`))
	poll[bool](b, "the typed text kept in the nickname box", js(`window.__sameDocument === true && __loaded() &&
		document.querySelector('[data-test=nickname]')?.value === 'half-typed'`))
	if eval[string](a, focusedJS) != "composer" {
		t.Errorf("after the early sign-in the focus is on %q, want the composer", eval[string](a, focusedJS))
	}
}

// TestBrowserUI2NoticeKeepsLayout: an error never rebuilds the layout: an
// invalid room name and a 4,001-character message each show a toast while
// the composer keeps its text (the same DOM element), the room box keeps
// its text, and the toast can be dismissed. Bad inputs tried: "Bad Room!"
// and a body one rune over the limit.
func TestBrowserUI2NoticeKeepsLayout(t *testing.T) {
	exe := requireBrowser(t)
	timed(t)
	ta := startApp(t, "", "")
	a := newTab(t, exe, "alice")
	a.open(ta.URL + "/r/notices")
	a.signIn("alice")
	a.do("write a draft", chromedp.SendKeys(chromedp.CSS(`[data-test=composer]`), "my unfinished thought"))
	eval[chromedp.Void](a, `document.querySelector('[data-test=composer]').__mark = 'same'`)

	a.do("an invalid room name", chromedp.SendKeys(chromedp.CSS(`[data-test=new-room]`), "Bad Room!"+kb.Enter))
	poll[bool](a, "the room-name toast", `!!document.querySelector('[data-test=notice]')?.textContent.includes('room name')`)
	if !eval[bool](a, `(() => { const c = document.querySelector('[data-test=composer]');
		return c.__mark === 'same' && c.value === 'my unfinished thought' &&
			document.querySelector('[data-test=new-room]').value === 'Bad Room!'; })()`) {
		t.Fatalf("the toast rebuilt the layout: composer %q, room box %q", eval[string](a, `document.querySelector('[data-test=composer]').value`),
			eval[string](a, `document.querySelector('[data-test=new-room]').value`))
	}
	a.do("dismiss", chromedp.Click(chromedp.CSS(`[data-test=dismiss]`)))
	poll[bool](a, "the toast to go", `!document.querySelector('[data-test=notice]')`)

	long := strings.Repeat("x", shared.MaxBodyRunes+1)
	a.do("a message one over the limit",
		chromedp.Evaluate[chromedp.Void](`(() => { const c = document.querySelector('[data-test=composer]');
			c.value = 'x'.repeat(`+itoa(shared.MaxBodyRunes+1)+`); c.dispatchEvent(new Event('input', {bubbles: true})); })()`),
		chromedp.SendKeys(chromedp.CSS(`[data-test=composer]`), kb.Enter))
	poll[bool](a, "the too-long toast", `!!document.querySelector('[data-test=notice]')?.textContent.includes('Not sent')`)
	poll[bool](a, "the over-the-limit counter", `document.querySelector('[data-test=counter]')?.dataset.left === '-1'`)
	if got := eval[string](a, `document.querySelector('[data-test=composer]').value`); got != long {
		t.Errorf("the refused message left the composer: %d runes kept, want %d", len(got), len(long))
	}
	if !eval[bool](a, `document.querySelector('[data-test=composer]').__mark === 'same'`) {
		t.Error("the composer element was replaced")
	}
	if n := len(a.rows()); n != 0 {
		t.Errorf("%d messages shown after a refused send", n)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

func fmtInt(n int) string { return strconv.Itoa(n) }

// TestBrowserUI3Composer: Shift+Enter adds a line and Enter sends; pasted
// newlines are kept; the box grows; each room keeps its draft across room
// switches and a reload.
func TestBrowserUI3Composer(t *testing.T) {
	exe := requireBrowser(t)
	timed(t)
	ta := startApp(t, "", "")
	a := newTab(t, exe, "alice")
	a.open(ta.URL + "/r/compose")
	a.signIn("alice")
	h0 := eval[float64](a, `document.querySelector('[data-test=composer]').offsetHeight`)
	a.do("two lines with Shift+Enter",
		chromedp.SendKeys(chromedp.CSS(`[data-test=composer]`), "line one"),
		chromedp.KeyEvent(kb.Enter, chromedp.KeyModifiers(chromedp.ModifierShift)),
		chromedp.SendKeys(chromedp.CSS(`[data-test=composer]`), "line two"),
		chromedp.KeyEvent(kb.Enter, chromedp.KeyModifiers(chromedp.ModifierShift)),
		chromedp.SendKeys(chromedp.CSS(`[data-test=composer]`), "line three"),
	)
	poll[bool](a, "the composer to grow", `document.querySelector('[data-test=composer]').offsetHeight > `+fmtFloat(h0)+` + 20`)
	a.do("send with Enter", chromedp.KeyEvent(kb.Enter))
	a.waitRow("line one\nline two\nline three", "alice", "sent")

	// Pasted text (inserted as one input, as a paste is) keeps its newlines.
	a.do("paste", chromedp.Focus(chromedp.CSS(`[data-test=composer]`)))
	ctx, cancel := context.WithTimeout(a.ctx, 15*time.Second)
	if _, err := chromedp.Call(ctx, input.InsertText, input.InsertTextParams{Text: "func main() {\n\tprintln(1)\n}"}); err != nil {
		t.Fatal(err)
	}
	cancel()
	a.do("send the paste", chromedp.KeyEvent(kb.Enter))
	a.waitRow("func main() {\n\tprintln(1)\n}", "alice", "sent")
	poll[bool](a, "the composer to shrink back", `document.querySelector('[data-test=composer]').offsetHeight < `+fmtFloat(h0)+` + 10`)

	// A draft per room.
	a.do("a draft in compose", chromedp.SendKeys(chromedp.CSS(`[data-test=composer]`), "draft for compose"))
	a.do("go to other", chromedp.SendKeys(chromedp.CSS(`[data-test=new-room]`), "other"+kb.Enter))
	poll[bool](a, "the other room with an empty composer", `location.pathname === '/r/other' &&
		document.querySelector('[data-test=composer]').placeholder === 'Message #other' &&
		document.querySelector('[data-test=composer]').value === ''`)
	a.do("a draft in other", chromedp.SendKeys(chromedp.CSS(`[data-test=composer]`), "draft for other"))
	a.do("back to compose", chromedp.Click(chromedp.CSS(`[data-test=room-list] [data-room=compose] a`)))
	poll[bool](a, "compose's draft back", `location.pathname === '/r/compose' &&
		document.querySelector('[data-test=composer]').value === 'draft for compose'`)
	a.reload()
	a.waitOnline()
	poll[bool](a, "compose's draft after a reload", `document.querySelector('[data-test=composer]')?.value === 'draft for compose'`)
	a.do("to other", chromedp.Click(chromedp.CSS(`[data-test=room-list] [data-room=other] a`)))
	poll[bool](a, "other's draft after a reload", `location.pathname === '/r/other' &&
		document.querySelector('[data-test=composer]').value === 'draft for other'`)
}

func fmtFloat(f float64) string { return fmtInt(int(f)) }

// TestBrowserUI4ScrollAnchoring: a reader scrolled up is not moved by new
// messages and gets a "N new messages" button instead; older messages
// loaded above keep the reader's place; at the bottom, new messages stay
// in view.
func TestBrowserUI4ScrollAnchoring(t *testing.T) {
	exe := requireBrowser(t)
	timed(t)
	ta := startApp(t, "", "")
	fpSeed(t, ta, "scroll", 150)
	a := newTab(t, exe, "reader")
	a.open(ta.URL + "/r/scroll")
	a.signIn("reader")
	poll[bool](a, "the latest messages", js(`__rows().length >= 50 && __rows().some(r => r.body === 'seeded message 150 of 150')`))
	poll[bool](a, "the list at the bottom", `(() => { const m = document.querySelector('[data-test=messages]');
		return m.scrollHeight - m.scrollTop - m.clientHeight < 5; })()`)

	// Scroll to the top: older messages load above, the row that was at
	// the top stays where it was on screen.
	before := eval[float64](a, `(() => { const m = document.querySelector('[data-test=messages]');
		m.scrollTop = 0; const r = m.querySelector('[data-test=message]'); window.__anchor = r.dataset.msgId;
		return r.getBoundingClientRect().top; })()`)
	n0 := len(a.rows())
	poll[bool](a, "older messages", js(`__rows().length > `+fmtInt(n0)))
	after := poll[float64](a, "the anchor row after the load", `(() => {
		const r = document.querySelector('[data-test=message][data-msg-id="' + window.__anchor + '"]');
		return r && r.getBoundingClientRect().top; })()`)
	if d := after - before; d < -40 || d > 40 {
		t.Errorf("the row at the top moved %.0f px when older messages loaded", d)
	}

	// Scrolled up, a new message does not move the view.
	bob := person(t, ta, "bob-scroll", "scroll")
	top := eval[float64](a, `document.querySelector('[data-test=messages]').scrollTop`)
	say(t, bob, "scroll", "news while reading")
	a.waitRow("news while reading", "bob-scroll", "sent")
	poll[bool](a, "the new-messages button", `document.querySelector('[data-test=new-messages]')?.dataset.count === '1'`)
	if now := eval[float64](a, `document.querySelector('[data-test=messages]').scrollTop`); now < top-5 || now > top+5 {
		t.Errorf("a new message moved the reader from %.0f to %.0f", top, now)
	}
	a.do("jump to the new messages", chromedp.Click(chromedp.CSS(`[data-test=new-messages]`)))
	if _, err := tryPoll[bool](a, `(() => { const m = document.querySelector('[data-test=messages]');
		return m.scrollHeight - m.scrollTop - m.clientHeight < 5 && !document.querySelector('[data-test=new-messages]'); })()`, pollTimeout); err != nil {
		t.Fatalf("after the jump: %v: %s", err, eval[string](a, `(() => { const m = document.querySelector('[data-test=messages]');
			return JSON.stringify({h: m.scrollHeight, top: m.scrollTop, ch: m.clientHeight, btn: !!document.querySelector('[data-test=new-messages]')}); })()`))
	}

	// At the bottom, new messages stay in view.
	say(t, bob, "scroll", "more news")
	a.waitRow("more news", "bob-scroll", "sent")
	poll[bool](a, "still at the bottom", `(() => { const m = document.querySelector('[data-test=messages]');
		return m.scrollHeight - m.scrollTop - m.clientHeight < 5 && !document.querySelector('[data-test=new-messages]'); })()`)
}

// TestBrowserUI5Routes: /r/Design-Review redirects to the lower-case room
// (never "Join #general"); a path that names no room gets a 404 and a
// not-found page with a way back. Bad paths tried: upper case, a room
// name with "!", an unknown top-level path.
func TestBrowserUI5Routes(t *testing.T) {
	exe := requireBrowser(t)
	timed(t)
	ta := startApp(t, "", "")
	for path, want := range map[string]int{"/r/Design-Review": 308, "/nope": 404, "/r/bad!name": 404, "/r/design-review": 200, "/": 200} {
		req, _ := http.NewRequest("GET", ta.URL+path, nil)
		res, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != want {
			t.Errorf("GET %s: %d, want %d", path, res.StatusCode, want)
		}
		if want == 308 && res.Header.Get("Location") != "/r/design-review" {
			t.Errorf("GET %s: Location %q", path, res.Header.Get("Location"))
		}
	}

	a := newTab(t, exe, "alice")
	a.open(ta.URL + "/r/Design-Review")
	poll[bool](a, "the design-review sign-in", `location.pathname === '/r/design-review' &&
		document.querySelector('[data-test=signin]')?.textContent.includes('Join #design-review')`)
	if strings.Contains(eval[string](a, `document.body.textContent`), "#general") {
		t.Error("/r/Design-Review mentions #general")
	}
	a.signIn("alice")
	poll[bool](a, "the design-review room", `document.querySelector('.room-title')?.textContent === '#design-review' &&
		document.title === '#design-review · Duplex'`)

	a.do("navigate to /nope", chromedp.Navigate(ta.URL+"/nope"))
	// Wait for the app too: go-app replaces the prerendered page when it
	// starts, and a click on the prerendered link in between fails.
	poll[bool](a, "the not-found page", js(`__loaded() && !!document.querySelector('[data-test=not-found]') && document.title.startsWith('Not found')`))
	a.do("back", chromedp.Click(chromedp.CSS(`[data-test=back]`)))
	pollAcrossLoad(a, "back in general", js(`location.pathname === '/' && __conn() === 'online' &&
		document.querySelector('.room-title')?.textContent === '#general'`))
}

// TestBrowserUI6Focus: the nickname box has focus on the sign-in page,
// the composer after joining and after switching rooms; Alt+Up/Down
// switch rooms, Escape moves focus to the room list.
func TestBrowserUI6Focus(t *testing.T) {
	exe := requireBrowser(t)
	timed(t)
	ta := startApp(t, "", "")
	a := newTab(t, exe, "alice")
	a.open(ta.URL + "/r/one")
	poll[bool](a, "focus on the nickname", focusedJS+` === 'nickname'`)
	a.do("type the nickname where the focus is", chromedp.KeyEvent("alice"), chromedp.KeyEvent(kb.Enter))
	a.waitOnline()
	poll[bool](a, "focus on the composer after joining", focusedJS+` === 'composer'`)
	a.do("join two", chromedp.SendKeys(chromedp.CSS(`[data-test=new-room]`), "two"+kb.Enter))
	poll[bool](a, "focus on the composer in two", `location.pathname === '/r/two' && `+focusedJS+` === 'composer'`)
	a.do("Alt+Up", chromedp.KeyEvent(kb.ArrowUp, chromedp.KeyModifiers(chromedp.ModifierAlt)))
	poll[bool](a, "room one by Alt+Up", `location.pathname === '/r/one' && `+focusedJS+` === 'composer'`)
	a.do("Alt+Down", chromedp.KeyEvent(kb.ArrowDown, chromedp.KeyModifiers(chromedp.ModifierAlt)))
	poll[bool](a, "room two by Alt+Down", `location.pathname === '/r/two' && `+focusedJS+` === 'composer'`)
	a.do("Escape", chromedp.KeyEvent(kb.Escape))
	poll[bool](a, "focus on the active room link", `document.activeElement?.getAttribute('aria-current') === 'page' &&
		document.activeElement.closest('[data-test=room]')?.dataset.room === 'two'`)
}

// TestBrowserUI7ConnectionStates: no "offline" before sign-in; online;
// offline with a countdown and "retry now" and greyed members while the
// server is down; connecting, then online once it is back.
func TestBrowserUI7ConnectionStates(t *testing.T) {
	exe := requireBrowser(t)
	timed(t)
	ta := startApp(t, "", "")
	a := newTab(t, exe, "alice")
	a.open(ta.URL + "/r/conn")
	if s := eval[string](a, js(`__conn()`)); s == "offline" || s == "online" {
		t.Errorf("before sign-in the connection shows %q", s)
	}
	if txt := eval[string](a, `document.querySelector('[data-test=connection]').textContent`); strings.Contains(txt, "offline") {
		t.Errorf("before sign-in the pill says %q", txt)
	}
	a.signIn("alice")
	poll[bool](a, "a fresh member list", `document.querySelector('[data-test=members]').dataset.stale === 'false' &&
		document.querySelectorAll('[data-test=member]').length === 1`)
	eval[chromedp.Void](a, `window.__states = []; new MutationObserver(() => {
		const s = document.querySelector('[data-test=connection]')?.dataset.state;
		if (s && window.__states[window.__states.length - 1] !== s) window.__states.push(s);
	}).observe(document.body, {subtree: true, attributes: true, attributeFilter: ['data-state']})`)
	ta.Stop()
	poll[bool](a, "offline with a countdown and retry now", js(`__conn() === 'offline' &&
		/retrying in \d+ s/.test(document.querySelector('[data-test=connection]').textContent) &&
		!!document.querySelector('[data-test=retry]')`))
	poll[bool](a, "greyed members", `document.querySelector('[data-test=members]').dataset.stale === 'true'`)
	ta = startApp(t, ta.Addr, ta.Data)
	a.do("retry now", chromedp.Click(chromedp.CSS(`[data-test=retry]`)))
	poll[bool](a, "online again", js(`__conn() === 'online' && document.querySelector('[data-test=members]').dataset.stale === 'false'`))
	if states := eval[[]string](a, `window.__states`); !strings.Contains(strings.Join(states, ","), "connecting") {
		t.Errorf("states seen %v: never connecting", states)
	}
}

// TestBrowserUI8Loader: while app.wasm loads, go-app's loader is a small
// dark pill that leaves the prerendered messages visible.
func TestBrowserUI8Loader(t *testing.T) {
	exe := requireBrowser(t)
	timed(t)
	ta := startApp(t, "", "")
	fpSeed(t, ta, "loader", 30)
	a := newTab(t, exe, "alice")
	a.setTheme("dark")
	g := holdWasm(a)
	a.do("navigate", chromedp.Navigate(ta.URL+"/r/loader"))
	g.waitHeld()
	type box struct {
		W, H, Lum float64
		Covered   bool
		Rows      int
	}
	b := eval[box](a, `(() => {
		const l = document.getElementById('app-wasm-loader').getBoundingClientRect();
		const rows = [...document.querySelectorAll('[data-test=message]')];
		let covered = false;
		for (const r of rows) {
			const b = r.getBoundingClientRect();
			if (b.bottom < 0 || b.top > innerHeight || b.height === 0) continue;
			const hit = document.elementFromPoint(b.left + 5, b.top + b.height / 2);
			if (hit && hit.closest('#app-wasm-loader')) covered = true;
		}
		const bg = getComputedStyle(document.getElementById('app-wasm-loader')).backgroundColor.match(/\d+/g).map(Number);
		return {W: l.width, H: l.height, Lum: (0.2126*bg[0] + 0.7152*bg[1] + 0.0722*bg[2]) / 255, Covered: covered, Rows: rows.length};
	})()`)
	t.Logf("loader while app.wasm is held: %+v", b)
	if b.Rows != 30 {
		t.Errorf("%d prerendered rows, want 30", b.Rows)
	}
	if b.W > 400 || b.H > 80 {
		t.Errorf("loader is %.0fx%.0f px: not small", b.W, b.H)
	}
	if b.Lum > 0.3 {
		t.Errorf("loader background luminance %.2f in the dark theme", b.Lum)
	}
	if b.Covered {
		t.Error("the loader covers a prerendered message")
	}
	g.Release()
	a.waitApp()
}

// TestBrowserUI9Accessibility: axe-core 4.14.1 finds no violations on the
// sign-in page, the chat and the phone layout, in both themes; the
// message list is a role=log live region and the active room has
// aria-current.
func TestBrowserUI9Accessibility(t *testing.T) {
	exe := requireBrowser(t)
	timed(t)
	ta := startApp(t, "", "")
	fpSeed(t, ta, "a11y", 20)
	seedEveryColor(t, ta, "a11y")
	a := newTab(t, exe, "alice")
	a.setViewport(1280, 800)
	for _, theme := range []string{"dark", "light"} {
		a.setTheme(theme)
		a.open(ta.URL + "/r/a11y")
		poll[bool](a, "prerendered rows", js(`__rows().length === 32`))
		a.axeCheck("the sign-in page (" + theme + ")")
	}
	a.signIn("alice")
	a.sendEnter("hello https://example.com/a11y")
	a.waitRow("hello https://example.com/a11y", "alice", "sent")
	if !eval[bool](a, `document.querySelector('[data-test=messages]').getAttribute('role') === 'log' &&
		document.querySelector('[data-test=room-list] [data-room=a11y] a').getAttribute('aria-current') === 'page'`) {
		t.Error("no role=log on the messages or no aria-current on the active room")
	}
	for _, theme := range []string{"dark", "light"} {
		a.setTheme(theme)
		a.axeCheck("the chat (" + theme + ")")
	}
	a.setViewport(390, 844)
	for _, theme := range []string{"dark", "light"} {
		a.setTheme(theme)
		a.axeCheck("the phone layout (" + theme + ")")
	}
	a.do("open the rooms drawer", chromedp.Click(chromedp.CSS(`[data-test=open-rooms]`)))
	poll[bool](a, "the drawer open", `getComputedStyle(document.getElementById('rooms')).visibility === 'visible'`)
	a.axeCheck("the phone layout with the rooms drawer open")
}

// TestBrowserUI10Reading: author colours by user id, own messages marked,
// grouping, date separators, full dates on hover, dir=auto, safe links,
// both themes, member counts that are not badges, only joined rooms in
// the sidebar plus browsing, a phone layout with a drawer and a sheet,
// the room in the title, and a manifest and meta tags that tell the
// truth. Bad input tried: a link glued to markup.
func TestBrowserUI10Reading(t *testing.T) {
	exe := requireBrowser(t)
	timed(t)
	ta := startApp(t, "", "")
	// Yesterday's messages, for a date separator.
	yesterday := time.Now().AddDate(0, 0, -1).UnixMilli()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	if _, err := ta.app.store.Append(ctx, []store.NewMessage{
		{Room: "lobby", MsgID: "old-1", Author: shared.Member{User: "u-carol", Nick: "carol"}, Body: "yesterday's news", TS: yesterday},
		{Room: "lobby", MsgID: "old-2", Author: shared.Member{User: "u-carol", Nick: "carol"}, Body: "مرحبا بالجميع", TS: yesterday + 1000},
	}); err != nil {
		t.Fatal(err)
	}
	cancel()
	a := newTab(t, exe, "alice")
	a.setViewport(1280, 800)
	a.open(ta.URL + "/r/lobby")
	a.signIn("alice")
	bob := person(t, ta, "bob", "lobby")
	person(t, ta, "dave", "elsewhere")
	a.sendEnter("hi all")
	a.waitRow("hi all", "alice", "sent")
	a.sendEnter("see https://example.com/docs?q=1.")
	a.waitRow("see https://example.com/docs?q=1.", "alice", "sent")
	say(t, bob, "lobby", "hello alice")
	say(t, bob, "lobby", `look http://x.test/"><img src=x onerror=alert(1)>`)
	a.waitRow("hello alice", "bob", "sent")
	a.waitRow(`look http://x.test/"><img src=x onerror=alert(1)>`, "bob", "sent")

	type look struct {
		Own, Cont, Dir          []bool
		Colors                  []string
		Days                    []string
		Title, Href, Rel, Text  string
		Imgs, Links             int
		TimeTitle, Page         string
		RoomCount, RoomCountCls string
	}
	l := eval[look](a, `(() => {
		const rows = [...document.querySelectorAll('[data-test=message]')];
		const link = document.querySelector('[data-test=body] a');
		return {
			Own: rows.map(r => r.classList.contains('own')),
			Cont: rows.map(r => r.classList.contains('cont')),
			Dir: rows.map(r => r.querySelector('[data-test=body]').getAttribute('dir') === 'auto'),
			Colors: rows.map(r => getComputedStyle(r.querySelector('[data-test=author]')).color),
			Days: [...document.querySelectorAll('[data-test=day]')].map(d => d.textContent),
			Href: link.getAttribute('href'), Rel: link.getAttribute('rel'), Text: link.textContent,
			Imgs: document.querySelectorAll('[data-test=messages] img').length,
			Links: document.querySelectorAll('[data-test=body] a').length,
			TimeTitle: rows[0].querySelector('[data-test=time]').title,
			Page: document.title,
		};
	})()`)
	// rows: carol, carol, alice, alice, bob, bob
	wantOwn := []bool{false, false, true, true, false, false}
	wantCont := []bool{false, true, false, true, false, true}
	for i := range wantOwn {
		if i >= len(l.Own) || l.Own[i] != wantOwn[i] || l.Cont[i] != wantCont[i] || !l.Dir[i] {
			t.Fatalf("rows: own %v cont %v dir %v; want own %v cont %v", l.Own, l.Cont, l.Dir, wantOwn, wantCont)
		}
	}
	if l.Colors[0] == l.Colors[2] && l.Colors[2] == l.Colors[4] {
		t.Errorf("three authors, one colour %s", l.Colors[0])
	}
	if strings.Join(l.Days, ",") != "Yesterday,Today" {
		t.Errorf("date separators %q, want Yesterday,Today", l.Days)
	}
	if !strings.Contains(l.TimeTitle, time.UnixMilli(yesterday).Format("2006")) {
		t.Errorf("time tooltip %q has no full date", l.TimeTitle)
	}
	if l.Href != "https://example.com/docs?q=1" || l.Text != l.Href || l.Rel != "noopener noreferrer nofollow" {
		t.Errorf("link: href %q text %q rel %q", l.Href, l.Text, l.Rel)
	}
	if l.Imgs != 0 || l.Links != 2 {
		t.Errorf("%d <img> and %d links in the messages, want 0 and 2", l.Imgs, l.Links)
	}
	if l.Page != "#lobby · Duplex" {
		t.Errorf("title %q", l.Page)
	}

	// Sidebar: joined rooms only; the others behind "Browse rooms".
	if eval[bool](a, `!!document.querySelector('[data-test=room-list] [data-room=elsewhere]')`) {
		t.Error("a room alice never joined is in her sidebar")
	}
	a.do("browse", chromedp.Click(chromedp.CSS(`[data-test=browse]`)))
	poll[bool](a, "elsewhere in the browse list", `!!document.querySelector('[data-test=browse-list] [data-room=elsewhere]')`)
	poll[bool](a, "lobby's member count, not a badge", `(() => {
		const c = document.querySelector('[data-test=room-list] [data-room=lobby] [data-test=room-members]');
		return c && c.textContent.includes('2') && getComputedStyle(c).borderRadius === '0px' &&
			getComputedStyle(c).backgroundColor === 'rgba(0, 0, 0, 0)'; })()`)

	// Themes follow the system setting.
	// (TestBrowserFullChat writes the desktop screenshots, of every
	// feature at once.)
	a.setTheme("light")
	light := eval[string](a, `getComputedStyle(document.body).backgroundColor`)
	a.setTheme("dark")
	dark := eval[string](a, `getComputedStyle(document.body).backgroundColor`)
	if light == dark || !strings.Contains(light, "248") || strings.Contains(dark, "248") {
		t.Errorf("body background light %s, dark %s", light, dark)
	}

	// Phone: the message area gets most of the screen; rooms in a
	// drawer, members in a sheet.
	a.setViewport(390, 844)
	poll[bool](a, "a tall message area", `document.querySelector('[data-test=messages]').getBoundingClientRect().height > 550`)
	poll[bool](a, "the room drawer closed on a phone", `getComputedStyle(document.getElementById('rooms')).visibility === 'hidden'`)
	a.do("open members", chromedp.Click(chromedp.CSS(`[data-test=open-members]`)))
	poll[bool](a, "the members sheet", `getComputedStyle(document.getElementById('members')).visibility === 'visible' &&
		Math.abs(document.getElementById('members').getBoundingClientRect().bottom - innerHeight) < 1`)
	if os.Getenv("DUPLEX_SCREENSHOTS") == "1" {
		a.screenshot(filepath.Join(repoWeb(t), "screenshot-phone-members.png"))
	}
	a.do("close with Escape", chromedp.KeyEvent(kb.Escape))
	poll[bool](a, "the sheet closed", `getComputedStyle(document.getElementById('members')).visibility === 'hidden'`)
	a.do("open rooms", chromedp.Click(chromedp.CSS(`[data-test=open-rooms]`)))
	poll[bool](a, "the rooms drawer", `getComputedStyle(document.getElementById('rooms')).visibility === 'visible' &&
		document.getElementById('rooms').getBoundingClientRect().left === 0`)
	if os.Getenv("DUPLEX_SCREENSHOTS") == "1" {
		a.screenshot(filepath.Join(repoWeb(t), "screenshot-phone.png"))
	}

	// Manifest icons are the sizes they say; meta tags point here.
	checkManifest(t, ta)
}

// checkManifest fetches the manifest and every PNG icon it lists, and the
// og: tags of a page.
func checkManifest(t *testing.T, ta *testApp) {
	t.Helper()
	var m struct {
		Icons []struct{ Src, Type, Sizes string }
	}
	getJSON(t, ta.URL+"/manifest.webmanifest", &m)
	for _, ic := range m.Icons {
		if ic.Type != "image/png" {
			continue
		}
		res, err := http.Get(ta.URL + ic.Src)
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := png.DecodeConfig(res.Body)
		res.Body.Close()
		if err != nil {
			t.Fatalf("%s: %v", ic.Src, err)
		}
		if got := fmtInt(cfg.Width) + "x" + fmtInt(cfg.Height); got != ic.Sizes {
			t.Errorf("manifest says %s is %s; it is %s", ic.Src, ic.Sizes, got)
		}
	}
	res, err := http.Get(ta.URL + "/r/lobby")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(res.Body)
	res.Body.Close()
	for _, tag := range []string{"og:url", "og:image"} {
		i := strings.Index(string(page), `property="`+tag+`"`)
		if i < 0 {
			t.Errorf("no %s", tag)
			continue
		}
		start := strings.LastIndex(string(page[:i]), "<meta")
		line := string(page[start:])
		line = line[:strings.Index(line, ">")+1]
		if !strings.Contains(line, `content="`+ta.URL+`/`) || strings.Contains(line, "https://") {
			t.Errorf("%s does not point at this server: %q", tag, line)
		}
	}
}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if err := json.NewDecoder(res.Body).Decode(v); err != nil {
		t.Fatalf("%s: %v", url, err)
	}
}

// pollAcrossLoad is poll for a condition that may be reached through a
// page load (the JavaScript context of the old page goes away mid-poll).
func pollAcrossLoad(b *tab, what, js string) {
	b.t.Helper()
	var err error
	for i := 0; i < 5; i++ {
		if _, err = tryPoll[bool](b, js, pollTimeout); err == nil || errors.Is(err, chromedp.ErrPollingTimeout) {
			break
		}
	}
	if err != nil {
		b.t.Fatalf("%s: waiting for %s: %v\n%s", b.name, what, err, b.state())
	}
}

// seedEveryColor appends one message to room from an author of each of
// the 12 author colours (ui.colorClass: FNV-1a of the user id, mod 12), so
// axe checks the contrast of every colour.
func seedEveryColor(t *testing.T, ta *testApp, room string) {
	t.Helper()
	var msgs []store.NewMessage
	seen := map[uint32]bool{}
	for i := 0; len(seen) < 12; i++ {
		user := "u-color-" + strconv.Itoa(i)
		h := fnv.New32a()
		h.Write([]byte(user))
		if c := h.Sum32() % 12; !seen[c] {
			seen[c] = true
			msgs = append(msgs, store.NewMessage{Room: room, MsgID: "color-" + strconv.Itoa(int(c)), TS: time.Now().UnixMilli(),
				Author: shared.Member{User: user, Nick: "colour " + strconv.Itoa(int(c))}, Body: "a message in colour " + strconv.Itoa(int(c))})
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := ta.app.store.Append(ctx, msgs); err != nil {
		t.Fatal(err)
	}
}

// TestBrowserPrerenderedNickStaysText: a nickname made to break out of an
// attribute (go-app quotes prerendered attributes with strconv.Quote, so a
// '"' would end them) adds no attribute to the prerendered page. Bad input
// tried: a nick with quotes and an onmouseover, and one with a backslash.
func TestBrowserPrerenderedNickStaysText(t *testing.T) {
	exe := requireBrowser(t)
	timed(t)
	ta := startApp(t, "", "")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := ta.app.store.Append(ctx, []store.NewMessage{
		{Room: "quotes", MsgID: "q-1", TS: time.Now().UnixMilli(), Author: shared.Member{User: "u-q1", Nick: `x" onmouseover="window.__xss=1" y="`}, Body: "one"},
		{Room: "quotes", MsgID: "q-2", TS: time.Now().UnixMilli(), Author: shared.Member{User: "u-q2", Nick: `a\" onfocus=window.__xss=2 b`}, Body: "two"},
	}); err != nil {
		t.Fatal(err)
	}
	a := newTab(t, exe, "alice")
	g := holdWasm(a)
	a.do("navigate", chromedp.Navigate(ta.URL+"/r/quotes"))
	g.waitHeld()
	if n := eval[int](a, `document.querySelectorAll('[onmouseover], [onfocus], [y], [b]').length`); n != 0 {
		t.Errorf("the prerendered page has %d elements with attributes from a nickname", n)
	}
	if got := eval[[]string](a, js(`__rows().map(r => r.author)`)); len(got) != 2 || !strings.Contains(got[0], "onmouseover") {
		t.Errorf("authors shown: %q", got)
	}
	g.Release()
	a.waitApp()
	if n := eval[int](a, `document.querySelectorAll('[onmouseover], [onfocus], [y], [b]').length`); n != 0 {
		t.Errorf("the app's page has %d elements with attributes from a nickname", n)
	}
}
