package server_test

// Resume, backpressure, shutdown and connection teardown.

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/duplex-chat/duplex/server"
	"github.com/duplex-chat/duplex/server/store"
	"github.com/duplex-chat/duplex/server/store/sqlite"
	"github.com/duplex-chat/duplex/shared"
	"github.com/duplex-chat/duplex/shared/testpoll"
)

// messagesIn returns the messages of room among frames.
func messagesIn(frames []shared.Frame, room string) []shared.Message {
	var out []shared.Message
	for _, f := range frames {
		if m, ok := f.Payload.(*shared.Message); ok && m.Room == room {
			out = append(out, *m)
		}
	}
	return out
}

// TestResume: Ann holds messages up to k, drops, misses more, and comes back
// with join since=k: exactly k+1..head in order, then the ack, then live.
func TestResume(t *testing.T) {
	forEachStore(t, func(t *testing.T, open func(testing.TB) store.Store) {
		ts := startServer(t, server.Options{Store: open(t)})
		bob := dial(t, ts.url, "bob")
		bob.hello(t, "Bob")
		bob.join(t, "lobby", nil)
		ann := dial(t, ts.url, "ann")
		wa := ann.hello(t, "Ann")
		ann.join(t, "lobby", nil)
		// Presence is coalesced: a user who came and went within one
		// period is never announced, so see Ann arrive first.
		memberEvent(t, bob, shared.TypeMemberJoined, "lobby")

		sendMany(t, bob, "lobby", "b", 1, 10)
		checkSeqs(t, "ann before the drop", ann.waitSeq(t, "lobby", 10), 1, 10)
		ann.conn.CloseNow()
		memberEvent(t, bob, shared.TypeMemberLeft, "lobby")
		sendMany(t, bob, "lobby", "b", 11, 25)

		// Ann persisted only up to 7 before the drop.
		const k = 7
		ann2 := dial(t, ts.url, "ann-again")
		ann2.helloAs(t, "Ann", wa.Token)
		id := ann2.request(t, shared.TypeJoin, &shared.Join{Room: "lobby", Since: ptr[int64](k)})
		f, before := ann2.await(t, id)
		ack := ackOf[shared.JoinAck](t, f)
		ack.Read, ack.Unread, ack.Mentioned = 0, 0, 0 // read markers are tested in read_test.go
		if ack != (shared.JoinAck{Room: "lobby", Head: 25, First: k + 1}) {
			t.Fatalf("resume ack %+v", ack)
		}
		checkSeqs(t, "replay before the ack", messagesIn(before, "lobby"), k+1, 25)
		if len(before) != 25-k {
			t.Fatalf("%d frames before the join ack, want only the %d replayed messages: %+v", len(before), 25-k, before)
		}
		sendMany(t, bob, "lobby", "b", 26, 30)
		checkSeqs(t, "ann after resume", ann2.waitSeq(t, "lobby", 30), k+1, 30)
		for i, m := range ann2.messages("lobby") {
			if m.MsgID != "b-"+strconv.Itoa(k+1+i) || m.Body != "message "+strconv.Itoa(k+1+i) {
				t.Fatalf("resumed message %d: %+v", i, m)
			}
		}
	})
}

// TestResumeDuringLiveTraffic resumes while another member keeps sending:
// the replay and the live stream meet without a gap or a duplicate.
func TestResumeDuringLiveTraffic(t *testing.T) {
	forEachStore(t, func(t *testing.T, open func(testing.TB) store.Store) {
		ts := startServer(t, server.Options{Store: open(t), Limits: server.NoLimits()}) // floods on purpose
		bob := dial(t, ts.url, "bob")
		bob.hello(t, "Bob")
		bob.join(t, "lobby", nil)
		ann := dial(t, ts.url, "ann")
		wa := ann.hello(t, "Ann")
		ann.join(t, "lobby", nil)

		stop := make(chan struct{})
		type result struct {
			acks []shared.SendAck
			err  error
		}
		done := make(chan result, 1)
		go func() {
			acks, err := flood(bob, "lobby", "b", "live traffic", 8, 100000, stop)
			done <- result{acks, err}
		}()
		defer func() {
			select {
			case <-stop:
			default:
				close(stop)
			}
		}()

		// Ann drops at some point of the stream.
		held := ann.waitSeq(t, "lobby", 20)
		ann.conn.CloseNow()
		k := held[len(held)-1].Seq
		// She comes back once more than a replay page went by.
		bob.waitSeq(t, "lobby", k+250)
		ann2 := dial(t, ts.url, "ann-again")
		ann2.helloAs(t, "Ann", wa.Token)
		id := ann2.request(t, shared.TypeJoin, &shared.Join{Room: "lobby", Since: ptr(k)})
		f, before := ann2.await(t, id)
		ack := ackOf[shared.JoinAck](t, f)
		replay := messagesIn(before, "lobby")
		checkSeqs(t, "replay", replay, k+1, ack.Head)
		if ack.First != k+1 {
			t.Fatalf("join ack %+v, want first %d", ack, k+1)
		}
		// Live messages keep coming after the ack.
		ann2.waitSeq(t, "lobby", ack.Head+50)
		close(stop)
		r := <-done
		if r.err != nil {
			t.Fatal(r.err)
		}
		last := r.acks[len(r.acks)-1].Seq
		checkSeqs(t, "ann: replay then live", ann2.waitSeq(t, "lobby", last), k+1, last)
		checkSeqs(t, "bob", bob.waitSeq(t, "lobby", last), 1, last)
		t.Logf("resumed from %d, ack head %d, %d messages in all", k, ack.Head, last)
	})
}

// TestResumeLargeGapPaced resumes across several replay pages (the server
// reads 100 at a time) with an outgoing queue of 64 frames: the replay must
// be paced by the client instead of overflowing the queue.
func TestResumeLargeGapPaced(t *testing.T) {
	forEachStore(t, func(t *testing.T, open func(testing.TB) store.Store) {
		ts := startServer(t, server.Options{Store: open(t), QueueSize: 64, Limits: server.NoLimits()})
		bob := dial(t, ts.url, "bob")
		bob.hello(t, "Bob")
		bob.join(t, "lobby", nil)
		const n = 420
		// Large bodies, so the socket fills and the queue really waits.
		body := strings.Repeat("é", shared.MaxBodyRunes)
		stop := make(chan struct{})
		acks, err := flood(bob, "lobby", "b", body, 4, n, stop)
		if err != nil {
			t.Fatal(err)
		}
		if len(acks) != n || acks[n-1].Seq != n {
			t.Fatalf("%d acks, last %+v", len(acks), acks[len(acks)-1])
		}

		// Ann resumes from 17: five pages of replay through a queue of 64.
		const since = 17
		ann := dial(t, ts.url, "ann")
		ann.hello(t, "Ann")
		ack, replay := ann.join(t, "lobby", ptr[int64](since))
		checkSeqs(t, "replay", replay, since+1, n)
		ack.Read, ack.Unread, ack.Mentioned = 0, 0, 0 // read markers are tested in read_test.go
		if ack != (shared.JoinAck{Room: "lobby", Head: n, First: since + 1}) {
			t.Fatalf("join ack %+v", ack)
		}
		// Still connected and live.
		a := bob.sendMsg(t, "lobby", "live", "live after the replay")
		checkSeqs(t, "ann", ann.waitSeq(t, "lobby", a.Seq), since+1, a.Seq)
		ann.call(t, shared.TypeRooms, &shared.Rooms{})
	})
}

// TestSlowConsumer: a member that stops reading while another floods the
// room is disconnected (4001 when the close frame can get out); the others
// get every message in order and the room goes on. The slow member then
// resumes without losing anything.
func TestSlowConsumer(t *testing.T) {
	// A small queue: 64 frames, 1 MB of these messages. (With 8, a member
	// that reads promptly was still cut off now and then on a busy 2-CPU
	// machine running clients and server in one process: its writer
	// goroutine waited some 20 ms for a CPU while 8 messages went by.)
	ts := startServer(t, server.Options{QueueSize: 64, Limits: server.NoLimits()})
	bob, cy, slow := dial(t, ts.url, "bob"), dial(t, ts.url, "cy"), dial(t, ts.url, "slow")
	bob.hello(t, "Bob")
	cy.hello(t, "Cy")
	ws := slow.hello(t, "Slow")
	for _, c := range []*wsClient{bob, cy, slow} {
		c.join(t, "lobby", nil)
	}
	memberEvent(t, cy, shared.TypeMemberJoined, "lobby")
	slow.pause() // from now on it does not read its socket

	// 600 messages of 16 KB (9.6 MB, far more than the socket buffers
	// between the server and the slow member hold: about 4 MB here). Bob
	// waits for each ack, and every 20 messages for Cy to be at most 20
	// behind, so the fast members stay fast however busy the machine is.
	const n = 600
	body := strings.Repeat("😀", shared.MaxBodyRunes)
	for i := int64(1); i <= n; i++ {
		id := bob.request(t, shared.TypeSend, &shared.Send{Room: "lobby", MsgID: fmt.Sprintf("b-%d", i), Body: body})
		if a := ackOf[shared.SendAck](t, first(bob.await(t, id))); a.Seq != i {
			t.Fatalf("ack %+v, want seq %d", a, i)
		}
		if i%20 == 0 {
			bob.waitSeq(t, "lobby", i-20)
			cy.waitSeq(t, "lobby", i-20)
		}
	}
	bob.waitSeq(t, "lobby", n)
	cy.waitSeq(t, "lobby", n)
	// Fast members got everything, in order.
	checkSeqs(t, "bob", bob.messages("lobby"), 1, n)
	checkSeqs(t, "cy", cy.messages("lobby"), 1, n)

	// The slow member reads again: it finds a prefix of the stream, then
	// the end of the connection, with 4001 unless the server gave up on
	// writing the close frame to its full socket first.
	slow.resume()
	err := slow.closeErr(t)
	if code := websocket.CloseStatus(err); code != websocket.StatusCode(shared.CloseSlowClient) && code != -1 {
		t.Fatalf("slow member closed with %d (%v), want %d", code, err, shared.CloseSlowClient)
	}
	got := slow.messages("lobby")
	var k int64
	if len(got) > 0 {
		checkSeqs(t, "slow prefix", got, 1, got[len(got)-1].Seq)
		k = got[len(got)-1].Seq
	}
	if k == n {
		t.Fatalf("the slow member received all %d messages: it was never cut off", n)
	}
	t.Logf("slow member got %d of %d messages, then %v", k, n, err)
	cy.waitFrame(t, "member_left of the slow member", func(f shared.Frame) bool {
		return slices.ContainsFunc(diffMembers(f, shared.TypeMemberLeft, "lobby"), func(m shared.Member) bool { return m.User == ws.User })
	})

	// The room is not stuck.
	a := cy.sendMsg(t, "lobby", "cy-1", "still flowing")
	bob.waitSeq(t, "lobby", a.Seq)

	// The slow member resumes and catches up without a gap.
	again := dial(t, ts.url, "slow-again")
	again.helloAs(t, "Slow", ws.Token)
	ack, replay := again.join(t, "lobby", ptr(k))
	checkSeqs(t, "catch-up", replay, k+1, a.Seq)
	if ack.Head != a.Seq {
		t.Fatalf("catch-up ack %+v, want head %d", ack, a.Seq)
	}
}

// TestGracefulShutdown: Shutdown flushes what is queued for each client,
// closes it with 1012, refuses new connections with 503, and every acked
// message is in the store afterwards.
func TestGracefulShutdown(t *testing.T) {
	dir := t.TempDir()
	st, err := sqlite.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ts := startServer(t, server.Options{Store: st, Limits: server.NoLimits()})
	ann, bob := dial(t, ts.url, "ann"), dial(t, ts.url, "bob")
	ann.hello(t, "Ann")
	bob.hello(t, "Bob")
	ann.join(t, "lobby", nil)
	bob.join(t, "lobby", nil)

	// Ann stops reading, so Bob's messages pile up in her socket and, past
	// the 4 MB or so it holds, in her queue; each is queued for her before
	// Bob gets its ack.
	ann.pause()
	const n = 400
	body := strings.Repeat("😀", shared.MaxBodyRunes)
	acks, err := flood(bob, "lobby", "b", body, 8, n, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(acks) != n {
		t.Fatalf("%d acks", len(acks))
	}

	shutdownErr := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
		defer cancel()
		shutdownErr <- ts.srv.Shutdown(ctx)
	}()
	// New connections are refused once the shutdown began.
	testpoll.Until(t, "new connections refused (503) during shutdown", func() bool {
		return httpStatusOfDial(t, ts.url, dialOpts()) == http.StatusServiceUnavailable
	})
	ann.resume()

	for _, c := range []*wsClient{ann, bob} {
		err := c.closeErr(t)
		if code := websocket.CloseStatus(err); code != websocket.StatusServiceRestart {
			t.Fatalf("%s: closed with %v, want 1012", c.name, err)
		}
		checkSeqs(t, c.name+" before the close", c.messages("lobby"), 1, n)
	}
	if err := <-shutdownErr; err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if status := httpStatusOfDial(t, ts.url, dialOpts()); status != http.StatusServiceUnavailable {
		t.Fatalf("dial after shutdown: status %d, want 503", status)
	}
	if err := ts.srv.Shutdown(context.Background()); !errors.Is(err, server.ErrClosed) {
		t.Fatalf("second Shutdown: %v, want ErrClosed", err)
	}

	// Every acked message survives a reopen of the store.
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	st2, err := sqlite.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st2.Close()
	msgs, err := st2.After(context.Background(), "lobby", 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	checkSeqs(t, "stored", msgs, 1, n)
	for i, a := range acks {
		if m := msgs[i]; m.Seq != a.Seq || m.TS != a.TS || m.MsgID != a.MsgID || m.Body != body {
			t.Fatalf("stored %d: %+v, ack %+v", i, m, a)
		}
	}
}

// TestProtocolViolationReleasesSocket: after a frame the WebSocket layer
// refuses (over the read limit, unmasked), the server ends the connection
// (with close code 1009 for the oversize frame, as documented) and
// releases the TCP connection, even when the peer does nothing more.
func TestProtocolViolationReleasesSocket(t *testing.T) {
	ts := startServer(t, server.Options{})
	cases := []struct {
		name  string
		frame func() []byte        // raw bytes written after the handshake
		code  websocket.StatusCode // the close frame required, or 0 for none
	}{
		{"frame over 64 KiB", func() []byte {
			return maskedFrame(0x81, []byte(`{"type":"rooms","id":"r","data":{}}`+strings.Repeat(" ", shared.MaxFrameBytes)))
		}, websocket.StatusMessageTooBig},
		{"unmasked client frame", func() []byte {
			p := []byte(`{"type":"rooms","id":"r"}`)
			return append([]byte{0x81, byte(len(p))}, p...)
		}, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			raw, _ := dialCapture(t, ts.url) // the library is not used after the handshake
			if _, err := raw.Write(tc.frame()); err != nil {
				t.Fatal(err)
			}
			raw.SetReadDeadline(time.Now().Add(10 * time.Second))
			op, payload, err := readServerFrame(raw)
			switch {
			case errors.Is(err, os.ErrDeadlineExceeded):
				t.Fatal("the server neither answered nor closed the TCP connection")
			case err != nil:
				if tc.code != 0 {
					t.Fatalf("connection ended without the close frame %d: %v", tc.code, err)
				}
				return // closed: released
			case op != 0x8 || len(payload) < 2:
				t.Fatalf("server frame opcode %#x payload %q, want a close frame", op, payload)
			}
			if code := websocket.StatusCode(binary.BigEndian.Uint16(payload)); tc.code != 0 && code != tc.code {
				t.Fatalf("close code %d (%q), want %d", code, payload[2:], tc.code)
			}
			// The peer does not answer the close: the server must close
			// its end of the TCP connection anyway.
			rest, err := io.ReadAll(raw)
			if errors.Is(err, os.ErrDeadlineExceeded) {
				t.Fatalf("the server never closed the TCP connection (read %d more bytes)", len(rest))
			}
		})
	}
}

// dialCapture opens a duplex.v1 WebSocket and returns the TCP connection
// beneath it, for writing and reading raw frames.
func dialCapture(t *testing.T, url string) (net.Conn, *websocket.Conn) {
	t.Helper()
	var mu sync.Mutex
	var raw net.Conn
	tr := &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		mu.Lock()
		raw = c
		mu.Unlock()
		return c, err
	}}
	t.Cleanup(tr.CloseIdleConnections)
	opts := dialOpts()
	opts.HTTPClient = &http.Client{Transport: tr}
	ctx, cancel := contextWithTimeout()
	defer cancel()
	conn, _, err := websocket.Dial(ctx, url, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.CloseNow() })
	mu.Lock()
	defer mu.Unlock()
	t.Cleanup(func() { raw.Close() })
	return raw, conn
}

// maskedFrame builds one final client frame (masking is required from a
// client) with opcode byte b0 (0x81 text, 0x88 close).
func maskedFrame(b0 byte, p []byte) []byte {
	key := [4]byte{0x12, 0x34, 0x56, 0x78}
	out := []byte{b0}
	switch {
	case len(p) < 126:
		out = append(out, 0x80|byte(len(p)))
	case len(p) < 1<<16:
		out = append(out, 0x80|126, byte(len(p)>>8), byte(len(p)))
	default:
		out = append(out, 0x80|127)
		out = binary.BigEndian.AppendUint64(out, uint64(len(p)))
	}
	out = append(out, key[:]...)
	for i, c := range p {
		out = append(out, c^key[i%4])
	}
	return out
}

// readServerFrame reads one unmasked, unfragmented server frame.
func readServerFrame(r io.Reader) (op byte, payload []byte, err error) {
	var h [2]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return 0, nil, err
	}
	n := uint64(h[1] & 0x7f)
	switch n {
	case 126:
		var b [2]byte
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return 0, nil, err
		}
		n = uint64(binary.BigEndian.Uint16(b[:]))
	case 127:
		var b [8]byte
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return 0, nil, err
		}
		n = binary.BigEndian.Uint64(b[:])
	}
	payload = make([]byte, n)
	_, err = io.ReadFull(r, payload)
	return h[0] & 0x0f, payload, err
}

// TestFirstFrameRightBehindHandshake: a hello that reaches the server in
// the same TCP segment as the upgrade request (so net/http has already
// buffered it when the connection is hijacked) is read, not lost or
// misparsed.
func TestFirstFrameRightBehindHandshake(t *testing.T) {
	ts := startServer(t, server.Options{})
	addr := strings.TrimPrefix(ts.url, "http://")
	raw, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	raw.SetDeadline(time.Now().Add(waitTimeout))
	hello, err := shared.Encode(shared.TypeHello, "h1", &shared.Hello{Nick: "Eager"})
	if err != nil {
		t.Fatal(err)
	}
	req := "GET / HTTP/1.1\r\nHost: " + addr + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n" +
		"Sec-WebSocket-Protocol: " + shared.Protocol + "\r\n\r\n"
	if _, err := raw.Write(append([]byte(req), maskedFrame(0x81, hello)...)); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(raw)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("handshake status %d", resp.StatusCode)
	}
	op, payload, err := readServerFrame(br)
	if err != nil {
		t.Fatalf("no answer to the hello: %v", err)
	}
	f, err := shared.Decode(payload)
	if op != 0x1 || err != nil || f.Type != shared.TypeWelcome || f.ID != "h1" {
		t.Fatalf("answer to the hello: opcode %#x %q (%v), want a welcome for h1", op, payload, err)
	}
}
