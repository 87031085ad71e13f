package shared

import (
	"cmp"
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
	if err := validText("nickname", nick, MaxNickRunes, true); err != nil {
		return err
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
	return validText("body", body, MaxBodyRunes, false)
}

// validText checks a text a person typed, which what names in the
// errors: valid UTF-8, not blank, with no surrounding space when trimmed
// is set, and at most max runes.
func validText(what, s string, max int, trimmed bool) error {
	if !utf8.ValidString(s) {
		return Errorf(CodeInvalid, "%s is not valid UTF-8", what)
	}
	if strings.TrimSpace(s) == "" {
		return Errorf(CodeInvalid, "%s is empty", what)
	}
	if trimmed && strings.TrimSpace(s) != s {
		return Errorf(CodeInvalid, "%s has leading or trailing space", what)
	}
	if n := utf8.RuneCountInString(s); n > max {
		return Errorf(CodeTooLarge, "%s has %d characters, the limit is %d", what, n, max)
	}
	return nil
}

// validPage checks the cursor (0 or more) and the limit (1 to max) of a
// request for a page.
func validPage(before int64, limit, max int) error {
	return cmp.Or(notNegative("before", before), validLimit(limit, max))
}

// notNegative checks a seq or cursor, which what names in the error.
func notNegative(what string, v int64) error {
	if v < 0 {
		return Errorf(CodeInvalid, "%s must be 0 or more, got %d", what, v)
	}
	return nil
}

func validLimit(limit, max int) error {
	if limit < 1 || limit > max {
		return Errorf(CodeInvalid, "limit must be between 1 and %d, got %d", max, limit)
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
