package shared_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/duplex-chat/duplex/shared"
)

// TestSendKinds decodes a send of every kind, and the bad inputs of each:
// fields that do not belong to the kind, a missing target, an empty or
// oversized body, a bad emoji, an unknown kind.
func TestSendKinds(t *testing.T) {
	const pre = `{"type":"send","id":"r1","data":{"room":"lobby","msg_id":"m1",`
	cases := []struct {
		name string
		data string
		want shared.Code
	}{
		{"message", `"body":"hi"}}`, ""},
		{"reply", `"body":"hi","reply_to":3}}`, ""},
		{"image alone", `"body":"","image":"img-1"}}`, ""},
		{"image with caption", `"body":"look","image":"img-1"}}`, ""},
		{"edit", `"body":"fixed","kind":"edit","target":3}}`, ""},
		{"delete", `"body":"","kind":"delete","target":3}}`, ""},
		{"react", `"body":"","kind":"react","target":3,"emoji":"👍"}}`, ""},
		{"unreact with modifiers", `"body":"","kind":"unreact","target":3,"emoji":"👍🏽"}}`, ""},
		{"react with a ZWJ sequence", `"body":"","kind":"react","target":3,"emoji":"👩‍💻"}}`, ""},

		{"message with a target", `"body":"hi","target":3}}`, shared.CodeInvalid},
		{"message with an emoji", `"body":"hi","emoji":"👍"}}`, shared.CodeInvalid},
		{"negative reply_to", `"body":"hi","reply_to":-1}}`, shared.CodeInvalid},
		{"bad image id", `"body":"","image":"../etc/passwd"}}`, shared.CodeInvalid},
		{"empty message", `"body":""}}`, shared.CodeInvalid},
		{"edit without target", `"body":"x","kind":"edit"}}`, shared.CodeInvalid},
		{"edit with empty body", `"body":" ","kind":"edit","target":3}}`, shared.CodeInvalid},
		{"edit too long", `"body":"` + strings.Repeat("x", shared.MaxBodyRunes+1) + `","kind":"edit","target":3}}`, shared.CodeTooLarge},
		{"edit with reply_to", `"body":"x","kind":"edit","target":3,"reply_to":2}}`, shared.CodeInvalid},
		{"delete with body", `"body":"x","kind":"delete","target":3}}`, shared.CodeInvalid},
		{"delete with negative target", `"body":"","kind":"delete","target":-3}}`, shared.CodeInvalid},
		{"react without emoji", `"body":"","kind":"react","target":3}}`, shared.CodeInvalid},
		{"react with a letter", `"body":"","kind":"react","target":3,"emoji":"a"}}`, shared.CodeInvalid},
		{"react with html", `"body":"","kind":"react","target":3,"emoji":"<b>"}}`, shared.CodeInvalid},
		{"react with a space", `"body":"","kind":"react","target":3,"emoji":"👍 👍"}}`, shared.CodeInvalid},
		{"react with a bidi control", `"body":"","kind":"react","target":3,"emoji":"\u202e👍"}}`, shared.CodeInvalid},
		{"react with a long emoji", `"body":"","kind":"react","target":3,"emoji":"` + strings.Repeat("👍", 11) + `"}}`, shared.CodeTooLarge},
		{"react with a body", `"body":"x","kind":"react","target":3,"emoji":"👍"}}`, shared.CodeInvalid},
		{"unknown kind", `"body":"x","kind":"poll","target":3}}`, shared.CodeInvalid},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := shared.Decode([]byte(pre + tc.data))
			assertCode(t, err, tc.want)
		})
	}
}

// TestNewRequests decodes typing, read, search and ping, with their bad
// inputs: bad rooms, negative numbers, empty, oversized and invalid
// queries, limits out of range, a search without an id.
func TestNewRequests(t *testing.T) {
	cases := []struct {
		name string
		in   string
		want shared.Code
	}{
		{"typing", `{"type":"typing","data":{"room":"lobby"}}`, ""},
		{"typing stop", `{"type":"typing","data":{"room":"lobby","stop":true}}`, ""},
		{"typing bad room", `{"type":"typing","data":{"room":"Lobby"}}`, shared.CodeInvalid},
		{"read", `{"type":"read","id":"r","data":{"room":"lobby","seq":9}}`, ""},
		{"read without id", `{"type":"read","data":{"room":"lobby","seq":9}}`, ""},
		{"read negative", `{"type":"read","data":{"room":"lobby","seq":-1}}`, shared.CodeInvalid},
		{"search", `{"type":"search","id":"s","data":{"query":"lunch plans","limit":20}}`, ""},
		{"search in a room", `{"type":"search","id":"s","data":{"query":"x","room":"lobby","before":40,"limit":1}}`, ""},
		{"search without id", `{"type":"search","data":{"query":"x","limit":20}}`, shared.CodeBadFrame},
		{"search blank", `{"type":"search","id":"s","data":{"query":"  ","limit":20}}`, shared.CodeInvalid},
		{"search too long", `{"type":"search","id":"s","data":{"query":"` + strings.Repeat("é", shared.MaxQueryRunes+1) + `","limit":20}}`, shared.CodeTooLarge},
		{"search invalid utf-8", "{\"type\":\"search\",\"id\":\"s\",\"data\":{\"query\":\"\xff\",\"limit\":20}}", shared.CodeBadFrame},
		{"search limit 0", `{"type":"search","id":"s","data":{"query":"x","limit":0}}`, shared.CodeInvalid},
		{"search limit over", `{"type":"search","id":"s","data":{"query":"x","limit":51}}`, shared.CodeInvalid},
		{"search bad room", `{"type":"search","id":"s","data":{"query":"x","room":"../x","limit":5}}`, shared.CodeInvalid},
		{"search negative before", `{"type":"search","id":"s","data":{"query":"x","before":-1,"limit":5}}`, shared.CodeInvalid},
		{"ping", `{"type":"ping","id":"p1"}`, ""},
		{"ping with data", `{"type":"ping","id":"p1","data":{}}`, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := shared.Decode([]byte(tc.in))
			assertCode(t, err, tc.want)
		})
	}
}

// TestExcerpt cuts long bodies to MaxExcerptRunes runes, on rune
// boundaries, and leaves short ones alone.
func TestExcerpt(t *testing.T) {
	short := "hello"
	assertEqual(t, "short", shared.Excerpt(short), short)
	long := strings.Repeat("ж", shared.MaxExcerptRunes+10)
	got := shared.Excerpt(long)
	if n := utf8.RuneCountInString(got); n != shared.MaxExcerptRunes || !utf8.ValidString(got) || !strings.HasSuffix(got, "…") {
		t.Fatalf("excerpt of %d runes: got %d runes, valid %v", shared.MaxExcerptRunes+10, n, utf8.ValidString(got))
	}
	exact := strings.Repeat("x", shared.MaxExcerptRunes)
	assertEqual(t, "exact", shared.Excerpt(exact), exact)
}

// TestValidFileName refuses empty, long, control, bidi and slash names.
func TestValidFileName(t *testing.T) {
	for name, want := range map[string]shared.Code{
		"cat.png":                "",
		"été 2026.jpg":           "",
		"":                       shared.CodeInvalid,
		"  ":                     shared.CodeInvalid,
		"a/b.png":                shared.CodeInvalid,
		`a\b.png`:                shared.CodeInvalid,
		"evil\u202egnp.exe":      shared.CodeInvalid,
		"nul\x00.png":            shared.CodeInvalid,
		strings.Repeat("n", 101): shared.CodeTooLarge,
		"\xff.png":               shared.CodeInvalid,
	} {
		assertCode(t, shared.ValidFileName(name), want)
	}
}
