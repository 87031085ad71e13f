package server

import (
	"bytes"
	"context"
	"errors"
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
//
// The queue is bounded in bytes (Options.QueueBytes) and two kinds of
// frame enter it differently:
//   - live frames (room messages, presence, pushed room lists) come from
//     other people's activity; one that finds the queue full disconnects
//     the client with CloseSlowClient (enqueue);
//   - answers to the client's own requests never do (enqueueReply): they
//     are bounded instead by reading no further request while the queue,
//     plus the sends still being committed, holds half the bound (readGate).
//     A client that pipelines requests without reading is paced by TCP, not
//     buffered, and a fast client with many sends in flight is never taken
//     for a slow one.

// maxInFlight bounds the sends of one connection waiting for their commit:
// the reader stops taking requests at this many.
const maxInFlight = 1024

// sendCost is what a send in flight is charged against the queue bound:
// about the bytes of the echo and the ack it will queue.
func sendCost(body string) int { return len(body) + 384 }

// enqueue queues a live frame without blocking. A full queue means the
// client cannot keep up: it is disconnected with CloseSlowClient and will
// resume.
func (s *session) enqueue(frame []byte) {
	s.qmu.Lock()
	if s.qclosed {
		s.qmu.Unlock()
		return
	}
	o := &s.srv.opts
	if len(s.queue) >= o.QueueSize || len(s.queue) > 0 && s.qbytes+len(frame) > o.QueueBytes {
		s.qmu.Unlock()
		s.kill(shared.CloseSlowClient)
		return
	}
	s.pushLocked(frame)
	s.qmu.Unlock()
}

// enqueueReply queues an answer to one of the client's requests. It never
// disconnects: readGate bounds how much of it there can be.
func (s *session) enqueueReply(frame []byte) {
	if cap(frame)-len(frame) > 16<<10 {
		// An encoded history page sits in a buffer grown by doubling: keep
		// only its bytes, since it may wait in the queue a while.
		frame = bytes.Clone(frame)
	}
	s.qmu.Lock()
	if !s.qclosed {
		s.pushLocked(frame)
	}
	s.qmu.Unlock()
}

func (s *session) pushLocked(frame []byte) {
	s.queue = append(s.queue, frame)
	s.qbytes += len(frame)
	s.startWriterLocked()
}

// roomyLocked reports whether the queue, counting the sends in flight, is
// below half its bounds: the reader may take another request, a replay
// another page.
func (s *session) roomyLocked() bool {
	o := &s.srv.opts
	return len(s.queue)+2*s.inflight < o.QueueSize/2 && s.qbytes+s.inflightBytes < o.QueueBytes/2
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
		if s.roomyLocked() {
			s.pushLocked(frame)
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

// readGate holds the reader before its next request until the queue has
// room and fewer than maxInFlight sends await their commit. It reports
// false once the session is over.
func (s *session) readGate() bool {
	for {
		s.qmu.Lock()
		closed := s.qclosed
		open := s.roomyLocked() && s.inflight < maxInFlight
		s.qmu.Unlock()
		if closed {
			return false
		}
		if open {
			return true
		}
		select {
		case <-s.space:
		case <-s.ctx.Done():
			return false
		}
	}
}

// sendStarted and sendSettled count a send from the reader handing it to
// the committer to its answer being queued.
func (s *session) sendStarted(cost int) {
	s.qmu.Lock()
	s.inflight++
	s.inflightBytes += cost
	s.qmu.Unlock()
}

func (s *session) sendSettled(cost int) {
	s.qmu.Lock()
	s.inflight--
	s.inflightBytes -= cost
	s.qmu.Unlock()
	s.signalSpace()
}

func (s *session) signalSpace() {
	select {
	case s.space <- struct{}{}:
	default:
	}
}

// QueuedBytes returns the bytes queued for every connection and not yet
// written to the network: what slow or non-reading clients cost. The
// duplex_queue_bytes metric reports the same.
func (srv *Server) QueuedBytes() int64 { return int64(srv.queuedBytes()) }

func (s *session) startWriterLocked() {
	if !s.writing {
		s.writing = true
		go s.writeLoop()
		return
	}
	select { // the writer may be lingering
	case s.wake <- struct{}{}:
	default:
	}
}

// hurryWriter is called after queueing an answer to a request: answers
// are what a client waits on, so they skip the coalescing wait (broadcast
// frames queued meanwhile ride along).
func (s *session) hurryWriter() {
	select {
	case s.hurry <- struct{}{}:
	default:
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

// writeLoop is the only writer of the connection while it runs. On a hot
// connection (one written to within the coalescing window) it waits out
// the rest of the window first, so that a busy room costs one write per
// window per member instead of one per message; a quiet connection, or
// one with an answer to a request queued, is written at once.
func (s *session) writeLoop() {
	var batch [][]byte
	for {
		s.qmu.Lock()
		draining := s.drainCode != 0
		s.qmu.Unlock()
		if d := s.srv.opts.CoalesceDelay; d > 0 && !draining {
			if wait := d - time.Since(s.lastWrite); wait > 0 {
				t := time.NewTimer(wait)
				select {
				case <-t.C:
				case <-s.hurry:
				}
				t.Stop()
			}
		}
		s.qmu.Lock()
		batch = s.takeLocked(batch[:0])
		if len(batch) == 0 && s.drainCode == 0 && s.linger() {
			s.qmu.Unlock()
			continue
		}
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
		s.signalSpace()
		s.lastWrite = time.Now()
		s.srv.metrics.framesOut.Add(float64(len(batch)))
		err := s.write(batch)
		// The batch counts against the queue until written: it is memory
		// held for this client as much as the frames still queued.
		s.qmu.Lock()
		for _, f := range batch {
			s.qbytes -= len(f)
		}
		s.qbytes = max(s.qbytes, 0) // the queue may have been dropped meanwhile
		if err != nil {
			s.writing = false
		}
		s.qmu.Unlock()
		clear(batch)
		s.signalSpace()
		if err != nil {
			s.kill(shared.CloseInternal)
			return
		}
	}
}

// writerLinger is how long an idle writer waits for more frames before it
// exits: a busy connection keeps one goroutine (with its grown stack)
// instead of starting one per frame; an idle one keeps none.
const writerLinger = 2 * time.Second

// linger is called with s.qmu held and an empty queue. It waits for a
// frame or for writerLinger and reports whether to go on writing; it
// returns with s.qmu held.
func (s *session) linger() bool {
	s.qmu.Unlock()
	t := time.NewTimer(writerLinger)
	defer t.Stop()
	select {
	case <-s.wake:
	case <-t.C:
	case <-s.ctx.Done():
	}
	s.qmu.Lock()
	return len(s.queue) > 0 || s.drainCode != 0
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
	// No context deadline here: coder/websocket would arm a watcher per
	// write. The frame is held in s.out and sent by Release, which sets a
	// deadline on the socket itself.
	s.out.Hold(s.srv.opts.WriteTimeout)
	err := s.conn.Write(context.Background(), websocket.MessageText, msg)
	return errors.Join(err, s.out.Release())
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
