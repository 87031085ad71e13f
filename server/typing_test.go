package server_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/duplex-chat/duplex/server"
	"github.com/duplex-chat/duplex/shared"
)

// typingOf returns the typists a typing frame of room lists, and whether f
// is one.
func typingOf(f shared.Frame, room string) ([]string, bool) {
	t, ok := f.Payload.(*shared.Typing)
	if !ok || t.Room != room {
		return nil, false
	}
	nicks := make([]string, len(t.Users))
	for i, u := range t.Users {
		nicks[i] = u.Nick
	}
	return nicks, true
}

// waitTyping waits for the next typing frame of room and checks its list.
func (c *wsClient) waitTyping(t *testing.T, room string, want ...string) {
	t.Helper()
	f, _ := c.waitFrame(t, fmt.Sprintf("typing %v", want), func(f shared.Frame) bool { _, ok := typingOf(f, room); return ok })
	got, _ := typingOf(f, room)
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("%s: typing in %s lists %v, want %v", c.name, room, got, want)
	}
}

// TestTypingIndicators: a member's typing reaches the others, coalesced,
// as the list of those typing but themselves; a typist is cleared when
// they send a message, stop, leave, or fall silent for TypingTTL; nothing
// of it is stored. Bad input tried: typing in a room not joined
// (not_joined, no id), a client typing frame carrying users (invalid),
// a bad room name (invalid), typing before hello (hello_required).
func TestTypingIndicators(t *testing.T) {
	ts := startServer(t, server.Options{PresenceInterval: 20 * time.Millisecond})
	early := dial(t, ts.url, "early")
	early.send(t, shared.TypeTyping, "", &shared.Typing{Room: "lobby"})
	early.expectAnonError(t, shared.CodeHelloRequired)

	ann, bob := lobbyPair(t, ts.url)
	cy := dial(t, ts.url, "cy")
	cy.hello(t, "Cy")
	cy.join(t, "lobby", nil)
	typing := func(c *wsClient, stop bool) {
		c.send(t, shared.TypeTyping, "", &shared.Typing{Room: "lobby", Stop: stop})
	}

	typing(ann, false)
	bob.waitTyping(t, "lobby", "Ann")
	cy.waitTyping(t, "lobby", "Ann")
	typing(bob, false)
	cy.waitTyping(t, "lobby", "Ann", "Bob")
	ann.waitTyping(t, "lobby", "Bob") // Ann is told only of the others: her first frame

	ann.sendMsg(t, "lobby", "a-1", "done typing")
	cy.waitTyping(t, "lobby", "Bob")
	bob.waitTyping(t, "lobby") // Bob is told Ann stopped: nobody else types
	typing(bob, true)
	cy.waitTyping(t, "lobby")
	ann.waitTyping(t, "lobby")

	typing(cy, false)
	ann.waitTyping(t, "lobby", "Cy")
	cy.call(t, shared.TypeLeave, &shared.Leave{Room: "lobby"})
	ann.waitTyping(t, "lobby") // leaving clears it

	// Silence: a typist expires TypingTTL after the last typing frame.
	typing(bob, false)
	ann.waitTyping(t, "lobby", "Bob")
	start := time.Now()
	ann.waitTyping(t, "lobby")
	if waited := time.Since(start); waited < time.Duration(shared.TypingTTL)*time.Millisecond/2 {
		t.Fatalf("Bob expired after %v, long before TypingTTL (%d ms)", waited, shared.TypingTTL)
	}

	// Bad input.
	typing(cy, false) // cy left lobby
	cy.expectAnonError(t, shared.CodeNotJoined)
	ann.send(t, shared.TypeTyping, "", &shared.Typing{Room: "lobby", Users: []shared.Member{{User: "u-x", Nick: "X"}}})
	ann.expectAnonError(t, shared.CodeInvalid)
	ann.writeRaw(t, []byte(`{"type":"typing","data":{"room":"Lobby"}}`))
	ann.expectAnonError(t, shared.CodeInvalid)

	// Never stored: the history holds the one message.
	f, _ := bob.call(t, shared.TypeHistory, &shared.History{Room: "lobby", Limit: 50})
	if h := ackOf[shared.HistoryAck](t, f); len(h.Messages) != 1 || h.Messages[0].MsgID != "a-1" {
		t.Fatalf("history after typing: %+v, want only a-1", h.Messages)
	}
}

// TestTypingRateLimitedQuietly: typing frames over the connection's rate
// are dropped without an answer: a client that floods them gets no error
// storm and is not closed for it while its TypingExcess budget lasts (the
// refusal budget is not spent). TestTypingFloodClosed1008 spends it.
func TestTypingRateLimitedQuietly(t *testing.T) {
	ts := startServer(t, server.Options{
		PresenceInterval: 10 * time.Millisecond,
		Limits: server.Limits{Conn: server.RequestRates{Typing: server.Rate{PerSecond: 1, Burst: 2}}, Refusals: server.Rate{PerSecond: 1, Burst: 1},
			TypingExcess: server.Unlimited},
	})
	ann, bob := lobbyPair(t, ts.url)
	for i := 0; i < 500; i++ {
		ann.send(t, shared.TypeTyping, "", &shared.Typing{Room: "lobby", Stop: i%2 == 1})
	}
	ann.send(t, shared.TypePing, "after", &shared.Ping{})
	f, before := ann.await(t, "after")
	if f.Type != shared.TypePong {
		t.Fatalf("ping after the flood answered with %s", f.Type)
	}
	for _, b := range before {
		if b.Type == shared.TypeError {
			t.Fatalf("a typing flood got an error frame: %+v", b.Payload)
		}
	}
	// Bob heard at most a few changes: those within the rate.
	bob.send(t, shared.TypePing, "bob", &shared.Ping{})
	_, seen := bob.await(t, "bob")
	n := 0
	for _, b := range seen {
		if _, ok := typingOf(b, "lobby"); ok {
			n++
		}
	}
	if n > 10 {
		t.Fatalf("bob got %d typing frames from 500 typing frames at 1/s burst 2", n)
	}
	ann.sendMsg(t, "lobby", "still-here", "not closed")
}
