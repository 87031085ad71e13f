package shared

import "encoding/json"

// Protocol is the WebSocket subprotocol a client must offer to speak version 1.
const Protocol = "duplex.v1"

// Type names a frame. Unknown types are rejected by Decode.
type Type string

// Client to server frame types.
const (
	TypeHello   Type = "hello"
	TypeJoin    Type = "join"
	TypeLeave   Type = "leave"
	TypeSend    Type = "send"
	TypeHistory Type = "history"
	TypeRooms   Type = "rooms"
)

// Server to client frame types.
const (
	TypeWelcome      Type = "welcome"
	TypeAck          Type = "ack"
	TypeError        Type = "error"
	TypeMessage      Type = "message"
	TypePresence     Type = "presence"
	TypeMemberJoined Type = "member_joined"
	TypeMemberLeft   Type = "member_left"
	TypeRoomList     Type = "room_list"
	TypeBatch        Type = "batch"
)

// Envelope is the outer shape of every frame: a type, the request id the
// client chose (requests, and the ack or error that answers them), and a
// type-specific payload.
type Envelope struct {
	Type Type            `json:"type"`
	ID   string          `json:"id,omitempty"`
	Data json.RawMessage `json:"data,omitempty"`
}

// Frame is a decoded envelope: Payload is a pointer to the struct that
// belongs to Type (for example *Send for TypeSend).
type Frame struct {
	Type    Type
	ID      string
	Payload any
}

// Hello opens a session. It must be the first frame on a connection.
type Hello struct {
	Nick string `json:"nick"`
	// User is the user id from an earlier Welcome; empty asks for a new one.
	User string `json:"user,omitempty"`
}

// Welcome answers Hello with the identity the server assigned.
type Welcome struct {
	Protocol string `json:"protocol"`
	Session  string `json:"session"`
	User     string `json:"user"`
	Nick     string `json:"nick"`
	// MaxBody is the largest body, in runes, the server accepts.
	MaxBody int `json:"max_body"`
}

// Join subscribes the connection to a room, creating it on first join.
// Since is the last seq the client already holds: the server replays every
// message after it, in order, then delivers live. Without Since the server
// sends the latest messages (at most DefaultRecent) first.
type Join struct {
	Room  string `json:"room"`
	Since *int64 `json:"since,omitempty"`
}

// JoinAck is the ack payload for Join, sent after the replay is complete.
type JoinAck struct {
	Room string `json:"room"`
	// Head is the seq of the newest message in the room at the time the
	// replay finished; every message up to it has been delivered.
	Head int64 `json:"head"`
	// First is the seq of the oldest message replayed or 0 when none was.
	First int64 `json:"first"`
}

// Leave unsubscribes the connection from a room.
type Leave struct {
	Room string `json:"room"`
}

// Send posts a message. MsgID is chosen by the client and is the
// idempotency key: a resend with the same id gets the original ack.
type Send struct {
	Room  string `json:"room"`
	MsgID string `json:"msg_id"`
	Body  string `json:"body"`
}

// SendAck is the ack payload for Send: the message is committed.
type SendAck struct {
	Room  string `json:"room"`
	MsgID string `json:"msg_id"`
	Seq   int64  `json:"seq"`
	TS    int64  `json:"ts"`
}

// History asks for up to Limit messages older than Before (scrollback).
// Before 0 means "the newest".
type History struct {
	Room   string `json:"room"`
	Before int64  `json:"before"`
	Limit  int    `json:"limit"`
}

// HistoryAck answers History with messages in ascending seq order.
type HistoryAck struct {
	Room     string    `json:"room"`
	Messages []Message `json:"messages"`
	// More is true when older messages exist.
	More bool `json:"more"`
}

// Rooms asks for the room list; the answer is a RoomList frame carrying the
// request id, so it is also the ack.
type Rooms struct{}

// Member is a user present in a room. User is the stable identity; Nick is
// only a display name and may change.
type Member struct {
	User string `json:"user"`
	Nick string `json:"nick"`
}

// Message is a stored chat message as delivered to room members.
type Message struct {
	Room   string `json:"room"`
	Seq    int64  `json:"seq"`
	TS     int64  `json:"ts"` // server time, Unix milliseconds
	Author Member `json:"author"`
	Body   string `json:"body"`
	MsgID  string `json:"msg_id"`
}

// Presence is a full snapshot of a room's members, sent after a join.
type Presence struct {
	Room    string   `json:"room"`
	Members []Member `json:"members"`
}

// MemberEvent announces one member joining or leaving a room.
type MemberEvent struct {
	Room   string `json:"room"`
	Member Member `json:"member"`
}

// RoomInfo describes a room in a RoomList.
type RoomInfo struct {
	Name    string `json:"name"`
	Members int    `json:"members"`
	Head    int64  `json:"head"`
}

// RoomList lists rooms, most recently active first.
type RoomList struct {
	Rooms []RoomInfo `json:"rooms"`
}

// ErrorFrame answers a request that failed, or reports a problem with a
// frame that had no usable id.
type ErrorFrame struct {
	Code    Code   `json:"code"`
	Message string `json:"message"`
}

// Batch carries several envelopes in one WebSocket message. The server
// sends it when frames queue up for a connection; receivers handle each
// inner frame in order, exactly as if it had arrived alone.
type Batch struct {
	Frames []json.RawMessage `json:"frames"`
}

// newPayload returns a pointer to the zero payload for t, and whether the
// payload is required, or nil when t is unknown.
func newPayload(t Type) (p any, ok bool) {
	switch t {
	case TypeHello:
		return new(Hello), true
	case TypeJoin:
		return new(Join), true
	case TypeLeave:
		return new(Leave), true
	case TypeSend:
		return new(Send), true
	case TypeHistory:
		return new(History), true
	case TypeRooms:
		return new(Rooms), true
	case TypeWelcome:
		return new(Welcome), true
	case TypeAck:
		return new(json.RawMessage), true
	case TypeError:
		return new(ErrorFrame), true
	case TypeMessage:
		return new(Message), true
	case TypePresence:
		return new(Presence), true
	case TypeMemberJoined, TypeMemberLeft:
		return new(MemberEvent), true
	case TypeRoomList:
		return new(RoomList), true
	case TypeBatch:
		return new(Batch), true
	}
	return nil, false
}
