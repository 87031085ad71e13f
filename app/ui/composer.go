package ui

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/duplex-chat/duplex/shared"
	"github.com/maxence-charriere/go-app/v10/pkg/app"
)

// Composer is the message box: a textarea that grows with its text;
// Enter sends, Shift+Enter (or pasting) adds lines; a counter appears
// near the length limit; each room keeps its own draft in localStorage,
// across room switches and reloads. The text lives in the DOM, not in
// the component, so no re-render can wipe it; a send the client refuses
// leaves it in place.
type Composer struct {
	app.Compo
	m *model // the page's model, passed down by Chat (never a global: prerendered pages run concurrently)

	Room  string
	Label string // the room as people name it: "#design", "@bob" (a DM)
	// The latest send the server refused in this room: its text comes
	// back into an empty composer.
	RefusedID, RefusedBody string

	count    int          // runes in the box, for the counter
	restored string       // RefusedID already handled
	compose  composeState // an edit or a reply under way (compose_events.go)
}

// composerID is the textarea.
const composerID = "composer"

// counterFrom is where the counter appears: the last 10% before the limit.
const counterFrom = shared.MaxBodyRunes * 9 / 10

func draftKey(room string) string { return "duplex.draft." + room }

// OnMount loads the room's draft.
func (c *Composer) OnMount(ctx app.Context) {
	c.restored = c.RefusedID
	c.handleEvents(ctx)
	ctx.Defer(c.loadDraft)
	ctx.Handle(actionAttach, c.onAttach) // images.go
}

// OnUpdate loads the new room's draft after a room switch, and puts a
// refused message back.
func (c *Composer) OnUpdate(ctx app.Context) {
	ctx.Defer(func(ctx app.Context) {
		el := app.Window().GetElementByID(composerID)
		if !el.Truthy() {
			return
		}
		if el.Get("dataset").Get("room").String() != c.Room {
			c.loadDraft(ctx)
			return
		}
		if c.RefusedID != "" && c.RefusedID != c.restored {
			c.restored = c.RefusedID
			if el.Get("value").String() == "" {
				c.setText(ctx, c.RefusedBody)
			}
		}
	})
}

func (c *Composer) loadDraft(ctx app.Context) {
	el := app.Window().GetElementByID(composerID)
	if !el.Truthy() {
		return
	}
	el.Get("dataset").Set("room", c.Room)
	c.resetCompose()
	draft := app.Window().Get("localStorage").Call("getItem", draftKey(c.Room))
	text := ""
	if draft.Truthy() {
		text = draft.String()
	}
	c.setText(ctx, text)
}

// setText replaces the box's text and fits the box and the counter to it.
func (c *Composer) setText(ctx app.Context, text string) {
	el := app.Window().GetElementByID(composerID)
	if !el.Truthy() {
		return
	}
	el.Set("value", text)
	fit(el)
	c.setCount(ctx, utf8.RuneCountInString(text))
}

// fit grows the textarea to its content (CSS caps it).
func fit(el app.Value) {
	el.Get("style").Set("height", "auto")
	el.Get("style").Set("height", strconv.Itoa(el.Get("scrollHeight").Int()+2)+"px")
}

func (c *Composer) setCount(ctx app.Context, n int) {
	show := func(n int) bool { return n >= counterFrom }
	if show(n) != show(c.count) || show(n) && n != c.count {
		c.count = n
		ctx.Update()
		return
	}
	c.count = n
}

func (c *Composer) onInput(ctx app.Context, e app.Event) {
	el := ctx.JSSrc()
	text := el.Get("value").String()
	store := app.Window().Get("localStorage")
	c.m.typing(c.Room, strings.TrimSpace(text) != "")
	if text == "" {
		store.Call("removeItem", draftKey(c.Room))
	} else {
		store.Call("setItem", draftKey(c.Room), text)
	}
	fit(el)
	ctx.PreventUpdate()
	c.setCount(ctx, utf8.RuneCountInString(text))
}

func (c *Composer) onKeyDown(ctx app.Context, e app.Event) {
	if c.onEventKey(ctx, e) {
		return
	}
	if e.Get("key").String() == "Enter" && !e.Get("shiftKey").Bool() && !e.Get("isComposing").Bool() {
		c.onSend(ctx, e)
		return
	}
	ctx.PreventUpdate()
}

func (c *Composer) onSend(ctx app.Context, e app.Event) {
	e.PreventDefault()
	el := app.Window().GetElementByID(composerID)
	body := el.Get("value").String()
	if c.sendAttachment(ctx, body) { // an image, with body as its caption
		return
	}
	if strings.TrimSpace(body) == "" || c.Room == "" {
		return
	}
	if ok, err := c.sendEvent(ctx, body); ok {
		if err != nil {
			ctx.NewActionWithValue(actionToast, "Not sent: "+errText(err))
		}
		return
	}
	if err := c.m.send(c.Room, body); err != nil {
		ctx.NewActionWithValue(actionToast, "Not sent: "+errText(err))
		return
	}
	app.Window().Get("localStorage").Call("removeItem", draftKey(c.Room))
	c.setText(ctx, "")
	el.Call("focus")
}

// Render draws the box, the counter and the send button.
func (c *Composer) Render() app.UI {
	left := shared.MaxBodyRunes - c.count
	return app.Form().Class("composer-bar").OnSubmit(c.onSend).Body(
		c.renderCompose(), // always there: the textarea after it must keep its DOM node
		c.renderAttach(),
		app.Textarea().ID(composerID).Class("composer").DataSet("test", "composer").Rows(1).
			Placeholder("Message "+c.label()).Attr("aria-label", "Message "+c.label()).
			Attr("enterkeyhint", "send").OnInput(c.onInput).OnKeyDown(c.onKeyDown).OnPaste(c.onPaste),
		app.If(c.count >= counterFrom, func() app.UI {
			cls := "counter"
			text := strconv.Itoa(left) + " left"
			if left < 0 {
				cls += " over"
				text = strconv.Itoa(-left) + " too many"
			}
			return app.Span().Class(cls).DataSet("test", "counter").DataSet("left", left).Attr("aria-live", "polite").Text(text)
		}),
		app.Button().Type("submit").DataSet("test", "send").Text("Send"),
	)
}

// label names the room in the placeholder: never a DM's internal name.
func (c *Composer) label() string {
	if c.Label != "" {
		return c.Label
	}
	return roomLabel(shared.RoomInfo{Name: c.Room})
}
