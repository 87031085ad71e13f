package shared

//go:generate go run -C testdata/confusablesgen . -o ../../confusables_table.go

// skeleton returns the UTS #39 skeleton of the rune r when it differs
// from r: the characters r is confusable with, decomposed, without
// combining marks. The table (confusables_table.go, generated) holds
// Unicode 13.0.0's confusables.txt applied to every rune.
func skeleton(r rune) (string, bool) {
	if r < 0 || r > 0xFFFFFF {
		return "", false
	}
	// A run: the last range starting at or before r.
	if lo := upTo(skeletonRanges, 8, r); lo > 0 {
		at := 8 * (lo - 1)
		if d := r - rune3(skeletonRanges, at); d < rune(skeletonRanges[at+3]) {
			return string(rune3(skeletonRanges, at+4) + d*rune(skeletonRanges[at+7])), true
		}
	}
	// A single rune: the last block starting at or before r, then its
	// runes one after another.
	lo := upTo(skeletonIndex, 7, r)
	if lo == 0 {
		return "", false
	}
	b := 7 * (lo - 1)
	k := rune3(skeletonIndex, b)
	off := int(skeletonIndex[b+3])<<8 | int(skeletonIndex[b+4])
	at := int(skeletonIndex[b+5])<<8 | int(skeletonIndex[b+6])
	for i := 0; i < skeletonBlock && at < len(skeletonSteps); i++ {
		d, n := uvarint(skeletonSteps, at)
		k += d
		size := int(skeletonSteps[at+n])
		at += n + 1
		if k == r {
			return skeletonVals[off : off+size], true
		}
		if k > r {
			break
		}
		off += size
	}
	return "", false
}

// upTo returns how many records of table, size bytes each and sorted by
// the rune of their first three bytes, start at or before r: a binary
// search.
func upTo(table string, size int, r rune) int {
	lo, hi := 0, len(table)/size
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if rune3(table, size*m) <= r {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

// uvarint decodes the unsigned varint at s[i:] and its length.
func uvarint(s string, i int) (rune, int) {
	var x rune
	for n, shift := 0, 0; i+n < len(s); n, shift = n+1, shift+7 {
		c := s[i+n]
		x |= rune(c&0x7F) << shift
		if c < 0x80 {
			return x, n + 1
		}
	}
	return x, len(s) - i
}

// rune3 reads the 3-byte big-endian rune at s[i:].
func rune3(s string, i int) rune {
	return rune(s[i])<<16 | rune(s[i+1])<<8 | rune(s[i+2])
}

// Hangul syllables decompose into their conjoining jamo (Unicode 3.12,
// as NFD does), so a syllable and the jamo that draw it meet. The table
// leaves them out: the arithmetic is shorter than 11,172 entries.
const (
	hangulBase  = 0xAC00
	hangulCount = 11172
	jamoL       = 0x1100
	jamoV       = 0x1161
	jamoT       = 0x11A7
	jamoTCount  = 28
	jamoNCount  = 588
)

// hangul returns the jamo of syllable r, or ok false.
func hangul(r rune) (jamo [3]rune, n int, ok bool) {
	s := r - hangulBase
	if s < 0 || s >= hangulCount {
		return jamo, 0, false
	}
	jamo[0], jamo[1], n = jamoL+s/jamoNCount, jamoV+(s%jamoNCount)/jamoTCount, 2
	if t := s % jamoTCount; t != 0 {
		jamo[2], n = jamoT+t, 3
	}
	return jamo, n, true
}
