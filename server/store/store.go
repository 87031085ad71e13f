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

// NewMessage is a message to append. The store assigns its seq.
type NewMessage struct {
	Room   string
	MsgID  string
	Author shared.Member
	Body   string
	TS     int64 // server time, Unix milliseconds
}

// Result is the outcome of appending one NewMessage.
type Result struct {
	// Message is the stored message: the new one, or for a duplicate the
	// one stored first under the same msg_id.
	Message shared.Message
	// Duplicate is true when the msg_id was already stored in the room with
	// the same author and body: nothing new was written.
	Duplicate bool
	// Err is a *shared.Error with CodeConflict when the msg_id was already
	// used with another body or author; nothing was written.
	Err error
}

// Store keeps rooms, their members and their messages. Implementations are
// safe for concurrent use. The server calls Append from a single goroutine,
// so an implementation may rely on appends not racing each other.
type Store interface {
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
	// AddMember records that member joined room, creating the room.
	AddMember(ctx context.Context, room string, member shared.Member) error
	// Rooms lists up to limit rooms, most recently active first. Members is
	// left 0: live presence is the server's business.
	Rooms(ctx context.Context, limit int) ([]shared.RoomInfo, error)
	// Close releases the store.
	Close() error
}

// Conflict builds the error a store returns for a reused msg_id.
func Conflict(room, msgID string) error {
	return shared.Errorf(shared.CodeConflict, "msg_id %q was already used in room %q for a different message", msgID, room)
}
