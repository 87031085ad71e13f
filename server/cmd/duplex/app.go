package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/coder/websocket"
	"github.com/duplex-chat/duplex/app/ui"
	"github.com/duplex-chat/duplex/server"
	"github.com/duplex-chat/duplex/server/broker"
	"github.com/duplex-chat/duplex/server/cluster"
	"github.com/duplex-chat/duplex/server/files"
	"github.com/duplex-chat/duplex/server/store"
	"github.com/duplex-chat/duplex/server/store/sqlite"
	"github.com/duplex-chat/duplex/shared"
	"github.com/maxence-charriere/go-app/v10/pkg/app"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// duplexApp is the wired server: the handler to serve and what to close.
type duplexApp struct {
	handler http.Handler
	metrics http.Handler // /metrics; on handler too unless cfg.metricsAddr is set
	srv     *server.Server
	store   store.Store
	// wasmVersion is app.wasm's content hash, go-app's version: a new
	// build makes open tabs offer a reload.
	wasmVersion string
	tempFiles   string // the images of a -memory server, removed on close
}

func newApp(cfg config) (*duplexApp, error) {
	var st store.Store = store.NewMemory()
	var bro broker.Broker // nil: in-process
	var peers server.Peers
	if !cfg.memory {
		open := sqlite.Open
		if cfg.cluster.natsURL != "" {
			open = sqlite.OpenProjection // the log is the durable copy
		}
		s, err := open(cfg.dataDir)
		if err != nil {
			return nil, err
		}
		st = s
		if cfg.cluster.natsURL != "" {
			node, err := cfg.cluster.open(s)
			if err != nil {
				s.Close()
				return nil, err
			}
			st, bro, peers = node, node.Broker(), node
		}
	}
	ids, err := newIdentities(cfg)
	if err != nil {
		st.Close()
		return nil, err
	}
	fstore, filesDir, err := openFiles(cfg, st)
	if err != nil {
		st.Close()
		return nil, err
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if node, ok := st.(*cluster.Node); ok {
		reg.MustRegister(node.Collectors()...)
	}
	opts := &server.Options{
		Store: st, Broker: bro, Peers: peers, OriginPatterns: cfg.origins, QueueSize: cfg.queueSize, CoalesceDelay: cfg.coalesce,
		SessionKey: ids.key, VerifyToken: ids.verifyJWT, NoAnonymous: cfg.noAnonymous, Authorize: authorize,
		MaxConns: cfg.maxConns, MaxConnsPerAddr: cfg.maxConnsPerAddr, FrameTimeout: cfg.frameTimeout,
		Metrics: reg, Files: fstore,
		Limits: cfg.limits.server(), RetainAge: cfg.limits.retainAge, RetainCount: cfg.limits.retainCount,
	}
	opts.QueueBytes, opts.PresenceThreshold, opts.PresenceInterval = cfg.queueBytes, cfg.presenceThreshold, cfg.presenceInterval
	opts.Heartbeat = cfg.heartbeat
	opts.MaxReactionEmoji = cfg.maxReactionEmoji
	cfg.abuse.apply(opts, cfg.limits.off)
	cfg.uploads.apply(opts)
	opts.ConnReserve, opts.HTTPWriteTimeout = cfg.connReserve, cfg.httpWriteTimeout
	if cfg.compress {
		opts.Compression = websocket.CompressionContextTakeover
	}
	srv, err := server.New(opts)
	if err != nil {
		st.Close()
		return nil, err
	}
	ids.srv = srv // cookies are checked against sign-outs too
	ui.Routes()
	ui.SetHistorySource(storeHistory{st})
	ui.SetPrerenderBudget(cfg.prerenderBytes)
	wasm := newWasmFiles(cfg.webDir)
	metrics := promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorLog: slog.NewLogLogger(slog.Default().Handler(), slog.LevelWarn)})
	// Every route answers GET (and HEAD) only: the mux answers other
	// methods (TRACE, PUT, POST...) with 405 and an Allow header.
	mux := http.NewServeMux()
	mux.Handle("GET /ws", srv)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, "ok\n")
	})
	mux.HandleFunc("GET /readyz", readyz(srv))
	mux.HandleFunc("GET /signed-out", clearSiteCache) // identity.go: sign-out empties the browser's HTTP cache
	if cfg.metricsAddr == "" {
		mux.Handle("GET /metrics", metrics)
	} else {
		mux.Handle("GET /metrics", http.NotFoundHandler()) // not the page: it is served elsewhere
	}
	// Downloads and pages are cut when their reader stalls (issue #14).
	mux.Handle("GET /web/", srv.WriteDeadlines(staticHandler(cfg.webDir, wasm)))
	mux.Handle("GET /files/", srv.WriteDeadlines(files.Handler("/files/", fstore, func(r *http.Request, info files.Info) bool {
		return allowedToRead(r, st, ids, info.Room)
	})))
	mux.Handle("GET /", srv.WriteDeadlines(pages(privatePages(st, ids, freshPages(&app.Handler{
		Name:            "Duplex",
		ShortName:       "Duplex",
		Title:           "Duplex chat",
		Description:     "Real-time chat over one typed WebSocket protocol",
		LoadingLabel:    "Loading… {progress}%",
		Lang:            "en",
		BackgroundColor: "#0f172a",
		ThemeColor:      "#0f172a",
		Icon: app.Icon{
			Default:  "/web/icon-192.png",
			Large:    "/web/icon-512.png",
			Maskable: "/web/icon-512.png", // go-app declares the maskable icon 512x512
			SVG:      "/web/icon.svg",
		},
		Image:                 "/web/icon-512.png",
		Styles:                []string{"/web/duplex.css"},
		Scripts:               []string{"/web/duplex.js"}, // early sign-in and synchronous defaults
		Version:               wasm.version,
		WasmContentLength:     wasm.rawLength,
		ServiceWorkerTemplate: offlineAppWorker,
	})))))
	return &duplexApp{handler: securityHeaders(reserveGate(srv, mux)), metrics: metrics, srv: srv, store: st, wasmVersion: wasm.version, tempFiles: filesDir}, nil
}

// openFiles opens the store of uploaded images: DATA_DIR/files, or with
// -memory a temporary directory removed on close (nothing of a memory
// server survives it), or on a cluster node (-nats-url) JetStream, where
// every node finds what any node stored (cluster.Files). tempDir is the
// temporary directory, or "".
func openFiles(cfg config, st store.Store) (_ files.Store, tempDir string, err error) {
	if node, ok := st.(*cluster.Node); ok {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		f, err := node.Files(ctx)
		return f, "", err
	}
	dir := filepath.Join(cfg.dataDir, "files")
	if cfg.memory {
		if dir, err = os.MkdirTemp("", "duplex-files-*"); err != nil {
			return nil, "", err
		}
		tempDir = dir
	}
	d, err := files.OpenDir(dir)
	return d, tempDir, err
}

// readyz answers 200 while the server takes clients and its store can
// write, else 503 with the reason (shutting down, disk full, read-only).
func readyz(srv *server.Server) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
		defer cancel()
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		if err := srv.Ready(ctx); err != nil {
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintf(w, "not ready: %v\n", err)
			return
		}
		io.WriteString(w, "ready\n")
	}
}

// close drains the sockets, then closes the store.
func (a *duplexApp) close(ctx context.Context) {
	if err := a.srv.Shutdown(ctx); err != nil {
		slog.Warn("shutdown", "err", err)
	}
	a.store.Close()
	if a.tempFiles != "" {
		os.RemoveAll(a.tempFiles)
	}
}

// storeHistory lets the UI prerender a room's latest messages.
type storeHistory struct{ st store.Store }

func (h storeHistory) Recent(ctx context.Context, room string, n int) ([]shared.Message, error) {
	return h.st.Before(ctx, room, 0, n)
}

// freshPages makes go-app render pages anew on every visit: its ETag only
// tracks the app version, but a prerendered room page carries messages.
func freshPages(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p := r.URL.Path; p == "/" || strings.HasPrefix(p, "/r/") {
			r.Header.Del("If-None-Match")
		}
		next.ServeHTTP(w, r)
	})
}

// offlineAppWorker is go-app's service worker with page navigations made
// network-first: go-app serves every cached file cache-first, and it caches
// "/", so "/" would keep showing the messages prerendered when the worker
// was installed. A navigation the network cannot answer (the server is
// down) gets the cached app shell "/" instead of a browser error page, so
// the outbox and cached history kept in localStorage still show; go-app
// caches "/" but not /r/{room}. Other requests stay cache-first.
var offlineAppWorker = strings.Replace(app.DefaultAppWorkerJS,
	"async function fetchWithCache(request) {\n",
	`async function fetchWithCache(request) {
  if (request.mode === "navigate") {
    try {
      return await fetch(request);
    } catch (err) {
      const shell = await caches.match("/");
      if (shell) {
        return shell;
      }
      throw err;
    }
  }
`, 1)

// contentSecurityPolicy lets the page load its own scripts, styles,
// images and the service worker, compile the wasm ('wasm-unsafe-eval',
// which allows WebAssembly compilation but not JavaScript eval), and open
// its WebSocket to its own origin ('self' covers ws: and wss: to it).
// Nothing inline is allowed: go-app's page has no inline script or style
// (TestPageHasNothingInline checks that), so no hashes are needed.
const contentSecurityPolicy = "default-src 'self'; " +
	"script-src 'self' 'wasm-unsafe-eval'; " +
	"style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
	"worker-src 'self'; manifest-src 'self'; object-src 'none'; " +
	"base-uri 'self'; form-action 'self'; frame-ancestors 'none'"

// securityHeaders sets headers every response should carry; HSTS only
// over TLS (a browser ignores it over plain HTTP, and a local `make serve`
// must not pin localhost to HTTPS).
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		if r.TLS != nil {
			h.Set("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
		}
		next.ServeHTTP(w, r)
	})
}

// wasmFiles describes web/app.wasm as found at start-up.
type wasmFiles struct {
	version   string // content hash: the go-app version and the ETag
	rawLength string // uncompressed size, for go-app's progress bar
}

func newWasmFiles(dir string) wasmFiles {
	f, err := os.Open(filepath.Join(dir, "app.wasm"))
	if err != nil {
		slog.Warn("no app.wasm: run `make wasm`", "dir", dir)
		return wasmFiles{version: "dev"}
	}
	defer f.Close()
	h := sha256.New()
	n, _ := io.Copy(h, f)
	return wasmFiles{version: hex.EncodeToString(h.Sum(nil))[:16], rawLength: strconv.FormatInt(n, 10)}
}

// server turns the flags into server.Limits: a flag's rate applies per
// connection, and twice it per user.
func (f limitFlags) server() server.Limits {
	if f.off {
		return server.NoLimits()
	}
	var l server.Limits
	conn := []*server.Rate{&l.Conn.Send, &l.Conn.Join, &l.Conn.Create, &l.Conn.History, &l.Conn.Rooms, &l.Conn.Upload}
	user := []*server.Rate{&l.User.Send, &l.User.Join, &l.User.Create, &l.User.History, &l.User.Rooms, &l.User.Upload}
	for i, v := range []float64{f.send, f.join, f.create, f.history, f.rooms, f.upload} {
		switch {
		case v < 0:
			*conn[i], *user[i] = server.Unlimited, server.Unlimited
		case v > 0:
			*conn[i] = server.Rate{PerSecond: v}
			*user[i] = server.Rate{PerSecond: 2 * v}
		}
	}
	l.MaxCreated = f.maxCreated
	return l
}
