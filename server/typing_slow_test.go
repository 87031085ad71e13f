//go:build linux

package server_test

// The slow-reader typing test sets a socket option before connecting
// (SO_RCVBUF), so it runs where that is portable to write: Linux.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/duplex-chat/duplex/server"
	"github.com/duplex-chat/duplex/shared"
)

// TestTypingNeverDisconnectsSlowReader: a member that stops reading in a
// set of rooms where ten people type as fast as they can is not closed for it:
// typing frames join only a nearly empty queue, so they never fill it
// (ordinary live frames would: the same storm queued as messages closes a
// slow member with 4001, see TestStalledReaderClosedByBytes). When it
// reads again it gets a message sent after the storm.
func TestTypingNeverDisconnectsSlowReader(t *testing.T) {
	ts := startServerSmallBuffers(t, server.Options{QueueBytes: 32 << 10, PresenceInterval: time.Millisecond, WriteTimeout: time.Minute})
	const rooms = 20 // each room coalesces on its own: more typing frames

	// Ten typists on raw sockets that read and discard everything (so
	// the server keeps reading them) join the rooms first, so that their
	// arrival reaches the slow reader as part of its join, not later.
	type typist struct {
		conn        *websocket.Conn
		start, stop [][]byte
	}
	typists := make([]typist, 10)
	for i := range typists {
		ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
		conn, _, err := websocket.Dial(ctx, ts.url, dialOpts())
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		conn.SetReadLimit(-1)
		t.Cleanup(func() { conn.CloseNow() })
		joined := make(chan struct{})
		last := []byte(fmt.Sprintf(`"id":"j%d"`, rooms-1))
		go func() {
			for {
				_, b, err := conn.Read(context.Background())
				if err != nil {
					return
				}
				if last != nil && bytes.Contains(b, last) {
					close(joined)
					last = nil
				}
			}
		}()
		// Long nicknames make long typing frames: 29 é and a number.
		nick := strings.Repeat("é", 29) + fmt.Sprintf("%03d", i)
		hello, _ := shared.Encode(shared.TypeHello, "h", &shared.Hello{Nick: nick})
		frames := [][]byte{hello}
		tp := typist{conn: conn}
		for r := 0; r < rooms; r++ {
			room := fmt.Sprintf("storm-%d", r)
			j, _ := shared.Encode(shared.TypeJoin, fmt.Sprintf("j%d", r), &shared.Join{Room: room})
			a, _ := shared.Encode(shared.TypeTyping, "", &shared.Typing{Room: room})
			b, _ := shared.Encode(shared.TypeTyping, "", &shared.Typing{Room: room, Stop: true})
			frames, tp.start, tp.stop = append(frames, j), append(tp.start, a), append(tp.stop, b)
		}
		for _, b := range frames {
			if err := conn.Write(context.Background(), websocket.MessageText, b); err != nil {
				t.Fatal(err)
			}
		}
		select {
		case <-joined:
		case <-time.After(waitTimeout):
			t.Fatalf("typist %d did not join", i)
		}
		typists[i] = tp
	}
	slow := dialSmallWindow(t, ts.url, "slow")
	slow.hello(t, "Slow")
	for r := 0; r < rooms; r++ {
		slow.join(t, fmt.Sprintf("storm-%d", r), nil)
	}
	bob := dial(t, ts.url, "bob")
	bob.hello(t, "Bob")
	bob.join(t, "storm-0", nil)
	slow.waitFrame(t, "Bob's arrival", func(f shared.Frame) bool {
		d, ok := f.Payload.(*shared.PresenceDiff)
		return ok && len(d.Joined) == 1 && d.Joined[0].Nick == "Bob"
	})

	// Fill the slow reader's socket buffers with messages until frames
	// wait in its queue, half its bound.
	slow.pause()
	big := strings.Repeat("m", shared.MaxBodyRunes)
	// Bob reads, so what is queued for him passes in a moment; the slow
	// reader's queue is what stays (checked three times, 50 ms apart).
	backedUp := func() bool {
		for i := 0; i < 3; i++ {
			if ts.srv.QueuedBytes() < 16<<10 {
				return false
			}
			time.Sleep(50 * time.Millisecond)
		}
		return true
	}
	for i := 0; !backedUp(); i++ {
		if i == 5000 {
			t.Fatalf("%d messages did not back up into the slow reader's queue", i)
		}
		bob.sendMsg(t, "storm-0", fmt.Sprintf("fill-%d", i), big)
	}

	// The storm: every typist types and stops in every room, as fast as
	// it can, for a bounded time.
	var wg sync.WaitGroup
	end := time.Now().Add(3 * time.Second)
	for _, tp := range typists {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; time.Now().Before(end); i++ {
				b := tp.start[(i/2)%rooms]
				if i%2 == 1 {
					b = tp.stop[(i/2)%rooms]
				}
				if tp.conn.Write(context.Background(), websocket.MessageText, b) != nil {
					return
				}
			}
		}()
	}
	wg.Wait()
	slow.resume()
	bob.sendMsg(t, "storm-0", "after-storm", "still there?")
	slow.mustWait(t, "the message sent after the storm", func() bool {
		l := slow.log["storm-0"]
		return len(l) > 0 && l[len(l)-1].MsgID == "after-storm"
	})
}

// dialSmallWindow dials with a small socket receive buffer, so that what a
// paused reader leaves unread backs up into the server's queue after a few
// kilobytes instead of megabytes of kernel buffers.
func dialSmallWindow(t *testing.T, url, name string) *wsClient {
	t.Helper()
	d := &net.Dialer{Control: func(network, address string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) { serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4<<10) })
		return errors.Join(err, serr)
	}}
	tr := &http.Transport{DialContext: d.DialContext}
	opts := dialOpts()
	opts.HTTPClient = &http.Client{Transport: tr}
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, url, opts)
	if err != nil {
		t.Fatalf("%s: dial: %v", name, err)
	}
	return newClient(t, conn, name)
}

// startServerSmallBuffers is startServer on a listener whose connections
// have a small socket send buffer: with the client's small receive buffer
// (dialSmallWindow), a paused reader backs up into the server's queue
// after kilobytes, not the megabytes the kernel would otherwise hold.
func startServerSmallBuffers(t *testing.T, opts server.Options) *testServer {
	t.Helper()
	opts.Logger = testLogger()
	opts.Limits = server.NoLimits()
	srv, err := server.New(&opts)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewUnstartedServer(srv)
	hs.Listener = smallBufListener{hs.Listener}
	hs.Start()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
		defer cancel()
		srv.Shutdown(ctx)
		hs.Close()
	})
	return &testServer{srv: srv, url: hs.URL}
}

type smallBufListener struct{ net.Listener }

func (l smallBufListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetWriteBuffer(8 << 10)
	}
	return c, err
}
