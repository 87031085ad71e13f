package shared_test

import (
	"strings"
	"testing"

	"github.com/duplex-chat/duplex/shared"
)

func TestLimits(t *testing.T) {
	// PROTOCOL.md states these numbers; a change must update it.
	assertEqual(t, "MaxFrameBytes", shared.MaxFrameBytes, 65536)
	assertEqual(t, "MaxBodyRunes", shared.MaxBodyRunes, 4000)
	assertEqual(t, "MaxNickRunes", shared.MaxNickRunes, 32)
	assertEqual(t, "MaxRoomLen", shared.MaxRoomLen, 64)
	assertEqual(t, "MaxIDLen", shared.MaxIDLen, 64)
	assertEqual(t, "MaxHistory", shared.MaxHistory, 200)
	assertEqual(t, "DefaultRecent", shared.DefaultRecent, 50)
	assertEqual(t, "Protocol", shared.Protocol, "duplex.v1")
}

func TestValidRoom(t *testing.T) {
	cases := []struct {
		name string
		in   string
		code shared.Code
	}{
		{"simple", "lobby", ""},
		{"digits", "2024", ""},
		{"dash and underscore", "go-dev_team-2", ""},
		{"single letter", "a", ""},
		{"single digit", "7", ""},
		{"trailing dash", "lobby-", ""},
		{"max length", strings.Repeat("r", shared.MaxRoomLen), ""},
		{"empty", "", shared.CodeInvalid},
		{"too long", strings.Repeat("r", shared.MaxRoomLen+1), shared.CodeInvalid},
		{"uppercase", "Lobby", shared.CodeInvalid},
		{"all uppercase", "LOBBY", shared.CodeInvalid},
		{"space", "my room", shared.CodeInvalid},
		{"leading space", " lobby", shared.CodeInvalid},
		{"leading dash", "-lobby", shared.CodeInvalid},
		{"leading underscore", "_lobby", shared.CodeInvalid},
		{"only dash", "-", shared.CodeInvalid},
		{"dot", "a.b", shared.CodeInvalid},
		{"slash", "a/b", shared.CodeInvalid},
		{"hash", "#lobby", shared.CodeInvalid},
		{"non-ASCII", "café", shared.CodeInvalid},
		{"NUL", "a\x00", shared.CodeInvalid},
		{"invalid UTF-8", "a\xff", shared.CodeInvalid},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { assertCode(t, shared.ValidRoom(tc.in), tc.code) })
	}
}

func TestValidNick(t *testing.T) {
	cases := []struct {
		name string
		in   string
		code shared.Code
	}{
		{"simple", "Ann", ""},
		{"inner spaces", "Ann Lee", ""},
		{"unicode", "Zoë 🚀 東京", ""},
		{"single rune", "x", ""},
		{"max runes multi-byte", strings.Repeat("😀", shared.MaxNickRunes), ""},
		{"punctuation", "<script>&'\"", ""},
		{"empty", "", shared.CodeInvalid},
		{"blank", "   ", shared.CodeInvalid},
		{"blank tab", "\t", shared.CodeInvalid},
		{"leading space", " Ann", shared.CodeInvalid},
		{"trailing space", "Ann ", shared.CodeInvalid},
		{"trailing newline", "Ann\n", shared.CodeInvalid},
		{"trailing no-break space", "Ann\u00a0", shared.CodeInvalid},
		{"control char", "An\x01n", shared.CodeInvalid},
		{"inner newline", "An\nn", shared.CodeInvalid},
		{"inner tab", "An\tn", shared.CodeInvalid},
		{"NUL", "Ann\x00", shared.CodeInvalid},
		{"DEL", "Ann\x7f", shared.CodeInvalid},
		{"C1 control", "Ann\u0085x", shared.CodeInvalid},
		{"invalid UTF-8", "Ann\xff", shared.CodeInvalid},
		{"too long", strings.Repeat("a", shared.MaxNickRunes+1), shared.CodeTooLarge},
		{"too long multi-byte", strings.Repeat("é", shared.MaxNickRunes+1), shared.CodeTooLarge},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { assertCode(t, shared.ValidNick(tc.in), tc.code) })
	}
}

func TestValidBody(t *testing.T) {
	cases := []struct {
		name string
		in   string
		code shared.Code
	}{
		{"simple", "hello", ""},
		{"one rune", "x", ""},
		{"surrounding space kept", "  hi  ", ""},
		{"newlines", "line 1\nline 2", ""},
		{"control chars allowed", "a\x01b", ""},
		{"max ASCII", strings.Repeat("a", shared.MaxBodyRunes), ""},
		{"max 2-byte", strings.Repeat("é", shared.MaxBodyRunes), ""},
		{"max 3-byte", strings.Repeat("€", shared.MaxBodyRunes), ""},
		{"max 4-byte", strings.Repeat("😀", shared.MaxBodyRunes), ""},
		{"empty", "", shared.CodeInvalid},
		{"blank", " \t\r\n", shared.CodeInvalid},
		{"blank unicode spaces", "\u00a0\u2003\u3000", shared.CodeInvalid},
		{"invalid UTF-8", "hi\xc3", shared.CodeInvalid},
		{"over max ASCII", strings.Repeat("a", shared.MaxBodyRunes+1), shared.CodeTooLarge},
		{"over max 4-byte", strings.Repeat("😀", shared.MaxBodyRunes+1), shared.CodeTooLarge},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { assertCode(t, shared.ValidBody(tc.in), tc.code) })
	}
}

func TestValidID(t *testing.T) {
	cases := []struct {
		name string
		in   string
		code shared.Code
	}{
		{"simple", "r1", ""},
		{"all classes", "AZaz09-_.", ""},
		{"uuid", "0b8f2a4e-9c1d-4e5f-8a7b-6c5d4e3f2a1b", ""},
		{"dot first", ".x", ""},
		{"max length", strings.Repeat("i", shared.MaxIDLen), ""},
		{"empty", "", shared.CodeInvalid},
		{"too long", strings.Repeat("i", shared.MaxIDLen+1), shared.CodeInvalid},
		{"space", "r 1", shared.CodeInvalid},
		{"colon", "m:1", shared.CodeInvalid},
		{"slash", "m/1", shared.CodeInvalid},
		{"plus", "m+1", shared.CodeInvalid},
		{"non-ASCII", "ñ", shared.CodeInvalid},
		{"NUL", "a\x00", shared.CodeInvalid},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { assertCode(t, shared.ValidID("msg_id", tc.in), tc.code) })
	}
	err := shared.ValidID("msg_id", "a b")
	if err == nil || !strings.Contains(err.Error(), "msg_id") {
		t.Errorf("error %v does not name the field", err)
	}
}
