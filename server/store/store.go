// Package store defines the history store the server persists messages to,
// with an in-memory implementation for tests and embedding. The durable
// default lives in the sqlite sub-package.
package store

import (
	"context"
	"errors"

	"github.com/duplex-chat/duplex/shared"
)

// ErrClosed is returned by a store after Close.
var ErrClosed = errors.New("store: closed")

// NewMessage is a message or an event to append. The store assigns its
// seq. An event (Kind edit, delete, react, unreact) changes the message
// whose seq is Target; the store checks the rules of events.go inside its
// transaction, so concurrent requests cannot race past them.
type NewMessage struct {
	Room   string
	MsgID  string
	Author shared.Member
	Body   string
	TS     int64 // server time, Unix milliseconds
	// Kind, Target and Emoji make the row an event (see shared.Send).
	Kind   shared.Kind
	Target int64
	Emoji  string
	// ReplyTo is the seq of the message a new message replies to.
	ReplyTo int64
	// Mentions are the user ids the server resolved from the body's
	// @nicks at send time; they are stored with the message and fixed
	// (an edit does not change them).
	Mentions []string
	// Image is the image the message carries (nil: none), stored with it
	// so history and resume return it.
	Image *shared.Image
	// MaxEmoji, for a react, is the most distinct emoji the target may
	// carry: a react that would add another is refused with
	// shared.CodeReactionLimit (0 or more than shared.MaxReactionKinds:
	// shared.MaxReactionKinds).
	MaxEmoji int
}

// SameImage reports whether a stored message's image is the one a resend
// of it names: a msg_id reused with another image is a conflict.
func SameImage(a, b *shared.Image) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.ID == b.ID
}

// Result is the outcome of appending one NewMessage.
type Result struct {
	// Message is the stored message: the new one, or for a duplicate the
	// one stored first under the same msg_id.
	Message shared.Message
	// Duplicate is true when nothing new was written: the msg_id was
	// already stored in the room for the same request, or the event was a
	// no-op (see NoOp).
	Duplicate bool
	// Err is a *shared.Error when nothing was written because the request
	// broke a rule: CodeConflict when the msg_id was already used with
	// another body, author or image, and for events CodeNotFound,
	// CodeForbidden or CodeInvalid (see events.go).
	Err error

	// Erasure (issue #15). Orphaned is set on a delete that took the
	// last message of the room that carried an image: that image's id,
	// so the caller can remove its file (files.Remover). Empty when the
	// deleted message had no image or another live message carries it.
	Orphaned string
}

// Store keeps rooms, their members and their messages. Implementations are
// safe for concurrent use. The server calls Append from a single goroutine,
// so an implementation may rely on appends not racing each other.
type Store interface {
	Reads    // read markers and unread counts: read.go
	Searcher // full-text search: read.go
	// Append stores msgs atomically in one transaction, in order, assigning
	// each new message the next seq of its room. When it returns without
	// error every result is durable.
	Append(ctx context.Context, msgs []NewMessage) ([]Result, error)
	// After returns up to limit messages of room with seq > after, oldest first.
	After(ctx context.Context, room string, after int64, limit int) ([]shared.Message, error)
	// Before returns up to limit messages of room with seq < before (any
	// seq when before is 0), oldest first: the page just older than before.
	Before(ctx context.Context, room string, before int64, limit int) ([]shared.Message, error)
	// Head returns the newest seq of room, 0 when it has no message.
	Head(ctx context.Context, room string) (int64, error)
	// AddMember records that member joined room, creating the room as a
	// public one if it does not exist.
	AddMember(ctx context.Context, room string, member shared.Member) error
	// Rooms lists the rooms q.User may see (public rooms, and the private
	// and DM rooms whose access list holds q.User), most recently active
	// first, at most q.Limit, only those with Active < q.Before when
	// q.Before > 0. Members is left 0 (live presence is the server's
	// business); for a DM, Peer holds the other user's id only.
	Rooms(ctx context.Context, q RoomQuery) ([]shared.RoomInfo, error)
	// Room returns what the store keeps about a room; ok is false when no
	// such room exists.
	Room(ctx context.Context, name string) (meta RoomMeta, ok bool, err error)
	// CreateRoom creates a room with meta and gives meta.Owner and
	// meta.Users access to it. If the room exists nothing changes, and the
	// existing room's meta is returned with created false.
	CreateRoom(ctx context.Context, meta RoomMeta) (existing RoomMeta, created bool, err error)
	// Grant puts user on room's access list; Revoke takes them off.
	Grant(ctx context.Context, room, user string) error
	Revoke(ctx context.Context, room, user string) error
	// HasAccess reports whether user is on room's access list.
	HasAccess(ctx context.Context, room, user string) (bool, error)
	// User returns the member record last stored for a user id (the nick
	// they last joined a room with); ok is false for an unknown user.
	User(ctx context.Context, id string) (m shared.Member, ok bool, err error)
	// Prune removes up to limit messages that fall outside r, oldest
	// first in each room, and returns how many it removed (fewer than
	// limit: nothing more to remove now). Each room keeps a contiguous
	// tail: a message goes only with every older one. A pruned message's
	// msg_id no longer deduplicates. The server calls it from one
	// background goroutine in small batches, so a call should hold the
	// store's write lock only briefly.
	Prune(ctx context.Context, r Retention, limit int) (int, error)
	// Pruned returns the highest seq of room that Prune removed, 0 when
	// none: messages up to it are gone, the ones after it are kept.
	Pruned(ctx context.Context, room string) (int64, error)
	// Close releases the store.
	Close() error
}

// RoomMeta is what a store keeps about a room besides its messages.
type RoomMeta struct {
	Name string
	Kind shared.RoomKind // empty is read as public
	// Owner created a private room; only they may remove others.
	Owner string
	// Users are given access on creation besides Owner: the two users of
	// a DM.
	Users []string
}

// RoomQuery selects a page of the room list for one user.
type RoomQuery struct {
	User   string
	Before int64 // 0: from the most recently active
	Limit  int
}

// Pinger is implemented by stores that can tell whether they can still
// write: a cheap, real write, so that a full or read-only disk shows up in
// a readiness probe instead of in users' failed sends. The server's Ready
// calls it when the store has it.
type Pinger interface {
	Ping(ctx context.Context) error
}

// Follower is implemented by a store that follows a log other processes
// append to (a cluster node: server/cluster), and so may be a moment
// behind it. CatchUp returns once room is applied as far as its log
// reached when CatchUp was called. The server calls it when a client
// knows of a seq this store does not have yet (it saw it through
// another node).
type Follower interface {
	CatchUp(ctx context.Context, room string) error
}

// Retention says which messages Prune removes. A zero field keeps
// everything it would govern.
type Retention struct {
	// KeepCount keeps the newest KeepCount messages of each room.
	KeepCount int64
	// Before removes messages whose TS (Unix ms) is older than it.
	Before int64
}

// IsZero reports whether r keeps everything.
func (r Retention) IsZero() bool { return r.KeepCount <= 0 && r.Before <= 0 }

// Cut returns the highest seq r removes from a room that holds seqs
// pruned+1 to head, given ts[i], the TS of seq pruned+1+i, for as many of
// the oldest messages as the caller looked at. It is pruned when r removes
// nothing.
func (r Retention) Cut(pruned, head int64, ts []int64) int64 {
	upto := pruned
	if r.KeepCount > 0 {
		upto = max(upto, head-r.KeepCount)
	}
	if r.Before > 0 {
		for i, t := range ts {
			seq := pruned + 1 + int64(i)
			if seq > head || t >= r.Before {
				break
			}
			upto = max(upto, seq)
		}
	}
	return upto
}

// Conflict builds the error a store returns for a reused msg_id.
func Conflict(room, msgID string) error {
	return shared.Errorf(shared.CodeConflict, "msg_id %q was already used in room %q for a different message", msgID, room)
}
