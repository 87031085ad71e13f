package client

import "time"

// retryWait is the pause between connection attempts, kept visible so a
// UI can show a countdown to the next attempt and offer "retry now".
type retryWait struct {
	at  time.Time     // when the next attempt starts; zero when not waiting
	now chan struct{} // capacity 1: RetryNow ends the current wait
}

// NextRetry returns when the client will next try to connect, or the zero
// time when it is not waiting (connecting, online or closed).
func (c *Client) NextRetry() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.retry.at
}

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
