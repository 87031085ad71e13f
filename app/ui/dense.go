package ui

import (
	"strings"

	"github.com/duplex-chat/duplex/shared"
	"github.com/maxence-charriere/go-app/v10/pkg/app"
)

// Calm, dense messages (issue #17): one line per one-line message on a
// desktop (time, author, body), the controls only on hover, keyboard
// focus or a long press, reactions only when there are some, long bodies
// folded, and every author under the name they go by now.

// foldLines is how many lines a body may have before it folds.
const foldLines = 20

// nick is the name an author goes by now: their current nickname when the
// page knows it (a member of a room this browser joined), else the one the
// message was written under.
func (l *MessageList) nick(a shared.Member) string {
	if n := l.Names[a.User]; n != "" && a.User != "" {
		return n
	}
	return a.Nick
}

// long reports whether body would take more than foldLines lines: its
// line breaks, and its long lines wrapped at about 90 characters.
func long(body string) bool {
	lines := 0
	for _, ln := range strings.Split(body, "\n") {
		lines += 1 + len([]rune(ln))/90
		if lines > foldLines {
			return true
		}
	}
	return false
}

// renderLongBody is the body, folded with "Show more" when it is long.
func (l *MessageList) renderLongBody(m shared.Message) app.UI {
	if !long(m.Body) || l.Preview {
		return l.renderBody(m)
	}
	open := l.m.expanded[m.MsgID]
	label := "Show more"
	if open {
		label = "Show less"
	}
	cls := "fold"
	if !open {
		cls += " folded"
	}
	return app.Div().Class(cls).Body(
		l.renderBody(m),
		app.Button().Type("button").Class("act show-more").DataSet("test", "show-more").Attr("aria-expanded", open).
			OnClick(l.onShowMore).Text(label),
	)
}

// onShowMore folds and unfolds the message whose button was pressed (read
// from the DOM: go-app keeps a reused element's first handler).
func (l *MessageList) onShowMore(ctx app.Context, e app.Event) {
	id := rowMsgID(ctx)
	l.m.expanded[id] = !l.m.expanded[id]
}

// namesLocked are the current nicknames of everyone in the rooms this
// browser follows, and the person's own.
func (m *model) namesLocked() map[string]string {
	names := make(map[string]string)
	for _, v := range m.views {
		for _, mem := range v.members {
			names[mem.User] = mem.Nick
		}
	}
	if m.cl != nil && m.me.User != "" {
		names[m.me.User] = m.me.Nick
	}
	return names
}

// listenLongPress shows a message's controls after a press of half a
// second on a touch screen (there is no hover there), and hides them at
// the next touch elsewhere.
func listenLongPress() func() {
	doc := app.Window().Get("document")
	timer := app.Null()
	clear := func() {
		if !timer.IsNull() {
			app.Window().Call("clearTimeout", timer)
			timer = app.Null()
		}
	}
	var fire app.Func
	var target app.Value
	fire = app.FuncOf(func(app.Value, []app.Value) any {
		timer = app.Null()
		if row := target.Call("closest", "[data-test=message]"); row.Truthy() {
			if old := doc.Call("querySelector", ".msg.pressed"); old.Truthy() {
				old.Get("classList").Call("remove", "pressed")
			}
			row.Get("classList").Call("add", "pressed")
		}
		return nil
	})
	start := app.FuncOf(func(this app.Value, args []app.Value) any {
		clear()
		target = args[0].Get("target")
		if !target.Call("closest", "[data-test=messages]").Truthy() {
			return nil
		}
		if old := doc.Call("querySelector", ".msg.pressed"); old.Truthy() && !old.Call("contains", target).Bool() {
			old.Get("classList").Call("remove", "pressed")
		}
		timer = app.Window().Call("setTimeout", fire, 500)
		return nil
	})
	end := app.FuncOf(func(app.Value, []app.Value) any { clear(); return nil })
	doc.Call("addEventListener", "touchstart", start, map[string]any{"passive": true})
	doc.Call("addEventListener", "touchend", end)
	doc.Call("addEventListener", "touchmove", end, map[string]any{"passive": true})
	return func() {
		doc.Call("removeEventListener", "touchstart", start, map[string]any{"passive": true})
		doc.Call("removeEventListener", "touchend", end)
		doc.Call("removeEventListener", "touchmove", end, map[string]any{"passive": true})
		start.Release()
		end.Release()
		fire.Release()
	}
}
