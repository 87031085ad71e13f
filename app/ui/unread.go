package ui

import (
	"strconv"

	"github.com/duplex-chat/duplex/app/client"
	"github.com/duplex-chat/duplex/shared"
	"github.com/maxence-charriere/go-app/v10/pkg/app"
)

// Unread counts and the read marker in the browser. The client keeps the
// counts (from the server's answers and live messages); the model copies
// them into each snapshot; the page shows them as sidebar badges and in
// the title, draws a "new messages" line where the person stopped
// reading, and marks the room read when the person actually sees its
// bottom: the tab visible and focused, the list scrolled to the end.

// readsState is the model's copy of the client's read bookkeeping.
type readsState struct {
	rooms map[string]client.ReadChanged
	// ctx opens the direct conversations the room list shows (dmsLocked);
	// dms are those opened so, once per page load (one the person leaves
	// stays left).
	ctx    app.Context
	hasCtx bool
	dms    map[string]bool
}

// dmsLocked joins the direct conversations of the room list that this
// page has not opened yet: a DM is written to the person, so its messages
// must arrive live (unread badge, notification) before they open it.
func (m *model) dmsLocked(rooms []shared.RoomInfo) {
	if !m.reads.hasCtx {
		return
	}
	if m.reads.dms == nil {
		m.reads.dms = make(map[string]bool)
	}
	var open []string
	for _, r := range rooms {
		if r.Kind == shared.RoomDM && !m.reads.dms[r.Name] && !contains(m.joined, r.Name) {
			m.reads.dms[r.Name] = true
			open = append(open, r.Name)
		}
	}
	if len(open) == 0 {
		return
	}
	ctx := m.reads.ctx
	go func() { // after the caller releases m.mu
		for _, r := range open {
			m.open(ctx, r)
		}
	}()
}

// readChangedLocked records a ReadChanged event.
func (m *model) readChangedLocked(e client.ReadChanged) {
	if m.reads.rooms == nil {
		m.reads.rooms = make(map[string]client.ReadChanged)
	}
	m.reads.rooms[e.Room] = e
}

// fillReadsLocked puts the read state into a snapshot: every room's
// counts, the total unread of the joined rooms, and the open room's marker.
func (m *model) fillReadsLocked(s *snapshot, room string) {
	s.Reads = make(map[string]client.ReadChanged, len(m.reads.rooms))
	for name, rc := range m.reads.rooms {
		s.Reads[name] = rc
		if contains(m.joined, name) || name == room {
			s.TotalUnread += rc.Unread
		}
	}
	rc, ok := m.reads.rooms[room]
	s.ReadKnown, s.Read = ok, rc
}

// markRead tells the client the person has seen room up to seq.
func (m *model) markRead(room string, seq int64) {
	if cl := m.client(); cl != nil && seq > 0 {
		cl.MarkRead(room, seq)
	}
}

// titleWithUnread prefixes a page title with the total unread count.
func titleWithUnread(total int, title string) string {
	if total <= 0 {
		return title
	}
	return "(" + countText(total) + ") " + title
}

func countText(n int) string {
	if n > 9999 {
		return "9999+"
	}
	return strconv.Itoa(n)
}

// unreadBadges are a room's unread count and, apart, how many of those
// mention the person: a filled pill (the member count is a dot and a
// plain number) and an "@" pill.
func unreadBadges(rc client.ReadChanged) app.UI {
	if rc.Unread <= 0 {
		return nil
	}
	label := countText(rc.Unread) + " unread"
	mentions := ""
	if rc.Mentioned > 0 {
		mentions = ", " + countText(rc.Mentioned) + " mentioning you"
	}
	return app.Span().Class("badges").Title("%s", label+mentions).Body(
		app.If(rc.Mentioned > 0, func() app.UI {
			return app.Span().Class("badge mention-badge").DataSet("test", "unread-mentions").DataSet("count", rc.Mentioned).
				Attr("aria-hidden", "true").Text("@" + countText(rc.Mentioned))
		}),
		app.Span().Class("badge unread").DataSet("test", "unread").DataSet("count", rc.Unread).
			Attr("aria-hidden", "true").Text(countText(rc.Unread)),
		app.Span().Class("sr-only").Text(label+mentions),
	)
}

// readWatch is the page's part in marking rooms read: the listeners that
// notice the person scrolling to the bottom, coming back to the tab, or
// focusing the window, and the "new messages" line of the open room.
type readWatch struct {
	listeners []readListener
	room      string // the room the line belongs to
	line      int64  // show the line before the first message from this seq on; 0: none
	lineSet   bool   // the line was placed for this visit of room
}

type readListener struct {
	target app.Value
	event  string
	fn     app.Func
}

// listenRead installs the listeners (on mount).
func (c *Chat) listenRead(ctx app.Context) {
	check := app.FuncOf(func(app.Value, []app.Value) any {
		ctx.Dispatch(func(ctx app.Context) { c.checkRead(ctx) })
		return nil
	})
	doc := app.Window().Get("document")
	for _, l := range []readListener{
		{doc, "scroll", check}, // capture: scrolls of the message list do not bubble
		{doc, "visibilitychange", check},
		{app.Window(), "focus", check},
	} {
		l.target.Call("addEventListener", l.event, l.fn, true)
		c.reads.listeners = append(c.reads.listeners, l)
	}
}

// stopRead removes the listeners (on dismount).
func (c *Chat) stopRead() {
	for i, l := range c.reads.listeners {
		l.target.Call("removeEventListener", l.event, l.fn, true)
		if i == 0 {
			l.fn.Release() // one function serves every listener
		}
	}
	c.reads.listeners = nil
}

// placeLine puts the "new messages" line of the open room where the
// person stopped reading, once per visit, when the marker is first known.
func (c *Chat) placeLine() {
	if c.reads.room != c.room {
		c.reads.room, c.reads.line, c.reads.lineSet = c.room, 0, false
	}
	if c.reads.lineSet || !c.snap.ReadKnown {
		return
	}
	c.reads.lineSet = true
	if c.snap.Read.Unread > 0 {
		c.reads.line = c.snap.Read.Seq + 1 // the first seq that can be unread
	}
}

// checkRead marks the open room read up to its newest message when the
// person can see it: the page visible and focused, the list at its end.
func (c *Chat) checkRead(ctx app.Context) {
	if c.room == "" || !c.signedIn() || len(c.snap.Rows) == 0 {
		return
	}
	doc := app.Window().Get("document")
	if doc.Get("visibilityState").String() != "visible" || !doc.Call("hasFocus").Bool() {
		return
	}
	el := app.Window().GetElementByID(listID)
	if !el.Truthy() || el.Get("scrollHeight").Float()-el.Get("scrollTop").Float()-el.Get("clientHeight").Float() > 48 {
		return
	}
	var last int64
	for _, r := range c.snap.Rows {
		if r.Status == "sent" && r.Msg.Room == c.room {
			last = max(last, r.Msg.Seq)
		}
	}
	if last > c.snap.Read.Seq || c.snap.Read.Unread > 0 {
		c.m.markRead(c.room, last)
	}
}

// lineBefore reports whether the "new messages" line goes before row i:
// the first stored message after the marker the line was placed at.
func (l *MessageList) lineBefore(i int) bool {
	if l.Line <= 0 || l.Preview {
		return false
	}
	r := l.Rows[i]
	if r.Status != "sent" || r.Msg.Seq < l.Line {
		return false
	}
	for j := i - 1; j >= 0; j-- {
		if p := l.Rows[j]; p.Status == "sent" {
			return p.Msg.Seq < l.Line
		}
	}
	return true
}

func newMessagesLine() app.UI {
	return app.Div().Class("unread-line").DataSet("test", "new-messages-line").Attr("role", "separator").
		Attr("aria-label", "New messages").Body(app.Span().Text("New messages"))
}

// rowExtra is the extra classes of a row: a message mentioning the
// person, and the search result jumped to.
func (l *MessageList) rowExtra(r row) string {
	cls := ""
	if l.Me != "" && r.Msg.Author.User != l.Me {
		for _, u := range r.Msg.Mentions {
			if u == l.Me {
				cls += " mentions-me"
				break
			}
		}
	}
	if l.Target > 0 && r.Msg.Seq == l.Target && r.Status == "sent" {
		cls += " target"
	}
	return cls
}

// lineAt is where the open room's "new messages" line goes (0: none).
func (c *Chat) lineAt() int64 {
	if c.reads.room != c.room {
		return 0
	}
	return c.reads.line
}
