package ui

import (
	"strings"

	"github.com/duplex-chat/duplex/shared"
	"github.com/maxence-charriere/go-app/v10/pkg/app"
)

// The composer's side of edits and replies. Editing puts the message's
// text into the composer (the draft waits aside): Enter saves, Escape
// cancels; Up-arrow in an empty composer edits one's last message. A
// reply shows the parent's quote above the composer, with a cancel
// button; Escape cancels it too.

// composeState is what the composer is doing besides writing a message.
type composeState struct {
	editing   int64  // the seq of the message being edited, 0 when none
	editBody  string // its text when the edit began
	editDraft string // the draft put aside while editing
	reply     *shared.Reply
}

// handleEvents registers the composer for the message controls' actions.
func (c *Composer) handleEvents(ctx app.Context) {
	ctx.Handle(actionEdit, func(ctx app.Context, a app.Action) {
		if m, ok := a.Value.(shared.Message); ok && m.Room == c.Room {
			c.startEdit(ctx, m)
			ctx.Update()
		}
	})
	ctx.Handle(actionReply, func(ctx app.Context, a app.Action) {
		if r, ok := a.Value.(*shared.Reply); ok {
			c.compose.reply = r
			focus(composerID)
			ctx.Update()
		}
	})
}

// startEdit fills the composer with m's text.
func (c *Composer) startEdit(ctx app.Context, m shared.Message) {
	el := app.Window().GetElementByID(composerID)
	if !el.Truthy() {
		return
	}
	if c.compose.editing == 0 {
		c.compose.editDraft = el.Get("value").String()
	}
	c.compose.editing, c.compose.editBody = m.Seq, m.Body
	c.setText(ctx, m.Body)
	el.Call("focus")
	el.Call("setSelectionRange", len(el.Get("value").String()), len(el.Get("value").String()))
}

// stopEdit gives the draft back.
func (c *Composer) stopEdit(ctx app.Context) {
	draft := c.compose.editDraft
	c.compose.editing, c.compose.editBody, c.compose.editDraft = 0, "", ""
	c.setText(ctx, draft)
	focus(composerID)
}

// resetCompose forgets an edit or a reply begun in another room.
func (c *Composer) resetCompose() { c.compose = composeState{} }

// onEventKey handles Up-arrow (edit the last message) and Escape (cancel
// an edit or a reply); it reports whether it took the key.
func (c *Composer) onEventKey(ctx app.Context, e app.Event) bool {
	key := e.Get("key").String()
	switch {
	case key == "Escape" && c.compose.editing != 0:
		c.stopEdit(ctx)
	case key == "Escape" && c.compose.reply != nil:
		c.compose.reply = nil
	case key == "ArrowUp" && c.compose.editing == 0 && !modified(e) &&
		app.Window().GetElementByID(composerID).Get("value").String() == "":
		m, ok := c.m.lastOwn(c.Room)
		if !ok {
			return false
		}
		c.startEdit(ctx, m)
	default:
		return false
	}
	e.PreventDefault()
	e.Call("stopPropagation") // the page's Escape would move the focus away
	return true
}

// sendEvent saves an edit or sends a reply instead of a plain message; it
// reports whether it did (the composer is then cleared).
func (c *Composer) sendEvent(ctx app.Context, body string) (handled bool, err error) {
	switch {
	case c.compose.editing != 0:
		if body != c.compose.editBody {
			if err := shared.ValidBody(body); err != nil {
				return true, err
			}
			c.m.edit(ctx, c.Room, c.compose.editing, body)
		}
		c.stopEdit(ctx)
		return true, nil
	case c.compose.reply != nil:
		if err := c.m.reply(c.Room, c.compose.reply.Seq, body); err != nil {
			return true, err
		}
		c.compose.reply = nil
		app.Window().Get("localStorage").Call("removeItem", draftKey(c.Room))
		c.setText(ctx, "")
		return true, nil
	}
	return false, nil
}

// renderCompose draws what the composer is doing: editing, or replying
// with the parent's quote; each with a cancel button. The slot is always
// rendered (hidden when idle), so the textarea after it keeps its place
// among the form's children and go-app never replaces it (its text and
// focus would go).
func (c *Composer) renderCompose() app.UI {
	active := c.compose.editing != 0 || c.compose.reply != nil
	return app.Div().Class("compose-slot").Hidden(!active).Body(app.If(active, c.renderState))
}

func (c *Composer) renderState() app.UI {
	switch {
	case c.compose.editing != 0:
		return app.Div().Class("compose-state").DataSet("test", "editing").DataSet("seq", c.compose.editing).Body(
			app.Span().Class("compose-label").Text("Editing your message · Enter saves, Escape cancels"),
			app.Button().Class("ghost small").Type("button").DataSet("test", "edit-cancel").
				OnClick(func(ctx app.Context, e app.Event) { c.stopEdit(ctx) }).Text("Cancel"),
		)
	case c.compose.reply != nil:
		r := c.compose.reply
		text := r.Excerpt
		if text == "" {
			text = "message deleted"
		}
		return app.Div().Class("compose-state").DataSet("test", "composer-reply").DataSet("seq", r.Seq).Body(
			app.Span().Class("compose-label").Body(
				app.Span().Text("Replying to "),
				app.Span().Class("quote-author").Text(r.Author.Nick),
				app.Span().Class("quote-text").Text(": "+strings.TrimSpace(text)),
			),
			app.Button().Class("ghost small").Type("button").DataSet("test", "reply-cancel").Attr("aria-label", "Cancel the reply").
				OnClick(func(ctx app.Context, e app.Event) { c.compose.reply = nil; focus(composerID) }).Text("Cancel"),
		)
	}
	return app.Span()
}

// modified reports whether a modifier key is held: Alt+Up switches rooms
// (page.go), Shift+Up selects text; only a bare Up-arrow edits.
func modified(e app.Event) bool {
	return e.Get("shiftKey").Bool() || e.Get("altKey").Bool() || e.Get("ctrlKey").Bool() || e.Get("metaKey").Bool()
}
