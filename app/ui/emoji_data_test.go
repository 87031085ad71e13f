package ui

import (
	"strings"
	"testing"

	"github.com/duplex-chat/duplex/shared"
)

// TestEmojiTableValid: every emoji the picker offers is one the server
// accepts (shared.ValidEmoji), once, with a name, in one of Unicode's
// nine groups, and no skin-tone variant (the picker offers the base
// emoji). It fails on a table with a refused emoji (tried: an entry "a",
// and an unqualified "☺" the server accepts but which duplicates "☺️").
func TestEmojiTableValid(t *testing.T) {
	db := emojis()
	if len(db.all) != emojiCount || len(db.all) < 1800 {
		t.Fatalf("%d emoji parsed, table says %d; want the full set (>1,800)", len(db.all), emojiCount)
	}
	if len(db.groups) != 9 {
		t.Errorf("groups %q, want Unicode's nine (Component left out)", db.groups)
	}
	seen := map[string]bool{}
	for _, e := range db.all {
		if err := shared.ValidEmoji(e.char); err != nil {
			t.Errorf("%q (%s): %v", e.char, e.name, err)
		}
		k := strings.ReplaceAll(e.char, "\ufe0f", "")
		if seen[k] {
			t.Errorf("%q (%s) twice", e.char, e.name)
		}
		seen[k] = true
		if e.name == "" || strings.Contains(e.name, "skin tone") {
			t.Errorf("%q: name %q", e.char, e.name)
		}
		for _, r := range e.char {
			if r >= 0x1F3FB && r <= 0x1F3FF {
				t.Errorf("%q (%s) is a skin-tone variant", e.char, e.name)
			}
		}
	}
	for _, e := range append(append([]string{}, quickEmoji...), "🪓", "🦘", "🏳️‍🌈", "🏴󠁧󠁢󠁳󠁣󠁴󠁿", "#️⃣", "🇫🇷", "🫠") {
		if _, ok := db.lookup(e); !ok {
			t.Errorf("%q missing", e)
		}
	}
	if g := db.group(0); g[0].char != "😀" || db.groups[0] != "Smileys & Emotion" {
		t.Errorf("first group %q starts with %q, want Unicode's order", db.groups[0], g[0].char)
	}
}

// TestEmojiSearch: names, gemoji aliases and everyday words match, a name
// starting with the query comes first, results are capped, and a query
// matching nothing (or only spaces) finds nothing.
func TestEmojiSearch(t *testing.T) {
	db := emojis()
	first := func(q string) string {
		out, _ := db.search(q, 10)
		if len(out) == 0 {
			return ""
		}
		return out[0].char
	}
	for q, want := range map[string]string{"axe": "🪓", "kangaroo": "🦘", "rocket": "🚀", "+1": "👍", "tada": "🎉", "lol": "😂", "🦘": "🦘", "thumbs up": "👍"} {
		if got := first(q); got != want {
			t.Errorf("search %q: first %q, want %q", q, got, want)
		}
	}
	if out, total := db.search("qqqq", 10); len(out) != 0 || total != 0 {
		t.Errorf("qqqq matched %d", total)
	}
	out, total := db.search("face", 50)
	if len(out) != 50 || total <= 50 {
		t.Errorf("face: %d shown of %d, want 50 of more", len(out), total)
	}
}
