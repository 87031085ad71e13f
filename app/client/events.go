package client

import (
	"context"
	"errors"
	"slices"
	"sort"
	"time"

	"github.com/duplex-chat/duplex/shared"
)

// Edits, deletions, reactions and replies (PROTOCOL.md 7.12 and 7.13).
//
// An event arrives as a MessageReceived whose Message has a Kind (edit,
// delete, react, unreact) and a Target: it carries the target's state
// after the change (Body, Edited, Deleted, Reactions), so Apply copies
// those onto the target, and applying an event twice or late changes
// nothing. The client applies events to the messages it holds
// (messages.go), so Messages shows every message in its latest state.
//
// Edit, Delete and React are requests that wait for their ack. Each
// picks one msg_id and resends it after a disconnect or a retryable
// error until ctx ends, so a retry never doubles the event. Reply goes
// through the outbox like Send: it survives reconnects and reloads.

// Apply copies the state event ev carries onto the message of msgs (in
// ascending seq order) whose seq is ev.Target, in place, and renews the
// quotes of the replies to it in msgs (as the server would quote it now).
// It reports whether msgs held the target or a reply to it. It does
// nothing for a message (Kind ""). It is ApplyAs for a reader with no
// identity.
func Apply(msgs []shared.Message, ev shared.Message) bool { return ApplyAs(msgs, ev, "") }

// ApplyAs is Apply for the user me, who keeps the Me flags of the
// reactions right: a reaction frame (ev.Reaction set) changes one emoji's
// count, and its Me when ev.Author is me; an edit or delete carries the
// target's counts, and the Me flags held stay.
func ApplyAs(msgs []shared.Message, ev shared.Message, me string) bool {
	if ev.Kind == shared.KindMessage {
		return false
	}
	found := false
	i := sort.Search(len(msgs), func(i int) bool { return msgs[i].Seq >= ev.Target })
	if i < len(msgs) && msgs[i].Seq == ev.Target {
		t := &msgs[i]
		if ev.Reaction != nil && (ev.Kind == shared.KindReact || ev.Kind == shared.KindUnreact) {
			t.Reactions = applyReaction(t.Reactions, ev, me)
			return true
		}
		t.Body, t.Edited, t.Deleted = ev.Body, ev.Edited, ev.Deleted
		t.Reactions = mergeReactions(t.Reactions, ev.Reactions, me)
		found = true
	}
	if ev.Kind == shared.KindEdit || ev.Kind == shared.KindDelete {
		excerpt := shared.Excerpt(ev.Body)
		if ev.Deleted {
			excerpt = ""
		}
		for j := i; j < len(msgs); j++ { // replies come after their parent
			if r := msgs[j].ReplyTo; r != nil && r.Seq == ev.Target && r.Excerpt != excerpt {
				q := *r // the old quote may be shared with a copy of msgs
				q.Excerpt = excerpt
				msgs[j].ReplyTo = &q
				found = true
			}
		}
	}
	return found
}

// Reply sends body as a reply to the message parent of room, through the
// outbox (see Send).
func (c *Client) Reply(room string, parent int64, body string) (string, error) {
	if parent < 1 {
		return "", shared.Errorf(shared.CodeInvalid, "reply needs the seq of a message, got %d", parent)
	}
	return c.send(room, body, parent, nil)
}

// Edit replaces the body of one's own message seq in room and waits for
// the ack: the edit's own seq.
func (c *Client) Edit(ctx context.Context, room string, seq int64, body string) (shared.SendAck, error) {
	if err := shared.ValidBody(body); err != nil {
		return shared.SendAck{}, err
	}
	return c.event(ctx, &shared.Send{Room: room, Kind: shared.KindEdit, Target: seq, Body: body})
}

// Delete deletes one's own message seq in room, text and all, and waits
// for the ack. Deleting a deleted message is acked with seq = seq.
func (c *Client) Delete(ctx context.Context, room string, seq int64) (shared.SendAck, error) {
	return c.event(ctx, &shared.Send{Room: room, Kind: shared.KindDelete, Target: seq})
}

// React adds (on) or removes one's reaction emoji to message seq of room
// and waits for the ack. When the reaction already was so the ack's Seq
// is seq and nothing was broadcast.
func (c *Client) React(ctx context.Context, room string, seq int64, emoji string, on bool) (shared.SendAck, error) {
	if err := shared.ValidEmoji(emoji); err != nil {
		return shared.SendAck{}, err
	}
	kind := shared.KindReact
	if !on {
		kind = shared.KindUnreact
	}
	return c.event(ctx, &shared.Send{Room: room, Kind: kind, Target: seq, Emoji: emoji})
}

// event sends s under one new msg_id, again after a disconnect or a
// retryable refusal, until it is answered for good or ctx ends.
func (c *Client) event(ctx context.Context, s *shared.Send) (shared.SendAck, error) {
	if err := shared.ValidRoom(s.Room); err != nil {
		return shared.SendAck{}, err
	}
	if s.Target < 1 {
		return shared.SendAck{}, shared.Errorf(shared.CodeInvalid, "%s needs the seq of a message, got %d", s.Kind, s.Target)
	}
	s.MsgID = newMsgID()
	for {
		if err := c.waitLive(ctx, s.Room); err != nil {
			return shared.SendAck{}, err
		}
		f, err := c.request(ctx, shared.TypeSend, s)
		switch {
		case err == nil:
		case ctx.Err() != nil || errors.Is(err, ErrClosed):
			return shared.SendAck{}, err
		default: // the connection dropped: waitLive waits for the next session
			select {
			case <-time.After(50 * time.Millisecond):
			case <-ctx.Done():
				return shared.SendAck{}, ctx.Err()
			}
			continue
		}
		ack, err := decodeAnswer[shared.SendAck](f)
		var pe *shared.Error
		if !errors.As(err, &pe) || !pe.Code.Retryable() {
			return ack, err
		}
		select {
		case <-time.After(retryDelay(pe)):
		case <-ctx.Done():
			return shared.SendAck{}, ctx.Err()
		}
	}
}

// waitLive waits until room is joined and live on an open session: an
// event sent before the rejoin that follows a reconnect would be refused
// with not_joined.
func (c *Client) waitLive(ctx context.Context, room string) error {
	for {
		c.mu.Lock()
		rs := c.rooms[room]
		if rs == nil || !rs.wanted {
			c.mu.Unlock()
			return shared.Errorf(shared.CodeNotJoined, "join room %q before changing its messages", room)
		}
		if rs.live && c.state == StateOnline && c.conn != nil {
			c.mu.Unlock()
			return nil
		}
		ch := rs.liveCh
		c.mu.Unlock()
		select {
		case <-ch:
		case <-time.After(250 * time.Millisecond): // liveCh is replaced on disconnect
		case <-ctx.Done():
			return ctx.Err()
		case <-c.done:
			return ErrClosed
		}
	}
}

// applyReaction returns held (never changed: a snapshot may share it)
// with reaction frame ev applied: its emoji at its new count (gone at 0),
// Me set when me acted.
func applyReaction(held []shared.Reaction, ev shared.Message, me string) []shared.Reaction {
	ch := ev.Reaction
	mine := me != "" && ev.Author.User == me
	out := make([]shared.Reaction, 0, len(held)+1)
	seen := false
	for _, r := range held {
		if r.Emoji == ch.Emoji {
			seen = true
			r.Count, r.Users = ch.Count, nil
			if mine {
				r.Me = ev.Kind == shared.KindReact
			}
			if r.Count <= 0 {
				continue
			}
		}
		out = append(out, r)
	}
	if !seen && ch.Count > 0 && len(out) < shared.MaxReactionKinds {
		out = append(out, shared.Reaction{Emoji: ch.Emoji, Count: ch.Count, Me: mine && ev.Kind == shared.KindReact})
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// mergeReactions takes the reactions an event carries and sets their Me:
// from the users an older server lists, else as held (a frame every
// member gets alike cannot say it).
func mergeReactions(held, in []shared.Reaction, me string) []shared.Reaction {
	if len(in) == 0 {
		return nil
	}
	out := make([]shared.Reaction, len(in))
	for i, r := range in {
		heldMe := false
		for _, h := range held {
			if h.Emoji == r.Emoji {
				heldMe = h.Me
			}
		}
		listed := me != "" && slices.Contains(r.Users, me)
		if r.Users != nil {
			r.Me = listed || len(r.Users) < r.Count && heldMe
		} else {
			r.Me = r.Me || heldMe
		}
		out[i] = r
	}
	return out
}
