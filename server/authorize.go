package server

import (
	"context"

	"github.com/duplex-chat/duplex/shared"
)

// Action is what an identity wants to do with a room; Options.Authorize
// decides each one.
type Action string

// Actions the server asks Options.Authorize about.
const (
	ActionList   Action = "list"   // see the room in the room list
	ActionCreate Action = "create" // create the room (join of an unknown room, create, dm)
	ActionJoin   Action = "join"   // subscribe, which replays its messages (resume too)
	ActionRead   Action = "read"   // page its history
	ActionSend   Action = "send"   // post a message
	ActionInvite Action = "invite" // give another user access
	ActionRemove Action = "remove" // take a user's access away
)

// RoomAccess is what Authorize knows about the room in question.
type RoomAccess struct {
	Name string
	// Kind is public, private or dm; a room that does not exist yet is
	// public (joining it creates it).
	Kind   shared.RoomKind
	Owner  string // creator of a private room
	Exists bool
	// Member is true when the identity is on the room's access list
	// (always false for public rooms, which have none).
	Member bool
}

// AuthorizeFunc decides whether id may do action on room: nil allows it;
// an error (best a *shared.Error with CodeForbidden) refuses it and is
// sent to the client.
type AuthorizeFunc func(ctx context.Context, id Identity, action Action, room RoomAccess) error

// DefaultAuthorize is the policy used when Options.Authorize is nil:
// public rooms are open to everyone; a private room to the users on its
// access list (its creator and those invited by someone on it), and only
// its owner removes; a DM room to its two users, with no invitations.
func DefaultAuthorize(_ context.Context, id Identity, action Action, room RoomAccess) error {
	switch room.Kind {
	case shared.RoomPrivate:
		switch {
		case action == ActionRemove && room.Owner != id.User:
			return shared.Errorf(shared.CodeForbidden, "only the owner of room %q may remove members", room.Name)
		case action == ActionCreate && room.Exists:
			return shared.Errorf(shared.CodeForbidden, "the name %q is taken", room.Name)
		case action != ActionCreate && !room.Member:
			return shared.Errorf(shared.CodeForbidden, "room %q is private", room.Name)
		}
	case shared.RoomDM:
		switch {
		case action == ActionInvite || action == ActionRemove:
			return shared.Errorf(shared.CodeForbidden, "a direct conversation has exactly two members")
		case action == ActionCreate:
			// The server names a DM after its two users, the asker
			// among them: creating it is opening one's own.
		case !room.Member:
			return shared.Errorf(shared.CodeForbidden, "room %q is a direct conversation of two other users", room.Name)
		}
	default:
		if action == ActionInvite || action == ActionRemove {
			return shared.Errorf(shared.CodeForbidden, "room %q is public: everyone may join it", room.Name)
		}
	}
	return nil
}
