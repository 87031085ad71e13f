package main

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"syscall"
	"time"
)

// httpLimits bound what one HTTP connection may hold before it is a
// WebSocket (net/http clears its deadlines on Hijack; from then on the
// server's ping, write and frame timeouts apply).
type httpLimits struct {
	readHeader     time.Duration
	read           time.Duration
	idle           time.Duration
	maxHeaderBytes int
}

// defaultHTTPLimits: a slowloris gets 10 s for its headers, a trickled
// body 30 s, an idle keep-alive 2 minutes; headers are small in this app
// (no large cookies), 64 KiB leaves room for proxies' additions.
var defaultHTTPLimits = httpLimits{
	readHeader:     10 * time.Second,
	read:           30 * time.Second,
	idle:           2 * time.Minute,
	maxHeaderBytes: 64 << 10,
}

// newHTTPServer returns the http.Server for h with limits; zero fields
// take their defaults.
func newHTTPServer(h http.Handler, l httpLimits) *http.Server {
	d := defaultHTTPLimits
	pick := func(v, def time.Duration) time.Duration {
		if v == 0 {
			return def
		}
		return v
	}
	if l.maxHeaderBytes <= 0 {
		l.maxHeaderBytes = d.maxHeaderBytes
	}
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: pick(l.readHeader, d.readHeader),
		ReadTimeout:       pick(l.read, d.read),
		IdleTimeout:       pick(l.idle, d.idle),
		MaxHeaderBytes:    l.maxHeaderBytes,
	}
}

// serveAux serves h on its own listener (metrics, the HTTPS redirect);
// wrap, when not nil, wraps the listener (the connection cap).
func serveAux(what, addr string, h http.Handler, l httpLimits, wrap func(net.Listener) net.Listener) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("%s listener: %w", what, err)
	}
	slog.Info(what+" listening", "addr", ln.Addr().String())
	ln = &backoffListener{Listener: ln}
	if wrap != nil {
		ln = wrap(ln)
	}
	return newHTTPServer(h, l).Serve(ln)
}

// redirectToHTTPS answers every request with a permanent redirect to the
// same host and path over HTTPS on the port of mainAddr (the TLS listener).
func redirectToHTTPS(mainAddr string) http.Handler {
	_, port, _ := net.SplitHostPort(mainAddr)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host := r.Host
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
		}
		if host == "" {
			http.Error(w, "a Host header is needed to redirect to HTTPS", http.StatusBadRequest)
			return
		}
		if strings.Contains(host, ":") {
			host = "[" + host + "]" // an IPv6 literal
		}
		if port != "" && port != "443" {
			host += ":" + port
		}
		http.Redirect(w, r, "https://"+host+r.URL.RequestURI(), http.StatusPermanentRedirect)
	})
}

// checkLoopback refuses a debug address that would serve pprof (memory
// contents, CPU profiles) beyond this machine. Empty means off.
func checkLoopback(addr string) error {
	if addr == "" {
		return nil
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("-debug-addr %q: %w", addr, err)
	}
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("-debug-addr %q: pprof exposes memory contents and must listen on a loopback address, e.g. 127.0.0.1:6060 or localhost:6060", addr)
}

// backoffListener waits instead of spinning when the process runs out of
// file descriptors (EMFILE, ENFILE): it sleeps with a growing delay and
// logs once per burst, not once per failed accept as net/http would. The
// connection caps keep this rare; other processes or a low limit can
// still cause it.
type backoffListener struct {
	net.Listener
	log *slog.Logger // nil: slog.Default()
}

const (
	acceptBackoffMin = 5 * time.Millisecond
	acceptBackoffMax = time.Second
)

// Accept implements net.Listener.
func (l *backoffListener) Accept() (net.Conn, error) {
	log := l.log
	if log == nil {
		log = slog.Default()
	}
	var (
		delay  time.Duration
		failed int
		since  time.Time
	)
	for {
		c, err := l.Listener.Accept()
		if err == nil {
			if failed > 0 {
				log.Warn("accepting connections again", "failed_accepts", failed, "for", time.Since(since).Round(time.Millisecond))
			}
			return c, nil
		}
		if !errors.Is(err, syscall.EMFILE) && !errors.Is(err, syscall.ENFILE) {
			return nil, err
		}
		if failed == 0 {
			since, delay = time.Now(), acceptBackoffMin
			log.Error("out of file descriptors: backing off accepts", "err", err)
		} else {
			delay = min(2*delay, acceptBackoffMax)
		}
		failed++
		time.Sleep(delay)
	}
}
