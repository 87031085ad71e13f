package shared

import (
	"cmp"
	"encoding/binary"
	"unicode"
	"unicode/utf8"
)

// Frame types of the complete chat (PROTOCOL.md 7.11 to 7.18).
const (
	// TypeTyping goes both ways: a client says it is typing in a room
	// (Typing.Room, optionally Stop); the server tells a room's members
	// who is typing now (Typing.Users). Never stored.
	TypeTyping Type = "typing"
	// TypeRead goes both ways: a client moves its read marker in a room
	// (a request, acked with ReadAck); the server tells the user's other
	// sessions where the marker now is (a push, no id).
	TypeRead Type = "read"
	// TypeSearch searches the messages of the rooms the user may read.
	TypeSearch Type = "search"
	// TypeUpload names the JSON header of a binary upload frame (see
	// EncodeUpload); it never arrives as a text frame.
	TypeUpload Type = "upload"
	// TypePing is the application heartbeat a client sends every
	// Welcome.Heartbeat milliseconds of silence; TypePong answers it.
	TypePing Type = "ping"
	TypePong Type = "pong"
)

// Kind says what a Message or a Send is. The empty kind is an ordinary
// message; the others are events in the room's log that change the
// message whose seq is Target, which keeps its place.
type Kind string

// Message and Send kinds.
const (
	KindMessage Kind = ""       // a new message
	KindEdit    Kind = "edit"   // replaces Target's body (its author only)
	KindDelete  Kind = "delete" // deletes Target, text and all (its author only)
	KindReact   Kind = "react"  // Send: add Emoji to Target; Message: Target's reactions changed
	KindUnreact Kind = "unreact"
)

// Reply is the quote of the parent a reply carries: enough to show it
// without loading the parent.
type Reply struct {
	Seq     int64  `json:"seq"`
	Author  Member `json:"author"`
	Excerpt string `json:"excerpt"` // at most MaxExcerptRunes runes of the parent's body
}

// Reaction is one emoji on a message and how many users reacted with it.
// A message carries at most MaxReactionKinds of them.
type Reaction struct {
	Emoji string `json:"emoji"`
	Count int    `json:"count"`
	// Me is true when the user who reads the message is among those who
	// reacted with Emoji: the server sets it for each reader in join
	// replays and history pages. Frames every member gets alike (live
	// events) leave it false: a reaction frame's Author says who acted.
	Me bool `json:"me,omitempty"`
	// Users names the first users who reacted with Emoji, oldest first:
	// at most ReactionSample of them (servers before reaction summaries,
	// issue #14, listed up to 50), so that a reader can say who reacted
	// ("ana, bo and 3 others") without the server sending every reactor.
	// Count says how many reacted in all. Live reaction frames leave it
	// empty: their Author is the one who acted.
	Users []string `json:"users,omitempty"`
}

// ReactionSample is the most users a reaction summary names (Users).
const ReactionSample = 3

// Image is an image a message carries. Its bytes are served at
// /files/{id} and a thumbnail at /files/{id}/thumb.
type Image struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Type   string `json:"type"` // the sniffed content type: image/png, image/jpeg, image/gif or image/webp
	Size   int64  `json:"size"`
	Width  int    `json:"width"`
	Height int    `json:"height"`
}

// Typing is both the client's "I am typing in Room" (Stop: "I stopped")
// and the server's "these Users are typing in Room now" (Users empty:
// nobody is). The server expires a typist TypingTTL after their last
// typing frame, and when they send a message.
type Typing struct {
	Room  string   `json:"room"`
	Stop  bool     `json:"stop,omitempty"`
	Users []Member `json:"users,omitempty"`
}

// Read moves the sender's read marker in Room up to Seq (a request; a
// lower Seq than the stored marker changes nothing), or, pushed by the
// server, tells the user's other sessions where the marker now is.
type Read struct {
	Room string `json:"room"`
	Seq  int64  `json:"seq"`
	// Unread and Mentioned, in a push, count what is left unread after
	// Seq, as in ReadAck (a request leaves them 0; the server ignores them).
	Unread    int `json:"unread,omitempty"`
	Mentioned int `json:"mentioned,omitempty"`
}

// ReadAck answers Read with the stored marker and what is left unread.
type ReadAck struct {
	Room      string `json:"room"`
	Seq       int64  `json:"seq"`
	Unread    int    `json:"unread"`
	Mentioned int    `json:"mentioned"`
}

// Search asks for messages matching Query in Room, or in every room the
// user may read when Room is empty, newest first.
type Search struct {
	Query string `json:"query"`
	Room  string `json:"room,omitempty"`
	// Before is the Next of an earlier answer; 0 starts at the newest.
	Before int64 `json:"before,omitempty"`
	Limit  int   `json:"limit"`
}

// SearchAck answers Search.
type SearchAck struct {
	Results []Message `json:"results"`
	// Next, when not 0, is the Before of the next page.
	Next int64 `json:"next,omitempty"`
}

// Upload is the header of a binary upload frame: an image for Room, its
// file name as the user chose it. The ack is an UploadAck; the image is
// then sent as Send.Image.
type Upload struct {
	Room string `json:"room"`
	Name string `json:"name"`
}

// UploadAck answers an upload with the stored image.
type UploadAck struct {
	Image Image `json:"image"`
}

// Ping is the application heartbeat (see Welcome.Heartbeat); the server
// answers with a Pong carrying the ping's id.
type Ping struct{}

// Pong answers Ping.
type Pong struct{}

// Limits of the complete chat.
const (
	MaxEmojiBytes    = 40       // one reaction emoji (the longest recommended, a kiss with two skin tones, is 35)
	MaxExcerptRunes  = 140      // a reply's quote of its parent
	MaxQueryRunes    = 200      // a search query
	MaxSearch        = 50       // most results one search answer carries
	MaxImageBytes    = 5 << 20  // largest image an upload may carry
	MaxFileNameRunes = 100      // an upload's file name
	MaxImageID       = MaxIDLen // image ids are ids
	TypingTTL        = 6000     // ms a typing frame counts for
)

// ValidFileName reports whether name can name an upload: valid UTF-8, 1 to
// MaxFileNameRunes runes, no control or bidirectional control character,
// no slash or backslash.
func ValidFileName(name string) error {
	if err := validText("file name", name, MaxFileNameRunes, false); err != nil {
		return err
	}
	for _, r := range name {
		if unicode.IsControl(r) || isBidiControl(r) || r == '/' || r == '\\' {
			return Errorf(CodeInvalid, "file name may not hold control characters or slashes")
		}
	}
	return nil
}

// Excerpt cuts body to at most MaxExcerptRunes runes for a reply's quote.
func Excerpt(body string) string {
	if utf8.RuneCountInString(body) <= MaxExcerptRunes {
		return body
	}
	n := 0
	for i := range body {
		if n == MaxExcerptRunes-1 {
			return body[:i] + "…"
		}
		n++
	}
	return body
}

// EncodeUpload builds the binary WebSocket message that uploads data: a
// 4-byte big-endian length, then an upload frame's JSON envelope (type
// "upload", request id, Upload payload), then the bytes.
func EncodeUpload(id string, u Upload, data []byte) ([]byte, error) {
	head, err := Encode(TypeUpload, id, &u)
	if err != nil {
		return nil, err
	}
	b := make([]byte, 4, 4+len(head)+len(data))
	binary.BigEndian.PutUint32(b, uint32(len(head)))
	b = append(b, head...)
	return append(b, data...), nil
}

// DecodeUpload splits a binary upload message into its header frame,
// decoded strictly, and the bytes. The Frame carries the request id when
// it could be read, so an error can answer it.
func DecodeUpload(b []byte) (Frame, []byte, error) {
	if len(b) < 4 {
		return Frame{}, nil, Errorf(CodeBadFrame, "binary frame is shorter than its 4-byte header length")
	}
	n := binary.BigEndian.Uint32(b)
	if n == 0 || n > MaxFrameBytes || int(n) > len(b)-4 {
		return Frame{}, nil, Errorf(CodeBadFrame, "binary frame header length %d does not fit the frame", n)
	}
	f, err := Decode(b[4 : 4+n])
	if err != nil {
		return f, nil, err
	}
	if f.Type != TypeUpload {
		return f, nil, Errorf(CodeBadFrame, "a binary frame must be an upload, not %s", f.Type)
	}
	if len(b)-4-int(n) == 0 {
		return f, nil, Errorf(CodeInvalid, "upload carries no bytes")
	}
	if len(b)-4-int(n) > MaxImageBytes {
		return f, nil, Errorf(CodeTooLarge, "upload is larger than %d bytes", MaxImageBytes)
	}
	return f, b[4+n:], nil
}

func (t *Typing) validate() error { return ValidRoom(t.Room) }

func (r *Read) validate() error {
	return cmp.Or(ValidRoom(r.Room), notNegative("seq", r.Seq))
}

func (s *Search) validate() error {
	if err := validText("query", s.Query, MaxQueryRunes, false); err != nil {
		return err
	}
	if s.Room != "" {
		if err := ValidRoom(s.Room); err != nil {
			return err
		}
	}
	return validPage(s.Before, s.Limit, MaxSearch)
}

func (u *Upload) validate() error {
	if err := ValidRoom(u.Room); err != nil {
		return err
	}
	return ValidFileName(u.Name)
}

// validateKind checks the fields of a Send that depend on its kind: an
// ordinary message has a body (or an image) and may reply; an edit has a
// body and a target; a delete a target only; a reaction a target and an
// emoji.
func (s *Send) validateKind() error {
	switch s.Kind {
	case KindMessage:
		if s.Target != 0 || s.Emoji != "" {
			return Errorf(CodeInvalid, "a message has no target or emoji")
		}
		if s.ReplyTo < 0 {
			return Errorf(CodeInvalid, "reply_to must be a seq, got %d", s.ReplyTo)
		}
		if s.Image != "" {
			if err := ValidID("image", s.Image); err != nil {
				return err
			}
			if s.Body == "" {
				return nil // an image alone
			}
		}
		return ValidBody(s.Body)
	case KindEdit, KindDelete, KindReact, KindUnreact:
		if s.Target < 1 {
			return Errorf(CodeInvalid, "%s needs the target seq of a message", s.Kind)
		}
		if s.ReplyTo != 0 || s.Image != "" {
			return Errorf(CodeInvalid, "%s has no reply_to or image", s.Kind)
		}
	default:
		return Errorf(CodeInvalid, "kind must be empty, %q, %q, %q or %q", KindEdit, KindDelete, KindReact, KindUnreact)
	}
	switch s.Kind {
	case KindEdit:
		if s.Emoji != "" {
			return Errorf(CodeInvalid, "an edit has no emoji")
		}
		return ValidBody(s.Body)
	case KindDelete:
		if s.Body != "" || s.Emoji != "" {
			return Errorf(CodeInvalid, "a delete has no body or emoji")
		}
		return nil
	default:
		if s.Body != "" {
			return Errorf(CodeInvalid, "a reaction has no body")
		}
		return ValidEmoji(s.Emoji)
	}
}

// Limits of the images an upload may carry, beyond MaxImageBytes.
const (
	// MaxImagePixels bounds width×height: a small file may declare a huge
	// image (a decompression bomb), so the server reads the dimensions
	// first and refuses more pixels than this before decoding anything.
	MaxImagePixels = 40_000_000
	// ThumbMaxSide is the longest side of a thumbnail, in pixels.
	ThumbMaxSide = 320
)

// ThumbSize is the size of the thumbnail of a width×height image: the
// image itself when it fits ThumbMaxSide, else scaled down to it on the
// long side. A client sets it on the thumbnail's <img> before it loads.
func ThumbSize(width, height int) (int, int) {
	m := max(width, height)
	if m <= ThumbMaxSide {
		return width, height
	}
	scale := func(v int) int { return max(1, (v*ThumbMaxSide+m/2)/m) }
	return scale(width), scale(height)
}
