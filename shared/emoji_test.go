package shared_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/duplex-chat/duplex/shared"
)

// TestValidEmoji accepts the kinds of emoji UTS #51 defines and refuses
// what issue #14's attack used (private-use code points, one new "emoji"
// per reaction) and every other non-emoji tried.
func TestValidEmoji(t *testing.T) {
	good := []string{
		"👍", "❤️", "❤", "😂", "🎉", "🙏", "🫨", // basic, with and without VS16; 🫨 is Unicode 15.0
		"👍🏽", "👋🏿", // skin tones
		"👩‍💻", "❤️‍🔥", "🏳️‍🌈", "🏴‍☠️", "👁️‍🗨️", "🧑‍🤝‍🧑", // ZWJ sequences
		"👨‍👩‍👧‍👦",          // four joined
		"🧑🏻‍❤️‍💋‍🧑🏼",       // kiss, two skin tones: 35 bytes
		"🐦‍🔥",              // phoenix, Emoji 15.1
		"1️⃣", "#️⃣", "*⃣", // keycaps
		"🇫🇷", "🇺🇳", // flags
		"🏴󠁧󠁢󠁳󠁣󠁴󠁿", // Scotland: a tag sequence
		"©️", "™", "‼️", "〰️", "🀄", "🅰️",
	}
	for _, e := range good {
		if err := shared.ValidEmoji(e); err != nil {
			t.Errorf("ValidEmoji(%q) = %v, want nil", e, err)
		}
	}
	bad := []struct {
		name, e string
		code    shared.Code
	}{
		{"empty", "", shared.CodeInvalid},
		{"private use (BMP)", "\ue000", shared.CodeInvalid},
		{"private use (plane 15)", "\U000F0000", shared.CodeInvalid},
		{"private use after an emoji", "👍\ue001", shared.CodeInvalid},
		{"letter", "a", shared.CodeInvalid},
		{"non-Latin letter", "ж", shared.CodeInvalid},
		{"CJK ideograph", "好", shared.CodeInvalid},
		{"digit alone", "1", shared.CodeInvalid},
		{"digit with VS16 but no keycap", "1\ufe0f", shared.CodeInvalid},
		{"keycap on a letter", "a\u20e3", shared.CodeInvalid},
		{"html", "<b>", shared.CodeInvalid},
		{"space", " ", shared.CodeInvalid},
		{"two emoji with a space", "👍 👍", shared.CodeInvalid},
		{"two emoji side by side", "👍👍", shared.CodeInvalid},
		{"control", "\x07", shared.CodeInvalid},
		{"C1 control", "\u0085", shared.CodeInvalid},
		{"NUL after an emoji", "👍\x00", shared.CodeInvalid},
		{"bidi override", "\u202e👍", shared.CodeInvalid},
		{"zero-width space", "\u200b", shared.CodeInvalid},
		{"lone ZWJ", "\u200d", shared.CodeInvalid},
		{"trailing ZWJ", "👩\u200d", shared.CodeInvalid},
		{"leading ZWJ", "\u200d👩", shared.CodeInvalid},
		{"double ZWJ", "👩\u200d\u200d💻", shared.CodeInvalid},
		{"lone VS16", "\ufe0f", shared.CodeInvalid},
		{"VS15 text presentation", "❤\ufe0e", shared.CodeInvalid},
		{"two VS16", "❤\ufe0f\ufe0f", shared.CodeInvalid},
		{"lone skin tone", "🏽", shared.CodeInvalid},
		{"two skin tones", "👍🏽🏽", shared.CodeInvalid},
		{"lone regional indicator", "🇫", shared.CodeInvalid},
		{"three regional indicators", "🇫🇷🇫", shared.CodeInvalid},
		{"tag sequence without cancel tag", "🏴\U000E0067\U000E0062", shared.CodeInvalid},
		{"tag sequence on another base", "👍\U000E0067\U000E007F", shared.CodeInvalid},
		{"lone tags", "\U000E0067\U000E007F", shared.CodeInvalid},
		{"combining mark", "👍\u0301", shared.CodeInvalid},
		{"symbol that is no emoji", "→", shared.CodeInvalid},
		{"check mark that is no emoji", "✓", shared.CodeInvalid},
		{"unassigned code point in a reserved emoji block", "\U0001FC00", shared.CodeInvalid},
		{"noncharacter", "\U0001FFFE", shared.CodeInvalid},
		{"replacement character", "\ufffd", shared.CodeInvalid},
		{"invalid UTF-8", "\xf0\x9f\x91", shared.CodeInvalid},
		{"six joined", strings.Repeat("👩\u200d", 5) + "👩", shared.CodeInvalid},
		{"over 40 bytes", strings.Repeat("👩\u200d", 6) + "👩", shared.CodeTooLarge},
		{"eleven thumbs", strings.Repeat("👍", 11), shared.CodeTooLarge},
	}
	for _, c := range bad {
		err := shared.ValidEmoji(c.e)
		var pe *shared.Error
		if !errors.As(err, &pe) || pe.Code != c.code {
			t.Errorf("%s: ValidEmoji(%q) = %v, want %s", c.name, c.e, err, c.code)
			continue
		}
		if strings.ContainsAny(pe.Message, "\x00\x07\u202e\u200d") {
			t.Errorf("%s: the error quotes invisible characters: %q", c.name, pe.Message)
		}
	}
}

// TestReactionFrame decodes a reaction frame as a client does, and checks
// that a server encodes a reaction change as one and everything else as a
// message.
func TestReactionFrame(t *testing.T) {
	raw := `{"type":"reaction","data":{"room":"lobby","seq":9,"ts":1,"author":{"user":"u-bob","nick":"Bob"},"body":"","msg_id":"x","kind":"react","target":4,"reaction":{"emoji":"👍","count":3}}}`
	f, err := shared.DecodeServerFrame([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	m, ok := f.Payload.(*shared.Message)
	if f.Type != shared.TypeReaction || !ok || m.Reaction == nil || m.Reaction.Emoji != "👍" || m.Reaction.Count != 3 || m.Target != 4 || m.Author.User != "u-bob" {
		t.Fatalf("decoded %s %+v", f.Type, f.Payload)
	}
	if got := shared.FrameTypeOf(m); got != shared.TypeReaction {
		t.Fatalf("FrameTypeOf(reaction change) = %s", got)
	}
	for _, other := range []shared.Message{
		{Room: "lobby", Seq: 1},                                   // a message
		{Room: "lobby", Seq: 2, Kind: shared.KindEdit, Target: 1}, // an edit
		{Room: "lobby", Seq: 3, Kind: shared.KindReact, Target: 1, Reactions: []shared.Reaction{{Emoji: "👍", Count: 1}}}, // an older server's react event
	} {
		if got := shared.FrameTypeOf(&other); got != shared.TypeMessage {
			t.Errorf("FrameTypeOf(%+v) = %s, want message", other, got)
		}
	}
}
