package shared

import (
	"strings"
	"unicode"
)

// Nicknames are display names, but people read them as identities, so the
// server refuses two online users whose nicknames look the same. NickKey
// is the form they are compared in; these helpers also back ValidNick's
// refusal of invisible and direction-changing nicknames.

// isBidiControl reports whether r changes the direction of the text
// around it: such a nickname can make a message appear to say something
// else (an RLO turns "alice.exe" into "alice" + reversed text).
func isBidiControl(r rune) bool {
	switch {
	case r >= 0x202A && r <= 0x202E, // LRE RLE PDF LRO RLO
		r >= 0x2066 && r <= 0x2069,            // LRI RLI FSI PDI
		r == 0x200E, r == 0x200F, r == 0x061C: // LRM RLM ALM
		return true
	}
	return false
}

// isBlank reports whether r draws nothing: white space, format characters
// (zero-width space and joiners, the BOM), variation selectors and the
// filler and blank characters that fonts render as empty.
func isBlank(r rune) bool {
	switch r {
	case 0x3164, 0x115F, 0x1160, 0xFFA0, // Hangul fillers
		0x2800, // braille pattern blank
		0x180E, // Mongolian vowel separator
		0x034F, // combining grapheme joiner
		0x17B4, 0x17B5:
		return true
	}
	return unicode.IsSpace(r) || unicode.In(r, unicode.Cf, unicode.Mn, unicode.Me) ||
		r >= 0xFE00 && r <= 0xFE0F || r >= 0xE0100 && r <= 0xE01EF
}

func hasVisible(s string) bool {
	for _, r := range s {
		if !isBlank(r) {
			return true
		}
	}
	return false
}

// confusables maps characters to the Latin letter or digit they are
// commonly mistaken for: Cyrillic and Greek homoglyphs, and the digits and
// capitals that read as letters. It predates the Unicode table
// (skeleton, confusables.go) and is kept on top of it for the few
// look-alikes Unicode does not list (Cyrillic п and г, Greek η and μ...).
// Since case is folded too, "i" must meet "I" and "l" (NickKey maps it to
// "l"): otherwise "Alice" and "ALICE" would differ, as "I" is "l" but
// "i" is not.
var confusables = map[rune]rune{
	// Cyrillic
	'а': 'a', 'в': 'b', 'е': 'e', 'ё': 'e', 'к': 'k', 'м': 'm', 'н': 'h', 'о': 'o', 'р': 'p', 'с': 'c',
	'т': 't', 'у': 'y', 'х': 'x', 'ѕ': 's', 'і': 'i', 'ї': 'i', 'ј': 'j', 'һ': 'h', 'ԁ': 'd', 'ԛ': 'q',
	'ԝ': 'w', 'ӏ': 'l', 'ɡ': 'g', 'ь': 'b', 'п': 'n', 'г': 'r',
	// Greek
	'α': 'a', 'β': 'b', 'ε': 'e', 'η': 'n', 'ι': 'i', 'κ': 'k', 'ν': 'v', 'ο': 'o', 'ρ': 'p', 'τ': 't',
	'υ': 'u', 'χ': 'x', 'ω': 'w', 'γ': 'y', 'μ': 'u',
	// Latin and digits that read alike
	'I': 'l', '1': 'l', '|': 'l', '0': 'o', 'ı': 'i', 'ℓ': 'l',
}

// NickKey is the form in which nicknames are compared for uniqueness:
// case folded, every character replaced by its UTS #39 skeleton (Unicode's
// confusables.txt, decomposed: confusables.go) and by the hand list above,
// invisible characters and combining marks dropped (so accents do not
// tell two nicknames apart: "José" and "Jose" share a key), full-width
// forms narrowed, runs of space made one. Two nicknames with the same key
// look the same to a reader, so only one online user may hold them.
func NickKey(nick string) string {
	var k nickKeyer
	for _, r := range nick {
		k.add(r, 0)
	}
	return k.b.String()
}

// maxFoldDepth bounds the rewriting of one character (a skeleton's
// characters are folded again, and so on). In this data a rune takes a
// few steps at most (TestSkeletonTable checks that no key is cut short);
// the bound only guards against a cycle in future data.
const maxFoldDepth = 6

type nickKeyer struct {
	b     strings.Builder
	space bool // a space is pending: written before the next character
}

// add folds r and appends what remains of it.
func (k *nickKeyer) add(r rune, depth int) {
	if r >= 0xFF01 && r <= 0xFF5E { // full-width ASCII
		r -= 0xFF01 - 0x21
	}
	if unicode.IsSpace(r) {
		k.space = k.b.Len() > 0
		return
	}
	if isBlank(r) {
		return
	}
	// Each step rewrites r and folds the result again, until nothing
	// applies: the hand list first (as before the table), then the
	// skeleton of r as it is (upper case too: В is B but в is ʙ), then
	// lower case, then Hangul decomposition.
	if depth < maxFoldDepth {
		if c, ok := confusables[r]; ok {
			k.add(c, depth+1)
			return
		}
		if s, ok := skeleton(r); ok {
			for _, c := range s {
				k.add(c, depth+1)
			}
			return
		}
		if c := unicode.ToLower(r); c != r {
			k.add(c, depth+1)
			return
		}
		if jamo, n, ok := hangul(r); ok {
			for _, c := range jamo[:n] {
				k.add(c, depth+1)
			}
			return
		}
	}
	if r == 'i' { // see confusables: i, I, l, 1 and | are one letter
		r = 'l'
	}
	if k.space {
		k.b.WriteByte(' ')
		k.space = false
	}
	k.b.WriteRune(r)
}
