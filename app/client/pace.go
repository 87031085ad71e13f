package client

import "time"

// pacer holds the sends the server refused with rate_limited. Resending
// them all at once would be refused again (the server allows a burst, not
// a backlog) and, repeated, would spend the connection's refusal budget
// and get it closed with 1008. So after retry_after they go one at a time,
// the next as soon as the previous is answered, in outbox order; sends
// made meanwhile queue behind them. A reconnect resets it (the rejoin
// resends the outbox anyway).
type pacer struct {
	held  map[string]bool // msg_ids waiting for their paced resend
	busy  string          // msg_id of the paced send in flight
	timer *time.Timer     // pending resend after retry_after
}

// active reports whether sends must queue behind held ones.
func (p *pacer) active() bool { return len(p.held) > 0 || p.busy != "" || p.timer != nil }

// holdLocked records that msgID was refused and schedules the paced
// resend after wait.
func (c *Client) holdLocked(msgID string, wait time.Duration) {
	if c.pace.held == nil {
		c.pace.held = make(map[string]bool)
	}
	c.pace.held[msgID] = true
	if c.pace.busy == msgID {
		c.pace.busy = ""
	}
	if c.pace.timer != nil {
		c.pace.timer.Stop()
	}
	c.pace.timer = time.AfterFunc(wait, func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		c.pace.timer = nil
		c.paceNextLocked()
	})
}

// paceNextLocked resends the oldest held send whose room is live, unless
// a paced send is in flight or a retry_after is pending.
func (c *Client) paceNextLocked() {
	if c.pace.busy != "" || c.pace.timer != nil || c.conn == nil {
		return
	}
	for _, p := range c.outbox {
		if !c.pace.held[p.MsgID] {
			continue
		}
		if rs := c.rooms[p.Room]; rs == nil || !rs.live {
			continue // its room's rejoin resends it
		}
		delete(c.pace.held, p.MsgID)
		c.pace.busy = p.MsgID
		c.sendPendingLocked(p)
		return
	}
	// Held sends that left the outbox (acked through an earlier copy) or
	// whose room is not live are not paced any more.
	clear(c.pace.held)
}

// pacedAnswerLocked notes that msgID was answered for good (acked or
// refused for good) and moves on to the next held send.
func (c *Client) pacedAnswerLocked(msgID string) {
	delete(c.pace.held, msgID)
	if c.pace.busy == msgID {
		c.pace.busy = ""
	}
	c.paceNextLocked()
}

// resetPaceLocked forgets the pacing state when the connection ends.
func (c *Client) resetPaceLocked() {
	if c.pace.timer != nil {
		c.pace.timer.Stop()
	}
	c.pace = pacer{}
}
