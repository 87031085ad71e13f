package server

import (
	"context"
	"errors"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/duplex-chat/duplex/server/store"
	"github.com/duplex-chat/duplex/shared"
)

// searchDefaults fills in the search budget (Options).
func (o *Options) searchDefaults() {
	o.SearchTimeout = positiveOr(o.SearchTimeout, 2*time.Second)
	o.MaxSearches = positiveOr(o.MaxSearches, 2)
	o.SearchMaxTerms = positiveOr(o.SearchMaxTerms, 8)
	o.SearchMinPrefix = positiveOr(o.SearchMinPrefix, 2)
}

// searchTerms checks a query against the budget and returns the query the
// store looks up: its words of at least SearchMinPrefix characters. A
// query with no words at all matches nothing (""); one whose words are
// all shorter, or that has more than SearchMaxTerms of them, is
// search_too_broad.
func (srv *Server) searchTerms(query string) (string, error) {
	all := store.Terms(query)
	if len(all) == 0 {
		return "", nil // only punctuation: matches nothing, as documented
	}
	terms := all[:0:0]
	for _, t := range all {
		if utf8.RuneCountInString(t) >= srv.opts.SearchMinPrefix {
			terms = append(terms, t)
		}
	}
	if len(terms) == 0 {
		return "", shared.Errorf(shared.CodeSearchTooBroad, "search for a word of at least %d characters: shorter ones match too much", srv.opts.SearchMinPrefix)
	}
	if len(terms) > srv.opts.SearchMaxTerms {
		return "", shared.Errorf(shared.CodeSearchTooBroad, "a search may have at most %d words of %d characters or more; this one has %d", srv.opts.SearchMaxTerms, srv.opts.SearchMinPrefix, len(terms))
	}
	return strings.Join(terms, " "), nil
}

// errSearchTimeout answers a search that ran out of its budget.
func (srv *Server) errSearchTimeout(waiting bool) error {
	if waiting {
		return shared.Errorf(shared.CodeSearchTimeout, "the server is busy with other searches; retry later")
	}
	return shared.Errorf(shared.CodeSearchTimeout, "the search took longer than %v: use longer or fewer words, or name a room", srv.opts.SearchTimeout)
}

// search answers a search request (PROTOCOL.md 7.15) with messages of the
// rooms the user may read: the store filters by access list, and every
// room in the answer is also put to Options.Authorize (ActionRead), as a
// history request would be. Naming a room narrows the search to it: an
// unknown room is not_found, one the user may not read forbidden.
//
// A search has a budget (Options.SearchTimeout, MaxSearches,
// SearchMaxTerms, SearchMinPrefix): it waits for one of MaxSearches turns
// and runs within SearchTimeout of its arrival, or is answered with
// search_timeout (the store's query is interrupted).
func (s *session) search(ctx context.Context, id string, q *shared.Search) {
	query, err := s.srv.searchTerms(q.Query)
	if err != nil {
		s.fail(id, err)
		return
	}
	if query == "" {
		s.reply(shared.TypeAck, id, &shared.SearchAck{Results: []shared.Message{}})
		return
	}
	ctx, cancel := context.WithTimeout(ctx, s.srv.opts.SearchTimeout)
	defer cancel()
	select {
	case s.srv.searches <- struct{}{}:
		defer func() { <-s.srv.searches }()
	case <-ctx.Done():
		s.fail(id, s.srv.errSearchTimeout(true))
		return
	}
	if q.Room != "" {
		if err := s.srv.mayRead(ctx, s.ident, q.Room); err != nil {
			s.fail(id, err)
			return
		}
	}
	msgs, next, err := s.srv.opts.Store.Search(ctx, store.SearchQuery{
		User: s.member.User, Query: query, Room: q.Room, Before: q.Before, Limit: q.Limit,
	})
	if err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			err = s.srv.errSearchTimeout(false)
		}
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
	if errors.Is(ctx.Err(), context.DeadlineExceeded) { // the checks above may have failed for it
		s.fail(id, s.srv.errSearchTimeout(false))
		return
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
	acc := RoomAccess{Name: room, Kind: meta.Kind.OrPublic(), Owner: meta.Owner, Exists: true}
	if acc.Kind != shared.RoomPublic {
		if acc.Member, err = srv.opts.Store.HasAccess(ctx, room, id.User); err != nil {
			return err
		}
	}
	return srv.opts.Authorize(ctx, id, ActionRead, acc)
}
