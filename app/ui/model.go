package ui

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"time"

	"github.com/duplex-chat/duplex/app/client"
	"github.com/duplex-chat/duplex/shared"
	"github.com/maxence-charriere/go-app/v10/pkg/app"
)

// model is the browser's chat state, one per page load (routes.go makes
// it; Chat passes it down). It lives outside the components so a remount
// or a navigation keeps it. Components never lock it: they read snapshots
// (model.snapshot) and call its methods; the client hands it its events
// (model.event, on the client's goroutine) and it tells the page through
// ctx.Dispatch (a component
// that is not mounted would drop the update, go-app#516, so the page
// re-reads a fresh snapshot whenever it mounts or navigates).
type model struct {
	mu     sync.Mutex
	cl     *client.Client
	nick   string
	me     shared.Member // the person as the client last said (user id, nickname), read outside the model's lock
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

	reads  readsState  // unread counts: unread.go
	find   searchState // search and jump to a result: search.go
	net    netState    // the browser's network, undelivered sends: delivery.go
	manage manageState // rooms left, invitations, confirmations: manage.go

	// seed holds the messages the server prerendered from the moment the
	// wasm starts until the client exists: then they move into the client
	// (client.Seed), which owns the room's messages from there on. Before
	// the person signs in there is no client, and the page shows these.
	seed *prerendered
	// sentImages are the images this tab sent, by id (images.go).
	sentImages map[string]shared.Image

	viewState // UI goroutine only: viewstate.go
}

// roomView is the view state of one room. It holds no messages: the
// client owns the one copy of a room's messages (client.Messages), and
// the model reads it when it makes a snapshot (issue #9).
type roomView struct {
	failed  []failedSend
	members []shared.Member
	typing  []shared.Member      // who else types here now
	sent    map[string]time.Time // when each typist's last message arrived: typing.go
	more    bool                 // older history may exist on the server
	loading bool
	joined  bool
	denied  string // the server refused this room (forbidden): manage.go
}

type failedSend struct {
	client.Pending
	reason string
}

// joinedKey keeps the joined rooms across reloads.
const joinedKey = "duplex.joined.v1"

// backoffKey, when localStorage holds a duration under it (e.g. "10m"),
// fixes the reconnect backoff: tests use it to tell a reconnect caused by
// the browser's online event from one the backoff timer made.
const backoffKey = "duplex.backoff"

func storedBackoff() time.Duration {
	v := app.Window().Get("localStorage").Call("getItem", backoffKey)
	if !v.Truthy() {
		return 0
	}
	d, _ := time.ParseDuration(v.String())
	return d
}

func (m *model) viewLocked(room string) *roomView {
	v := m.views[room]
	if v == nil {
		v = &roomView{more: true}
		m.views[room] = v
	}
	return v
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

// start creates the client once per page load. The client hands its
// events to the model on its own goroutine (client.Options.OnEvent, as it
// emits them: no event pump, no channel in between); the model takes them
// once it has recorded the client.
func (m *model) start(ctx app.Context, wsURL, nick string) {
	if m.started() {
		return
	}
	var cl *client.Client
	ready := make(chan struct{})
	opts := &client.Options{Nick: nick, Storage: newStorage(), OnEvent: func(ev client.Event) {
		<-ready // cl is set and recorded (closed below, or on failure)
		m.event(cl, ev)
	}}
	if d := storedBackoff(); d > 0 {
		opts.MinBackoff, opts.MaxBackoff = d, d
	}
	cl, err := client.New(wsURL, opts) // not under the model's lock: the client takes its own
	m.mu.Lock()
	if err != nil {
		m.notice = err.Error()
		m.mu.Unlock()
		return
	}
	if m.cl != nil { // started meanwhile (start runs on the UI goroutine: never)
		m.mu.Unlock()
		close(ready) // its events find another client recorded and are dropped
		cl.Close()
		return
	}
	m.cl, m.nick, m.signinErr = cl, nick, ""
	m.reads.ctx, m.reads.hasCtx = ctx, true // unread.go: opens DMs
	seed := m.seed
	m.seed = nil
	m.joined = loadJoined()
	joined := append([]string(nil), m.joined...)
	m.mu.Unlock()
	close(ready)
	if seed != nil { // the page's prerendered messages move into the client
		cl.Seed(seed.Room, seed.Messages)
	}
	m.watchNet(cl) // delivery.go
	for _, r := range joined {
		m.open(ctx, r)
	}
}

// event takes one event of cl, on the client's goroutine (or the
// goroutine of the client call that caused it), never with the client's
// lock held: it updates the model and asks the page to re-read. It must
// not wait on the client (client.Options.OnEvent).
func (m *model) event(cl *client.Client, ev client.Event) {
	// What the event needs from the client is read first: the
	// client's lock is never taken inside the model's.
	me := shared.Member{User: cl.User(), Nick: cl.Nick()}
	var members []shared.Member
	var token string
	switch e := ev.(type) {
	case client.MemberJoined:
		members = cl.Members(e.Room)
	case client.MemberLeft:
		members = cl.Members(e.Room)
	case client.StateChanged:
		if e.State == client.StateOnline {
			token = cl.Token()
		}
	}
	m.mu.Lock()
	if m.cl != cl { // signed out: nothing of that person may show again
		m.mu.Unlock()
		return
	}
	m.me = me
	switch e := ev.(type) {
	case client.StateChanged:
		if e.State == client.StateOnline {
			if m.online {
				app.TryUpdate() // a server that came back may serve a new app.wasm
			}
			m.online = true
			setTokenCookie(token)
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
		m.notifyLocked(e.Message) // notify.go
		m.unhideLocked(e.Message) // manage.go: a DM left comes back
		m.sentLocked(e.Message)   // typing.go: the typist's message ends their typing
	case client.ReadChanged:
		m.readChangedLocked(e) // unread.go
	case client.TypingChanged:
		m.viewLocked(e.Room).typing = e.Users
	case client.MessageFailed:
		m.failedLocked(e) // events.go
	case client.Joined:
		m.viewLocked(e.Ack.Room).joined = true
	case client.PresenceChanged:
		m.viewLocked(e.Room).members = e.Members
	case client.MemberJoined:
		m.viewLocked(e.Room).members = members
	case client.MemberLeft:
		m.viewLocked(e.Room).members = members
	case client.RoomsChanged:
		m.rooms = e.Rooms
		m.roomsSeenLocked(e.Rooms) // manage.go
		m.dmsLocked(e.Rooms)       // unread.go
	case client.SignedOut:
		m.signedOutLocked() // identity.go
	case client.NickChanged:
		m.nickChangedLocked(e.Nick) // identity.go
	case client.ErrorReceived:
		if e.Err != nil {
			m.notice = e.Err.Message
		}
	}
	m.mu.Unlock()
	m.changed()
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
		if m.cl == cl { // not signed out meanwhile
			m.rooms = rooms
			m.roomsSeenLocked(rooms) // manage.go
			m.dmsLocked(rooms)
		}
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
	m.mu.Unlock()
	ctx.Async(func() {
		err := cl.Join(context.Background(), room)
		m.mu.Lock()
		reason, denied := deniedReason(err)
		switch {
		case m.cl != cl: // signed out meanwhile: remember nothing of it
		case denied:
			m.viewLocked(room).denied = reason // manage.go: a page says so
		case err == nil:
			m.viewLocked(room).denied = ""
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

// typing tells the client whether the person is typing in room (the
// composer holds text) or stopped (it was emptied).
func (m *model) typing(room string, active bool) {
	m.mu.Lock()
	cl := m.cl
	m.mu.Unlock()
	switch {
	case cl == nil:
	case active:
		cl.Typing(room)
	default:
		cl.StopTyping(room)
	}
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
	cl := m.client()
	if cl == nil {
		return
	}
	held := cl.Messages(room)
	m.mu.Lock()
	v := m.viewLocked(room)
	if m.cl != cl || v.loading || !v.more || len(held) == 0 {
		m.mu.Unlock()
		return
	}
	v.loading = true
	before := held[0].Seq
	m.mu.Unlock()
	ctx.Async(func() { m.fetchPage(cl, v, room, before, 50) })
}

// fetchPage loads the page of room's history before seq into the client
// (which merges it into Messages), ends v's loading and records whether
// older pages exist. The caller set v.loading.
func (m *model) fetchPage(cl *client.Client, v *roomView, room string, before int64, limit int) error {
	hctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	page, err := cl.History(hctx, room, before, limit)
	m.mu.Lock()
	v.loading = false
	if err == nil {
		v.more = page.More
	}
	m.mu.Unlock()
	m.changed()
	return err
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
	m.notice, m.manage.confirm = "", ""
	m.mu.Unlock()
}

// row is one message line as rendered. Msg points into the client's
// snapshot of the room (client.Messages, never changed once handed out),
// so rows copy no message.
type row struct {
	Msg    *shared.Message
	Status string // pending, sent or failed
	Reason string
	Late   bool // pending too long: not delivered (delivery.go)
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
	Typing    []shared.Member // who else types in the room now
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
	Search      searchSnap        // search.go
	Denied      string            // the server refused the room: manage.go
	Invited     map[string]bool   // rooms invited to and not opened yet
	Confirm     string            // a confirmation for the toast slot
	Names       map[string]string // current nicknames by user id: dense.go
}

// clientView is what a snapshot reads from the client, read before the
// model's lock is taken: the client's lock is never taken inside the
// model's (lock order: server/ARCHITECTURE.md). Messages and Outbox are
// the client's immutable snapshots.
type clientView struct {
	cl        *client.Client
	me        shared.Member
	nextRetry time.Time
	msgs      []shared.Message // the room's
	outbox    []client.Pending
}

// readClient reads what a snapshot of room needs from the running client.
func (m *model) readClient(room string) clientView {
	cl := m.client()
	if cl == nil {
		return clientView{}
	}
	return clientView{cl: cl, me: shared.Member{User: cl.User(), Nick: cl.Nick()}, nextRetry: cl.NextRetry(),
		msgs: cl.Messages(room), outbox: cl.Outbox()}
}

// snapshot copies what the page shows of room.
func (m *model) snapshot(room string) snapshot {
	cv := m.readClient(room)
	m.mu.Lock()
	defer m.mu.Unlock()
	if cv.cl != m.cl {
		// Signed in or out meanwhile: this snapshot shows no client's
		// data, and the change already asked for the next one.
		cv = clientView{}
	} else if cv.cl != nil {
		m.me = cv.me
	}
	s := snapshot{
		Signed: m.cl != nil, Nick: m.nick, State: m.shownStateLocked(), Notice: m.notice, SigninErr: m.signinErr,
		Info:  shared.RoomInfo{Name: room},
		Rooms: m.visibleRoomsLocked(m.rooms, room), Joined: append([]string(nil), m.joined...),
		Confirm: m.manage.confirm,
	}
	s.Invited = make(map[string]bool, len(m.manage.invited))
	for r := range m.manage.invited {
		s.Invited[r] = true
	}
	s.User, s.NextRetry = cv.me.User, cv.nextRetry
	for _, r := range m.rooms {
		if r.Name == room {
			s.Info = r
		}
	}
	msgs := m.messagesLocked(room, cv)
	v := m.views[room]
	if v != nil {
		s.Members, s.Typing, s.Loading, s.Denied = v.members, m.typistsLocked(room, v.typing), v.loading, v.denied // typing.go
		s.More = v.more && len(msgs) > 0 && msgs[0].Seq > 1
		if n := len(v.failed); n > 0 {
			s.Refused = v.failed[n-1]
		}
	}
	s.Rows = m.rowsLocked(room, msgs, cv)
	s.Names = m.namesLocked()
	m.fillReadsLocked(&s, room)
	m.fillSearchLocked(&s, room)
	return s
}

// messages is the room's messages (messagesLocked), read with no model
// lock held while the person is signed in.
func (m *model) messages(room string) []shared.Message {
	if cl := m.client(); cl != nil {
		return cl.Messages(room)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.messagesLocked(room, clientView{})
}

// messagesLocked is the room's messages: the client's snapshot (cv), or
// before the person signed in, the prerendered ones the page brought.
func (m *model) messagesLocked(room string, cv clientView) []shared.Message {
	if cv.cl != nil {
		return cv.msgs
	}
	if seed := m.seed; seed != nil && seed.Room == room {
		return seed.Messages
	}
	return nil
}

// rowsLocked returns what the room shows: its messages, then the outbox
// entries not yet confirmed, then the sends the server refused.
func (m *model) rowsLocked(room string, msgs []shared.Message, cv clientView) []row {
	v := m.views[room]
	outbox := cv.outbox
	if cv.cl != nil {
		// Edits, deletions and reactions still in the outbox show at once.
		msgs = client.PendingApplied(msgs, outbox, room, cv.me.User)
	}
	out := make([]row, 0, len(msgs)+1)
	for i := range msgs {
		if msgs[i].Kind == shared.KindMessage {
			out = append(out, row{Msg: &msgs[i], Status: "sent"})
		}
	}
	if cv.cl != nil {
		// A pending send whose echo arrived (its ack not yet) is shown
		// once, as sent: echoes land at the end of the list. The set of
		// echoes is made only when the room has a pending send (most
		// snapshots have none: they skip it).
		var echoed map[string]bool
		me := cv.me
		for _, p := range outbox {
			if p.Room != room || p.Kind != shared.KindMessage {
				continue
			}
			if echoed == nil {
				echoed = make(map[string]bool)
				for i := max(len(msgs)-500, 0); i < len(msgs); i++ {
					echoed[msgs[i].MsgID] = true
				}
			}
			if echoed[p.MsgID] {
				continue
			}
			out = append(out, row{Msg: &shared.Message{Room: room, MsgID: p.MsgID, Body: p.Body, TS: p.TS, Author: me, Image: m.sentImageLocked(p.Image), ReplyTo: quoteIn(msgs, p.ReplyTo)}, Status: "pending", Late: m.net.late[p.MsgID]})
		}
	}
	if v != nil {
		for _, f := range v.failed {
			out = append(out, row{Msg: &shared.Message{Room: room, MsgID: f.MsgID, Body: f.Body, TS: f.TS, Author: shared.Member{User: m.userLocked(), Nick: m.nick}}, Status: "failed", Reason: f.reason})
		}
	}
	return out
}

// userLocked is the person's user id as the client last said (m.me).
func (m *model) userLocked() string {
	if m.cl == nil {
		return ""
	}
	return m.me.User
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
