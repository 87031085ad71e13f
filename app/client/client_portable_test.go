package client_test

// These tests build and pass both natively and under GOOS=js GOARCH=wasm in
// Node (the file name carries no _wasm suffix on purpose: that would make
// it a wasm-only file):
//
//	go test ./app/client/
//	PATH="$(go env GOROOT)/lib/wasm:$PATH" GOOS=js GOARCH=wasm go test ./app/client/
//
// The offline tests need no server. TestDialRealServer runs against the
// server named by DUPLEX_TEST_WS (TestClientUnderWasm in server/cmd/duplex
// starts one and runs it under wasm with NODE_OPTIONS=--experimental-websocket).

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/duplex-chat/duplex/app/client"
	"github.com/duplex-chat/duplex/shared"
)

// unreachable is a WebSocket URL nothing listens on.
const unreachable = "ws://127.0.0.1:1/ws"

// spyStorage is a Storage that lets the test look at what was written.
type spyStorage struct{ client.Memory }

// holds reports whether some stored value contains sub.
func (s *spyStorage) holds(sub string) bool {
	for _, k := range s.Keys("") {
		if v, _ := s.Get(k); strings.Contains(v, sub) {
			return true
		}
	}
	return false
}

// offlineClient returns a client that can never connect, with its events
// drained; the returned channel is closed when Events is closed.
func offlineClient(t *testing.T, st client.Storage) (*client.Client, <-chan struct{}) {
	t.Helper()
	c, err := client.New(unreachable, &client.Options{
		Nick: "offline", Storage: st,
		MinBackoff: 50 * time.Millisecond, MaxBackoff: 200 * time.Millisecond, DialTimeout: 2 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ev := range c.Events() {
			if s, ok := ev.(client.StateChanged); ok && s.State == client.StateOnline {
				t.Errorf("offline client went online")
			}
		}
	}()
	t.Cleanup(func() { c.Close() })
	return c, done
}

func closeAndWait(t *testing.T, c *client.Client, events <-chan struct{}) {
	t.Helper()
	closed := make(chan struct{})
	go func() { c.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(30 * time.Second):
		t.Fatal("Close did not return")
	}
	select {
	case <-events:
	case <-time.After(30 * time.Second):
		t.Fatal("Events was not closed after Close")
	}
}

func joinOffline(t *testing.T, c *client.Client, room string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if err := c.Join(ctx, room); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Join %s offline: %v, want context.DeadlineExceeded", room, err)
	}
}

func wantCode(t *testing.T, what string, err error, code shared.Code) {
	t.Helper()
	var pe *shared.Error
	if !errors.As(err, &pe) || pe.Code != code {
		t.Fatalf("%s: error %v, want code %s", what, err, code)
	}
}

func TestNewValidatesNick(t *testing.T) {
	for _, nick := range []string{"", "  ", strings.Repeat("n", shared.MaxNickRunes+1), "bad\x00nick", "\xff"} {
		if c, err := client.New(unreachable, &client.Options{Nick: nick}); err == nil {
			c.Close()
			t.Errorf("New with nick %q: no error", nick)
		}
	}
	if c, err := client.New(unreachable, nil); err == nil {
		c.Close()
		t.Error("New without options: no error")
	}
}

// TestOfflineOutbox: with no server, Join only returns when its context
// ends, Send refuses bad input without queueing anything, and valid sends
// land in the outbox, in Storage, and in the next client on that Storage.
func TestOfflineOutbox(t *testing.T) {
	const room = "lobby"
	st := &spyStorage{}
	c, events := offlineClient(t, st)

	if err := c.Join(context.Background(), "Not A Room"); err == nil {
		t.Fatal("Join with an invalid room name: no error")
	}
	if _, err := c.Send(room, "before join"); err == nil {
		t.Fatal("Send before Join: no error")
	} else {
		wantCode(t, "Send before Join", err, shared.CodeNotJoined)
	}
	joinOffline(t, c, room)
	if c.State() == client.StateOnline {
		t.Fatal("online with no server")
	}

	bad := []struct {
		name, room, body string
		code             shared.Code
	}{
		{"empty", room, "", shared.CodeInvalid},
		{"blank", room, " \t\n ", shared.CodeInvalid},
		{"4001 runes", room, strings.Repeat("é", shared.MaxBodyRunes+1), shared.CodeTooLarge},
		{"4001 ascii", room, strings.Repeat("a", shared.MaxBodyRunes+1), shared.CodeTooLarge},
		{"invalid UTF-8", room, "caf\xe9", shared.CodeInvalid},
		{"truncated UTF-8", room, "ok \xc3", shared.CodeInvalid},
		{"bad room", "Lobby", "hello", shared.CodeInvalid},
		{"room not joined", "elsewhere", "hello", shared.CodeNotJoined},
	}
	for _, b := range bad {
		id, err := c.Send(b.room, b.body)
		if id != "" {
			t.Errorf("%s: Send returned msg_id %q with error %v", b.name, id, err)
		}
		wantCode(t, b.name, err, b.code)
	}
	if ob := c.Outbox(); len(ob) != 0 {
		t.Fatalf("refused sends were queued: %+v", ob)
	}

	bodies := []string{"hello", strings.Repeat("é", shared.MaxBodyRunes), "  spaced  ", "emoji 🎉 <b>html</b>", "line1\nline2"}
	var ids []string
	for _, body := range bodies {
		id, err := c.Send(room, body)
		if err != nil {
			t.Fatalf("Send %.20q: %v", body, err)
		}
		if err := shared.ValidID("msg_id", id); err != nil {
			t.Fatalf("msg_id %q: %v", id, err)
		}
		if !st.holds(id) {
			t.Fatalf("msg_id %s is not in Storage right after Send", id)
		}
		ids = append(ids, id)
	}
	checkOutbox := func(who string, ob []client.Pending, ids []string, bodies []string) {
		t.Helper()
		if len(ob) != len(ids) {
			t.Fatalf("%s: outbox holds %d, want %d", who, len(ob), len(ids))
		}
		seen := map[string]bool{}
		for i, p := range ob {
			if p.MsgID != ids[i] || p.Body != bodies[i] || p.Room != room || p.TS == 0 {
				t.Fatalf("%s: outbox[%d] = %+v, want msg_id %s body %.20q", who, i, p, ids[i], bodies[i])
			}
			if seen[p.MsgID] {
				t.Fatalf("%s: msg_id %s twice", who, p.MsgID)
			}
			seen[p.MsgID] = true
		}
	}
	checkOutbox("first client", c.Outbox(), ids, bodies)
	closeAndWait(t, c, events)

	// A second client on the same Storage (a reload) has the same outbox,
	// before it ever connects.
	c2, events2 := offlineClient(t, st)
	checkOutbox("after reload", c2.Outbox(), ids, bodies)
	joinOffline(t, c2, room)
	id, err := c2.Send(room, "from the second client")
	if err != nil {
		t.Fatal(err)
	}
	closeAndWait(t, c2, events2)

	c3, events3 := offlineClient(t, st)
	checkOutbox("second reload", c3.Outbox(), append(ids, id), append(bodies, "from the second client"))
	closeAndWait(t, c3, events3)
}

// TestOfflineSendWaitKeepsMessage: SendWait that times out leaves the
// message in the outbox for later delivery.
func TestOfflineSendWaitKeepsMessage(t *testing.T) {
	st := &client.Memory{}
	c, events := offlineClient(t, st)
	joinOffline(t, c, "lobby")
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if _, err := c.SendWait(ctx, "lobby", "later"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("SendWait offline: %v, want context.DeadlineExceeded", err)
	}
	if ob := c.Outbox(); len(ob) != 1 || ob[0].Body != "later" {
		t.Fatalf("outbox after SendWait timeout: %+v", ob)
	}
	if _, err := c.History(context.Background(), "lobby", 0, 10); !errors.Is(err, client.ErrOffline) {
		t.Fatalf("History offline: %v, want ErrOffline", err)
	}
	closeAndWait(t, c, events)
}

// TestDialRealServer joins, sends and receives against the server at
// DUPLEX_TEST_WS (natively or under wasm in Node).
func TestDialRealServer(t *testing.T) {
	url := os.Getenv("DUPLEX_TEST_WS")
	if url == "" {
		t.Skip("set DUPLEX_TEST_WS=ws://host:port/ws to run against a server")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	room := "dial-" + runtime.GOARCH
	platform := runtime.GOOS + "/" + runtime.GOARCH

	type peer struct {
		c    *client.Client
		msgs chan shared.Message
	}
	dial := func(nick string) peer {
		c, err := client.Dial(ctx, url, &client.Options{Nick: nick, DialTimeout: 10 * time.Second})
		if err != nil {
			t.Fatalf("Dial %s from %s: %v", url, platform, err)
		}
		t.Cleanup(func() { c.Close() })
		p := peer{c: c, msgs: make(chan shared.Message, 100)}
		go func() {
			for ev := range c.Events() {
				if m, ok := ev.(client.MessageReceived); ok {
					select {
					case p.msgs <- m.Message:
					default:
					}
				}
			}
		}()
		if err := c.Join(ctx, room); err != nil {
			t.Fatalf("%s: join: %v", nick, err)
		}
		return p
	}
	a, b := dial("sender"), dial("receiver")
	if a.c.State() != client.StateOnline || a.c.User() == "" {
		t.Fatalf("after Dial: state %s, user %q", a.c.State(), a.c.User())
	}
	body := fmt.Sprintf("hello from %s at %d", platform, time.Now().UnixNano())
	ack, err := a.c.SendWait(ctx, room, body)
	if err != nil {
		t.Fatalf("SendWait: %v", err)
	}
	if ack.Seq < 1 || ack.Room != room || ack.MsgID == "" {
		t.Fatalf("ack %+v", ack)
	}
	for _, p := range []peer{a, b} {
		for got := false; !got; {
			select {
			case m := <-p.msgs:
				if m.MsgID == ack.MsgID {
					if m.Body != body || m.Seq != ack.Seq || m.Author.User != a.c.User() {
						t.Fatalf("received %+v, want seq %d body %q by %s", m, ack.Seq, body, a.c.User())
					}
					got = true
				}
			case <-ctx.Done():
				t.Fatal("message not received")
			}
		}
	}
	h, err := b.c.History(ctx, room, 0, 10)
	if err != nil {
		t.Fatalf("History: %v", err)
	}
	if n := len(h.Messages); n == 0 || h.Messages[n-1].MsgID != ack.MsgID {
		t.Fatalf("history %+v does not end with %s", h, ack.MsgID)
	}
	if len(a.c.Outbox()) != 0 {
		t.Fatalf("outbox after ack: %+v", a.c.Outbox())
	}
	t.Logf("%s: sent and received seq %d through %s", platform, ack.Seq, url)
}
