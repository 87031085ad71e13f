package server

import (
	"sync"

	"github.com/duplex-chat/duplex/server/store"
	"github.com/duplex-chat/duplex/shared"
)

// room is the live state of one room on this node: who is subscribed and
// how far each subscriber has been delivered. History lives in the store.
// A room exists while it has members or joins under way (refs); the last
// one out drops it from Server.rooms, and the next join reads its head
// from the store again.
type room struct {
	srv  *Server
	name string
	refs int // joins under way; guarded by srv.mu

	mu      sync.Mutex
	meta    store.RoomMeta // kind and owner; Name is empty until the room exists in the store
	head    int64          // newest seq delivered on this node
	members map[*session]*cursor
	users   map[string]*presence // by user id: a user may have several tabs
	pres    presenceState        // coalesced presence; see presence.go
	typing  typingState          // who is typing; see typing.go
	// In a cluster (Options.Peers): the other nodes' members of the room,
	// by node, and the subscription to their reports (peers.go).
	remote     map[string]*remoteNode
	remoteKeys map[string]string // shared.NickKey -> user, of the remote members
	peerCancel func()
}

// cursor tracks one session's delivery in a room. Until live is set the
// session is replaying from the store and live frames pass it by; after,
// every frame with seq > delivered is queued for it.
type cursor struct {
	live      bool
	delivered int64
}

type presence struct {
	member   shared.Member
	sessions int // on this node
	remote   int // other nodes that report the user in the room (peers.go)
}

func newRoom(srv *Server, name string, head int64) *room {
	return &room{srv: srv, name: name, head: head, members: make(map[*session]*cursor), users: make(map[string]*presence)}
}

// deliver is the fan-out hot path: the same encoded frame goes to every live
// member that has not seen seq yet. A member whose queue is full is
// disconnected instead of slowing the room.
func (r *room) deliver(seq int64, frame []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.head = max(r.head, seq)
	for sess, c := range r.members {
		if !c.live || seq <= c.delivered {
			continue
		}
		c.delivered = seq
		sess.q.enqueue(frame)
	}
}

// add subscribes sess as replaying from since. The other members hear of
// a new user in the next presence flush.
func (r *room) add(sess *session, since int64) {
	if r.addLocked(sess, since) {
		r.srv.roomsChanged() // outside r.mu: the server lock is taken before room locks
	}
}

func (r *room) addLocked(sess *session, since int64) (newUser bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.members[sess]; ok {
		r.members[sess] = &cursor{delivered: since}
		return false
	}
	r.members[sess] = &cursor{delivered: since}
	p := r.users[sess.member.User]
	if p == nil {
		p = &presence{member: sess.member}
		r.users[sess.member.User] = p
		r.presenceChangedLocked(sess.member, false)
		newUser = true
	}
	if p.sessions == 0 {
		r.pres.localChanged = true
	}
	p.sessions++
	return newUser
}

// replayed records that sess has been sent everything up to seq. When that
// reaches the room's head the session goes live: its ack and a presence
// snapshot are queued under the lock, so no live frame can slip between
// the replay and them.
func (r *room) replayed(sess *session, seq int64, ack func() []byte) (live bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	c := r.members[sess]
	if c == nil {
		return true // left meanwhile
	}
	c.delivered = max(c.delivered, seq)
	if c.delivered < r.head {
		return false
	}
	c.live = true
	sess.q.enqueueReply(ack())
	sess.q.hurryWriter()
	sess.q.enqueueReply(r.snapshotLocked(sess, r.pres.large || len(r.users) > r.threshold()))
	if f := r.typingSnapshotLocked(sess); f != nil {
		sess.q.enqueueTyping(f)
	}
	return true
}

// remove unsubscribes sess; the others hear of it in the next presence
// flush when it was the user's last session in the room. The last member
// out drops the room from the server.
func (r *room) remove(sess *session) {
	userLeft, empty := r.removeLocked(sess)
	if userLeft {
		r.srv.roomsChanged()
	}
	if empty {
		r.srv.release(r, false)
	}
}

func (r *room) removeLocked(sess *session) (userLeft, empty bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.members[sess]; !ok {
		return false, false
	}
	delete(r.members, sess)
	delete(r.pres.seen, sess)
	empty = len(r.members) == 0
	p := r.users[sess.member.User]
	if p == nil {
		return false, empty
	}
	if p.sessions--; p.sessions == 0 {
		r.pres.localChanged = true
		r.typingStopLocked(sess.member.User)
		if p.remote > 0 {
			return false, empty // still in the room on another node
		}
		delete(r.users, sess.member.User)
		r.presenceChangedLocked(p.member, true)
		return true, empty
	}
	return false, empty
}

func (r *room) has(sess *session) bool {
	return locked(&r.mu, func() bool { _, ok := r.members[sess]; return ok })
}

func (r *room) headSeq() int64 { return locked(&r.mu, func() int64 { return r.head }) }

func (r *room) memberCount() int { return locked(&r.mu, func() int { return len(r.users) }) }

// locked returns what get reads under mu.
func locked[T any](mu *sync.Mutex, get func() T) T {
	mu.Lock()
	defer mu.Unlock()
	return get()
}

// setMeta records the room's kind and owner as the store has them.
func (r *room) setMeta(m store.RoomMeta) {
	if m.Kind == "" {
		m.Kind = shared.RoomPublic
	}
	r.mu.Lock()
	r.meta = m
	r.mu.Unlock()
}

// access is what Authorize is told about the room, before any lookup of
// the identity's access list.
func (r *room) access() RoomAccess {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.meta.Name == "" {
		return RoomAccess{Name: r.name, Kind: shared.RoomPublic}
	}
	return RoomAccess{Name: r.name, Kind: r.meta.Kind, Owner: r.meta.Owner, Exists: true}
}

// rename shows m's new nickname to the room's members in the next
// presence flush: a diff that lists a user already present as joined
// replaces their entry.
func (r *room) rename(m shared.Member) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.renameLocked(m)
}

func (r *room) renameLocked(m shared.Member) {
	p := r.users[m.User]
	if p == nil || p.member == m {
		return
	}
	old := p.member
	p.member = m
	r.presenceChangedLocked(old, true)
}
