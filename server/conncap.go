package server

import (
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/duplex-chat/duplex/server/internal/sysnet"
)

// connCounter counts open connections, in total and per remote IP, for
// Options.MaxConns and Options.MaxConnsPerAddr.
type connCounter struct {
	// total counts what MaxConns caps: the connections accepted through
	// Server.Listener, the WebSockets that came another way, and the
	// responses in flight through Server.WriteDeadlines.
	total   atomic.Int64
	sockets atomic.Int64 // open WebSockets (the duplex_connections gauge)
	mu      sync.Mutex
	perAddr map[string]int
	byKey   map[string]*countedConn // connections accepted through Listener
}

// retryAfterSeconds is the Retry-After a refused upgrade carries: long
// enough for a burst to pass, short enough that users barely notice.
const retryAfterSeconds = 5

// admitConn reserves a connection slot for r. It returns a release func to
// call when the connection ends, or the reason it was refused.
func (srv *Server) admitConn(r *http.Request) (release func(), refused string) {
	c := &srv.conns
	// A connection accepted through Listener already holds its slot; one
	// accepted in the reserve may not become a WebSocket.
	counted := srv.countedConnOf(r)
	if counted != nil && counted.reserve {
		return nil, "max_conns"
	}
	if counted == nil {
		if n := c.total.Add(1); srv.opts.MaxConns > 0 && n > int64(srv.opts.MaxConns) {
			c.total.Add(-1)
			return nil, "max_conns"
		}
	}
	untotal := func() {
		if counted == nil {
			c.total.Add(-1)
		}
	}
	ip := remoteIP(r)
	if max := srv.opts.MaxConnsPerAddr; max > 0 {
		c.mu.Lock()
		if c.perAddr == nil {
			c.perAddr = make(map[string]int)
		}
		if c.perAddr[ip] >= max {
			c.mu.Unlock()
			untotal()
			return nil, "max_conns_per_addr"
		}
		c.perAddr[ip]++
		c.mu.Unlock()
	}
	c.sockets.Add(1)
	if counted != nil {
		counted.upgraded()
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			c.sockets.Add(-1)
			untotal()
			if srv.opts.MaxConnsPerAddr > 0 {
				c.mu.Lock()
				if c.perAddr[ip]--; c.perAddr[ip] <= 0 {
					delete(c.perAddr, ip) // an address that leaves costs nothing
				}
				c.mu.Unlock()
			}
		})
	}, ""
}

// refuseConn answers an upgrade over a cap: 503 with Retry-After, before any
// WebSocket state exists. Browsers report it as close 1006 and reconnect
// with backoff; other clients see the status and the header.
func (srv *Server) refuseConn(w http.ResponseWriter, r *http.Request, reason string) {
	srv.metrics.refused.WithLabelValues(reason).Inc()
	w.Header().Set("Retry-After", strconv.Itoa(retryAfterSeconds))
	msg := "duplex server: too many connections; retry later"
	if reason == "max_conns_per_addr" {
		msg = "duplex server: too many connections from your address; retry later"
	}
	http.Error(w, msg, http.StatusServiceUnavailable)
}

// remoteIP is the IP of the peer; behind a proxy, the proxy's.
func remoteIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// defaultMaxConns derives Options.MaxConns from the soft open-file limit,
// leaving 10% and 64 descriptors for the store, the listeners, health
// checks and page loads. It returns -1 (no cap) when the limit is unknown
// or unlimited.
func defaultMaxConns() int {
	limit, ok := sysnet.OpenFileLimit()
	if !ok {
		return -1
	}
	return max(limit-limit/10-64, 16)
}
