package shared

import (
	"unicode"
	"unicode/utf8"
)

// Reactions: what an emoji is (PROTOCOL.md 10.6) and how reaction changes
// travel (7.12).

// TypeReaction is the server frame that tells a room's members one
// reaction changed: its payload is a Message of kind react or unreact,
// with its own seq, whose Author reacted (or took the reaction back) on
// the message Target, and whose Reaction holds the emoji and the count it
// has on Target now. It carries no body and no reactions list. A client
// that does not know the type skips it (the reactions then show as they
// were until the next history page); servers before it sent such events
// as "message" frames carrying the target's whole state.
const TypeReaction Type = "reaction"

// CodeReactionLimit refuses a react that would add another kind of emoji
// to a message that already carries the most kinds the server allows
// (20 by default). Reacting with an emoji the message already has is
// still accepted.
const CodeReactionLimit Code = "reaction_limit"

// MaxReactionKinds is the most distinct emoji a message's reactions list
// ever carries: a server's own cap (20 by default) may be lower, never
// higher, so a message's reactions stay a few KiB at most.
const MaxReactionKinds = 50

// maxEmojiElements is the most emoji a ZWJ sequence may join: the longest
// recommended ones (a family of four) join four.
const maxEmojiElements = 5

// ValidEmoji reports whether e can be a reaction: at most MaxEmojiBytes
// bytes of valid UTF-8 forming one emoji as UTS #51 defines them:
//
//   - a pictograph (Extended_Pictographic, assigned), optionally followed
//     by VS16 (U+FE0F) or a skin-tone modifier (U+1F3FB..U+1F3FF);
//   - up to five of those joined by ZWJ (U+200D): 👩‍💻, ❤️‍🔥, 🏳️‍🌈;
//   - a keycap: 0-9, # or *, optionally VS16, then U+20E3;
//   - a flag: two regional indicators (🇫🇷);
//   - a tag sequence: 🏴 then tag characters then CANCEL TAG (🏴󠁧󠁢󠁳󠁣󠁴󠁿).
//
// Everything else is refused: letters, digits alone, punctuation, private
// use code points, controls, unassigned code points, a lone modifier or
// joiner, an unpaired regional indicator. Empty or not an emoji:
// CodeInvalid; too long: CodeTooLarge.
func ValidEmoji(e string) error {
	if e == "" {
		return Errorf(CodeInvalid, "emoji is empty")
	}
	if len(e) > MaxEmojiBytes {
		return Errorf(CodeTooLarge, "emoji is longer than %d bytes", MaxEmojiBytes)
	}
	if !utf8.ValidString(e) {
		return Errorf(CodeInvalid, "emoji is not valid UTF-8")
	}
	if !isEmoji([]rune(e)) {
		return Errorf(CodeInvalid, "%s is not an emoji", quoteEmoji(e))
	}
	return nil
}

// quoteEmoji shows a refused emoji in an error message as code points, so
// that no control or invisible character ends up in the text.
func quoteEmoji(e string) string {
	s := ""
	for i, r := range e {
		if i > 0 {
			s += " "
		}
		if len(s) > 40 {
			return s + "…"
		}
		s += "U+" + hex4(r)
	}
	return s
}

func hex4(r rune) string {
	const digits = "0123456789ABCDEF"
	var b []byte
	for v := uint32(r); v > 0 || len(b) < 4; v >>= 4 {
		b = append([]byte{digits[v&0xF]}, b...)
	}
	return string(b)
}

func isEmoji(rs []rune) bool {
	n := len(rs)
	switch {
	case n == 2 && isRegional(rs[0]) && isRegional(rs[1]):
		return true
	case n >= 2 && n <= 3 && rs[n-1] == 0x20E3:
		return isKeycapBase(rs[0]) && (n == 2 || rs[1] == 0xFE0F)
	case n >= 3 && rs[0] == 0x1F3F4 && rs[n-1] == 0xE007F:
		for _, r := range rs[1 : n-1] {
			if r < 0xE0020 || r > 0xE007E {
				return false
			}
		}
		return true
	}
	elements := 0
	for i := 0; ; {
		if i == n || !isPictograph(rs[i]) {
			return false
		}
		i++
		if elements++; elements > maxEmojiElements {
			return false
		}
		if i < n && (rs[i] == 0xFE0F || isSkinTone(rs[i])) {
			i++
		}
		if i == n {
			return true
		}
		if rs[i] != 0x200D {
			return false
		}
		i++
	}
}

func isRegional(r rune) bool   { return r >= 0x1F1E6 && r <= 0x1F1FF }
func isSkinTone(r rune) bool   { return r >= 0x1F3FB && r <= 0x1F3FF }
func isKeycapBase(r rune) bool { return r >= '0' && r <= '9' || r == '#' || r == '*' }

// isPictograph reports whether r is Extended_Pictographic and assigned
// (Go's unicode tables, unicode.Version, tell which code points are).
func isPictograph(r rune) bool {
	if r < 0xA9 || !unicode.IsGraphic(r) {
		return false
	}
	lo, hi := 0, len(extendedPictographic)
	for lo < hi {
		m := (lo + hi) / 2
		switch rg := extendedPictographic[m]; {
		case r < rg[0]:
			hi = m
		case r > rg[1]:
			lo = m + 1
		default:
			return true
		}
	}
	return false
}

// extendedPictographic lists the code points with the property
// Extended_Pictographic of emoji-data.txt, Unicode 15.1 (the table has
// not changed since Unicode 13.0: it reserves whole blocks for future
// emoji, which isPictograph narrows to the assigned ones).
var extendedPictographic = [...][2]rune{
	{0x00A9, 0x00A9}, {0x00AE, 0x00AE}, {0x203C, 0x203C}, {0x2049, 0x2049},
	{0x2122, 0x2122}, {0x2139, 0x2139}, {0x2194, 0x2199}, {0x21A9, 0x21AA},
	{0x231A, 0x231B}, {0x2328, 0x2328}, {0x2388, 0x2388}, {0x23CF, 0x23CF},
	{0x23E9, 0x23F3}, {0x23F8, 0x23FA}, {0x24C2, 0x24C2}, {0x25AA, 0x25AB},
	{0x25B6, 0x25B6}, {0x25C0, 0x25C0}, {0x25FB, 0x25FE}, {0x2600, 0x2605},
	{0x2607, 0x2612}, {0x2614, 0x2685}, {0x2690, 0x2705}, {0x2708, 0x2712},
	{0x2714, 0x2714}, {0x2716, 0x2716}, {0x271D, 0x271D}, {0x2721, 0x2721},
	{0x2728, 0x2728}, {0x2733, 0x2734}, {0x2744, 0x2744}, {0x2747, 0x2747},
	{0x274C, 0x274C}, {0x274E, 0x274E}, {0x2753, 0x2755}, {0x2757, 0x2757},
	{0x2763, 0x2767}, {0x2795, 0x2797}, {0x27A1, 0x27A1}, {0x27B0, 0x27B0},
	{0x27BF, 0x27BF}, {0x2934, 0x2935}, {0x2B05, 0x2B07}, {0x2B1B, 0x2B1C},
	{0x2B50, 0x2B50}, {0x2B55, 0x2B55}, {0x3030, 0x3030}, {0x303D, 0x303D},
	{0x3297, 0x3297}, {0x3299, 0x3299},
	{0x1F000, 0x1F0FF}, {0x1F10D, 0x1F10F}, {0x1F12F, 0x1F12F}, {0x1F16C, 0x1F171},
	{0x1F17E, 0x1F17F}, {0x1F18E, 0x1F18E}, {0x1F191, 0x1F19A}, {0x1F1AD, 0x1F1E5},
	{0x1F201, 0x1F20F}, {0x1F21A, 0x1F21A}, {0x1F22F, 0x1F22F}, {0x1F232, 0x1F23A},
	{0x1F23C, 0x1F23F}, {0x1F249, 0x1F3FA}, {0x1F400, 0x1F53D}, {0x1F546, 0x1F64F},
	{0x1F680, 0x1F6FF}, {0x1F774, 0x1F77F}, {0x1F7D5, 0x1F7FF}, {0x1F80C, 0x1F80F},
	{0x1F848, 0x1F84F}, {0x1F85A, 0x1F85F}, {0x1F888, 0x1F88F}, {0x1F8AE, 0x1F8FF},
	{0x1F90C, 0x1F93A}, {0x1F93C, 0x1F945}, {0x1F947, 0x1FAFF}, {0x1FC00, 0x1FFFD},
}

// FrameTypeOf is the frame type a server sends m as: TypeReaction for a
// reaction change (kind react or unreact, Reaction set), else
// TypeMessage.
func FrameTypeOf(m *Message) Type {
	if m.Reaction != nil && (m.Kind == KindReact || m.Kind == KindUnreact) {
		return TypeReaction
	}
	return TypeMessage
}
