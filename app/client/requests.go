package client

import (
	"context"
	"runtime"
	"strconv"
	"time"

	"github.com/coder/websocket"
	"github.com/duplex-chat/duplex/shared"
)

// One request path. Every frame the client writes (hello, joins, sends,
// pings, typing, any other request) goes into the connection's writeQueue
// and is written in order by its one writer goroutine; every request is
// answered through one kind of waiter, registered under its id in
// Client.waits. A waiter lives as long as its connection: when the
// connection ends, waiters with a channel see it closed (ErrOffline), and
// the rest are dropped, because the rejoin after the reconnect asks again
// (joins resume since their cursor, the outbox is resent with the same
// msg_ids). The outcome of a send outlives connections, so SendWait waits
// on the outbox entry (outbox.go), not on a request.

// waiter waits for the answer (an ack, welcome, room_list or error) to one
// request on the current connection.
type waiter struct {
	// ch, when set, receives the answer; it is closed without one when the
	// connection ends first.
	ch chan shared.Frame
	// then, when set, handles the answer on the reader goroutine, without
	// c.mu held (joins and sends update the client's state in it).
	then func(shared.Frame)
}

// writeQueue is one connection's outgoing queue. A single goroutine
// (writeLoop) writes it in order, so the outbox (resent after every
// reconnect) reaches the server, and is stored, in the order it was sent.
type writeQueue struct {
	conn   *websocket.Conn
	frames []outFrame    // guarded by Client.mu
	wake   chan struct{} // capacity 1
	// wrote is when a frame was last written (Unix ns): the heartbeat
	// pings only after Welcome.Heartbeat without one. Guarded by Client.mu.
	wrote int64
}

// outFrame is one WebSocket message to write: a JSON frame, or a binary
// upload (written in chunks, see upload.go).
type outFrame struct {
	b      []byte
	binary bool
}

// request sends a request on the live connection and waits for its
// answer. Client methods (here and in the files of other features) are
// built on it and decodeAnswer.
func (c *Client) request(ctx context.Context, t shared.Type, payload any) (shared.Frame, error) {
	return c.requestWith(ctx, func(id string) (outFrame, error) {
		b, err := shared.Encode(t, id, payload)
		return outFrame{b: b}, err
	})
}

// requestBinary is request for a binary message that build makes for the
// request id (an upload).
func (c *Client) requestBinary(ctx context.Context, build func(id string) ([]byte, error)) (shared.Frame, error) {
	return c.requestWith(ctx, func(id string) (outFrame, error) {
		b, err := build(id)
		return outFrame{b: b, binary: true}, err
	})
}

// requestWith queues the message build makes for a new request id on the
// live connection and waits for the answer naming that id.
func (c *Client) requestWith(ctx context.Context, build func(id string) (outFrame, error)) (shared.Frame, error) {
	w := &waiter{ch: make(chan shared.Frame, 1)}
	c.mu.Lock()
	if c.conn == nil || c.state != StateOnline {
		c.mu.Unlock()
		return shared.Frame{}, ErrOffline
	}
	id := c.nextIDLocked("r")
	f, err := build(id)
	if err != nil {
		c.mu.Unlock()
		return shared.Frame{}, err
	}
	c.waits[id] = w
	c.queueLocked(f)
	c.mu.Unlock()
	defer c.forget(id, w)
	select {
	case f, ok := <-w.ch:
		if !ok {
			return shared.Frame{}, ErrOffline
		}
		return f, nil
	case <-ctx.Done():
		return shared.Frame{}, ctx.Err()
	case <-c.done:
		return shared.Frame{}, ErrClosed
	}
}

// forget drops the waiter of a request whose caller stopped waiting.
func (c *Client) forget(id string, w *waiter) {
	c.mu.Lock()
	if c.waits[id] == w {
		delete(c.waits, id)
	}
	c.mu.Unlock()
}

// nextIDLocked returns a new request id starting with prefix.
func (c *Client) nextIDLocked(prefix string) string {
	c.nextID++
	return prefix + strconv.FormatUint(c.nextID, 10)
}

// startLocked registers w (if any) under id and queues the frame on the
// current connection. It fails only when the frame cannot be encoded; with
// no connection the frame is dropped, as the next session asks again.
func (c *Client) startLocked(t shared.Type, id string, payload any, w *waiter) error {
	b, err := shared.Encode(t, id, payload)
	if err != nil {
		return err
	}
	if w != nil && id != "" {
		c.waits[id] = w
	}
	c.queueLocked(outFrame{b: b})
	return nil
}

// queueLocked puts a message on the current connection's queue.
func (c *Client) queueLocked(b outFrame) {
	q := c.wq
	if q == nil {
		return // offline: the next session resends what matters
	}
	q.frames = append(q.frames, b)
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// writeLoop writes q's frames in order until ctx ends or a write fails;
// a failed write closes the connection, which ends the session.
func (c *Client) writeLoop(ctx context.Context, q *writeQueue) {
	for {
		select {
		case <-q.wake:
		case <-ctx.Done():
			return
		}
		c.mu.Lock()
		frames := q.frames
		q.frames = nil
		c.mu.Unlock()
		for _, f := range frames {
			err := writeFrame(ctx, q.conn, f)
			if err != nil {
				q.conn.CloseNow()
				return
			}
		}
		c.mu.Lock()
		q.wrote = time.Now().UnixNano()
		c.mu.Unlock()
	}
}

// writeFrame writes one message: a JSON frame within 10 s, an upload in
// chunks within uploadTimeout (the server gives each WebSocket frame a few
// seconds, so a large image on a slow link goes in pieces).
func writeFrame(ctx context.Context, conn *websocket.Conn, f outFrame) error {
	if !f.binary {
		wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		return conn.Write(wctx, websocket.MessageText, f.b)
	}
	wctx, cancel := context.WithTimeout(ctx, uploadTimeout)
	defer cancel()
	if runtime.GOOS == "js" {
		// The browser frames the message itself; coder/websocket's
		// Writer would only copy it into a pooled buffer kept after.
		return conn.Write(wctx, websocket.MessageBinary, f.b)
	}
	w, err := conn.Writer(wctx, websocket.MessageBinary)
	if err != nil {
		return err
	}
	for b := f.b; len(b) > 0; {
		n := min(len(b), uploadChunk)
		if _, err := w.Write(b[:n]); err != nil {
			w.Close()
			return err
		}
		b = b[n:]
	}
	return w.Close()
}

// answer routes an ack or error to the waiter of the request it names. An
// error nobody waits for is reported as ErrorReceived.
func (c *Client) answer(f shared.Frame) {
	c.mu.Lock()
	w := c.waits[f.ID]
	delete(c.waits, f.ID)
	c.mu.Unlock()
	if w == nil {
		if e, ok := f.Payload.(*shared.ErrorFrame); ok {
			c.emit(ErrorReceived{Err: &shared.Error{Code: e.Code, Message: e.Message}})
		}
		return
	}
	if w.then != nil {
		w.then(f)
	}
	if w.ch != nil {
		w.ch <- f
	}
}

// failWaitersLocked ends every request of a connection that is gone.
func (c *Client) failWaitersLocked() {
	for id, w := range c.waits {
		if w.ch != nil {
			close(w.ch)
		}
		delete(c.waits, id)
	}
}

// ask sends the request payload of type t and decodes its answer as a T.
func ask[T any](ctx context.Context, c *Client, t shared.Type, payload any) (T, error) {
	f, err := c.request(ctx, t, payload)
	if err != nil {
		var zero T
		return zero, err
	}
	return decodeAnswer[T](f)
}

// decodeAnswer turns an ack into T, or an error frame into *shared.Error.
func decodeAnswer[T any](f shared.Frame) (T, error) {
	var v T
	if e, ok := f.Payload.(*shared.ErrorFrame); ok {
		return v, &shared.Error{Code: e.Code, Message: e.Message, RetryAfter: time.Duration(e.RetryAfter) * time.Millisecond}
	}
	err := shared.DecodeAck(f, &v)
	return v, err
}

// retryDelay is how long to wait before resending a request refused with a
// retryable error: the server's retry_after, or a second.
func retryDelay(pe *shared.Error) time.Duration {
	if pe.RetryAfter > 0 {
		return pe.RetryAfter
	}
	return time.Second
}
