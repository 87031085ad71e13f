//go:build !(js && wasm)

package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"github.com/duplex-chat/duplex/shared"
)

// rawConn is a bare protocol connection for the abusive workloads: no
// outbox, no reconnect, no pacing; it writes what it is told, as fast as
// the socket takes it.
type rawConn struct {
	conn *websocket.Conn
	n    int // request ids
}

// dialAbuser connects, says hello as nick and, when room is not empty, joins
// it and waits for the join's answer (reading and discarding whatever
// comes first).
func dialAbuser(ctx context.Context, url string, i int, nick, room string) (*rawConn, error) {
	conn, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{
		Subprotocols: []string{shared.Protocol},
		HTTPClient:   httpClientFor(i, hostOf(url)),
	})
	if err != nil {
		return nil, err
	}
	conn.SetReadLimit(64 << 20)
	c := &rawConn{conn: conn}
	if _, err := c.call(ctx, shared.TypeHello, &shared.Hello{Nick: nick}); err != nil {
		conn.CloseNow()
		return nil, fmt.Errorf("hello: %w", err)
	}
	if room != "" {
		if _, err := c.call(ctx, shared.TypeJoin, &shared.Join{Room: room}); err != nil {
			conn.CloseNow()
			return nil, fmt.Errorf("join %s: %w", room, err)
		}
	}
	return c, nil
}

// redial calls session with abusive connections, one after another,
// until ctx ends: the k-th says hello as nick-k and joins room (when it
// is not empty); a failed dial is tried again after 100ms. The connection
// is closed when session returns.
func redial(ctx context.Context, url string, i int, nick, room string, session func(c *rawConn, k int)) {
	for k := 0; ctx.Err() == nil; k++ {
		c, err := dialAbuser(ctx, url, i, fmt.Sprintf("%s-%d", nick, k), room)
		if err != nil {
			if ctx.Err() == nil {
				time.Sleep(100 * time.Millisecond)
			}
			continue
		}
		session(c, k)
		c.conn.CloseNow()
	}
}

// readUntilClosed reads c, handing each message to onMessage when it is
// not nil, until the connection ends; the channel then gets its close
// code (see closeCode).
func (c *rawConn) readUntilClosed(onMessage func([]byte)) <-chan int {
	done := make(chan int, 1)
	go func() {
		for {
			_, b, err := c.conn.Read(context.Background())
			if err != nil {
				done <- closeCode(err)
				return
			}
			if onMessage != nil {
				onMessage(b)
			}
		}
	}()
	return done
}

// abuserCounts adds up what reconnecting abusive connections did: the
// requests they wrote, the connections they made, and the codes the
// server closed them with.
type abuserCounts struct {
	written, connects atomic.Int64
	closes            closeCounts
}

// connections is "N connections, closed by code map[…]".
func (a *abuserCounts) connections() string {
	return fmt.Sprintf("%d connections, closed by code %v", a.connects.Load(), &a.closes)
}

// flood counts connection c and calls write(n) on it for n = 0, 1, ... as
// fast as it succeeds, counting each, until ctx ends or a write fails;
// then it waits for the connection to end (reading with onMessage
// meanwhile) and counts its close code when the server, not ctx, ended it.
func (a *abuserCounts) flood(ctx context.Context, c *rawConn, write func(n int) error, onMessage func([]byte)) {
	a.connects.Add(1)
	done := c.readUntilClosed(onMessage)
	for n := 0; ctx.Err() == nil; n++ {
		if write(n) != nil {
			break
		}
		a.written.Add(1)
	}
	if ctx.Err() != nil {
		c.conn.CloseNow()
	}
	if code := <-done; ctx.Err() == nil {
		a.closes.add(code)
	}
}

// closeCounts counts connections by the code they were closed with. The
// zero value is ready; it prints as the map.
type closeCounts struct {
	mu sync.Mutex
	n  map[int]int
}

func (c *closeCounts) add(code int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n == nil {
		c.n = map[int]int{}
	}
	c.n[code]++
}

func (c *closeCounts) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return fmt.Sprint(c.n)
}

// write sends one request and returns its id.
func (c *rawConn) write(ctx context.Context, t shared.Type, payload any) (string, error) {
	c.n++
	id := "r" + strconv.Itoa(c.n)
	b, err := shared.Encode(t, id, payload)
	if err != nil {
		return "", err
	}
	return id, c.conn.Write(ctx, websocket.MessageText, b)
}

// call sends a request and reads until its answer, which must not be an
// error frame; it returns the bytes read meanwhile.
func (c *rawConn) call(ctx context.Context, t shared.Type, payload any) (read int64, err error) {
	id, err := c.write(ctx, t, payload)
	if err != nil {
		return 0, err
	}
	for {
		_, b, err := c.conn.Read(ctx)
		if err != nil {
			return read, err
		}
		read += int64(len(b))
		var answer error
		found := false
		shared.DecodeAll(b, func(f shared.Frame, err error) {
			if err != nil || f.ID != id {
				return
			}
			found = true
			if e, ok := f.Payload.(*shared.ErrorFrame); ok {
				answer = &shared.Error{Code: e.Code, Message: e.Message}
			}
		})
		if found {
			return read, answer
		}
	}
}

// closeCode is the close status err carries, or -1.
func closeCode(err error) int {
	var ce websocket.CloseError
	if errors.As(err, &ce) {
		return int(ce.Code)
	}
	return -1
}
