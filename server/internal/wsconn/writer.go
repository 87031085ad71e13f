package wsconn

import (
	"net"
	"sync"
	"time"
)

// FrameWriter sits under coder/websocket's small bufio.Writer. While the
// session writes a frame it holds the bytes (the header flush, the
// payload) in a pooled buffer and sends them with one write when the frame
// is done: one syscall per frame without a big buffer per idle connection.
// Frames written by other goroutines (pongs, close) while not holding go
// straight through, and those that slip in while holding are sent with it.
// A large payload is not copied: what is held goes first, then the payload.
type FrameWriter struct {
	conn    net.Conn
	mu      sync.Mutex
	holding bool
	timeout time.Duration // for writes while holding
	buf     *[]byte
}

// directWrite is the payload size from which FrameWriter writes through.
const directWrite = 32 << 10

var framePool = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

// Hold starts holding what is written, until Release; the writes it
// makes then are bounded by timeout.
func (w *FrameWriter) Hold(timeout time.Duration) {
	w.mu.Lock()
	w.holding, w.timeout = true, timeout
	w.mu.Unlock()
}

func (w *FrameWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.holding {
		return w.conn.Write(p)
	}
	if len(p) >= directWrite {
		if err := w.flushLocked(); err != nil {
			return 0, err
		}
		w.conn.SetWriteDeadline(time.Now().Add(w.timeout))
		defer w.conn.SetWriteDeadline(time.Time{})
		return w.conn.Write(p)
	}
	if w.buf == nil {
		w.buf = framePool.Get().(*[]byte)
	}
	*w.buf = append(*w.buf, p...)
	return len(p), nil
}

// Release sends what was held, within the timeout, and stops holding.
func (w *FrameWriter) Release() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.holding = false
	return w.flushLocked()
}

func (w *FrameWriter) flushLocked() error {
	if w.buf == nil {
		return nil
	}
	w.conn.SetWriteDeadline(time.Now().Add(w.timeout))
	_, err := w.conn.Write(*w.buf)
	w.conn.SetWriteDeadline(time.Time{})
	if cap(*w.buf) <= 64<<10 {
		*w.buf = (*w.buf)[:0]
		framePool.Put(w.buf)
	}
	w.buf = nil
	return err
}

// StopReads makes every later read of the connection beneath fail at
// once, so that not even a close handshake reads more from the peer
// (writes still go through). The connection is the one Hijack wrapped:
// with a frame deadline its reads stop outright; without one the read
// deadline is moved to now.
func (w *FrameWriter) StopReads() {
	switch c := w.conn.(type) {
	case interface{ stopReads() }: // the frame deadline's conn
		c.stopReads()
	case nil:
	default: // no frame deadline: nothing moves the read deadline
		c.SetReadDeadline(time.Now())
	}
}
