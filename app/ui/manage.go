package ui

import (
	"encoding/json"
	"errors"

	"github.com/duplex-chat/duplex/shared"
	"github.com/maxence-charriere/go-app/v10/pkg/app"
)

// Rooms one can manage (issue #17): a room the person may not read gets a
// page that says so (nothing in the sidebar, no composer); every kind of
// room can be left (a private room or a DM stays hidden until a message
// newer than the one it was left at); an invite is confirmed to the
// inviter and shows the invitee a notice and a "new" badge.

// hiddenKey keeps the private rooms and DMs left, with their newest seq
// at the time, across reloads.
const hiddenKey = "duplex.hidden.v1"

// manageState is the model's part in managing rooms.
type manageState struct {
	hidden  map[string]int64 // room → its head when left
	known   map[string]bool  // private rooms seen in a room list
	listed  bool             // a room list arrived: later new private rooms are invites
	invited map[string]bool  // rooms the person was invited to and has not opened
	confirm string           // a confirmation to show (not an error)
}

// loadHiddenLocked reads the rooms left from localStorage (once).
func (m *model) loadHiddenLocked() {
	if m.manage.hidden != nil {
		return
	}
	m.manage.hidden = make(map[string]int64)
	raw := app.Window().Get("localStorage").Call("getItem", hiddenKey)
	if raw.Truthy() {
		json.Unmarshal([]byte(raw.String()), &m.manage.hidden)
	}
}

func (m *model) saveHiddenLocked() {
	if b, err := json.Marshal(m.manage.hidden); err == nil {
		app.Window().Get("localStorage").Call("setItem", hiddenKey, string(b))
	}
}

// hideLocked hides a private room or DM that the person left; msgs are
// the room's messages (model.messages).
func (m *model) hideLocked(room string, msgs []shared.Message) {
	for _, r := range m.rooms {
		if r.Name == room && r.Kind.OrPublic() != shared.RoomPublic {
			head := r.Head // the list may be older than the messages held
			if len(msgs) > 0 {
				head = max(head, msgs[len(msgs)-1].Seq)
			}
			m.loadHiddenLocked()
			m.manage.hidden[room] = head
			m.saveHiddenLocked()
		}
	}
}

// hiddenLocked reports whether r was left and has no newer message.
func (m *model) hiddenLocked(r shared.RoomInfo) bool {
	m.loadHiddenLocked()
	head, ok := m.manage.hidden[r.Name]
	return ok && r.Head <= head
}

// roomsSeenLocked follows a new room list: rooms left that have a newer
// message come back (a DM is then opened again), and a private room that
// was not in the previous list is an invitation.
func (m *model) roomsSeenLocked(rooms []shared.RoomInfo) {
	m.loadHiddenLocked()
	if m.manage.known == nil {
		m.manage.known, m.manage.invited = make(map[string]bool), make(map[string]bool)
	}
	changed := false
	for _, r := range rooms {
		if head, ok := m.manage.hidden[r.Name]; ok && r.Head > head {
			delete(m.manage.hidden, r.Name)
			changed = true
			if m.reads.dms != nil {
				m.reads.dms[r.Name] = false // dmsLocked opens it again
			}
		}
		if r.Kind.OrPublic() != shared.RoomPrivate || m.manage.known[r.Name] {
			continue
		}
		m.manage.known[r.Name] = true
		if m.manage.listed && r.Owner != m.userLocked() && !contains(m.joined, r.Name) {
			m.manage.invited[r.Name] = true
			m.manage.confirm = "You were invited to #" + r.Name
			if m.reads.dms == nil {
				m.reads.dms = make(map[string]bool)
			}
			m.reads.dms[r.Name] = false
			m.openSoonLocked(r.Name) // its messages arrive live, with unread counts
		}
	}
	m.manage.listed = true
	if changed {
		m.saveHiddenLocked()
	}
}

// openSoonLocked joins room once the caller released m.mu.
func (m *model) openSoonLocked(room string) {
	if !m.reads.hasCtx {
		return
	}
	ctx := m.reads.ctx
	go m.open(ctx, room)
}

// visibleRooms drops the rooms left (but the one on screen) from a list.
func (m *model) visibleRoomsLocked(rooms []shared.RoomInfo, current string) []shared.RoomInfo {
	out := make([]shared.RoomInfo, 0, len(rooms))
	for _, r := range rooms {
		if r.Name == current || !m.hiddenLocked(r) {
			out = append(out, r)
		}
	}
	return out
}

// seen forgets the invitation of a room the person opened.
func (m *model) seen(room string) {
	m.mu.Lock()
	delete(m.manage.invited, room)
	m.mu.Unlock()
}

// confirmed shows a confirmation in the toast slot.
func (m *model) confirmed(text string) {
	m.mu.Lock()
	m.manage.confirm = text
	m.mu.Unlock()
	m.changed()
}

// deniedReason is why the server refused to let the person read a room,
// or "" for any other error.
func deniedReason(err error) (string, bool) {
	var pe *shared.Error
	if errors.As(err, &pe) && pe.Code == shared.CodeForbidden {
		return pe.Message, true
	}
	return "", false
}

// renderDenied is the page of a private room or DM the person may not
// read: no messages, no composer, nothing added to the sidebar.
func (c *Chat) renderDenied() app.UI {
	s := c.snap
	title, text := "Private room", "#"+c.room+" is a private room: ask a member to invite you."
	if shared.IsDMRoom(c.room) {
		title, text = "Direct conversation", "This is a direct conversation between two other people."
	}
	return app.Div().Class("layout").DataSet("drawer", c.drawer).Body(
		&RoomList{m: c.m, Joined: s.Joined, Rooms: s.Rooms, Unread: s.Reads, Invited: s.Invited},
		app.Div().Class("room no-room").Attr("role", "main").DataSet("test", "no-access").Body(
			heading(2, "room-title", title),
			app.Div().Class("notfound-text").Text(text),
			app.Div().Class("notfound-text muted").Text("The server said: "+s.Denied),
			app.A().Class("back").Href("/").DataSet("test", "back").Text("Go to #"+DefaultRoom),
		),
		app.Div().Class("scrim").DataSet("test", "scrim").OnClick(c.closeDrawer),
	)
}

// leaveLabel names a room for its leave button.
func leaveLabel(r shared.RoomInfo) string { return "Leave " + roomLabel(r) }

// hideDM leaves a direct conversation the way a person expects: it leaves
// the sidebar (across reloads) but stays subscribed, so the next message
// brings it back with its unread badge. It returns the joined room to
// show instead, and false for a room that is not a DM.
func (m *model) hideDM(room string) (next string, ok bool) {
	msgs := m.messages(room)
	m.mu.Lock()
	defer m.mu.Unlock()
	dm := shared.IsDMRoom(room)
	for _, r := range m.rooms {
		if r.Name == room {
			dm = r.Kind.OrPublic() == shared.RoomDM
		}
	}
	if !dm {
		return "", false
	}
	m.hideLocked(room, msgs)
	for _, r := range m.joined {
		if r != room && !shared.IsDMRoom(r) {
			next = r
		}
	}
	go m.changed()
	return next, true
}

// unhideLocked brings back a room left when a newer message arrives.
func (m *model) unhideLocked(msg shared.Message) {
	m.loadHiddenLocked()
	if head, ok := m.manage.hidden[msg.Room]; ok && msg.Seq > head && msg.Kind == shared.KindMessage {
		delete(m.manage.hidden, msg.Room)
		m.saveHiddenLocked()
	}
}
