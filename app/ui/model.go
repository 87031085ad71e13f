package ui

import (
	"context"
	"errors"
	"sort"
	"sync"
	"time"

	"github.com/duplex-chat/duplex/app/client"
	"github.com/duplex-chat/duplex/shared"
	"github.com/maxence-charriere/go-app/v10/pkg/app"
)

// model is the browser's chat state. It lives outside the components so a
// remount or a navigation keeps it, and the client's event pump writes it
// under a mutex instead of through a component that may be unmounted
// (go-app#516); the pump then asks the mounted component to re-render.
type model struct {
	mu     sync.Mutex
	cl     *client.Client
	nick   string
	state  client.State
	rooms  []shared.RoomInfo
	views  map[string]*roomView
	notice string
	// signinErr is why the server refused the nickname or credential: the
	// page shows the sign-in form again with it.
	signinErr string

	ctx     app.Context // the mounted Chat's context, for re-render requests
	mounted bool
}

// roomView is what the UI shows of one room.
type roomView struct {
	msgs    []shared.Message // confirmed, ascending seq
	ids     map[string]bool  // msg_ids in msgs
	failed  []failedSend
	members []shared.Member
	more    bool // older history may exist on the server
	loading bool
	joined  bool
}

type failedSend struct {
	client.Pending
	reason string
}

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
func (v *roomView) addLocked(msgs ...shared.Message) {
	for _, msg := range msgs {
		if v.ids[msg.MsgID] {
			continue
		}
		v.ids[msg.MsgID] = true
		i := sort.Search(len(v.msgs), func(i int) bool { return v.msgs[i].Seq >= msg.Seq })
		if i < len(v.msgs) && v.msgs[i].Seq == msg.Seq {
			continue
		}
		v.msgs = append(v.msgs, shared.Message{})
		copy(v.msgs[i+1:], v.msgs[i:])
		v.msgs[i] = msg
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
	for i > 0 && v.msgs[i-1].Seq == v.msgs[i].Seq-1 {
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

// attach records the mounted component that re-renders on changes.
func (m *model) attach(ctx app.Context) {
	m.mu.Lock()
	m.ctx, m.mounted = ctx, true
	m.mu.Unlock()
}

func (m *model) detach() {
	m.mu.Lock()
	m.mounted = false
	m.mu.Unlock()
}

// changed asks the mounted component to re-render, then runs after (if
// not nil) once the DOM is updated.
func (m *model) changed(after func(app.Context)) {
	m.mu.Lock()
	ctx, ok := m.ctx, m.mounted
	m.mu.Unlock()
	if !ok {
		return
	}
	ctx.Dispatch(func(ctx app.Context) {
		if after != nil {
			ctx.Defer(after)
		}
	})
}

// start creates the client once per page load and pumps its events.
func (m *model) start(wsURL, nick string) {
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
	m.mu.Unlock()
	go m.pump(cl)
}

func (m *model) pump(cl *client.Client) {
	for ev := range cl.Events() {
		var after func(app.Context)
		m.mu.Lock()
		switch e := ev.(type) {
		case client.StateChanged:
			m.state = e.State
			if e.State == client.StateOnline {
				setTokenCookie(cl.Token())
				go m.refreshRooms()
			}
			var pe *shared.Error
			if e.State == client.StateOffline && errors.As(e.Err, &pe) {
				m.refusedLocked(pe)
			}
		case client.RoomRemoved:
			m.viewLocked(e.Room).joined = false
			m.notice = "You no longer have access to #" + e.Room
			go m.refreshRooms()
		case client.MessageReceived:
			m.viewLocked(e.Message.Room).addLocked(e.Message)
			after = scrollToBottom
		case client.MessageFailed:
			v := m.viewLocked(e.Pending.Room)
			v.failed = append(v.failed, failedSend{Pending: e.Pending, reason: e.Err.Message})
		case client.Joined:
			v := m.viewLocked(e.Ack.Room)
			v.joined = true
			v.trimGapLocked()
			after = scrollToBottom
		case client.PresenceChanged:
			m.viewLocked(e.Room).members = e.Members
		case client.MemberJoined:
			m.viewLocked(e.Room).members = cl.Members(e.Room)
		case client.MemberLeft:
			m.viewLocked(e.Room).members = cl.Members(e.Room)
		case client.RoomsChanged:
			m.rooms = e.Rooms
		case client.ErrorReceived:
			if e.Err != nil {
				m.notice = e.Err.Message
			}
		}
		m.mu.Unlock()
		m.changed(after)
	}
}

func (m *model) refreshRooms() {
	m.mu.Lock()
	cl := m.cl
	m.mu.Unlock()
	if cl == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if rooms, err := cl.Rooms(ctx); err == nil {
		m.mu.Lock()
		m.rooms = rooms
		m.mu.Unlock()
		m.changed(nil)
	}
}

// open joins room (once) and shows what the client cached of it at once.
func (m *model) open(room string) {
	m.mu.Lock()
	cl := m.cl
	v := m.viewLocked(room)
	if cl == nil || v.joined {
		m.mu.Unlock()
		return
	}
	v.addLocked(cl.Cached(room)...)
	m.mu.Unlock()
	go func() {
		if err := cl.Join(context.Background(), room); err != nil && !errors.Is(err, client.ErrClosed) {
			m.mu.Lock()
			m.notice = err.Error()
			m.mu.Unlock()
			m.changed(nil)
		}
	}()
}

// loadOlder fetches the page of history before the oldest shown message.
func (m *model) loadOlder(room string) {
	m.mu.Lock()
	v := m.viewLocked(room)
	if m.cl == nil || v.loading || !v.more || len(v.msgs) == 0 {
		m.mu.Unlock()
		return
	}
	v.loading = true
	cl, before := m.cl, v.msgs[0].Seq
	m.mu.Unlock()
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		page, err := cl.History(ctx, room, before, 50)
		m.mu.Lock()
		v.loading = false
		if err == nil {
			v.addLocked(page.Messages...)
			v.more = page.More
		}
		m.mu.Unlock()
		m.changed(keepScroll)
	}()
}

// row is one message line as rendered.
type row struct {
	msg    shared.Message
	status string // pending, sent or failed
	reason string
}

// rows returns what the room shows: stored messages, then the outbox
// entries not yet confirmed, then the sends the server refused.
func (m *model) rows(room string) []row {
	m.mu.Lock()
	defer m.mu.Unlock()
	v := m.views[room]
	var out []row
	if v != nil {
		out = make([]row, 0, len(v.msgs)+len(v.failed))
		for _, msg := range v.msgs {
			out = append(out, row{msg: msg, status: "sent"})
		}
	}
	if m.cl != nil {
		me := shared.Member{User: m.cl.User(), Nick: m.cl.Nick()}
		for _, p := range m.cl.Outbox() {
			if p.Room != room || v != nil && v.ids[p.MsgID] {
				continue
			}
			out = append(out, row{msg: shared.Message{Room: room, MsgID: p.MsgID, Body: p.Body, TS: p.TS, Author: me}, status: "pending"})
		}
	}
	if v != nil {
		for _, f := range v.failed {
			out = append(out, row{msg: shared.Message{Room: room, MsgID: f.MsgID, Body: f.Body, TS: f.TS, Author: shared.Member{Nick: m.nick}}, status: "failed", reason: f.reason})
		}
	}
	return out
}

func scrollToBottom(ctx app.Context) {
	el := app.Window().GetElementByID("messages")
	if el.Truthy() {
		el.Set("scrollTop", el.Get("scrollHeight"))
	}
}

// keepScroll leaves the view where the reader was after older messages
// were prepended: a little below the top, so a further scroll loads more.
func keepScroll(ctx app.Context) {
	el := app.Window().GetElementByID("messages")
	if el.Truthy() && el.Get("scrollTop").Int() < 5 {
		el.Set("scrollTop", 40)
	}
}
