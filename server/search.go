package server

import (
	"context"

	"github.com/duplex-chat/duplex/server/store"
	"github.com/duplex-chat/duplex/shared"
)

// search answers a search request (PROTOCOL.md 7.15) with messages of the
// rooms the user may read: the store filters by access list, and every
// room in the answer is also put to Options.Authorize (ActionRead), as a
// history request would be. Naming a room narrows the search to it: an
// unknown room is not_found, one the user may not read forbidden.
func (s *session) search(ctx context.Context, id string, q *shared.Search) {
	if q.Room != "" {
		if err := s.srv.mayRead(ctx, s.ident, q.Room); err != nil {
			s.fail(id, err)
			return
		}
	}
	msgs, next, err := s.srv.opts.Store.Search(ctx, store.SearchQuery{
		User: s.member.User, Query: q.Query, Room: q.Room, Before: q.Before, Limit: q.Limit,
	})
	if err != nil {
		s.fail(id, err)
		return
	}
	ack := &shared.SearchAck{Results: make([]shared.Message, 0, len(msgs)), Next: next}
	allowed := map[string]bool{q.Room: q.Room != ""}
	for _, m := range msgs {
		ok, seen := allowed[m.Room]
		if !seen {
			ok = s.srv.mayRead(ctx, s.ident, m.Room) == nil
			allowed[m.Room] = ok
		}
		if ok {
			ack.Results = append(ack.Results, m)
		}
	}
	s.reply(shared.TypeAck, id, ack)
}

// mayRead reports whether id may read room's messages without joining it:
// not_found when no such room exists, else Authorize's verdict on
// ActionRead with the access list looked up in the store.
func (srv *Server) mayRead(ctx context.Context, id Identity, room string) error {
	meta, ok, err := srv.opts.Store.Room(ctx, room)
	if err != nil {
		return err
	}
	if !ok {
		return shared.Errorf(shared.CodeNotFound, "no room %q", room)
	}
	acc := RoomAccess{Name: room, Kind: kindOf(meta.Kind), Owner: meta.Owner, Exists: true}
	if acc.Kind != shared.RoomPublic {
		if acc.Member, err = srv.opts.Store.HasAccess(ctx, room, id.User); err != nil {
			return err
		}
	}
	return srv.opts.Authorize(ctx, id, ActionRead, acc)
}
