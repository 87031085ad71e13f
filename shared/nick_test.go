package shared_test

import (
	"strings"
	"testing"

	"github.com/duplex-chat/duplex/shared"
)

// TestNickKeyLookAlikes: nicknames a reader cannot tell apart share a key
// (so the server refuses the second with nick_taken), and nicknames that
// read differently keep different keys.
func TestNickKeyLookAlikes(t *testing.T) {
	same := []struct{ name, a, b string }{
		{"identical", "alice", "alice"},
		{"Cyrillic а (U+0430)", "alice", "\u0430lice"},
		{"all Cyrillic look-alikes", "poc", "\u0440\u043e\u0441"},
		{"Greek omicron", "bob", "b\u03bfb"},
		{"capitalised", "Alice", "alice"},
		{"upper case with I", "Alice", "ALICE"},
		{"upper case I and lower case l", "ALICE", "ALlCE"},
		{"dotless ı", "alice", "al\u0131ce"},
		{"lower case i and l meet (the price of folding case with I = l)", "Ali", "All"},
		{"digit 0 for o", "bob", "b0b"},
		{"digit 1 for l", "bill", "bi11"},
		{"pipe for l", "lol", "|ol"},
		{"full-width", "alice", "\uff41\uff4c\uff49\uff43\uff45"},
		{"zero-width space inside", "alice", "al\u200bice"},
		{"soft hyphen inside", "alice", "ali\u00adce"},
		{"variation selector", "alice", "alice\ufe0f"},
		{"space runs", "ann lee", "ann   lee"},
		{"no-break space", "ann lee", "ann\u00a0lee"},
		{"ZWJ inside an emoji sequence", "\U0001F469\u200d\U0001F4BB dev", "\U0001F469\U0001F4BB dev"},
	}
	for _, tc := range same {
		if ka, kb := shared.NickKey(tc.a), shared.NickKey(tc.b); ka != kb {
			t.Errorf("%s: NickKey(%q) = %q, NickKey(%q) = %q: want the same key", tc.name, tc.a, ka, tc.b, kb)
		}
	}
	differ := []struct{ name, a, b string }{
		{"different names", "alice", "alicia"},
		{"one letter more", "bob", "bobb"},
		{"word break", "annlee", "ann lee"},
		{"different emoji", "\U0001F680", "\U0001F525"},
		{"different scripts, different words", "\u6771\u4eac", "\u4eac\u6771"},
		{"digits that are not letters", "r2d2", "rd"},
	}
	for _, tc := range differ {
		if ka, kb := shared.NickKey(tc.a), shared.NickKey(tc.b); ka == kb {
			t.Errorf("%s: NickKey(%q) = NickKey(%q) = %q: want different keys", tc.name, tc.a, tc.b, ka)
		}
	}
	// The key of a key is itself: folding twice changes nothing.
	for _, n := range []string{"ALICE", "\u0430l\u0131ce", "B0B", "ann   lee"} {
		if k := shared.NickKey(n); shared.NickKey(k) != k {
			t.Errorf("NickKey(NickKey(%q)) = %q, want %q", n, shared.NickKey(k), k)
		}
	}
}

// TestValidNickHostile: nicknames that draw nothing or turn the text
// around them are refused with invalid; ordinary non-Latin names, emoji
// and emoji sequences joined with ZWJ are allowed.
func TestValidNickHostile(t *testing.T) {
	cases := []struct {
		name string
		in   string
		code shared.Code
	}{
		{"emoji ZWJ sequence", "\U0001F469\u200d\U0001F4BB", ""},
		{"emoji with skin tone", "\U0001F44B\U0001F3FD Zoë", ""},
		{"flag", "\U0001F1EB\U0001F1F7 Jean", ""},
		{"Arabic name", "\u0639\u0644\u064a", ""},
		{"Hebrew name", "\u05d3\u05e0\u05d4", ""},
		{"Cyrillic name", "\u0410\u043d\u044f", ""},
		{"combining accent", "Zoe\u0301", ""},
		{"visible with a zero-width space inside", "al\u200bice", ""},
		{"only zero-width space", "\u200b", shared.CodeInvalid},
		{"only zero-width spaces", "\u200b\u200b\u200b", shared.CodeInvalid},
		{"only ZWJ and ZWNJ", "\u200d\u200c", shared.CodeInvalid},
		{"only word joiner", "\u2060", shared.CodeInvalid},
		{"only BOM", "\ufeff", shared.CodeInvalid},
		{"Hangul filler U+3164", "\u3164", shared.CodeInvalid},
		{"Hangul fillers", "\u3164\u3164", shared.CodeInvalid},
		{"half-width Hangul filler", "\uffa0", shared.CodeInvalid},
		{"braille blank U+2800", "\u2800", shared.CodeInvalid},
		{"braille blanks", "\u2800\u2800\u2800", shared.CodeInvalid},
		{"only combining marks", "\u0301\u0301", shared.CodeInvalid},
		{"only variation selector", "\ufe0f", shared.CodeInvalid},
		{"blank mix", "\u200b\u3164\u2800", shared.CodeInvalid},
		{"starts with RLO U+202E", "\u202eevil", shared.CodeInvalid},
		{"RLO inside", "alice\u202etxt.exe", shared.CodeInvalid},
		{"LRO", "\u202dbob", shared.CodeInvalid},
		{"contains LRI U+2066", "a\u2066b", shared.CodeInvalid},
		{"RLI", "a\u2067b", shared.CodeInvalid},
		{"PDI", "a\u2069b", shared.CodeInvalid},
		{"PDF", "a\u202cb", shared.CodeInvalid},
		{"RLM", "bob\u200f", shared.CodeInvalid},
		{"Arabic letter mark", "bob\u061c", shared.CodeInvalid},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := shared.ValidNick(tc.in)
			assertCode(t, err, tc.code)
			if err != nil && !strings.Contains(err.Error(), "nickname") {
				t.Errorf("error %v does not name the nickname", err)
			}
		})
	}
}
