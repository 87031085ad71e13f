package client

import (
	"time"

	"github.com/duplex-chat/duplex/shared"
)

// sendWindow is how many outbox entries may be on the wire unanswered.
// Pipelining keeps a backlog (a tab coming back online) from waiting a
// round trip per entry; the bound keeps what one refusal costs small: the
// server refuses every send behind a refused one (shared.Send.After), and
// each refusal spends the connection's refusal budget.
const sendWindow = 32

// pacer is the outbox's flow on the current connection. Entries go out
// in outbox order, up to sendWindow at once, each send naming the send
// before it (Send.After). After a retryable refusal the queue pauses for
// retry_after and then resends from the first entry not answered, one at
// a time (the server allows a burst, not a backlog: a window of resends
// would mostly be refused again) until the outbox has drained. A
// reconnect starts afresh: the rejoin of each room lets its entries go.
type pacer struct {
	inflight map[string]bool // entries written on this connection, not answered yet
	pause    *time.Timer     // the wait after a retryable refusal
	slow     bool            // one entry at a time until the outbox drains
}

// pump writes the entries that may go now and emits what that decided.
func (c *Client) pump() {
	c.mu.Lock()
	evs := c.pumpLocked()
	c.mu.Unlock()
	c.emitAll(evs)
}

// pumpLocked writes, in outbox order, the entries that may go now: the
// connection is online, the queue is not paused, the window has room,
// and every entry before them is written or answered. An entry whose room
// is being joined stops the queue until the join completes (joinAnswer
// pumps again); a room this client has not joined (after a reload, before
// the app joins it) is joined for its entries; a room whose join was
// refused drops its entries, with the events returned.
func (c *Client) pumpLocked() []Event {
	if len(c.outbox) == 0 {
		c.pace.slow = false
		return nil
	}
	if c.conn == nil || c.state != StateOnline || c.pace.pause != nil {
		return nil
	}
	window := sendWindow
	if c.pace.slow {
		window = 1
	}
	if len(c.pace.inflight) >= window {
		return nil // a backlog of thousands costs nothing per answer
	}
	var evs []Event
	after := "" // the msg_id of the send before the next one
	for i := 0; i < len(c.outbox); i++ {
		p := c.outbox[i]
		if c.pace.inflight[p.MsgID] {
			if p.Kind != KindRead {
				after = p.MsgID
			}
			continue
		}
		if len(c.pace.inflight) >= window {
			break
		}
		rs := c.rooms[p.Room]
		switch {
		case rs != nil && rs.live:
		case rs != nil && !rs.wanted && rs.joinErr != nil:
			evs = append(evs, c.dropLocked(p, rs.joinErr))
			i--
			continue
		case rs == nil || !rs.wanted:
			rs = c.roomLocked(p.Room)
			rs.wanted, rs.live, rs.joinErr = true, false, nil
			rs.liveCh = make(chan struct{})
			c.sendJoinLocked(p.Room, rs)
			return evs
		default:
			return evs // joining: joinAnswer pumps again
		}
		if c.writeEntryLocked(p, after) != nil {
			evs = append(evs, c.dropLocked(p, shared.Errorf(shared.CodeInvalid, "the entry cannot be encoded")))
			i--
			continue
		}
		if p.Kind != KindRead {
			after = p.MsgID
		}
	}
	if len(c.outbox) == 0 {
		c.pace.slow = false
	}
	return evs
}

// writeEntryLocked queues p on the connection; its request id is its
// msg_id.
func (c *Client) writeEntryLocked(p Pending, after string) error {
	t, payload := p.request(after)
	id := p.MsgID
	err := c.startLocked(t, id, payload, &waiter{then: func(f shared.Frame) { c.entryAnswer(id, f) }})
	if err == nil {
		if c.pace.inflight == nil {
			c.pace.inflight = make(map[string]bool)
		}
		c.pace.inflight[id] = true
	}
	return err
}

// pauseLocked stops the queue for wait after a retryable refusal; the
// queue then goes on one entry at a time. The refusals of the entries
// that were on the wire behind the refused one change nothing.
func (c *Client) pauseLocked(wait time.Duration) {
	c.pace.slow = true
	if c.pace.pause != nil {
		return
	}
	var t *time.Timer
	t = time.AfterFunc(wait, func() {
		c.mu.Lock()
		if c.pace.pause != t {
			c.mu.Unlock()
			return // a reconnect reset the queue meanwhile
		}
		c.pace.pause = nil
		evs := c.pumpLocked()
		c.mu.Unlock()
		c.emitAll(evs)
	})
	c.pace.pause = t
}

// resetPaceLocked forgets the flow state when the connection ends: the
// next session writes every entry again.
func (c *Client) resetPaceLocked() {
	if c.pace.pause != nil {
		c.pace.pause.Stop()
	}
	c.pace = pacer{}
}
