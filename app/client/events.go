package client

import (
	"context"
	"slices"
	"sort"

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
// Edit, Delete, React and Reply go through the outbox like Send
// (outbox.go): in order with everything else the person does, each under
// one msg_id, so a resend never doubles the event, and they survive
// reconnects and reloads. Edit, Delete and React wait for the ack;
// QueueEdit, QueueDelete and QueueReact return at once. PendingApplied
// shows the unacknowledged ones on the messages.

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

// Edit replaces the body of one's own message seq in room through the
// outbox and waits for the ack: the edit's own seq. If ctx ends first the
// edit stays in the outbox and is still applied later.
func (c *Client) Edit(ctx context.Context, room string, seq int64, body string) (shared.SendAck, error) {
	p, err := editEntry(room, seq, body)
	if err != nil {
		return shared.SendAck{}, err
	}
	return c.queueWait(ctx, p)
}

// Delete deletes one's own message seq in room, text and all, through
// the outbox and waits for the ack. Deleting a deleted message is acked
// with seq = seq.
func (c *Client) Delete(ctx context.Context, room string, seq int64) (shared.SendAck, error) {
	p, err := deleteEntry(room, seq)
	if err != nil {
		return shared.SendAck{}, err
	}
	return c.queueWait(ctx, p)
}

// React adds (on) or removes one's reaction emoji to message seq of room
// through the outbox and waits for the ack. When the reaction already was
// so the ack's Seq is seq and nothing was broadcast.
func (c *Client) React(ctx context.Context, room string, seq int64, emoji string, on bool) (shared.SendAck, error) {
	p, err := reactEntry(room, seq, emoji, on)
	if err != nil {
		return shared.SendAck{}, err
	}
	return c.queueWait(ctx, p)
}

// QueueEdit is Edit without waiting: it returns the msg_id at once, like
// Send; the outcome arrives as MessageAcked or MessageFailed (whose
// Pending.Kind says what failed).
func (c *Client) QueueEdit(room string, seq int64, body string) (string, error) {
	p, err := editEntry(room, seq, body)
	if err != nil {
		return "", err
	}
	return c.queue(p, nil)
}

// QueueDelete is Delete without waiting (see QueueEdit).
func (c *Client) QueueDelete(room string, seq int64) (string, error) {
	p, err := deleteEntry(room, seq)
	if err != nil {
		return "", err
	}
	return c.queue(p, nil)
}

// QueueReact is React without waiting (see QueueEdit).
func (c *Client) QueueReact(room string, seq int64, emoji string, on bool) (string, error) {
	p, err := reactEntry(room, seq, emoji, on)
	if err != nil {
		return "", err
	}
	return c.queue(p, nil)
}

func editEntry(room string, seq int64, body string) (Pending, error) {
	if err := shared.ValidBody(body); err != nil {
		return Pending{}, err
	}
	return eventEntry(Pending{Room: room, Kind: shared.KindEdit, Target: seq, Body: body})
}

func deleteEntry(room string, seq int64) (Pending, error) {
	return eventEntry(Pending{Room: room, Kind: shared.KindDelete, Target: seq})
}

func reactEntry(room string, seq int64, emoji string, on bool) (Pending, error) {
	if err := shared.ValidEmoji(emoji); err != nil {
		return Pending{}, err
	}
	kind := shared.KindReact
	if !on {
		kind = shared.KindUnreact
	}
	return eventEntry(Pending{Room: room, Kind: kind, Target: seq, Emoji: emoji})
}

// eventEntry checks what every event needs: a target.
func eventEntry(p Pending) (Pending, error) {
	if p.Target < 1 {
		return Pending{}, shared.Errorf(shared.CodeInvalid, "%s needs the seq of a message, got %d", p.Kind, p.Target)
	}
	return p, nil
}

// PendingApplied applies the outbox's unacknowledged edits, deletions and
// reactions of room to a copy of msgs (ascending seq, as Messages
// returns), as the server will once it has them, so a UI shows them at
// once; me is this user's id (for reactions). It returns msgs itself
// when no entry changes it.
func PendingApplied(msgs []shared.Message, outbox []Pending, room, me string) []shared.Message {
	copied := false
	for _, p := range outbox {
		if p.Room != room || p.Kind == shared.KindMessage || p.Kind == KindRead {
			continue
		}
		i := sort.Search(len(msgs), func(i int) bool { return msgs[i].Seq >= p.Target })
		if i == len(msgs) || msgs[i].Seq != p.Target || msgs[i].Kind != shared.KindMessage {
			continue
		}
		if !copied {
			msgs = append([]shared.Message(nil), msgs...)
			copied = true
		}
		t := &msgs[i]
		switch p.Kind {
		case shared.KindEdit:
			if !t.Deleted {
				t.Body, t.Edited = p.Body, max(t.Edited, p.TS, 1)
			}
		case shared.KindDelete:
			t.Body, t.Deleted, t.Reactions = "", true, nil
		case shared.KindReact, shared.KindUnreact:
			t.Reactions = withReaction(t.Reactions, p.Emoji, me, p.Kind == shared.KindReact)
		}
	}
	return msgs
}

// withReaction returns a copy of rs with the reader's (me's) own reaction
// emoji on or off: Me says whether the reader is among its reactors (or,
// from an older server, the list of users does).
func withReaction(rs []shared.Reaction, emoji, me string, on bool) []shared.Reaction {
	out := make([]shared.Reaction, 0, len(rs)+1)
	found := false
	for _, r := range rs {
		if r.Emoji != emoji {
			out = append(out, r)
			continue
		}
		found = true
		mine := r.Me || slices.Contains(r.Users, me)
		switch {
		case on && !mine:
			r.Count++
		case !on && mine:
			r.Count--
		}
		r.Me, r.Users = on, sampled(r.Users, me, on)
		if r.Count > 0 {
			out = append(out, r)
		}
	}
	if on && !found {
		out = append(out, shared.Reaction{Emoji: emoji, Count: 1, Me: true, Users: []string{me}})
	}
	return out
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
			r.Count, r.Users = ch.Count, sampled(r.Users, ev.Author.User, ev.Kind == shared.KindReact)
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
		r := shared.Reaction{Emoji: ch.Emoji, Count: ch.Count, Me: mine && ev.Kind == shared.KindReact}
		if ev.Kind == shared.KindReact && ch.Count == 1 {
			r.Users = []string{ev.Author.User}
		}
		out = append(out, r)
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// sampled returns a copy of users (the first reactors a summary names)
// with user added at the end (when on, and there is room) or taken out.
// A taken-out user's place stays empty until the next summary: the
// client cannot know who reacted next.
func sampled(users []string, user string, on bool) []string {
	i := slices.Index(users, user)
	switch {
	case on && i < 0 && len(users) < shared.ReactionSample:
		return append(slices.Clip(users), user)
	case !on && i >= 0:
		return slices.Delete(slices.Clone(users), i, i+1)
	}
	return users
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
		// Users names the first reactors only: when it names all of
		// them it says whether the reader is one; else as held.
		listed := me != "" && slices.Contains(r.Users, me)
		r.Me = listed || len(r.Users) < r.Count && (r.Me || heldMe)
		out[i] = r
	}
	return out
}
