package wsconn

import (
	"errors"
	"net"
	"os"
	"sync/atomic"
	"time"
)

// frameDeadlineConn is the net.Conn a hijacked connection is read through.
// It follows the WebSocket frame boundaries in the byte stream (headers
// only: payloads are skipped by length) and, while a frame is partly
// received, arms a read deadline so that a client that starts a frame and
// stalls is cut off after a timeout. Between frames there is no
// deadline: idle connections are the ping loop's business.
//
// The budget counts only time spent waiting in Read, so a server busy
// elsewhere (a slow store query between two frames the client pipelined)
// does not use up the client's time.
type frameDeadlineConn struct {
	net.Conn
	timeout   time.Duration
	onTimeout func()

	hdr   [14]byte // header bytes of the current frame seen so far
	nhdr  int
	left  uint64        // payload bytes of the current frame still to come
	spent time.Duration // time waited in Read inside the current frame
	armed bool          // a read deadline is set

	stopped atomic.Bool // every Read fails at once; see stopReads
}

// stopReads makes every later Read fail at once (FrameWriter.StopReads): nothing
// more is read from a flooder, not even by the close handshake.
func (c *frameDeadlineConn) stopReads() { c.stopped.Store(true) }

func newFrameDeadlineConn(c net.Conn, timeout time.Duration, onTimeout func()) *frameDeadlineConn {
	return &frameDeadlineConn{Conn: c, timeout: timeout, onTimeout: onTimeout}
}

// Read reads from the connection, within the frame budget when a frame is
// partly received. coder/websocket reads from a single goroutine.
func (c *frameDeadlineConn) Read(p []byte) (int, error) {
	if c.stopped.Load() {
		return 0, net.ErrClosed
	}
	if !c.inFrame() {
		if c.armed {
			c.armed = false
			c.Conn.SetReadDeadline(time.Time{})
		}
		n, err := c.Conn.Read(p)
		c.feed(p[:n])
		return n, err
	}
	start := time.Now()
	c.armed = true
	c.Conn.SetReadDeadline(start.Add(max(c.timeout-c.spent, 0)))
	n, err := c.Conn.Read(p)
	c.spent += time.Since(start)
	c.feed(p[:n])
	if err != nil && errors.Is(err, os.ErrDeadlineExceeded) && c.onTimeout != nil {
		c.onTimeout()
	}
	return n, err
}

// inFrame reports whether the stream stopped inside a frame.
func (c *frameDeadlineConn) inFrame() bool { return c.nhdr > 0 || c.left > 0 }

// feed advances the frame tracking over bytes the reader will consume.
func (c *frameDeadlineConn) feed(p []byte) {
	for len(p) > 0 {
		if c.left > 0 {
			k := uint64(len(p))
			if k > c.left {
				k = c.left
			}
			c.left -= k
			p = p[k:]
			if c.left == 0 {
				c.spent = 0 // the frame is done; the next one gets a full budget
			}
			continue
		}
		c.hdr[c.nhdr] = p[0]
		c.nhdr++
		p = p[1:]
		if c.nhdr < 2 || c.nhdr < headerLen(c.hdr[1]) {
			continue
		}
		c.left = payloadLen(c.hdr[:c.nhdr])
		c.nhdr = 0
		if c.left == 0 {
			c.spent = 0
		}
	}
}

// headerLen is the length of a frame header whose second byte is b1
// (RFC 6455 section 5.2): 2 bytes, an extended length of 2 or 8, a mask
// key of 4 when the mask bit is set.
func headerLen(b1 byte) int {
	n := 2
	switch b1 & 0x7f {
	case 126:
		n += 2
	case 127:
		n += 8
	}
	if b1&0x80 != 0 {
		n += 4
	}
	return n
}

func payloadLen(h []byte) uint64 {
	switch n := h[1] & 0x7f; n {
	case 126:
		return uint64(h[2])<<8 | uint64(h[3])
	case 127:
		var v uint64
		for _, b := range h[2:10] {
			v = v<<8 | uint64(b)
		}
		return v
	default:
		return uint64(n)
	}
}
