package server

import (
	"encoding/json"
	"maps"
	"slices"
	"time"

	"github.com/duplex-chat/duplex/shared"
)

// Peers is how the nodes of a cluster tell each other what is in no
// room's log (issue #16): who is in a room, who types there, and pushes to
// a user's sessions (removed, read, a new nickname, sign-out). It is
// ephemeral, at most once: a lost presence report is repaired by the next
// beat, a lost typing frame expires. server/cluster implements it on core
// NATS. Nil (Options.Peers): the node is alone.
type Peers interface {
	// Node names this node; no node hears its own publications.
	Node() string
	// Publish sends data to the nodes that subscribed to subject.
	Publish(subject string, data []byte) error
	// Subscribe calls fn with every publication of another node on
	// subject until cancel is called. fn must not block.
	Subscribe(subject string, fn func(data []byte)) (cancel func(), err error)
}

const (
	// presenceBeat is how often a node tells the others who is in each of
	// its rooms; a node not heard from for remoteTTL is taken for dead
	// and its members leave every room: within remoteTTL plus one
	// presence flush, under 10 s.
	presenceBeat = 1500 * time.Millisecond
	remoteTTL    = 3*presenceBeat + 500*time.Millisecond
	// maxReported is the most members one report lists: a node with more
	// in a room reports its first maxReported (the room is large and its
	// members see counts anyway).
	maxReported = 2000
)

// peerMsg is what nodes tell each other. Subjects: "room.<name>" for a
// room's presence and typing, "user.<id>" for pushes to a user.
type peerMsg struct {
	Node string `json:"node"`
	Kind string `json:"kind"` // peerMembers, peerAsk, peerGone, peerTyping, peerEvict, peerRead, peerNick, peerSignOut
	// Members is a node's members of the room (peerMembers).
	Members []shared.Member `json:"members,omitempty"`
	// Member types (peerTyping), or stops when Stop.
	Member *shared.Member `json:"member,omitempty"`
	Stop   bool           `json:"stop,omitempty"`
	// Pushes to a user.
	Room    string       `json:"room,omitempty"`
	Read    *shared.Read `json:"read,omitempty"`
	Nick    string       `json:"nick,omitempty"`
	Revoked []string     `json:"revoked,omitempty"`
	All     bool         `json:"all,omitempty"`
}

const (
	peerMembers = "members"
	peerAsk     = "ask"  // a node that just took the room asks for reports now
	peerGone    = "gone" // a node shutting down: forget its members now
	peerTyping  = "typing"
	peerEvict   = "evict"
	peerRead    = "read"
	peerNick    = "nick"
	peerSignOut = "signout"
)

// remoteNode is what one other node last reported of a room's members.
type remoteNode struct {
	members map[string]shared.Member
	expires time.Time
}

func (srv *Server) publishPeer(subject string, m peerMsg) {
	if srv.opts.Peers == nil {
		return
	}
	m.Node = srv.opts.Peers.Node()
	b, err := json.Marshal(m)
	if err == nil {
		err = srv.opts.Peers.Publish(subject, b)
	}
	if err != nil {
		srv.log.Debug("peers: publish", "subject", subject, "err", err)
	}
}

func (srv *Server) subscribePeer(subject string, fn func(peerMsg)) func() {
	if srv.opts.Peers == nil {
		return func() {}
	}
	self := srv.opts.Peers.Node()
	cancel, err := srv.opts.Peers.Subscribe(subject, func(b []byte) {
		var m peerMsg
		if json.Unmarshal(b, &m) == nil && m.Node != self {
			fn(m)
		}
	})
	if err != nil {
		srv.log.Warn("peers: subscribe", "subject", subject, "err", err)
		return func() {}
	}
	return cancel
}

// peerStart subscribes a room just taken by this node to its presence
// and typing, and asks the other nodes for their members of it.
func (r *room) peerStart() {
	if r.srv.opts.Peers == nil {
		return
	}
	r.peerCancel = r.srv.subscribePeer("room."+r.name, r.onPeer)
	r.srv.publishPeer("room."+r.name, peerMsg{Kind: peerAsk})
}

func (r *room) onPeer(m peerMsg) {
	switch m.Kind {
	case peerMembers:
		r.setRemote(m.Node, m.Members, time.Now().Add(remoteTTL))
	case peerGone:
		r.setRemote(m.Node, nil, time.Time{})
	case peerAsk:
		r.reportMembers()
	case peerTyping:
		if m.Member == nil {
			return
		}
		if m.Stop {
			r.typingStop(m.Member.User)
		} else {
			r.typingStart(*m.Member)
		}
	}
}

// reportMembers tells the other nodes who is in the room on this one.
func (r *room) reportMembers() {
	r.mu.Lock()
	list := make([]shared.Member, 0, min(len(r.users), maxReported))
	for _, p := range r.users {
		if p.sessions > 0 && len(list) < maxReported {
			list = append(list, p.member)
		}
	}
	r.pres.localChanged = false
	r.mu.Unlock()
	r.srv.publishPeer("room."+r.name, peerMsg{Kind: peerMembers, Members: list})
}

// setRemote records node's members of the room (none: the node left or
// died) and tells the room's members who came and went.
func (r *room) setRemote(node string, members []shared.Member, expires time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.setRemoteLocked(node, members, expires)
}

func (r *room) setRemoteLocked(node string, members []shared.Member, expires time.Time) {
	old := r.remote[node]
	next := make(map[string]shared.Member, len(members))
	for _, m := range members {
		next[m.User] = m
	}
	if old != nil {
		for user := range old.members {
			if _, ok := next[user]; !ok {
				r.remoteLeftLocked(user)
			}
		}
	}
	for user, m := range next {
		was, ok := old.membersOf()[user]
		switch {
		case !ok:
			r.remoteJoinedLocked(m)
		case was != m: // a new nickname
			delete(r.remoteKeys, shared.NickKey(was.Nick))
			r.remoteKeys[shared.NickKey(m.Nick)] = user
			r.renameLocked(m)
		}
	}
	if len(next) == 0 {
		delete(r.remote, node)
		return
	}
	if r.remote == nil {
		r.remote = make(map[string]*remoteNode)
	}
	r.remote[node] = &remoteNode{members: next, expires: expires}
}

func (r *room) remoteJoinedLocked(m shared.Member) {
	if r.remoteKeys == nil {
		r.remoteKeys = make(map[string]string)
	}
	r.remoteKeys[shared.NickKey(m.Nick)] = m.User
	p := r.users[m.User]
	if p == nil {
		p = &presence{member: m}
		r.users[m.User] = p
		r.presenceChangedLocked(m, false)
	}
	p.remote++
}

func (r *room) remoteLeftLocked(user string) {
	p := r.users[user]
	if p == nil {
		return
	}
	if p.remote--; p.remote <= 0 {
		delete(r.remoteKeys, shared.NickKey(p.member.Nick))
	}
	if p.remote <= 0 && p.sessions == 0 {
		delete(r.users, user)
		r.presenceChangedLocked(p.member, true)
		r.typingStopLocked(user)
	}
}

func (rn *remoteNode) membersOf() map[string]shared.Member {
	if rn == nil {
		return nil
	}
	return rn.members
}

// expireRemoteLocked forgets the nodes not heard from for remoteTTL.
func (r *room) expireRemoteLocked(now time.Time) {
	for node, rn := range maps.Clone(r.remote) {
		if now.After(rn.expires) {
			r.setRemoteLocked(node, nil, time.Time{})
		}
	}
}

// peerStop ends a dropped room's subscription.
func (r *room) peerStop() {
	if r.peerCancel != nil {
		r.peerCancel()
	}
}

// peerBeat reports every room's members each presenceBeat and forgets
// the nodes that stopped reporting, until the server quits; then it tells
// the others this node is gone.
func (srv *Server) peerBeat() {
	t := time.NewTicker(presenceBeat)
	defer t.Stop()
	for {
		select {
		case <-srv.quit:
			for _, r := range srv.liveRooms() {
				srv.publishPeer("room."+r.name, peerMsg{Kind: peerGone})
			}
			return
		case now := <-t.C:
			for _, r := range srv.liveRooms() {
				r.reportMembers()
				r.mu.Lock()
				r.expireRemoteLocked(now)
				r.mu.Unlock()
			}
		}
	}
}

func (srv *Server) liveRooms() []*room {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	return slices.Collect(maps.Values(srv.rooms))
}

// typingToPeers tells the other nodes that m types in room (or stopped).
func (srv *Server) typingToPeers(room string, m shared.Member, stop bool) {
	srv.publishPeer("room."+room, peerMsg{Kind: peerTyping, Member: &m, Stop: stop})
}

// userPeerStart subscribes to the pushes for a user whose first session
// on this node just started.
func (srv *Server) userPeerStart(user string) func() {
	return srv.subscribePeer("user."+user, func(m peerMsg) { srv.onUserPush(user, m) })
}

// pushToPeers sends a push for user to the other nodes.
func (srv *Server) pushToPeers(user string, m peerMsg) {
	srv.publishPeer("user."+user, m)
}

func (srv *Server) onUserPush(user string, m peerMsg) {
	switch m.Kind {
	case peerEvict:
		srv.evictHere(m.Room, user)
	case peerRead:
		if m.Read == nil {
			return
		}
		srv.mu.Lock()
		r := srv.rooms[m.Read.Room]
		srv.mu.Unlock()
		if r != nil {
			r.pushReadHere(nil, user, m.Read)
		}
	case peerNick:
		srv.pushNickHere(nil, user, m.Nick)
	case peerSignOut:
		revoked := make(map[string]bool, len(m.Revoked))
		for _, id := range m.Revoked {
			revoked[id] = true
		}
		srv.closeSignedOut(nil, user, revoked, m.All)
	}
}
