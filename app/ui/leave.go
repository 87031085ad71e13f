package ui

import (
	"context"
	"errors"
	"time"

	"github.com/duplex-chat/duplex/app/client"
	"github.com/duplex-chat/duplex/shared"
	"github.com/maxence-charriere/go-app/v10/pkg/app"
)

// actionNoRoom tells the page the person left their last room: it shows
// the room browser instead of a room.
const actionNoRoom = "duplex.noroom"

// leave leaves room: it leaves the joined list (kept across reloads), its
// view is dropped so that joining again starts afresh, and the client
// stops following it. It returns the joined room to show instead (the
// next in the list, else the one before), or "" when none is left. The
// room stays in the room browser, joinable again.
func (m *model) leave(ctx app.Context, room string) (next string) {
	if next, ok := m.hideDM(room); ok { // manage.go
		return next
	}
	msgs := m.messages(room)
	m.mu.Lock()
	cl := m.cl
	for i, r := range m.joined {
		if r != room {
			continue
		}
		m.joined = append(m.joined[:i:i], m.joined[i+1:]...)
		switch {
		case i < len(m.joined):
			next = m.joined[i]
		case i > 0:
			next = m.joined[i-1]
		}
		break
	}
	saveJoined(m.joined)
	m.hideLocked(room, msgs) // manage.go: a private room or DM stays hidden
	delete(m.views, room)
	m.mu.Unlock()
	m.changed()
	if cl == nil {
		return next
	}
	ctx.Async(func() {
		lctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		err := cl.Leave(lctx, room)
		if err != nil && !errors.Is(err, client.ErrClosed) {
			m.mu.Lock()
			m.notice = "Could not leave #" + room + ": " + errText(err)
			m.mu.Unlock()
		}
		m.refreshRoomsOf(cl) // member counts
	})
	return next
}

// onLeave is the leave button of a joined room in the sidebar. Leaving
// the room on screen moves to another joined room, or to the room browser
// when none is left.
func (l *RoomList) onLeave(ctx app.Context, e app.Event) {
	name := ctx.JSSrc().Get("dataset").Get("room").String()
	if name == "" || !contains(l.Joined, name) && name != l.Current {
		return
	}
	next := l.m.leave(ctx, name)
	if name != l.Current {
		// The button is gone: typing is what comes next.
		ctx.Defer(func(app.Context) { focus(composerID) })
		return
	}
	if next != "" {
		ctx.Navigate(RoomPath(next))
		return
	}
	ctx.NewAction(actionNoRoom)
}

// leaveButton is the leave control of a joined room.
func leaveButton(name string, onLeave app.EventHandler) app.UI {
	return app.Button().Class("leave").DataSet("test", "leave-room").DataSet("room", name).
		Attr("aria-label", "Leave #"+name).Title("Leave #" + name).OnClick(onLeave).
		Body(icon("close"))
}

// renderNoRoom is the page after the person left their last room: the
// sidebar, and the rooms they can join.
func (c *Chat) renderNoRoom() app.UI {
	s := c.snap
	rooms := roomsOf(s.Rooms, shared.RoomPublic)
	return app.Div().Class("layout").DataSet("drawer", c.drawer).Body(
		&RoomList{m: c.m, Joined: s.Joined, Rooms: s.Rooms},
		app.Div().Class("room no-room").Attr("role", "main").DataSet("test", "no-room").Body(
			heading(2, "room-title", "No room"),
			app.Div().Class("notfound-text").Text("You left your last room. Join one below, or join or create one by name in the sidebar."),
			app.Ul().Class("room-items browse-list").Attr("aria-label", "Rooms to join").Body(
				app.Range(rooms).Slice(func(i int) app.UI {
					r := rooms[i]
					return app.Li().Class("room-item").DataSet("test", "browse-room").DataSet("room", r.Name).Body(
						roomLink(r.Name, roomLabel(r), false),
						memberCount(r.Members),
					)
				}),
			),
		),
		app.Div().Class("scrim").DataSet("test", "scrim").OnClick(c.closeDrawer),
	)
}

// focusFirst focuses the first element that matches a CSS selector.
func focusFirst(selector string) {
	if el := app.Window().Get("document").Call("querySelector", selector); el.Truthy() {
		el.Call("focus")
	}
}
