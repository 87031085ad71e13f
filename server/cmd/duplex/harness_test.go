package main

import (
	"context"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/duplex-chat/duplex/shared/testpoll"
)

// repoWeb is the repository's web/ directory (with the built app.wasm).
func repoWeb(t testing.TB) string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "..", "web")
}

// testApp is the real duplex handler on a loopback listener.
type testApp struct {
	URL   string // http://127.0.0.1:port
	WS    string // ws://127.0.0.1:port/ws
	Addr  string
	Data  string
	app   *duplexApp
	http  *http.Server
	ln    net.Listener
	alive bool
}

// startApp runs newApp on 127.0.0.1. addr "" picks a free port; pass a
// previous Addr and Data to restart "the same" server.
func startApp(t testing.TB, addr, data string) *testApp {
	t.Helper()
	// Limits off: the recovery tests flood on purpose; limits_test.go
	// tests the limits.
	return startAppWith(t, config{addr: addr, dataDir: data, limits: limitFlags{off: true}})
}

// startAppWith is startApp with more of the configuration set.
func startAppWith(t testing.TB, cfg config) *testApp {
	t.Helper()
	if cfg.dataDir == "" {
		cfg.dataDir = t.TempDir()
	}
	if cfg.addr == "" {
		cfg.addr = "127.0.0.1:0"
	}
	if cfg.webDir == "" {
		cfg.webDir = repoWeb(t)
	}
	addr, data := cfg.addr, cfg.dataDir
	a, err := newApp(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var ln net.Listener
	testpoll.Until(t, "listen on "+addr, func() bool { // a just-closed port may linger briefly
		ln, err = net.Listen("tcp", addr)
		return err == nil
	}, func() string { return err.Error() })
	ta := &testApp{Addr: ln.Addr().String(), Data: data, app: a, ln: ln, alive: true}
	ta.URL = "http://" + ta.Addr
	ta.WS = "ws://" + ta.Addr + "/ws"
	ta.http = newHTTPServer(a.handler, cfg.http)
	go ta.http.Serve(a.srv.Listener(&backoffListener{Listener: ln})) // as run does
	t.Cleanup(ta.Stop)
	return ta
}

// Stop drains like SIGTERM does: sockets closed with 1012, store closed.
func (ta *testApp) Stop() {
	if !ta.alive {
		return
	}
	ta.alive = false
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ta.app.close(ctx)
	ta.http.Shutdown(ctx)
	ta.http.Close()
}

// wasmBuilt reports whether web/app.wasm exists (make test builds it).
func wasmBuilt(t testing.TB) bool {
	_, err := os.Stat(filepath.Join(repoWeb(t), "app.wasm"))
	return err == nil
}
