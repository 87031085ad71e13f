//go:build !(js && wasm)

package main

// Helpers for the UI tests (ui_test.go): holding app.wasm back to act
// before the app starts, axe-core, themes and viewports, and a second
// person driven through the client package.

import (
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/chromedp"
	"github.com/duplex-chat/duplex/app/client"
	"github.com/duplex-chat/duplex/shared/testpoll"
)

// axeJS is axe-core 4.14.1 (testdata/axe.README.md).
//
//go:embed testdata/axe.min.js
var axeJS string

// wasmGate pauses the tab's requests for app.wasm until Release, so a test
// can act on the prerendered page before the app starts.
type wasmGate struct {
	b        *tab
	mu       sync.Mutex
	held     []fetch.RequestID
	released bool
}

// holdWasm starts holding app.wasm requests of b (the next navigation's).
func holdWasm(b *tab) *wasmGate {
	b.t.Helper()
	g := &wasmGate{b: b}
	err := chromedp.Listen(b.ctx, func(ev any) {
		e, ok := ev.(*fetch.EventRequestPaused)
		if !ok {
			return
		}
		g.mu.Lock()
		defer g.mu.Unlock()
		if g.released {
			go g.resume(e.RequestID)
			return
		}
		g.held = append(g.held, e.RequestID)
	})
	if err != nil {
		b.t.Fatalf("%s: listen: %v", b.name, err)
	}
	ctx, cancel := context.WithTimeout(b.ctx, 15*time.Second)
	defer cancel()
	if _, err := chromedp.Call(ctx, fetch.Enable, fetch.EnableParams{
		Patterns: []*fetch.RequestPattern{{URLPattern: "*/web/app.wasm*"}},
	}); err != nil {
		b.t.Fatalf("%s: fetch.enable: %v", b.name, err)
	}
	return g
}

// waitHeld waits until the page asked for app.wasm and was held.
func (g *wasmGate) waitHeld() {
	g.b.t.Helper()
	testpoll.Until(g.b.t, g.b.name+"'s page to ask for app.wasm", func() bool {
		g.mu.Lock()
		defer g.mu.Unlock()
		return len(g.held) > 0
	})
}

// Release lets the held and every later app.wasm request through.
func (g *wasmGate) Release() {
	g.mu.Lock()
	g.released = true
	held := g.held
	g.held = nil
	g.mu.Unlock()
	for _, id := range held {
		g.resume(id)
	}
}

func (g *wasmGate) resume(id fetch.RequestID) {
	ctx, cancel := context.WithTimeout(g.b.ctx, 15*time.Second)
	defer cancel()
	chromedp.Call(ctx, fetch.ContinueRequest, fetch.ContinueRequestParams{RequestID: id})
}

// setTheme makes the page see prefers-color-scheme: dark or light.
func (b *tab) setTheme(scheme string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 15*time.Second)
	defer cancel()
	if _, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
		Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}},
	}); err != nil {
		b.t.Fatalf("%s: emulate %s: %v", b.name, scheme, err)
	}
}

// setViewport resizes the page: 1280x800 (desktop) or 390x844 (phone).
func (b *tab) setViewport(w, h int64) {
	b.t.Helper()
	opts := []chromedp.EmulateViewportOption{}
	if w < 800 {
		opts = append(opts, chromedp.EmulateMobile, chromedp.EmulateTouch)
	}
	b.do(fmt.Sprintf("viewport %dx%d", w, h), chromedp.EmulateViewport(w, h, opts...))
}

// axeViolation is one failed axe-core rule.
type axeViolation struct {
	ID     string   `json:"id"`
	Impact string   `json:"impact"`
	Help   string   `json:"help"`
	Nodes  []string `json:"nodes"`
}

// axeCheck runs axe-core on the page and fails the test on any violation.
func (b *tab) axeCheck(what string) {
	b.t.Helper()
	if !eval[bool](b, `typeof window.axe === 'object'`) {
		ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
		_, err := chromedp.Run(ctx, chromedp.Evaluate[chromedp.Void](axeJS+"\n;undefined"))
		cancel()
		if err != nil {
			b.t.Fatalf("%s: inject axe-core: %v", b.name, err)
		}
	}
	ctx, cancel := context.WithTimeout(b.ctx, 60*time.Second)
	defer cancel()
	out, err := chromedp.Run(ctx, chromedp.Evaluate[string](`axe.run(document, {resultTypes: ['violations']}).then(r =>
		JSON.stringify(r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
			nodes: v.nodes.map(n => n.target.join(' ') + ': ' + n.failureSummary)}))))`, chromedp.EvalAwaitPromise))
	if err != nil {
		b.t.Fatalf("%s: axe.run: %v", b.name, err)
	}
	var vs []axeViolation
	if err := json.Unmarshal([]byte(out), &vs); err != nil {
		b.t.Fatalf("%s: axe result %q: %v", b.name, out, err)
	}
	for _, v := range vs {
		b.t.Errorf("%s: axe on %s: %s (%s): %s\n  %s", b.name, what, v.ID, v.Impact, v.Help, strings.Join(v.Nodes, "\n  "))
	}
	if len(vs) == 0 {
		b.t.Logf("%s: axe-core: no violations on %s", b.name, what)
	}
}

// person is someone chatting through the client package, not a browser.
func person(t *testing.T, ta *testApp, nick string, rooms ...string) *client.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := client.Dial(ctx, ta.WS, &client.Options{Nick: nick, CacheSize: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	go func() {
		for range c.Events() {
		}
	}()
	for _, r := range rooms {
		if err := c.Join(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

// say sends body as c and waits for the ack.
func say(t *testing.T, c *client.Client, room, body string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := c.SendWait(ctx, room, body); err != nil {
		t.Fatalf("send %q: %v", body, err)
	}
}

// focused is the data-test hook (or id) of the focused element.
const focusedJS = `(() => { const a = document.activeElement; return a ? (a.dataset.test || a.id || a.tagName) : ''; })()`
