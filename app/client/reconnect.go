package client

import (
	"context"
	"math/rand/v2"
	"time"

	"github.com/coder/websocket"
	"github.com/duplex-chat/duplex/shared"
)

// loop connects, runs a session, and reconnects with jittered exponential
// backoff until Close or a close code that says not to.
func (c *Client) loop() {
	defer close(c.done)
	defer close(c.events)
	stop := watchNetwork(c) // the browser's online and pageshow events
	defer stop()
	backoff := c.opts.MinBackoff
	for c.ctx.Err() == nil {
		c.setState(StateConnecting, nil)
		dctx, cancel := context.WithTimeout(c.ctx, c.opts.DialTimeout)
		conn, err := dial(dctx, c.url, &c.opts)
		cancel()
		if err == nil {
			var welcomed bool
			welcomed, err = c.session(conn)
			if welcomed {
				backoff = c.opts.MinBackoff
			}
			code := shared.CloseCode(websocket.CloseStatus(err))
			c.mu.Lock()
			fatal := c.fatal
			c.mu.Unlock()
			if fatal != nil {
				c.setState(StateOffline, fatal)
				return
			}
			if code == shared.CloseSignedOut {
				c.signedOutByServer() // signout.go
			}
			if code != -1 && !code.ShouldReconnect() || c.ctx.Err() != nil {
				c.setState(StateOffline, err)
				return
			}
		}
		c.setState(StateOffline, err)
		delay := time.Duration(rand.Int64N(int64(backoff))) + c.opts.MinBackoff/2
		backoff = min(backoff*2, c.opts.MaxBackoff)
		c.waitRetry(delay)
	}
}

func (c *Client) setState(s State, err error) {
	c.mu.Lock()
	changed := c.state != s
	c.state = s
	c.mu.Unlock()
	if changed {
		c.emit(StateChanged{State: s, Err: err})
	}
}

// retryWait is the pause between connection attempts, kept visible so a
// UI can show a countdown to the next attempt and offer "retry now".
type retryWait struct {
	at  time.Time     // when the next attempt starts; zero when not waiting
	now chan struct{} // capacity 1: RetryNow ends the current wait
}

// NextRetry returns when the client will next try to connect, or the zero
// time when it is not waiting (connecting, online or closed).
func (c *Client) NextRetry() time.Time { return locked(&c.mu, func() time.Time { return c.retry.at }) }

// RetryNow ends the wait before the next connection attempt, for a
// "retry now" button or the browser's online event. It does nothing
// unless the client is waiting to reconnect.
func (c *Client) RetryNow() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.retry.at.IsZero() {
		return
	}
	select {
	case c.retry.now <- struct{}{}:
	default:
	}
}

// waitRetry sleeps for delay, or less if RetryNow or Close is called.
func (c *Client) waitRetry(delay time.Duration) {
	t := time.NewTimer(delay)
	defer t.Stop()
	c.mu.Lock()
	if c.retry.now == nil {
		c.retry.now = make(chan struct{}, 1)
	}
	select { // a RetryNow of an earlier wait does not cut this one
	case <-c.retry.now:
	default:
	}
	c.retry.at = time.Now().Add(delay)
	now := c.retry.now
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		c.retry.at = time.Time{}
		c.mu.Unlock()
	}()
	select {
	case <-t.C:
	case <-now:
	case <-c.ctx.Done():
	}
}

// heartbeat runs while a session is welcomed with a heartbeat interval
// (Welcome.Heartbeat): it sends a ping after every interval without a
// frame written, and closes the connection when nothing at all has been
// read for two intervals, so a half-open connection (a network that
// silently stopped delivering, no FIN) ends in a reconnect instead of a
// tab that waits forever.
func (c *Client) heartbeat(ctx context.Context, dead func(), q *writeQueue, every time.Duration) {
	tick := time.NewTicker(max(every/4, 10*time.Millisecond))
	defer tick.Stop()
	for {
		select {
		case <-tick.C:
		case <-ctx.Done():
			return
		}
		now := time.Now()
		if now.Sub(time.Unix(0, c.heard.Load())) > 2*every {
			dead() // ends the session's read, and so the connection: reconnect
			return
		}
		c.mu.Lock()
		if c.wq == q && now.Sub(time.Unix(0, q.wrote)) >= every && len(q.frames) == 0 {
			c.startLocked(shared.TypePing, c.nextIDLocked("p"), &shared.Ping{}, nil)
			q.wrote = now.UnixNano() // one ping per interval, even unanswered
		}
		c.mu.Unlock()
	}
}
