package server

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"time"

	"github.com/coder/websocket"
	"github.com/duplex-chat/duplex/server/internal/wsconn"
	"github.com/duplex-chat/duplex/shared"
)

// maxCoalesce and maxCoalesceBytes bound one batched write.
const (
	maxCoalesce      = 128
	maxCoalesceBytes = 256 << 10
)

// outQueue is a session's outgoing queue and its writer.
//
// The queue is a slice under mu rather than a channel, so an idle
// connection holds no preallocated slots and no writer goroutine: a writer
// is started when the first frame arrives and exits once the queue is
// empty. Frames that pile up meanwhile go out together as one batch.
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
type outQueue struct {
	sess *session            // the owner: its socket, its server's options, its close
	out  *wsconn.FrameWriter // beneath sess.conn: gathers one frame into one syscall

	mu            sync.Mutex
	frames        [][]byte         // outgoing frames
	bytes         int              // bytes in frames and in the batch being written
	inflight      int              // sends handed to the committer, not yet answered
	inflightBytes int              // their sendCost
	writing       bool             // a writeLoop is running
	closed        bool             // nothing more will be written
	drainCode     shared.CloseCode // when set, close with it once the queue is empty
	space         chan struct{}    // signalled when the writer takes frames
	wake          chan struct{}    // wakes a lingering writer
	hurry         chan struct{}    // cuts a coalescing wait short: a reply is queued
	lastWrite     time.Time        // for write coalescing; writeLoop only
}

func (q *outQueue) init(sess *session, out *wsconn.FrameWriter) {
	q.sess, q.out = sess, out
	q.space = make(chan struct{}, 1)
	q.wake = make(chan struct{}, 1)
	q.hurry = make(chan struct{}, 1)
}

// maxInFlight bounds the sends of one connection waiting for their commit:
// the reader stops taking requests at this many.
const maxInFlight = 1024

// sendCost is what a send in flight is charged against the queue bound:
// about the bytes of the echo and the ack it will queue.
func sendCost(body string) int { return len(body) + 384 }

// enqueue queues a live frame without blocking. A full queue means the
// client cannot keep up: it is disconnected with CloseSlowClient and will
// resume.
func (q *outQueue) enqueue(frame []byte) {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return
	}
	o := &q.sess.srv.opts
	if len(q.frames) >= o.QueueSize || len(q.frames) > 0 && q.bytes+len(frame) > o.QueueBytes {
		q.mu.Unlock()
		q.sess.kill(shared.CloseSlowClient)
		return
	}
	q.pushLocked(frame)
	q.mu.Unlock()
}

// enqueueReply queues an answer to one of the client's requests. It never
// disconnects: readGate bounds how much of it there can be.
func (q *outQueue) enqueueReply(frame []byte) {
	if cap(frame)-len(frame) > 16<<10 {
		// An encoded history page sits in a buffer grown by doubling: keep
		// only its bytes, since it may wait in the queue a while.
		frame = bytes.Clone(frame)
	}
	q.mu.Lock()
	if !q.closed {
		q.pushLocked(frame)
	}
	q.mu.Unlock()
}

// typingRoom is how much may be queued for a session for a typing frame
// to join it: a typing frame waits behind nothing, or it is not worth
// sending.
const typingRoom = 4

// enqueueTyping queues a typing frame only when the queue is nearly empty
// (at most typingRoom frames and 1/16 of QueueBytes). It never
// disconnects: a client too busy for typing simply does not see it.
func (q *outQueue) enqueueTyping(frame []byte) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed || len(q.frames) > typingRoom || q.bytes > q.sess.srv.opts.QueueBytes/16 {
		return
	}
	q.pushLocked(frame)
}

func (q *outQueue) pushLocked(frame []byte) {
	q.frames = append(q.frames, frame)
	q.bytes += len(frame)
	q.startWriterLocked()
}

// roomyLocked reports whether the queue, counting the sends in flight, is
// below half its bounds: the reader may take another request, a replay
// another page.
func (q *outQueue) roomyLocked() bool {
	o := &q.sess.srv.opts
	return len(q.frames)+2*q.inflight < o.QueueSize/2 && q.bytes+q.inflightBytes < o.QueueBytes/2
}

// enqueueWait queues a frame, waiting for room in the queue: replays use it
// so a large gap is paced by the client instead of overflowing the queue.
func (q *outQueue) enqueueWait(ctx context.Context, frame []byte) error {
	for {
		q.mu.Lock()
		if q.closed {
			q.mu.Unlock()
			return context.Canceled
		}
		if q.roomyLocked() {
			q.pushLocked(frame)
			q.mu.Unlock()
			return nil
		}
		q.mu.Unlock()
		select {
		case <-q.space:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// readGate holds the reader before its next request until the queue has
// room and fewer than maxInFlight sends await their commit. It reports
// false once the session is over.
func (q *outQueue) readGate() bool {
	for {
		q.mu.Lock()
		closed := q.closed
		open := q.roomyLocked() && q.inflight < maxInFlight
		q.mu.Unlock()
		if closed {
			return false
		}
		if open {
			return true
		}
		select {
		case <-q.space:
		case <-q.sess.ctx.Done():
			return false
		}
	}
}

// sendStarted and sendSettled count a send from the reader handing it to
// the committer to its answer being queued.
func (q *outQueue) sendStarted(cost int) {
	q.mu.Lock()
	q.inflight++
	q.inflightBytes += cost
	q.mu.Unlock()
}

func (q *outQueue) sendSettled(cost int) {
	q.mu.Lock()
	q.inflight--
	q.inflightBytes -= cost
	q.mu.Unlock()
	q.signalSpace()
}

func (q *outQueue) signalSpace() {
	select {
	case q.space <- struct{}{}:
	default:
	}
}

// queued returns the bytes queued and being written.
func (q *outQueue) queued() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.bytes
}

// drop discards what is queued and takes nothing more.
func (q *outQueue) drop() {
	q.mu.Lock()
	q.closed = true
	q.frames, q.bytes = nil, 0
	q.mu.Unlock()
}

// QueuedBytes returns the bytes queued for every connection and not yet
// written to the network: what slow or non-reading clients cost. The
// duplex_queue_bytes metric reports the same.
func (srv *Server) QueuedBytes() int64 { return int64(srv.queuedBytes()) }

func (q *outQueue) startWriterLocked() {
	if !q.writing {
		q.writing = true
		go q.writeLoop()
		return
	}
	select { // the writer may be lingering
	case q.wake <- struct{}{}:
	default:
	}
}

// hurryWriter is called after queueing an answer to a request: answers
// are what a client waits on, so they skip the coalescing wait (broadcast
// frames queued meanwhile ride along).
func (q *outQueue) hurryWriter() {
	select {
	case q.hurry <- struct{}{}:
	default:
	}
}

// drain has the writer flush what is queued and then close the session
// with code (session.close, drained); the first drain wins.
func (q *outQueue) drain(code shared.CloseCode) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed || q.drainCode != 0 {
		return
	}
	q.drainCode = code
	q.startWriterLocked()
}

// writeLoop is the only writer of the connection while it runs. On a hot
// connection (one written to within the coalescing window) it waits out
// the rest of the window first, so that a busy room costs one write per
// window per member instead of one per message; a quiet connection, or
// one with an answer to a request queued, is written at once.
func (q *outQueue) writeLoop() {
	var batch [][]byte
	for {
		q.mu.Lock()
		draining := q.drainCode != 0
		q.mu.Unlock()
		if d := q.sess.srv.opts.CoalesceDelay; d > 0 && !draining {
			if wait := d - time.Since(q.lastWrite); wait > 0 {
				t := time.NewTimer(wait)
				select {
				case <-t.C:
				case <-q.hurry:
				}
				t.Stop()
			}
		}
		q.mu.Lock()
		batch = q.takeLocked(batch[:0])
		if len(batch) == 0 && q.drainCode == 0 && q.linger() {
			q.mu.Unlock()
			continue
		}
		if len(batch) == 0 {
			q.writing = false
			code := q.drainCode
			if code != 0 {
				q.closed = true
			}
			q.mu.Unlock()
			if code != 0 {
				q.sess.close(code, "", drained)
			}
			return
		}
		q.mu.Unlock()
		q.signalSpace()
		q.lastWrite = time.Now()
		q.sess.srv.metrics.framesOut.Add(float64(len(batch)))
		err := q.write(batch)
		// The batch counts against the queue until written: it is memory
		// held for this client as much as the frames still queued.
		q.mu.Lock()
		for _, f := range batch {
			q.bytes -= len(f)
		}
		q.bytes = max(q.bytes, 0) // the queue may have been dropped meanwhile
		if err != nil {
			q.writing = false
		}
		q.mu.Unlock()
		clear(batch)
		q.signalSpace()
		if err != nil {
			q.sess.kill(shared.CloseInternal)
			return
		}
	}
}

// writerLinger is how long an idle writer waits for more frames before it
// exits: a busy connection keeps one goroutine (with its grown stack)
// instead of starting one per frame; an idle one keeps none.
const writerLinger = 2 * time.Second

// linger is called with q.mu held and an empty queue. It waits for a
// frame or for writerLinger and reports whether to go on writing; it
// returns with q.mu held.
func (q *outQueue) linger() bool {
	q.mu.Unlock()
	t := time.NewTimer(writerLinger)
	defer t.Stop()
	select {
	case <-q.wake:
	case <-t.C:
	case <-q.sess.ctx.Done():
	}
	q.mu.Lock()
	return len(q.frames) > 0 || q.drainCode != 0
}

// takeLocked moves queued frames into batch, up to the coalescing bounds.
func (q *outQueue) takeLocked(batch [][]byte) [][]byte {
	size, n := 0, 0
	for n < len(q.frames) && n < maxCoalesce && size < maxCoalesceBytes {
		size += len(q.frames[n])
		n++
	}
	batch = append(batch, q.frames[:n]...)
	clear(q.frames[:n])
	q.frames = q.frames[n:]
	if len(q.frames) == 0 {
		q.frames = nil // let an idle connection hold no buffer
	}
	return batch
}

func (q *outQueue) write(batch [][]byte) error {
	msg := batch[0]
	if len(batch) > 1 {
		msg = shared.EncodeBatch(batch)
	}
	// No context deadline here: coder/websocket would arm a watcher per
	// write. The frame is held in q.out and sent by Release, which sets a
	// deadline on the socket itself.
	q.out.Hold(q.sess.srv.opts.WriteTimeout)
	err := q.sess.conn.Write(context.Background(), websocket.MessageText, msg)
	return errors.Join(err, q.out.Release())
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
