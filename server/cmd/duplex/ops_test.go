package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/duplex-chat/duplex/server/store/sqlite"
	"github.com/duplex-chat/duplex/shared"
)

// opsWait bounds every wait in these tests; they poll, never sleep to
// assert.
const opsWait = 20 * time.Second

// wsSession is a raw duplex.v1 connection past hello.
type wsSession struct {
	t    testing.TB
	conn *websocket.Conn
	n    int
}

func dialHello(t testing.TB, wsURL, nick string) *wsSession {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), opsWait)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, wsURL, &websocket.DialOptions{Subprotocols: []string{shared.Protocol}})
	if err != nil {
		t.Fatalf("dial %s: %v", wsURL, err)
	}
	conn.SetReadLimit(64 << 20)
	t.Cleanup(func() { conn.CloseNow() })
	s := &wsSession{t: t, conn: conn}
	s.call(shared.TypeHello, &shared.Hello{Nick: nick})
	return s
}

// call sends a request and returns its answer, skipping pushed frames.
func (s *wsSession) call(typ shared.Type, payload any) shared.Frame {
	s.t.Helper()
	s.n++
	id := fmt.Sprintf("r-%d", s.n)
	b, err := shared.Encode(typ, id, payload)
	if err != nil {
		s.t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), opsWait)
	defer cancel()
	if err := s.conn.Write(ctx, websocket.MessageText, b); err != nil {
		s.t.Fatalf("write %s: %v", typ, err)
	}
	for {
		_, data, err := s.conn.Read(ctx)
		if err != nil {
			s.t.Fatalf("waiting for the answer to %s: %v", typ, err)
		}
		var answer *shared.Frame
		shared.DecodeAll(data, func(f shared.Frame, err error) {
			if err == nil && f.ID == id {
				answer = &f
			}
		})
		if answer != nil {
			if e, ok := answer.Payload.(*shared.ErrorFrame); ok {
				s.t.Fatalf("%s failed: %s %s", typ, e.Code, e.Message)
			}
			return *answer
		}
	}
}

// waitClosed reads from c until the server closes it; it fails the test
// if that takes longer than opsWait.
func waitClosed(t testing.TB, what string, c net.Conn) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(opsWait))
	_, err := io.Copy(io.Discard, c)
	if errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("%s: still open after %v", what, opsWait)
	}
}

func dialTCP(t testing.TB, addr string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// TestHTTPTimeoutsSpareWebSockets: a slowloris header, a trickled body and
// an idle keep-alive are each cut off by the http.Server limits, while a
// WebSocket that has been idle longer than all of them still works:
// net/http clears its deadlines on Hijack.
func TestHTTPTimeoutsSpareWebSockets(t *testing.T) {
	limits := httpLimits{readHeader: 300 * time.Millisecond, read: 400 * time.Millisecond, idle: 500 * time.Millisecond}
	ta := startAppWith(t, config{http: limits})
	ws := dialHello(t, ta.WS, "patient")

	slow := dialTCP(t, ta.Addr)
	fmt.Fprintf(slow, "GET /healthz HTTP/1.1\r\nHost: x\r\n") // and never the blank line
	trickle := dialTCP(t, ta.Addr)
	fmt.Fprintf(trickle, "GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n0123456789")
	idle := dialTCP(t, ta.Addr)
	fmt.Fprintf(idle, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(idle), nil)
	if err != nil || resp.StatusCode != http.StatusOK || resp.Close {
		t.Fatalf("keep-alive request: %v %v", resp, err)
	}

	waitClosed(t, "a request whose headers never end", slow)
	waitClosed(t, "a request whose body trickles", trickle)
	waitClosed(t, "an idle keep-alive connection", idle)

	// The WebSocket was idle all along: longer than ReadTimeout and
	// IdleTimeout both.
	ws.call(shared.TypeRooms, &shared.Rooms{})
	ws.call(shared.TypeJoin, &shared.Join{Room: "lobby"})
	ws.call(shared.TypeSend, &shared.Send{Room: "lobby", MsgID: "m-1", Body: "still here"})
}

// TestConnCapKeepsHealthz: with the connection cap reached, an upgrade is
// refused with 503 and Retry-After while /healthz and /readyz still
// answer (over the reserve of connections kept for them; the page gets
// 503 with Retry-After there), and the sockets inside keep working.
func TestConnCapKeepsHealthz(t *testing.T) {
	ta := startAppWith(t, config{maxConns: 3})
	var in []*wsSession
	for i := range 3 {
		in = append(in, dialHello(t, ta.WS, fmt.Sprintf("user%d", i)))
	}
	ctx, cancel := context.WithTimeout(context.Background(), opsWait)
	defer cancel()
	conn, resp, err := websocket.Dial(ctx, ta.WS, &websocket.DialOptions{Subprotocols: []string{shared.Protocol}})
	if err == nil {
		conn.CloseNow()
		t.Fatal("a fourth connection was accepted over -max-conns 3")
	}
	if resp == nil || resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("over the cap: %v %v, want 503 with Retry-After", resp, err)
	}
	for path, want := range map[string]int{"/healthz": 200, "/readyz": 200, "/": 503, "/r/lobby": 503} {
		resp, _ := doRequest(t, noRedirect, "GET", ta.URL+path)
		if resp.StatusCode != want || want == 503 && resp.Header.Get("Retry-After") == "" {
			t.Errorf("GET %s at the cap: %d (Retry-After %q), want %d", path, resp.StatusCode, resp.Header.Get("Retry-After"), want)
		}
	}
	in[0].call(shared.TypeJoin, &shared.Join{Room: "lobby"})
	in[0].call(shared.TypeSend, &shared.Send{Room: "lobby", MsgID: "m-1", Body: "inside"})
	_, body := doRequest(t, noRedirect, "GET", ta.URL+"/metrics")
	if !strings.Contains(body, `duplex_connections_refused_total{reason="max_conns"} 1`) {
		t.Errorf("/metrics does not count the refusal:\n%s", grepLines(body, "refused"))
	}
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestMetricsEndpoint: /metrics serves the server's metrics and the Go
// runtime's on the main listener, and only on its own listener when
// -metrics-addr is set.
func TestMetricsEndpoint(t *testing.T) {
	ta := startApp(t, "", "")
	ws := dialHello(t, ta.WS, "counted")
	ws.call(shared.TypeJoin, &shared.Join{Room: "lobby"})
	ws.call(shared.TypeSend, &shared.Send{Room: "lobby", MsgID: "m-1", Body: "one"})
	resp, body := doRequest(t, noRedirect, "GET", ta.URL+"/metrics")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/metrics: %d", resp.StatusCode)
	}
	for _, want := range []string{
		"duplex_connections 1", "duplex_users_online 1", "duplex_rooms 1", "duplex_subscriptions 1",
		"duplex_messages_in_total 1", "duplex_fanout_seconds_count 1", "duplex_commit_batch_size_count",
		"duplex_commit_seconds_bucket", "duplex_queue_bytes", "duplex_frames_out_total",
		"duplex_rate_limited_total 0", "duplex_store_errors_total 0", "go_goroutines", "process_open_fds",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}

	own := startAppWith(t, config{metricsAddr: "127.0.0.1:0"})
	if resp, body := doRequest(t, noRedirect, "GET", own.URL+"/metrics"); resp.StatusCode != http.StatusNotFound || strings.Contains(body, "duplex_") {
		t.Errorf("/metrics on the main listener with -metrics-addr: %d", resp.StatusCode)
	}
	ms := newHTTPServer(own.app.metrics, httpLimits{})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go ms.Serve(ln)
	defer ms.Close()
	if _, body := doRequest(t, noRedirect, "GET", "http://"+ln.Addr().String()+"/metrics"); !strings.Contains(body, "duplex_connections 0") {
		t.Errorf("the metrics listener does not serve the metrics:\n%.300s", body)
	}
}

// mountTmpfs mounts a tmpfs with opts (e.g. "size=64k") over a temporary
// directory: a real read-only or full file system for the tests. It needs
// root; the test skips without it.
func mountTmpfs(t *testing.T, flags uintptr, opts string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("mounting a tmpfs needs root")
	}
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", flags, opts); err != nil {
		t.Skipf("mount tmpfs: %v", err)
	}
	t.Cleanup(func() { syscall.Unmount(dir, syscall.MNT_DETACH) })
	return dir
}

// readOnlyDir is a directory the process cannot write: a read-only mount
// as root (root ignores permissions), a 0555 directory otherwise.
func readOnlyDir(t *testing.T) string {
	t.Helper()
	if os.Geteuid() == 0 {
		return mountTmpfs(t, syscall.MS_RDONLY, "size=64k")
	}
	dir := filepath.Join(t.TempDir(), "ro")
	if err := os.Mkdir(dir, 0o555); err != nil {
		t.Fatal(err)
	}
	return dir
}

// fillDisk writes to dir until the file system is full and returns the
// filler, to remove when the disk should have room again.
func fillDisk(t *testing.T, dir string) string {
	t.Helper()
	name := filepath.Join(dir, "filler")
	f, err := os.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 4096)
	for {
		if _, err := f.Write(buf); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("fill: %v", err)
			}
			return name
		}
	}
}

// TestStartupErrorsNamePathAndCause: opening the store in a read-only
// directory, a file where the directory should be, or on a full disk
// fails with the database path and the cause, not a bare SQLite code.
func TestStartupErrorsNamePathAndCause(t *testing.T) {
	t.Run("read-only directory", func(t *testing.T) {
		dir := readOnlyDir(t)
		_, err := newApp(config{dataDir: dir, webDir: repoWeb(t)})
		checkStartupError(t, err, filepath.Join(dir, sqlite.FileName), "read-only file system", "permission denied")
	})
	t.Run("a file in the way", func(t *testing.T) {
		file := filepath.Join(t.TempDir(), "data")
		os.WriteFile(file, []byte("not a directory"), 0o644)
		_, err := newApp(config{dataDir: file, webDir: repoWeb(t)})
		checkStartupError(t, err, filepath.Join(file, sqlite.FileName), "not a directory")
	})
	t.Run("full disk", func(t *testing.T) {
		dir := mountTmpfs(t, 0, "size=64k")
		fillDisk(t, dir)
		_, err := newApp(config{dataDir: dir, webDir: repoWeb(t)})
		checkStartupError(t, err, filepath.Join(dir, sqlite.FileName), "no space left on device")
	})
}

func checkStartupError(t *testing.T, err error, path string, causes ...string) {
	t.Helper()
	if err == nil {
		t.Fatal("newApp succeeded")
	}
	msg := err.Error()
	t.Logf("start-up error: %s", msg)
	if !strings.HasPrefix(msg, "open SQLite store "+path+": ") {
		t.Errorf("error %q does not start with open SQLite store %s", msg, path)
	}
	for _, c := range causes {
		if strings.Contains(msg, c) {
			return
		}
	}
	t.Errorf("error %q names none of the causes %q", msg, causes)
}

// TestReadyzTellsTheTruth: /readyz is 200 while the store can write, 503
// naming the cause when the disk is full (and /healthz stays 200: the
// process is alive), 200 again once there is room, and 503 during
// shutdown.
func TestReadyzTellsTheTruth(t *testing.T) {
	dir := mountTmpfs(t, 0, "size=4m")
	ta := startApp(t, "", dir)
	ready := func() (int, string) {
		resp, body := doRequest(t, noRedirect, "GET", ta.URL+"/readyz")
		return resp.StatusCode, body
	}
	if code, body := ready(); code != http.StatusOK {
		t.Fatalf("/readyz: %d %s", code, body)
	}
	filler := fillDisk(t, dir)
	code, body := ready()
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "full") {
		t.Errorf("/readyz on a full disk: %d %q, want 503 saying the disk is full", code, body)
	}
	if resp, _ := doRequest(t, noRedirect, "GET", ta.URL+"/healthz"); resp.StatusCode != http.StatusOK {
		t.Errorf("/healthz on a full disk: %d", resp.StatusCode)
	}
	os.Remove(filler)
	if code, body := ready(); code != http.StatusOK {
		t.Errorf("/readyz with room again: %d %s", code, body)
	}
	ta.app.srv.Shutdown(context.Background())
	if code, body := ready(); code != http.StatusServiceUnavailable || !strings.Contains(body, "shutting down") {
		t.Errorf("/readyz while shutting down: %d %q", code, body)
	}
}

// emfileListener hands out n EMFILE errors, then the real listener's
// connections: an error source for the back-off, since exhausting the
// test process's own descriptors would break everything else running.
type emfileListener struct {
	net.Listener
	left atomic.Int32
}

func (l *emfileListener) Accept() (net.Conn, error) {
	if l.left.Add(-1) >= 0 {
		return nil, &net.OpError{Op: "accept", Net: "tcp", Err: os.NewSyscallError("accept4", syscall.EMFILE)}
	}
	return l.Listener.Accept()
}

// TestAcceptBacksOffOnEMFILE: a burst of EMFILE accepts is waited out
// with one log line for the burst and one when accepting works again,
// and the connection behind it is served.
func TestAcceptBacksOffOnEMFILE(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var logs strings.Builder
	el := &emfileListener{Listener: ln}
	el.left.Store(6)
	bl := &backoffListener{Listener: el, log: slog.New(slog.NewTextHandler(&logs, nil))}
	srv := newHTTPServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "served") }), httpLimits{})
	done := make(chan struct{})
	go func() { defer close(done); srv.Serve(bl) }()
	resp, body := doRequest(t, noRedirect, "GET", "http://"+ln.Addr().String()+"/")
	srv.Close()
	<-done
	if resp.StatusCode != http.StatusOK || body != "served" {
		t.Fatalf("after the EMFILE burst: %d %q", resp.StatusCode, body)
	}
	out := logs.String()
	if strings.Count(out, "out of file descriptors") != 1 || strings.Count(out, "accepting connections again") != 1 || !strings.Contains(out, "failed_accepts=6") {
		t.Errorf("want one line for the burst and one for the recovery (6 failed accepts):\n%s", out)
	}
}
