package server_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/coder/websocket"
	"github.com/duplex-chat/duplex/server"
	"github.com/duplex-chat/duplex/server/store"
	"github.com/duplex-chat/duplex/shared"
	"github.com/prometheus/client_golang/prometheus"
)

// TestMetricsFollowTheServer: the gauges show the live state (connections,
// users, rooms, subscriptions) and the counters and histograms move with
// sends and commits.
func TestMetricsFollowTheServer(t *testing.T) {
	reg := prometheus.NewRegistry()
	ts := startServer(t, server.Options{Store: openSQLite(t), Metrics: reg})
	ann, bob := lobbyPair(t, ts.url)
	cy := dial(t, ts.url, "cy")
	cy.hello(t, "Cy")
	cy.join(t, "lobby", nil)
	cy.join(t, "side", nil)
	dial(t, ts.url, "no-hello-yet") // a connection, not yet a user
	const sends = 5
	var last int64
	for i := range sends {
		last = ann.sendMsg(t, "lobby", fmt.Sprintf("m-%d", i), "hello").Seq
	}
	bob.waitSeq(t, "lobby", last)
	cy.waitSeq(t, "lobby", last)

	for name, want := range map[string]float64{
		"duplex_connections":       4,
		"duplex_users_online":      3,
		"duplex_rooms":             2,
		"duplex_subscriptions":     4,
		"duplex_messages_in_total": sends,
		"duplex_fanout_seconds":    sends, // sample count
	} {
		if got := metricValue(t, reg, name); got != want {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	if n := metricValue(t, reg, "duplex_commit_batch_size"); n < 1 || n > sends {
		t.Errorf("duplex_commit_batch_size has %v samples, want 1..%d", n, sends)
	}
	if n := metricValue(t, reg, "duplex_commit_seconds"); n != metricValue(t, reg, "duplex_commit_batch_size") {
		t.Errorf("duplex_commit_seconds has %v samples, want one per batch", n)
	}
	// Every frame the clients got was counted: welcome, acks, presence,
	// messages... at least the three copies of each message.
	if n := metricValue(t, reg, "duplex_frames_out_total"); n < 3*sends {
		t.Errorf("duplex_frames_out_total = %v, want >= %d", n, 3*sends)
	}
	if n := metricValue(t, reg, "duplex_queue_bytes"); n < 0 {
		t.Errorf("duplex_queue_bytes missing")
	}
	for _, name := range []string{"duplex_rate_limited_total", "duplex_store_errors_total", "duplex_frame_timeouts_total"} {
		if got := metricValue(t, reg, name); got != 0 {
			t.Errorf("%s = %v, want 0", name, got)
		}
	}

	cy.conn.Close(websocket.StatusNormalClosure, "")
	waitMetric(t, reg, "duplex_connections", 3)
	waitMetric(t, reg, "duplex_subscriptions", 2)
	waitMetric(t, reg, "duplex_users_online", 2)
	waitMetric(t, reg, "duplex_disconnects_total", 1, "code", "1000")
}

// syncBuffer is a log destination safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestStoreErrorsLoggedOnce: a store that fails every commit is logged
// once, not once per message; recovery is logged with the count.
func TestStoreErrorsLoggedOnce(t *testing.T) {
	var logs syncBuffer
	reg := prometheus.NewRegistry()
	st := &faultyStore{Memory: store.NewMemory()}
	ts := startServer(t, server.Options{Store: st, Metrics: reg, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	ann, _ := lobbyPair(t, ts.url)
	st.failAppend.Store(true)
	const failed = 20
	for i := range failed {
		id := ann.request(t, shared.TypeSend, &shared.Send{Room: "lobby", MsgID: fmt.Sprintf("f-%d", i), Body: "lost?"})
		ann.expectError(t, id, shared.CodeUnavailable)
	}
	st.failAppend.Store(false)
	ann.sendMsg(t, "lobby", "f-0", "lost?") // the retry of the first one

	out := logs.String()
	if n := strings.Count(out, "store append failed"); n != 1 {
		t.Errorf("%d 'store append failed' lines, want 1:\n%s", n, out)
	}
	if !strings.Contains(out, "store append works again") || !strings.Contains(out, fmt.Sprintf("failures=%d", failed)) {
		t.Errorf("no recovery line with failures=%d:\n%s", failed, out)
	}
	if n := strings.Count(out, "level=ERROR"); n != 1 {
		t.Errorf("%d ERROR lines, want 1:\n%s", n, out)
	}
	if n := metricValue(t, reg, "duplex_store_errors_total"); n != failed {
		t.Errorf("duplex_store_errors_total = %v, want %d", n, failed)
	}
}

// TestReady: Ready is nil while the store writes, and an error once the
// server shuts down or the store is closed.
func TestReady(t *testing.T) {
	st := openSQLite(t)
	srv, err := server.New(&server.Options{Store: st, Logger: testLogger()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := contextWithTimeout()
	defer cancel()
	if err := srv.Ready(ctx); err != nil {
		t.Fatalf("Ready: %v", err)
	}
	st.Close()
	if err := srv.Ready(ctx); err == nil {
		t.Error("Ready is nil with the store closed")
	}
	if err := srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if err := srv.Ready(context.Background()); err == nil || !strings.Contains(err.Error(), "shutting down") {
		t.Errorf("Ready after Shutdown: %v, want shutting down", err)
	}
}
