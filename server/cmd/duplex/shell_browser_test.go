//go:build !(js && wasm)

package main

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
)

// wheelOver turns the mouse wheel by dy pixels over the centre of the
// first element matching sel (a real input event, as a person's wheel).
func (b *tab) wheelOver(sel string, dy float64) {
	b.t.Helper()
	pt := eval[[]float64](b, `(() => { const r = document.querySelector(`+quote(sel)+`).getBoundingClientRect();
		return [r.left + r.width / 2, r.top + Math.min(r.height / 2, 200)]; })()`)
	ctx, cancel := context.WithTimeout(b.ctx, 15*time.Second)
	defer cancel()
	if _, err := chromedp.Call(ctx, input.DispatchMouseEvent, input.DispatchMouseEventParams{
		Type: input.DispatchMouseEventTypeMouseWheel, X: pt[0], Y: pt[1], DeltaX: 0.01, DeltaY: dy, // a zero DeltaX is left out, and Chromium wants both
	}); err != nil {
		b.t.Fatalf("%s: wheel over %s: %v", b.name, sel, err)
	}
}

// shellMetrics is where the page's fixed parts are and how far the
// document can scroll.
type shellMetrics struct {
	DocHeight, Inner, ScrollY, TopY, ComposerBottom float64
	ListScrolls                                     bool
}

const shellJS = `(() => {
	const top = document.querySelector('.top').getBoundingClientRect();
	const comp = document.querySelector('[data-test=composer]').getBoundingClientRect();
	const list = document.querySelector('[data-test=messages]');
	return {DocHeight: document.scrollingElement.scrollHeight, Inner: innerHeight, ScrollY: scrollY,
		TopY: top.top, ComposerBottom: comp.bottom, ListScrolls: list.scrollHeight > list.clientHeight};
})()`

// TestBrowserShellStaysPut: with a room full of grouped messages (one
// author, one after the other: the rows whose hidden author once
// stretched the document), the document never scrolls, at 1280×800 and
// on a 390×844 phone; only the message list does; a wheel over the
// member list moves neither the header nor the composer. Bad inputs
// tried: 80 grouped messages, a wheel of 3000 px over the members, over
// the sidebar and over the header itself.
func TestBrowserShellStaysPut(t *testing.T) {
	exe := requireBrowser(t)
	timed(t)
	ta := startApp(t, "", "")
	bob := person(t, ta, "bob", "shell")
	carol := person(t, ta, "carol", "shell")
	for i := range 80 {
		say(t, bob, "shell", fmt.Sprintf("grouped line %d from bob", i))
	}
	say(t, carol, "shell", "and one from carol")

	a := newTab(t, exe, "alice")
	a.setViewport(1280, 800)
	a.open(ta.URL + "/r/shell")
	a.signIn("alice")
	a.waitRow("and one from carol", "carol", "sent")
	poll[bool](a, "bob and carol in the members", js(`__members().length === 3`))
	for _, size := range [][2]int64{{1280, 800}, {390, 844}} {
		a.setViewport(size[0], size[1])
		a.waitRow("grouped line 79 from bob", "bob", "sent")
		m := poll[shellMetrics](a, "the page laid out", shellJS)
		if m.DocHeight > m.Inner || m.ScrollY != 0 || m.TopY != 0 || m.ComposerBottom > m.Inner+0.5 || !m.ListScrolls {
			t.Errorf("%dx%d: document %v px tall in a %v px window, scrollY %v, header at %v, composer bottom %v, list scrolls %v",
				size[0], size[1], m.DocHeight, m.Inner, m.ScrollY, m.TopY, m.ComposerBottom, m.ListScrolls)
		}
		targets := []string{"[data-test=messages]", ".top"}
		if size[0] >= 900 {
			targets = append(targets, "#members", "#rooms")
		}
		for _, sel := range targets {
			a.wheelOver(sel, 3000)
			a.wheelOver(sel, -1500)
			// The wheel must not move the page: watch for it to, a while.
			moved, err := tryPoll[bool](a, shellJS+`, scrollY !== 0 || document.querySelector('.top').getBoundingClientRect().top !== 0`, 500*time.Millisecond)
			if !errors.Is(err, chromedp.ErrPollingTimeout) {
				t.Errorf("%dx%d: a wheel over %s moved the page (%v, %v)", size[0], size[1], sel, moved, err)
			}
			m := eval[shellMetrics](a, shellJS)
			if m.DocHeight > m.Inner || m.ScrollY != 0 || m.TopY != 0 || m.ComposerBottom > m.Inner+0.5 {
				t.Errorf("%dx%d: after a wheel over %s: document %v px in %v, scrollY %v, header at %v, composer bottom %v",
					size[0], size[1], sel, m.DocHeight, m.Inner, m.ScrollY, m.TopY, m.ComposerBottom)
			}
		}
	}
}
