package shared

import (
	"testing"
	"unicode/utf8"
)

// TestNickKeyUnicodeConfusables (issue #15): the look-alikes the hand list
// missed share alice's key through Unicode's confusables (UTS #39
// skeleton); the ones it caught still do; names that read differently
// keep different keys.
func TestNickKeyUnicodeConfusables(t *testing.T) {
	alice := NickKey("alice")
	for name, n := range map[string]string{
		"mathematical sans-serif":   "\U0001D5BA\U0001D5C5\U0001D5C2\U0001D5BC\U0001D5BE", // 𝖺𝗅𝗂𝖼𝖾
		"mathematical bold":         "\U0001D41A\U0001D425\U0001D422\U0001D41C\U0001D41E", // 𝐚𝐥𝐢𝐜𝐞
		"Latin alpha U+0251":        "\u0251lice",                                         // ɑlice
		"small roman numeral fifty": "a\u217Cice",                                         // aⅼice
		"Latin iota U+0269":         "a\u0269ice",                                         // aɩice
		"script small e U+212F":     "alic\u212F",                                         // alicℯ
		"Cyrillic а":                "\u0430lice",
		"Cyrillic а, і, с, е":       "\u0430l\u0456\u0441\u0435",
		"full-width":                "\uff41\uff4c\uff49\uff43\uff45",
		"zero-width space":          "al\u200bice",
		"zero-width joiner":         "ali\u200dce",
		"dotless ı":                 "al\u0131ce",
		"capital I for l":           "aIice",
		"digit 1 for l":             "a1ice",
		"combining diaeresis on e":  "alice\u0308",
		"upper case and math bold":  "ALIC\U0001D41E",
	} {
		if k := NickKey(n); k != alice {
			t.Errorf("%s: NickKey(%q) = %q, want alice's %q", name, n, k, alice)
		}
	}
	for _, n := range []string{"alicia", "alice2", "malice", "alce", "bob"} {
		if k := NickKey(n); k == alice {
			t.Errorf("NickKey(%q) = alice's %q: want a different key", n, k)
		}
	}
	same := [][2]string{
		{"m", "rn"},                      // UTS #39: m and rn are confusable
		{"Zo\u00eb", "Zoe\u0308"},        // precomposed and decomposed ë
		{"Zo\u00eb", "Zoe"},              // marks are dropped: accents do not tell nicknames apart
		{"\ud55c", "\u1112\u1161\u11ab"}, // 한 and its conjoining jamo
		{"paypal", "p\u0430yp\u0430l"},
	}
	for _, p := range same {
		if ka, kb := NickKey(p[0]), NickKey(p[1]); ka != kb {
			t.Errorf("NickKey(%q) = %q, NickKey(%q) = %q: want one key", p[0], ka, p[1], kb)
		}
	}
	for _, p := range [][2]string{{"\ud55c", "\ud55d"}, {"\u6771\u4eac", "\u4eac\u6771"}, {"r2d2", "rd"}} {
		if ka, kb := NickKey(p[0]), NickKey(p[1]); ka == kb {
			t.Errorf("NickKey(%q) = NickKey(%q) = %q: want different keys", p[0], p[1], ka)
		}
	}
}

// TestSkeletonTable: the generated table is well formed (ranges and keys
// sorted and apart, ends that grow, valid UTF-8 values) and NickKey is
// idempotent over every rune it names: folding a key changes nothing,
// so no chain of the data is cut by maxFoldDepth.
func TestSkeletonTable(t *testing.T) {
	if len(skeletonIndex)%7 != 0 || len(skeletonRanges)%8 != 0 {
		t.Fatalf("table sizes: %d range bytes, %d index bytes", len(skeletonRanges), len(skeletonIndex))
	}
	var runes []rune
	inRange := map[rune]bool{}
	prev := rune(-1)
	for at := 0; at < len(skeletonRanges); at += 8 {
		first, length, step := rune3(skeletonRanges, at), int(skeletonRanges[at+3]), skeletonRanges[at+7]
		if first <= prev || length < 2 || step > 1 {
			t.Fatalf("range at %d (U+%04X, %d, step %d): not sorted or malformed", at, first, length, step)
		}
		for d := range length {
			runes = append(runes, first+rune(d))
			inRange[first+rune(d)] = true
		}
		prev = first + rune(length) - 1
	}
	// The single runes, decoded block by block with the index.
	prev, off, at := rune(-1), 0, 0
	blocks := len(skeletonIndex) / 7
	for b := range blocks {
		k := rune3(skeletonIndex, 7*b)
		if o := int(skeletonIndex[7*b+3])<<8 | int(skeletonIndex[7*b+4]); o != off {
			t.Fatalf("block %d: values offset %d, want %d", b, o, off)
		}
		if a := int(skeletonIndex[7*b+5])<<8 | int(skeletonIndex[7*b+6]); a != at {
			t.Fatalf("block %d: steps offset %d, want %d", b, a, at)
		}
		for i := 0; i < skeletonBlock && at < len(skeletonSteps); i++ {
			d, n := uvarint(skeletonSteps, at)
			if (i == 0) != (d == 0) {
				t.Fatalf("block %d entry %d: step %d", b, i, d)
			}
			k += d
			size := int(skeletonSteps[at+n])
			at += n + 1
			v := skeletonVals[off : off+size]
			off += size
			if k <= prev || size == 0 || !utf8.ValidString(v) || inRange[k] {
				t.Fatalf("U+%04X: not sorted, empty, not UTF-8 or in a range", k)
			}
			if s, ok := skeleton(k); !ok || s != v {
				t.Fatalf("skeleton(U+%04X) = %q, %v; want %q", k, s, ok, v)
			}
			prev = k
			runes = append(runes, k)
		}
	}
	if at != len(skeletonSteps) || off != len(skeletonVals) || len(runes) < 7000 {
		t.Fatalf("steps end at %d of %d bytes, values at %d of %d; %d runes", at, len(skeletonSteps), off, len(skeletonVals), len(runes))
	}
	// Exactly the listed runes are found: their neighbours only when
	// listed too.
	listed := map[rune]bool{}
	for _, r := range runes {
		listed[r] = true
	}
	for _, r := range runes {
		for _, x := range []rune{r - 1, r, r + 1} {
			if _, ok := skeleton(x); ok != listed[x] {
				t.Fatalf("skeleton(U+%04X) found = %v, listed = %v", x, ok, listed[x])
			}
		}
	}
	for _, r := range runes {
		if _, ok := skeleton(r); !ok {
			t.Fatalf("skeleton(U+%04X) not found", r)
		}
		for _, in := range []string{string(r), "x" + string(r) + "y", string([]rune{r - 1, r, r + 1})} {
			if k := NickKey(in); NickKey(k) != k {
				t.Fatalf("NickKey(%q) = %q but NickKey(%q) = %q", in, k, k, NickKey(k))
			}
		}
	}
	for _, r := range []rune{'a', 'z', 'l', 0x10FFFF, 0x1F600} {
		if s, ok := skeleton(r); ok {
			t.Fatalf("skeleton(U+%04X) = %q: a rune that maps to itself is not listed", r, s)
		}
	}
}
