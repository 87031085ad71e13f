package server

import (
	"time"

	"github.com/duplex-chat/duplex/shared"
)

// A sender's order (issue #15, PROTOCOL.md 7.10a). One connection's
// requests are read and handled one at a time, and its sends reach the
// single committer in that order (commit.go), so sends that all succeed
// are stored in the order they were sent. What could reorder them is a
// refusal in the middle of a pipeline: send k refused with rate_limited,
// k+1 (already on the wire) accepted because the bucket had refilled by
// then, and k resent after retry_after, stored after k+1.
//
// A send may therefore name the msg_id of the send it follows on the
// connection (Send.After). The server remembers which msg_ids of the
// connection were refused with a retryable error and not yet sent again;
// a send that follows one of them is refused too, and so is remembered in
// turn, so the whole rest of the pipeline is refused until the client
// resends from the first refused one. Two places refuse:
//
//   - the reader (held): the rate limiter and the checks before the
//     committer. A held msg_id is released when it is sent again and
//     admitted.
//   - the committer (failed): a batch the store could not write. Sends
//     of the connection that the reader had already handed over behind
//     a failed one are refused when their turn comes; a failed msg_id is
//     released when it is stored.
//
// Without After (older clients) nothing changes. Permanent refusals
// (forbidden, not_found, invalid) hold nothing back: the client drops
// that entry and the rest goes on.

// maxChain bounds the msg_ids one connection keeps refused in each map:
// every entry costs a refusal of the connection's budget first, so only a
// connection that ignores its refusals gets near it.
const maxChain = 4096

// sendChain is a session's order state.
type sendChain struct {
	held   map[string]time.Time // reader only: refused msg_id → when a resend may pass
	failed map[string]bool      // committer only: msg_ids whose commit failed
}

// hold remembers that msgID was refused until about until.
func (c *sendChain) hold(msgID string, until time.Time) {
	if c.held == nil {
		c.held = make(map[string]time.Time)
	}
	if len(c.held) < maxChain {
		c.held[msgID] = until
	}
}

// fail remembers that msgID could not be committed.
func (c *sendChain) fail(msgID string) {
	if c.failed == nil {
		c.failed = make(map[string]bool)
	}
	if len(c.failed) < maxChain {
		c.failed[msgID] = true
	}
}

// admitSend runs on the reader before a send goes further: it refuses a
// send that follows a refused one, then applies the send rate limit. It
// reports whether the send may proceed.
func (s *session) admitSend(id string, p *shared.Send) bool {
	c := &s.chain
	now := time.Now()
	if until, ok := c.held[p.After]; ok && p.After != "" {
		wait := max(until.Sub(now), time.Millisecond)
		c.hold(p.MsgID, now.Add(wait))
		s.refuse(id, wait, "send %s follows %s, which was refused: send that one again first", p.MsgID, p.After)
		return false
	}
	ok, wait := s.take(kindSend, 1)
	if !ok {
		c.hold(p.MsgID, now.Add(wait))
		s.refuse(id, wait, "too many %s requests; retry after %v", kindNames[kindSend], wait.Round(time.Millisecond))
		return false
	}
	delete(c.held, p.MsgID)
	return true
}

// failSend answers a send the reader could not hand to the committer; a
// retryable refusal holds back the sends that follow it.
func (s *session) failSend(id string, p *shared.Send, err error) {
	if pe, ok := err.(*shared.Error); ok && pe.Code.Retryable() {
		s.chain.hold(p.MsgID, time.Now().Add(time.Second))
	}
	s.fail(id, err)
}

// inOrder runs on the committer before a batch is written: it refuses
// each send that follows a send of its connection whose commit failed
// (and remembers it as failed in turn), and returns the rest. Refused
// requests are settled here.
func (srv *Server) inOrder(batch []*sendRequest) []*sendRequest {
	var kept []*sendRequest
	for i, req := range batch {
		c := &req.sess.chain
		if req.after == "" || !c.failed[req.after] {
			delete(c.failed, req.msg.MsgID) // sent again: it may pass now
			if kept != nil {
				kept = append(kept, req)
			}
			continue
		}
		if kept == nil {
			kept = append(make([]*sendRequest, 0, len(batch)), batch[:i]...)
		}
		c.fail(req.msg.MsgID)
		req.sess.q.sendSettled(req.cost)
		req.sess.fail(req.id, shared.Errorf(shared.CodeUnavailable,
			"send %s follows %s, which could not be stored: send that one again first", req.msg.MsgID, req.after))
	}
	if kept == nil {
		return batch
	}
	return kept
}

// commitFailed remembers every send of a batch the store refused, so the
// sends behind them on their connections wait for their resend.
func commitFailed(batch []*sendRequest) {
	for _, req := range batch {
		req.sess.chain.fail(req.msg.MsgID)
	}
}
