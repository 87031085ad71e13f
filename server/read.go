package server

import (
	"context"

	"github.com/duplex-chat/duplex/server/store"
	"github.com/duplex-chat/duplex/shared"
)

// Read markers (PROTOCOL.md 7.14): each user has one marker per room, the
// seq they have read up to, kept in the store. It only moves up. A user's
// first join of a room sets it to the room's head, so a newcomer does not
// find the whole history unread. JoinAck, RoomInfo and ReadAck carry the
// marker with the counts after it; a move is pushed to the user's other
// sessions in the room on this node, so a second tab or device follows.

// read moves the session user's marker in a joined room.
func (s *session) read(ctx context.Context, id string, p *shared.Read) {
	r := s.joined(p.Room)
	if r == nil {
		if id != "" {
			s.fail(id, shared.Errorf(shared.CodeNotJoined, "join room %q before marking it read", p.Room))
		}
		return
	}
	head, err := s.srv.opts.Store.Head(ctx, p.Room)
	if err != nil {
		if id != "" {
			s.fail(id, err)
		}
		return
	}
	// A marker past the head would hide messages not yet written.
	seq := min(p.Seq, max(head, r.headSeq()))
	st, err := s.srv.opts.Store.MarkRead(ctx, p.Room, s.member.User, seq)
	if err != nil {
		if id != "" {
			s.fail(id, err)
		}
		return
	}
	if id != "" {
		s.reply(shared.TypeAck, id, &shared.ReadAck{Room: p.Room, Seq: st.Read, Unread: st.Unread, Mentioned: st.Mentioned})
	}
	push := &shared.Read{Room: p.Room, Seq: st.Read, Unread: st.Unread, Mentioned: st.Mentioned}
	r.pushReadHere(s, s.member.User, push)
	s.srv.pushToPeers(s.member.User, peerMsg{Kind: peerRead, Read: push}) // peers.go
}

// pushReadHere tells the sessions of user in r on this node, other than
// from (nil: a push from another node), where the marker is now. Most
// users have one session in a room: that costs one lookup.
func (r *room) pushReadHere(from *session, user string, p *shared.Read) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if u := r.users[user]; u == nil || u.sessions == 0 || from != nil && u.sessions < 2 {
		return
	}
	frame, err := shared.Encode(shared.TypeRead, "", p)
	if err != nil {
		return
	}
	for sess, c := range r.members {
		if sess != from && c.live && sess.member.User == user {
			sess.q.enqueue(frame)
			sess.q.hurryWriter()
		}
	}
}

// readState returns user's marker in room and what is unread after it,
// setting the marker when the user has none yet: to head on a first join
// of a room, but to 0 in a DM, whose every message was written to the
// user (so a new conversation shows as unread before it is opened).
func (srv *Server) readState(ctx context.Context, room, user string, head int64, kind shared.RoomKind) (store.ReadState, error) {
	st, err := srv.opts.Store.ReadState(ctx, room, user)
	if err != nil || st.Marked {
		return st, err
	}
	if kind == shared.RoomDM {
		head = 0
	}
	if err := srv.opts.Store.InitRead(ctx, room, user, head); err != nil {
		return st, err
	}
	if head == 0 {
		return srv.opts.Store.ReadState(ctx, room, user)
	}
	return store.ReadState{Marked: true, Read: head}, nil
}

// fillJoinRead puts the user's read state in a join's ack. A store error
// leaves it out rather than failing the join: unread counts are a
// convenience, the messages are not.
func (s *session) fillJoinRead(ctx context.Context, ack *shared.JoinAck, head int64) {
	r := s.joined(ack.Room)
	kind := shared.RoomPublic
	if r != nil {
		kind = r.access().Kind
	}
	st, err := s.srv.readState(ctx, ack.Room, s.member.User, head, kind)
	if err != nil {
		s.srv.log.Warn("read state", "room", ack.Room, "err", err)
		return
	}
	ack.Read, ack.Unread, ack.Mentioned = st.Read, st.Unread, st.Mentioned
}

// fillRoomReads puts user's read state in each room of a room list that
// the user has a marker in, and in every DM of theirs (readState).
func (srv *Server) fillRoomReads(ctx context.Context, user string, rooms []shared.RoomInfo) {
	for i := range rooms {
		st, err := srv.opts.Store.ReadState(ctx, rooms[i].Name, user)
		if err == nil && !st.Marked && rooms[i].Kind == shared.RoomDM {
			st, err = srv.readState(ctx, rooms[i].Name, user, 0, shared.RoomDM)
		}
		if err != nil {
			srv.log.Warn("read state", "room", rooms[i].Name, "err", err)
			return
		}
		rooms[i].Read, rooms[i].Unread, rooms[i].Mentioned = st.Read, st.Unread, st.Mentioned
	}
}
