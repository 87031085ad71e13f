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

// The outbox holds every send until the server answers it for good. Each
// entry is saved in Storage under its own key the moment Send returns (see
// persist.go), so two tabs of one browser never overwrite each other's
// unsent messages, and whichever tab connects resends them all: the msg_id
// makes a resend of something already stored return the original ack.

// Pending is an unacknowledged send held in the outbox.
type Pending struct {
	Room  string `json:"room"`
	MsgID string `json:"msg_id"`
	Body  string `json:"body"`
	TS    int64  `json:"ts"` // client time it was written, Unix ms
	// ReplyTo is the seq of the message this one replies to (Reply).
	ReplyTo int64 `json:"reply_to,omitempty"`
	// Image is the id of an uploaded image the message carries (SendImage).
	Image string `json:"image,omitempty"`
	// N orders sends written in the same millisecond by one client.
	N int64 `json:"n,omitempty"`
}

// frame is the send request that delivers p.
func (p Pending) frame() *shared.Send {
	return &shared.Send{Room: p.Room, MsgID: p.MsgID, Body: p.Body, ReplyTo: p.ReplyTo, Image: p.Image}
}

// Outbox returns the sends not yet acknowledged, oldest first.
func (c *Client) Outbox() []Pending {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Pending(nil), c.outbox...)
}

// Send validates body, puts the message in the outbox (and Storage) and
// sends it when the room is live. It returns the msg_id at once; the
// outcome arrives as MessageAcked or MessageFailed. The room must have been
// joined.
func (c *Client) Send(room, body string) (string, error) {
	return c.send(room, body, 0, nil)
}

// SendWait is Send followed by waiting for the ack. If ctx ends first the
// message stays in the outbox and is still delivered later.
func (c *Client) SendWait(ctx context.Context, room, body string) (shared.SendAck, error) {
	ch := make(chan shared.Frame, 1)
	id, err := c.send(room, body, 0, ch)
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

// send queues a message (a reply when replyTo is not 0); a non-nil done
// receives its final answer.
func (c *Client) send(room, body string, replyTo int64, done chan shared.Frame) (string, error) {
	if err := shared.ValidBody(body); err != nil {
		return "", err
	}
	return c.queue(Pending{Room: room, MsgID: newMsgID(), Body: body, TS: time.Now().UnixMilli(), ReplyTo: replyTo}, done)
}

// queue puts p in the outbox and sends it when its room is live; a non-nil
// done receives its final answer.
func (c *Client) queue(p Pending, done chan shared.Frame) (string, error) {
	room := p.Room
	if err := shared.ValidRoom(room); err != nil {
		return "", err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	rs := c.rooms[room]
	if rs == nil || !rs.wanted {
		return "", shared.Errorf(shared.CodeNotJoined, "join room %q before sending to it", room)
	}
	if done != nil {
		c.sendWaits[p.MsgID] = done
	}
	c.stopTypingLocked(room, false) // the server clears a typist who sends
	c.addPendingLocked(p)
	switch {
	case rs.live && c.pace.active():
		c.pace.held[p.MsgID] = true // behind the refused ones, in order
		c.paceNextLocked()
	case rs.live:
		c.sendPendingLocked(p)
	}
	return p.MsgID, nil
}

// addPendingLocked appends p to the outbox and saves it under its key.
func (c *Client) addPendingLocked(p Pending) {
	c.outboxN++
	p.N = c.outboxN
	c.outbox = append(c.outbox, p)
	c.savePendingLocked(p)
}

// sendPendingLocked sends one outbox entry; its request id is its msg_id.
func (c *Client) sendPendingLocked(p Pending) {
	if c.conn == nil {
		return
	}
	id := p.MsgID
	c.startLocked(shared.TypeSend, id, p.frame(), &waiter{then: func(f shared.Frame) { c.sendAnswer(id, f) }})
}

// resendRoomLocked sends the outbox entries of a room that just went live.
func (c *Client) resendRoomLocked(room string) {
	for _, p := range c.outbox {
		if p.Room == room {
			c.sendPendingLocked(p)
		}
	}
}

// sendAnswer handles the answer to a send: an ack or a refusal for good
// ends it (MessageAcked, MessageFailed, SendWait returns); rate_limited
// and other retryable errors send it again later.
func (c *Client) sendAnswer(msgID string, f shared.Frame) {
	c.mu.Lock()
	ev := c.sendAnswerLocked(msgID, f)
	if done := c.sendWaits[msgID]; done != nil && ev != nil {
		delete(c.sendWaits, msgID)
		done <- f
	}
	c.mu.Unlock()
	if ev != nil {
		c.emit(ev)
	}
}

func (c *Client) sendAnswerLocked(msgID string, f shared.Frame) Event {
	ack, err := decodeAnswer[shared.SendAck](f)
	var pe *shared.Error
	if errors.As(err, &pe) && pe.Code == shared.CodeRateLimited {
		if _, ok := c.pendingLocked(msgID); ok {
			c.holdLocked(msgID, retryDelay(pe))
		}
		return nil
	}
	if errors.As(err, &pe) && pe.Code.Retryable() {
		if p, ok := c.pendingLocked(msgID); ok {
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
	c.pacedAnswerLocked(msgID)
	p, ok := c.pendingLocked(msgID)
	if !ok {
		return nil // a second answer to a resend
	}
	c.removePendingLocked(msgID)
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

// removePendingLocked takes msgID out of the outbox and deletes its key.
func (c *Client) removePendingLocked(msgID string) bool {
	for i, p := range c.outbox {
		if p.MsgID == msgID {
			c.outbox = append(c.outbox[:i:i], c.outbox[i+1:]...)
			c.deletePendingLocked(msgID)
			return true
		}
	}
	return false
}

// mergeOutboxLocked adds the entries Storage holds that this client does
// not (another tab's unsent messages), keeping the outbox in send order.
// Resending them is safe: their msg_ids make the server answer a message
// already stored with its original ack.
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
	}
	if added {
		sort.SliceStable(c.outbox, func(i, j int) bool {
			a, b := c.outbox[i], c.outbox[j]
			if a.TS != b.TS {
				return a.TS < b.TS
			}
			return a.N < b.N
		})
	}
}

// newMsgID returns a random msg_id: 96 bits make collisions negligible.
func newMsgID() string {
	var b [12]byte
	cryptorand.Read(b[:])
	return "m" + hex.EncodeToString(b[:])
}
