//go:build !(js && wasm)

package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"github.com/duplex-chat/duplex/app/client"
)

// peer is one load connection: a Duplex client or a raw socket to the
// naive loop. Every received body goes to onBody.
type peer interface {
	publish(body string) error
	close()
}

// httpClientFor spreads connections over 127.0.0.x source addresses, 20,000
// per address, so idle runs do not exhaust one address's ephemeral ports.
func httpClientFor(i int, target string) *http.Client {
	host, _, _ := net.SplitHostPort(target)
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() || ip.To4() == nil {
		return http.DefaultClient
	}
	src := net.IPv4(127, 0, byte(i/20000/250), byte(1+i/20000%250))
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: src}, Timeout: 30 * time.Second}
	return &http.Client{Transport: &http.Transport{DialContext: d.DialContext}}
}

// eventsSeen counts every event every Duplex peer received, so a run can
// wait until a join storm's presence traffic has died down.
var eventsSeen atomic.Int64

// settle waits until no peer has received anything for quiet (at most max).
func settle(quiet, max time.Duration) {
	deadline := time.Now().Add(max)
	last, since := eventsSeen.Load(), time.Now()
	for time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
		if n := eventsSeen.Load(); n != last {
			last, since = n, time.Now()
		} else if time.Since(since) >= quiet {
			return
		}
	}
}

// duplexPeer is a Duplex client joined to one room.
type duplexPeer struct {
	c    *client.Client
	room string
	acks atomic.Int64
}

func dialDuplex(ctx context.Context, url, room string, i int, deflate bool, onBody func(string)) (*duplexPeer, error) {
	mode := websocket.CompressionDisabled
	if deflate {
		mode = websocket.CompressionContextTakeover
	}
	p := &duplexPeer{room: room}
	c, err := client.New(url, &client.Options{
		Compression: mode,
		Nick:        fmt.Sprintf("load-%d", i),
		CacheSize:   -1,
		MinBackoff:  time.Second,
		MaxBackoff:  5 * time.Second,
		HTTPClient:  httpClientFor(i, hostOf(url)),
		// Events are handled inline, as the naive peers handle frames.
		OnEvent: func(ev client.Event) {
			eventsSeen.Add(1)
			switch e := ev.(type) {
			case client.MessageReceived:
				if onBody != nil {
					onBody(e.Message.Body)
				}
			case client.MessageAcked:
				p.acks.Add(1)
			}
		},
	})
	if err != nil {
		return nil, err
	}
	p.c = c
	if err := c.Join(ctx, room); err != nil {
		c.Close()
		return nil, err
	}
	return p, nil
}

func (p *duplexPeer) publish(body string) error {
	_, err := p.c.Send(p.room, body)
	return err
}

func (p *duplexPeer) close() { p.c.Close() }

// naivePeer is a plain WebSocket to the naive loop: every text message it
// writes is broadcast to every connection.
type naivePeer struct {
	conn *websocket.Conn
	ctx  context.Context
	stop context.CancelFunc
	wmu  sync.Mutex
}

func dialNaive(ctx context.Context, url string, i int, onBody func(string)) (*naivePeer, error) {
	conn, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPClient: httpClientFor(i, hostOf(url))})
	if err != nil {
		return nil, err
	}
	conn.SetReadLimit(1 << 20)
	pctx, stop := context.WithCancel(context.Background())
	p := &naivePeer{conn: conn, ctx: pctx, stop: stop}
	go func() {
		for {
			_, b, err := conn.Read(pctx)
			if err != nil {
				return
			}
			if onBody != nil {
				onBody(string(b))
			}
		}
	}()
	return p, nil
}

func (p *naivePeer) publish(body string) error {
	ctx, cancel := context.WithTimeout(p.ctx, 5*time.Second)
	defer cancel()
	return p.conn.Write(ctx, websocket.MessageText, []byte(body))
}

func (p *naivePeer) close() { p.stop(); p.conn.CloseNow() }

func hostOf(url string) string {
	rest := url
	for _, pre := range []string{"ws://", "wss://"} {
		if len(rest) > len(pre) && rest[:len(pre)] == pre {
			rest = rest[len(pre):]
		}
	}
	for i := 0; i < len(rest); i++ {
		if rest[i] == '/' {
			return rest[:i]
		}
	}
	return rest
}

// dialMany opens n peers with bounded parallelism.
func dialMany(ctx context.Context, n int, dial func(i int) (peer, error)) ([]peer, time.Duration, error) {
	start := time.Now()
	peers := make([]peer, n)
	var firstErr error
	var mu sync.Mutex
	inParallelAtMost(ctx, n, 256, func(i int) {
		p, err := dial(i)
		mu.Lock()
		defer mu.Unlock()
		if err != nil && firstErr == nil {
			firstErr = fmt.Errorf("connection %d: %w", i, err)
		}
		peers[i] = p
	})
	if firstErr != nil {
		closeAll(peers)
		return nil, 0, firstErr
	}
	return peers, time.Since(start), nil
}

func closeAll(peers []peer) {
	var wg sync.WaitGroup
	for _, p := range peers {
		if p != nil {
			wg.Go(func() { p.close() })
		}
	}
	wg.Wait()
}

// inParallel calls f(0) … f(n-1), each in a goroutine of its own, and
// waits for them all.
func inParallel(n int, f func(i int)) {
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { f(i) })
	}
	wg.Wait()
}

// inParallelAtMost is inParallel with at most limit calls at a time; once
// ctx ends it starts no more.
func inParallelAtMost(ctx context.Context, n, limit int, f func(i int)) {
	var wg sync.WaitGroup
	sem := make(chan struct{}, limit)
	for i := range n {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			f(i)
		})
		if ctx.Err() != nil {
			break
		}
	}
	wg.Wait()
}
