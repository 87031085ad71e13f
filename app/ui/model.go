package ui

import (
	"context"
	"encoding/json"
	"errors"
	"sort"
	"sync"
	"time"

	"github.com/duplex-chat/duplex/app/client"
	"github.com/duplex-chat/duplex/shared"
	"github.com/maxence-charriere/go-app/v10/pkg/app"
)

// model is the browser's chat state. It lives outside the components so a
// remount or a navigation keeps it. Components never lock it: they read
// snapshots (model.snapshot) and call its methods; the client's event pump
// runs in ctx.Async and tells the page through ctx.Dispatch (a component
// that is not mounted would drop the update, go-app#516, so the page
// re-reads a fresh snapshot whenever it mounts or navigates).
type model struct {
	mu     sync.Mutex
	cl     *client.Client
	nick   string
	state  client.State
	rooms  []shared.RoomInfo // the server's room list, for browsing
	joined []string          // rooms the person joined, in the order joined
	views  map[string]*roomView
	notice string // the latest error nobody asked about
	// signinErr is why the server refused the nickname or credential: the
	// page shows the sign-in form again with it.
	signinErr string
	online    bool // has been online once (later onlines may bring a new app.wasm)

	notify func() // set by the mounted page: asks it to re-read a snapshot

	reads readsState  // unread counts: unread.go
	find  searchState // search and jump to a result: search.go
}

// roomView is what the browser holds of one room: the one copy of its
// messages (the client's own cache only seeds it) and the view state.
type roomView struct {
	msgs    []shared.Message // ascending seq; replaced, never changed in place, once shared
	ids     map[string]bool  // msg_ids in msgs
	failed  []failedSend
	members []shared.Member
	more    bool // older history may exist on the server
	loading bool
	joined  bool
	// covered are the seq ranges a messages-only page (history, the
	// prerender) spanned: their gaps are events, not losses (events.go).
	covered [][2]int64
}

type failedSend struct {
	client.Pending
	reason string
}

// joinedKey keeps the joined rooms across reloads.
const joinedKey = "duplex.joined.v1"

var theModel = &model{state: client.StateConnecting, views: make(map[string]*roomView)}

func (m *model) viewLocked(room string) *roomView {
	v := m.views[room]
	if v == nil {
		v = &roomView{ids: make(map[string]bool), more: true}
		m.views[room] = v
	}
	return v
}

// addLocked inserts messages keeping seq order and skipping known ones.
// Appends reuse the slice (a snapshot's shorter header never sees them);
// inserts copy it, so a snapshot handed out earlier never changes.
func (v *roomView) addLocked(msgs ...shared.Message) {
	for _, msg := range msgs {
		if v.ids[msg.MsgID] {
			continue
		}
		v.applyLocked(msg) // an event: kept as a hidden row, its state copied to its target
		i := sort.Search(len(v.msgs), func(i int) bool { return v.msgs[i].Seq >= msg.Seq })
		if i < len(v.msgs) && v.msgs[i].Seq == msg.Seq {
			continue
		}
		v.ids[msg.MsgID] = true
		if i == len(v.msgs) {
			v.msgs = append(v.msgs, msg)
			continue
		}
		next := make([]shared.Message, 0, len(v.msgs)+1)
		next = append(append(append(next, v.msgs[:i]...), msg), v.msgs[i:]...)
		v.msgs = next
	}
	if len(v.msgs) > 0 && v.msgs[0].Seq <= 1 {
		v.more = false
	}
}

// trimGapLocked keeps only the newest run of consecutive seqs. Rows seeded
// from an old prerender or cache may not connect to what the join
// replayed; dropping them leaves no hole in the middle of the list, and
// scrolling up pages the older history back in order.
func (v *roomView) trimGapLocked() {
	i := len(v.msgs) - 1
	for i > 0 && (v.msgs[i-1].Seq == v.msgs[i].Seq-1 || v.coveredLocked(v.msgs[i-1].Seq, v.msgs[i].Seq)) {
		i--
	}
	if i <= 0 {
		return
	}
	for _, m := range v.msgs[:i] {
		delete(v.ids, m.MsgID)
	}
	v.msgs = append([]shared.Message(nil), v.msgs[i:]...)
	v.more = v.msgs[0].Seq > 1
}

// setNotify records how to reach the mounted page; nil detaches it.
func (m *model) setNotify(f func()) {
	m.mu.Lock()
	m.notify = f
	m.mu.Unlock()
}

func (m *model) changed() {
	m.mu.Lock()
	f := m.notify
	m.mu.Unlock()
	if f != nil {
		f()
	}
}

// started reports whether a client exists (the person signed in).
func (m *model) started() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.cl != nil
}

// start creates the client once per page load and pumps its events in
// ctx.Async.
func (m *model) start(ctx app.Context, wsURL, nick string) {
	m.mu.Lock()
	if m.cl != nil {
		m.mu.Unlock()
		return
	}
	cl, err := client.New(wsURL, &client.Options{Nick: nick, Storage: newStorage()})
	if err != nil {
		m.notice = err.Error()
		m.mu.Unlock()
		return
	}
	m.cl, m.nick, m.signinErr = cl, nick, ""
	m.reads.ctx, m.reads.hasCtx = ctx, true // unread.go: opens DMs
	m.joined = loadJoined()
	joined := append([]string(nil), m.joined...)
	m.mu.Unlock()
	ctx.Async(func() { m.pump(cl) })
	for _, r := range joined {
		m.open(ctx, r)
	}
}

func (m *model) pump(cl *client.Client) {
	for ev := range cl.Events() {
		m.mu.Lock()
		switch e := ev.(type) {
		case client.StateChanged:
			if e.State == client.StateOnline {
				if m.online {
					app.TryUpdate() // a server that came back may serve a new app.wasm
				}
				m.online = true
				setTokenCookie(cl.Token())
				go m.refreshRoomsOf(cl)
			}
			var pe *shared.Error
			if e.State == client.StateOffline && errors.As(e.Err, &pe) {
				m.refusedLocked(pe)
			}
			m.state = e.State
		case client.RoomRemoved:
			m.viewLocked(e.Room).joined = false
			m.notice = "You no longer have access to #" + e.Room
			go m.refreshRoomsOf(cl)
		case client.MessageReceived:
			m.viewLocked(e.Message.Room).addLocked(e.Message)
			m.notifyLocked(e.Message) // notify.go
		case client.ReadChanged:
			m.readChangedLocked(e) // unread.go
		case client.MessageFailed:
			v := m.viewLocked(e.Pending.Room)
			v.failed = append(v.failed, failedSend{Pending: e.Pending, reason: e.Err.Message})
			m.notice = "Not sent: " + e.Err.Message
		case client.Joined:
			v := m.viewLocked(e.Ack.Room)
			v.joined = true
			v.trimGapLocked()
		case client.PresenceChanged:
			m.viewLocked(e.Room).members = e.Members
		case client.MemberJoined:
			m.viewLocked(e.Room).members = cl.Members(e.Room)
		case client.MemberLeft:
			m.viewLocked(e.Room).members = cl.Members(e.Room)
		case client.RoomsChanged:
			m.rooms = e.Rooms
			m.dmsLocked(e.Rooms) // unread.go
		case client.ErrorReceived:
			if e.Err != nil {
				m.notice = e.Err.Message
			}
		}
		m.mu.Unlock()
		m.changed()
	}
}

// refreshRooms asks the running client's server for the room list.
func (m *model) refreshRooms() {
	if cl := m.client(); cl != nil {
		m.refreshRoomsOf(cl)
	}
}

func (m *model) refreshRoomsOf(cl *client.Client) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if rooms, err := cl.Rooms(ctx); err == nil {
		m.mu.Lock()
		m.rooms = rooms
		m.mu.Unlock()
		m.changed()
	}
}

// open joins room (once), adds it to the joined rooms and shows what the
// client cached of it at once.
func (m *model) open(ctx app.Context, room string) {
	m.mu.Lock()
	cl := m.cl
	v := m.viewLocked(room)
	if cl == nil || v.joined {
		m.mu.Unlock()
		return
	}
	v.addLocked(cl.Cached(room)...)
	m.mu.Unlock()
	ctx.Async(func() {
		err := cl.Join(context.Background(), room)
		m.mu.Lock()
		switch {
		case err == nil:
			// Listed once the server let us in: a refused private room or
			// DM never shows in the sidebar.
			if !contains(m.joined, room) {
				m.joined = append(m.joined, room)
				saveJoined(m.joined)
			}
		case !errors.Is(err, client.ErrClosed):
			m.notice = "Could not join #" + room + ": " + errText(err)
		}
		m.mu.Unlock()
		m.changed()
	})
}

// send queues body for room; the error (an invalid body, a room not
// joined) is for the person, and the composer keeps the text.
func (m *model) send(room, body string) error {
	m.mu.Lock()
	cl := m.cl
	m.mu.Unlock()
	if cl == nil {
		return shared.Errorf(shared.CodeNotJoined, "not signed in")
	}
	_, err := cl.Send(room, body)
	if err == nil {
		m.changed() // show it as pending now
	}
	return err
}

// loadOlder fetches the page of history before the oldest shown message.
func (m *model) loadOlder(ctx app.Context, room string) {
	m.mu.Lock()
	v := m.viewLocked(room)
	if m.cl == nil || v.loading || !v.more || len(v.msgs) == 0 {
		m.mu.Unlock()
		return
	}
	v.loading = true
	cl, before := m.cl, v.msgs[0].Seq
	m.mu.Unlock()
	ctx.Async(func() {
		hctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		page, err := cl.History(hctx, room, before, 50)
		m.mu.Lock()
		v.loading = false
		if err == nil {
			v.addPageLocked(page, before)
		}
		m.mu.Unlock()
		m.changed()
	})
}

// retryNow ends the client's wait before reconnecting.
func (m *model) retryNow() {
	m.mu.Lock()
	cl := m.cl
	m.mu.Unlock()
	if cl != nil {
		cl.RetryNow()
	}
}

// dismiss clears the notice.
func (m *model) dismiss() {
	m.mu.Lock()
	m.notice = ""
	m.mu.Unlock()
}

// row is one message line as rendered.
type row struct {
	Msg    shared.Message
	Status string // pending, sent or failed
	Reason string
}

// snapshot is what the page renders, copied out under the model's lock.
type snapshot struct {
	Signed    bool
	Nick      string
	User      string
	State     client.State
	NextRetry time.Time
	Notice    string
	Rooms     []shared.RoomInfo
	Joined    []string
	Rows      []row
	Members   []shared.Member
	More      bool
	Loading   bool
	Refused   failedSend // the latest send the server refused in this room
	SigninErr string     // the server refused the nickname or credential
	Info      shared.RoomInfo
	// Unread counts (unread.go): per room, their total over the joined
	// rooms, and the open room's (ReadKnown once the server told it).
	Reads       map[string]client.ReadChanged
	TotalUnread int
	ReadKnown   bool
	Read        client.ReadChanged
	Search      searchSnap // search.go
}

// snapshot copies what the page shows of room.
func (m *model) snapshot(room string) snapshot {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := snapshot{
		Signed: m.cl != nil, Nick: m.nick, State: m.state, Notice: m.notice, SigninErr: m.signinErr,
		Info:  shared.RoomInfo{Name: room},
		Rooms: append([]shared.RoomInfo(nil), m.rooms...), Joined: append([]string(nil), m.joined...),
	}
	if m.cl != nil {
		s.User, s.NextRetry = m.cl.User(), m.cl.NextRetry()
	}
	for _, r := range m.rooms {
		if r.Name == room {
			s.Info = r
		}
	}
	v := m.views[room]
	if v != nil {
		s.Members, s.More, s.Loading = v.members, v.more && len(v.msgs) > 0, v.loading
		if n := len(v.failed); n > 0 {
			s.Refused = v.failed[n-1]
		}
	}
	s.Rows = m.rowsLocked(room)
	m.fillReadsLocked(&s, room)
	m.fillSearchLocked(&s, room)
	return s
}

// rowsLocked returns what the room shows: stored messages, then the
// outbox entries not yet confirmed, then the sends the server refused.
func (m *model) rowsLocked(room string) []row {
	v := m.views[room]
	var out []row
	if v != nil {
		out = make([]row, 0, len(v.msgs)+len(v.failed))
		for _, msg := range v.msgs {
			if msg.Kind == shared.KindMessage { // events are applied, not shown
				out = append(out, row{Msg: msg, Status: "sent"})
			}
		}
	}
	if m.cl != nil {
		me := shared.Member{User: m.cl.User(), Nick: m.cl.Nick()}
		for _, p := range m.cl.Outbox() {
			if p.Room != room || v != nil && v.ids[p.MsgID] {
				continue
			}
			out = append(out, row{Msg: shared.Message{Room: room, MsgID: p.MsgID, Body: p.Body, TS: p.TS, Author: me, Image: sentImage(p.Image), ReplyTo: v.quoteLocked(p.ReplyTo)}, Status: "pending"})
		}
	}
	if v != nil {
		for _, f := range v.failed {
			out = append(out, row{Msg: shared.Message{Room: room, MsgID: f.MsgID, Body: f.Body, TS: f.TS, Author: shared.Member{User: m.userLocked(), Nick: m.nick}}, Status: "failed", Reason: f.reason})
		}
	}
	return out
}

func (m *model) userLocked() string {
	if m.cl == nil {
		return ""
	}
	return m.cl.User()
}

func loadJoined() []string {
	var rooms []string
	raw := app.Window().Get("localStorage").Call("getItem", joinedKey)
	if !raw.Truthy() || json.Unmarshal([]byte(raw.String()), &rooms) != nil {
		return nil
	}
	out := rooms[:0]
	for _, r := range rooms {
		if shared.ValidRoom(r) == nil && !contains(out, r) {
			out = append(out, r)
		}
	}
	return out
}

func saveJoined(rooms []string) {
	if b, err := json.Marshal(rooms); err == nil {
		app.Window().Get("localStorage").Call("setItem", joinedKey, string(b))
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
