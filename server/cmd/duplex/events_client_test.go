package main

import (
	"context"
	"errors"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/duplex-chat/duplex/app/client"
	"github.com/duplex-chat/duplex/server"
	"github.com/duplex-chat/duplex/server/store/sqlite"
	"github.com/duplex-chat/duplex/shared"
	"github.com/duplex-chat/duplex/shared/testpoll"
)

// startEventsServer starts a server on SQLite behind an httptest listener
// and returns its address (host:port).
func startEventsServer(t *testing.T) string {
	t.Helper()
	st, err := sqlite.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(&server.Options{Store: st, Limits: server.NoLimits()})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		hs.Close()
		st.Close()
	})
	return strings.TrimPrefix(hs.URL, "http://")
}

// cachedSeq returns the cached message seq of room, or false.
func cachedSeq(c *client.Client, room string, seq int64) (shared.Message, bool) {
	for _, m := range c.Cached(room) {
		if m.Seq == seq {
			return m, true
		}
	}
	return shared.Message{}, false
}

// TestClientEvents: the client package edits, deletes, reacts and
// replies; the other client sees each as a MessageReceived event and its
// cache holds the target in the latest state. Bad inputs: an invalid
// emoji and a target below 1 are refused before sending; someone else's
// message is refused by the server with forbidden; a room not joined with
// not_joined. An edit and a reply made while the connection is down are
// delivered once after it comes back.
func TestClientEvents(t *testing.T) {
	addr := startEventsServer(t)
	proxy := rcNewProxy(t, addr)
	ann := rcNew(t, proxy.WS(), "Ann", nil)
	bob := rcNew(t, "ws://"+addr+"/ws", "Bob", nil)
	ann.join(t, "lobby")
	bob.join(t, "lobby")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	hello, err := ann.c.SendWait(ctx, "lobby", "hello")
	if err != nil {
		t.Fatal(err)
	}
	react, err := bob.c.React(ctx, "lobby", hello.Seq, "👍", true)
	if err != nil {
		t.Fatal(err)
	}
	// The reaction arrives as the change (#14): Ann's copy counts it,
	// Bob's also knows it is his; both know it is Bob's (the frame names
	// him, #17).
	want := []shared.Reaction{{Emoji: "👍", Count: 1, Users: []string{bob.c.User()}}}
	bobs := []shared.Reaction{{Emoji: "👍", Count: 1, Me: true, Users: []string{bob.c.User()}}}
	testpoll.Until(t, "Ann's cache to hold Bob's reaction", func() bool {
		m, ok := cachedSeq(ann.c, "lobby", hello.Seq)
		return ok && reflect.DeepEqual(m.Reactions, want)
	})
	testpoll.Until(t, "Bob's cache to hold his reaction as his", func() bool {
		m, ok := cachedSeq(bob.c, "lobby", hello.Seq)
		return ok && reflect.DeepEqual(m.Reactions, bobs)
	})
	if ev := findSeq(ann.received("lobby"), react.Seq); ev.Kind != shared.KindReact || ev.Target != hello.Seq {
		t.Fatalf("Ann received the reaction as %+v", ev)
	}
	// Again: a no-op, acked with seq = target.
	if again, err := bob.c.React(ctx, "lobby", hello.Seq, "👍", true); err != nil || again.Seq != hello.Seq {
		t.Fatalf("repeated reaction: %+v, %v; want an ack with seq %d", again, err, hello.Seq)
	}

	// Bad inputs.
	var pe *shared.Error
	if _, err := bob.c.React(ctx, "lobby", hello.Seq, "no", true); !errors.As(err, &pe) || pe.Code != shared.CodeInvalid {
		t.Fatalf("letters as emoji: %v", err)
	}
	if _, err := ann.c.Edit(ctx, "lobby", 0, "x"); !errors.As(err, &pe) || pe.Code != shared.CodeInvalid {
		t.Fatalf("edit of seq 0: %v", err)
	}
	if _, err := bob.c.Edit(ctx, "lobby", hello.Seq, "mine"); !errors.As(err, &pe) || pe.Code != shared.CodeForbidden {
		t.Fatalf("Bob editing Ann's message: %v", err)
	}
	if _, err := bob.c.Delete(ctx, "lobby", hello.Seq); !errors.As(err, &pe) || pe.Code != shared.CodeForbidden {
		t.Fatalf("Bob deleting Ann's message: %v", err)
	}
	if _, err := bob.c.React(ctx, "elsewhere", hello.Seq, "👍", true); !errors.As(err, &pe) || pe.Code != shared.CodeNotJoined {
		t.Fatalf("reaction in a room not joined: %v", err)
	}

	// While Ann is cut off, she edits and Bob's reply is queued in her
	// outbox too (as her own reply): both go through once she is back.
	proxy.pause(true)
	proxy.cut(1)
	testpoll.Until(t, "Ann offline", func() bool { return ann.c.State() != client.StateOnline })
	edited := make(chan error, 1)
	go func() {
		_, err := ann.c.Edit(ctx, "lobby", hello.Seq, "hello, world")
		edited <- err
	}()
	replyID, err := ann.c.Reply("lobby", hello.Seq, "and a reply to myself")
	if err != nil {
		t.Fatal(err)
	}
	proxy.pause(false)
	if err := <-edited; err != nil {
		t.Fatalf("edit across a reconnect: %v", err)
	}
	testpoll.Until(t, "Bob's cache to hold the edit and the reply", func() bool {
		m, ok := cachedSeq(bob.c, "lobby", hello.Seq)
		if !ok || m.Body != "hello, world" || m.Edited == 0 || !reflect.DeepEqual(m.Reactions, bobs) { // the edit keeps Bob's Me
			return false
		}
		for _, r := range bob.c.Cached("lobby") {
			if r.MsgID == replyID {
				// The edit (a request) and the reply (an outbox entry,
				// resent at the rejoin) race after the reconnect: the
				// quote is of the parent before or after the edit.
				return r.ReplyTo != nil && r.ReplyTo.Seq == hello.Seq && (r.ReplyTo.Excerpt == "hello, world" || r.ReplyTo.Excerpt == "hello")
			}
		}
		return false
	})

	del, err := ann.c.Delete(ctx, "lobby", hello.Seq)
	if err != nil {
		t.Fatal(err)
	}
	testpoll.Until(t, "Bob's cache to show the delete", func() bool {
		m, ok := cachedSeq(bob.c, "lobby", hello.Seq)
		return ok && m.Deleted && m.Body == "" && len(m.Reactions) == 0
	})
	// Bob's events are read by another goroutine than the one that
	// updates his cache: wait for the delete's event, after which every
	// earlier event (the edit among them) has been read too.
	testpoll.Until(t, "Bob to receive the delete's event", func() bool {
		return findSeq(bob.received("lobby"), del.Seq).Seq != 0
	})
	if ev := findSeq(bob.received("lobby"), del.Seq); !ev.Deleted || ev.Target != hello.Seq {
		t.Fatalf("Bob received the delete as %+v", ev)
	}
	edits := 0
	for _, m := range bob.received("lobby") {
		if m.Kind == shared.KindEdit {
			edits++
		}
	}
	if edits != 1 {
		t.Fatalf("Bob received %d edits, want 1", edits)
	}
}

func findSeq(msgs []shared.Message, seq int64) shared.Message {
	for _, m := range msgs {
		if m.Seq == seq {
			return m
		}
	}
	return shared.Message{}
}
