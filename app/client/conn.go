package client

import (
	"context"
	"errors"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/coder/websocket"
	"github.com/duplex-chat/duplex/shared"
)

// readLimit bounds one server frame: batches and history pages are large.
const readLimit = 16 << 20

// loop connects, runs a session, and reconnects with jittered exponential
// backoff until Close or a close code that says not to.
func (c *Client) loop() {
	defer close(c.done)
	defer close(c.events)
	backoff := c.opts.MinBackoff
	for c.ctx.Err() == nil {
		c.setState(StateConnecting, nil)
		dctx, cancel := context.WithTimeout(c.ctx, c.opts.DialTimeout)
		conn, err := dial(dctx, c.url, &c.opts)
		cancel()
		if err == nil {
			var welcomed bool
			welcomed, err = c.session(conn)
			if welcomed {
				backoff = c.opts.MinBackoff
			}
			code := shared.CloseCode(websocket.CloseStatus(err))
			c.mu.Lock()
			fatal := c.fatal
			c.mu.Unlock()
			if fatal != nil {
				c.setState(StateOffline, fatal)
				return
			}
			if code != -1 && !code.ShouldReconnect() || c.ctx.Err() != nil {
				c.setState(StateOffline, err)
				return
			}
		}
		c.setState(StateOffline, err)
		delay := time.Duration(rand.Int64N(int64(backoff))) + c.opts.MinBackoff/2
		backoff = min(backoff*2, c.opts.MaxBackoff)
		c.waitRetry(delay)
	}
}

func (c *Client) setState(s State, err error) {
	c.mu.Lock()
	changed := c.state != s
	c.state = s
	c.mu.Unlock()
	if changed {
		c.emit(StateChanged{State: s, Err: err})
	}
}

// session runs one connection: hello, then frames until it ends.
func (c *Client) session(conn *websocket.Conn) (welcomed bool, err error) {
	conn.SetReadLimit(readLimit)
	defer c.disconnected(conn)
	q := &writeQueue{conn: conn, wake: make(chan struct{}, 1)}
	wctx, stopWriter := context.WithCancel(c.ctx)
	defer stopWriter()
	go c.writeLoop(wctx, q)
	hello, err := c.hello()
	if err != nil {
		return false, err
	}
	c.mu.Lock()
	c.conn, c.wq = conn, q
	c.mu.Unlock()
	if err := c.write(conn, shared.TypeHello, helloID, hello); err != nil {
		return false, err
	}
	for {
		_, data, err := conn.Read(c.ctx)
		if err != nil {
			return welcomed, err
		}
		// DecodeAll skips frame types this client does not know and
		// ignores unknown fields: a newer server must not strand it.
		err = shared.DecodeAll(data, func(f shared.Frame, err error) {
			if err != nil {
				return // an inner frame this client cannot use: skip it
			}
			if f.Type == shared.TypeWelcome {
				welcomed = true
			}
			c.handle(conn, f)
		})
		if err != nil {
			conn.Close(websocket.StatusCode(shared.CloseBadFrame), "client could not decode a frame")
			return welcomed, err
		}
	}
}

// disconnected resets per-connection state and fails waiting requests.
func (c *Client) disconnected(conn *websocket.Conn) {
	conn.CloseNow()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.conn, c.wq = nil, nil
	c.resetPaceLocked()
	for _, rs := range c.rooms {
		rs.members, rs.count = nil, 0
		if rs.live {
			rs.live = false
			rs.liveCh = make(chan struct{})
		}
	}
	for id, w := range c.waits {
		if w.kind != shared.TypeSend {
			close(w.ch)
			delete(c.waits, id)
		}
	}
	c.saveRoomsLocked()
}

func (c *Client) handle(conn *websocket.Conn, f shared.Frame) {
	switch p := f.Payload.(type) {
	case *shared.Welcome:
		c.welcome(conn, p)
	case *shared.Message:
		c.message(p)
	case *shared.Presence:
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
	case *shared.PresenceDiff:
		c.presenceDiff(p)
	case *shared.MemberEvent:
		// From servers before presence_diff.
		d := &shared.PresenceDiff{Room: p.Room, Left: []shared.Member{p.Member}}
		if f.Type == shared.TypeMemberJoined {
			d = &shared.PresenceDiff{Room: p.Room, Joined: []shared.Member{p.Member}}
		}
		c.presenceDiff(d)
	case *shared.RoomList:
		c.answer(f)
		c.emit(RoomsChanged{Rooms: p.Rooms})
	case *shared.Removed:
		c.removed(p.Room)
	case *shared.Read:
		c.readPushed(p) // read.go
	case *shared.ErrorFrame:
		if f.ID == helloID {
			c.helloRefused(conn, &shared.Error{Code: p.Code, Message: p.Message})
			return
		}
		c.answer(f)
	default: // ack
		c.answer(f)
	}
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

func (c *Client) welcome(conn *websocket.Conn, w *shared.Welcome) {
	c.mu.Lock()
	c.user, c.nick = w.User, w.Nick
	if w.Token != "" {
		c.token = w.Token
	}
	c.scheduleRefreshLocked(w.Expires)
	c.state = StateOnline
	for name, rs := range c.rooms {
		if rs.wanted {
			c.sendJoinLocked(name, rs)
		}
	}
	c.saveLocked()
	c.mu.Unlock()
	c.emit(StateChanged{State: StateOnline})
}

// sendJoinLocked asks for the room, resuming after the last seq held.
func (c *Client) sendJoinLocked(room string, rs *roomState) {
	j := &shared.Join{Room: room}
	if rs.Last > 0 || rs.Synced {
		since := rs.Last
		j.Since = &since
	}
	c.nextID++
	id := "j" + room + "." + strconv.FormatUint(c.nextID, 10)
	if len(id) > shared.MaxIDLen {
		id = "j" + strconv.FormatUint(c.nextID, 10)
	}
	c.waits[id] = &waiter{kind: shared.TypeJoin, room: room, ch: make(chan shared.Frame, 1)}
	c.writeAsync(c.conn, shared.TypeJoin, id, j)
}

// sendPendingLocked sends one outbox entry; its request id is its msg_id.
func (c *Client) sendPendingLocked(p Pending) {
	if c.conn == nil {
		return
	}
	if _, ok := c.waits[p.MsgID]; !ok {
		c.waits[p.MsgID] = &waiter{kind: shared.TypeSend, room: p.Room, msgID: p.MsgID, ch: make(chan shared.Frame, 1)}
	}
	c.writeAsync(c.conn, shared.TypeSend, p.MsgID, &shared.Send{Room: p.Room, MsgID: p.MsgID, Body: p.Body, ReplyTo: p.ReplyTo, Image: p.Image})
}

// message delivers a room message once: anything at or below the room's
// cursor was seen already (a replay overlap or a resent frame).
func (c *Client) message(m *shared.Message) {
	c.mu.Lock()
	rs := c.rooms[m.Room]
	if rs == nil || m.Seq <= rs.Last || c.undelivered {
		c.mu.Unlock()
		return
	}
	prevLast, prevCache := rs.Last, rs.Cache
	rs.Last = m.Seq
	if c.opts.CacheSize > 0 {
		Apply(rs.Cache, *m) // an event updates its cached target (events.go)
		rs.Cache = append(rs.Cache, *m)
		if n := len(rs.Cache) - c.opts.CacheSize; n > 0 {
			rs.Cache = append(rs.Cache[:0:0], rs.Cache[n:]...)
		}
	}
	c.saveSoonLocked()
	c.mu.Unlock()
	if !c.emit(MessageReceived{Message: *m}) {
		// Closed before the app took m: the saved cursor must not count
		// it (nor anything after it), so the next Client on this Storage
		// resumes with m instead of skipping it.
		c.mu.Lock()
		rs.Last, rs.Cache = prevLast, prevCache
		c.undelivered = true
		c.mu.Unlock()
	}
}

// answer routes an ack or error to the request it names.
func (c *Client) answer(f shared.Frame) {
	c.mu.Lock()
	w := c.waits[f.ID]
	if w == nil {
		c.mu.Unlock()
		if e, ok := f.Payload.(*shared.ErrorFrame); ok {
			c.emit(ErrorReceived{Err: &shared.Error{Code: e.Code, Message: e.Message}})
		}
		return
	}
	delete(c.waits, f.ID)
	var ev Event
	switch w.kind {
	case shared.TypeJoin:
		ev = c.joinAnswerLocked(w.room, f)
	case shared.TypeSend:
		ev = c.sendAnswerLocked(w, f)
		if ww := c.waits["w:"+w.msgID]; ww != nil && ev != nil {
			ww.ch <- f
		}
	default:
		w.ch <- f
	}
	c.mu.Unlock()
	if ev != nil {
		c.emit(ev)
	}
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
		rs.Last, rs.Cache, rs.Synced = 0, nil, false
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
	close(rs.liveCh)
	for _, p := range c.outbox {
		if p.Room == room {
			c.sendPendingLocked(p)
		}
	}
	return Joined{Ack: ack}
}

func (c *Client) sendAnswerLocked(w *waiter, f shared.Frame) Event {
	ack, err := decodeAnswer[shared.SendAck](f)
	var pe *shared.Error
	if errors.As(err, &pe) && pe.Code == shared.CodeRateLimited {
		if _, ok := c.pendingLocked(w.msgID); ok {
			c.holdLocked(w.msgID, retryDelay(pe))
		}
		return nil
	}
	if errors.As(err, &pe) && pe.Code.Retryable() {
		if p, ok := c.pendingLocked(w.msgID); ok {
			time.AfterFunc(retryDelay(pe), func() {
				c.mu.Lock()
				defer c.mu.Unlock()
				if rs := c.rooms[p.Room]; rs != nil && rs.live {
					c.sendPendingLocked(p)
				}
			})
		}
		return nil
	}
	c.pacedAnswerLocked(w.msgID)
	p, ok := c.pendingLocked(w.msgID)
	if !ok {
		return nil // a second answer to a resend
	}
	c.removePendingLocked(w.msgID)
	c.saveLocked()
	if err != nil {
		if pe == nil {
			pe = shared.Errorf(shared.CodeBadFrame, "%v", err)
		}
		return MessageFailed{Pending: p, Err: pe}
	}
	return MessageAcked{Ack: ack}
}

func (c *Client) pendingLocked(msgID string) (Pending, bool) {
	for _, p := range c.outbox {
		if p.MsgID == msgID {
			return p, true
		}
	}
	return Pending{}, false
}

func (c *Client) removePendingLocked(msgID string) bool {
	for i, p := range c.outbox {
		if p.MsgID == msgID {
			c.outbox = append(c.outbox[:i], c.outbox[i+1:]...)
			return true
		}
	}
	return false
}

// retryDelay is how long to wait before resending a request refused with a
// retryable error: the server's retry_after, or a second.
func retryDelay(pe *shared.Error) time.Duration {
	if pe.RetryAfter > 0 {
		return pe.RetryAfter
	}
	return time.Second
}
