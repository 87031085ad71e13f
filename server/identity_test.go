package server_test

// Threat cases of issue #7, identity half: nobody speaks as someone else.
// Every case runs against a real server on 127.0.0.1 and checks both that
// the bad input is refused with the documented code and that it changed
// nothing (no identity for the connection, nobody's presence, nickname or
// messages altered). Room access (private rooms, DMs, the room list) is in
// access_test.go.

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/duplex-chat/duplex/server"
	"github.com/duplex-chat/duplex/server/store"
	"github.com/duplex-chat/duplex/shared"
	"github.com/duplex-chat/duplex/shared/testpoll"
)

// helloRefused sends a hello that must fail with code, and returns the error.
func helloRefused(t testing.TB, c *wsClient, h *shared.Hello, code shared.Code) *shared.ErrorFrame {
	t.Helper()
	return c.expectError(t, c.request(t, shared.TypeHello, h), code)
}

// assertNoIdentity checks that c's connection has no identity: every
// request but hello is answered hello_required and does nothing.
func assertNoIdentity(t testing.TB, c *wsClient, room string) {
	t.Helper()
	for _, r := range []struct {
		typ     shared.Type
		payload any
	}{
		{shared.TypeJoin, &shared.Join{Room: room}},
		{shared.TypeSend, &shared.Send{Room: room, MsgID: "as-someone", Body: "spoken as someone else"}},
		{shared.TypeHistory, &shared.History{Room: room, Limit: 10}},
		{shared.TypeRooms, &shared.Rooms{}},
		{shared.TypeNick, &shared.Nick{Nick: "renamed"}},
	} {
		c.expectError(t, c.request(t, r.typ, r.payload), shared.CodeHelloRequired)
	}
}

// barrier makes a round trip on c and returns every frame that arrived
// before its answer: what the server sent c up to now. Frames for one
// connection are queued in order, so anything caused by an earlier,
// already answered request of another client is among them.
func barrier(t testing.TB, c *wsClient) []shared.Frame {
	t.Helper()
	f, before := c.await(t, c.request(t, shared.TypeLeave, &shared.Leave{Room: "zz-barrier"}))
	checkError(t, c.name, f, shared.CodeNotJoined)
	return before
}

// encodeFrame renders f back to its wire form, for searching.
func encodeFrame(t testing.TB, f shared.Frame) []byte {
	t.Helper()
	b, err := shared.Encode(f.Type, f.ID, f.Payload)
	if err != nil {
		t.Fatalf("Encode %s: %v", f.Type, err)
	}
	return b
}

// noLeak fails if any of frames carries one of secrets (a room name, a
// message body, a nickname) anywhere in its wire form.
func noLeak(t testing.TB, who string, frames []shared.Frame, secrets ...string) {
	t.Helper()
	for _, f := range frames {
		b := encodeFrame(t, f)
		for _, s := range secrets {
			if bytes.Contains(b, []byte(s)) {
				t.Fatalf("%s received %q, which reveals %q", who, b, s)
			}
		}
	}
}

// noMemberEvents fails if frames hold presence changes of room.
func noMemberEvents(t testing.TB, who, room string, frames []shared.Frame) {
	t.Helper()
	for _, f := range frames {
		switch p := f.Payload.(type) {
		case *shared.MemberEvent:
			if p.Room == room {
				t.Fatalf("%s saw %s %+v", who, f.Type, p.Member)
			}
		case *shared.Presence:
			if p.Room == room {
				t.Fatalf("%s saw a presence snapshot %+v", who, p.Members)
			}
		}
	}
}

// presenceAfterJoin joins room with a new client and returns the members
// in the presence snapshot that follows the join.
func presenceAfterJoin(t testing.TB, url, room, nick string) []shared.Member {
	t.Helper()
	c := dial(t, url, nick)
	c.hello(t, nick)
	c.join(t, room, nil)
	f, _ := c.waitFrame(t, "presence of "+room, func(f shared.Frame) bool {
		p, ok := f.Payload.(*shared.Presence)
		return ok && p.Room == room
	})
	return f.Payload.(*shared.Presence).Members
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

// tokenParts splits a dx1 session token into its payload and signature.
func tokenParts(t testing.TB, tok string) (payload, sig string) {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 || parts[0]+"." != server.TokenPrefix {
		t.Fatalf("token %q is not dx1.<payload>.<signature>", tok)
	}
	return parts[1], parts[2]
}

// flipMiddle changes one character in the middle of a base64 string (not
// the last one, whose low bits a lenient decoder may ignore).
func flipMiddle(s string) string {
	b := []byte(s)
	i := len(b) / 2
	if b[i] == 'A' {
		b[i] = 'B'
	} else {
		b[i] = 'A'
	}
	return string(b)
}

// TestIdentityBareUserIDImpersonation: a hello carrying the victim's public
// user id (with the victim's nickname, and with another) is refused with
// unauthorized; the connection stays without identity; the victim's
// presence, nickname and messages are untouched; and after a plain hello
// the attacker is someone else, who cannot claim the victim's msg_id.
func TestIdentityBareUserIDImpersonation(t *testing.T) {
	forEachStore(t, func(t *testing.T, open func(testing.TB) store.Store) {
		ts := startServer(t, server.Options{Store: open(t)})
		ann, bob := dial(t, ts.url, "ann"), dial(t, ts.url, "bob")
		wa := ann.hello(t, "alice")
		bob.hello(t, "bob")
		ann.join(t, "lobby", nil)
		bob.join(t, "lobby", nil)
		ann.sendMsg(t, "lobby", "m-ann-1", "hi, alice here")
		bob.waitMessages(t, "lobby", 1)
		barrier(t, bob)

		eve := dial(t, ts.url, "eve")
		for _, nick := range []string{"evil-alice", "alice", "eve"} {
			e := helloRefused(t, eve, &shared.Hello{Nick: nick, User: wa.User}, shared.CodeUnauthorized)
			if !strings.Contains(e.Message, "token") {
				t.Errorf("refusal %q does not say what to present instead", e.Message)
			}
		}
		// Not even next to a genuine token of her own.
		own := dial(t, ts.url, "eve-own").hello(t, "eve-own")
		helloRefused(t, eve, &shared.Hello{Nick: "eve", Token: own.Token, User: wa.User}, shared.CodeUnauthorized)
		assertNoIdentity(t, eve, "lobby")

		// Bob, in the room with alice, saw no presence change and no
		// message; a newcomer sees alice once, under her own nickname.
		noMemberEvents(t, "bob", "lobby", barrier(t, bob))
		if n := len(bob.messages("lobby")); n != 1 {
			t.Fatalf("bob has %d messages in lobby, want 1", n)
		}
		members := presenceAfterJoin(t, ts.url, "lobby", "carl")
		var alices int
		for _, m := range members {
			if m.User == wa.User {
				alices++
				if m.Nick != "alice" {
					t.Errorf("alice's presence shows nick %q", m.Nick)
				}
			}
			if m.Nick == "evil-alice" {
				t.Errorf("presence lists %+v", m)
			}
		}
		if alices != 1 {
			t.Errorf("presence %+v lists alice %d times, want once", members, alices)
		}

		// A plain hello makes eve a new user; what she sends is hers.
		we := eve.hello(t, "eve")
		if we.User == wa.User {
			t.Fatalf("eve became alice (%s)", we.User)
		}
		eve.join(t, "lobby", nil)
		// Reusing alice's msg_id, body and all, gets conflict, not
		// alice's message.
		eve.expectError(t, eve.request(t, shared.TypeSend, &shared.Send{Room: "lobby", MsgID: "m-ann-1", Body: "hi, alice here"}), shared.CodeConflict)
		eve.sendMsg(t, "lobby", "m-eve-1", "I am alice")
		got := bob.waitMessages(t, "lobby", 2)
		if a := got[1].Author; a.User != we.User || a.Nick != "eve" {
			t.Errorf("eve's message carries author %+v, want %s/eve", a, we.User)
		}
		if a := got[0].Author; a.User != wa.User || a.Nick != "alice" {
			t.Errorf("alice's message now carries author %+v", a)
		}
	})
}

// TestIdentityBadTokens: forged, tampered, foreign-key, expired and
// malformed session tokens naming the victim are each refused with
// unauthorized (never the victim's identity, and without echoing it);
// the connection stays without identity, and the victim's presence is
// untouched.
func TestIdentityBadTokens(t *testing.T) {
	forEachStore(t, func(t *testing.T, open func(testing.TB) store.Store) {
		key := randomBytes(32)
		ts := startServer(t, server.Options{Store: open(t), SessionKey: key})
		ann, bob := dial(t, ts.url, "ann"), dial(t, ts.url, "bob")
		wa := ann.hello(t, "alice")
		victim := wa.User
		bob.hello(t, "bob")
		ann.join(t, "lobby", nil)
		bob.join(t, "lobby", nil)
		barrier(t, bob)

		eve := dial(t, ts.url, "eve")
		we := dial(t, ts.url, "eve-own").hello(t, "eve") // eve's own, genuine token
		now := time.Now()
		victimClaims := b64([]byte(fmt.Sprintf(`{"u":%q,"iat":%d,"exp":%d}`, victim, now.Unix(), now.Add(time.Hour).Unix())))
		payload, sig := tokenParts(t, wa.Token)
		_, eveSig := tokenParts(t, we.Token)
		otherKey, _ := server.IssueSessionToken(randomBytes(32), victim, now, time.Hour)
		expired, _ := server.IssueSessionToken(key, victim, now.Add(-2*time.Hour), time.Hour)
		justExpired, _ := server.IssueSessionToken(key, victim, now.Add(-2*time.Second), time.Second)
		bad := []struct{ name, token string }{
			{"random bytes after dx1.", server.TokenPrefix + b64(randomBytes(48)) + "." + b64(randomBytes(32))},
			{"victim's claims, random signature", server.TokenPrefix + victimClaims + "." + b64(randomBytes(32))},
			{"victim's claims, empty signature", server.TokenPrefix + victimClaims + "."},
			{"victim's claims, no signature", server.TokenPrefix + victimClaims},
			{"victim's claims under eve's genuine signature", server.TokenPrefix + victimClaims + "." + eveSig},
			{"genuine token, one payload character flipped", server.TokenPrefix + flipMiddle(payload) + "." + sig},
			{"genuine token, one signature character flipped", server.TokenPrefix + payload + "." + flipMiddle(sig)},
			{"genuine token, signature cut short", server.TokenPrefix + payload + "." + sig[:len(sig)-4]},
			{"genuine token, extra character", wa.Token + "A"},
			{"signed with another key", otherKey},
			{"expired an hour ago", expired},
			{"expired a second ago", justExpired},
			{"dx1. only", server.TokenPrefix},
			{"another version prefix", "dx2." + payload + "." + sig},
			{"a JWT-looking token, no verifier configured", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1LTEifQ.c2ln"},
		}
		for _, b := range bad {
			e := helloRefused(t, eve, &shared.Hello{Nick: "eve2", Token: b.token}, shared.CodeUnauthorized)
			if strings.Contains(e.Message, victim) {
				t.Errorf("%s: refusal %q names the victim", b.name, e.Message)
			}
		}
		// Shapes the codec refuses before any verification.
		helloRefused(t, eve, &shared.Hello{Nick: "eve2", Token: strings.Repeat("a", shared.MaxTokenLen+1)}, shared.CodeTooLarge)
		helloRefused(t, eve, &shared.Hello{Nick: "eve2", Token: "dx1.a b.c"}, shared.CodeInvalid)
		helloRefused(t, eve, &shared.Hello{Nick: "eve2", Token: "dx1.é.c"}, shared.CodeInvalid)
		assertNoIdentity(t, eve, "lobby")
		noMemberEvents(t, "bob", "lobby", barrier(t, bob))

		// The connection can still start as a new anonymous user.
		if w := eve.hello(t, "eve2"); w.User == victim || w.User == "" {
			t.Fatalf("after the refusals, a plain hello gave user %q", w.User)
		}
	})
}

// TestIdentityTokenResumes: a genuine token makes a new connection the same
// user in a new session, whose messages carry that user, and the welcome
// renews the token (a token issued a day ago comes back a day later).
func TestIdentityTokenResumes(t *testing.T) {
	key := randomBytes(32)
	ts := startServer(t, server.Options{SessionKey: key, SessionTTL: 48 * time.Hour})
	ann := dial(t, ts.url, "ann")
	wa := ann.hello(t, "ann")
	if wa.Token == "" || wa.Expires != 0 {
		t.Fatalf("anonymous welcome: token %q, expires %d; want a token and no session expiry", wa.Token, wa.Expires)
	}
	if id, err := server.VerifySessionToken(key, wa.Token, time.Now()); err != nil || id.User != wa.User {
		t.Fatalf("welcome token verifies to %+v, %v; want user %s", id, err, wa.User)
	}
	ann.join(t, "lobby", nil)

	tab := dial(t, ts.url, "ann-tab")
	w2 := tab.helloAs(t, "ann", wa.Token)
	if w2.User != wa.User || w2.Session == wa.Session || w2.Token == "" {
		t.Fatalf("resume welcome %+v, want user %s in a new session with a token", w2, wa.User)
	}
	tab.join(t, "lobby", nil)
	tab.sendMsg(t, "lobby", "m-tab", "from the second tab")
	if got := ann.waitMessages(t, "lobby", 1); got[0].Author.User != wa.User {
		t.Fatalf("the second tab's message carries %+v", got[0].Author)
	}

	old, oldExp := server.IssueSessionToken(key, wa.User, time.Now().Add(-24*time.Hour), 48*time.Hour)
	w3 := dial(t, ts.url, "ann-later").helloAs(t, "ann", old)
	id, err := server.VerifySessionToken(key, w3.Token, time.Now())
	if err != nil || w3.User != wa.User || id.User != wa.User {
		t.Fatalf("resume with a day-old token: welcome %+v, renewed token %+v, %v", w3, id, err)
	}
	if !id.Expires.After(oldExp.Add(23 * time.Hour)) {
		t.Fatalf("renewed token expires %v, the old one %v: not renewed", id.Expires, oldExp)
	}
}

// TestIdentityKeyRotation: a server restarted on the same store with a new
// SessionKey refuses every token of the old key; a server with the old key
// still accepts them as the same user, whose history is theirs.
func TestIdentityKeyRotation(t *testing.T) {
	forEachStore(t, func(t *testing.T, open func(testing.TB) store.Store) {
		st := open(t)
		key1, key2 := randomBytes(32), randomBytes(32)
		ts1 := startServer(t, server.Options{Store: st, SessionKey: key1})
		ann := dial(t, ts1.url, "ann")
		wa := ann.hello(t, "ann")
		ann.join(t, "lobby", nil)
		ann.sendMsg(t, "lobby", "m-1", "before the restart")
		ctx, cancel := contextWithTimeout()
		defer cancel()
		if err := ts1.srv.Shutdown(ctx); err != nil {
			t.Fatalf("Shutdown: %v", err)
		}

		ts2 := startServer(t, server.Options{Store: st, SessionKey: key2})
		c2 := dial(t, ts2.url, "ann-rotated")
		helloRefused(t, c2, &shared.Hello{Nick: "ann", Token: wa.Token}, shared.CodeUnauthorized)
		assertNoIdentity(t, c2, "lobby")
		w2 := c2.hello(t, "ann") // starts over as someone new
		if w2.User == wa.User {
			t.Fatalf("after rotation the old user came back without a token")
		}
		// The new key's tokens are refused by a server with the old key.
		ts3 := startServer(t, server.Options{Store: st, SessionKey: key1})
		helloRefused(t, dial(t, ts3.url, "new-on-old"), &shared.Hello{Nick: "x", Token: w2.Token}, shared.CodeUnauthorized)

		c3 := dial(t, ts3.url, "ann-same-key")
		w3 := c3.helloAs(t, "ann", wa.Token)
		if w3.User != wa.User {
			t.Fatalf("same key: user %s, want %s", w3.User, wa.User)
		}
		_, replay := c3.join(t, "lobby", nil)
		if len(replay) != 1 || replay[0].Author.User != wa.User {
			t.Fatalf("replay %+v, want ann's message by %s", replay, wa.User)
		}
	})
}

// fakeToken is the credential of a tiny verifier standing in for an
// embedder's (a JWT): fake.<user>.<url-escaped nick>.<expiry Unix ms>.
func fakeToken(user, nick string, exp time.Time) string {
	return fmt.Sprintf("fake.%s.%s.%d", user, url.PathEscape(nick), exp.UnixMilli())
}

// verifyFake checks only the token's shape: expiry is the server's job.
func verifyFake(tok string) (server.Identity, error) {
	parts := strings.Split(tok, ".")
	if len(parts) != 4 || parts[0] != "fake" {
		return server.Identity{}, errors.New("not a fake token")
	}
	nick, err := url.PathUnescape(parts[2])
	if err != nil {
		return server.Identity{}, err
	}
	ms, err := strconv.ParseInt(parts[3], 10, 64)
	if err != nil {
		return server.Identity{}, err
	}
	return server.Identity{User: parts[1], Nick: nick, Expires: time.UnixMilli(ms)}, nil
}

// TestIdentityVerifyToken: an embedder's verifier gives the user and the
// nickname of its token; welcome says when it expires; auth with a fresh
// token of the same user extends it; auth with another user's, an expired
// or a refused token is unauthorized and the session keeps its identity;
// hellos with refused, expired or unusable tokens are unauthorized.
func TestIdentityVerifyToken(t *testing.T) {
	ts := startServer(t, server.Options{VerifyToken: verifyFake})
	hour := time.Now().Add(time.Hour)
	c := dial(t, ts.url, "carol")
	w := c.helloAs(t, "whoever", fakeToken("e-carol", "carol", hour))
	if w.User != "e-carol" || w.Nick != "carol" || w.Token != "" || w.Expires != hour.UnixMilli() {
		t.Fatalf("welcome %+v, want e-carol/carol, no server token, expires %d", w, hour.UnixMilli())
	}
	later := time.Now().Add(2 * time.Hour)
	f, _ := c.call(t, shared.TypeAuth, &shared.Auth{Token: fakeToken("e-carol", "carol", later)})
	if a := ackOf[shared.AuthAck](t, f); a.User != "e-carol" || a.Expires != later.UnixMilli() {
		t.Fatalf("auth ack %+v, want e-carol expiring %d", a, later.UnixMilli())
	}

	anon := dial(t, ts.url, "anon").hello(t, "anon") // a genuine token of another user
	refused := []struct{ name, token string }{
		{"another user's token", fakeToken("e-mallory", "carol", later)},
		{"another user's server token", anon.Token},
		{"an expired token of the same user", fakeToken("e-carol", "carol", time.Now().Add(-time.Minute))},
		{"a token the verifier refuses", "fake.e-carol"},
		{"a forged server token for the same user", server.TokenPrefix + b64([]byte(`{"u":"e-carol","iat":1,"exp":99999999999}`)) + "." + b64(randomBytes(32))},
	}
	for _, r := range refused {
		c.expectError(t, c.request(t, shared.TypeAuth, &shared.Auth{Token: r.token}), shared.CodeUnauthorized)
	}
	c.expectError(t, c.request(t, shared.TypeAuth, &shared.Auth{Token: ""}), shared.CodeInvalid)
	// Still carol.
	c.join(t, "lobby", nil)
	c.sendMsg(t, "lobby", "m-carol", "still me")
	if got := c.waitMessages(t, "lobby", 1); got[0].Author != (shared.Member{User: "e-carol", Nick: "carol"}) {
		t.Fatalf("after the refused auths the session speaks as %+v", got[0].Author)
	}

	// A hostile nickname in a credential is dropped for hello's.
	w = dial(t, ts.url, "dave").helloAs(t, "dave", fakeToken("e-dave", "\u202eevad", hour))
	if w.User != "e-dave" || w.Nick != "dave" {
		t.Fatalf("welcome %+v, want e-dave with hello's nickname", w)
	}
	bad := dial(t, ts.url, "bad")
	for _, tok := range []string{
		"fake.u-x", // the verifier refuses it
		fakeToken("e-x", "x", time.Now().Add(-time.Second)), // expired: the server checks
		fakeToken("u:x", "x", hour),                         // an unusable user id
		fakeToken("", "x", hour),                            // no user id at all
	} {
		helloRefused(t, bad, &shared.Hello{Nick: "x", Token: tok}, shared.CodeUnauthorized)
	}
	assertNoIdentity(t, bad, "lobby")
}

// TestIdentityCredentialExpiry: a session whose credential expires is
// closed with 4005; a session that presented a fresh credential in time
// outlives its first credential.
func TestIdentityCredentialExpiry(t *testing.T) {
	ts := startServer(t, server.Options{VerifyToken: verifyFake})
	now := time.Now()
	short := dial(t, ts.url, "short")
	short.helloAs(t, "short", fakeToken("e-short", "short", now.Add(3*time.Second)))
	renewed := dial(t, ts.url, "renewed")
	renewed.helloAs(t, "renewed", fakeToken("e-renewed", "renewed", now.Add(2*time.Second)))
	renewed.call(t, shared.TypeAuth, &shared.Auth{Token: fakeToken("e-renewed", "renewed", now.Add(time.Hour))})

	var ce websocket.CloseError
	if err := short.closeErr(t); !asCloseError(err, &ce) || ce.Code != websocket.StatusCode(shared.CloseAuthExpired) {
		t.Fatalf("expired session ended with %v, want close %d", err, shared.CloseAuthExpired)
	}
	// short's credential outlived renewed's first one: had auth not
	// extended it, renewed would be closed by now.
	renewed.call(t, shared.TypeRooms, &shared.Rooms{})
}

// TestIdentityAuthenticateRequest: Options.Authenticate identifies the
// upgrade request by a header; its identity wins over hello's token and
// nickname; its errors (and identities with unusable user ids) refuse the
// handshake with 401; without the header, hello decides.
func TestIdentityAuthenticateRequest(t *testing.T) {
	ts := startServer(t, server.Options{Authenticate: func(r *http.Request) (*server.Identity, error) {
		switch u := r.Header.Get("X-Test-User"); u {
		case "":
			return nil, nil
		case "reject":
			return nil, errors.New("bad credential")
		case "e-expired":
			return &server.Identity{User: u, Expires: time.Now().Add(-time.Minute)}, nil
		default:
			nick, err := url.PathUnescape(r.Header.Get("X-Test-Nick"))
			return &server.Identity{User: u, Nick: nick}, err
		}
	}})
	dialAs := func(name string, h http.Header) *wsClient {
		t.Helper()
		opts := dialOpts()
		opts.HTTPHeader = h
		ctx, cancel := contextWithTimeout()
		defer cancel()
		conn, _, err := websocket.Dial(ctx, ts.url, opts)
		if err != nil {
			t.Fatalf("%s: dial: %v", name, err)
		}
		return newClient(t, conn, name)
	}

	other := dial(t, ts.url, "other").hello(t, "other") // an anonymous user with a token
	frank := dialAs("frank", http.Header{"X-Test-User": {"e-frank"}, "X-Test-Nick": {"frank"}})
	w := frank.helloAs(t, "impostor", other.Token)
	if w.User != "e-frank" || w.Nick != "frank" || w.Token != "" {
		t.Fatalf("welcome %+v, want the request's identity e-frank/frank and no server token", w)
	}
	w = dialAs("gina", http.Header{"X-Test-User": {"e-gina"}}).hello(t, "gina")
	if w.User != "e-gina" || w.Nick != "gina" {
		t.Fatalf("welcome %+v, want u-gina with hello's nickname", w)
	}
	// A hostile or blank nickname from the request is dropped for hello's,
	// as one from a token is.
	for i, bad := range []string{"%E2%80%AEevil", "%E3%85%A4", "%E2%80%8B", "a%0Ab"} {
		user := fmt.Sprintf("e-hostile-%d", i)
		w = dialAs(user, http.Header{"X-Test-User": {user}, "X-Test-Nick": {bad}}).hello(t, user)
		if w.User != user || w.Nick != user {
			t.Fatalf("nickname %s from the request: welcome %+v, want %s with hello's nickname", bad, w, user)
		}
	}
	for _, h := range []http.Header{
		{"X-Test-User": {"reject"}},
		{"X-Test-User": {"e-expired"}}, // the authenticator forgot to check expiry
		{"X-Test-User": {"u frank"}},
		{"X-Test-User": {strings.Repeat("u", shared.MaxIDLen+1)}},
	} {
		opts := dialOpts()
		opts.HTTPHeader = h
		if status := httpStatusOfDial(t, ts.url, opts); status != http.StatusUnauthorized {
			t.Errorf("upgrade with %v: status %d, want 401", h, status)
		}
	}
	if w := dial(t, ts.url, "plain").hello(t, "plain"); w.User == "e-frank" || w.Token == "" {
		t.Fatalf("a request without the header: welcome %+v, want a new anonymous user", w)
	}
}

// TestIdentityNoAnonymous: with NoAnonymous a hello without a credential is
// unauthorized and leaves the connection without identity; a verified
// credential still works.
func TestIdentityNoAnonymous(t *testing.T) {
	ts := startServer(t, server.Options{NoAnonymous: true, VerifyToken: verifyFake})
	c := dial(t, ts.url, "c")
	helloRefused(t, c, &shared.Hello{Nick: "anon"}, shared.CodeUnauthorized)
	helloRefused(t, c, &shared.Hello{Nick: "anon", Token: server.TokenPrefix + b64(randomBytes(40)) + "." + b64(randomBytes(32))}, shared.CodeUnauthorized)
	assertNoIdentity(t, c, "lobby")
	if w := c.helloAs(t, "hank", fakeToken("e-hank", "hank", time.Now().Add(time.Hour))); w.User != "e-hank" {
		t.Fatalf("welcome %+v", w)
	}
}

// helloUntil retries a hello with nick on c until it is welcomed (the
// nickname was freed by a disconnect the server handles asynchronously).
func helloUntil(t testing.TB, c *wsClient, nick string) shared.Welcome {
	t.Helper()
	var w *shared.Welcome
	testpoll.Until(t, fmt.Sprintf("%s: nickname %q freed", c.name, nick), func() bool {
		f, _ := c.await(t, c.request(t, shared.TypeHello, &shared.Hello{Nick: nick}))
		var ok bool
		if w, ok = f.Payload.(*shared.Welcome); ok {
			return true
		}
		checkError(t, c.name, f, shared.CodeNickTaken)
		return false
	})
	return *w
}

// TestIdentityNickTaken: a nickname held by another online user, exactly or
// as a look-alike, is refused with nick_taken in hello and in nick; one
// user's tabs share a nickname, which stays taken until the last of them
// lets go of it; after the holder disconnects it is free.
func TestIdentityNickTaken(t *testing.T) {
	ts := startServer(t, server.Options{})
	ann := dial(t, ts.url, "ann")
	wa := ann.hello(t, "alice")
	dial(t, ts.url, "bob").hello(t, "bob")

	eve := dial(t, ts.url, "eve")
	taken := []string{
		"alice", "Alice", "ALICE", "\u0430lice" /* Cyrillic а */, "al\u0131ce", /* dotless ı */
		"AL1CE", "\uff41\uff4c\uff49\uff43\uff45" /* full-width */, "al\u200bice",
		"bob", "b0b", "BOB", "b\u03bfb", /* Greek ο */
	}
	for _, n := range taken {
		e := helloRefused(t, eve, &shared.Hello{Nick: n}, shared.CodeNickTaken)
		if !strings.Contains(e.Message, "nickname") {
			t.Errorf("nick_taken for %q says %q", n, e.Message)
		}
	}
	assertNoIdentity(t, eve, "lobby")
	we := eve.hello(t, "eve")
	eve.join(t, "lobby", nil)
	ann.join(t, "lobby", nil)
	for _, n := range taken {
		eve.expectError(t, eve.request(t, shared.TypeNick, &shared.Nick{Nick: n}), shared.CodeNickTaken)
	}
	// The refused renames changed nothing: ann saw no rename, eve still
	// speaks as eve.
	for _, f := range barrier(t, ann) {
		if m, ok := f.Payload.(*shared.MemberEvent); ok && m.Member.User == we.User && m.Member.Nick != "eve" {
			t.Fatalf("ann saw eve renamed: %+v", m.Member)
		}
	}
	eve.sendMsg(t, "lobby", "m-eve", "hi")
	if got := ann.waitMessages(t, "lobby", 1); got[0].Author.Nick != "eve" {
		t.Fatalf("eve's message carries nick %q", got[0].Author.Nick)
	}

	// Ann's second tab may use her nickname, in any look-alike form.
	tab := dial(t, ts.url, "ann-tab")
	if w := tab.helloAs(t, "ALICE", wa.Token); w.User != wa.User {
		t.Fatalf("ann's second tab got user %s", w.User)
	}
	// The tabs hold "alice" together: when one moves on it stays taken;
	// when both have, it is free.
	ann.call(t, shared.TypeNick, &shared.Nick{Nick: "alicia"})
	eve.expectError(t, eve.request(t, shared.TypeNick, &shared.Nick{Nick: "alice"}), shared.CodeNickTaken)
	tab.call(t, shared.TypeNick, &shared.Nick{Nick: "alicia"})
	eve.call(t, shared.TypeNick, &shared.Nick{Nick: "alice"})
	eve.call(t, shared.TypeNick, &shared.Nick{Nick: "eve"})

	// Disconnecting frees a nickname: both of ann's tabs go.
	late := dial(t, ts.url, "late")
	helloRefused(t, late, &shared.Hello{Nick: "Alicia"}, shared.CodeNickTaken)
	ann.conn.Close(websocket.StatusNormalClosure, "")
	tab.conn.Close(websocket.StatusNormalClosure, "")
	if w := helloUntil(t, late, "Alicia"); w.User == wa.User {
		t.Fatalf("late got ann's identity")
	}
}

// TestIdentityHostileNicknames: nicknames that draw nothing or turn the text
// around are refused with invalid in hello and in nick.
func TestIdentityHostileNicknames(t *testing.T) {
	ts := startServer(t, server.Options{})
	hostile := []string{
		"\u200b", "\u200b\u200b", "\u3164", "\u2800", "\u3164\u2800\u200b",
		"\u202eevil", "ann\u202e", "a\u2066b", "bob\u2069", "\u200fbob",
	}
	c := dial(t, ts.url, "c")
	for _, n := range hostile {
		helloRefused(t, c, &shared.Hello{Nick: n}, shared.CodeInvalid)
	}
	assertNoIdentity(t, c, "lobby")
	c.hello(t, "plain")
	c.join(t, "lobby", nil)
	for _, n := range hostile {
		c.expectError(t, c.request(t, shared.TypeNick, &shared.Nick{Nick: n}), shared.CodeInvalid)
	}
	for _, m := range presenceAfterJoin(t, ts.url, "lobby", "watcher") {
		if m.Nick != "plain" && m.Nick != "watcher" {
			t.Fatalf("presence shows %q", m.Nick)
		}
	}
	// Emoji joined with ZWJ are fine.
	c.call(t, shared.TypeNick, &shared.Nick{Nick: "\U0001F469\u200d\U0001F4BB dev"})
}

// TestIdentityNickChange: a rename is shown to the members of every joined
// room (member_joined with the new nickname), later messages carry it, the
// old nickname becomes free and the new one taken.
func TestIdentityNickChange(t *testing.T) {
	ts := startServer(t, server.Options{})
	ann, bob := lobbyPair(t, ts.url)
	ann.join(t, "side", nil)
	bob.join(t, "side", nil)
	barrier(t, bob)
	if n := ackOf[shared.Nick](t, first(ann.call(t, shared.TypeNick, &shared.Nick{Nick: "Annie"}))); n.Nick != "Annie" {
		t.Fatalf("nick ack %+v", n)
	}
	seen := map[string]shared.Member{}
	bob.mustWait(t, "renames in lobby and side", func() bool {
		for _, f := range bob.queue {
			if d, ok := f.Payload.(*shared.PresenceDiff); ok {
				for _, m := range d.Joined {
					if m.Nick == "Annie" {
						seen[d.Room] = m
					}
				}
			}
		}
		return len(seen) == 2
	})
	if seen["lobby"] != seen["side"] {
		t.Fatalf("renames %+v", seen)
	}
	ann.sendMsg(t, "lobby", "m-renamed", "new name")
	if got := bob.waitMessages(t, "lobby", 1); got[0].Author.Nick != "Annie" || got[0].Author.User != seen["lobby"].User {
		t.Fatalf("message after the rename carries %+v", got[0].Author)
	}
	for _, m := range presenceAfterJoin(t, ts.url, "lobby", "Ann") { // the old nickname is free
		if m.User == seen["lobby"].User && m.Nick != "Annie" {
			t.Fatalf("presence shows the renamed user as %q", m.Nick)
		}
	}
	helloRefused(t, dial(t, ts.url, "copycat"), &shared.Hello{Nick: "ANNIE"}, shared.CodeNickTaken)
}

// TestIdentityCredentialNickTaken: when the nickname a credential carries
// is held by another online user, the verified user is not locked out:
// the hello's own nickname stands in (and is itself checked).
func TestIdentityCredentialNickTaken(t *testing.T) {
	ts := startServer(t, server.Options{VerifyToken: verifyFake})
	dial(t, ts.url, "squatter").hello(t, "carol") // an anonymous user got there first
	carol := dial(t, ts.url, "carol")
	tok := fakeToken("e-carol", "carol", time.Now().Add(time.Hour))
	helloRefused(t, carol, &shared.Hello{Nick: "carol", Token: tok}, shared.CodeNickTaken)
	helloRefused(t, carol, &shared.Hello{Nick: "CAROL", Token: tok}, shared.CodeNickTaken)
	assertNoIdentity(t, carol, "lobby")
	if w := carol.helloAs(t, "carol b", tok); w.User != "e-carol" || w.Nick != "carol b" {
		t.Fatalf("welcome %+v, want e-carol as \"carol b\"", w)
	}
}

// TestIdentityAnonymousNamespace (issue #15 point 3): with anonymous
// access on, no application credential may name an id of the anonymous
// namespace ("u-…", which the server hands out): a verifier that passes a
// chosen subject through cannot give away an anonymous user's account.
// Tried: an anonymous user's real id through VerifyToken (hello and auth)
// and through Authenticate. With NoAnonymous the namespace is free.
func TestIdentityAnonymousNamespace(t *testing.T) {
	ts := startServer(t, server.Options{VerifyToken: verifyFake, Authenticate: func(r *http.Request) (*server.Identity, error) {
		if u := r.Header.Get("X-Test-User"); u != "" {
			return &server.Identity{User: u}, nil
		}
		return nil, nil
	}})
	anon := dial(t, ts.url, "anon").hello(t, "anon")
	hour := time.Now().Add(time.Hour)
	c := dial(t, ts.url, "mallory")
	helloRefused(t, c, &shared.Hello{Nick: "mallory", Token: fakeToken(anon.User, "mallory", hour)}, shared.CodeUnauthorized)
	assertNoIdentity(t, c, "lobby")

	e := dial(t, ts.url, "erin")
	e.helloAs(t, "erin", fakeToken("e-erin", "erin", hour))
	e.expectError(t, e.request(t, shared.TypeAuth, &shared.Auth{Token: fakeToken(anon.User, "erin", hour)}), shared.CodeUnauthorized)

	opts := dialOpts()
	opts.HTTPHeader = http.Header{"X-Test-User": {anon.User}}
	ctx, cancel := contextWithTimeout()
	defer cancel()
	if conn, resp, err := websocket.Dial(ctx, ts.url, opts); err == nil {
		conn.CloseNow()
		t.Fatal("an Authenticate naming an anonymous id was let in")
	} else if resp == nil || resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("an Authenticate naming an anonymous id: %v, want 401", err)
	}

	closed := startServer(t, server.Options{VerifyToken: verifyFake, NoAnonymous: true})
	if w := dial(t, closed.url, "u").helloAs(t, "u", fakeToken("u-legacy", "legacy", hour)); w.User != "u-legacy" {
		t.Fatalf("with NoAnonymous: welcome %+v, want u-legacy", w)
	}
}
