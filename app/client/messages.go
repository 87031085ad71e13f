package client

import (
	"context"
	"sort"

	"github.com/duplex-chat/duplex/shared"
)

// The client holds the one copy of each room's messages that a program
// (the browser UI above all) needs: those kept in Storage from earlier
// sessions, a seed the page brought (the prerendered latest messages), the
// live tail, and the pages History loaded, each in its latest state (an
// edit, deletion or reaction event, a message with a Kind, is applied to
// the message whose seq is its Target). A UI keeps only view state and
// reads Messages when it renders.
//
// rs.msgs is copy-on-write: appending may reuse its array (a snapshot
// handed out earlier is shorter and never sees the new element), while
// inserting, replacing or applying an event builds a new array. So a
// snapshot is a slice header, taken in O(1), that never changes.

// Messages returns the messages of room the client holds, oldest first,
// each in its latest state. The slice is a snapshot shared with the
// client: cheap to take, never changed afterwards, and not to be modified
// by the caller. It is empty when Options.CacheSize is negative.
func (c *Client) Messages(room string) []shared.Message {
	c.mu.Lock()
	defer c.mu.Unlock()
	if rs := c.rooms[room]; rs != nil {
		return rs.msgs[:len(rs.msgs):len(rs.msgs)]
	}
	return nil
}

// Cached returns a copy of Messages: what a UI shows before the server has
// answered.
func (c *Client) Cached(room string) []shared.Message {
	return append([]shared.Message(nil), c.Messages(room)...)
}

// Seed adds messages the program already has, such as the page's
// prerendered latest messages, so that Messages shows them before the
// server answers and the join that follows neither doubles nor drops them:
// a room without a cursor resumes after the newest seeded seq. Messages of
// another room, events and invalid seqs are ignored.
func (c *Client) Seed(room string, msgs []shared.Message) {
	if shared.ValidRoom(room) != nil || c.opts.CacheSize < 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	rs := c.roomLocked(room)
	var newest int64
	for _, m := range msgs {
		if m.Room == room && m.Seq > 0 && m.Kind == shared.KindMessage {
			rs.addLocked(m, c.opts.KeepMessages)
			newest = max(newest, m.Seq)
		}
	}
	if !rs.Synced && rs.Last == 0 && !rs.wanted {
		rs.Last = newest
	}
}

// History returns up to limit messages of a joined room older than before
// (0: the newest), oldest first, and whether older ones exist. A page that
// reaches the messages the client holds is merged into them (Messages).
func (c *Client) History(ctx context.Context, room string, before int64, limit int) (shared.HistoryAck, error) {
	page, err := ask[shared.HistoryAck](ctx, c, shared.TypeHistory, &shared.History{Room: room, Before: before, Limit: limit})
	if err != nil || len(page.Messages) == 0 || c.opts.CacheSize < 0 {
		return page, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	rs := c.rooms[room]
	if rs == nil {
		return page, nil
	}
	// Merge only a page that meets the held messages (or when none are
	// held): a page from elsewhere would leave a hole in the middle.
	newest := page.Messages[len(page.Messages)-1].Seq
	if n := len(rs.msgs); n == 0 || before == rs.msgs[0].Seq || newest >= rs.msgs[0].Seq && page.Messages[0].Seq <= rs.msgs[n-1].Seq {
		for _, m := range page.Messages {
			if m.Kind == shared.KindMessage && m.Room == room {
				rs.addLocked(m, 0)
			}
		}
	}
	return page, nil
}

// message delivers a room message or event once: anything at or below the
// room's cursor was seen already (a replay overlap or a resent frame).
func (c *Client) message(m *shared.Message) {
	c.mu.Lock()
	rs := c.rooms[m.Room]
	if rs == nil || m.Seq <= rs.Last || c.undelivered {
		c.mu.Unlock()
		return
	}
	prevLast, prevMsgs := rs.Last, rs.msgs
	rs.Last = m.Seq
	if c.opts.CacheSize >= 0 {
		if m.Kind == shared.KindMessage {
			rs.addLocked(*m, c.opts.KeepMessages)
		} else {
			rs.applyLocked(m, c.user)
		}
	}
	c.saveSoonLocked()
	me := c.user
	c.mu.Unlock()
	defer c.readMessage(m, me) // read.go: counted where it arrives, announced after it
	if !c.emit(MessageReceived{Message: *m}) {
		// Closed before the app took m: the saved cursor must not count
		// it (nor anything after it), so the next Client on this Storage
		// resumes with m instead of skipping it. The clipped slice makes
		// a later append copy, leaving snapshots that hold m unchanged.
		c.mu.Lock()
		rs.Last, rs.msgs = prevLast, prevMsgs[:len(prevMsgs):len(prevMsgs)]
		c.undelivered = true
		c.mu.Unlock()
	}
}

// addLocked puts m in seq order. A message already held is replaced only
// when its state differs (a replay brings the latest state). keep > 0
// drops the oldest beyond keep.
func (rs *roomState) addLocked(m shared.Message, keep int) {
	n := len(rs.msgs)
	switch i := sort.Search(n, func(i int) bool { return rs.msgs[i].Seq >= m.Seq }); {
	case i == n:
		rs.msgs = append(rs.msgs, m)
	case rs.msgs[i].Seq == m.Seq:
		if !sameState(&rs.msgs[i], &m) {
			next := append([]shared.Message(nil), rs.msgs...)
			next[i] = m
			rs.msgs = next
		}
	default:
		next := make([]shared.Message, 0, n+1)
		next = append(append(append(next, rs.msgs[:i]...), m), rs.msgs[i:]...)
		rs.msgs = next
	}
	if keep > 0 && len(rs.msgs) > keep {
		rs.msgs = rs.msgs[len(rs.msgs)-keep:]
	}
}

// applyLocked applies an event to the messages held (Apply: the target's
// body, edit time, deletion and reactions, and the quotes of replies to
// it), on a copy: a snapshot handed out earlier never changes. Events
// carry the target's state after the change, so applying one twice or
// late changes nothing.
func (rs *roomState) applyLocked(ev *shared.Message, me string) {
	next := append([]shared.Message(nil), rs.msgs...)
	if ApplyAs(next, *ev, me) {
		rs.msgs = next
	}
}

// joinedLocked fits the held messages to a completed join. A join without
// a cursor replays only the latest messages: older held ones (a cache
// from a Storage without cursor) may not connect to them, and are dropped
// unless they do, so Messages never has a hole in the middle; scrolling
// back pages them in again.
func (rs *roomState) joinedLocked(ack shared.JoinAck, resumed bool) {
	if resumed || ack.First <= 1 {
		return
	}
	i := sort.Search(len(rs.msgs), func(i int) bool { return rs.msgs[i].Seq >= ack.First })
	if i > 0 && rs.msgs[i-1].Seq < ack.First-1 {
		rs.msgs = append([]shared.Message(nil), rs.msgs[i:]...)
	}
}

// sameState reports whether two copies of one message look the same.
func sameState(a, b *shared.Message) bool {
	if a.Body != b.Body || a.Edited != b.Edited || a.Deleted != b.Deleted || a.MsgID != b.MsgID || len(a.Reactions) != len(b.Reactions) {
		return false
	}
	for i := range a.Reactions {
		x, y := a.Reactions[i], b.Reactions[i]
		if x.Emoji != y.Emoji || x.Count != y.Count || x.Me != y.Me || len(x.Users) != len(y.Users) {
			return false
		}
		for j := range x.Users {
			if x.Users[j] != y.Users[j] {
				return false
			}
		}
	}
	return true
}
