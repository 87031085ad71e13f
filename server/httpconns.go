package server

import (
	"errors"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/duplex-chat/duplex/server/internal/sysnet"
)

// HTTP connections (issue #14): every TCP connection accepted through
// Server.Listener counts against Options.MaxConns, the WebSocket it may
// become included, so that downloads and page loads cannot take the file
// descriptors the cap keeps free. Server.WriteDeadlines cuts responses
// whose reader stalls.

// defaultConnReserve is Options.ConnReserve's zero value.
const defaultConnReserve = 32

// reserveLifetime is the longest a connection accepted in the reserve is
// kept: long enough for a health check, too short to hoard.
const reserveLifetime = 5 * time.Second

// defaultHTTPWriteTimeout is Options.HTTPWriteTimeout's zero value.
const defaultHTTPWriteTimeout = 20 * time.Second

// httpWriteChunk is the most a response hands the connection under one
// write deadline: the deadline is renewed before each chunk, so a reader
// must take httpWriteChunk bytes per HTTPWriteTimeout to stay connected.
const httpWriteChunk = 32 << 10

// httpNotsentLowat bounds the unsent bytes the kernel holds for an HTTP
// connection (TCP_NOTSENT_LOWAT, Linux): twice the chunk, so a reader
// that drains half of it wakes the writer for the next chunk. Without it
// a whole app.wasm fits in the kernel buffer of a client that never
// reads, and the handler finishes as if it had been delivered. A
// connection that becomes a WebSocket gets the system default back.
const httpNotsentLowat = 2 * httpWriteChunk

// Listener returns ln wrapped so that every connection it accepts counts
// against Options.MaxConns, together with the WebSockets: a connection
// that upgrades keeps its one slot. Over MaxConns a connection is still
// accepted into a reserve of Options.ConnReserve, where it may not become
// a WebSocket (503) and lives at most 5 s; InReserve tells handlers which
// requests came that way, so they can answer only health checks. Past the
// reserve a connection is closed as soon as it is accepted, so the
// process never runs out of file descriptors. A connection whose write
// deadline expires is reset rather than closed: the kernel drops its
// unsent data at once instead of holding it for a reader that stalled.
// On Linux the kernel holds at most 64 KiB of a response not yet sent
// (TCP_NOTSENT_LOWAT) until the connection becomes a WebSocket.
//
// WebSocket upgrades are matched to their connection by the request's
// RemoteAddr and local address; a middleware that rewrites RemoteAddr (a
// proxy header) makes an upgrade take a second slot.
func (srv *Server) Listener(ln net.Listener) net.Listener {
	return &countedListener{Listener: ln, srv: srv}
}

// InReserve reports whether r came over a connection accepted beyond
// MaxConns (see Listener). Such a request should get only what is cheap:
// a health check, or 503.
func (srv *Server) InReserve(r *http.Request) bool {
	c := srv.countedConnOf(r)
	return c != nil && c.reserve
}

// RefuseHTTP answers r with 503 and Retry-After, closing the connection:
// the answer to a request over the reserve that is not a health check.
func (srv *Server) RefuseHTTP(w http.ResponseWriter, r *http.Request) {
	srv.metrics.refused.WithLabelValues("reserve").Inc()
	w.Header().Set("Retry-After", strconv.Itoa(retryAfterSeconds))
	w.Header().Set("Connection", "close")
	http.Error(w, "duplex server: too many connections; retry later", http.StatusServiceUnavailable)
}

type countedListener struct {
	net.Listener
	srv *Server
}

// Accept implements net.Listener.
func (l *countedListener) Accept() (net.Conn, error) {
	srv := l.srv
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		n := srv.conns.total.Add(1)
		max := int64(srv.opts.MaxConns)
		if max <= 0 { // no cap
			return srv.track(c, false), nil
		}
		if n <= max {
			return srv.track(c, false), nil
		}
		if n <= max+int64(srv.opts.ConnReserve) {
			cc := srv.track(c, true)
			cc.expires = time.Now().Add(reserveLifetime)
			cc.Conn.SetDeadline(cc.expires)
			return cc, nil
		}
		srv.conns.total.Add(-1)
		srv.metrics.refused.WithLabelValues("max_conns_accept").Inc()
		if tc, ok := c.(*net.TCPConn); ok {
			tc.SetLinger(0) // nothing was sent: free it at once
		}
		c.Close()
	}
}

// countedConn is a connection accepted by countedListener.
type countedConn struct {
	net.Conn
	srv     *Server
	key     string
	reserve bool
	expires time.Time // reserve only: every deadline is clamped to it

	timedOut atomic.Bool
	once     sync.Once
}

// connKey names a connection by its two ends, as a request sees them.
func connKey(local net.Addr, remote string) string {
	if local == nil {
		return remote
	}
	return local.String() + "|" + remote
}

func (srv *Server) track(c net.Conn, reserve bool) *countedConn {
	cc := &countedConn{Conn: c, srv: srv, key: connKey(c.LocalAddr(), c.RemoteAddr().String()), reserve: reserve}
	sysnet.SetNotsentLowat(c, httpNotsentLowat)
	srv.conns.mu.Lock()
	if srv.conns.byKey == nil {
		srv.conns.byKey = make(map[string]*countedConn)
	}
	srv.conns.byKey[cc.key] = cc
	srv.conns.mu.Unlock()
	return cc
}

// upgraded gives a connection that becomes a WebSocket the kernel's
// default buffering back: the session has its own queue and write
// timeout, and a large frame (a page of history) must not wait on a
// reader's pace chunk by chunk.
func (c *countedConn) upgraded() { sysnet.SetNotsentLowat(c.Conn, 0) }

// countedConnOf finds the counted connection r came over, or nil.
func (srv *Server) countedConnOf(r *http.Request) *countedConn {
	local, _ := r.Context().Value(http.LocalAddrContextKey).(net.Addr)
	key := connKey(local, r.RemoteAddr)
	srv.conns.mu.Lock()
	defer srv.conns.mu.Unlock()
	return srv.conns.byKey[key]
}

// Write implements net.Conn, noting an expired write deadline.
func (c *countedConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	if err != nil && errors.Is(err, os.ErrDeadlineExceeded) {
		c.timedOut.Store(true)
	}
	return n, err
}

// Close implements net.Conn and frees the slot once.
func (c *countedConn) Close() error {
	c.once.Do(func() {
		if c.timedOut.Load() {
			if tc, ok := c.Conn.(*net.TCPConn); ok {
				tc.SetLinger(0) // reset: drop what the stalled reader never took
			}
		}
		c.srv.conns.mu.Lock()
		if c.srv.conns.byKey[c.key] == c {
			delete(c.srv.conns.byKey, c.key)
		}
		c.srv.conns.mu.Unlock()
		c.srv.conns.total.Add(-1)
	})
	return c.Conn.Close()
}

// CloseWrite half-closes like *net.TCPConn, which net/http uses to let a
// client read an error answer before the connection goes.
func (c *countedConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

// clamp keeps a reserve connection's deadlines within its lifetime.
func (c *countedConn) clamp(t time.Time) time.Time {
	if c.reserve && (t.IsZero() || t.After(c.expires)) {
		return c.expires
	}
	return t
}

func (c *countedConn) SetDeadline(t time.Time) error { return c.Conn.SetDeadline(c.clamp(t)) }
func (c *countedConn) SetReadDeadline(t time.Time) error {
	return c.Conn.SetReadDeadline(c.clamp(t))
}
func (c *countedConn) SetWriteDeadline(t time.Time) error {
	return c.Conn.SetWriteDeadline(c.clamp(t))
}

// WriteDeadlines wraps a handler of plain HTTP responses (pages, files;
// not the WebSocket endpoint) so that a client that stops reading is cut
// while a slow one finishes: the response is written in chunks of 32 KiB,
// each under a write deadline of Options.HTTPWriteTimeout renewed when
// the previous chunk is taken, which amounts to a minimum transfer rate
// of 32 KiB per HTTPWriteTimeout (1.6 KiB/s by default). A response
// stalled past it fails its write and its connection is closed (reset,
// when it came through Listener). While it runs, a response also counts
// against MaxConns (it may hold an open file: a descriptor the cap must
// account for); past MaxConns plus ConnReserve it gets 503.
func (srv *Server) WriteDeadlines(next http.Handler) http.Handler {
	timeout := srv.opts.HTTPWriteTimeout
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The response holds a slot of its own while it runs: it may hold
		// an open file, a second descriptor beside its connection's.
		if !srv.holdSlot() {
			srv.RefuseHTTP(w, r)
			return
		}
		defer srv.conns.total.Add(-1)
		if timeout < 0 {
			next.ServeHTTP(w, r)
			return
		}
		dw := &deadlineWriter{ResponseWriter: w, rc: http.NewResponseController(w), timeout: timeout}
		dw.extend() // also covers a response of headers only
		next.ServeHTTP(dw, r)
	})
}

// holdSlot takes a slot under MaxConns plus the reserve for a response
// in flight, or reports that none is left.
func (srv *Server) holdSlot() bool {
	n := srv.conns.total.Add(1)
	if max := srv.opts.MaxConns; max > 0 && n > int64(max+srv.opts.ConnReserve) {
		srv.conns.total.Add(-1)
		return false
	}
	return true
}

// deadlineWriter is the ResponseWriter of WriteDeadlines.
type deadlineWriter struct {
	http.ResponseWriter
	rc      *http.ResponseController
	timeout time.Duration
}

func (w *deadlineWriter) extend() {
	w.rc.SetWriteDeadline(time.Now().Add(w.timeout)) // ErrNotSupported: nothing to bound
}

func (w *deadlineWriter) WriteHeader(code int) {
	w.extend()
	w.ResponseWriter.WriteHeader(code)
}

func (w *deadlineWriter) Write(p []byte) (int, error) {
	if len(p) == 0 {
		w.extend()
		return w.ResponseWriter.Write(p)
	}
	written := 0
	for len(p) > 0 {
		chunk := p[:min(len(p), httpWriteChunk)]
		w.extend()
		n, err := w.ResponseWriter.Write(chunk)
		written += n
		if err != nil {
			return written, err
		}
		p = p[n:]
	}
	return written, nil
}

// Flush lets handlers that stream flush through the wrapper.
func (w *deadlineWriter) Flush() {
	w.extend()
	w.rc.Flush()
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (w *deadlineWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
