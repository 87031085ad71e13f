package ui

import (
	"hash/maphash"
	"maps"

	"github.com/duplex-chat/duplex/shared"
)

// bodyMemo keeps formatted bodies (format.go's spans with their @mentions
// resolved, mention.go) by message version, so a refresh formats only the
// messages that are new or changed instead of every row again. It is part
// of the page's model (UI goroutine only, no lock) and bounded: two
// generations of at most bodyMemoSize entries each; when the newer one is
// full it becomes the older one, and entries still in use move forward
// when read. The mentions depend on the nicknames the page highlights, so
// a change of that set empties it.
type bodyMemo struct {
	cur, old map[bodyKey][]bodyPart
	nicks    nickSet
	seed     maphash.Seed
}

// bodyMemoSize bounds each generation (so the memo holds at most twice
// this many bodies): a room's list shows up to a few thousand rows.
const bodyMemoSize = 4096

// bodyKey is one version of one message: its msg_id and seq, when it was
// last edited, and a hash of its body (a pending edit or an own pending
// send shows another body under the same msg_id).
type bodyKey struct {
	id     string
	seq    int64
	edited int64
	sum    uint64
}

// use sets the nicknames the next bodies highlight, emptying the memo
// when they changed.
func (b *bodyMemo) use(nicks nickSet) {
	if b.cur != nil && maps.Equal(b.nicks, nicks) {
		return
	}
	if b.cur == nil {
		b.seed = maphash.MakeSeed()
	}
	b.cur, b.old, b.nicks = make(map[bodyKey][]bodyPart), nil, maps.Clone(nicks)
}

// parts is m's body formatted, from the memo when this version is in it.
func (b *bodyMemo) parts(m shared.Message) []bodyPart {
	if b.cur == nil {
		b.use(nil)
	}
	k := bodyKey{id: m.MsgID, seq: m.Seq, edited: m.Edited, sum: maphash.String(b.seed, m.Body)}
	if p, ok := b.cur[k]; ok {
		return p
	}
	p, ok := b.old[k]
	if !ok {
		p = bodyParts(formatBody(m.Body), b.nicks)
	}
	if len(b.cur) >= bodyMemoSize {
		b.old, b.cur = b.cur, make(map[bodyKey][]bodyPart)
	}
	b.cur[k] = p
	return p
}
