package client

import (
	"sync"

	"github.com/duplex-chat/duplex/shared"
)

// ReadChanged reports that a room's read marker or unread counts changed:
// the server's counts after a join, a room list or a read (this client's
// or, pushed, another tab's of the same user), or a message from someone
// else arriving after the marker. A UI shows the counts as they come.
type ReadChanged struct {
	Room string
	// Seq is the read marker: the user has read up to it.
	Seq int64
	// Unread counts the messages of others after Seq, Mentioned those of
	// them that mention the user.
	Unread    int
	Mentioned int
}

func (ReadChanged) isEvent() {}

// readBook is the client's unread bookkeeping, under its own lock, never
// taken with Client.mu held.
type readBook struct {
	mu    sync.Mutex
	rooms map[string]*readRoom
}

type readRoom struct {
	known     bool  // the server has told a marker
	marker    int64 // the read marker
	unread    int
	mentioned int
	last      int64 // newest seq seen in the room
	want      int64 // the highest seq MarkRead asked for
}

func (b *readBook) room(name string) *readRoom {
	if b.rooms == nil {
		b.rooms = make(map[string]*readRoom)
	}
	r := b.rooms[name]
	if r == nil {
		r = &readRoom{}
		b.rooms[name] = r
	}
	return r
}

func (r *readRoom) event(room string) ReadChanged {
	return ReadChanged{Room: room, Seq: r.marker, Unread: r.unread, Mentioned: r.mentioned}
}

// ReadState returns what the client knows of room's read marker and
// unread counts (zero before the server told any).
func (c *Client) ReadState(room string) ReadChanged {
	c.reads.mu.Lock()
	defer c.reads.mu.Unlock()
	if r := c.reads.rooms[room]; r != nil {
		return r.event(room)
	}
	return ReadChanged{Room: room}
}

// The unread counts are kept where what moves them arrives: a message
// (message, messages.go), a join's answer (joinAnswer, conn.go) and the
// room list (conn.go). Each emits a ReadChanged after the event that moved
// the counts, never with Client.mu held (readBook.mu is not taken inside
// it).

// readMessage counts m, which arrived in its room, and says so when the
// counts moved. me is the user's id.
func (c *Client) readMessage(m *shared.Message, me string) {
	c.reads.mu.Lock()
	r := c.reads.room(m.Room)
	changed := c.countLocked(r, m, me)
	ev := r.event(m.Room)
	c.reads.mu.Unlock()
	if changed {
		c.emit(ev)
	}
}

// readJoined takes the server's marker and counts from a join's answer.
func (c *Client) readJoined(a shared.JoinAck) {
	c.reads.mu.Lock()
	r := c.reads.room(a.Room)
	r.known, r.marker, r.unread, r.mentioned = true, max(r.marker, a.Read), a.Unread, a.Mentioned
	r.last = max(r.last, a.Head)
	ev := r.event(a.Room)
	c.reads.mu.Unlock()
	c.emit(ev)
}

// readRooms takes the markers and counts of a room list.
func (c *Client) readRooms(rooms []shared.RoomInfo) {
	var out []ReadChanged
	c.reads.mu.Lock()
	for _, info := range rooms {
		if info.Read == 0 && info.Unread == 0 {
			continue // no marker in this room
		}
		r := c.reads.room(info.Name)
		if info.Read < r.marker {
			continue // older than what a read ack said
		}
		r.known, r.marker, r.unread, r.mentioned = true, info.Read, info.Unread, info.Mentioned
		out = append(out, r.event(info.Name))
	}
	c.reads.mu.Unlock()
	for _, rc := range out {
		c.emit(rc)
	}
}

// countLocked counts m as unread when it is a message of someone else
// after the marker, or uncounts a deleted one; it reports a change.
func (c *Client) countLocked(r *readRoom, m *shared.Message, me string) bool {
	r.last = max(r.last, m.Seq)
	if !r.known || m.Author.User == me {
		return false
	}
	switch {
	case m.Kind == shared.KindMessage && !m.Deleted && m.Seq > r.marker:
		r.unread++
		for _, u := range m.Mentions {
			if u == me {
				r.mentioned++
				break
			}
		}
		return true
	case m.Kind == shared.KindDelete && m.Target > r.marker && r.unread > 0:
		r.unread--
		return true
	}
	return false
}

// readPushed applies a read frame the server pushed: another session of
// this user moved the marker.
func (c *Client) readPushed(p *shared.Read) {
	c.reads.mu.Lock()
	r := c.reads.room(p.Room)
	changed := !r.known || p.Seq >= r.marker
	if changed {
		r.known, r.marker, r.unread, r.mentioned = true, p.Seq, p.Unread, p.Mentioned
	}
	ev := r.event(p.Room)
	c.reads.mu.Unlock()
	if changed {
		c.emit(ev)
	}
}

// MarkRead moves the read marker of a joined room up to seq (the newest
// message the user has seen), through the outbox (outbox.go): it is kept
// in Storage until the server has it, and goes in its turn with
// everything else the person does. Calls are coalesced: the outbox holds
// at most one marker per room not yet on the wire, the latest (it moves to
// the end of the queue, as the newest thing done); a lower seq than
// already asked changes nothing. The counts drop at once when seq is the
// newest message held; the server's answer then corrects them.
func (c *Client) MarkRead(room string, seq int64) {
	if seq < 1 || shared.ValidRoom(room) != nil {
		return
	}
	c.reads.mu.Lock()
	r := c.reads.room(room)
	if seq <= r.want || r.known && seq <= r.marker {
		c.reads.mu.Unlock()
		return
	}
	r.want = seq
	var ev *ReadChanged
	if r.known && seq >= r.last && (r.unread > 0 || r.mentioned > 0 || seq > r.marker) {
		r.marker, r.unread, r.mentioned = seq, 0, 0
		e := r.event(room)
		ev = &e
	}
	c.reads.mu.Unlock()
	if ev != nil {
		c.emit(*ev)
	}
	c.mu.Lock()
	if rs := c.rooms[room]; rs == nil || !rs.wanted {
		c.mu.Unlock()
		return // not joined: there is nothing to mark
	}
	for _, p := range c.outbox {
		if p.Kind == KindRead && p.Room == room && !c.pace.inflight[p.MsgID] {
			if p.Target >= seq {
				c.mu.Unlock()
				return
			}
			c.removePendingLocked(p.MsgID) // the newer marker replaces it
			break
		}
	}
	c.mu.Unlock()
	c.queue(Pending{Room: room, Kind: KindRead, Target: seq}, nil)
}

// readAcked applies the answer to a read marker of the outbox.
func (c *Client) readAcked(room string, ack shared.ReadAck) {
	c.reads.mu.Lock()
	r := c.reads.room(room)
	r.known = true
	r.marker = max(r.marker, ack.Seq)
	if r.marker == ack.Seq {
		r.unread, r.mentioned = ack.Unread, ack.Mentioned
	}
	ev := r.event(room)
	c.reads.mu.Unlock()
	c.emit(ev)
}
