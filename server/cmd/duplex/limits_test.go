package main

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/duplex-chat/duplex/app/client"
	"github.com/duplex-chat/duplex/server"
	"github.com/duplex-chat/duplex/server/store"
	"github.com/duplex-chat/duplex/server/store/sqlite"
	"github.com/duplex-chat/duplex/shared"
	"github.com/duplex-chat/duplex/shared/testpoll"
)

// TestClientHonoursRetryAfter: a client that sends three times its burst
// at once is refused with rate_limited, holds the refused messages and
// resends them after retry_after, one at a time: every message is stored
// and delivered exactly once, and the connection is never closed. The
// acks' server times show the limit held (committing n messages at r/s
// after a burst of b takes at least (n-b)/r: a lower bound, not a race).
func TestClientHonoursRetryAfter(t *testing.T) {
	const rate, burst, n = 10, 20, 60 // -rate-send 10 gives bursts of 20
	ta := startAppWith(t, config{limits: limitFlags{send: rate}})
	const room = "paced"
	w, r := rcNew(t, ta.WS, "writer", nil), rcNew(t, ta.WS, "reader", nil)
	w.join(t, room)
	r.join(t, room)
	sent := map[string]string{}
	rcSendAll(t, w, room, "burst", n, sent)
	testpoll.Until(t, "the reader to get every message", func() bool { return r.count(room) >= n }, r.problems)
	if p := w.problems() + r.problems(); p != "" {
		t.Fatal(p)
	}
	rcCheckStore(t, ta.app.store, room, sent)
	if err := rcCheckStream(r.received(room), 1, n); err != nil {
		t.Fatalf("reader: %v", err)
	}
	if got := w.ackedCount(); got != n {
		t.Fatalf("%d messages acked, want %d", got, n)
	}
	if on := w.onlineCount(); on != 1 {
		t.Fatalf("writer went online %d times: its connection was closed", on)
	}
	var lo, hi int64 = 1 << 62, 0
	for _, a := range w.acked() {
		lo, hi = min(lo, a.TS), max(hi, a.TS)
	}
	if span, least := time.Duration(hi-lo)*time.Millisecond, time.Duration(n-burst-1)*time.Second/rate; span < least {
		t.Fatalf("%d sends committed within %v: the limit of %d/s after %d did not hold (at least %v)", n, span, rate, burst, least)
	}
}

// TestClientSeesPrunedHistory: the binary's -retain-count prunes at start,
// and a client joining the room learns from its Joined event that older
// messages were removed.
func TestClientSeesPrunedHistory(t *testing.T) {
	data := t.TempDir()
	st, err := sqlite.Open(data)
	if err != nil {
		t.Fatal(err)
	}
	var batch []store.NewMessage
	for i := 1; i <= 20; i++ {
		batch = append(batch, store.NewMessage{Room: "old", MsgID: fmt.Sprintf("m%d", i), Author: shared.Member{User: "u-x", Nick: "X"}, Body: "hi", TS: time.Now().UnixMilli()})
	}
	if _, err := st.Append(context.Background(), batch); err != nil {
		t.Fatal(err)
	}
	st.Close()
	ta := startAppWith(t, config{dataDir: data, limits: limitFlags{retainCount: 5}})
	testpoll.Until(t, "retention to prune the room", func() bool {
		p, err := ta.app.store.Pruned(context.Background(), "old")
		return err == nil && p == 15
	})

	c, err := client.New(ta.WS, &client.Options{Nick: "Reader"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	joined := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		joined <- c.Join(ctx, "old")
	}()
	timeout := time.After(30 * time.Second)
	for {
		select {
		case ev := <-c.Events():
			if j, ok := ev.(client.Joined); ok {
				if j.Ack.PrunedBefore != 16 || j.Ack.First != 16 {
					t.Fatalf("Joined %+v, want pruned_before 16 and first 16", j.Ack)
				}
				if err := <-joined; err != nil {
					t.Fatal(err)
				}
				h, err := c.History(context.Background(), "old", 16, 50)
				if err != nil || h.PrunedBefore != 16 || h.More || len(h.Messages) != 0 {
					t.Fatalf("History before 16: %+v, %v; want none, pruned_before 16", h, err)
				}
				return
			}
		case <-timeout:
			t.Fatal("no Joined event")
		}
	}
}

// TestClientWaitsRetryAfter: the server allows one send per 2.5 s and
// closes a connection at its 6th refusal. Three sends at once cost this
// client 3 refusals (two at first, one when the second resend follows the
// first at once); a client that resent on a timer of its own (the old
// fixed second: 7 refusals, tried) or resent every refused message at once
// would be closed with 1008. All three land, once each, on the first
// connection.
func TestClientWaitsRetryAfter(t *testing.T) {
	lim := server.NoLimits()
	lim.Conn.Send = server.Rate{PerSecond: 0.4, Burst: 1}
	lim.Refusals = server.Rate{PerSecond: 0.0001, Burst: 5}
	st := store.NewMemory()
	srv, err := server.New(&server.Options{Store: st, Limits: lim})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		hs.Close()
	})
	w := rcNew(t, "ws"+strings.TrimPrefix(hs.URL, "http")+"/ws", "writer", nil)
	const room = "slow"
	w.join(t, room)
	sent := map[string]string{}
	rcSendAll(t, w, room, "patient", 3, sent)
	if p := w.problems(); p != "" {
		t.Fatal(p)
	}
	if on := w.onlineCount(); on != 1 {
		t.Fatalf("writer went online %d times: it was closed for ignoring retry_after", on)
	}
	rcCheckStore(t, st, room, sent)
}
