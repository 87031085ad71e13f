package server

import (
	"context"
	"time"

	"github.com/duplex-chat/duplex/server/store"
	"github.com/duplex-chat/duplex/shared"
)

// maxCommitBatch bounds how many sends share one store transaction.
const maxCommitBatch = 512

// sendRequest is a send waiting for the committer.
type sendRequest struct {
	sess *session
	id   string
	msg  store.NewMessage
	cost int // counted against the sender's queue until answered
	// after is the msg_id this send follows on its connection (order.go).
	after string
}

// send hands a message to the committer; the ack follows the commit.
func (s *session) send(id string, p *shared.Send) {
	r := s.joined(p.Room)
	if r == nil {
		s.fail(id, shared.Errorf(shared.CodeNotJoined, "join room %q before sending to it", p.Room))
		return
	}
	if err := s.srv.authorizeMember(context.Background(), s.ident, ActionSend, r); err != nil {
		s.fail(id, err)
		return
	}
	if p.Kind == shared.KindMessage {
		r.typingStop(s.member.User) // a typist who sends has stopped typing
		s.srv.typingToPeers(r.name, s.member, true)
	}
	// Edits, deletions, reactions and replies are sends too: the store
	// checks their target inside its transaction (store/events.go).
	nm := store.NewMessage{Room: p.Room, MsgID: p.MsgID, Author: s.member, Body: p.Body,
		Kind: p.Kind, Target: p.Target, Emoji: p.Emoji, ReplyTo: p.ReplyTo, MaxEmoji: s.srv.opts.reactionEmoji()}
	req := &sendRequest{sess: s, id: id, msg: nm, cost: sendCost(p.Body), after: p.After}
	if p.Kind == shared.KindMessage {
		req.msg.Mentions = s.srv.mentions(s.ctx, r, p.Body) // mention.go
	}
	if p.Image != "" {
		img, err := s.attachedImage(context.Background(), p) // upload.go
		if err != nil {
			s.failSend(id, p, err)
			return
		}
		req.msg.Image = img
	}
	s.q.sendStarted(req.cost)
	select {
	case s.srv.commits <- req:
	case <-s.srv.quit:
		s.q.sendSettled(req.cost)
		s.failSend(id, p, shared.Errorf(shared.CodeUnavailable, "the server is shutting down; retry"))
	}
}

// commitLoop is the single writer to the store. Sends that arrive while a
// transaction is in flight are committed together in the next one (group
// commit), so one fsync covers many messages. After the commit each new
// message is published in seq order and each sender gets its ack.
func (srv *Server) commitLoop() {
	defer close(srv.committerEnd)
	batch := make([]*sendRequest, 0, maxCommitBatch)
	for {
		select {
		case req := <-srv.commits:
			batch = append(batch[:0], req)
		case <-srv.quit:
			for {
				batch = srv.gatherCommits(batch[:0])
				if len(batch) == 0 {
					return
				}
				srv.commit(batch)
			}
		}
		srv.commit(srv.gatherCommits(batch))
	}
}

func (srv *Server) gatherCommits(batch []*sendRequest) []*sendRequest {
	for len(batch) < maxCommitBatch {
		select {
		case req := <-srv.commits:
			batch = append(batch, req)
		default:
			return batch
		}
	}
	return batch
}

func (srv *Server) commit(batch []*sendRequest) {
	if batch = srv.inOrder(batch); len(batch) == 0 { // order.go
		return
	}
	defer func() {
		for _, req := range batch {
			req.sess.q.sendSettled(req.cost)
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	now := time.Now().UnixMilli()
	msgs := make([]store.NewMessage, len(batch))
	for i, req := range batch {
		msgs[i] = req.msg
		msgs[i].TS = now
	}
	start := time.Now()
	results, err := srv.opts.Store.Append(ctx, msgs)
	srv.metrics.committed(len(msgs), start, err)
	if err != nil {
		srv.storeErrs.report(err, len(msgs))
		commitFailed(batch) // order.go: the sends behind these wait for them
		for _, req := range batch {
			req.sess.fail(req.id, shared.Errorf(shared.CodeUnavailable, "the message could not be stored; retry with the same msg_id"))
		}
		return
	}
	srv.storeErrs.recovered()
	committed := time.Now()
	for i, res := range results {
		req := batch[i]
		if res.Err != nil {
			req.sess.fail(req.id, res.Err)
			continue
		}
		m := res.Message
		if res.Orphaned != "" {
			srv.removeImage(res.Orphaned) // erase.go
		}
		if !res.Duplicate {
			if err := srv.opts.Broker.Publish(ctx, m); err != nil {
				srv.log.Error("broker publish", "room", m.Room, "seq", m.Seq, "err", err)
			}
			srv.metrics.fanout.Observe(time.Since(committed).Seconds())
		}
		srv.metrics.messagesIn.Inc()
		// A no-op event (store.NoOp) is acked with seq = its target.
		req.sess.reply(shared.TypeAck, req.id, &shared.SendAck{Room: m.Room, MsgID: m.MsgID, Seq: m.Seq, TS: m.TS})
	}
}
