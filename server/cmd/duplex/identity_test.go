package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/duplex-chat/duplex/app/client"
	"github.com/duplex-chat/duplex/server/jwtauth"
	"github.com/duplex-chat/duplex/shared"
	"github.com/duplex-chat/duplex/shared/testpoll"
	"github.com/golang-jwt/jwt/v5"
)

const testJWTKey = "a-backend-secret-of-at-least-32-bytes!!"

// mintJWT is what an application's backend does to let a user in.
func mintJWT(t testing.TB, sub, name string, ttl time.Duration) string {
	t.Helper()
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		"sub": sub, "name": name, "exp": time.Now().Add(ttl).Unix(),
	}).SignedString([]byte(testJWTKey))
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func wantCode(t *testing.T, what string, err error, code shared.Code) {
	t.Helper()
	var pe *shared.Error
	if !errors.As(err, &pe) || pe.Code != code {
		t.Fatalf("%s: got %v, want %s", what, err, code)
	}
}

// TestJWTLogin: the binary with -jwt-key lets in users of the
// application's backend under their own ids and names, refuses expired,
// foreign and forged tokens, and a client refreshes its token over the open
// socket before it expires, without reconnecting.
func TestJWTLogin(t *testing.T) {
	ta := startAppWith(t, config{jwtKey: testJWTKey})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	// A token that expires in 3 s; the client's TokenSource mints fresh
	// ones, as a page would by asking its backend.
	var minted atomic.Int32
	var connects atomic.Int32
	ann, err := client.Dial(ctx, ta.WS, &client.Options{
		Nick: "ignored: the token's name wins",
		TokenSource: func(context.Context) (string, error) {
			minted.Add(1)
			return mintJWT(t, "ann-42", "Ann", 3*time.Second), nil
		},
		OnEvent: func(ev client.Event) {
			if s, ok := ev.(client.StateChanged); ok && s.State == client.StateOnline {
				connects.Add(1)
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer ann.Close()
	if ann.User() != jwtauth.UserID("", "", "ann-42") || ann.Nick() != "Ann" {
		t.Fatalf("JWT identity: user %q nick %q, want the id of ann-42 / Ann", ann.User(), ann.Nick())
	}
	if ann.Token() != "" {
		t.Errorf("the server issued its own token to a JWT user: %q", ann.Token())
	}
	if err := ann.Join(ctx, "lobby"); err != nil {
		t.Fatal(err)
	}
	// Past the first token's expiry the session is still the same one:
	// the client refreshed it (auth) instead of being closed with 4005.
	testpoll.Until(t, "the client to mint 3 tokens, refreshing before each expiry", func() bool { return minted.Load() >= 3 },
		func() string { return fmt.Sprintf("%d tokens minted", minted.Load()) })
	if _, err := ann.SendWait(ctx, "lobby", "still here"); err != nil {
		t.Fatal(err)
	}
	if n := connects.Load(); n != 1 {
		t.Errorf("the client connected %d times; refreshing must not reconnect", n)
	}

	// Bad tokens: each refused with unauthorized, no identity given.
	other, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"sub": "ann-42", "exp": time.Now().Add(time.Hour).Unix()}).
		SignedString([]byte("another-backend-secret-another-backend"))
	for what, tok := range map[string]string{
		"an expired JWT":                mintJWT(t, "ann-42", "Ann", -time.Minute),
		"a JWT signed with another key": other,
		"a forged session token":        "dx1.eyJ1IjoiYW5uLTQyIiwiZXhwIjo5OTk5OTk5OTk5fQ.AAAA",
	} {
		_, err := client.Dial(ctx, ta.WS, &client.Options{Nick: "mallory", Token: tok})
		wantCode(t, what, err, shared.CodeUnauthorized)
	}
}

// TestSessionKeyFile: the key that signs anonymous users' tokens is made
// on first run with mode 0600 and kept, so a restart keeps everyone signed
// in; replacing it signs everyone out (the client starts as a new user).
func TestSessionKeyFile(t *testing.T) {
	data := t.TempDir()
	ta := startApp(t, "", data)
	info, err := os.Stat(filepath.Join(data, sessionKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Errorf("session key file mode %v, want 0600", info.Mode().Perm())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	storage := &client.Memory{}
	dialAnn := func(url string) *client.Client {
		c, err := client.Dial(ctx, url, &client.Options{Nick: "ann", Storage: storage, CacheSize: -1, OnEvent: func(client.Event) {}})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	c := dialAnn(ta.WS)
	first := c.User()
	c.Close()

	ta.Stop()
	ta = startApp(t, ta.Addr, data)
	c = dialAnn(ta.WS)
	if c.User() != first {
		t.Errorf("after a restart with the same key: user %q, want %q", c.User(), first)
	}
	c.Close()

	// Rotation: a new key revokes the stored token.
	ta.Stop()
	if err := os.Remove(filepath.Join(data, sessionKeyFile)); err != nil {
		t.Fatal(err)
	}
	ta = startApp(t, ta.Addr, data)
	c = dialAnn(ta.WS)
	defer c.Close()
	if c.User() == first || c.User() == "" {
		t.Errorf("after rotating the key: user %q, want a new one (not %q)", c.User(), first)
	}
}

// TestClientNicknames: the client package reports a nickname another
// online user holds (here a look-alike) as nick_taken from Dial, without
// reconnecting in a loop; SetNick moves to a free one, and SignOut forgets
// the identity so the next client on the same Storage is a new user.
func TestClientNicknames(t *testing.T) {
	ta := startApp(t, "", "")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	quiet := func(client.Event) {}
	ann, err := client.Dial(ctx, ta.WS, &client.Options{Nick: "Anna", OnEvent: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer ann.Close()
	_, err = client.Dial(ctx, ta.WS, &client.Options{Nick: "АNNA", OnEvent: quiet}) // Cyrillic А
	wantCode(t, "a look-alike nickname", err, shared.CodeNickTaken)

	storage := &client.Memory{}
	bob, err := client.Dial(ctx, ta.WS, &client.Options{Nick: "bob", Storage: storage, OnEvent: quiet})
	if err != nil {
		t.Fatal(err)
	}
	wantCode(t, "SetNick to a taken nickname", bob.SetNick(ctx, "anna"), shared.CodeNickTaken)
	if err := bob.SetNick(ctx, "robert"); err != nil || bob.Nick() != "robert" {
		t.Fatalf("SetNick(robert): %v, nick %q", err, bob.Nick())
	}
	// bob's old nickname is free again.
	other, err := client.Dial(ctx, ta.WS, &client.Options{Nick: "bob", OnEvent: quiet})
	if err != nil {
		t.Fatalf("the nickname bob left: %v", err)
	}
	other.Close()
	first := bob.User()
	bob.SignOut()
	// The server frees "robert" when it sees bob's socket close, which may
	// be a moment after SignOut returns: retry while it is still taken.
	var again *client.Client
	testpoll.Until(t, `"robert" freed after bob's sign-out`, func() bool {
		again, err = client.Dial(ctx, ta.WS, &client.Options{Nick: "robert", Storage: storage, OnEvent: quiet})
		var pe *shared.Error
		return err == nil || !errors.As(err, &pe) || pe.Code != shared.CodeNickTaken || ctx.Err() != nil
	}, func() string { return fmt.Sprint(err) })
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	if again.User() == first {
		t.Errorf("after SignOut the same Storage resumed user %s", first)
	}
}

// TestFrontPageStaysPublic: nobody can take the room "/" opens by
// creating it as a private room first.
func TestFrontPageStaysPublic(t *testing.T) {
	ta := startApp(t, "", "")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := client.Dial(ctx, ta.WS, &client.Options{Nick: "squatter", OnEvent: func(client.Event) {}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_, err = c.CreateRoom(ctx, "general", shared.RoomPrivate)
	wantCode(t, "a private general", err, shared.CodeForbidden)
	if _, err := c.CreateRoom(ctx, "elsewhere", shared.RoomPrivate); err != nil {
		t.Fatalf("another private room: %v", err)
	}
}
