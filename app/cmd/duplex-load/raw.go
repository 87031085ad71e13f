//go:build !(js && wasm)

package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"

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
