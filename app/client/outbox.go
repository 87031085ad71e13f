package client

import (
	"context"
	cryptorand "crypto/rand"
	"encoding/hex"
	"errors"
	"sort"
	"time"

	"github.com/duplex-chat/duplex/shared"
)

// The outbox is one first-in-first-out queue of everything the person
// does: messages, replies and images (Send, Reply, SendImage), edits,
// deletions and reactions (events.go) and read markers (read.go). Each
// entry is saved in Storage under its own key the moment it is queued
// (persist.go), so two tabs of one browser never overwrite each other's
// entries, and a reload or an outage loses none; its client-chosen msg_id
// makes a resend of something already stored return the original ack, and
// a read marker only moves up, so resending is always safe.
//
// Entries go out in order (pace.go): several at once while the server
// accepts them, each send naming the one before it (shared.Send.After),
// so that when the server refuses one with rate_limited or another
// retryable error it refuses every later one on that connection too. The
// queue then pauses for retry_after and resends from the first entry not
// acknowledged, one at a time until it has drained: a refusal pauses the
// queue, it never reorders it. A permanent refusal (forbidden, not_found:
// the target was deleted, invalid) drops that entry with MessageFailed and
// the queue goes on.

// KindRead is the Kind of an outbox entry that moves the read marker of
// Room up to Target (MarkRead). It is the client's own: the server gets a
// read request, not a send.
const KindRead shared.Kind = "read"

// Pending is an entry of the outbox: a send, an event or a read marker
// not yet answered for good.
type Pending struct {
	Room  string `json:"room"`
	MsgID string `json:"msg_id"`
	Body  string `json:"body"`
	TS    int64  `json:"ts"` // client time it was queued, Unix ms; never lower than the tab's previous entry
	// ReplyTo is the seq of the message this one replies to (Reply).
	ReplyTo int64 `json:"reply_to,omitempty"`
	// Image is the id of an uploaded image the message carries (SendImage).
	Image string `json:"image,omitempty"`
	// N orders the entries of one client: it only grows, across reloads
	// (a new client starts after the highest N in Storage).
	N int64 `json:"n,omitempty"`
	// Kind is empty for a message; an edit, delete, react or unreact
	// changes message Target (Body: the new text; Emoji: the reaction);
	// KindRead moves the read marker of Room to Target.
	Kind   shared.Kind `json:"kind,omitempty"`
	Target int64       `json:"target,omitempty"`
	Emoji  string      `json:"emoji,omitempty"`
}

// request is the frame that delivers p, after the send named by after.
func (p Pending) request(after string) (shared.Type, any) {
	if p.Kind == KindRead {
		return shared.TypeRead, &shared.Read{Room: p.Room, Seq: p.Target}
	}
	return shared.TypeSend, &shared.Send{Room: p.Room, MsgID: p.MsgID, Body: p.Body, ReplyTo: p.ReplyTo,
		Image: p.Image, Kind: p.Kind, Target: p.Target, Emoji: p.Emoji, After: after}
}

// valid checks an entry read back from Storage: one that could never be
// sent is dropped.
func (p Pending) valid() bool {
	if shared.ValidRoom(p.Room) != nil || shared.ValidID("msg_id", p.MsgID) != nil {
		return false
	}
	switch p.Kind {
	case shared.KindMessage:
		return p.Image != "" || shared.ValidBody(p.Body) == nil
	case shared.KindEdit:
		return p.Target > 0 && shared.ValidBody(p.Body) == nil
	case shared.KindDelete:
		return p.Target > 0
	case shared.KindReact, shared.KindUnreact:
		return p.Target > 0 && shared.ValidEmoji(p.Emoji) == nil
	case KindRead:
		return p.Target > 0
	}
	return false
}

// Outbox returns the entries not yet answered for good, oldest first:
// messages (Kind empty), events and read markers. Like Messages, the
// slice is a snapshot shared with the client: cheap to take (a UI takes
// one per render), never changed afterwards, and not to be modified by
// the caller. The outbox is only appended to, cut or replaced, never
// written in place.
func (c *Client) Outbox() []Pending {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.outbox[:len(c.outbox):len(c.outbox)]
}

// Send validates body, puts the message in the outbox (and Storage) and
// sends it in its turn. It returns the msg_id at once; the outcome
// arrives as MessageAcked or MessageFailed. The room must have been
// joined.
func (c *Client) Send(room, body string) (string, error) {
	return c.send(room, body, 0, nil)
}

// SendWait is Send followed by waiting for the ack. If ctx ends first the
// message stays in the outbox and is still delivered later.
func (c *Client) SendWait(ctx context.Context, room, body string) (shared.SendAck, error) {
	if err := shared.ValidBody(body); err != nil {
		return shared.SendAck{}, err
	}
	return c.queueWait(ctx, Pending{Room: room, Body: body})
}

// send queues a message (a reply when replyTo is not 0); a non-nil done
// receives its final answer.
func (c *Client) send(room, body string, replyTo int64, done chan shared.Frame) (string, error) {
	if err := shared.ValidBody(body); err != nil {
		return "", err
	}
	return c.queue(Pending{Room: room, Body: body, ReplyTo: replyTo}, done)
}

// queueWait queues p and waits for its final answer. If ctx ends first
// the entry stays in the outbox and is still delivered later.
func (c *Client) queueWait(ctx context.Context, p Pending) (shared.SendAck, error) {
	ch := make(chan shared.Frame, 1)
	id, err := c.queue(p, ch)
	if err != nil {
		return shared.SendAck{}, err
	}
	defer func() {
		c.mu.Lock()
		delete(c.sendWaits, id)
		c.mu.Unlock()
	}()
	select {
	case f := <-ch:
		return decodeAnswer[shared.SendAck](f)
	case <-ctx.Done():
		return shared.SendAck{}, ctx.Err()
	case <-c.done:
		return shared.SendAck{}, ErrClosed
	}
}

// queue gives p a msg_id and its time, puts it at the end of the outbox
// (and in Storage) and sends it in its turn; a non-nil done receives its
// final answer. The room must have been joined.
func (c *Client) queue(p Pending, done chan shared.Frame) (string, error) {
	room := p.Room
	if err := shared.ValidRoom(room); err != nil {
		return "", err
	}
	p.MsgID, p.TS = newMsgID(), time.Now().UnixMilli()
	c.mu.Lock()
	rs := c.rooms[room]
	if rs == nil || !rs.wanted {
		c.mu.Unlock()
		return "", shared.Errorf(shared.CodeNotJoined, "join room %q before sending to it", room)
	}
	if done != nil {
		c.sendWaits[p.MsgID] = done
	}
	if p.Kind == shared.KindMessage {
		c.stopTypingLocked(room, false) // the server clears a typist who sends
	}
	c.addPendingLocked(p)
	evs := c.pumpLocked()
	c.mu.Unlock()
	c.emitAll(evs)
	return p.MsgID, nil
}

// addPendingLocked appends p to the outbox and saves it under its key. Its
// N and TS come after every entry this client queued before, so the order
// in Storage is the order of queueing even if the clock steps back.
func (c *Client) addPendingLocked(p Pending) {
	c.outboxN++
	p.N = c.outboxN
	p.TS = max(p.TS, c.outboxTS)
	c.outboxTS = p.TS
	c.outbox = append(c.outbox, p)
	c.savePendingLocked(p)
}

// entryAnswer handles the answer to an outbox entry. An ack or a
// permanent refusal ends it (MessageAcked or MessageFailed, and
// ReadChanged for a read marker; SendWait returns); a retryable refusal
// pauses the queue, which resends it in its turn.
func (c *Client) entryAnswer(msgID string, f shared.Frame) {
	c.mu.Lock()
	delete(c.pace.inflight, msgID)
	p, ok := c.pendingLocked(msgID)
	if !ok { // a second answer to a resend
		evs := c.pumpLocked()
		c.mu.Unlock()
		c.emitAll(evs)
		return
	}
	_, err := decodeAnswer[struct{}](f)
	var pe *shared.Error
	if errors.As(err, &pe) && pe.Code.Retryable() {
		c.pauseLocked(retryDelay(pe))
		c.mu.Unlock()
		return
	}
	c.removePendingLocked(msgID)
	var ev Event
	var read *shared.ReadAck
	switch {
	case err != nil:
		if pe == nil {
			pe = shared.Errorf(shared.CodeBadFrame, "%v", err)
		}
		ev = MessageFailed{Pending: p, Err: pe}
	case p.Kind == KindRead:
		if ack, err := decodeAnswer[shared.ReadAck](f); err == nil {
			read = &ack
		}
	default:
		ack, err := decodeAnswer[shared.SendAck](f)
		if err != nil {
			ev = MessageFailed{Pending: p, Err: shared.Errorf(shared.CodeBadFrame, "%v", err)}
		} else {
			ev = MessageAcked{Ack: ack}
		}
	}
	if done := c.sendWaits[msgID]; done != nil {
		delete(c.sendWaits, msgID)
		done <- f
	}
	evs := c.pumpLocked()
	c.mu.Unlock()
	if read != nil {
		c.readAcked(p.Room, *read) // read.go
	}
	if ev != nil {
		c.emit(ev)
	}
	c.emitAll(evs)
}

// emitAll emits evs in order.
func (c *Client) emitAll(evs []Event) {
	for _, ev := range evs {
		c.emit(ev)
	}
}

func (c *Client) pendingLocked(msgID string) (Pending, bool) {
	for _, p := range c.outbox {
		if p.MsgID == msgID {
			return p, true
		}
	}
	return Pending{}, false
}

// removePendingLocked takes msgID out of the outbox and deletes its key.
func (c *Client) removePendingLocked(msgID string) bool {
	for i, p := range c.outbox {
		if p.MsgID == msgID {
			if i == 0 {
				c.outbox = c.outbox[1:] // the usual case, without copying a backlog
			} else {
				c.outbox = append(c.outbox[:i:i], c.outbox[i+1:]...)
			}
			c.deletePendingLocked(msgID)
			return true
		}
	}
	return false
}

// dropLocked takes p out of the outbox for good and returns the
// MessageFailed that says so (SendWait returns it too).
func (c *Client) dropLocked(p Pending, err error) Event {
	var pe *shared.Error
	if !errors.As(err, &pe) {
		pe = shared.Errorf(shared.CodeNotJoined, "room %q is not joined", p.Room)
	}
	c.removePendingLocked(p.MsgID)
	if done := c.sendWaits[p.MsgID]; done != nil {
		delete(c.sendWaits, p.MsgID)
		done <- shared.Frame{Type: shared.TypeError, ID: p.MsgID, Payload: &shared.ErrorFrame{Code: pe.Code, Message: pe.Message}}
	}
	return MessageFailed{Pending: p, Err: pe}
}

// dropRoomLocked drops the entries of a room the person left or lost
// access to.
func (c *Client) dropRoomLocked(room string, why *shared.Error) []Event {
	var evs []Event
	for _, p := range append([]Pending(nil), c.outbox...) {
		if p.Room == room && !c.pace.inflight[p.MsgID] {
			evs = append(evs, c.dropLocked(p, why))
		}
	}
	return evs
}

// mergeOutboxLocked adds the entries Storage holds that this client does
// not (another tab's), keeping the outbox in queueing order: by time, then
// by each client's N. Resending them is safe: their msg_ids make the
// server answer one already stored with its original ack.
func (c *Client) mergeOutboxLocked(stored []Pending) {
	have := make(map[string]bool, len(c.outbox))
	for _, p := range c.outbox {
		have[p.MsgID] = true
	}
	added := false
	for _, p := range stored {
		if !have[p.MsgID] {
			c.outbox = append(c.outbox, p)
			added = true
		}
		c.outboxN = max(c.outboxN, p.N)
		c.outboxTS = max(c.outboxTS, p.TS)
	}
	if added {
		// Sorted in a copy: an Outbox snapshot may share the old array.
		c.outbox = append([]Pending(nil), c.outbox...)
		sort.SliceStable(c.outbox, func(i, j int) bool {
			a, b := c.outbox[i], c.outbox[j]
			if a.TS != b.TS {
				return a.TS < b.TS
			}
			if a.N != b.N {
				return a.N < b.N
			}
			return a.MsgID < b.MsgID
		})
	}
}

// ClearOutbox forgets every entry of the outbox, in Storage too (other
// tabs' included): for signing out, so nothing goes out under the next
// identity.
func (c *Client) ClearOutbox() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.clearOutboxLocked()
}

// newMsgID returns a random msg_id: 96 bits make collisions negligible.
func newMsgID() string {
	var b [12]byte
	cryptorand.Read(b[:])
	return "m" + hex.EncodeToString(b[:])
}
