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
	TypeAuth    Type = "auth"    // present a fresh credential on an open session
	TypeNick    Type = "nick"    // change the session's nickname
	TypeCreate  Type = "create"  // create a public or private room
	TypeDM      Type = "dm"      // open the direct-message room with another user
	TypeInvite  Type = "invite"  // give another user access to a private room
	TypeRemove  Type = "remove"  // take a user's access to a private room away
	TypeMembers Type = "members" // page a room's member list
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
	TypeRemoved      Type = "removed"       // this user lost access to a room
	TypePresenceDiff Type = "presence_diff" // who came and went in a room
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
	// Token is a credential: the token of an earlier Welcome, or one an
	// embedding application issued (a JWT). Empty asks the server for a
	// new anonymous identity, unless the upgrade request was already
	// authenticated (a cookie or header the server checks).
	Token string `json:"token,omitempty"`
	// User is no longer accepted: a user id is public and proves nothing.
	// A hello that carries it is refused with CodeUnauthorized.
	User string `json:"user,omitempty"`
}

// Welcome answers Hello with the identity the server verified or issued.
type Welcome struct {
	Protocol string `json:"protocol"`
	Session  string `json:"session"`
	User     string `json:"user"`
	Nick     string `json:"nick"`
	// MaxBody is the largest body, in runes, the server accepts.
	MaxBody int `json:"max_body"`
	// Token, when set, is a fresh server-issued credential for this user:
	// keep it (replacing any older one) and present it in the next hello.
	Token string `json:"token,omitempty"`
	// Expires is when the credential this session runs on expires, Unix
	// milliseconds (0: never). Before then the client sends auth with a
	// fresh credential, or the server closes with CloseAuthExpired.
	Expires int64 `json:"expires,omitempty"`
	// Heartbeat, in milliseconds, is how often the client sends a ping
	// when it has sent nothing else; a client that hears nothing from the
	// server for twice as long treats the connection as dead (0: no
	// heartbeat).
	Heartbeat int64 `json:"heartbeat,omitempty"`
}

// Auth presents a fresh credential for the identity of an open session
// (a refreshed JWT) without reconnecting. It must name the same user.
type Auth struct {
	Token string `json:"token"`
}

// AuthAck is the ack payload for Auth.
type AuthAck struct {
	User    string `json:"user"`
	Expires int64  `json:"expires,omitempty"`
}

// Nick changes the session's nickname (every session of the user in the
// rooms it has joined shows the new one).
type Nick struct {
	Nick string `json:"nick"`
}

// RoomKind says who may see and join a room.
type RoomKind string

// Room kinds.
const (
	RoomPublic  RoomKind = "public"  // anyone may list, join and read it
	RoomPrivate RoomKind = "private" // only users given access by invitation
	RoomDM      RoomKind = "dm"      // the direct messages of two users
)

// Create creates a room. Joining a room that does not exist also creates
// it, as a public room.
type Create struct {
	Room string   `json:"room"`
	Kind RoomKind `json:"kind"` // "public" or "private"
}

// DM opens (creating it on first use) the direct-message room between the
// sender and User. The ack is a RoomInfo naming the room to join.
type DM struct {
	User string `json:"user"`
}

// Invite gives User access to the private room Room. Only a user with
// access to the room may invite.
type Invite struct {
	Room string `json:"room"`
	User string `json:"user"`
}

// Remove takes User's access to the private room Room away and ends their
// subscriptions to it. Only the room's owner may remove, and not
// themself (invalid).
type Remove struct {
	Room string `json:"room"`
	User string `json:"user"`
}

// Removed tells a user's sessions that they lost access to Room: they are
// no longer subscribed to it.
type Removed struct {
	Room string `json:"room"`
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
	// PrunedBefore, when not 0, says that retention removed the room's
	// messages below this seq and that the replay asked for some of them:
	// the client holds a gap it cannot fill (see PROTOCOL.md 7.9).
	PrunedBefore int64 `json:"pruned_before,omitempty"`
	// Read is the user's read marker in the room: the seq they read up
	// to. Unread and Mentioned count the messages of others after it,
	// and those of them that mention the user.
	Read      int64 `json:"read,omitempty"`
	Unread    int   `json:"unread,omitempty"`
	Mentioned int   `json:"mentioned,omitempty"`
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
	// Kind is empty for a new message; edit, delete, react and unreact
	// change the message whose seq is Target (PROTOCOL.md 7.12).
	Kind   Kind  `json:"kind,omitempty"`
	Target int64 `json:"target,omitempty"`
	// ReplyTo is the seq of the message this one replies to.
	ReplyTo int64 `json:"reply_to,omitempty"`
	// Emoji is the reaction of a react or unreact.
	Emoji string `json:"emoji,omitempty"`
	// Image is the id of an image this user uploaded (UploadAck).
	Image string `json:"image,omitempty"`
	// After is the msg_id of the send this one follows on the connection
	// (PROTOCOL.md 7.10a): when that one was refused with a retryable
	// error and not sent again since, this one is refused too, so a
	// pipelined queue is applied in order or not at all.
	After string `json:"after,omitempty"`
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
	// PrunedBefore, when not 0, says that retention removed the messages
	// below this seq, some of which the request reached: the oldest
	// message still stored has this seq (see PROTOCOL.md 7.9).
	PrunedBefore int64 `json:"pruned_before,omitempty"`
}

// Rooms asks for the room list; the answer is a RoomList frame carrying the
// request id, so it is also the ack. The list holds the public rooms and
// the private and direct-message rooms the user has access to.
type Rooms struct {
	// Limit is the most rooms to list; 0 means DefaultRooms.
	Limit int `json:"limit,omitempty"`
	// Before is the Next cursor of an earlier page; 0 starts at the most
	// recently active room.
	Before int64 `json:"before,omitempty"`
}

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
	// Kind is empty for a message. An event (edit, delete, react) has its
	// own seq, names the changed message in Target and carries that
	// message's state after the change in Body, Edited, Deleted and
	// Reactions, so applying it twice or late changes nothing.
	Kind   Kind  `json:"kind,omitempty"`
	Target int64 `json:"target,omitempty"`
	// ReplyTo quotes the parent of a reply.
	ReplyTo *Reply `json:"reply_to,omitempty"`
	// Mentions lists the user ids the body mentions with @nick.
	Mentions []string `json:"mentions,omitempty"`
	// Edited is when the body was last edited, Unix ms (0: never).
	Edited int64 `json:"edited,omitempty"`
	// Deleted is true once the author deleted it: Body is empty.
	Deleted   bool       `json:"deleted,omitempty"`
	Reactions []Reaction `json:"reactions,omitempty"`
	Image     *Image     `json:"image,omitempty"`
	// Reaction, on a reaction frame (TypeReaction), is the change: the
	// emoji Author added (kind react) or took back (unreact) on Target,
	// with the Count it has there now (0: gone). Me is not set.
	Reaction *Reaction `json:"reaction,omitempty"`
}

// Presence is a snapshot of a room's members, sent after a join. In a room
// of more members than the server's presence threshold it carries the
// count alone, and is sent again, coalesced, when the count changes: such
// a room has no per-member events, and the Members request pages its list.
type Presence struct {
	Room string `json:"room"`
	// Members lists every member (absent above the threshold).
	Members []Member `json:"members,omitempty"`
	// Count is the number of members (users) in the room.
	Count int `json:"count"`
}

// PresenceDiff tells the members of a room at most the threshold in size
// who arrived and who left since the last diff: the server coalesces
// joins and leaves over a short period (250 ms by default) into one frame.
type PresenceDiff struct {
	Room   string   `json:"room"`
	Joined []Member `json:"joined,omitempty"`
	Left   []Member `json:"left,omitempty"`
}

// Members asks for a page of a joined room's members, sorted by user id:
// those after the user id After ("" for the first page), at most Limit.
type Members struct {
	Room  string `json:"room"`
	After string `json:"after,omitempty"`
	Limit int    `json:"limit"`
}

// MembersAck answers Members.
type MembersAck struct {
	Room    string   `json:"room"`
	Members []Member `json:"members"`
	// More is true when members after the last one of this page exist.
	More bool `json:"more"`
}

// MemberEvent announces one member joining or leaving a room. Servers
// since presence_diff no longer send it; it stays decodable for older ones.
type MemberEvent struct {
	Room   string `json:"room"`
	Member Member `json:"member"`
}

// RoomInfo describes a room in a RoomList.
type RoomInfo struct {
	Name    string `json:"name"`
	Members int    `json:"members"`
	Head    int64  `json:"head"`
	// Kind is "public", "private" or "dm"; empty means public.
	Kind RoomKind `json:"kind,omitempty"`
	// Owner is the user who created a private room.
	Owner string `json:"owner,omitempty"`
	// Peer is the other user of a direct-message room.
	Peer *Member `json:"peer,omitempty"`
	// Active orders the list (most recent first) and is the cursor for
	// the next page.
	Active int64 `json:"active,omitempty"`
	// Read, Unread and Mentioned are the user's read marker in the room
	// and what is left unread after it (as in JoinAck), for rooms the
	// user has a marker in.
	Read      int64 `json:"read,omitempty"`
	Unread    int   `json:"unread,omitempty"`
	Mentioned int   `json:"mentioned,omitempty"`
}

// RoomList lists rooms, most recently active first.
type RoomList struct {
	Rooms []RoomInfo `json:"rooms"`
	// Next, when not 0, is the Before of the next page.
	Next int64 `json:"next,omitempty"`
}

// ErrorFrame answers a request that failed, or reports a problem with a
// frame that had no usable id.
type ErrorFrame struct {
	Code    Code   `json:"code"`
	Message string `json:"message"`
	// RetryAfter, in milliseconds, is set with CodeRateLimited: the
	// request may succeed when sent again after that long.
	RetryAfter int64 `json:"retry_after,omitempty"`
}

// Batch carries several envelopes in one WebSocket message. The server
// sends it when frames queue up for a connection; receivers handle each
// inner frame in order, exactly as if it had arrived alone.
type Batch struct {
	Frames []json.RawMessage `json:"frames"`
}

// newPayload returns a pointer to the zero payload for t and true, or
// false when t is unknown.
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
	case TypeAuth:
		return new(Auth), true
	case TypeNick:
		return new(Nick), true
	case TypeCreate:
		return new(Create), true
	case TypeDM:
		return new(DM), true
	case TypeInvite:
		return new(Invite), true
	case TypeRemove:
		return new(Remove), true
	case TypeRemoved:
		return new(Removed), true
	case TypeMembers:
		return new(Members), true
	case TypePresenceDiff:
		return new(PresenceDiff), true
	case TypeWelcome:
		return new(Welcome), true
	case TypeAck:
		return new(json.RawMessage), true
	case TypeError:
		return new(ErrorFrame), true
	case TypeMessage, TypeReaction:
		return new(Message), true
	case TypePresence:
		return new(Presence), true
	case TypeMemberJoined, TypeMemberLeft:
		return new(MemberEvent), true
	case TypeRoomList:
		return new(RoomList), true
	case TypeBatch:
		return new(Batch), true
	case TypeTyping:
		return new(Typing), true
	case TypeRead:
		return new(Read), true
	case TypeSearch:
		return new(Search), true
	case TypeUpload:
		return new(Upload), true
	case TypePing:
		return new(Ping), true
	case TypePong:
		return new(Pong), true
	case TypeSignOut:
		return new(SignOut), true
	case TypeNickChanged:
		return new(NickChanged), true
	}
	return nil, false
}
