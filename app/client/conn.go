package client

import (
	"context"
	"errors"
	"time"

	"github.com/coder/websocket"
	"github.com/duplex-chat/duplex/shared"
)

// readLimit bounds one server frame: batches and history pages are large.
const readLimit = 16 << 20

// session runs one connection: hello, then frames until it ends.
func (c *Client) session(conn *websocket.Conn) (welcomed bool, err error) {
	conn.SetReadLimit(readLimit)
	// rctx ends the session's reads: the heartbeat cancels it when the
	// server has gone silent (a read context closes the connection,
	// coder/websocket#242, which here is the point).
	rctx, stopReading := context.WithCancel(c.ctx)
	defer stopReading()
	defer c.disconnected(conn)
	q := &writeQueue{conn: conn, wake: make(chan struct{}, 1), wrote: time.Now().UnixNano()}
	wctx, stopWriter := context.WithCancel(c.ctx)
	defer stopWriter()
	go c.writeLoop(wctx, q)
	hello, err := c.hello()
	if err != nil {
		return false, err
	}
	c.heard.Store(time.Now().UnixNano())
	// The hello's waiter handles welcome (start the heartbeat, rejoin) and
	// a refusal (say hello again as a new anonymous user, or stop).
	var hw *waiter
	hw = &waiter{then: func(f shared.Frame) {
		switch p := f.Payload.(type) {
		case *shared.Welcome:
			welcomed = true
			if p.Heartbeat > 0 {
				go c.heartbeat(rctx, stopReading, q, time.Duration(p.Heartbeat)*time.Millisecond)
			}
			c.welcome(p)
		case *shared.ErrorFrame:
			if c.helloRefused(conn, &shared.Error{Code: p.Code, Message: p.Message}) {
				h, _ := c.hello()
				c.mu.Lock()
				c.startLocked(shared.TypeHello, helloID, h, hw)
				c.mu.Unlock()
			}
		}
	}}
	c.mu.Lock()
	c.conn, c.wq, c.drop = conn, q, stopReading
	c.startLocked(shared.TypeHello, helloID, hello, hw)
	c.mu.Unlock()
	for {
		_, data, err := conn.Read(rctx)
		if err != nil {
			return welcomed, err
		}
		c.heard.Store(time.Now().UnixNano())
		// DecodeAll skips frame types this client does not know and
		// ignores unknown fields: a newer server must not strand it.
		err = shared.DecodeAll(data, func(f shared.Frame, err error) {
			if err != nil {
				return // an inner frame this client cannot use: skip it
			}
			c.handle(f)
		})
		if err != nil {
			conn.Close(websocket.StatusCode(shared.CloseBadFrame), "client could not decode a frame")
			return welcomed, err
		}
	}
}

// disconnected resets per-connection state and fails waiting requests.
func (c *Client) disconnected(conn *websocket.Conn) {
	// In the browser a close waits for the socket's close event, which a
	// silent network delays for a minute: the state must say offline now.
	go conn.CloseNow()
	var typing []string
	c.mu.Lock()
	c.conn, c.wq, c.drop = nil, nil, nil
	c.resetPaceLocked()
	for name, rs := range c.rooms {
		rs.members, rs.count = nil, 0
		if rs.live {
			rs.live = false
			rs.liveCh = make(chan struct{})
		}
		if len(rs.typists) > 0 {
			rs.typists = nil
			typing = append(typing, name)
		}
		rs.typed = time.Time{}
	}
	c.failWaitersLocked()
	c.saveRoomsLocked()
	c.mu.Unlock()
	for _, room := range typing {
		c.emit(TypingChanged{Room: room}) // nobody is known to type while offline
	}
}

// handle acts on one frame from the server. Features add their frames as
// one case here.
func (c *Client) handle(f shared.Frame) {
	switch p := f.Payload.(type) {
	case *shared.Message:
		c.message(p)
	case *shared.Presence:
		c.presence(p)
	case *shared.PresenceDiff:
		c.presenceDiff(p)
	case *shared.MemberEvent:
		// From servers before presence_diff.
		d := &shared.PresenceDiff{Room: p.Room, Left: []shared.Member{p.Member}}
		if f.Type == shared.TypeMemberJoined {
			d = &shared.PresenceDiff{Room: p.Room, Joined: []shared.Member{p.Member}}
		}
		c.presenceDiff(d)
	case *shared.Typing:
		c.typing(p)
	case *shared.Pong:
		// Heard: the read itself reset the heartbeat.
	case *shared.RoomList:
		c.answer(f)
		c.emit(RoomsChanged{Rooms: p.Rooms})
		c.readRooms(p.Rooms) // read.go: the unread counts it carries
	case *shared.Removed:
		c.removed(p.Room)
	case *shared.Read:
		c.readPushed(p) // read.go
	case *shared.NickChanged:
		c.nickChanged(p.Nick) // signout.go
	default: // welcome, ack, error
		c.answer(f)
	}
}

func (c *Client) welcome(w *shared.Welcome) {
	c.mu.Lock()
	c.user, c.nick = w.User, w.Nick
	if w.Token != "" {
		c.token = w.Token
	}
	c.scheduleRefreshLocked(w.Expires)
	c.state = StateOnline
	// Another tab may have left unsent messages since this one loaded.
	c.mergeOutboxLocked(c.storedOutbox())
	for name, rs := range c.rooms {
		if rs.wanted {
			c.sendJoinLocked(name, rs)
		}
	}
	c.saveIdentityLocked()
	c.mu.Unlock()
	c.emit(StateChanged{State: StateOnline})
	c.pump() // joins the rooms of entries no Join asked for: pace.go
}

// sendJoinLocked asks for the room, resuming after the last seq held.
func (c *Client) sendJoinLocked(room string, rs *roomState) {
	j := &shared.Join{Room: room}
	if rs.Last > 0 || rs.Synced {
		since := rs.Last
		j.Since = &since
	}
	rs.resumed = j.Since != nil
	c.startLocked(shared.TypeJoin, c.nextIDLocked("j"), j, &waiter{then: func(f shared.Frame) { c.joinAnswer(room, f) }})
}

func (c *Client) joinAnswer(room string, f shared.Frame) {
	c.mu.Lock()
	ev := c.joinAnswerLocked(room, f)
	c.mu.Unlock()
	if ev != nil {
		c.emit(ev)
	}
	if j, ok := ev.(Joined); ok {
		c.readJoined(j.Ack) // read.go: the server's marker and counts
	}
	c.pump() // the room's outbox entries may go now (or are dropped): pace.go
}

func (c *Client) joinAnswerLocked(room string, f shared.Frame) Event {
	rs := c.rooms[room]
	if rs == nil || !rs.wanted {
		return nil
	}
	ack, err := decodeAnswer[shared.JoinAck](f)
	var pe *shared.Error
	if errors.As(err, &pe) && pe.Code == shared.CodeInvalid && rs.Last > 0 {
		// The server does not know our cursor (its history was reset):
		// start the room afresh instead of failing.
		rs.Last, rs.msgs, rs.Synced = 0, nil, false
		c.sendJoinLocked(room, rs)
		return nil
	}
	if pe != nil && pe.Code == shared.CodeRateLimited && pe.RetryAfter > 0 {
		// Join again when the server says; Join keeps waiting.
		time.AfterFunc(pe.RetryAfter, func() {
			c.mu.Lock()
			defer c.mu.Unlock()
			if rs.wanted && !rs.live && c.conn != nil && c.state == StateOnline {
				c.sendJoinLocked(room, rs)
			}
		})
		return nil
	}
	if err != nil {
		rs.joinErr, rs.wanted = err, false
		close(rs.liveCh)
		return ErrorReceived{Err: pe}
	}
	rs.live, rs.Synced = true, true
	rs.joinedLocked(ack, rs.resumed)
	close(rs.liveCh)
	return Joined{Ack: ack}
}

func (c *Client) presence(p *shared.Presence) {
	c.mu.Lock()
	if rs := c.rooms[p.Room]; rs != nil {
		rs.count = p.Count
		rs.members = nil // a large room: the count alone
		if p.Members != nil || p.Count == 0 {
			rs.members = make(map[string]shared.Member, len(p.Members))
			for _, m := range p.Members {
				rs.members[m.User] = m
			}
			rs.count = len(rs.members)
		}
	}
	c.mu.Unlock()
	c.emitPresence(p.Room)
}

func (c *Client) emitPresence(room string) {
	c.mu.Lock()
	ev := PresenceChanged{Room: room, Members: c.membersLocked(room), Count: c.memberCountLocked(room)}
	c.mu.Unlock()
	c.emit(ev)
}

// presenceDiff applies a coalesced diff to the member list and emits one
// event per member that really came or went: a diff may repeat what the
// snapshot after a join already said.
func (c *Client) presenceDiff(d *shared.PresenceDiff) {
	var evs []Event
	c.mu.Lock()
	if rs := c.rooms[d.Room]; rs != nil && rs.members != nil {
		for _, m := range d.Left {
			if _, ok := rs.members[m.User]; ok {
				delete(rs.members, m.User)
				evs = append(evs, MemberLeft{Room: d.Room, Member: m})
			}
		}
		for _, m := range d.Joined {
			if old, ok := rs.members[m.User]; !ok || old != m {
				rs.members[m.User] = m
				evs = append(evs, MemberJoined{Room: d.Room, Member: m})
			}
		}
		rs.count = len(rs.members)
	}
	c.mu.Unlock()
	for _, ev := range evs {
		c.emit(ev)
	}
}
