package main

// Issue #15, points 3 and 5, against the real binary's handler on
// 127.0.0.1 with the real client package and real JWTs (golang-jwt):
// identities in separate namespaces, sign-out that revokes, sign out
// everywhere, a nickname change pushed to the user's other sessions, and
// a verified user's nickname kept while they are offline.

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/duplex-chat/duplex/app/client"
	"github.com/duplex-chat/duplex/server/jwtauth"
	"github.com/duplex-chat/duplex/shared"
	"github.com/duplex-chat/duplex/shared/testpoll"
	"github.com/golang-jwt/jwt/v5"
)

// mintClaims signs claims with the test backend's key; exp is an hour
// away unless claims set it.
func mintClaims(t testing.TB, claims jwt.MapClaims) string {
	t.Helper()
	if _, ok := claims["exp"]; !ok {
		claims["exp"] = time.Now().Add(time.Hour).Unix()
	}
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString([]byte(testJWTKey))
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// dialAs connects a client presenting token ("" for anonymous).
func dialAs(t testing.TB, ctx context.Context, ws, nick, token string, storage client.Storage, onEvent func(client.Event)) (*client.Client, error) {
	t.Helper()
	if onEvent == nil {
		onEvent = func(client.Event) {}
	}
	return client.Dial(ctx, ws, &client.Options{Nick: nick, Token: token, Storage: storage, OnEvent: onEvent, CacheSize: -1})
}

func mustDial(t testing.TB, ctx context.Context, ws, nick, token string) *client.Client {
	t.Helper()
	c, err := dialAs(t, ctx, ws, nick, token, nil, nil)
	if err != nil {
		t.Fatalf("%s: %v", nick, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// TestJWTNamespaces: with -jwt-key set and anonymous access on, a JWT
// whose sub is an anonymous user's id is another user (the attack of
// issue #15: it joined the anonymous user's private room); two subjects
// never map to one user ("alice@example.com" and the id it maps to, or
// one subject under two issuers); one subject is one user across
// connections. Subjects tried: an anonymous id, the id another subject
// maps to, the same subject with another iss.
func TestJWTNamespaces(t *testing.T) {
	ta := startAppWith(t, config{jwtKey: testJWTKey})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	anon := mustDial(t, ctx, ta.WS, "anon", "")
	if !strings.HasPrefix(anon.User(), "u-") {
		t.Fatalf("anonymous user id %q", anon.User())
	}
	if _, err := anon.CreateRoom(ctx, "anon-private", shared.RoomPrivate); err != nil {
		t.Fatal(err)
	}
	if err := anon.Join(ctx, "anon-private"); err != nil {
		t.Fatal(err)
	}
	if _, err := anon.SendWait(ctx, "anon-private", "anon's secret"); err != nil {
		t.Fatal(err)
	}

	// The attack: a correctly signed JWT naming the anonymous id.
	mallory := mustDial(t, ctx, ta.WS, "mallory", mintClaims(t, jwt.MapClaims{"sub": anon.User(), "name": "mallory"}))
	if mallory.User() == anon.User() || strings.HasPrefix(mallory.User(), "u-") {
		t.Fatalf("a JWT with sub %q became user %q", anon.User(), mallory.User())
	}
	wantCode(t, "the JWT user joining the anonymous user's private room", mallory.Join(ctx, "anon-private"), shared.CodeForbidden)
	rooms, err := mallory.Rooms(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rooms {
		if r.Name == "anon-private" {
			t.Fatal("the JWT user sees the anonymous user's private room in the room list")
		}
	}
	if msgs := mallory.Messages("anon-private"); len(msgs) > 0 {
		t.Fatalf("the JWT user received %v", msgs)
	}

	// Two subjects, two users: alice@example.com and the id it maps to.
	alice := mustDial(t, ctx, ta.WS, "alice", mintClaims(t, jwt.MapClaims{"sub": "alice@example.com", "name": "alice"}))
	if alice.User() != jwtauth.UserID("", "", "alice@example.com") {
		t.Fatalf("alice is %q", alice.User())
	}
	if _, err := alice.CreateRoom(ctx, "alice-private", shared.RoomPrivate); err != nil {
		t.Fatal(err)
	}
	shadow := mustDial(t, ctx, ta.WS, "shadow", mintClaims(t, jwt.MapClaims{"sub": alice.User(), "name": "shadow"}))
	otherIss := mustDial(t, ctx, ta.WS, "elsewhere", mintClaims(t, jwt.MapClaims{"sub": "alice@example.com", "iss": "https://other.example", "name": "elsewhere"}))
	users := []string{anon.User(), mallory.User(), alice.User(), shadow.User(), otherIss.User()}
	for i := range users {
		if slices.Contains(users[i+1:], users[i]) {
			t.Fatalf("two credentials map to one user: %v", users)
		}
	}
	wantCode(t, "the subject equal to alice's id joining her private room", shadow.Join(ctx, "alice-private"), shared.CodeForbidden)
	wantCode(t, "alice of another issuer joining her private room", otherIss.Join(ctx, "alice-private"), shared.CodeForbidden)

	// One subject, one user, on every connection and token.
	again := mustDial(t, ctx, ta.WS, "alice", mintClaims(t, jwt.MapClaims{"sub": "alice@example.com", "name": "alice", "jti": "another"}))
	if again.User() != alice.User() {
		t.Fatalf("alice's second connection is %q, want %q", again.User(), alice.User())
	}
	if err := again.Join(ctx, "alice-private"); err != nil {
		t.Fatalf("alice on her second connection: %v", err)
	}
}

// TestSignOutRevokesToken: after SignOut the token the client held is
// refused (hello, and the prerendered private page with it in the
// cookie), another connection on it is closed with 4006 and does not
// reconnect, the Storage holds no key, and a JWT is revoked the same way
// (a fresh JWT of the same user still works: one sign-out revokes one
// token).
func TestSignOutRevokesToken(t *testing.T) {
	ta := startAppWith(t, config{jwtKey: testJWTKey})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	storage := &client.Memory{}
	ann, err := dialAs(t, ctx, ta.WS, "ann", "", storage, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ann.CreateRoom(ctx, "ann-room", shared.RoomPrivate); err != nil {
		t.Fatal(err)
	}
	if err := ann.Join(ctx, "ann-room"); err != nil {
		t.Fatal(err)
	}
	if _, err := ann.SendWait(ctx, "ann-room", "ann-private-words"); err != nil {
		t.Fatal(err)
	}
	token := ann.Token()
	page := func() string {
		req, _ := http.NewRequestWithContext(ctx, "GET", ta.URL+"/r/ann-room", nil)
		req.AddCookie(&http.Cookie{Name: tokenCookie, Value: token})
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	if !slices.Contains(prerenderedBodies(t, page()), "ann-private-words") {
		t.Fatal("before sign-out the cookie does not open ann's private page (the test cannot tell a revoked one)")
	}

	// A second tab of the same browser: the same Storage, so the same token.
	var tabOut atomic.Bool
	tab, err := dialAs(t, ctx, ta.WS, "ann", "", storage, func(ev client.Event) {
		if _, ok := ev.(client.SignedOut); ok {
			tabOut.Store(true)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	defer tab.Close()
	if tab.User() != ann.User() {
		t.Fatalf("the second tab is %q, want %q", tab.User(), ann.User())
	}
	bystander := mustDial(t, ctx, ta.WS, "bystander", "")

	if err := ann.SignOut(); err != nil {
		t.Fatalf("SignOut: %v", err)
	}
	if keys := storage.Keys(""); len(keys) > 0 {
		t.Fatalf("after SignOut the Storage holds %v", keys)
	}
	testpoll.Until(t, "the other tab on the revoked token to be signed out", tabOut.Load)
	if st := tab.State(); st != client.StateOffline {
		t.Fatalf("the other tab is %s", st)
	}
	tab.Close() // closing writes nothing back
	if keys := storage.Keys(""); len(keys) > 0 {
		t.Fatalf("after the other tab closed the Storage holds %v", keys)
	}
	_, err = dialAs(t, ctx, ta.WS, "ann", token, nil, nil)
	wantCode(t, "hello with the signed-out token", err, shared.CodeSignedOut)
	if bodies := prerenderedBodies(t, page()); slices.Contains(bodies, "ann-private-words") {
		t.Fatal("the prerendered private page still opens with the revoked token in the cookie")
	}
	if bystander.State() != client.StateOnline {
		t.Fatal("another user's session was affected")
	}

	// A JWT: revoked by its sign-out; a fresh one for the same subject
	// still works.
	jwtTok := mintClaims(t, jwt.MapClaims{"sub": "jo", "name": "jo", "iat": time.Now().Unix()})
	jo := mustDial(t, ctx, ta.WS, "jo", jwtTok)
	if err := jo.SignOut(); err != nil {
		t.Fatal(err)
	}
	_, err = dialAs(t, ctx, ta.WS, "jo", jwtTok, nil, nil)
	wantCode(t, "hello with the signed-out JWT", err, shared.CodeSignedOut)
	fresh := mustDial(t, ctx, ta.WS, "jo", mintClaims(t, jwt.MapClaims{"sub": "jo", "name": "jo", "iat": time.Now().Unix(), "jti": "fresh"}))
	if fresh.User() != jo.User() && jo.User() != "" {
		t.Fatalf("a fresh JWT of jo is %q", fresh.User())
	}
}

// TestSignOutEverywhere: sign out everywhere closes the user's other
// sessions with 4006 (they do not reconnect), refuses every token issued
// up to then (a JWT without iat too), leaves other users alone, and lets
// a token issued afterwards in.
func TestSignOutEverywhere(t *testing.T) {
	ta := startAppWith(t, config{jwtKey: testJWTKey})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	now := time.Now().Unix()
	phone := mintClaims(t, jwt.MapClaims{"sub": "erin", "name": "erin", "iat": now, "jti": "phone"})
	laptop := mintClaims(t, jwt.MapClaims{"sub": "erin", "name": "erin", "iat": now, "jti": "laptop"})
	noIat := mintClaims(t, jwt.MapClaims{"sub": "erin", "name": "erin", "jti": "old"})
	var states []string
	var laptopOut atomic.Bool
	var mu = make(chan struct{}, 1)
	lap, err := dialAs(t, ctx, ta.WS, "erin", laptop, nil, func(ev client.Event) {
		switch e := ev.(type) {
		case client.SignedOut:
			laptopOut.Store(true)
		case client.StateChanged:
			mu <- struct{}{}
			states = append(states, string(e.State))
			<-mu
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	defer lap.Close()
	ph := mustDial(t, ctx, ta.WS, "erin", phone)
	frank := mustDial(t, ctx, ta.WS, "frank", mintClaims(t, jwt.MapClaims{"sub": "frank", "name": "frank", "iat": now}))
	anon := mustDial(t, ctx, ta.WS, "anon", "")

	if err := ph.SignOutEverywhere(); err != nil {
		t.Fatalf("SignOutEverywhere: %v", err)
	}
	testpoll.Until(t, "the laptop session to be signed out", laptopOut.Load)
	for what, tok := range map[string]string{"the phone's JWT": phone, "the laptop's JWT": laptop, "a JWT without iat": noIat} {
		_, err := dialAs(t, ctx, ta.WS, "erin", tok, nil, nil)
		wantCode(t, what+" after sign out everywhere", err, shared.CodeSignedOut)
	}
	// The laptop stopped: no reconnect in a loop on a revoked token.
	time.Sleep(300 * time.Millisecond) // a reconnect would have started by now (backoff 250 ms)
	mu <- struct{}{}
	connecting := 0
	for _, s := range states {
		if s == string(client.StateConnecting) {
			connecting++
		}
	}
	<-mu
	if connecting > 1 {
		t.Fatalf("the signed-out laptop reconnected: states %v", states)
	}
	if frank.State() != client.StateOnline || anon.State() != client.StateOnline {
		t.Fatal("other users' sessions were closed")
	}
	if err := frank.Join(ctx, "lobby"); err != nil {
		t.Fatalf("frank: %v", err)
	}
	if _, err := frank.SendWait(ctx, "lobby", "still here"); err != nil {
		t.Fatalf("frank: %v", err)
	}
	// A token issued after the sign-out (iat in a later second) works.
	later := mintClaims(t, jwt.MapClaims{"sub": "erin", "name": "erin", "iat": now + 2, "jti": "later"})
	back := mustDial(t, ctx, ta.WS, "erin", later)
	if back.User() != jwtauth.UserID("", "", "erin") {
		t.Fatalf("erin came back as %q", back.User())
	}
}

// TestNickPushedToOtherSessions: a nickname changed in one tab reaches
// the user's other tab at once (nick_changed), and that tab's session
// shows it in its rooms.
func TestNickPushedToOtherSessions(t *testing.T) {
	ta := startApp(t, "", "")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	storage := &client.Memory{} // two tabs of one browser share it
	var pushed atomic.Value
	tab1, err := dialAs(t, ctx, ta.WS, "gus", "", storage, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tab1.Close()
	tab2, err := dialAs(t, ctx, ta.WS, "gus", "", storage, func(ev client.Event) {
		if e, ok := ev.(client.NickChanged); ok {
			pushed.Store(e.Nick)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	defer tab2.Close()
	if tab1.User() != tab2.User() {
		t.Fatalf("two tabs of one storage are %q and %q", tab1.User(), tab2.User())
	}
	if err := tab2.Join(ctx, "lobby"); err != nil {
		t.Fatal(err)
	}
	watcher := mustDial(t, ctx, ta.WS, "watcher", "")
	if err := watcher.Join(ctx, "lobby"); err != nil {
		t.Fatal(err)
	}
	if err := tab1.SetNick(ctx, "augustus"); err != nil {
		t.Fatal(err)
	}
	testpoll.Until(t, "tab 2 to be told the new nickname", func() bool { return pushed.Load() == "augustus" && tab2.Nick() == "augustus" })
	testpoll.Until(t, "the lobby to show gus as augustus", func() bool {
		for _, m := range watcher.Members("lobby") {
			if m.User == tab1.User() {
				return m.Nick == "augustus"
			}
		}
		return false
	})
	// The old nickname is free once both sessions left it.
	testpoll.Until(t, "the nickname gus to be free", func() bool {
		c, err := dialAs(t, ctx, ta.WS, "gus", "", nil, nil)
		if err == nil {
			c.Close()
		}
		return err == nil
	})
}

// TestVerifiedNickReserved: a JWT user's nickname stays theirs while
// they are offline: an anonymous user cannot take it, nor a look-alike
// (shared.NickKey), nor another JWT user; it goes with a nickname change;
// an anonymous user's nickname is free once they left, as before.
func TestVerifiedNickReserved(t *testing.T) {
	ta := startAppWith(t, config{jwtKey: testJWTKey})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	aliceTok := mintClaims(t, jwt.MapClaims{"sub": "alice-1", "name": "alice", "iat": time.Now().Unix()})
	alice, err := dialAs(t, ctx, ta.WS, "whatever", aliceTok, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if alice.Nick() != "alice" {
		t.Fatalf("alice is called %q", alice.Nick())
	}
	alice.Close() // offline

	anonBob := mustDial(t, ctx, ta.WS, "bob", "")
	anonBob.Close()
	testpoll.Until(t, "an anonymous user's nickname to be free after they left", func() bool {
		c, err := dialAs(t, ctx, ta.WS, "bob", "", nil, nil)
		if err == nil {
			c.Close()
		}
		return err == nil
	})

	for _, nick := range []string{"alice", "Alice", "ALICE", "аlice" /* Cyrillic а */, "alice\u200b"} {
		if shared.ValidNick(nick) != nil {
			continue // refused before the nickname rules are even reached
		}
		_, err := dialAs(t, ctx, ta.WS, nick, "", nil, nil)
		wantCode(t, "an anonymous user taking "+url.QueryEscape(nick)+" while alice is offline", err, shared.CodeNickTaken)
	}
	mallory, err := dialAs(t, ctx, ta.WS, "alice", mintClaims(t, jwt.MapClaims{"sub": "mallory", "iat": time.Now().Unix()}), nil, nil)
	if err == nil {
		mallory.Close()
		t.Fatal("another JWT user took alice's nickname while she is offline")
	}
	wantCode(t, "another JWT user taking alice", err, shared.CodeNickTaken)
	anon := mustDial(t, ctx, ta.WS, "someone", "")
	wantCode(t, "SetNick to alice", anon.SetNick(ctx, "alice"), shared.CodeNickTaken)

	// alice comes back under her name, and gives it up by changing it.
	alice = mustDial(t, ctx, ta.WS, "whatever", aliceTok)
	if alice.Nick() != "alice" {
		t.Fatalf("alice came back as %q", alice.Nick())
	}
	if err := alice.SetNick(ctx, "alice2"); err != nil {
		t.Fatal(err)
	}
	testpoll.Until(t, "the nickname alice to be free after alice changed hers", func() bool { return anon.SetNick(ctx, "alice") == nil })
	alice.Close()
	_, err = dialAs(t, ctx, ta.WS, "alice2", "", nil, nil)
	wantCode(t, "an anonymous user taking alice2 while its owner is offline", err, shared.CodeNickTaken)
}

// TestSignedOutWhileAway: a browser that was closed while its user
// signed out everywhere from another device learns it at its next hello
// (signed_out): the client stops instead of starting over as a new
// anonymous user, and erases what it kept (history, identity, outbox).
func TestSignedOutWhileAway(t *testing.T) {
	ta := startApp(t, "", "")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	library := &client.Memory{} // the shared computer's storage
	c, err := client.Dial(ctx, ta.WS, &client.Options{Nick: "hal", Storage: library, OnEvent: func(client.Event) {}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateRoom(ctx, "hal-private", shared.RoomPrivate); err != nil {
		t.Fatal(err)
	}
	if err := c.Join(ctx, "hal-private"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.SendWait(ctx, "hal-private", "hal-words-9911"); err != nil {
		t.Fatal(err)
	}
	token := c.Token()
	c.Close() // left without signing out
	if raw, _ := library.Get("duplex.rooms.v1"); !strings.Contains(raw, "hal-words-9911") {
		t.Fatal("the storage holds no history: the test would prove nothing")
	}

	home := mustDial(t, ctx, ta.WS, "hal", token)
	if err := home.SignOutEverywhere(); err != nil {
		t.Fatal(err)
	}

	var signedOut atomic.Bool
	_, err = client.Dial(ctx, ta.WS, &client.Options{Nick: "hal", Storage: library, OnEvent: func(ev client.Event) {
		if _, ok := ev.(client.SignedOut); ok {
			signedOut.Store(true)
		}
	}})
	wantCode(t, "the library's client after sign out everywhere", err, shared.CodeSignedOut)
	if !signedOut.Load() {
		t.Error("no SignedOut event")
	}
	if keys := library.Keys(""); len(keys) > 0 {
		t.Fatalf("the library's storage still holds %v", keys)
	}
}
