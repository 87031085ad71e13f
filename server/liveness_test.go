package server_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/duplex-chat/duplex/server"
	"github.com/duplex-chat/duplex/server/store"
	"github.com/duplex-chat/duplex/shared"
)

// faultyStore is the memory store with switchable failures: fault
// injection for the server's error paths, not a mock of the store.
type faultyStore struct {
	*store.Memory
	failAppend atomic.Bool
	failReads  atomic.Bool
}

var errInjected = errors.New("injected store failure")

func (f *faultyStore) Append(ctx context.Context, msgs []store.NewMessage) ([]store.Result, error) {
	if f.failAppend.Load() {
		return nil, errInjected
	}
	return f.Memory.Append(ctx, msgs)
}

func (f *faultyStore) Head(ctx context.Context, room string) (int64, error) {
	if f.failReads.Load() {
		return 0, errInjected
	}
	return f.Memory.Head(ctx, room)
}

func (f *faultyStore) Before(ctx context.Context, room string, before int64, limit int) ([]shared.Message, error) {
	if f.failReads.Load() {
		return nil, errInjected
	}
	return f.Memory.Before(ctx, room, before, limit)
}

func (f *faultyStore) Rooms(ctx context.Context, q store.RoomQuery) ([]shared.RoomInfo, error) {
	if f.failReads.Load() {
		return nil, errInjected
	}
	return f.Memory.Rooms(ctx, q)
}

// TestStoreFailure: when the store fails, requests are answered with the
// retryable unavailable code (the internal error is not leaked), nothing is
// half-written, and a retry with the same msg_id succeeds once it is back.
func TestStoreFailure(t *testing.T) {
	st := &faultyStore{Memory: store.NewMemory()}
	ts := startServer(t, server.Options{Store: st})
	ann, bob := dial(t, ts.url, "ann"), dial(t, ts.url, "bob")
	ann.hello(t, "Ann")
	bob.hello(t, "Bob")
	ann.join(t, "lobby", nil)
	bob.join(t, "lobby", nil)

	st.failAppend.Store(true)
	id := ann.request(t, shared.TypeSend, &shared.Send{Room: "lobby", MsgID: "m-1", Body: "lost?"})
	e := ann.expectError(t, id, shared.CodeUnavailable)
	if !shared.CodeUnavailable.Retryable() || strings.Contains(e.Message, errInjected.Error()) {
		t.Fatalf("store failure answered with %+v", e)
	}

	st.failReads.Store(true)
	id = ann.request(t, shared.TypeHistory, &shared.History{Room: "lobby", Limit: 10})
	ann.expectError(t, id, shared.CodeUnavailable)
	id = ann.request(t, shared.TypeJoin, &shared.Join{Room: "other"})
	ann.expectError(t, id, shared.CodeUnavailable)
	id = ann.request(t, shared.TypeRooms, &shared.Rooms{})
	ann.expectError(t, id, shared.CodeUnavailable)

	// Back to normal: the retry gets seq 1, delivered once to everyone.
	st.failAppend.Store(false)
	st.failReads.Store(false)
	if a := ann.sendMsg(t, "lobby", "m-1", "lost?"); a.Seq != 1 {
		t.Fatalf("retry after the store came back: %+v, want seq 1", a)
	}
	b := bob.sendMsg(t, "lobby", "b-1", "welcome back")
	for _, c := range []*wsClient{ann, bob} {
		checkSeqs(t, c.name, c.waitSeq(t, "lobby", b.Seq), 1, 2)
	}
}

// TestPingDropsDeadPeer: a peer that stops answering pings is dropped and
// leaves its rooms; one that reads (and so answers pings) stays, through
// many ping intervals.
func TestPingDropsDeadPeer(t *testing.T) {
	ts := startServer(t, server.Options{PingInterval: 50 * time.Millisecond, WriteTimeout: 300 * time.Millisecond})
	alive, dead := dial(t, ts.url, "alive"), dial(t, ts.url, "dead")
	alive.hello(t, "Alive")
	wd := dead.hello(t, "Dead")
	alive.join(t, "lobby", nil)
	dead.join(t, "lobby", nil)
	memberEvent(t, alive, shared.TypeMemberJoined, "lobby")
	// The dead peer's reader parks after the next message: no more reads,
	// so pings go unanswered (a WebSocket library answers them only while
	// reading).
	dead.pause()
	a := alive.sendMsg(t, "lobby", "last", "the last message the dead peer reads")
	dead.waitSeq(t, "lobby", a.Seq)

	start := time.Now()
	if m, _ := memberEvent(t, alive, shared.TypeMemberLeft, "lobby"); m.User != wd.User {
		t.Fatalf("member_left %+v, want the dead peer", m)
	}
	t.Logf("dead peer dropped after %v", time.Since(start).Round(time.Millisecond))
	dead.resume()
	if code := websocket.CloseStatus(dead.closeErr(t)); code != websocket.StatusCode(shared.CloseGoingAway) && code != -1 {
		t.Fatalf("dead peer closed with %d, want %d or a dropped connection", code, shared.CloseGoingAway)
	}
	// The reading peer lived through dozens of pings and still works.
	alive.call(t, shared.TypeRooms, &shared.Rooms{})
	alive.sendMsg(t, "lobby", "still-here", "still here")
}
