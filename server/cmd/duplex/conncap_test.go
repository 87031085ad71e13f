package main

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/duplex-chat/duplex/shared"
	"github.com/duplex-chat/duplex/shared/testpoll"
)

// TestBinaryDerivesConnCapFromFileLimit runs the real binary with an
// open-file limit of 1024 (set by the shell that starts it) and opens
// WebSockets, each past hello, until one is refused. The default cap is
// 1024 - 10% - 64 = 858 connections, HTTP ones included: connection 859
// lands in the reserve kept for health checks, where the upgrade gets 503
// with Retry-After, /healthz and /readyz answer, and the page and files
// get 503 with Retry-After too (they would hold descriptors the cap keeps
// free).
func TestBinaryDerivesConnCapFromFileLimit(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the real binary")
	}
	const limit, wantCap = 1024, 1024 - 1024/10 - 64
	tmp := t.TempDir()
	bin := buildBinary(t, tmp)
	addr := "127.0.0.1:" + rcFreePort(t)
	cmd := exec.Command("sh", "-c", fmt.Sprintf(`ulimit -n %d && exec "$0" "$@"`, limit),
		bin, "-addr", addr, "-data", filepath.Join(tmp, "data"), "-web", repoWeb(t))
	startBinary(t, cmd, filepath.Join(tmp, "server.log"))
	base := "http://" + addr
	// Without keep-alive: an idle connection kept by the client would take
	// a slot of the cap.
	once := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: opsWait}
	var lastErr error
	testpoll.Until(t, "the binary to answer /healthz", func() bool {
		resp, err := once.Get(base + "/healthz")
		if lastErr = err; err != nil {
			return false
		}
		resp.Body.Close()
		return true
	}, func() string { return fmt.Sprint(lastErr) })

	start := time.Now()
	held := 0
	for ; held <= wantCap; held++ {
		ctx, cancel := context.WithTimeout(context.Background(), opsWait)
		conn, resp, err := websocket.Dial(ctx, "ws://"+addr+"/ws", &websocket.DialOptions{Subprotocols: []string{shared.Protocol}})
		cancel()
		if err != nil {
			if resp == nil || resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
				t.Fatalf("connection %d: %v (%v), want 503 with Retry-After over the cap", held+1, err, resp)
			}
			break
		}
		defer conn.CloseNow()
		s := &wsSession{t: t, conn: conn}
		s.call(shared.TypeHello, &shared.Hello{Nick: "cap" + strconv.Itoa(held)})
		go func() { // answer pings, drop what the server pushes
			for {
				if _, _, err := conn.Read(context.Background()); err != nil {
					return
				}
			}
		}()
	}
	took := time.Since(start)
	open := scrape(t, base, "duplex_connections")
	if held < wantCap || open > wantCap {
		t.Fatalf("held %d connections, the server counts %v open; want the cap %d", held, open, wantCap)
	}
	var answers []string
	for _, path := range []string{"/healthz", "/readyz", "/", "/web/duplex.css"} {
		t0 := time.Now()
		resp, err := once.Get(base + path)
		if err != nil {
			t.Fatalf("GET %s at the cap: %v", path, err)
		}
		resp.Body.Close()
		want := http.StatusOK
		if path == "/" || strings.HasPrefix(path, "/web/") {
			want = http.StatusServiceUnavailable
		}
		if resp.StatusCode != want || want != http.StatusOK && resp.Header.Get("Retry-After") == "" {
			t.Errorf("GET %s at the cap: %d (Retry-After %q), want %d", path, resp.StatusCode, resp.Header.Get("Retry-After"), want)
		}
		answers = append(answers, fmt.Sprintf("%s %v", path, time.Since(t0).Round(time.Microsecond)))
	}
	t.Logf("RLIMIT_NOFILE %d: held %d WebSockets past hello in %v, the next got 503; process_open_fds %v; at the cap %s",
		limit, held, took.Round(time.Millisecond), scrape(t, base, "process_open_fds"), strings.Join(answers, ", "))
}

// scrape reads one unlabelled sample from the binary's /metrics.
func scrape(t testing.TB, base, name string) float64 {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("%s: %v", sc.Text(), err)
			}
			return f
		}
	}
	t.Fatalf("/metrics has no %s", name)
	return 0
}

// startBinary starts the real binary, its output in logPath, and kills it
// when the test ends.
func startBinary(t *testing.T, cmd *exec.Cmd, logPath string) {
	t.Helper()
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait(); logf.Close() })
}
