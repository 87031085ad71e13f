// Command duplex is the Duplex chat server that `make serve` runs: the
// WebSocket endpoint, the go-app front end (prerendered pages and the wasm
// bundle), static files and a health check, on one listener.
//
// It is the composition root: the only package that imports both server/
// and app/ (for the UI routes it prerenders).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	cfg, err := parseConfig(os.Args[1:], os.Getenv)
	if err != nil {
		fmt.Fprintln(os.Stderr, "duplex:", err)
		os.Exit(2)
	}
	if err := run(cfg); err != nil {
		slog.Error("duplex stopped", "err", err)
		os.Exit(1)
	}
}

// config is everything the command line and environment set.
type config struct {
	addr      string
	dataDir   string
	webDir    string
	origins   []string
	tlsCert   string
	tlsKey    string
	memory    bool
	queueSize int
	debugAddr string
	compress  bool
	coalesce  time.Duration

	sessionKey  string // secret for server-issued tokens; empty: data dir file
	jwtKey      string // HMAC secret, PEM public key, or a file holding either
	noAnonymous bool

	maxConns        int           // 0: derived from the open-file limit
	maxConnsPerAddr int           // 0: no per-address cap
	frameTimeout    time.Duration // 0: server default 10s
	http            httpLimits
	metricsAddr     string // own listener for /metrics; empty: on the main one
	redirectAddr    string // HTTP listener redirecting to HTTPS; empty: none
	// flow control and presence (issue #8)
	queueBytes        int
	presenceThreshold int
	presenceInterval  time.Duration
	heartbeat         time.Duration // 0: server default 25s
	limits            limitFlags
	// reactions and prerendered pages (issue #14)
	maxReactionEmoji int          // 0: server default 20
	prerenderBytes   int          // 0: ui default 64 KiB; negative: none
	abuse            abuseFlags   // issue #14: search budget, more rate limits (abuseflags.go)
	uploads          uploadFlags  // images and uploads (issue #14): uploadflags.go
	cluster          clusterFlags // issue #16: clusterflags.go
	// HTTP connections and downloads (issue #14)
	connReserve      int
	httpWriteTimeout time.Duration
}

// limitFlags are the rate-limit and retention flags (see server.Limits).
type limitFlags struct {
	send, join, create, history, rooms float64
	upload                             float64 // bytes per second
	maxCreated                         int
	off                                bool
	retainAge                          time.Duration
	retainCount                        int64
}

func parseConfig(args []string, getenv func(string) string) (config, error) {
	env := func(k, def string) string {
		if v := getenv(k); v != "" {
			return v
		}
		return def
	}
	var c config
	var origins string
	fs := flag.NewFlagSet("duplex", flag.ContinueOnError)
	fs.StringVar(&c.addr, "addr", ":"+env("PORT", "8080"), "listen address (env PORT sets the port)")
	fs.StringVar(&c.dataDir, "data", env("DATA_DIR", "data"), "data directory for the SQLite history (env DATA_DIR)")
	fs.StringVar(&c.webDir, "web", env("WEB_DIR", "web"), "directory of static files and app.wasm (env WEB_DIR)")
	fs.StringVar(&origins, "origins", env("ALLOWED_ORIGINS", ""), "comma-separated extra origins allowed to open sockets, e.g. 'chat.example.com,localhost:*' (env ALLOWED_ORIGINS)")
	fs.StringVar(&c.tlsCert, "tls-cert", env("TLS_CERT", ""), "TLS certificate file; with -tls-key serves HTTPS")
	fs.StringVar(&c.tlsKey, "tls-key", env("TLS_KEY", ""), "TLS key file")
	fs.BoolVar(&c.memory, "memory", false, "keep history in memory only (nothing survives a restart)")
	fs.IntVar(&c.queueSize, "queue", 0, "per-connection outgoing queue, in frames (0: server default)")
	fs.StringVar(&c.debugAddr, "debug-addr", "", "loopback address for pprof and /debug/gc, e.g. 127.0.0.1:6060 (off when empty)")
	fs.BoolVar(&c.compress, "compression", false, "offer permessage-deflate to clients (less bandwidth, more CPU)")
	fs.DurationVar(&c.coalesce, "coalesce", 0, "shortest time between writes to a busy connection (0: server default 10ms; negative: off)")
	fs.StringVar(&c.sessionKey, "session-key", env("SESSION_KEY", ""), "secret that signs the session tokens of anonymous users; processes serving the same users share it; changing it signs everyone out (env SESSION_KEY; default: a key generated into the data directory)")
	fs.StringVar(&c.jwtKey, "jwt-key", env("JWT_KEY", ""), "accept JWTs from your backend: an HMAC secret, a PEM public key (RS256/ES256/EdDSA), or a file holding either (env JWT_KEY)")
	anonymous := fs.Bool("anonymous", env("ANONYMOUS", "true") != "false", "let people without a credential in as new anonymous users (env ANONYMOUS=false turns it off)")
	fs.IntVar(&c.maxConns, "max-conns", 0, "most WebSocket connections; more are refused with 503 (env MAX_CONNS; 0: the open-file limit minus 10% minus 64; negative: no cap)")
	fs.IntVar(&c.maxConnsPerAddr, "max-conns-per-addr", 0, "most WebSocket connections from one IP address (env MAX_CONNS_PER_ADDR; 0: no cap)")
	fs.DurationVar(&c.frameTimeout, "frame-timeout", 0, "time a client has to finish a WebSocket frame it started (0: 10s; negative: none)")
	fs.DurationVar(&c.http.readHeader, "read-header-timeout", defaultHTTPLimits.readHeader, "time to read a request's headers")
	fs.DurationVar(&c.http.read, "read-timeout", defaultHTTPLimits.read, "time to read a whole request, body included (WebSockets are not affected once upgraded)")
	fs.DurationVar(&c.http.idle, "idle-timeout", defaultHTTPLimits.idle, "how long an idle keep-alive connection is kept")
	fs.IntVar(&c.http.maxHeaderBytes, "max-header-bytes", defaultHTTPLimits.maxHeaderBytes, "largest request header block, in bytes")
	fs.StringVar(&c.metricsAddr, "metrics-addr", env("METRICS_ADDR", ""), "serve /metrics on this address instead of the main listener (env METRICS_ADDR)")
	fs.StringVar(&c.redirectAddr, "redirect-addr", env("REDIRECT_ADDR", ""), "with TLS, an HTTP address that redirects to HTTPS, e.g. :80 (env REDIRECT_ADDR)")
	for _, e := range []struct {
		name string
		dst  *int
	}{{"MAX_CONNS", &c.maxConns}, {"MAX_CONNS_PER_ADDR", &c.maxConnsPerAddr}} {
		if v := getenv(e.name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil {
				return c, fmt.Errorf("%s=%q: not a number", e.name, v)
			}
			*e.dst = n // a flag given on the command line overrides it below
		}
	}
	fs.IntVar(&c.queueBytes, "queue-bytes", 0, "per-connection outgoing queue, in bytes; a client that falls this far behind its rooms is closed with 4001 (0: server default 4 MiB)")
	fs.IntVar(&c.presenceThreshold, "presence-threshold", 0, "rooms above this many members send counts, not member lists (0: server default 200)")
	fs.DurationVar(&c.presenceInterval, "presence-interval", 0, "how often a room tells its members who came and went (0: server default 250ms)")
	fs.DurationVar(&c.heartbeat, "heartbeat", 0, "how often clients ping when they have nothing to send, announced in welcome; a client that hears nothing for twice as long reconnects (0: server default 25s; negative: none)")
	fs.Float64Var(&c.limits.send, "rate-send", 0, "sends per second per connection, bursts of twice that (0: default 10/s burst 50; negative: unlimited); users get twice the connection's rate")
	fs.Float64Var(&c.limits.join, "rate-join", 0, "joins per second per connection (0: default 20/s; negative: unlimited)")
	fs.Float64Var(&c.limits.create, "rate-create", 0, "room creations per second per connection (0: default 2/s; negative: unlimited)")
	fs.Float64Var(&c.limits.history, "rate-history", 0, "history requests per second per connection (0: default 10/s; negative: unlimited)")
	fs.Float64Var(&c.limits.rooms, "rate-rooms", 0, "room-list requests per second per connection (0: default 2/s; negative: unlimited)")
	fs.Float64Var(&c.limits.upload, "rate-upload", 0, "uploaded image bytes per second per connection, bursts of at least 5 MiB (0: default 1 MiB/s burst 16 MiB; negative: unlimited)")
	fs.IntVar(&c.limits.maxCreated, "max-created", 0, "rooms one connection may create (0: default 100; negative: no cap)")
	fs.BoolVar(&c.limits.off, "no-limits", false, "turn every rate limit off (benchmarks only)")
	fs.DurationVar(&c.limits.retainAge, "retain-age", 0, "delete messages older than this, e.g. 720h (0: keep forever)")
	fs.Int64Var(&c.limits.retainCount, "retain-count", 0, "keep only this many newest messages per room (0: keep all)")
	fs.IntVar(&c.maxReactionEmoji, "max-reaction-emoji", 0, "most distinct emoji on one message; another is refused with reaction_limit (0: default 20; at most 50)")
	fs.IntVar(&c.prerenderBytes, "prerender-bytes", 0, "most bytes of messages (as JSON) a room's page prerenders, newest first; older ones load over the socket (0: default 64 KiB; negative: none)")
	c.abuse.register(fs)
	c.uploads.register(fs)
	c.cluster.register(fs, env)
	fs.IntVar(&c.connReserve, "conn-reserve", 0, "connections accepted beyond -max-conns for health checks only (/healthz, /readyz, /metrics; others get 503), each kept at most 5s; past it connections are closed on accept (0: 32; negative: none)")
	fs.DurationVar(&c.httpWriteTimeout, "http-write-timeout", 0, "longest a page or file download may wait for the client to take its next 32 KiB; a reader stalled longer is cut (0: 20s, a floor of 1.6 KiB/s; negative: none; WebSockets have their own timeouts)")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	c.noAnonymous = !*anonymous
	if err := checkLoopback(c.debugAddr); err != nil {
		return c, err
	}
	if c.redirectAddr != "" && c.tlsCert == "" {
		return c, errors.New("-redirect-addr redirects to HTTPS: it needs -tls-cert and -tls-key")
	}
	for _, o := range strings.Split(origins, ",") {
		if o = strings.TrimSpace(o); o != "" {
			c.origins = append(c.origins, o)
		}
	}
	if (c.tlsCert == "") != (c.tlsKey == "") {
		return c, errors.New("-tls-cert and -tls-key go together")
	}
	if c.memory && c.cluster.natsURL != "" {
		return c, errors.New("-memory and -nats-url: a cluster node keeps its projection of the log in -data")
	}
	return c, nil
}

func run(cfg config) error {
	raiseFileLimit() // first: the connection cap is derived from it
	a, err := newApp(cfg)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		a.close(context.Background())
		return err
	}
	if cfg.debugAddr != "" {
		go serveDebug(cfg.debugAddr)
	}
	errc := make(chan error, 3)
	if cfg.metricsAddr != "" {
		go func() { errc <- serveAux("metrics", cfg.metricsAddr, a.metrics, cfg.http, nil) }()
	}
	if cfg.redirectAddr != "" {
		go func() {
			errc <- serveAux("HTTPS redirect", cfg.redirectAddr, a.gate(redirectToHTTPS(cfg.addr)), cfg.http, a.srv.Listener)
		}()
	}
	httpSrv := newHTTPServer(a.handler, cfg.http)
	ln = a.srv.Listener(&backoffListener{Listener: ln}) // HTTP connections count against -max-conns
	go func() {
		scheme := "http"
		if cfg.tlsCert != "" {
			scheme = "https"
		}
		slog.Info("duplex listening", "url", scheme+"://"+displayAddr(ln.Addr()), "data", cfg.dataDir)
		if cfg.tlsCert != "" {
			errc <- httpSrv.ServeTLS(ln, cfg.tlsCert, cfg.tlsKey)
			return
		}
		errc <- httpSrv.Serve(ln)
	}()

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	select {
	case err := <-errc:
		a.close(context.Background())
		return err
	case s := <-sig:
		slog.Info("duplex draining", "signal", s.String())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	// Close the sockets first (1012, queues flushed), then stop HTTP.
	a.close(ctx)
	return httpSrv.Shutdown(ctx)
}

func displayAddr(a net.Addr) string {
	s := a.String()
	if strings.HasPrefix(s, "[::]:") || strings.HasPrefix(s, "0.0.0.0:") {
		return "localhost:" + s[strings.LastIndex(s, ":")+1:]
	}
	return s
}
