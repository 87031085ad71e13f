package store

import (
	"context"

	"github.com/duplex-chat/duplex/shared"
)

// memReads is the Memory store's read markers and search order, under
// Memory.mu.
type memReads struct {
	markers map[readKey]int64
	// order lists every message appended, oldest first; a message's index
	// plus one is its search cursor, so pages stay stable as rooms grow.
	order []roomSeq
}

type readKey struct{ room, user string }

type roomSeq struct {
	room string
	seq  int64
}

// appended records a new message for search; Append calls it under m.mu.
func (m *Memory) appended(msg *shared.Message) {
	m.reads.order = append(m.reads.order, roomSeq{msg.Room, msg.Seq})
}

// ReadState implements Reads.
func (m *Memory) ReadState(_ context.Context, room, user string) (ReadState, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.readStateLocked(room, user), nil
}

func (m *Memory) readStateLocked(room, user string) ReadState {
	seq, ok := m.reads.markers[readKey{room, user}]
	if !ok {
		return ReadState{}
	}
	st := ReadState{Marked: true, Read: seq}
	r := m.rooms[room]
	if r == nil {
		return st
	}
	for i := int(max(seq-r.pruned, 0)); i < len(r.msgs) && st.Unread < MaxUnread; i++ {
		if msg := &r.msgs[i].Message; !r.msgs[i].gone && Unread(msg, user) {
			st.Unread++
			if Mentions(msg, user) {
				st.Mentioned++
			}
		}
	}
	return st
}

// MarkRead implements Reads.
func (m *Memory) MarkRead(_ context.Context, room, user string, seq int64) (ReadState, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ReadState{}, ErrClosed
	}
	m.setMarkerLocked(room, user, seq, true)
	return m.readStateLocked(room, user), nil
}

// InitRead implements Reads.
func (m *Memory) InitRead(_ context.Context, room, user string, seq int64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrClosed
	}
	m.setMarkerLocked(room, user, seq, false)
	return nil
}

func (m *Memory) setMarkerLocked(room, user string, seq int64, raise bool) {
	if m.reads.markers == nil {
		m.reads.markers = make(map[readKey]int64)
	}
	k := readKey{room, user}
	if old, ok := m.reads.markers[k]; !ok || raise && seq > old {
		m.reads.markers[k] = seq
	}
}

// Search implements Searcher: a scan of every message, newest first, for
// tests and small embedders.
func (m *Memory) Search(_ context.Context, q SearchQuery) ([]shared.Message, int64, error) {
	terms := Terms(q.Query)
	m.mu.RLock()
	defer m.mu.RUnlock()
	end := len(m.reads.order)
	if q.Before > 0 {
		end = min(end, int(q.Before-1))
	}
	var out []shared.Message
	for i := end - 1; i >= 0 && len(terms) > 0; i-- {
		at := m.reads.order[i]
		r := m.rooms[at.room]
		if r == nil || q.Room != "" && at.room != q.Room || r.kind != shared.RoomPublic && !r.access[q.User] {
			continue
		}
		row := r.row(at.seq)
		if row == nil || row.Kind != shared.KindMessage || row.Deleted || !MatchTerms(row.Body, terms) {
			continue // pruned, deleted or not a match
		}
		out = append(out, r.view(row))
		if len(out) == q.Limit {
			return out, int64(i + 1), nil
		}
	}
	return out, 0, nil
}
