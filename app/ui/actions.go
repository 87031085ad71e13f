package ui

import (
	"strconv"
	"time"

	"github.com/duplex-chat/duplex/shared"
	"github.com/maxence-charriere/go-app/v10/pkg/app"
)

// The per-message part of edits, deletions, reactions and replies: what
// a message shows (its reply quote, "(edited)", "message deleted", its
// reactions) and its controls (Reply; Edit and Delete, with a confirm
// step, on one's own; the reaction toggles and an emoji picker). Every
// control is a button, so Tab reaches it and Enter or Space presses it.

// Actions the message controls send the composer.
const (
	actionEdit  = "duplex.edit"  // value: the shared.Message to edit
	actionReply = "duplex.reply" // value: the *shared.Reply to quote
)

// quickEmoji are the reactions the picker offers.
var quickEmoji = []string{"👍", "❤️", "😂", "🎉", "😮", "🙏"}

// renderContent draws a message's body and everything around it; it
// takes the place of renderBody in renderRow.
func (l *MessageList) renderContent(r row) app.UI {
	m := *r.Msg
	if m.Deleted {
		return app.Div().Class("body deleted").DataSet("test", "deleted").Text("message deleted")
	}
	live := r.Status == "sent" && !l.Preview && m.Seq > 0
	return app.Div().Class("content").Body(
		app.If(m.ReplyTo != nil, func() app.UI { return l.renderQuote(m.ReplyTo) }),
		l.renderLongBody(m), // dense.go: a long body folds behind "Show more"
		renderImage(m),      // images.go
		app.If(m.Edited > 0, func() app.UI {
			return app.Span().Class("edited").DataSet("test", "edited").
				Title("%s", "Edited "+fullTime(time.UnixMilli(m.Edited))).Text("(edited)")
		}),
		l.renderDelivery(r), // delivery.go
		app.If(len(m.Reactions) > 0, func() app.UI { return l.renderReactions(m, live) }),
		app.If(live, func() app.UI { return l.renderActions(m) }),
	)
}

// renderQuote draws a reply's quote of its parent: a button that shows
// the parent.
func (l *MessageList) renderQuote(q *shared.Reply) app.UI {
	text := flatten(formatBody(q.Excerpt)) // the quote shows text, not markers
	switch {
	case q.Author.User == "":
		text = "message unavailable"
	case text == "":
		text = "message deleted"
	}
	seq := q.Seq
	return app.Button().Class("quote").DataSet("test", "reply").DataSet("seq", seq).
		Title("Show the message this replies to").
		OnClick(l.onQuote).Body(
		app.Span().Class("sr-only").Text("In reply to "),
		app.Span().Class("quote-author").Text(l.nick(q.Author)),
		app.Span().Class("quote-text").Text(text),
	)
}

// renderReactions draws the reaction toggles and, for a message one may
// react to, the add-reaction control.
func (l *MessageList) renderReactions(m shared.Message, live bool) app.UI {
	return app.Div().Class("reactions").DataSet("test", "reactions").Attr("role", "group").Attr("aria-label", "Reactions").Body(
		app.Range(m.Reactions).Slice(func(i int) app.UI {
			rc := m.Reactions[i]
			mine := isMine(rc, l.Me)
			label := rc.Emoji + " " + strconv.Itoa(rc.Count)
			return app.Button().Class("reaction").DataSet("test", "reaction").
				DataSet("emoji", attrText(rc.Emoji)).DataSet("count", rc.Count).Attr("aria-pressed", mine).
				Attr("aria-label", attrText(reactionLabel(rc, mine)+l.reactedBy(rc))).Title("%s", attrText(l.reactedTitle(rc))).Disabled(!live).
				OnClick(l.onReact).Text(label)
		}),
	)
}

// isMine reports whether me is among those who reacted with rc: the
// server says so in Me; an older server listed the users.
func isMine(rc shared.Reaction, me string) bool {
	return me != "" && (rc.Me || contains(rc.Users, me))
}

// reactionLabel starts with the button's visible text (axe's
// label-content-name-mismatch), then says what it counts.
func reactionLabel(rc shared.Reaction, mine bool) string {
	label := rc.Emoji + " " + strconv.Itoa(rc.Count) + " reactions"
	if rc.Count == 1 {
		label = rc.Emoji + " 1 reaction"
	}
	if mine {
		label += ", yours among them"
	}
	return label
}

// renderActions draws Reply, and Edit and Delete on one's own message.
func (l *MessageList) renderActions(m shared.Message) app.UI {
	own := l.Me != "" && m.Author.User == l.Me
	confirming := own && l.m.msgUI.room == l.Room && l.m.msgUI.confirm == m.Seq
	open := l.m.msgUI.room == l.Room && l.m.msgUI.picker == m.Seq
	cls := "actions"
	if open || confirming {
		cls += " open" // stays shown while the picker or the confirmation is
	}
	return app.Div().Class(cls).DataSet("test", "actions").Attr("role", "group").Attr("aria-label", "Message actions").Body(
		app.Button().Class("act react-add").DataSet("test", "add-reaction").Attr("aria-expanded", open).
			Attr("aria-label", "Add a reaction").Title("Add a reaction").OnClick(l.onPicker).Body(icon("smile")),
		l.renderCopyLink(m), // links.go
		app.Button().Class("act").DataSet("test", "reply-button").Attr("aria-label", attrText("Reply to "+l.nick(m.Author))).
			OnClick(l.onReplyTo).Text("Reply"),
		app.If(own && !confirming, func() app.UI {
			return app.Span().Body(
				app.Button().Class("act").DataSet("test", "edit").Attr("aria-label", "Edit your message").
					OnClick(l.onEdit).Text("Edit"),
				app.Button().Class("act").DataSet("test", "delete").Attr("aria-label", "Delete your message").
					OnClick(l.onDelete).Text("Delete"),
			)
		}),
		app.If(confirming, func() app.UI {
			return app.Span().Class("confirm").DataSet("test", "delete-confirm-box").Attr("role", "group").
				Attr("aria-label", "Delete this message?").OnKeyDown(l.onControlKey).Body(
				app.Span().Class("confirm-text").Text("Delete this message?"),
				app.Button().Class("act danger").DataSet("test", "delete-confirm").
					OnClick(l.onConfirmDelete).Text("Delete"),
				app.Button().Class("act").DataSet("test", "delete-cancel").OnClick(l.onCloseControls).Text("Cancel"),
			)
		}),
		app.If(open, func() app.UI { return l.renderPicker(m) }),
	)
}

// The handlers below read their message from the DOM (the row's
// data-seq, the button's data-emoji): go-app keeps the first handler of a
// reused element when the new one is the same function literal, so a
// closure over a row would act on whichever message was drawn there first
// (older messages loaded above shift every row).

// rowSeq is the seq of the message row holding the event's element.
func rowSeq(ctx app.Context) int64 {
	row := ctx.JSSrc().Call("closest", "[data-test=message]")
	if !row.Truthy() {
		return 0
	}
	seq, _ := strconv.ParseInt(row.Get("dataset").Get("seq").String(), 10, 64)
	return seq
}

// rowMessage is the message of the row holding the event's element.
func (l *MessageList) rowMessage(ctx app.Context) (shared.Message, bool) {
	seq := rowSeq(ctx)
	for _, r := range l.Rows {
		if seq > 0 && r.Msg.Seq == seq && r.Status == "sent" {
			return *r.Msg, true
		}
	}
	return shared.Message{}, false
}

func (l *MessageList) onQuote(ctx app.Context, e app.Event) {
	seq, _ := strconv.ParseInt(ctx.JSSrc().Get("dataset").Get("seq").String(), 10, 64)
	if seq > 0 {
		l.jumpTo(ctx, seq)
	}
}

func (l *MessageList) onReact(ctx app.Context, e app.Event) {
	btn := ctx.JSSrc()
	emoji, on := btn.Get("dataset").Get("emoji").String(), btn.Call("getAttribute", "aria-pressed").String() != "true"
	if seq := rowSeq(ctx); seq > 0 {
		l.m.react(ctx, l.Room, seq, emoji, on)
	}
}

func (l *MessageList) onReplyTo(ctx app.Context, e app.Event) {
	if m, ok := l.rowMessage(ctx); ok {
		ctx.NewActionWithValue(actionReply, quoteOf(m))
	}
}

func (l *MessageList) onEdit(ctx app.Context, e app.Event) {
	if m, ok := l.rowMessage(ctx); ok {
		ctx.NewActionWithValue(actionEdit, m)
	}
}

func (l *MessageList) onPicker(ctx app.Context, e app.Event) {
	seq := rowSeq(ctx)
	if l.m.msgUI.room == l.Room && l.m.msgUI.picker == seq {
		l.m.msgUI.picker = 0
		return
	}
	l.m.msgUI.room, l.m.msgUI.picker, l.m.msgUI.confirm = l.Room, seq, 0
	l.m.pickerQuery = ""
	focusSoon(ctx, `[data-test=emoji-picker] [data-test=pick-emoji]`) // ↑ reaches the search box
}

func (l *MessageList) onDelete(ctx app.Context, e app.Event) {
	l.m.msgUI.room, l.m.msgUI.confirm, l.m.msgUI.picker = l.Room, rowSeq(ctx), 0
	focusSoon(ctx, `[data-test=delete-confirm]`)
}

func (l *MessageList) onConfirmDelete(ctx app.Context, e app.Event) {
	seq := rowSeq(ctx)
	l.m.msgUI.confirm = 0
	if seq > 0 {
		l.m.remove(ctx, l.Room, seq)
	}
	focus(composerID)
}

// onCloseControls closes the delete confirmation and the picker.
func (l *MessageList) onCloseControls(ctx app.Context, e app.Event) {
	seq := l.m.msgUI.confirm
	if seq == 0 {
		seq = l.m.msgUI.picker
	}
	l.m.msgUI.confirm, l.m.msgUI.picker = 0, 0
	focusSoon(ctx, `[data-test=message][data-seq="`+strconv.FormatInt(seq, 10)+`"] [data-test=reply-button]`)
}

// onControlKey: Escape in the confirmation or the picker closes it (and
// goes no further: the page's Escape moves the focus elsewhere).
func (l *MessageList) onControlKey(ctx app.Context, e app.Event) {
	if e.Get("key").String() == "Escape" {
		e.Call("stopPropagation")
		e.PreventDefault()
		l.onCloseControls(ctx, e)
	}
}

// focusSoon focuses the first element matching sel once the update that
// draws it is done.
func focusSoon(ctx app.Context, sel string) {
	tries := 20
	later(0, func() bool {
		tries--
		el := app.Window().Get("document").Call("querySelector", sel)
		if el.Truthy() {
			el.Call("focus")
		}
		return el.Truthy() || tries <= 0
	})
}

// later runs f on a JavaScript timer after ms milliseconds, and again
// every 100ms while it returns false. Not through go-app's ctx: the
// element whose handler asks (a button of a closing confirmation, a quote
// in a row that older messages moved) may be gone by then, and a ctx
// whose element is unmounted drops what it is asked to do.
func later(ms int, f func() bool) {
	var fn app.Func
	fn = app.FuncOf(func(app.Value, []app.Value) any {
		if f() {
			fn.Release()
			return nil
		}
		app.Window().Call("setTimeout", fn, 100)
		return nil
	})
	app.Window().Call("setTimeout", fn, ms)
}

// jumpTo scrolls to message seq and highlights it, paging older history
// in first when the list does not hold it yet.
func (l *MessageList) jumpTo(ctx app.Context, seq int64) {
	if showMessage(seq) {
		return
	}
	l.m.loadUntil(ctx, l.Room, seq, func() { showSoon(seq, 50) })
}

// showSoon tries showMessage until the rows the model now holds are
// rendered, up to tries times.
func showSoon(seq int64, tries int) {
	later(0, func() bool {
		tries--
		return showMessage(seq) || tries <= 0
	})
}

// showMessage scrolls message seq into the middle of the list, focuses it
// (so the keyboard continues from there) and highlights it (a CSS
// animation fades the highlight).
func showMessage(seq int64) bool {
	doc := app.Window().Get("document")
	el := doc.Call("querySelector", `#`+listID+` [data-test=message][data-seq="`+strconv.FormatInt(seq, 10)+`"]`)
	if !el.Truthy() {
		return false
	}
	if old := doc.Call("querySelector", "#"+listID+" .highlight"); old.Truthy() {
		old.Get("classList").Call("remove", "highlight")
	}
	el.Call("setAttribute", "tabindex", "-1")
	el.Call("scrollIntoView", map[string]any{"block": "center"})
	el.Call("focus", map[string]any{"preventScroll": true})
	el.Get("classList").Call("add", "highlight")
	return true
}
