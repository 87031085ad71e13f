package server_test

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/duplex-chat/duplex/server"
	"github.com/duplex-chat/duplex/shared"
	"github.com/duplex-chat/duplex/shared/testpoll"
)

// TestHistoryPipeliningIsPaced runs the history attack of issue #8: ten
// connections pipeline history requests for pages of 4,000-character
// messages and never read. The server must stop reading their requests
// instead of buffering the answers: the bytes queued on all connections
// stay within ten times half the queue bound plus one page each, while a
// bystander still sends and receives. After the attack one of them reads
// again and gets its answers in order: paced, not dropped.
func TestHistoryPipeliningIsPaced(t *testing.T) {
	const queueBytes = 4 << 20
	ts := startServer(t, server.Options{QueueBytes: queueBytes})
	bob := dial(t, ts.url, "bob")
	bob.hello(t, "Bob")
	bob.join(t, "lobby", nil)
	const stored = 400
	body := strings.Repeat("x", shared.MaxBodyRunes)
	if acks, err := flood(bob, "lobby", "b", body, 64, stored, nil); err != nil || len(acks) != stored {
		t.Fatalf("filling the room: %d acks, %v", len(acks), err)
	}

	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)

	const hogs = 10
	hog := make([]*wsClient, hogs)
	for i := range hog {
		hog[i] = dial(t, ts.url, fmt.Sprintf("hog%d", i))
		hog[i].hello(t, fmt.Sprintf("Hog %d", i))
		hog[i].join(t, "lobby", nil)
		hog[i].pause() // from now on it never reads
	}
	// Each hog writes history requests (a full page of 200 messages each,
	// about 830 KB to answer) for a few seconds or until its writes block
	// because the server stopped reading it.
	const attack = 3 * time.Second
	written := make([]atomic.Int64, hogs)
	var writers sync.WaitGroup
	start := time.Now()
	for i, h := range hog {
		writers.Add(1)
		go func() {
			defer writers.Done()
			for n := 1; time.Since(start) < attack && n <= 5000; n++ {
				b, _ := shared.Encode(shared.TypeHistory, fmt.Sprintf("h%d", n), &shared.History{Room: "lobby", Limit: shared.MaxHistory})
				if h.write(b) != nil {
					return
				}
				written[i].Store(int64(n))
			}
		}()
	}
	// Meanwhile, sample the server's queued bytes and this process's heap
	// (server and clients), and have a bystander talk.
	var peakQueued int64
	var peakHeap uint64
	sample := func() {
		peakQueued = max(peakQueued, ts.srv.QueuedBytes())
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		peakHeap = max(peakHeap, ms.HeapInuse)
	}
	for i := 0; time.Since(start) < attack; i++ {
		sample()
		if i%10 == 0 {
			a := bob.sendMsg(t, "lobby", fmt.Sprintf("during-%d", i), "still talking")
			bob.waitSeq(t, "lobby", a.Seq)
		}
		time.Sleep(20 * time.Millisecond)
	}
	sample()
	var held runtime.MemStats // what the server keeps for the hogs, garbage collected
	runtime.GC()
	runtime.ReadMemStats(&held)
	var requests int64
	for i := range written {
		requests += written[i].Load()
	}
	t.Logf("history attack: %d hogs wrote %d requests in %v; peak queued %.1f MiB; heap in use %.1f MiB before, peak %.1f MiB (+%.1f MiB), %.1f MiB live at the end (server and clients in one process)",
		hogs, requests, attack, mib(peakQueued), mib(int64(before.HeapInuse)), mib(int64(peakHeap)), mib(int64(peakHeap)-int64(before.HeapInuse)), mib(int64(held.HeapInuse)))
	page := int64(shared.MaxHistory * (shared.MaxBodyRunes + 300))
	if limit := int64(hogs) * (queueBytes/2 + page + 64<<10); peakQueued > limit {
		t.Fatalf("%.1f MiB queued for the hogs, want at most %.1f MiB", mib(peakQueued), mib(limit))
	}
	if requests < hogs*3 {
		t.Fatalf("the hogs wrote only %d requests: the attack did not happen", requests)
	}

	// One hog reads again: its answers come in request order, each a full
	// page, and its connection is fine.
	h := hog[0]
	h.resume()
	for n := 1; n <= 10; n++ {
		f, _ := h.await(t, fmt.Sprintf("h%d", n))
		a := ackOf[shared.HistoryAck](t, f)
		if len(a.Messages) != shared.MaxHistory || !a.More {
			t.Fatalf("answer %d: %d messages, more %v", n, len(a.Messages), a.More)
		}
	}
	for _, h := range hog {
		h.conn.CloseNow()
	}
	writers.Wait()
	testpoll.Until(t, "queues emptied", func() bool { return ts.srv.QueuedBytes() < 1<<20 })
	bob.sendMsg(t, "lobby", "after", "the room goes on")
}

func mib(n int64) float64 { return float64(n) / (1 << 20) }

// TestPipelinedSendsAreNotSlow: a client that keeps 1,024 sends in flight
// and reads as fast as it can is never closed with 4001, and gets every
// ack and every echo in order, with small and with 4,000-character bodies.
// (One group commit answers up to 512 sends at once: with a queue bound
// that counted the answers, this client was called slow.)
func TestPipelinedSendsAreNotSlow(t *testing.T) {
	for _, tc := range []struct {
		name string
		body string
		n    int
	}{
		{"small", "a short message of about the size people type", 6000},
		{"4000 chars", strings.Repeat("y", shared.MaxBodyRunes), 2500},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// No pings: a pong answers only once the client has read
			// what was queued before the ping, and under the race
			// detector this client reads megabytes of echoes slower than
			// WriteTimeout allows a pong, so it was closed 1001 as dead
			// (twice in two race runs). Liveness has its own tests.
			ts := startServer(t, server.Options{Store: openSQLite(t), PingInterval: time.Hour})
			ann := dial(t, ts.url, "ann")
			ann.hello(t, "Ann")
			ann.join(t, "lobby", nil)
			acks, err := flood(ann, "lobby", "p", tc.body, 1024, tc.n, nil)
			if err != nil {
				t.Fatal(err)
			}
			if len(acks) != tc.n {
				t.Fatalf("%d acks, want %d", len(acks), tc.n)
			}
			for i, a := range acks {
				if a.Seq != int64(i+1) {
					t.Fatalf("ack %d has seq %d", i, a.Seq)
				}
			}
			checkSeqs(t, "echoes", ann.waitSeq(t, "lobby", int64(tc.n)), 1, int64(tc.n))
			ann.sendMsg(t, "lobby", "last", "still connected")
		})
	}
}

// TestStalledReaderClosedByBytes: a member that stops reading while the
// room is busy is closed with 4001 once its queue passes QueueBytes (the
// frame bound is not what trips); the room carries on and the member
// resumes without a gap.
func TestStalledReaderClosedByBytes(t *testing.T) {
	ts := startServer(t, server.Options{QueueBytes: 512 << 10})
	bob, cy, slow := dial(t, ts.url, "bob"), dial(t, ts.url, "cy"), dial(t, ts.url, "slow")
	bob.hello(t, "Bob")
	cy.hello(t, "Cy")
	ws := slow.hello(t, "Slow")
	// Cy watches from a quiet room the stalled member is in too: in the
	// flooded room a loaded machine can leave Cy's own reader 512 KiB
	// behind, and the server rightly drops Cy as well.
	cy.join(t, "quiet", nil)
	bob.join(t, "lobby", nil)
	slow.join(t, "lobby", nil)
	slow.join(t, "quiet", nil)
	cy.waitFrame(t, "member_joined of the member to stall", func(f shared.Frame) bool {
		return slices.ContainsFunc(diffMembers(f, shared.TypeMemberJoined, "quiet"), func(m shared.Member) bool { return m.User == ws.User })
	})
	slow.pause()

	// 12 MB of messages, far more than the socket buffers and the queue.
	const n = 3000
	body := strings.Repeat("z", shared.MaxBodyRunes)
	acks, err := flood(bob, "lobby", "b", body, 256, n, nil)
	if err != nil || len(acks) != n {
		t.Fatalf("%d acks, %v", len(acks), err)
	}
	checkSeqs(t, "bob", bob.waitSeq(t, "lobby", n), 1, n)
	// Cy, who reads but does not flood, hears that the server dropped it.
	cy.waitFrame(t, "member_left of the stalled member", func(f shared.Frame) bool {
		return slices.ContainsFunc(diffMembers(f, shared.TypeMemberLeft, "quiet"), func(m shared.Member) bool { return m.User == ws.User })
	})

	slow.resume()
	err = slow.closeErr(t)
	code := websocket.CloseStatus(err)
	if code != websocket.StatusCode(shared.CloseSlowClient) && code != -1 {
		t.Fatalf("slow member closed with %d (%v), want %d", code, err, shared.CloseSlowClient)
	}
	got := slow.messages("lobby")
	k := int64(0)
	if len(got) > 0 {
		k = got[len(got)-1].Seq
		checkSeqs(t, "slow prefix", got, 1, k)
	}
	if k == n {
		t.Fatal("the stalled member received everything: it was never cut off")
	}
	t.Logf("stalled member got %d of %d messages, then close code %d", k, n, code)

	again := dial(t, ts.url, "slow-again")
	again.helloAs(t, "Slow", ws.Token)
	_, replay := again.join(t, "lobby", ptr(k))
	checkSeqs(t, "catch-up", replay, k+1, n)
	again.sendMsg(t, "lobby", "back", "caught up")
}

// TestRequestFloodWithoutReading: bad requests pipelined by a client that
// never reads get their error answers paced like any other answer (the
// server stops reading it), not buffered without bound; a bystander is
// not affected. Inputs tried: unknown types, invalid rooms, sends to a
// room not joined.
func TestRequestFloodWithoutReading(t *testing.T) {
	const queueBytes = 256 << 10
	ts := startServer(t, server.Options{QueueBytes: queueBytes})
	bad := dial(t, ts.url, "bad")
	bad.hello(t, "Bad")
	bad.pause()
	frames := [][]byte{
		[]byte(`{"type":"nope","id":"x1","data":{}}`),
		[]byte(`{"type":"join","id":"x2","data":{"room":"Not A Room"}}`),
		[]byte(`{"type":"send","id":"x3","data":{"room":"elsewhere","msg_id":"m1","body":"` + strings.Repeat("q", 3000) + `"}}`),
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	var wrote int
	go func() { <-ctx.Done(); bad.conn.CloseNow() }()
	for i := 0; ctx.Err() == nil && i < 200000; i++ {
		if bad.conn.Write(ctx, websocket.MessageText, frames[i%len(frames)]) != nil {
			break
		}
		wrote++
		if i%500 == 0 {
			if q := ts.srv.QueuedBytes(); q > queueBytes/2+64<<10 {
				t.Fatalf("%d bytes queued for a client that never reads, want at most %d", q, queueBytes/2+64<<10)
			}
		}
	}
	t.Logf("wrote %d bad requests; %d bytes queued at the end", wrote, ts.srv.QueuedBytes())
	ann, bob := lobbyPair(t, ts.url)
	a := ann.sendMsg(t, "lobby", "a1", "fine")
	bob.waitSeq(t, "lobby", a.Seq)
}
