package store

import (
	"context"

	"github.com/duplex-chat/duplex/shared"
)

// The rules of events and replies, shared by every store so they answer
// alike (the storetest suite checks them). A store looks up the target
// inside its write transaction and asks CheckEvent; nothing is written
// when it returns an error.
//
//   - The target must be a message (Kind "") of the same room that is
//     still stored: else CodeNotFound (an event, a seq beyond the head or
//     one removed by retention are all "no such message").
//   - Only the target's author (same user id) may edit or delete it:
//     else CodeForbidden.
//   - A deleted message cannot be edited or reacted to: CodeInvalid.
//   - No-ops write nothing and are answered with Result.Duplicate and a
//     Message whose Seq is the Target (see NoOp): deleting a deleted
//     message, a react that is already in place and an unreact that is
//     not. So an ack with seq == target means "already so".
//   - A reply's ReplyTo must be a message of the same room (CodeNotFound
//     otherwise). A reply to a deleted message is allowed: its quote has
//     an empty excerpt.

// TargetState is what a store knows about an event's target.
type TargetState struct {
	Found   bool        // a row with that seq is stored in the room
	Kind    shared.Kind // the row's kind: "" for a message
	Author  string      // its author's user id
	Deleted bool
}

// CheckEvent applies the rules to an event nm on target t. noop is true
// when the event must write nothing and be answered with NoOp.
func CheckEvent(nm NewMessage, t TargetState) (noop bool, err error) {
	if !t.Found {
		return false, shared.Errorf(shared.CodeNotFound, "no message %d in room %q", nm.Target, nm.Room)
	}
	if t.Kind != shared.KindMessage {
		return false, shared.Errorf(shared.CodeNotFound, "seq %d in room %q is a %s event, not a message", nm.Target, nm.Room, t.Kind)
	}
	if (nm.Kind == shared.KindEdit || nm.Kind == shared.KindDelete) && t.Author != nm.Author.User {
		return false, shared.Errorf(shared.CodeForbidden, "only its author may %s message %d", nm.Kind, nm.Target)
	}
	if t.Deleted {
		if nm.Kind == shared.KindDelete {
			return true, nil
		}
		return false, shared.Errorf(shared.CodeInvalid, "message %d was deleted: it cannot take a %s", nm.Target, nm.Kind)
	}
	return false, nil
}

// ReplyNotFound is the error for a reply whose parent is not a stored
// message of the room.
func ReplyNotFound(room string, seq int64) error {
	return shared.Errorf(shared.CodeNotFound, "reply_to %d: no such message in room %q", seq, room)
}

// NoOp is the result of an event that changed nothing: the target's
// current state, shaped as the event would have been, with the target's
// seq, and Duplicate set so nothing is published.
func NoOp(nm NewMessage, target shared.Message) Result {
	base := shared.Message{Room: nm.Room, Seq: nm.Target, TS: nm.TS, Author: nm.Author, MsgID: nm.MsgID, Kind: nm.Kind, Target: nm.Target}
	if nm.Kind == shared.KindReact || nm.Kind == shared.KindUnreact {
		n := 0
		for _, r := range target.Reactions {
			if r.Emoji == nm.Emoji {
				n = r.Count
			}
		}
		return Result{Message: ReactionEvent(base, nm.Emoji, n), Duplicate: true}
	}
	ev := EventOf(base, target)
	return Result{Message: ev, Duplicate: true}
}

// EventOf returns event ev carrying target's current state: what After
// returns for an event row, so applying it twice or late changes nothing.
//
// A react or unreact is shown as its change instead (ReactionEvent).
func EventOf(ev, target shared.Message) shared.Message {
	ev.Body, ev.Edited, ev.Deleted, ev.Reactions = target.Body, target.Edited, target.Deleted, target.Reactions
	ev.ReplyTo = nil
	return ev
}

// SameRequest reports whether nm repeats the request stored as old (same
// msg_id): the same author, kind, target, emoji and reply_to, and the same
// body and image unless the store has scrubbed them because the message
// was deleted.
func SameRequest(old NewMessage, scrubbed bool, nm NewMessage) bool {
	return old.Author.User == nm.Author.User && old.Kind == nm.Kind && old.Target == nm.Target &&
		old.Emoji == nm.Emoji && old.ReplyTo == nm.ReplyTo && (scrubbed || old.Body == nm.Body && SameImage(old.Image, nm.Image))
}

// Reactions (PROTOCOL.md 7.12). A store keeps, for each message, one
// count per emoji in the order each emoji appeared on it (an emoji whose
// count falls to 0 leaves; coming back, it goes last), and each user's
// reactions; it updates both for each react or unreact, so no write reads
// every reaction of a message. A react or unreact row is shown as the
// change (ReactionEvent): the emoji and its current count on the target.

// EmojiCap is the most distinct emoji nm's target may carry.
func EmojiCap(nm NewMessage) int {
	if nm.MaxEmoji <= 0 || nm.MaxEmoji > shared.MaxReactionKinds {
		return shared.MaxReactionKinds
	}
	return nm.MaxEmoji
}

// ReactionLimit is the refusal of a react that would add a kind of emoji
// beyond EmojiCap.
func ReactionLimit(nm NewMessage) error {
	return shared.Errorf(shared.CodeReactionLimit, "message %d already carries %d kinds of reaction, the most allowed: react with one of them", nm.Target, EmojiCap(nm))
}

// ReactionEvent is how a react or unreact row is delivered: who acted on
// which message, the emoji and the count it has on the target now. It
// carries neither the target's body nor its reactions list.
func ReactionEvent(row shared.Message, emoji string, count int) shared.Message {
	ev := shared.Message{Room: row.Room, Seq: row.Seq, TS: row.TS, Author: row.Author, MsgID: row.MsgID, Kind: row.Kind, Target: row.Target}
	ev.Reaction = &shared.Reaction{Emoji: emoji, Count: count}
	return ev
}

type viewerKey struct{}

// WithViewer returns ctx for reads on behalf of user: the messages After,
// Before and Search return then have Reaction.Me set for user's own
// reactions. Without a viewer Me stays false (a page anyone may fetch).
func WithViewer(ctx context.Context, user string) context.Context {
	return context.WithValue(ctx, viewerKey{}, user)
}

// Viewer is the user WithViewer named, or "".
func Viewer(ctx context.Context) string {
	u, _ := ctx.Value(viewerKey{}).(string)
	return u
}

// ReplyOf is the quote a reply carries of parent; found is false when the
// parent is no longer stored (removed by retention): the quote then has
// its seq only.
func ReplyOf(seq int64, parent shared.Message, found bool) *shared.Reply {
	if !found {
		return &shared.Reply{Seq: seq}
	}
	r := &shared.Reply{Seq: seq, Author: parent.Author}
	if !parent.Deleted {
		r.Excerpt = shared.Excerpt(parent.Body)
	}
	return r
}
