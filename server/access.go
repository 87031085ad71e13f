package server

import (
	"context"
	"crypto/sha256"
	"encoding/hex"

	"github.com/duplex-chat/duplex/server/store"
	"github.com/duplex-chat/duplex/shared"
)

// dmRoom is the name of the direct-message room of users a and b: the same
// for both, whoever opens it first. Nobody may create another room under
// shared.DMPrefix: DM names derive from public user ids, so a public room
// made in advance under the same name would capture a conversation.
func dmRoom(a, b string) string {
	if a > b {
		a, b = b, a
	}
	sum := sha256.Sum256([]byte(a + "\n" + b))
	return shared.DMPrefix + hex.EncodeToString(sum[:20])
}

// roomAccess is what Authorize needs about r for id: the room's kind and
// owner (read again from the store if this node has not seen it exist)
// and whether id is on its access list.
func (srv *Server) roomAccess(ctx context.Context, id Identity, r *room) (RoomAccess, error) {
	acc := r.access()
	if !acc.Exists {
		meta, ok, err := srv.opts.Store.Room(ctx, r.name)
		if err != nil {
			return acc, err
		}
		if ok {
			r.setMeta(meta)
			acc = r.access()
		}
	}
	if acc.Exists && acc.Kind != shared.RoomPublic {
		has, err := srv.opts.Store.HasAccess(ctx, r.name, id.User)
		if err != nil {
			return acc, err
		}
		acc.Member = has
	}
	return acc, nil
}

// admit decides a join (and so a resume): it creates an unknown room as a
// public one, then asks Authorize for join and read.
func (srv *Server) admit(ctx context.Context, id Identity, r *room) error {
	acc, err := srv.roomAccess(ctx, id, r)
	if err != nil {
		return err
	}
	if !acc.Exists {
		if shared.IsDMRoom(r.name) {
			return shared.Errorf(shared.CodeForbidden, "room names starting with %q are kept for direct conversations", shared.DMPrefix)
		}
		if err := srv.opts.Authorize(ctx, id, ActionCreate, acc); err != nil {
			return err
		}
		meta, _, err := srv.opts.Store.CreateRoom(ctx, store.RoomMeta{Name: r.name, Kind: shared.RoomPublic})
		if err != nil {
			return err
		}
		r.setMeta(meta)
		if acc, err = srv.roomAccess(ctx, id, r); err != nil {
			return err
		}
	}
	if err := srv.opts.Authorize(ctx, id, ActionJoin, acc); err != nil {
		return err
	}
	return srv.opts.Authorize(ctx, id, ActionRead, acc)
}

// authorizeMember asks Authorize about a room the session has joined (so
// it was admitted, and is on the access list of a private room: a removal
// ends its subscription). It does no store I/O: sends come this way.
func (srv *Server) authorizeMember(ctx context.Context, id Identity, action Action, r *room) error {
	acc := r.access()
	acc.Member = acc.Kind != shared.RoomPublic
	return srv.opts.Authorize(ctx, id, action, acc)
}

// lookupUser returns the member record of a user id, or nil when this
// server has never seen that user.
func (srv *Server) lookupUser(ctx context.Context, user string) (*shared.Member, error) {
	srv.mu.Lock()
	o := srv.users[user]
	srv.mu.Unlock()
	if o != nil {
		m := o.member
		return &m, nil
	}
	m, ok, err := srv.opts.Store.User(ctx, user)
	if err != nil || !ok {
		return nil, err
	}
	return &m, nil
}

func (s *session) create(ctx context.Context, id string, c *shared.Create) {
	if shared.IsDMRoom(c.Room) {
		s.fail(id, shared.Errorf(shared.CodeForbidden, "room names starting with %q are kept for direct conversations", shared.DMPrefix))
		return
	}
	r, _, err := s.srv.room(ctx, c.Room)
	if err != nil {
		s.fail(id, err)
		return
	}
	defer s.srv.release(r, true) // an empty room leaves memory (flow)
	acc, err := s.srv.roomAccess(ctx, s.ident, r)
	if err != nil {
		s.fail(id, err)
		return
	}
	if !acc.Exists {
		meta := store.RoomMeta{Name: c.Room, Kind: c.Kind}
		if c.Kind == shared.RoomPrivate {
			meta.Owner = s.member.User
		}
		var ok bool
		if acc, ok = s.createRoom(ctx, id, r, acc, meta); !ok {
			return
		}
	}
	// Creating what exists is harmless when it is what was asked for and
	// the user may use it; anything else is a name taken.
	if acc.Kind != c.Kind || acc.Kind == shared.RoomPrivate && !acc.Member {
		s.fail(id, shared.Errorf(shared.CodeForbidden, "the name %q is taken", c.Room))
		return
	}
	s.reply(shared.TypeAck, id, s.srv.roomInfo(r, acc, nil))
}

// createRoom creates the room r stands for as meta says, after the
// creation limits and Authorize allow it, and returns its access as it is
// now (another creator may have won the race). On failure it has answered
// request id and ok is false.
func (s *session) createRoom(ctx context.Context, id string, r *room, acc RoomAccess, meta store.RoomMeta) (_ RoomAccess, ok bool) {
	if !s.allowCreate(id) {
		return acc, false
	}
	acc.Kind = meta.Kind
	if err := s.srv.opts.Authorize(ctx, s.ident, ActionCreate, acc); err != nil {
		s.fail(id, err)
		return acc, false
	}
	meta, _, err := s.srv.opts.Store.CreateRoom(ctx, meta)
	if err != nil {
		s.fail(id, err)
		return acc, false
	}
	r.setMeta(meta)
	if acc, err = s.srv.roomAccess(ctx, s.ident, r); err != nil {
		s.fail(id, err)
		return acc, false
	}
	s.srv.roomsChanged()
	return acc, true
}

// roomInfo describes r as a room-list entry.
func (srv *Server) roomInfo(r *room, acc RoomAccess, peer *shared.Member) *shared.RoomInfo {
	info := &shared.RoomInfo{Name: r.name, Members: r.memberCount(), Head: r.headSeq(), Owner: acc.Owner, Peer: peer}
	if acc.Kind != shared.RoomPublic {
		info.Kind = acc.Kind
	}
	return info
}

func (s *session) dm(ctx context.Context, id string, d *shared.DM) {
	if d.User == s.member.User {
		s.fail(id, shared.Errorf(shared.CodeInvalid, "a direct conversation needs another user"))
		return
	}
	peer, err := s.srv.lookupUser(ctx, d.User)
	if err != nil {
		s.fail(id, err)
		return
	}
	if peer == nil {
		s.fail(id, shared.Errorf(shared.CodeNotFound, "no user %q", shortQ(d.User)))
		return
	}
	name := dmRoom(s.member.User, d.User)
	r, _, err := s.srv.room(ctx, name)
	if err != nil {
		s.fail(id, err)
		return
	}
	defer s.srv.release(r, true)
	acc, err := s.srv.roomAccess(ctx, s.ident, r)
	if err != nil {
		s.fail(id, err)
		return
	}
	if !acc.Exists {
		var ok bool
		meta := store.RoomMeta{Name: name, Kind: shared.RoomDM, Users: []string{s.member.User, d.User}}
		if acc, ok = s.createRoom(ctx, id, r, acc, meta); !ok {
			return
		}
	}
	if acc.Kind != shared.RoomDM || !acc.Member {
		s.fail(id, shared.Errorf(shared.CodeForbidden, "room %q is not your direct conversation", name))
		return
	}
	s.reply(shared.TypeAck, id, s.srv.roomInfo(r, acc, peer))
}

// manage resolves the room and the target user of an invite or remove and
// asks Authorize about action.
func (s *session) manage(ctx context.Context, action Action, roomName, user string) (*room, error) {
	r, _, err := s.srv.room(ctx, roomName)
	if err != nil {
		return nil, err
	}
	defer s.srv.release(r, true) // callers only read r; an empty one may go
	acc, err := s.srv.roomAccess(ctx, s.ident, r)
	if err != nil {
		return nil, err
	}
	if !acc.Exists {
		return nil, shared.Errorf(shared.CodeNotFound, "no room %q", roomName)
	}
	if err := s.srv.opts.Authorize(ctx, s.ident, action, acc); err != nil {
		return nil, err
	}
	if action == ActionRemove && user == acc.Owner {
		return nil, shared.Errorf(shared.CodeInvalid, "the owner of room %q cannot be removed", roomName)
	}
	target, err := s.srv.lookupUser(ctx, user)
	if err != nil {
		return nil, err
	}
	if target == nil {
		return nil, shared.Errorf(shared.CodeNotFound, "no user %q", shortQ(user))
	}
	return r, nil
}

func (s *session) invite(ctx context.Context, id string, inv *shared.Invite) {
	if s.changeAccess(ctx, id, ActionInvite, inv.Room, inv.User, s.srv.opts.Store.Grant) {
		s.srv.roomsChanged()
		s.reply(shared.TypeAck, id, &shared.Invite{Room: inv.Room, User: inv.User})
	}
}

func (s *session) remove(ctx context.Context, id string, rm *shared.Remove) {
	if s.changeAccess(ctx, id, ActionRemove, rm.Room, rm.User, s.srv.opts.Store.Revoke) {
		s.srv.evict(rm.Room, rm.User)
		s.srv.roomsChanged()
		s.reply(shared.TypeAck, id, &shared.Invite{Room: rm.Room, User: rm.User})
	}
}

// changeAccess checks that the session may take action on user's access
// to room, then makes the change in the store (its Grant or Revoke). On
// an error it fails request id and reports false.
func (s *session) changeAccess(ctx context.Context, id string, action Action, room, user string, change func(ctx context.Context, room, user string) error) bool {
	if _, err := s.manage(ctx, action, room, user); err != nil {
		s.fail(id, err)
		return false
	}
	if err := change(ctx, room, user); err != nil {
		s.fail(id, err)
		return false
	}
	return true
}

// evict ends every subscription of user's sessions to room, on every
// node, and tells them with a removed frame.
func (srv *Server) evict(room, user string) {
	srv.evictHere(room, user)
	srv.pushToPeers(user, peerMsg{Kind: peerEvict, Room: room}) // peers.go
}

// evictHere is evict on this node.
func (srv *Server) evictHere(room, user string) {
	var victims []*session
	srv.mu.Lock()
	for sess := range srv.sessions {
		if sess.ready.Load() && sess.member.User == user {
			victims = append(victims, sess)
		}
	}
	srv.mu.Unlock()
	frame, err := shared.Encode(shared.TypeRemoved, "", &shared.Removed{Room: room})
	if err != nil {
		return
	}
	for _, sess := range victims {
		sess.mu.Lock()
		r := sess.rooms[room]
		delete(sess.rooms, room)
		sess.mu.Unlock()
		if r != nil {
			r.remove(sess)
		}
		sess.q.enqueue(frame)
		sess.q.hurryWriter()
	}
}
