package wsconn

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"net/http"
	"time"
)

// Buffer sizes of a hijacked connection. net/http hands over 4 KiB each;
// most frames are far smaller, larger ones bypass the buffers, and idle
// connections are the common case, so smaller buffers save memory.
const (
	readBufferSize  = 512
	writeBufferSize = 512
)

// Hijacker swaps the buffers net/http hands over on Hijack for smaller
// ones, keeping any bytes the client already sent. Writes go through Out,
// which the session holds while it writes a frame (see FrameWriter). Reads
// go through a frame deadline when FrameTimeout is positive: a client that
// starts a frame and stalls is cut off after it, and OnTimeout is called.
type Hijacker struct {
	http.ResponseWriter
	Out          *FrameWriter
	FrameTimeout time.Duration
	OnTimeout    func()
}

func (h Hijacker) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	hj, ok := h.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, errors.New("duplex server: the response writer cannot be hijacked")
	}
	conn, brw, err := hj.Hijack()
	if err != nil {
		return nil, nil, err
	}
	// Bytes the client sent right after the handshake may already sit in
	// net/http's buffer. They must stay *buffered* in the new reader:
	// coder/websocket re-reads Buffered() and Resets the reader's source.
	h.Out.conn = conn
	bw := bufio.NewWriterSize(h.Out, writeBufferSize)
	pending := bytes.Clone(peekBuffered(brw.Reader))
	// net/http has cleared its deadlines (ReadTimeout and the rest) on
	// Hijack; from here on the only read deadline is the frame deadline.
	if h.FrameTimeout > 0 {
		fc := newFrameDeadlineConn(conn, h.FrameTimeout, h.OnTimeout)
		fc.feed(pending) // read before anything that comes through fc
		conn = fc
		h.Out.conn = fc // writes go straight through; StopReads stops reads
	}
	if len(pending) == 0 {
		return conn, bufio.NewReadWriter(bufio.NewReaderSize(conn, readBufferSize), bw), nil
	}
	br := bufio.NewReaderSize(io.MultiReader(bytes.NewReader(pending), conn), max(readBufferSize, len(pending)))
	{
		if _, err := br.Peek(len(pending)); err != nil {
			conn.Close()
			return nil, nil, err
		}
	}
	return conn, bufio.NewReadWriter(br, bw), nil
}

func peekBuffered(r *bufio.Reader) []byte {
	b, _ := r.Peek(r.Buffered())
	return b
}

// Unwrap lets http.ResponseController reach the original writer.
func (h Hijacker) Unwrap() http.ResponseWriter { return h.ResponseWriter }
