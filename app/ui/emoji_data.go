package ui

import (
	"sort"
	"strings"
)

//go:generate go run -C testdata/emojigen . -o ../../emoji_table.go

// The reaction picker's emoji (issue #17): the whole of Unicode's
// emoji-test.txt (emoji_table.go, generated), read once, searched by name
// and words.

// emojiInfo is one emoji of the table.
type emojiInfo struct {
	char, name, words string
	group             int
}

// emojiDB is the parsed table: the groups in order, each group's emoji,
// and each emoji's place (by its characters, with and without VS16).
type emojiDB struct {
	groups []string
	all    []emojiInfo
	start  []int // all[start[g]:start[g+1]] is group g
	index  map[string]int
}

var emojiData *emojiDB // parsed on first use (UI goroutine only)

func emojis() *emojiDB {
	if emojiData != nil {
		return emojiData
	}
	db := &emojiDB{index: make(map[string]int, 2*emojiCount), all: make([]emojiInfo, 0, emojiCount)}
	for line := range strings.Lines(emojiTable) {
		line = strings.TrimSuffix(line, "\n")
		if g, ok := strings.CutPrefix(line, "="); ok {
			db.groups = append(db.groups, g)
			db.start = append(db.start, len(db.all))
			continue
		}
		f := strings.SplitN(line, "\t", 3)
		if len(f) != 3 || len(db.groups) == 0 {
			continue
		}
		db.index[f[0]] = len(db.all)
		if k := strings.ReplaceAll(f[0], "\ufe0f", ""); k != f[0] {
			if _, ok := db.index[k]; !ok {
				db.index[k] = len(db.all)
			}
		}
		db.all = append(db.all, emojiInfo{char: f[0], name: f[1], words: f[2], group: len(db.groups) - 1})
	}
	db.start = append(db.start, len(db.all))
	emojiData = db
	return db
}

// group is the emoji of group g.
func (db *emojiDB) group(g int) []emojiInfo {
	if g < 0 || g >= len(db.groups) {
		g = 0
	}
	return db.all[db.start[g]:db.start[g+1]]
}

// lookup finds e's entry, VS16 or not.
func (db *emojiDB) lookup(e string) (emojiInfo, bool) {
	i, ok := db.index[e]
	if !ok {
		i, ok = db.index[strings.ReplaceAll(e, "\ufe0f", "")]
	}
	if !ok {
		return emojiInfo{}, false
	}
	return db.all[i], true
}

// search is the emoji whose name or words contain q (lower case, trimmed),
// or that are q: whole words of the name first, then of the words, then
// word starts (name, words), then the rest, each in Unicode's order; total is how
// many matched, of which at most max are returned.
func (db *emojiDB) search(q string, max int) (out []emojiInfo, total int) {
	type hit struct{ rank, i int }
	var hits []hit
	for i, e := range db.all {
		r := -1
		switch {
		case e.char == q || e.name == q:
			r = 0
		case wordAt(e.name, q, true):
			r = 1
		case wordAt(e.words, q, true):
			r = 2
		case wordAt(e.name, q, false):
			r = 3
		case wordAt(e.words, q, false):
			r = 4
		case strings.Contains(e.name, q) || strings.Contains(e.words, q):
			r = 5
		}
		if r >= 0 {
			hits = append(hits, hit{r, i})
		}
	}
	sort.SliceStable(hits, func(a, b int) bool { return hits[a].rank < hits[b].rank })
	for _, h := range hits {
		if len(out) == max {
			break
		}
		out = append(out, db.all[h.i])
	}
	return out, len(hits)
}

// wordAt reports whether q starts a word of s (words split at spaces,
// hyphens and colons), or with whole, is one.
func wordAt(s, q string, whole bool) bool {
	const seps = " -:"
	for i := 0; ; {
		j := strings.Index(s[i:], q)
		if j < 0 {
			return false
		}
		at, end := i+j, i+j+len(q)
		if (at == 0 || strings.IndexByte(seps, s[at-1]) >= 0) && (!whole || end == len(s) || strings.IndexByte(seps, s[end]) >= 0) {
			return true
		}
		i += j + 1
	}
}
