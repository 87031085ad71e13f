package client

import "github.com/duplex-chat/duplex/shared"

// State is the connection state.
type State string

// Connection states.
const (
	StateConnecting State = "connecting"
	StateOnline     State = "online"
	StateOffline    State = "offline"
)

// Event is one of the *Changed, *Received, *Acked, *Failed and Joined types
// below, delivered in order on Client.Events.
type Event interface{ isEvent() }

// StateChanged reports a new connection state. Err says why the connection
// went offline, if it did.
type StateChanged struct {
	State State
	Err   error
}

// MessageReceived delivers a room message, in seq order, exactly once.
type MessageReceived struct{ Message shared.Message }

// MessageAcked reports that a send (a message or an edit, deletion or
// reaction) is durably stored.
type MessageAcked struct{ Ack shared.SendAck }

// MessageFailed reports that an outbox entry was refused for good (by the
// server, or because its room was left or could not be joined); it has
// left the outbox. Pending.Kind says what it was.
type MessageFailed struct {
	Pending Pending
	Err     *shared.Error
}

// Joined reports that a room's replay is complete and it is live. When
// Ack.PrunedBefore is not 0, retention removed messages the client did not
// have: nothing older than that seq can be fetched, and a UI should say
// that older messages were removed. (History answers carry the same
// field.)
type Joined struct{ Ack shared.JoinAck }

// PresenceChanged gives a room's full member list, sorted by nick, when
// the room is (re)joined, and its member count. In a room larger than the
// server's presence threshold Members is empty and the event comes again
// whenever the server updates the count (Client.MembersPage pages the list).
type PresenceChanged struct {
	Room    string
	Members []shared.Member
	Count   int
}

// MemberJoined reports a user entering a room (their first tab there),
// or changing nick. Client.Members gives the whole list. The server
// coalesces presence, so these come in bursts, a few times a second.
type MemberJoined struct {
	Room   string
	Member shared.Member
}

// MemberLeft reports a user leaving a room (their last tab there).
type MemberLeft struct {
	Room   string
	Member shared.Member
}

// RoomsChanged gives the server's room list.
type RoomsChanged struct{ Rooms []shared.RoomInfo }

// ErrorReceived reports an error frame that answered no pending request,
// or a refused hello (then a StateChanged to offline follows, with the
// same error, unless the client could start over as a new anonymous user).
type ErrorReceived struct{ Err *shared.Error }

// RoomRemoved reports that this user lost access to a private room; it is
// no longer joined.
type RoomRemoved struct{ Room string }

func (StateChanged) isEvent()    {}
func (MessageReceived) isEvent() {}
func (MessageAcked) isEvent()    {}
func (MessageFailed) isEvent()   {}
func (Joined) isEvent()          {}
func (PresenceChanged) isEvent() {}
func (MemberJoined) isEvent()    {}
func (MemberLeft) isEvent()      {}
func (RoomsChanged) isEvent()    {}
func (ErrorReceived) isEvent()   {}
func (RoomRemoved) isEvent()     {}

// TypingChanged says who is typing in a room now, without this user
// (Users empty: nobody). It comes when the list changes: the server
// coalesces and expires typists (shared.TypingTTL after their last typing
// frame, or when they send, stop or leave); going offline clears it.
type TypingChanged struct {
	Room  string
	Users []shared.Member
}

func (TypingChanged) isEvent() {}
