package store

import (
	"context"
	"slices"
	"sort"
	"sync"

	"github.com/duplex-chat/duplex/shared"
)

// Memory is a Store that keeps everything in memory: for tests, demos and
// embedders that need no durability.
type Memory struct {
	mu     sync.RWMutex
	closed bool
	rooms  map[string]*memRoom
	clock  int64    // bumps on every write, orders Rooms by activity
	reads  memReads // read markers and search order: memory_read.go

	MemoryCredentials // revocations and reserved nicknames: credentials.go
}

type memRoom struct {
	name   string
	msgs   []memRow // msgs[i].Seq == pruned+i+1
	pruned int64    // highest seq removed by Prune
	// reactions of each message (see memory_events.go).
	reactions map[int64]*memReactions
	byID      map[string]int64
	members   map[string]shared.Member
	active    int64
	kind      shared.RoomKind
	owner     string
	access    map[string]bool
}

var _ Store = (*Memory)(nil)
var _ Credentials = (*Memory)(nil)

// NewMemory returns an empty in-memory store.
func NewMemory() *Memory { return &Memory{rooms: make(map[string]*memRoom)} }

func (m *Memory) room(name string) *memRoom {
	r := m.rooms[name]
	if r == nil {
		r = &memRoom{name: name, kind: shared.RoomPublic, byID: make(map[string]int64), members: make(map[string]shared.Member), access: make(map[string]bool), reactions: make(map[int64]*memReactions)}
		m.rooms[name] = r
	}
	m.clock++
	r.active = m.clock
	return r
}

// Append implements Store.
func (m *Memory) Append(_ context.Context, msgs []NewMessage) ([]Result, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, ErrClosed
	}
	res := make([]Result, len(msgs))
	for i, nm := range msgs {
		r := m.room(nm.Room)
		if seq, ok := r.byID[nm.MsgID]; ok {
			old := r.row(seq)
			if !SameRequest(old.request(), r.scrubbed(old), nm) {
				res[i].Err = Conflict(nm.Room, nm.MsgID)
			} else {
				res[i] = Result{Message: r.view(old), Duplicate: true}
			}
			continue
		}
		res[i] = r.append(nm)
		if nm.Kind == shared.KindMessage && res[i].Err == nil {
			m.appended(&res[i].Message) // memory_read.go: the search order
		}
	}
	return res, nil
}

// After implements Store.
func (m *Memory) After(ctx context.Context, room string, after int64, limit int) ([]shared.Message, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	r := m.rooms[room]
	if r == nil || after >= r.head() {
		return nil, nil
	}
	var out []shared.Message
	for i := int(max(after-r.pruned, 0)); i < len(r.msgs) && len(out) < limit; i++ {
		if !r.msgs[i].gone {
			out = append(out, r.viewAs(&r.msgs[i], Viewer(ctx)))
		}
	}
	return out, nil
}

// Before implements Store.
func (m *Memory) Before(ctx context.Context, room string, before int64, limit int) ([]shared.Message, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	r := m.rooms[room]
	if r == nil {
		return nil, nil
	}
	end := len(r.msgs)
	if before > 0 {
		end = max(min(int(before-r.pruned)-1, end), 0)
	}
	// Messages only, each in its latest state; events are folded in.
	var out []shared.Message
	for i := end - 1; i >= 0 && len(out) < limit; i-- {
		if row := &r.msgs[i]; !row.gone && row.Kind == shared.KindMessage {
			out = append(out, r.viewAs(row, Viewer(ctx)))
		}
	}
	slices.Reverse(out)
	return out, nil
}

// Head implements Store.
func (m *Memory) Head(_ context.Context, room string) (int64, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if r := m.rooms[room]; r != nil {
		return r.head(), nil
	}
	return 0, nil
}

func (r *memRoom) head() int64 { return r.pruned + int64(len(r.msgs)) }

// Prune implements Store.
func (m *Memory) Prune(_ context.Context, ret Retention, limit int) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return 0, ErrClosed
	}
	removed := 0
	for _, r := range m.rooms {
		if removed >= limit {
			break
		}
		var ts []int64
		if ret.Before > 0 {
			for _, msg := range r.msgs[:min(limit-removed, len(r.msgs))] {
				ts = append(ts, msg.TS)
			}
		}
		n := int(min(ret.Cut(r.pruned, r.head(), ts)-r.pruned, int64(limit-removed)))
		if n <= 0 {
			continue
		}
		for _, msg := range r.msgs[:n] {
			delete(r.byID, msg.MsgID)
			delete(r.reactions, msg.Seq)
		}
		// Copy the tail so the removed messages' memory is freed.
		r.msgs = append([]memRow(nil), r.msgs[n:]...)
		r.pruned += int64(n)
		r.dropOrphans()
		removed += n
	}
	return removed, nil
}

// Pruned implements Store.
func (m *Memory) Pruned(_ context.Context, room string) (int64, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if r := m.rooms[room]; r != nil {
		return r.pruned, nil
	}
	return 0, nil
}

// AddMember implements Store.
func (m *Memory) AddMember(_ context.Context, room string, member shared.Member) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrClosed
	}
	m.room(room).members[member.User] = member
	return nil
}

// Rooms implements Store.
func (m *Memory) Rooms(_ context.Context, q RoomQuery) ([]shared.RoomInfo, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	rs := make([]*memRoom, 0, len(m.rooms))
	for _, r := range m.rooms {
		if (q.Before <= 0 || r.active < q.Before) && (r.kind == shared.RoomPublic || r.access[q.User]) {
			rs = append(rs, r)
		}
	}
	sort.Slice(rs, func(i, j int) bool { return rs[i].active > rs[j].active })
	out := make([]shared.RoomInfo, 0, min(q.Limit, len(rs)))
	for _, r := range rs[:min(q.Limit, len(rs))] {
		info := shared.RoomInfo{Name: r.name, Head: r.head(), Active: r.active}
		if r.kind != shared.RoomPublic {
			info.Kind, info.Owner = r.kind, r.owner
		}
		if r.kind == shared.RoomDM {
			for u := range r.access {
				if u != q.User {
					info.Peer = &shared.Member{User: u}
				}
			}
		}
		out = append(out, info)
	}
	return out, nil
}

// Room implements Store.
func (m *Memory) Room(_ context.Context, name string) (RoomMeta, bool, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	r := m.rooms[name]
	if r == nil {
		return RoomMeta{}, false, nil
	}
	return r.meta(), true, nil
}

func (r *memRoom) meta() RoomMeta {
	meta := RoomMeta{Name: r.name, Kind: r.kind, Owner: r.owner}
	if r.kind == shared.RoomDM {
		for u := range r.access {
			meta.Users = append(meta.Users, u)
		}
		sort.Strings(meta.Users)
	}
	return meta
}

// CreateRoom implements Store.
func (m *Memory) CreateRoom(_ context.Context, meta RoomMeta) (RoomMeta, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return RoomMeta{}, false, ErrClosed
	}
	if r := m.rooms[meta.Name]; r != nil {
		return r.meta(), false, nil
	}
	r := m.room(meta.Name)
	r.kind, r.owner = meta.Kind, meta.Owner
	if r.kind == "" {
		r.kind = shared.RoomPublic
	}
	for _, u := range append([]string{meta.Owner}, meta.Users...) {
		if u != "" {
			r.access[u] = true
		}
	}
	return r.meta(), true, nil
}

// Grant implements Store.
func (m *Memory) Grant(_ context.Context, room, user string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if r := m.rooms[room]; r != nil {
		r.access[user] = true
	}
	return nil
}

// Revoke implements Store.
func (m *Memory) Revoke(_ context.Context, room, user string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if r := m.rooms[room]; r != nil {
		delete(r.access, user)
	}
	return nil
}

// HasAccess implements Store.
func (m *Memory) HasAccess(_ context.Context, room, user string) (bool, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	r := m.rooms[room]
	return r != nil && r.access[user], nil
}

// User implements Store.
func (m *Memory) User(_ context.Context, id string) (shared.Member, bool, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	var best shared.Member
	var at int64 = -1
	for _, r := range m.rooms {
		if mem, ok := r.members[id]; ok && r.active > at {
			best, at = mem, r.active
		}
	}
	return best, at >= 0, nil
}

var _ Pinger = (*Memory)(nil)

// Ping implements Pinger: memory is writable until Close.
func (m *Memory) Ping(context.Context) error {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.closed {
		return ErrClosed
	}
	return nil
}

// Close implements Store.
func (m *Memory) Close() error {
	m.mu.Lock()
	m.closed = true
	m.mu.Unlock()
	return nil
}
