package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/duplex-chat/duplex/app/client"
	"github.com/duplex-chat/duplex/shared"
	"github.com/duplex-chat/duplex/shared/testpoll"
)

// rcWriter sends numbered messages to room from p with Send until stop is
// closed or limit is reached, pausing every between sends. It records
// msg_id -> body.
type rcWriter struct {
	mu   sync.Mutex
	sent map[string]string
	n    int
	stop chan struct{}
	done chan struct{}
}

func rcStartWriter(t testing.TB, p *rcPeer, room string, limit int, every time.Duration) *rcWriter {
	w := &rcWriter{sent: map[string]string{}, stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(w.done)
		for i := 0; i < limit; i++ {
			select {
			case <-w.stop:
				return
			default:
			}
			body := fmt.Sprintf("%s live %04d", p.name, i)
			id, err := p.c.Send(room, body)
			if err != nil {
				t.Errorf("writer send: %v", err)
				return
			}
			w.mu.Lock()
			w.sent[id] = body
			w.n++
			w.mu.Unlock()
			if every > 0 {
				time.Sleep(every)
			}
		}
	}()
	return w
}

func (w *rcWriter) halt() map[string]string {
	select {
	case <-w.stop:
	default:
		close(w.stop)
	}
	<-w.done
	w.mu.Lock()
	defer w.mu.Unlock()
	m := make(map[string]string, len(w.sent))
	for k, v := range w.sent {
		m[k] = v
	}
	return m
}

func (w *rcWriter) count() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.n
}

// rcSendAll sends n messages with Send and waits until the outbox drains.
func rcSendAll(t testing.TB, p *rcPeer, room, prefix string, n int, into map[string]string) {
	t.Helper()
	for i := 0; i < n; i++ {
		body := fmt.Sprintf("%s %04d", prefix, i)
		id, err := p.c.Send(room, body)
		if err != nil {
			t.Fatalf("send: %v", err)
		}
		into[id] = body
	}
	testpoll.Until(t, p.name+"'s outbox to drain", func() bool { return len(p.c.Outbox()) == 0 },
		func() string {
			return fmt.Sprintf("outbox %d, state %s\n%s", len(p.c.Outbox()), p.c.State(), p.problems())
		})
}

func rcLastSeq(msgs []shared.Message) int64 {
	if len(msgs) == 0 {
		return 0
	}
	return msgs[len(msgs)-1].Seq
}

// TestResumeAfterJoinOfEmptyRoom: a client joins a room that has no message
// yet, loses its connection, and others post more than DefaultRecent
// messages meanwhile. On reconnect it must get all of them: it held
// everything up to head 0, so it resumes with since 0, not "the latest 50".
func TestResumeAfterJoinOfEmptyRoom(t *testing.T) {
	const room, n = "empty-then-busy", shared.DefaultRecent + 30
	ta := startApp(t, "", "")
	px := rcNewProxy(t, ta.Addr)
	a := rcNew(t, px.WS(), "away", nil)
	a.join(t, room)
	w := rcNew(t, ta.WS, "writer", nil)
	w.join(t, room)

	px.pause(true)
	px.cut(1)
	testpoll.Until(t, "the reader to go offline", func() bool { return a.c.State() != client.StateOnline })
	sent := map[string]string{}
	rcSendAll(t, w, room, "while away", n, sent)
	px.pause(false)

	testpoll.Until(t, fmt.Sprintf("the reader to catch up on %d messages", n), func() bool { return rcLastSeq(a.received(room)) >= n },
		func() string { m := a.received(room); return fmt.Sprintf("received %d%s", len(m), rcSeqSummary(m)) })
	testpoll.Until(t, "the writer's stream", func() bool { return w.count(room) >= n })
	if err := rcCheckStream(a.received(room), 1, n); err != nil {
		t.Fatalf("reader after reconnect: %v", err)
	}
	if err := rcSameStream(a.received(room), w.received(room)); err != nil {
		t.Fatalf("reader and writer differ: %v", err)
	}
}

// TestResumeDuringLiveTraffic: a client closes; a new client on the same
// Storage resumes the room from the saved cursor while another client keeps
// sending through the away time, the replay and after it. Together the two
// clients see every message exactly once, in order.
func TestResumeDuringLiveTraffic(t *testing.T) {
	const room = "resume-live"
	ta := startApp(t, "", "")
	st := &client.Memory{}
	a := rcNew(t, ta.WS, "reader", st)
	a.join(t, room)
	w := rcNew(t, ta.WS, "writer", nil)
	w.join(t, room)

	wr := rcStartWriter(t, w, room, 3000, 2*time.Millisecond)
	testpoll.Until(t, "the reader to receive 50 live messages", func() bool { return a.count(room) >= 50 })
	a.close()
	first := a.received(room)
	if err := rcCheckStream(first, 1, rcLastSeq(first)); err != nil {
		t.Fatalf("first reader: %v", err)
	}
	// Let the room move on while nobody reads with this storage.
	away := wr.count()
	testpoll.Until(t, "the writer to send 200 more", func() bool { return wr.count() >= away+200 })

	b := rcNew(t, ta.WS, "reader", st)
	if b.c.User() != a.c.User() || b.c.User() == "" {
		t.Fatalf("user after reload %q, before %q", b.c.User(), a.c.User())
	}
	b.join(t, room) // replays the gap while the writer keeps sending
	joined := wr.count()
	testpoll.Until(t, "the writer to send 100 after the resume", func() bool { return wr.count() >= joined+100 })
	sent := wr.halt()
	testpoll.Until(t, "the writer's outbox to drain", func() bool { return len(w.c.Outbox()) == 0 })
	head := int64(len(sent))
	rcWaitReaches(t, b, room, head)

	second := b.received(room)
	if err := rcCheckStream(second, rcLastSeq(first)+1, head); err != nil {
		t.Fatalf("resumed reader (first reader ended at %d): %v", rcLastSeq(first), err)
	}
	all := append(append([]shared.Message(nil), first...), second...)
	testpoll.Until(t, "the writer's own stream", func() bool { return int64(w.count(room)) >= head })
	if err := rcSameStream(all, w.received(room)); err != nil {
		t.Fatalf("reader (both sessions) and writer differ: %v", err)
	}
	rcCheckStore(t, ta.app.store, room, sent)
	t.Logf("first session %d messages, resumed session %d (away gap %d), head %d",
		len(first), len(second), joined-len(first), head)
}

// TestResumeLargeGap: the gap is larger than several replay pages (100)
// and live messages keep coming during the replay.
func TestResumeLargeGap(t *testing.T) {
	const room, gap = "resume-gap", 350
	ta := startApp(t, "", "")
	st := &client.Memory{}
	a := rcNew(t, ta.WS, "reader", st)
	a.join(t, room)
	w := rcNew(t, ta.WS, "writer", nil)
	w.join(t, room)

	sent := map[string]string{}
	rcSendAll(t, w, room, "before", 20, sent)
	testpoll.Until(t, "the reader to get 20", func() bool { return a.count(room) >= 20 })
	a.close()
	first := a.received(room)
	if err := rcCheckStream(first, 1, 20); err != nil {
		t.Fatal(err)
	}
	rcSendAll(t, w, room, "gap", gap, sent)

	b := rcNew(t, ta.WS, "reader", st)
	wr := rcStartWriter(t, w, room, 100, time.Millisecond) // live during the replay
	b.join(t, room)
	<-wr.done // all 100: some during the replay, the rest after it
	for id, body := range wr.halt() {
		sent[id] = body
	}
	testpoll.Until(t, "the writer's outbox to drain", func() bool { return len(w.c.Outbox()) == 0 })
	head := int64(len(sent))
	rcWaitReaches(t, b, room, head)
	second := b.received(room)
	if err := rcCheckStream(second, 21, head); err != nil {
		t.Fatalf("resumed reader: %v", err)
	}
	rcCheckStore(t, ta.app.store, room, sent)
	t.Logf("replayed gap of %d (+%d live during the replay), head %d", gap, head-20-gap, head)
}

// TestReloadKeepsOutbox: sends made while the server is down stay in the
// outbox in Storage across Close; a new client on the same Storage, after
// the server restarts on the same data, delivers each exactly once.
func TestReloadKeepsOutbox(t *testing.T) {
	const room = "reload"
	ta := startApp(t, "", "")
	st := &client.Memory{}
	a := rcNew(t, ta.WS, "reloader", st)
	a.join(t, room)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	sent := map[string]string{}
	ack, err := a.c.SendWait(ctx, room, "online")
	if err != nil {
		t.Fatal(err)
	}
	sent[ack.MsgID] = "online"
	user := a.c.User()

	ta.Stop()
	testpoll.Until(t, "the client to go offline", func() bool { return a.c.State() != client.StateOnline })
	var ids []string
	for i := 0; i < 5; i++ {
		body := fmt.Sprintf("offline %d", i)
		id, err := a.c.Send(room, body)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
		sent[id] = body
	}
	if got := len(a.c.Outbox()); got != 5 {
		t.Fatalf("outbox holds %d, want 5", got)
	}
	a.close()

	ta2 := startApp(t, ta.Addr, ta.Data)
	b := rcNew(t, ta2.WS, "reloader", st)
	ob := b.c.Outbox()
	if len(ob) != len(ids) {
		t.Fatalf("outbox after reload holds %d, want %d", len(ob), len(ids))
	}
	for i, p := range ob {
		if p.MsgID != ids[i] || p.Room != room {
			t.Fatalf("outbox[%d] = %+v, want msg_id %s", i, p, ids[i])
		}
	}
	b.join(t, room)
	testpoll.Until(t, "the outbox to drain after reload", func() bool { return len(b.c.Outbox()) == 0 },
		func() string { return b.problems() })
	testpoll.Until(t, "the resumed stream", func() bool { return rcLastSeq(b.received(room)) >= 6 })
	if err := rcCheckStream(b.received(room), 2, 6); err != nil {
		t.Fatalf("reloaded client: %v", err)
	}
	for i, m := range b.received(room) {
		if m.MsgID != ids[i] || m.Author.User != user {
			t.Fatalf("message %d: %+v, want msg_id %s by %s", i, m, ids[i], user)
		}
	}
	if got := b.acked(); len(got) != len(ids) {
		t.Fatalf("%d acks after reload, want %d", len(got), len(ids))
	}
	if s := b.problems(); s != "" {
		t.Fatal(s)
	}
	rcCheckStore(t, ta2.app.store, room, sent)

	// A third client on the same Storage has nothing left to send.
	b.close()
	c := rcNew(t, ta2.WS, "reloader", st)
	if n := len(c.c.Outbox()); n != 0 {
		t.Fatalf("outbox after the second reload holds %d", n)
	}
}

// TestResumeAfterCloseMidBurst closes a reader while a burst of messages is
// arriving (in batch frames), many times. Whatever the reader's events
// delivered, a new client on the same Storage must continue right after
// it: the saved cursor may not run ahead of the events the app received.
func TestResumeAfterCloseMidBurst(t *testing.T) {
	const rounds, burst = 12, 300
	ta := startApp(t, "", "")
	w := rcNew(t, ta.WS, "writer", nil)
	gaps := 0
	for i := 0; i < rounds; i++ {
		room := fmt.Sprintf("burst-%d", i)
		st := &client.Memory{}
		a := rcNew(t, ta.WS, fmt.Sprintf("reader-%d", i), st) // a new identity each round: its own nick (the last one may still be online)
		a.join(t, room)
		w.join(t, room)
		sent := map[string]string{}
		for j := 0; j < burst; j++ {
			body := fmt.Sprintf("burst %d/%d", i, j)
			id, err := w.c.Send(room, body)
			if err != nil {
				t.Fatal(err)
			}
			sent[id] = body
		}
		threshold := 10 + i*12
		testpoll.Until(t, "the reader to be mid-burst", func() bool { return a.count(room) >= threshold })
		a.close()
		first := a.received(room)
		if err := rcCheckStream(first, 1, rcLastSeq(first)); err != nil {
			t.Fatalf("round %d: first reader: %v", i, err)
		}
		testpoll.Until(t, "the writer's outbox to drain", func() bool { return len(w.c.Outbox()) == 0 })
		b := rcNew(t, ta.WS, "reader", st)
		b.join(t, room)
		testpoll.Until(t, "the resumed reader to reach the head", func() bool { return max(rcLastSeq(first), rcLastSeq(b.received(room))) >= burst },
			func() string {
				m := b.received(room)
				return fmt.Sprintf("round %d: first reader got 1..%d, cached up to %d; resumed received %d%s; state %s",
					i, rcLastSeq(first), rcLastSeq(b.c.Cached(room)), len(m), rcSeqSummary(m), b.c.State())
			})
		second := b.received(room)
		if err := rcCheckStream(second, rcLastSeq(first)+1, burst); err != nil {
			gaps++
			t.Errorf("round %d: the first reader got seq 1..%d; the resumed one: %v", i, rcLastSeq(first), err)
		}
		b.close()
	}
	t.Logf("%d rounds of %d messages, closed mid-burst; %d resumed with a gap", rounds, burst, gaps)
}

// TestResumeAfterCloseWithFullEventBuffer: the app has not read its events
// (the buffer is full and the client blocks) when it closes. The message
// that could not be delivered must not count as received: the next client
// on the same Storage resumes right after the last event the app got.
func TestResumeAfterCloseWithFullEventBuffer(t *testing.T) {
	const room, n = "full-buffer", 1300
	ta := startApp(t, "", "")
	st := &client.Memory{}
	a, err := client.New(ta.WS, &client.Options{Nick: "lazy", Storage: st, MinBackoff: 20 * time.Millisecond, MaxBackoff: 250 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := a.Join(ctx, room); err != nil {
		t.Fatal(err)
	}
	w := rcNew(t, ta.WS, "writer", nil)
	w.join(t, room)
	sent := map[string]string{}
	rcSendAll(t, w, room, "flood", n, sent)
	testpoll.Until(t, "the lazy client's event buffer to fill", func() bool { return len(a.Events()) == cap(a.Events()) },
		func() string { return fmt.Sprintf("%d of %d buffered", len(a.Events()), cap(a.Events())) })
	a.Close()
	var first []shared.Message
	for ev := range a.Events() {
		if m, ok := ev.(client.MessageReceived); ok {
			first = append(first, m.Message)
		}
	}
	if err := rcCheckStream(first, 1, rcLastSeq(first)); err != nil {
		t.Fatalf("lazy client: %v", err)
	}
	b := rcNew(t, ta.WS, "lazy", st)
	b.join(t, room)
	testpoll.Until(t, "the resumed client to reach the head", func() bool { return rcLastSeq(b.received(room)) >= n },
		func() string { m := b.received(room); return fmt.Sprintf("received %d%s", len(m), rcSeqSummary(m)) })
	if err := rcCheckStream(b.received(room), rcLastSeq(first)+1, n); err != nil {
		t.Fatalf("the lazy client's events ended at seq %d; resumed: %v", rcLastSeq(first), err)
	}
	t.Logf("%d events delivered before Close, %d after the resume", len(first), len(b.received(room)))
}

// TestResumeAcrossRestartDuringReplay: the server drains (SIGTERM) while a
// client that was away is in the middle of replaying a large gap. The
// drain must finish (no session stuck in the replay), and after the
// restart on the same data the client resumes where the replay stopped:
// every message once, in order.
func TestResumeAcrossRestartDuringReplay(t *testing.T) {
	const room, n = "drain-replay", 3000
	ta := startApp(t, "", "")
	st := &client.Memory{}
	a := rcNew(t, ta.WS, "away", st)
	a.join(t, room)
	a.close()
	w := rcNew(t, ta.WS, "writer", nil)
	w.join(t, room)
	sent := map[string]string{}
	rcSendAll(t, w, room, "backlog", n, sent)

	b := rcNew(t, ta.WS, "away", st)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	go b.c.Join(ctx, room) // returns when the replay completes, possibly after the restart
	testpoll.Until(t, "the replay to start", func() bool { return b.count(room) >= 200 })
	atDrain := b.count(room)
	sctx, scancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer scancel()
	began := time.Now()
	if err := ta.app.srv.Shutdown(sctx); err != nil {
		t.Errorf("drain during a replay: %v after %v", err, time.Since(began).Round(time.Millisecond))
	}
	drained := time.Since(began)
	ta.Stop()
	ta2 := startApp(t, ta.Addr, ta.Data)
	testpoll.Until(t, "the client to finish the replay after the restart", func() bool { return rcLastSeq(b.received(room)) >= n },
		func() string { m := b.received(room); return fmt.Sprintf("received %d%s", len(m), rcSeqSummary(m)) })
	if err := rcCheckStream(b.received(room), 1, n); err != nil {
		t.Fatal(err)
	}
	rcCheckStore(t, ta2.app.store, room, sent)
	t.Logf("drained with %d of %d replayed in %v; resumed after the restart", atDrain, n, drained.Round(time.Millisecond))
}

// rcSmallBufListener makes every accepted connection's send buffer small,
// so a client that stops reading backs up into the server's queue quickly.
type rcSmallBufListener struct{ net.Listener }

func (l rcSmallBufListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetWriteBuffer(16 << 10)
	}
	return c, err
}

// TestResumeSlowConsumerCatchesUp: an app stops reading events during a
// burst, so the client stops reading its socket and the server's queue for
// it overflows (close 4001, slow client). When the app reads again the
// client reconnects, resumes, and the app sees every message once, in
// order. The server is the real app with a 16-frame queue and small socket
// send buffers, so the overflow needs few messages.
func TestResumeSlowConsumerCatchesUp(t *testing.T) {
	const (
		room    = "slow-consumer"
		writers = 8
		each    = 200
	)
	cfg := config{addr: "127.0.0.1:0", dataDir: t.TempDir(), webDir: repoWeb(t), queueSize: 16}
	cfg.limits.off = true // eight writers send faster than a person would, on purpose
	a, err := newApp(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: a.handler}
	go hs.Serve(rcSmallBufListener{ln})
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		a.close(ctx)
		hs.Shutdown(ctx)
		hs.Close()
	})
	ws := "ws://" + ln.Addr().String() + "/ws"

	gate := make(chan struct{})
	slow := rcNewGated(t, ws, "slow", nil, gate)
	slow.join(t, room)
	pad := strings.Repeat("x", 200)
	var mu sync.Mutex
	sent := map[string]string{}
	var wg sync.WaitGroup
	t0 := time.Now()
	for i := 0; i < writers; i++ {
		w := rcNew(t, ws, fmt.Sprintf("writer%d", i), nil)
		w.join(t, room)
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			for j := 0; j < each; j++ {
				body := fmt.Sprintf("%s %d %s", w.name, j, pad)
				ack, err := w.c.SendWait(ctx, room, body)
				if err != nil {
					t.Errorf("%s: %v", w.name, err)
					return
				}
				mu.Lock()
				sent[ack.MsgID] = body
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	burst := time.Since(t0)
	n := int64(len(sent))
	close(gate)
	testpoll.Until(t, "the slow client to catch up", func() bool { return rcLastSeq(slow.received(room)) >= n },
		func() string {
			m := slow.received(room)
			return fmt.Sprintf("received %d%s; state %s", len(m), rcSeqSummary(m), slow.c.State())
		})
	if err := rcCheckStream(slow.received(room), 1, n); err != nil {
		t.Fatal(err)
	}
	stored := rcCheckStore(t, a.store, room, sent)
	if err := rcSameStream(slow.received(room), stored); err != nil {
		t.Fatal(err)
	}
	if slow.onlineCount() < 2 {
		t.Errorf("the slow client was never disconnected: the overflow path did not run")
	}
	t.Logf("%d messages in %v while the app did not read; the slow client reconnected %d times",
		n, burst.Round(time.Millisecond), slow.onlineCount()-1)
}
