package main

import (
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/duplex-chat/duplex/shared"
	"github.com/duplex-chat/duplex/shared/testpoll"
)

// TestHeartbeatHalfOpenReconnects: a client behind a TCP proxy whose link
// goes half-open (the proxy keeps both sockets open but stops forwarding
// anything, so no FIN, no close frame, no error ever reaches either side)
// notices the silence through the application heartbeat and reconnects;
// it then receives a message sent while it was cut off. Without the
// heartbeat it would wait on the dead link for good (the server's own
// WebSocket ping closes its side, but the close cannot pass the proxy).
// The interval is short here (300 ms) so the test is quick; its
// assertions are on state (a new connection, the message), not on time.
func TestHeartbeatHalfOpenReconnects(t *testing.T) {
	ta := startAppWith(t, config{limits: limitFlags{off: true}, heartbeat: 300 * time.Millisecond})
	px := newStallProxy(t, ta.Addr)
	reader := rcNew(t, px.WS(), "halfopen", nil)
	writer := rcNew(t, ta.WS, "writer", nil)
	reader.join(t, "hb")
	writer.join(t, "hb")
	testpoll.Until(t, "the reader online", func() bool { return reader.onlineCount() == 1 })

	// Quiet for several intervals: the heartbeat keeps a healthy link
	// up (pings answered by pongs), so no reconnect happens.
	for i := 0; i < 3; i++ {
		id := post(t, writer, "hb", fmt.Sprintf("before %d", i))
		testpoll.Until(t, "message "+id, func() bool { return holds(reader.received("hb"), id) })
		time.Sleep(400 * time.Millisecond) // idle: longer than the interval
	}
	if n := reader.onlineCount(); n != 1 {
		t.Fatalf("a healthy but idle link was reconnected (%d sessions): the heartbeat must keep it", n)
	}

	px.stall()
	id := post(t, writer, "hb", "while the link is half-open")
	testpoll.Until(t, "a new session after the link went silent", func() bool { return reader.onlineCount() >= 2 },
		func() string {
			return fmt.Sprintf("reader %s, %d sessions, %d links stalled", reader.c.State(), reader.onlineCount(), px.stalled())
		})
	testpoll.Until(t, "the message sent while cut off", func() bool { return holds(reader.received("hb"), id) })
}

func post(t *testing.T, p *rcPeer, room, body string) string {
	t.Helper()
	id, err := p.c.Send(room, body)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// stallProxy forwards TCP connections until stall, which makes every link
// open at that moment silently drop what it reads in both directions,
// holding both sockets open: a half-open connection, as a sleeping laptop
// or a NAT that forgot the flow leaves behind. Links made later work.
type stallProxy struct {
	ln    net.Listener
	mu    sync.Mutex
	links []*atomic.Bool
	conns []net.Conn
	wg    sync.WaitGroup
}

func newStallProxy(t *testing.T, target string) *stallProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &stallProxy{ln: ln}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			a, err := ln.Accept()
			if err != nil {
				return
			}
			b, err := net.Dial("tcp", target)
			if err != nil {
				a.Close()
				continue
			}
			stalled := new(atomic.Bool)
			p.mu.Lock()
			p.links = append(p.links, stalled)
			p.conns = append(p.conns, a, b)
			p.mu.Unlock()
			p.wg.Add(2)
			go p.pipe(a, b, stalled)
			go p.pipe(b, a, stalled)
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		p.mu.Lock()
		for _, c := range p.conns {
			c.Close()
		}
		p.mu.Unlock()
		p.wg.Wait()
	})
	return p
}

func (p *stallProxy) WS() string { return "ws://" + p.ln.Addr().String() + "/ws" }

func (p *stallProxy) pipe(dst, src net.Conn, stalled *atomic.Bool) {
	defer p.wg.Done()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 && !stalled.Load() {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			if !stalled.Load() {
				dst.Close() // an ordinary close passes while not stalled
			}
			return
		}
	}
}

// stall makes every current link half-open.
func (p *stallProxy) stall() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, s := range p.links {
		s.Store(true)
	}
}

func (p *stallProxy) stalled() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, s := range p.links {
		if s.Load() {
			n++
		}
	}
	return n
}

func holds(msgs []shared.Message, msgID string) bool {
	for _, m := range msgs {
		if m.MsgID == msgID {
			return true
		}
	}
	return false
}
