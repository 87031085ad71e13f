package shared

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits of protocol v1. Servers may be stricter, never looser.
const (
	MaxFrameBytes  = 64 << 10 // largest WebSocket message a peer must accept from a client
	MaxBodyRunes   = 4000     // message body
	MaxNickRunes   = 32       // nickname
	MaxRoomLen     = 64       // room name, ASCII
	MaxIDLen       = 64       // request id and msg_id, ASCII
	MaxHistory     = 200      // most messages one History answer carries
	DefaultRecent  = 50       // messages sent on a Join without Since
	MaxTokenLen    = 4096     // a credential in hello or auth
	MaxRooms       = 200      // most rooms one RoomList page carries
	DefaultRooms   = 100      // rooms listed when Rooms.Limit is 0
	MaxMembersPage = 1000     // most members one Members answer carries
)

// ValidRoom reports whether name is a valid room name: 1 to MaxRoomLen
// characters of a-z, 0-9, '-' and '_', starting with a letter or digit.
func ValidRoom(name string) error {
	if name == "" {
		return Errorf(CodeInvalid, "room name is empty")
	}
	if len(name) > MaxRoomLen {
		return Errorf(CodeInvalid, "room name is longer than %d characters", MaxRoomLen)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		alnum := c >= 'a' && c <= 'z' || c >= '0' && c <= '9'
		if !alnum && (i == 0 || c != '-' && c != '_') {
			return Errorf(CodeInvalid, "room name %s may hold only a-z, 0-9, '-' and '_' and must start with a letter or digit", clip(name))
		}
	}
	return nil
}

// ValidNick reports whether nick is a valid nickname: valid UTF-8, 1 to
// MaxNickRunes runes, no control characters, not blank, no surrounding space.
func ValidNick(nick string) error {
	if !utf8.ValidString(nick) {
		return Errorf(CodeInvalid, "nickname is not valid UTF-8")
	}
	if strings.TrimSpace(nick) == "" {
		return Errorf(CodeInvalid, "nickname is empty")
	}
	if strings.TrimSpace(nick) != nick {
		return Errorf(CodeInvalid, "nickname has leading or trailing space")
	}
	if n := utf8.RuneCountInString(nick); n > MaxNickRunes {
		return Errorf(CodeTooLarge, "nickname has %d characters, the limit is %d", n, MaxNickRunes)
	}
	for _, r := range nick {
		if unicode.IsControl(r) {
			return Errorf(CodeInvalid, "nickname contains a control character")
		}
		if isBidiControl(r) {
			return Errorf(CodeInvalid, "nickname contains a bidirectional control character (U+%04X)", r)
		}
	}
	if !hasVisible(nick) {
		return Errorf(CodeInvalid, "nickname has no visible character")
	}
	return nil
}

// ValidBody reports whether body is a valid message body: valid UTF-8, not
// blank, at most MaxBodyRunes runes.
func ValidBody(body string) error {
	if !utf8.ValidString(body) {
		return Errorf(CodeInvalid, "body is not valid UTF-8")
	}
	if strings.TrimSpace(body) == "" {
		return Errorf(CodeInvalid, "body is empty")
	}
	if n := utf8.RuneCountInString(body); n > MaxBodyRunes {
		return Errorf(CodeTooLarge, "body has %d characters, the limit is %d", n, MaxBodyRunes)
	}
	return nil
}

// ValidID reports whether id is a valid request id or msg_id: 1 to MaxIDLen
// characters of A-Z, a-z, 0-9, '-', '_' and '.'.
func ValidID(what, id string) error {
	if id == "" {
		return Errorf(CodeInvalid, "%s is empty", what)
	}
	if len(id) > MaxIDLen {
		return Errorf(CodeInvalid, "%s is longer than %d characters", what, MaxIDLen)
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return Errorf(CodeInvalid, "%s %s may hold only A-Z, a-z, 0-9, '-', '_' and '.'", what, clip(id))
		}
	}
	return nil
}
