package ui

import (
	"strconv"
	"strings"
	"time"

	"github.com/duplex-chat/duplex/shared"
	"github.com/maxence-charriere/go-app/v10/pkg/app"
)

// MessageList is a room's messages: a role=log live region (screen
// readers announce new messages), focusable so the keyboard can scroll
// it. It sticks to the bottom only when the reader is there; otherwise
// new messages raise a "N new messages ↓" button, and older messages
// loaded above keep the reader's place.
type MessageList struct {
	app.Compo
	m *model // the page's model, passed down by Chat (never a global: prerendered pages run concurrently)

	Room    string
	Rows    []row
	More    bool // older messages may exist
	Loading bool
	Me      string // the person's user id
	Preview bool   // behind the sign-in form: no paging
	Ready   bool   // the room is joined: an empty list means an empty room
	// Nicks are highlighted as @mentions; Line draws the "new messages"
	// line before the first message from that seq on (0: none); Target is a search result to
	// highlight (unread.go, mention.go, search.go).
	Nicks  nickSet
	Line   int64
	Target int64
	// Names are people's current nicknames by user id: old messages show
	// the name their author goes by now (dense.go).
	Names map[string]string

	atBottom bool
	unseen   int
	mounted  bool
	unpress  func() // removes the long-press listeners
	active   string // the msg_id of the tabbable message: keyboard.go
	// scroll metrics read before an update, to restore after it
	prevHeight, prevTop float64
	prevRoom            string
	prevFirst, prevLast string
}

// listID is the scrolling element.
const listID = "messages"

// OnMount starts at the bottom, where the newest messages are.
func (l *MessageList) OnMount(ctx app.Context) {
	l.atBottom, l.mounted = true, true
	if !l.Preview && app.IsClient {
		l.unpress = listenLongPress() // dense.go
	}
	l.remember()
	ctx.Defer(func(app.Context) { scrollToBottom(); rove(l.active) })
}

// OnUpdate runs when the rows change, before the DOM does: it reads
// where the reader is, and after the update puts them back there.
func (l *MessageList) OnUpdate(ctx app.Context) {
	ctx.Defer(func(app.Context) { rove(l.active) }) // keyboard.go
	el := app.Window().GetElementByID(listID)
	if !el.Truthy() {
		return
	}
	height, top := el.Get("scrollHeight").Float(), el.Get("scrollTop").Float()
	first, last := rowKey(l.Rows, 0), rowKey(l.Rows, len(l.Rows)-1)
	switch {
	case l.Room != l.prevRoom:
		l.atBottom, l.unseen = true, 0
		ctx.Defer(func(app.Context) { scrollToBottom() })
	case last != l.prevLast && (l.atBottom || l.lastIsMine()):
		l.atBottom, l.unseen = true, 0
		ctx.Defer(func(app.Context) { scrollToBottom() })
	case last != l.prevLast:
		l.unseen += l.newSince(l.prevLast)
	case first != l.prevFirst:
		// Older messages came in above: keep the same message in view.
		ctx.Defer(func(app.Context) {
			if el := app.Window().GetElementByID(listID); el.Truthy() {
				el.Set("scrollTop", top+el.Get("scrollHeight").Float()-height)
			}
		})
	case l.atBottom:
		// A row at the end grew (a pending send became sent and got its
		// controls): keep the end, the own message whole, in view.
		ctx.Defer(func(app.Context) { scrollToBottom() })
	}
	l.prevHeight, l.prevTop = height, top
	l.remember()
}

func (l *MessageList) remember() {
	l.prevRoom, l.prevFirst, l.prevLast = l.Room, rowKey(l.Rows, 0), rowKey(l.Rows, len(l.Rows)-1)
}

func rowKey(rows []row, i int) string {
	if i < 0 || i >= len(rows) {
		return ""
	}
	return rows[i].Msg.MsgID
}

func (l *MessageList) lastIsMine() bool {
	n := len(l.Rows)
	return n > 0 && l.Me != "" && l.Rows[n-1].Msg.Author.User == l.Me && l.Rows[n-1].Status != "sent"
}

// newSince counts the rows after the one with msg_id prev.
func (l *MessageList) newSince(prev string) int {
	for i := len(l.Rows) - 1; i >= 0; i-- {
		if l.Rows[i].Msg.MsgID == prev {
			return len(l.Rows) - 1 - i
		}
	}
	return 1
}

func (l *MessageList) onScroll(ctx app.Context, e app.Event) {
	el := ctx.JSSrc()
	top := el.Get("scrollTop").Float()
	bottom := el.Get("scrollHeight").Float() - top - el.Get("clientHeight").Float()
	atBottom := bottom < 48
	if !l.Preview && top < 48 {
		l.m.loadOlder(ctx, l.Room)
	}
	if atBottom == l.atBottom && !(atBottom && l.unseen > 0) {
		ctx.PreventUpdate()
		return
	}
	l.atBottom = atBottom
	if atBottom {
		l.unseen = 0
	}
}

func (l *MessageList) jumpToNew(ctx app.Context, e app.Event) {
	l.atBottom, l.unseen = true, 0
	scrollToBottom() // now: a Defer would be dropped with this button
}

func (l *MessageList) loadOlder(ctx app.Context, e app.Event) { l.m.loadOlder(ctx, l.Room) }

func scrollToBottom() {
	if el := app.Window().GetElementByID(listID); el.Truthy() {
		el.Set("scrollTop", el.Get("scrollHeight"))
	}
}

// Render draws the list and, over its bottom edge, the new-messages button.
func (l *MessageList) Render() app.UI {
	now := time.Now()
	l.m.bodies.use(l.Nicks) // bodymemo.go: formatted bodies, kept while the nicknames stay
	return app.Div().Class("log-wrap").Body(
		app.Div().ID(listID).Class("messages").DataSet("test", "messages").
			Attr("role", "log").Attr("aria-label", "Messages in #"+l.Room).TabIndex(l.listTab()).
			OnScroll(l.onScroll).OnKeyDown(l.onListKey).On("focusin", l.onListFocus).Body(
			app.If(l.More && !l.Preview, func() app.UI {
				label := "Load older messages"
				if l.Loading {
					label = "Loading…"
				}
				return app.Button().Class("older").DataSet("test", "load-older").OnClick(l.loadOlder).Text(label)
			}),
			app.Range(l.Rows).Slice(func(i int) app.UI { return l.renderRow(i, now) }),
			app.If(len(l.Rows) == 0 && !l.More && !l.Preview && l.Ready, l.renderEmpty), // links.go
		),
		app.If(l.unseen > 0, func() app.UI {
			label := strconv.Itoa(l.unseen) + " new messages ↓"
			if l.unseen == 1 {
				label = "1 new message ↓"
			}
			return app.Button().Class("jump").DataSet("test", "new-messages").DataSet("count", l.unseen).
				OnClick(l.jumpToNew).Text(label)
		}),
	)
}

// renderRow draws one message, preceded by a date separator when it is
// the first of its day. Consecutive messages by one author within a few
// minutes share a header: the author stays in the DOM (for screen readers
// and tests) but is hidden from sight.
func (l *MessageList) renderRow(i int, now time.Time) app.UI {
	r := l.Rows[i]
	t := time.UnixMilli(r.Msg.TS)
	newDay, grouped := i == 0, false
	if i > 0 {
		p := l.Rows[i-1]
		pt := time.UnixMilli(p.Msg.TS)
		newDay = !sameDay(pt, t)
		grouped = !newDay && p.Msg.Author.User == r.Msg.Author.User && l.nick(p.Msg.Author) == l.nick(r.Msg.Author) &&
			p.Status != "failed" && t.Sub(pt) < groupGap
	}
	cls := "msg " + r.Status + " " + userColor(r.Msg.Author.User)
	if grouped {
		cls += " cont"
	}
	if l.Me != "" && r.Msg.Author.User == l.Me {
		cls += " own"
	}
	cls += l.rowExtra(r) // unread.go: mentions of the person, a search target
	row := app.Div().Class(cls).DataSet("test", "message").
		DataSet("seq", r.Msg.Seq).DataSet("status", r.Status).DataSet("msg-id", r.Msg.MsgID).DataSet("user", attrText(r.Msg.Author.User))
	if r.Reason != "" {
		row = row.Title("%s", "Not sent: "+r.Reason)
	}
	row = row.Body(
		app.Span().Class("author").DataSet("test", "author").DataSet("user", attrText(r.Msg.Author.User)).
			Title("%s", attrText(l.nick(r.Msg.Author)+" · "+shortUser(r.Msg.Author.User))).Text(l.nick(r.Msg.Author)),
		app.Span().Class("time").DataSet("test", "time").Title("%s", fullTime(t)).Text(t.Format("15:04")),
		l.renderContent(r), // the body with its quote, image, reactions and controls (actions.go)
	)
	if l.lineBefore(i) { // unread.go
		row = app.Div().Class("line-group").Body(newMessagesLine(), row)
	}
	if !newDay {
		return row
	}
	return app.Div().Class("day-group").Body(
		app.Div().Class("day").DataSet("test", "day").Body(app.Span().Text(dayLabel(t, now))),
		row,
	)
}

// renderBody shows a body with its formatting (format.go): bold, italic,
// code, code blocks and http/https links. Every part is a text node, an
// element or an href set through the DOM: no markup in a body is ever
// parsed.
// The parts come from the page's memo (bodymemo.go), by message version.
func (l *MessageList) renderBody(m shared.Message) app.UI {
	return app.Div().Class("body").DataSet("test", "body").Attr("dir", "auto").Body(renderParts(l.m.bodies.parts(m))...)
}

// attrText makes text people chose safe for an attribute of a prerendered
// page: go-app writes attribute values there with strconv.Quote, which
// turns '"' into '\"' and so lets a '"' end the attribute (a nickname
// could add an onmouseover). In the browser attributes are set through the
// DOM and need nothing.
func attrText(s string) string {
	if app.IsClient {
		return s
	}
	return strings.ReplaceAll(s, `"`, "”")
}

// OnDismount removes the long-press listeners.
func (l *MessageList) OnDismount() {
	if l.unpress != nil {
		l.unpress()
		l.unpress = nil
	}
}

// listTab is the list's own tabindex: a Tab stop only while it has no
// message to hold the stop (the keyboard can still scroll it then).
func (l *MessageList) listTab() int {
	if len(l.Rows) > 0 {
		return -1
	}
	return 0
}
