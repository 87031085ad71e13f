package store

import (
	"slices"

	"github.com/duplex-chat/duplex/shared"
)

// memRow is one row of a room's log in the memory store. A message row
// holds the message's latest state (body, edited, deleted); an event row
// holds the event as sent (an edit's new body) and is shown carrying its
// target's state (view).
type memRow struct {
	shared.Message
	emoji   string
	replyTo int64
	// gone marks an event whose target retention removed: it is skipped
	// as if it were removed too (msgs stays dense by seq).
	gone bool
}

// row returns the stored row with seq, nil when there is none.
func (r *memRoom) row(seq int64) *memRow {
	if seq <= r.pruned || seq > r.head() {
		return nil
	}
	if row := &r.msgs[seq-r.pruned-1]; !row.gone {
		return row
	}
	return nil
}

// request rebuilds the NewMessage a row was stored from, for the msg_id
// check.
func (row *memRow) request() NewMessage {
	return NewMessage{Room: row.Room, MsgID: row.MsgID, Author: row.Author, Body: row.Body, TS: row.TS,
		Kind: row.Kind, Target: row.Target, Emoji: row.emoji, ReplyTo: row.replyTo, Image: row.Image}
}

// scrubbed reports whether a row's text was removed by a delete.
func (r *memRoom) scrubbed(row *memRow) bool {
	if row.Kind == shared.KindMessage {
		return row.Deleted
	}
	t := r.row(row.Target)
	return t == nil || t.Deleted
}

// memReactions are one message's reactions: a count per emoji, in the
// order each emoji appeared (Me unset), and each user's emoji. A react or
// unreact changes both in O(kinds of emoji).
type memReactions struct {
	counts []shared.Reaction
	byUser map[string][]string
	// order lists every reaction in place, oldest first, for the sample
	// of who reacted (Users).
	order []memReaction
}

type memReaction struct{ user, emoji string }

// count is the count of emoji, or 0.
func (rs *memReactions) count(emoji string) int {
	if rs != nil {
		for _, c := range rs.counts {
			if c.Emoji == emoji {
				return c.Count
			}
		}
	}
	return 0
}

// list returns the reactions as viewer sees them (Me set on theirs).
func (rs *memReactions) list(viewer string) []shared.Reaction {
	if rs == nil || len(rs.counts) == 0 {
		return nil
	}
	out := append([]shared.Reaction(nil), rs.counts...)
	for i := range out {
		for _, r := range rs.order {
			if r.emoji == out[i].Emoji && len(out[i].Users) < shared.ReactionSample {
				out[i].Users = append(out[i].Users, r.user)
			}
		}
	}
	for _, e := range rs.byUser[viewer] {
		for i := range out {
			if out[i].Emoji == e {
				out[i].Me = true
			}
		}
	}
	return out
}

// view returns a row as a reader with no identity sees it.
func (r *memRoom) view(row *memRow) shared.Message { return r.viewAs(row, "") }

// viewAs returns a row as After and Before return it to viewer: a message
// in its latest state with its reactions and reply quote, a reaction
// event as its change, another event carrying its target's state.
func (r *memRoom) viewAs(row *memRow, viewer string) shared.Message {
	if row.Kind == shared.KindReact || row.Kind == shared.KindUnreact {
		n := 0
		if t := r.row(row.Target); t != nil {
			n = r.reactions[t.Seq].count(row.emoji)
		}
		return ReactionEvent(row.Message, row.emoji, n)
	}
	if row.Kind != shared.KindMessage {
		ev := row.Message
		if t := r.row(row.Target); t != nil {
			return EventOf(ev, r.viewAs(t, viewer))
		}
		return EventOf(ev, shared.Message{})
	}
	m := row.Message
	m.Reactions = r.reactions[row.Seq].list(viewer)
	if row.replyTo != 0 {
		p := r.row(row.replyTo)
		if p != nil {
			m.ReplyTo = ReplyOf(row.replyTo, p.Message, true)
		} else {
			m.ReplyTo = ReplyOf(row.replyTo, shared.Message{}, false)
		}
	}
	return m
}

// append checks nm against the rules (events.go) and stores it.
func (r *memRoom) append(nm NewMessage) Result {
	if nm.Kind == shared.KindMessage {
		if nm.ReplyTo != 0 {
			if p := r.row(nm.ReplyTo); p == nil || p.Kind != shared.KindMessage {
				return Result{Err: ReplyNotFound(nm.Room, nm.ReplyTo)}
			}
		}
		return Result{Message: r.view(r.add(nm))}
	}
	t := r.row(nm.Target)
	st := TargetState{}
	if t != nil {
		st = TargetState{Found: true, Kind: t.Kind, Author: t.Author.User, Deleted: t.Deleted}
	}
	noop, err := CheckEvent(nm, st)
	if err != nil {
		return Result{Err: err}
	}
	if noop {
		return NoOp(nm, r.view(t))
	}
	target := t.Seq
	orphan := "" // a delete's image that no live message carries any more
	switch nm.Kind {
	case shared.KindEdit:
		t.Body, t.Edited = nm.Body, nm.TS
	case shared.KindDelete:
		orphan = r.orphan(t)
		t.Body, t.Deleted, t.Image = "", true, nil
		delete(r.reactions, target)
		for i := range r.msgs {
			if e := &r.msgs[i]; e.Kind == shared.KindEdit && e.Target == target {
				e.Body = ""
			}
		}
	case shared.KindReact, shared.KindUnreact:
		if res, done := r.react(nm, t); done {
			return res
		}
	}
	return Result{Message: r.view(r.add(nm)), Orphaned: orphan}
}

// orphan returns the id of t's image when no other live message of the
// room carries it, else "".
func (r *memRoom) orphan(t *memRow) string {
	if t.Image == nil {
		return ""
	}
	for i := range r.msgs {
		if m := &r.msgs[i]; m.Seq != t.Seq && !m.Deleted && m.Image != nil && m.Image.ID == t.Image.ID {
			return ""
		}
	}
	return t.Image.ID
}

// add stores nm as the next row.
func (r *memRoom) add(nm NewMessage) *memRow {
	row := memRow{
		Message: shared.Message{Room: nm.Room, Seq: r.head() + 1, TS: nm.TS, Author: nm.Author, Body: nm.Body, MsgID: nm.MsgID, Kind: nm.Kind, Target: nm.Target, Mentions: nm.Mentions, Image: nm.Image},
		emoji:   nm.Emoji, replyTo: nm.ReplyTo,
	}
	r.msgs = append(r.msgs, row)
	r.byID[nm.MsgID] = row.Seq
	return &r.msgs[len(r.msgs)-1]
}

// dropOrphans marks the events whose target retention removed as gone,
// with their text, and forgets their msg_ids, as SQLite deletes them.
func (r *memRoom) dropOrphans() {
	for i := range r.msgs {
		if e := &r.msgs[i]; e.Kind != shared.KindMessage && !e.gone && e.Target <= r.pruned {
			e.gone, e.Body = true, ""
			delete(r.byID, e.MsgID)
		}
	}
}

// react applies a react or unreact to target t; done is true when nothing
// is to be stored (a no-op or a refusal, in res).
func (r *memRoom) react(nm NewMessage, t *memRow) (res Result, done bool) {
	rs := r.reactions[t.Seq]
	if rs == nil {
		rs = &memReactions{byUser: map[string][]string{}}
		r.reactions[t.Seq] = rs
	}
	mine := rs.byUser[nm.Author.User]
	at := slices.Index(mine, nm.Emoji)
	if (at >= 0) == (nm.Kind == shared.KindReact) {
		return NoOp(nm, r.view(t)), true
	}
	i := slices.IndexFunc(rs.counts, func(c shared.Reaction) bool { return c.Emoji == nm.Emoji })
	if nm.Kind == shared.KindReact {
		if i < 0 && len(rs.counts) >= EmojiCap(nm) {
			return Result{Err: ReactionLimit(nm)}, true
		}
		rs.byUser[nm.Author.User] = append(mine, nm.Emoji)
		rs.order = append(rs.order, memReaction{nm.Author.User, nm.Emoji})
		if i < 0 {
			rs.counts = append(rs.counts, shared.Reaction{Emoji: nm.Emoji})
			i = len(rs.counts) - 1
		}
		rs.counts[i].Count++
		return res, false
	}
	rs.order = slices.DeleteFunc(rs.order, func(r memReaction) bool { return r.user == nm.Author.User && r.emoji == nm.Emoji })
	if mine = slices.Delete(mine, at, at+1); len(mine) == 0 {
		delete(rs.byUser, nm.Author.User)
	} else {
		rs.byUser[nm.Author.User] = mine
	}
	if rs.counts[i].Count--; rs.counts[i].Count == 0 {
		rs.counts = slices.Delete(rs.counts, i, i+1)
	}
	return res, false
}
