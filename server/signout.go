package server

// Sign-out (issue #15): revoked credentials, "sign out everywhere", a
// nickname change pushed to the user's other sessions, and the nicknames
// kept for verified users while they are offline. The records live in
// the store (store.Credentials) when it has them, else in memory.

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"maps"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/duplex-chat/duplex/server/store"
	"github.com/duplex-chat/duplex/shared"
)

// AnonymousPrefix starts every anonymous user id the server makes; no
// credential of an application (VerifyToken, Authenticate) may name an id
// that starts with it while anonymous access is on, and server/jwtauth
// never makes one.
const AnonymousPrefix = shared.AnonymousPrefix

// TokenID is the id under which a token is revoked: a hash, so the store
// never holds a usable credential.
func TokenID(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:16])
}

// credential is one token a session said hello or auth with, or was
// issued: what its sign-out revokes.
type credential struct {
	id      string
	expires time.Time
}

// credentials returns the store's records, or the server's own.
func (srv *Server) credentials() store.Credentials {
	if c, ok := srv.opts.Store.(store.Credentials); ok {
		return c
	}
	return &srv.credMem
}

// checkRevoked refuses an identity whose credential was revoked: by a
// sign-out (its TokenID) or a sign-out everywhere of its user (issued at
// or before the cutoff; a credential that does not say when it was
// issued counts as issued before).
func (srv *Server) checkRevoked(ctx context.Context, id Identity) error {
	return srv.checkRevokedIn(ctx, srv.credentials(), id)
}

func (srv *Server) checkRevokedIn(ctx context.Context, cr store.Credentials, id Identity) error {
	revoked, before, err := cr.Revoked(ctx, id.TokenID, id.User, time.Now().UnixMilli())
	if err != nil {
		srv.log.Error("revocation check", "err", err)
		return shared.Errorf(shared.CodeUnavailable, "the server could not check the credential; retry")
	}
	if revoked {
		return shared.Errorf(shared.CodeSignedOut, "the credential was revoked: its owner signed out")
	}
	if before != 0 && (id.IssuedAt.IsZero() || id.IssuedAt.Unix() <= before) {
		return shared.Errorf(shared.CodeSignedOut, "the credential was revoked: its owner signed out everywhere at %s; sign in again", time.Unix(before, 0).UTC().Format(time.RFC3339))
	}
	return nil
}

// CheckCredential verifies a credential as hello does (the server's own
// session token or Options.VerifyToken) and refuses a revoked one: for a
// handler beside the server that reads the credential from a cookie.
func (srv *Server) CheckCredential(ctx context.Context, token string) (Identity, error) {
	if token == "" {
		return Identity{}, shared.Errorf(shared.CodeUnauthorized, "no credential")
	}
	id, _, err := srv.identifyToken(ctx, token, time.Now(), false)
	return id, err
}

// remember records a credential of the session, for its sign-out.
func (s *session) remember(id string, expires time.Time) {
	if id == "" {
		return
	}
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.creds {
		if c.id == id {
			return
		}
	}
	kept := s.creds[:0] // a long session refreshing its JWT keeps only the live ones
	for _, c := range s.creds {
		if c.expires.IsZero() || c.expires.After(now) {
			kept = append(kept, c)
		}
	}
	s.creds = append(kept, credential{id: id, expires: expires})
}

func (s *session) holds(ids map[string]bool) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.creds {
		if ids[c.id] {
			return true
		}
	}
	return false
}

// signOut revokes the session's credentials (with All, every credential
// of the user), closes the other sessions that run on them, answers, and
// closes this session with CloseSignedOut.
func (s *session) signOut(ctx context.Context, id string, p *shared.SignOut) {
	now := time.Now()
	cr := s.srv.credentials()
	s.mu.Lock()
	creds := append([]credential(nil), s.creds...)
	s.mu.Unlock()
	revoked := make(map[string]bool, len(creds))
	local := &s.srv.credMem // this node's mirror: see recheckRevoked
	for _, c := range creds {
		exp := int64(math.MaxInt64) // a credential that never expires stays revoked
		if !c.expires.IsZero() {
			exp = c.expires.UnixMilli()
		}
		if err := cr.RevokeToken(ctx, c.id, exp); err != nil {
			s.srv.log.Error("revoke token", "err", err)
			s.fail(id, shared.Errorf(shared.CodeUnavailable, "the server could not record the sign-out; retry"))
			return
		}
		local.RevokeToken(ctx, c.id, exp)
		revoked[c.id] = true
	}
	user := s.member.User
	if p.All {
		var keep int64 // a verified user's cutoff is kept for good
		if strings.HasPrefix(user, AnonymousPrefix) {
			// Every token of an anonymous user expires within SessionTTL.
			keep = now.Add(s.srv.opts.SessionTTL).UnixMilli()
		}
		if err := cr.RevokeUser(ctx, user, now.Unix(), keep); err != nil {
			s.srv.log.Error("revoke user", "err", err)
			s.fail(id, shared.Errorf(shared.CodeUnavailable, "the server could not record the sign-out; retry"))
			return
		}
		local.RevokeUser(ctx, user, now.Unix(), keep)
	}
	if err := cr.PruneRevoked(ctx, now.UnixMilli()); err != nil {
		s.srv.log.Warn("prune revoked credentials", "err", err)
	}
	local.PruneRevoked(ctx, now.UnixMilli())
	n := s.srv.closeSignedOut(s, user, revoked, p.All)
	s.srv.pushToPeers(user, peerMsg{Kind: peerSignOut, Revoked: slices.Collect(maps.Keys(revoked)), All: p.All}) // peers.go
	s.reply(shared.TypeAck, id, &shared.SignOutAck{All: p.All, Sessions: n})
	s.close(shared.CloseSignedOut, "", drainQueue)
}

// recheckRevoked closes a session that became ready while a sign-out of
// its user on this node was under way: the sign-out's sweep
// (closeSignedOut) skips sessions still in hello, and hello checked the
// store before the sign-out wrote it. Each writes its side (ready, the
// in-memory mirror) before reading the other's, so one of them sees it.
func (s *session) recheckRevoked() {
	s.mu.Lock()
	creds := append([]credential(nil), s.creds...)
	s.mu.Unlock()
	id := s.ident
	if s.srv.checkRevokedIn(s.ctx, &s.srv.credMem, id) != nil {
		s.kill(shared.CloseSignedOut)
		return
	}
	for _, c := range creds {
		id.TokenID = c.id
		if s.srv.checkRevokedIn(s.ctx, &s.srv.credMem, id) != nil {
			s.kill(shared.CloseSignedOut)
			return
		}
	}
}

// closeSignedOut closes, with CloseSignedOut, the sessions of user on this
// node other than except that run on a revoked credential (all: every
// one), and returns how many.
func (srv *Server) closeSignedOut(except *session, user string, revoked map[string]bool, all bool) int {
	var victims []*session
	srv.mu.Lock()
	for sess := range srv.sessions {
		if sess != except && sess.ready.Load() && sess.member.User == user {
			victims = append(victims, sess)
		}
	}
	srv.mu.Unlock()
	n := 0
	for _, sess := range victims {
		if all || sess.holds(revoked) {
			sess.kill(shared.CloseSignedOut)
			n++
		}
	}
	return n
}

// pushNick tells the other sessions of from's user, on every node, that
// the nickname is now nick; each client adopts it (and says nick itself,
// so the server shows it in that session's rooms too).
func (srv *Server) pushNick(from *session, nick string) {
	srv.pushNickHere(from, from.member.User, nick)
	srv.pushToPeers(from.member.User, peerMsg{Kind: peerNick, Nick: nick}) // peers.go
}

// pushNickHere is pushNick on this node (from nil: a push from another).
func (srv *Server) pushNickHere(from *session, user, nick string) {
	frame, err := shared.Encode(shared.TypeNickChanged, "", &shared.NickChanged{Nick: nick})
	if err != nil {
		return
	}
	srv.mu.Lock()
	var to []*session
	for sess := range srv.sessions {
		if sess != from && sess.ready.Load() && sess.member.User == user {
			to = append(to, sess)
		}
	}
	srv.mu.Unlock()
	for _, sess := range to {
		sess.q.enqueue(frame)
	}
}

// claimNick is holdNick with the reservations of verified users: nick
// must not be kept for another verified user, and a verified user keeps
// the nick they take (one store write, only when it is not theirs yet).
func (srv *Server) claimNick(ctx context.Context, user, nick string, verified bool) error {
	cr := srv.credentials()
	key := shared.NickKey(nick)
	owner, err := cr.NickOwner(ctx, key)
	if err != nil {
		srv.log.Error("nick owner", "err", err)
		return shared.Errorf(shared.CodeUnavailable, "the server could not check the nickname; retry")
	}
	if owner != "" && owner != user {
		return nickKept(nick)
	}
	if err := srv.holdNick(user, nick); err != nil {
		return err
	}
	if !verified || owner == user {
		return nil
	}
	owner, err = cr.ReserveNick(ctx, key, user, nick)
	if err == nil && owner != "" && owner != user {
		err = nickKept(nick) // another verified user reserved it meanwhile
	} else if err != nil {
		srv.log.Error("reserve nick", "err", err)
		err = shared.Errorf(shared.CodeUnavailable, "the server could not keep the nickname; retry")
	}
	if err != nil {
		srv.releaseNick(nick)
	}
	return err
}

func nickKept(nick string) error {
	return shared.Errorf(shared.CodeNickTaken, "the nickname %q belongs to a signed-in user (or one that looks the same); pick another", shortQ(nick))
}
