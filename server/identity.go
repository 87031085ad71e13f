package server

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/duplex-chat/duplex/shared"
)

// Identity is who a connection speaks as. The server verifies it (its own
// session token, Options.VerifyToken or Options.Authenticate) before the
// connection may do anything; a user id alone proves nothing.
type Identity struct {
	// User is the stable, public user id that messages and presence carry.
	User string
	// Nick, when set, is the display name the credential carries (a JWT's
	// name claim); it takes the place of the nickname in hello.
	Nick string
	// Expires is when the credential stops being valid; zero means never.
	Expires time.Time

	// Sign-out (issue #15).

	// TokenID names the credential in the revocation list that sign-out
	// writes. For a token presented in hello or auth the server sets it
	// (TokenID of the token) when the verifier leaves it empty; an
	// Authenticate that wants its credentials revocable sets it.
	TokenID string
	// IssuedAt is when the credential was issued (a JWT's iat). After its
	// user signed out everywhere, a credential issued at or before that
	// second is refused, and so is one with a zero IssuedAt.
	IssuedAt time.Time
}

// TokenPrefix starts every session token this server issues, so hello can
// tell them from an embedder's tokens (a JWT starts with "ey").
const TokenPrefix = "dx1."

// tokenClaims is the signed payload of a session token.
type tokenClaims struct {
	User     string `json:"u"`
	IssuedAt int64  `json:"iat"`
	Expires  int64  `json:"exp"`
}

// ErrBadToken and the errors wrapping it are what VerifySessionToken
// returns; all of them mean "not this identity".
var ErrBadToken = errors.New("invalid session token")

// IssueSessionToken signs a session token for user, valid for ttl: the
// credential an anonymous user presents in later hellos.
func IssueSessionToken(key []byte, user string, now time.Time, ttl time.Duration) (token string, expires time.Time) {
	expires = now.Add(ttl).Truncate(time.Second)
	payload, _ := json.Marshal(tokenClaims{User: user, IssuedAt: now.Unix(), Expires: expires.Unix()})
	body := TokenPrefix + base64.RawURLEncoding.EncodeToString(payload)
	return body + "." + base64.RawURLEncoding.EncodeToString(sign(key, body)), expires
}

// VerifySessionToken checks a token's signature with key and its expiry
// at now, and returns the identity it names.
func VerifySessionToken(key []byte, token string, now time.Time) (Identity, error) {
	body, sig, ok := cutLast(token, ".")
	if !ok || !strings.HasPrefix(body, TokenPrefix) {
		return Identity{}, shared.Errorf(shared.CodeUnauthorized, "%v: malformed", ErrBadToken)
	}
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil || !hmac.Equal(got, sign(key, body)) {
		return Identity{}, shared.Errorf(shared.CodeUnauthorized, "%v: the signature does not match (forged, altered, or signed with a key this server no longer uses)", ErrBadToken)
	}
	payload, err := base64.RawURLEncoding.DecodeString(body[len(TokenPrefix):])
	var c tokenClaims
	if err != nil || json.Unmarshal(payload, &c) != nil || shared.ValidID("user", c.User) != nil {
		return Identity{}, shared.Errorf(shared.CodeUnauthorized, "%v: malformed claims", ErrBadToken)
	}
	exp := time.Unix(c.Expires, 0)
	if !now.Before(exp) {
		return Identity{}, shared.Errorf(shared.CodeUnauthorized, "%v: expired at %s", ErrBadToken, exp.UTC().Format(time.RFC3339))
	}
	return Identity{User: c.User, Expires: exp, IssuedAt: time.Unix(c.IssuedAt, 0)}, nil
}

func sign(key []byte, body string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(body))
	return m.Sum(nil)
}

func cutLast(s, sep string) (before, after string, ok bool) {
	i := strings.LastIndex(s, sep)
	if i < 0 {
		return s, "", false
	}
	return s[:i], s[i+len(sep):], true
}

// NewSessionKey returns a random key for Options.SessionKey.
func NewSessionKey() []byte {
	k := make([]byte, 32)
	rand.Read(k)
	return k
}

// identify turns a hello into an identity: the upgrade request's, a
// token's, or a new anonymous one. token is a fresh session token to hand
// back in welcome ("" when the credential is the embedder's); creds are
// the credentials the session now holds, for its sign-out.
func (srv *Server) identify(ctx context.Context, pre *Identity, h *shared.Hello) (id Identity, token string, creds []credential, err error) {
	now := time.Now()
	switch {
	case pre != nil:
		if err := srv.checkRevoked(ctx, *pre); err != nil {
			return Identity{}, "", nil, err
		}
		return *pre, "", []credential{{pre.TokenID, pre.Expires}}, nil
	case h.Token != "":
		id, token, err = srv.identifyToken(ctx, h.Token, now, true)
		if err != nil {
			return Identity{}, "", nil, err
		}
		creds = []credential{{id.TokenID, id.Expires}}
	case srv.opts.NoAnonymous:
		return Identity{}, "", nil, shared.Errorf(shared.CodeUnauthorized, "this server requires a credential: present a token in hello")
	default:
		id = Identity{User: newID(AnonymousPrefix)}
		token, id.Expires = IssueSessionToken(srv.opts.SessionKey, id.User, now, srv.opts.SessionTTL)
	}
	if token != "" {
		// The renewed (or first) token: the session's credential from now on.
		id.TokenID, id.IssuedAt = TokenID(token), now
		creds = append(creds, credential{id.TokenID, id.Expires})
	}
	return id, token, creds, nil
}

// identifyToken verifies a credential (the server's own session token or
// an application's through VerifyToken) and refuses a revoked one. With
// renew, a session token is answered with a renewed one: anonymous users
// get one on every hello, so a user who comes back within SessionTTL never
// meets an expiry.
func (srv *Server) identifyToken(ctx context.Context, tok string, now time.Time, renew bool) (id Identity, token string, err error) {
	switch {
	case strings.HasPrefix(tok, TokenPrefix):
		id, err = VerifySessionToken(srv.opts.SessionKey, tok, now)
	case srv.opts.VerifyToken != nil:
		id, err = srv.verifyForeign(tok)
	default:
		err = shared.Errorf(shared.CodeUnauthorized, "this server accepts only its own session tokens")
	}
	if err != nil {
		return Identity{}, "", err
	}
	if id.TokenID == "" {
		id.TokenID = TokenID(tok)
	}
	if err := srv.checkRevoked(ctx, id); err != nil {
		return Identity{}, "", err
	}
	if renew && strings.HasPrefix(tok, TokenPrefix) {
		token, _ = IssueSessionToken(srv.opts.SessionKey, id.User, now, srv.opts.SessionTTL)
	}
	return id, token, nil
}

// anonymousNamespace refuses an application's identity whose user id
// could be an anonymous user's: with anonymous access on, the ids the
// server makes (AnonymousPrefix) belong to nobody else.
func (srv *Server) anonymousNamespace(user string) error {
	if !srv.opts.NoAnonymous && strings.HasPrefix(user, AnonymousPrefix) {
		return shared.Errorf(shared.CodeUnauthorized, "the credential names a user id in the anonymous namespace (%q…), which only the server assigns", AnonymousPrefix)
	}
	return nil
}

// verifyForeign runs Options.VerifyToken and checks what it returns.
func (srv *Server) verifyForeign(token string) (Identity, error) {
	id, err := srv.opts.VerifyToken(token)
	if err != nil {
		var pe *shared.Error
		if errors.As(err, &pe) {
			return Identity{}, err
		}
		return Identity{}, shared.Errorf(shared.CodeUnauthorized, "the token was refused: %v", err)
	}
	if err := shared.ValidID("user", id.User); err != nil {
		return Identity{}, shared.Errorf(shared.CodeUnauthorized, "the token names an unusable user id")
	}
	if err := srv.anonymousNamespace(id.User); err != nil {
		return Identity{}, err
	}
	if !id.Expires.IsZero() && !time.Now().Before(id.Expires) {
		return Identity{}, shared.Errorf(shared.CodeUnauthorized, "the token expired at %s", id.Expires.UTC().Format(time.RFC3339))
	}
	if id.Nick != "" && shared.ValidNick(id.Nick) != nil {
		id.Nick = ""
	}
	return id, nil
}

// authenticateRequest runs Options.Authenticate on an upgrade request.
func (srv *Server) authenticateRequest(r *http.Request) (*Identity, error) {
	if srv.opts.Authenticate == nil {
		return nil, nil
	}
	id, err := srv.opts.Authenticate(r)
	if err != nil || id == nil {
		return nil, err
	}
	if shared.ValidID("user", id.User) != nil {
		return nil, errors.New("the authenticator returned an unusable user id")
	}
	if err := srv.anonymousNamespace(id.User); err != nil {
		return nil, err
	}
	if !id.Expires.IsZero() && !time.Now().Before(id.Expires) {
		// Accepted, the session would be closed with 4005 at once, and
		// the client would reconnect with the same expired cookie.
		return nil, errors.New("the credential expired")
	}
	if id.Nick != "" && shared.ValidNick(id.Nick) != nil {
		// As in verifyForeign: a hostile or blank name gives way to hello's.
		c := *id
		c.Nick = ""
		id = &c
	}
	return id, nil
}

// online is a user with at least one session on this node.
type online struct {
	member   shared.Member
	sessions int
	pushes   func() // ends the subscription to pushes from other nodes (peers.go)
}

// nickHold is a nickname key held by one user's sessions.
type nickHold struct {
	user     string
	sessions int
}

// holdNick claims nick for user: refused with nick_taken when another
// online user holds it or one that looks the same (shared.NickKey).
func (srv *Server) holdNick(user, nick string) error {
	key := shared.NickKey(nick)
	srv.mu.Lock()
	defer srv.mu.Unlock()
	h := srv.nicks[key]
	if h != nil && h.user != user {
		return shared.Errorf(shared.CodeNickTaken, "the nickname %q is taken by someone online (or one that looks the same); pick another", shortQ(nick))
	}
	if h == nil {
		h = &nickHold{user: user}
		srv.nicks[key] = h
	}
	h.sessions++
	return nil
}

func (srv *Server) releaseNick(nick string) {
	key := shared.NickKey(nick)
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if h := srv.nicks[key]; h != nil {
		if h.sessions--; h.sessions <= 0 {
			delete(srv.nicks, key)
		}
	}
}

// setOnline records one more (delta 1) or one fewer (-1) session of m.
func (srv *Server) setOnline(m shared.Member, delta int) {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	o := srv.users[m.User]
	if o == nil {
		o = &online{pushes: srv.userPeerStart(m.User)}
		srv.users[m.User] = o
	}
	o.member = m
	if o.sessions += delta; o.sessions <= 0 {
		delete(srv.users, m.User)
		o.pushes()
	}
}

// shortQ cuts client input for error messages.
func shortQ(s string) string {
	r := []rune(s)
	if len(r) > 32 {
		return string(r[:32]) + "…"
	}
	return s
}
