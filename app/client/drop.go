package client

// Reconnect ends the current connection at once and connects again, or,
// while waiting to reconnect, ends the wait: for a UI that knows better
// than the socket that the network changed (the browser went offline, a
// request went unanswered). A socket on a network that silently stopped
// delivering would otherwise look online until the heartbeat gives up.
func (c *Client) Reconnect() {
	if drop := locked(&c.mu, func() func() { return c.drop }); drop != nil {
		drop()
		return
	}
	c.RetryNow()
}

// Discard takes an unacknowledged send out of the outbox (and Storage),
// so it is not sent again: a UI's "delete" of a message that was not
// delivered. It reports whether msgID was in the outbox. A copy the
// server already stored before its ack was lost still arrives as a
// message.
func (c *Client) Discard(msgID string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.removePendingLocked(msgID)
}
