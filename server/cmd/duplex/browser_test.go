//go:build !(js && wasm)

package main

// Browser tests: the real server (SQLite, the repo's web/ with the built
// app.wasm) driven through real headless Chromium with chromedp. Each user
// is a separate browser process with its own profile, so localStorage and
// the service worker are not shared.
//
// They need /usr/bin/chromium (or chromium on PATH) and web/app.wasm. When
// either is missing they skip loudly, or fail when CI=true.
//
// DUPLEX_SCREENSHOTS=1 writes web/screenshot-alice.png and
// web/screenshot-bob.png (1200x800) from the two-user chat.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

const (
	// pollTimeout bounds every wait for a DOM state.
	pollTimeout = 45 * time.Second
	pollEvery   = 50 * time.Millisecond
)

// requireBrowser returns the Chromium to run, or skips the test (fails it
// when CI=true) if Chromium or the wasm bundle is missing.
func requireBrowser(t testing.TB) string {
	t.Helper()
	var missing []string
	exe := "/usr/bin/chromium"
	if _, err := os.Stat(exe); err != nil {
		exe = ""
		if p, err := exec.LookPath("chromium"); err == nil {
			exe = p
		}
	}
	if exe == "" {
		missing = append(missing, "chromium not found at /usr/bin/chromium or on PATH")
	}
	if !wasmBuilt(t) {
		missing = append(missing, "web/app.wasm is not built (run `make wasm`)")
	}
	if len(missing) == 0 {
		return exe
	}
	msg := "BROWSER TESTS SKIPPED: " + strings.Join(missing, "; ")
	if os.Getenv("CI") == "true" {
		t.Fatal(msg + " (CI=true: the browser tests must run)")
	}
	fmt.Fprintln(os.Stderr, "\n*** "+msg+" ***")
	t.Skip(msg)
	return ""
}

// tab is one user's browser: its own Chromium process and profile, one tab.
type tab struct {
	t       testing.TB
	name    string
	ctx     context.Context
	dialogs atomic.Int32 // JavaScript dialogs (alert, confirm...) opened

	mu      sync.Mutex
	console []string
}

// newTab starts a headless Chromium with a fresh profile.
func newTab(t testing.TB, exe, name string, extra ...chromedp.ExecAllocatorOption) *tab {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.WindowSize(1200, 800),
	)
	opts = append(opts, extra...)
	actx, acancel := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); acancel() })
	b := &tab{t: t, name: name, ctx: ctx}
	// Start the browser with a context that has no deadline: the first
	// Run binds the browser's life to its context.
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1200, 800)); err != nil {
		t.Fatalf("%s: start chromium: %v", name, err)
	}
	// Record Content-Security-Policy violations from the very start of
	// every document (before go-app's scripts run): see noCSPViolations.
	if _, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{
		Source: cspRecorder,
	}); err != nil {
		t.Fatalf("%s: install the CSP recorder: %v", name, err)
	}
	err := chromedp.Listen(ctx, func(ev any) {
		if e, ok := ev.(*page.EventJavascriptDialogOpening); ok {
			b.dialogs.Add(1)
			b.logf("dialog %s: %q", e.Type, e.Message)
			go chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: false})
		}
	})
	if err != nil {
		t.Fatalf("%s: listen: %v", name, err)
	}
	console := chromedp.Console(ctx)
	go func() {
		for m, err := range console {
			if err != nil {
				return
			}
			b.logf("console %s", m)
		}
	}()
	t.Cleanup(func() { // runs before the browser closes
		// Every browser test checks the Content-Security-Policy: Chromium
		// reports each violation in the console.
		b.mu.Lock()
		for _, l := range b.console {
			if strings.Contains(strings.ToLower(l), "content security policy") {
				t.Errorf("%s: console reports a CSP violation: %s", name, l)
			}
		}
		b.mu.Unlock()
		if t.Failed() {
			b.mu.Lock()
			defer b.mu.Unlock()
			t.Logf("%s: browser log:\n  %s", name, strings.Join(b.console, "\n  "))
		}
	})
	return b
}

// cspRecorder keeps every securitypolicyviolation event of the document.
const cspRecorder = `window.__csp = [];
document.addEventListener('securitypolicyviolation', e =>
	window.__csp.push(e.effectiveDirective + ' blocked ' + (e.blockedURI || 'inline') + ' at ' + e.sourceFile + ':' + e.lineNumber));`

// noCSPViolations fails the test when the page reported a violation of
// the Content-Security-Policy, as an event or in the console: the wasm
// must compile, and nothing inline may run, under the policy.
func (b *tab) noCSPViolations() {
	b.t.Helper()
	if v := eval[[]string](b, `window.__csp || ['the CSP recorder did not run']`); len(v) > 0 {
		b.t.Errorf("%s: Content-Security-Policy violations: %q", b.name, v)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, l := range b.console {
		if strings.Contains(strings.ToLower(l), "content security policy") {
			b.t.Errorf("%s: console reports a CSP violation: %s", b.name, l)
		}
	}
}

// logf keeps a line for the failure report (t.Logf may not be called after
// the test ends, and the console goroutine outlives it).
func (b *tab) logf(format string, args ...any) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.console = append(b.console, time.Now().Format("15:04:05.000 ")+fmt.Sprintf(format, args...))
}

// do runs actions with a deadline.
func (b *tab) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, pollTimeout+15*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.t.Fatalf("%s: %s: %v\n%s", b.name, what, err, b.state())
	}
}

// eval evaluates a JavaScript expression into T.
func eval[T any](b *tab, js string) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 15*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js))
	if err != nil {
		b.t.Fatalf("%s: eval %s: %v", b.name, js, err)
	}
	return v
}

// poll waits until the JavaScript expression is truthy and returns its
// value decoded into T.
func poll[T any](b *tab, what, js string) T {
	b.t.Helper()
	v, err := tryPoll[T](b, js, pollTimeout)
	if err != nil {
		b.t.Fatalf("%s: waiting for %s: %v\n%s", b.name, what, err, b.state())
	}
	return v
}

func tryPoll[T any](b *tab, js string, d time.Duration) (T, error) {
	ctx, cancel := context.WithTimeout(b.ctx, d+10*time.Second)
	defer cancel()
	return chromedp.Run(ctx, chromedp.Poll[T](js,
		chromedp.WithPollingTimeout(d), chromedp.WithPollingInterval(pollEvery)))
}

// pageJS defines helpers in the page's global scope (a reload drops them,
// so every expression that uses them starts with it).
const pageJS = `(() => {
	const q = (el, s) => el.querySelector(s);
	const txt = (el, s) => { const n = q(el, s); return n ? n.textContent : null; };
	window.__rows = () => [...document.querySelectorAll('[data-test=messages] [data-test=message]')].map(m => ({
		seq: Number(m.dataset.seq || 0), status: m.dataset.status || '',
		author: txt(m, '[data-test=author]'), body: txt(m, '[data-test=body]'), time: txt(m, '[data-test=time]'),
	}));
	window.__conn = () => { const c = q(document, '[data-test=connection]'); return c ? c.dataset.state : ''; };
	window.__members = () => [...document.querySelectorAll('[data-test=members] [data-test=member]')].map(m => m.textContent).sort();
	window.__loaded = () => !document.getElementById('app-wasm-loader');
})()`

func js(expr string) string { return pageJS + ", (" + expr + ")" }

func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// state describes the page for a failure message.
func (b *tab) state() string {
	ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](js(`JSON.stringify({
		url: location.href, loaded: __loaded(), conn: __conn(), members: __members(), rows: __rows(),
		notice: (document.querySelector('[data-test=notice]') || {}).textContent,
		loader: (document.getElementById('app-wasm-loader') || {}).innerText,
	}, null, 1)`)))
	if err != nil {
		return fmt.Sprintf("%s page state: %v", b.name, err)
	}
	return b.name + " page state: " + s
}

// row is a [data-test=message] as the page shows it.
type row struct {
	Seq    int64  `json:"seq"`
	Status string `json:"status"`
	Author string `json:"author"`
	Body   string `json:"body"`
	Time   string `json:"time"`
}

func (b *tab) rows() []row { return eval[[]row](b, js(`__rows()`)) }

// open loads url and waits until the wasm runs (go-app replaces the
// prerendered DOM when it starts, so acting earlier would be lost).
func (b *tab) open(url string) {
	b.t.Helper()
	b.do("navigate "+url, chromedp.Navigate(url))
	b.waitApp()
}

func (b *tab) reload() {
	b.t.Helper()
	b.do("reload", chromedp.Reload())
	b.waitApp()
}

func (b *tab) waitApp() {
	b.t.Helper()
	poll[bool](b, "the wasm app to start", js(`__loaded() &&
		!!document.querySelector('[data-test=nickname], [data-test=composer]')`))
}

// signIn types the nickname, joins, and waits until the page is online.
func (b *tab) signIn(nick string) {
	b.t.Helper()
	poll[bool](b, "the sign-in form", js(`!!document.querySelector('[data-test=nickname]')`))
	b.do("sign in",
		chromedp.SendKeys(chromedp.CSS(`[data-test=nickname]`), nick),
		chromedp.Click(chromedp.CSS(`[data-test=join]`)),
	)
	b.waitOnline()
}

func (b *tab) waitOnline() {
	b.t.Helper()
	poll[bool](b, "online", js(`__conn() === 'online' && !!document.querySelector('[data-test=composer]')`))
}

// sendEnter types body into the composer and presses Enter.
func (b *tab) sendEnter(body string) {
	b.t.Helper()
	b.do("send with Enter",
		chromedp.SendKeys(chromedp.CSS(`[data-test=composer]`), body),
		chromedp.SendKeys(chromedp.CSS(`[data-test=composer]`), kb.Enter),
	)
}

// sendClick sets the composer to body and clicks Send.
func (b *tab) sendClick(body string) {
	b.t.Helper()
	b.do("send with the button",
		chromedp.SetValue(chromedp.CSS(`[data-test=composer]`), body),
		chromedp.Click(chromedp.CSS(`[data-test=send]`)),
	)
}

// waitRow waits until exactly one message has body, with the author and
// status given, and returns it.
func (b *tab) waitRow(body, author, status string) row {
	b.t.Helper()
	return poll[row](b, fmt.Sprintf("%s's message %q with status %s", author, body, status),
		js(`(() => {
			const rs = __rows().filter(r => r.body === `+quote(body)+`);
			const r = rs[0];
			return rs.length === 1 && r.author === `+quote(author)+` && r.status === `+quote(status)+` &&
				(r.status !== 'sent' || r.seq > 0) && r;
		})()`))
}

// noDuplicates fails if two messages share a seq or a body (every body
// the tests send is unique).
func (b *tab) noDuplicates() []row {
	b.t.Helper()
	rows := b.rows()
	seqs, bodies := map[int64]bool{}, map[string]bool{}
	for _, r := range rows {
		if r.Status == "sent" && seqs[r.Seq] || bodies[r.Body] {
			b.t.Errorf("%s: message shown twice: %+v\nall: %+v", b.name, r, rows)
		}
		seqs[r.Seq], bodies[r.Body] = true, true
	}
	return rows
}

func (b *tab) screenshot(file string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	buf, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		b.t.Fatalf("%s: screenshot: %v", b.name, err)
	}
	if err := os.WriteFile(file, buf, 0o644); err != nil {
		b.t.Fatal(err)
	}
	b.t.Logf("wrote %s (%d bytes)", file, len(buf))
}

func timed(t *testing.T) {
	start := time.Now()
	t.Cleanup(func() { t.Logf("%s took %v", t.Name(), time.Since(start).Round(time.Millisecond)) })
}

// TestAppWorkerOfflineFallback: the patch of go-app's service worker that
// the offline reload needs still applies (a go-app upgrade may move it).
func TestAppWorkerOfflineFallback(t *testing.T) {
	if !strings.Contains(offlineAppWorker, `request.mode === "navigate"`) {
		t.Fatal("offlineAppWorker: the navigation fallback was not patched into go-app's DefaultAppWorkerJS")
	}
}

// TestBrowserTwoUsersChat: two browsers chat in one room, see each other
// in the member list, and a body that looks like HTML stays text.
func TestBrowserTwoUsersChat(t *testing.T) {
	exe := requireBrowser(t)
	timed(t)
	ta := startApp(t, "", "")
	alice := newTab(t, exe, "alice")
	bob := newTab(t, exe, "bob")

	// alice opens the room by its URL.
	alice.open(ta.URL + "/r/lobby")
	alice.signIn("alice")

	// bob opens "/" (room general), then joins lobby with the new-room input.
	bob.open(ta.URL + "/")
	bob.signIn("bob")
	poll[bool](bob, "general to be listed", js(`location.pathname === '/' &&
		!!document.querySelector('[data-test=room-list] [data-test=room][data-room=general]')`))
	bob.do("join lobby with the new-room input",
		chromedp.SendKeys(chromedp.CSS(`[data-test=new-room]`), "lobby"),
		chromedp.SendKeys(chromedp.CSS(`[data-test=new-room]`), kb.Enter),
	)
	poll[bool](bob, "the lobby page", js(`location.pathname === '/r/lobby' &&
		document.querySelector('[data-test=composer]')?.placeholder === 'Message #lobby'`))
	bob.waitOnline()

	// Both see both in the member list, and lobby in the room list.
	for _, b := range []*tab{alice, bob} {
		poll[bool](b, "alice and bob in the member list", js(`JSON.stringify(__members()) === '["alice","bob"]'`))
		poll[bool](b, "lobby in the room list", js(`!!document.querySelector('[data-test=room-list] [data-test=room][data-room=lobby]')`))
	}

	// alice sends with Enter, bob with the Send button.
	const hiAlice, hiBob = "hello from alice", "hi alice, bob here"
	alice.sendEnter(hiAlice)
	a1 := bob.waitRow(hiAlice, "alice", "sent")
	alice.waitRow(hiAlice, "alice", "sent")
	bob.sendClick(hiBob)
	b1 := alice.waitRow(hiBob, "bob", "sent")
	bob.waitRow(hiBob, "bob", "sent")
	if !(a1.Seq > 0 && b1.Seq > a1.Seq) {
		t.Errorf("seqs: alice's %d, bob's %d: want 0 < alice < bob", a1.Seq, b1.Seq)
	}
	for _, r := range []row{a1, b1} {
		if strings.TrimSpace(r.Time) == "" {
			t.Errorf("message %q has an empty time", r.Body)
		}
	}
	if poll[string](alice, "the composer to be cleared", js(`document.querySelector('[data-test=composer]')?.value === '' && 'ok'`)) != "ok" {
		t.Error("alice's composer was not cleared")
	}

	if os.Getenv("DUPLEX_SCREENSHOTS") == "1" {
		alice.screenshot(filepath.Join(repoWeb(t), "screenshot-alice.png"))
		bob.screenshot(filepath.Join(repoWeb(t), "screenshot-bob.png"))
	}

	// A body that looks like HTML is shown as text in both pages.
	for _, b := range []*tab{alice, bob} {
		eval[chromedp.Void](b, `window.__xss = 0`)
	}
	const xss1 = `<img src=x onerror=alert(1)>`
	const xss2 = `<img src=x onerror="window.__xss=1">`
	const done = "after the markup"
	alice.sendEnter(xss1)
	alice.sendClick(xss2)
	alice.sendEnter(done)
	for _, b := range []*tab{bob, alice} {
		b.waitRow(xss1, "alice", "sent")
		b.waitRow(xss2, "alice", "sent")
		b.waitRow(done, "alice", "sent")
		// An injected <img> would fail to load and run onerror: give it
		// a moment to do so (it must not).
		if v, err := tryPoll[bool](b, `window.__xss !== 0`, 500*time.Millisecond); !errors.Is(err, chromedp.ErrPollingTimeout) {
			t.Errorf("%s: window.__xss changed (%v, %v): markup in a body ran", b.name, v, err)
		}
		if n := eval[int](b, `document.querySelectorAll('[data-test=messages] img').length`); n != 0 {
			t.Errorf("%s: %d <img> elements inside the messages: a body was rendered as HTML", b.name, n)
		}
		if n := b.dialogs.Load(); n != 0 {
			t.Errorf("%s: %d JavaScript dialogs opened: a body was rendered as HTML", b.name, n)
		}
		rows := b.noDuplicates()
		if len(rows) != 5 {
			t.Errorf("%s: %d messages shown, want 5: %+v", b.name, len(rows), rows)
		}
		b.noCSPViolations()
	}
}

// TestBrowserOfflineOutboxAndReload: a message written while the server
// is down waits in the outbox, survives a reload, and is delivered exactly
// once when the server is back; the history survives reloads.
func TestBrowserOfflineOutboxAndReload(t *testing.T) {
	exe := requireBrowser(t)
	timed(t)
	ta := startApp(t, "", "")
	a := newTab(t, exe, "alice")
	b := newTab(t, exe, "bob")
	url := ta.URL + "/r/durable"
	a.open(url)
	a.signIn("alice")
	b.open(url)
	b.signIn("bob")

	const first, offline = "before the restart", "written while the server is down"
	a.sendEnter(first)
	a.waitRow(first, "alice", "sent")
	b.waitRow(first, "alice", "sent")
	// The reload below runs with the server down: the page, app.js and
	// app.wasm then come from go-app's service worker cache, so wait
	// until it holds them.
	poll[bool](a, "the service worker cache", `(async () => {
		await navigator.serviceWorker.ready;
		for (const k of await caches.keys()) {
			const c = await caches.open(k);
			if (await c.match('/') && await c.match('/web/app.wasm') && await c.match('/app.js')) return true;
		}
		return false;
	})()`)

	stopped := time.Now()
	ta.Stop()
	poll[bool](a, "the page to see the server gone", js(`__conn() !== 'online'`))
	a.sendEnter(offline)
	a.waitRow(offline, "alice", "pending")

	// Reload while the server is still down: the outbox and the cached
	// history come back from localStorage.
	a.reload()
	a.waitRow(offline, "alice", "pending")
	a.waitRow(first, "alice", "sent")
	if s := eval[string](a, js(`__conn()`)); s == "online" {
		t.Fatalf("alice is online with the server down")
	}

	// The server comes back on the same address and data.
	ta = startApp(t, ta.Addr, ta.Data)
	t.Logf("server was down for %v", time.Since(stopped).Round(time.Millisecond))
	back := time.Now()
	sa := a.waitRow(offline, "alice", "sent")
	sb := b.waitRow(offline, "alice", "sent")
	t.Logf("delivered %v after the restart", time.Since(back).Round(time.Millisecond))
	if sa.Seq != sb.Seq {
		t.Errorf("seq %d in alice's page, %d in bob's", sa.Seq, sb.Seq)
	}
	for _, p := range []*tab{a, b} {
		p.waitOnline()
		if rows := p.noDuplicates(); len(rows) != 2 {
			t.Errorf("%s: %d messages, want 2: %+v", p.name, len(rows), rows)
		}
	}

	// bob reloads: the history is all there, once.
	b.reload()
	b.waitOnline()
	b.waitRow(first, "alice", "sent")
	b.waitRow(offline, "alice", "sent")
	if rows := b.noDuplicates(); len(rows) != 2 {
		t.Errorf("bob after reload: %d messages, want 2: %+v", len(rows), rows)
	}
	a.noCSPViolations()
	b.noCSPViolations()
}
