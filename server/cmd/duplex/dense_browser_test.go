//go:build !(js && wasm)

package main

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
	"github.com/duplex-chat/duplex/app/client"
)

// visibleRowsJS counts the messages wholly inside the message list's box.
const visibleRowsJS = `(() => {
	const l = document.querySelector('[data-test=messages]').getBoundingClientRect();
	return [...document.querySelectorAll('[data-test=messages] [data-test=message]')].filter(m => {
		const r = m.getBoundingClientRect();
		return r.height > 0 && r.top >= l.top - 0.5 && r.bottom <= l.bottom + 0.5;
	}).length;
})()`

// TestBrowserDenseMessages (issue #17): one-line messages from a few
// people are dense (at least 20 visible at 1280×800, at least 12 on a
// 390×844 phone); a message's controls show only on hover, keyboard focus
// or a long press, its reaction row only when it has reactions; a body of
// more than 20 lines folds behind "Show more"; after a nickname change
// the person's old messages show the new name. Bad inputs: a 60-line
// body, a nickname changed after the messages were written.
func TestBrowserDenseMessages(t *testing.T) {
	exe := requireBrowser(t)
	timed(t)
	ta := startApp(t, "", "")
	people := []*client.Client{person(t, ta, "bob", "dense"), person(t, ta, "carol", "dense"), person(t, ta, "dave", "dense")}
	runs := []int{2, 1, 3, 1, 2}
	n := 0
	for i := 0; n < 40; i++ {
		for range runs[i%len(runs)] {
			say(t, people[i%len(people)], "dense", fmt.Sprintf("one line number %d", n))
			n++
		}
	}

	a := newTab(t, exe, "alice")
	a.setViewport(1280, 800)
	a.open(ta.URL + "/r/dense")
	a.signIn("alice")
	lastLine := fmt.Sprintf("one line number %d", n-1)
	poll[bool](a, "the last message", js(`__rows().some(r => r.body === `+quote(lastLine)+`)`))
	counts := map[string]int{}
	for _, v := range []struct {
		name string
		w, h int64
		min  int
	}{{"1280x800", 1280, 800, 20}, {"390x844", 390, 844, 12}} {
		a.setViewport(v.w, v.h)
		poll[bool](a, "the last message", js(`__rows().some(r => r.body === `+quote(lastLine)+`)`))
		got, err := tryPoll[int](a, visibleRowsJS+` >= `+fmt.Sprint(v.min)+` && `+visibleRowsJS, 10*time.Second)
		if err != nil {
			got = eval[int](a, visibleRowsJS)
			t.Errorf("%s: %d one-line messages visible, want at least %d", v.name, got, v.min)
		}
		counts[v.name] = got
		t.Logf("%s: %d one-line messages visible", v.name, got)
	}
	a.setViewport(1280, 800)

	// Controls: hidden until hover or focus; no reaction row without reactions.
	opacity := func() string {
		return eval[string](a, `getComputedStyle(document.querySelector('[data-test=messages] [data-test=message]:last-child [data-test=actions]')).opacity`)
	}
	a.do("move the mouse away", chromedp.MouseClickXY(5, 790))
	if o := opacity(); o != "0" {
		t.Errorf("a message's controls show (opacity %s) without hover or focus", o)
	}
	if k := eval[int](a, `document.querySelectorAll('[data-test=messages] [data-test=reactions]').length`); k != 0 {
		t.Errorf("%d reaction rows on messages without reactions", k)
	}
	eval[bool](a, `(document.querySelector('[data-test=messages] [data-test=message]:last-child [data-test=reply-button]').focus(), true)`)
	if o := opacity(); o != "1" {
		t.Errorf("a message's controls are hidden (opacity %s) while one of them has keyboard focus", o)
	}

	// A long body folds; Show more unfolds it.
	var lines []string
	for i := range 60 {
		lines = append(lines, fmt.Sprintf("line %d of a long paste", i))
	}
	say(t, people[0], "dense", strings.Join(lines, "\n"))
	poll[bool](a, "the long message folded", `!!document.querySelector('[data-test=show-more][aria-expanded=false]')`)
	folded := eval[float64](a, `document.querySelector('[data-test=show-more]').closest('[data-test=message]').getBoundingClientRect().height`)
	a.do("show more", chromedp.Click(chromedp.CSS(`[data-test=show-more]`)))
	open := poll[float64](a, "the long message unfolded", `document.querySelector('[data-test=show-more][aria-expanded=true]') &&
		document.querySelector('[data-test=show-more]').closest('[data-test=message]').getBoundingClientRect().height`)
	if folded > 600 || open < folded*1.5 {
		t.Errorf("the 60-line message is %v px folded and %v px unfolded", folded, open)
	}

	// A nickname change renames the old messages.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := people[1].SetNick(ctx, "caroline"); err != nil {
		t.Fatal(err)
	}
	poll[bool](a, "carol's old messages as caroline", js(`__rows().filter(r => r.body === 'one line number 2').every(r => r.author === 'caroline') &&
		!__rows().some(r => r.author === 'carol')`))

	// A long press on a phone shows the controls.
	a.setViewport(390, 844)
	// A point near the list's end, on a message's body.
	pt := eval[[]float64](a, `(() => { const r = document.querySelector('[data-test=messages]').getBoundingClientRect();
		return [r.left + 60, r.bottom - 40]; })()`)
	touch := func(typ input.DispatchTouchEventType, pts []*input.TouchPoint) {
		t.Helper()
		tctx, tcancel := context.WithTimeout(a.ctx, 15*time.Second)
		defer tcancel()
		if _, err := chromedp.Call(tctx, input.DispatchTouchEvent, input.DispatchTouchEventParams{Type: typ, TouchPoints: pts}); err != nil {
			t.Fatalf("touch %s: %v", typ, err)
		}
	}
	touch(input.DispatchTouchEventTypeTouchStart, []*input.TouchPoint{{X: pt[0], Y: pt[1]}})
	poll[bool](a, "the controls after a long press", fmt.Sprintf(`(() => { const m = document.elementFromPoint(%v, %v).closest('[data-test=message]');
		return !!m && getComputedStyle(m.querySelector('[data-test=actions]')).opacity === '1'; })()`, pt[0], pt[1]))
	touch(input.DispatchTouchEventTypeTouchEnd, []*input.TouchPoint{})
	a.axeCheck("dense messages on a phone")
	t.Logf("visible one-line messages: %v", counts)
}
