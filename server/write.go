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

// enqueue queues a frame without blocking. A full queue means the client
// cannot keep up: it is disconnected with CloseSlowClient and will resume.
func (s *session) enqueue(frame []byte) {
	select {
	case s.out <- frame:
	default:
		s.kill(shared.CloseSlowClient)
	}
}

// enqueueWait queues a frame, waiting for room in the queue: replays use it
// so a large gap is paced by the client instead of overflowing the queue.
func (s *session) enqueueWait(ctx context.Context, frame []byte) error {
	select {
	case s.out <- frame:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// writeLoop is the only writer of the connection. Frames that queued up
// while it was writing go out together as one batch frame.
func (s *session) writeLoop(ctx context.Context) {
	ping := time.NewTicker(s.srv.opts.PingInterval)
	defer ping.Stop()
	batch := make([][]byte, 0, maxCoalesce)
	for {
		select {
		case frame := <-s.out:
			batch = append(batch[:0], frame)
			batch = s.gather(batch)
			if err := s.write(ctx, batch); err != nil {
				s.kill(shared.CloseInternal)
				return
			}
		case code := <-s.drain:
			for {
				batch = s.gather(batch[:0])
				if len(batch) == 0 || s.write(ctx, batch) != nil {
					break
				}
			}
			s.conn.Close(websocket.StatusCode(code), code.Reason())
			return
		case <-ping.C:
			go func() {
				pctx, cancel := context.WithTimeout(ctx, s.srv.opts.WriteTimeout)
				defer cancel()
				if err := s.conn.Ping(pctx); err != nil && ctx.Err() == nil {
					s.kill(shared.CloseGoingAway)
				}
			}()
		case <-ctx.Done():
			return
		}
	}
}

// gather appends every frame already waiting, up to the coalescing bounds.
func (s *session) gather(batch [][]byte) [][]byte {
	size := 0
	for _, f := range batch {
		size += len(f)
	}
	for len(batch) < maxCoalesce && size < maxCoalesceBytes {
		select {
		case f := <-s.out:
			batch = append(batch, f)
			size += len(f)
		default:
			return batch
		}
	}
	return batch
}

func (s *session) write(ctx context.Context, batch [][]byte) error {
	msg := batch[0]
	if len(batch) > 1 {
		msg = shared.EncodeBatch(batch)
	}
	wctx, cancel := context.WithTimeout(ctx, s.srv.opts.WriteTimeout)
	defer cancel()
	return s.conn.Write(wctx, websocket.MessageText, msg)
}
