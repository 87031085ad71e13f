package server

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/coder/websocket"
	"github.com/duplex-chat/duplex/shared"
)

// ServeHTTP upgrades the request to a WebSocket and runs the session until
// the connection ends. The origin must be the page's own or match
// Options.OriginPatterns; a client that does not offer the duplex.v1
// subprotocol is closed with CloseBadProtocol and a reason saying so.
func (srv *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	srv.mu.Lock()
	closing := srv.closing
	srv.mu.Unlock()
	if closing {
		http.Error(w, "duplex server is shutting down", http.StatusServiceUnavailable)
		return
	}
	release, refused := srv.admitConn(r)
	if refused != "" {
		srv.refuseConn(w, r, refused)
		return
	}
	handedOver := false
	defer func() {
		if !handedOver {
			release()
		}
	}()
	pre, err := srv.authenticateRequest(r)
	if err != nil {
		srv.log.Info("websocket upgrade not authenticated", "remote", r.RemoteAddr, "err", err)
		http.Error(w, "not authenticated: "+err.Error(), http.StatusUnauthorized)
		return
	}
	out := &frameWriter{}
	hj := leanHijacker{ResponseWriter: w, out: out, frameTimeout: srv.opts.FrameTimeout, onTimeout: srv.metrics.frameTimeout.Inc}
	conn, err := websocket.Accept(hj, r, &websocket.AcceptOptions{
		Subprotocols:    []string{shared.Protocol},
		OriginPatterns:  srv.opts.OriginPatterns,
		CompressionMode: srv.opts.Compression,
	})
	if err != nil {
		srv.log.Info("websocket accept refused", "remote", r.RemoteAddr, "err", err)
		return // Accept has written the HTTP error
	}
	if conn.Subprotocol() != shared.Protocol {
		conn.Close(websocket.StatusCode(shared.CloseBadProtocol),
			"unsupported protocol: offer the WebSocket subprotocol "+shared.Protocol)
		return
	}
	conn.SetReadLimit(readLimit) // text frames: MaxFrameBytes (see readText)

	sess := newSession(srv, conn, out, pre)
	sess.addr = remoteIP(r)
	srv.mu.Lock()
	if srv.closing {
		srv.mu.Unlock()
		conn.Close(websocket.StatusCode(shared.CloseServiceRestart), shared.CloseServiceRestart.Reason())
		return
	}
	srv.sessions[sess] = struct{}{}
	srv.wg.Add(1)
	srv.mu.Unlock()
	handedOver = true

	// The session reads on a goroutine of its own so that net/http's
	// connection goroutine, with its stack and buffers, ends here.
	go func() {
		defer srv.wg.Done()
		defer release()
		sess.run()
		srv.mu.Lock()
		delete(srv.sessions, sess)
		srv.mu.Unlock()
	}()
}

// Buffer sizes of a hijacked connection. net/http hands over 4 KiB each;
// most frames are far smaller, larger ones bypass the buffers, and idle
// connections are the common case, so smaller buffers save memory.
const (
	readBufferSize  = 512
	writeBufferSize = 512
)

// leanHijacker swaps the buffers net/http hands over on Hijack for smaller
// ones, keeping any bytes the client already sent. Writes go through out,
// which the session holds while it writes a frame (see frameWriter). Reads
// go through a frameDeadlineConn when frameTimeout is positive.
type leanHijacker struct {
	http.ResponseWriter
	out          *frameWriter
	frameTimeout time.Duration
	onTimeout    func()
}

func (h leanHijacker) Hijack() (net.Conn, *bufio.ReadWriter, error) {
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
	h.out.conn = conn
	bw := bufio.NewWriterSize(h.out, writeBufferSize)
	pending := bytes.Clone(peekBuffered(brw.Reader))
	// net/http has cleared its deadlines (ReadTimeout and the rest) on
	// Hijack; from here on the only read deadline is the frame deadline.
	if h.frameTimeout > 0 {
		fc := newFrameDeadlineConn(conn, h.frameTimeout, h.onTimeout)
		fc.feed(pending) // read before anything that comes through fc
		conn = fc
		h.out.conn = fc // writes go straight through; closeFlooder stops reads
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
func (h leanHijacker) Unwrap() http.ResponseWriter { return h.ResponseWriter }

// newID returns a random identifier with a prefix, valid as a protocol id.
func newID(prefix string) string {
	var b [9]byte
	rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}
