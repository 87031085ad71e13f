package server

import (
	"context"
	"time"

	"github.com/coder/websocket"
	"github.com/duplex-chat/duplex/shared"
)

// maxCoalesce and maxCoalesceBytes bound one batched write.
const (
	maxCoalesce      = 128
	maxCoalesceBytes = 256 << 10
)

// The outgoing queue is a slice under s.qmu rather than a channel, so an
// idle connection holds no preallocated slots and no writer goroutine: a
// writer is started when the first frame arrives and exits once the queue
// is empty. Frames that pile up meanwhile go out together as one batch.

// enqueue queues a frame without blocking. A full queue means the client
// cannot keep up: it is disconnected with CloseSlowClient and will resume.
func (s *session) enqueue(frame []byte) {
	s.qmu.Lock()
	if s.qclosed {
		s.qmu.Unlock()
		return
	}
	if len(s.queue) >= s.srv.opts.QueueSize {
		s.qmu.Unlock()
		s.kill(shared.CloseSlowClient)
		return
	}
	s.queue = append(s.queue, frame)
	s.startWriterLocked()
	s.qmu.Unlock()
}

// enqueueWait queues a frame, waiting for room in the queue: replays use it
// so a large gap is paced by the client instead of overflowing the queue.
func (s *session) enqueueWait(ctx context.Context, frame []byte) error {
	for {
		s.qmu.Lock()
		if s.qclosed {
			s.qmu.Unlock()
			return context.Canceled
		}
		if len(s.queue) < s.srv.opts.QueueSize/2 {
			s.queue = append(s.queue, frame)
			s.startWriterLocked()
			s.qmu.Unlock()
			return nil
		}
		s.qmu.Unlock()
		select {
		case <-s.space:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (s *session) startWriterLocked() {
	if !s.writing {
		s.writing = true
		go s.writeLoop()
	}
}

// drainAndClose flushes what is queued, then closes with code.
func (s *session) drainAndClose(code shared.CloseCode) {
	s.qmu.Lock()
	if s.qclosed || s.drainCode != 0 {
		s.qmu.Unlock()
		return
	}
	s.drainCode = code
	s.startWriterLocked()
	s.qmu.Unlock()
}

// writeLoop is the only writer of the connection while it runs.
func (s *session) writeLoop() {
	var batch [][]byte
	for {
		s.qmu.Lock()
		batch = s.takeLocked(batch[:0])
		if len(batch) == 0 {
			s.writing = false
			code := s.drainCode
			if code != 0 {
				s.qclosed = true
			}
			s.qmu.Unlock()
			if code != 0 {
				s.closeOnce.Do(func() {
					s.conn.Close(websocket.StatusCode(code), code.Reason())
					s.cancel()
				})
			}
			return
		}
		s.qmu.Unlock()
		select {
		case s.space <- struct{}{}:
		default:
		}
		if err := s.write(batch); err != nil {
			s.qmu.Lock()
			s.writing = false
			s.qmu.Unlock()
			s.kill(shared.CloseInternal)
			return
		}
	}
}

// takeLocked moves queued frames into batch, up to the coalescing bounds.
func (s *session) takeLocked(batch [][]byte) [][]byte {
	size, n := 0, 0
	for n < len(s.queue) && n < maxCoalesce && size < maxCoalesceBytes {
		size += len(s.queue[n])
		n++
	}
	batch = append(batch, s.queue[:n]...)
	clear(s.queue[:n])
	s.queue = s.queue[n:]
	if len(s.queue) == 0 {
		s.queue = nil // let an idle connection hold no buffer
	}
	return batch
}

func (s *session) write(batch [][]byte) error {
	msg := batch[0]
	if len(batch) > 1 {
		msg = shared.EncodeBatch(batch)
	}
	ctx, cancel := context.WithTimeout(s.ctx, s.srv.opts.WriteTimeout)
	defer cancel()
	return s.conn.Write(ctx, websocket.MessageText, msg)
}

// pingLoop pings every session from one goroutine per server, instead of
// a ticker per connection; each ping waits for its pong in a short-lived
// goroutine.
func (srv *Server) pingLoop() {
	t := time.NewTicker(srv.opts.PingInterval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
		case <-srv.quit:
			return
		}
		srv.mu.Lock()
		for sess := range srv.sessions {
			go sess.ping()
		}
		srv.mu.Unlock()
	}
}

func (s *session) ping() {
	ctx, cancel := context.WithTimeout(s.ctx, s.srv.opts.WriteTimeout)
	defer cancel()
	if err := s.conn.Ping(ctx); err != nil && s.ctx.Err() == nil {
		s.kill(shared.CloseGoingAway)
	}
}
