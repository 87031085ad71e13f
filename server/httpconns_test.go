package server_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/duplex-chat/duplex/server"
	"github.com/prometheus/client_golang/prometheus"
)

// httpTestServer serves, through Server.Listener as the duplex binary
// does: /ws (the WebSocket), /big (a file of bigSize bytes) and /small
// wrapped by WriteDeadlines, /healthz, and the binary's reserve policy
// (only /healthz over a reserve connection).
type httpTestServer struct {
	srv  *server.Server
	reg  *prometheus.Registry
	addr string // host:port
}

const bigSize = 16 << 20 // more than any kernel buffer of this host holds

func startHTTPServer(t *testing.T, opts server.Options) *httpTestServer {
	t.Helper()
	opts.Logger = testLogger()
	opts.Limits = server.NoLimits()
	reg := prometheus.NewRegistry()
	opts.Metrics = reg
	srv, err := server.New(&opts)
	if err != nil {
		t.Fatal(err)
	}
	big := bytes.Repeat([]byte("duplex "), bigSize/7+1)[:bigSize]
	mux := http.NewServeMux()
	mux.Handle("GET /ws", srv)
	mux.Handle("GET /big", srv.WriteDeadlines(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.ServeContent(w, r, "big.bin", time.Time{}, bytes.NewReader(big))
	})))
	mux.Handle("GET /small", srv.WriteDeadlines(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "small\n")
	})))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok\n") })
	gated := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/healthz" && r.URL.Path != "/ws" && srv.InReserve(r) {
			srv.RefuseHTTP(w, r)
			return
		}
		mux.ServeHTTP(w, r)
	})
	hs := httptest.NewUnstartedServer(gated)
	hs.Listener = srv.Listener(hs.Listener)
	hs.Start()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
		defer cancel()
		srv.Shutdown(ctx)
		hs.Close()
	})
	return &httpTestServer{srv: srv, reg: reg, addr: hs.Listener.Addr().String()}
}

// stalledGet opens a connection whose receive buffer is a few KiB, asks
// for path and reads nothing.
func stalledGet(t *testing.T, addr, path string) net.Conn {
	t.Helper()
	d := net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
		return c.Control(func(fd uintptr) { syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) })
	}}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: %s\r\n\r\n", path, addr)
	return c
}

// TestStalledDownloadIsCut: a client that asks for a large file and never
// reads it is cut once HTTPWriteTimeout passes without it taking the next
// chunk: its slot under MaxConns is freed, and what it finally reads is a
// truncated body ending in a reset, not the file. Without the deadline the
// handler blocks for good (tried: HTTPWriteTimeout -1 keeps the slot
// taken; see TestWriteDeadlinesOff).
func TestStalledDownloadIsCut(t *testing.T) {
	ts := startHTTPServer(t, server.Options{HTTPWriteTimeout: 500 * time.Millisecond})
	c := stalledGet(t, ts.addr, "/big")
	waitMetric(t, ts.reg, "duplex_conns_counted", 2) // the connection and its response in flight
	waitMetric(t, ts.reg, "duplex_conns_counted", 0) // both let go
	c.SetReadDeadline(time.Now().Add(waitTimeout))
	n, err := io.Copy(io.Discard, c)
	if n >= bigSize {
		t.Fatalf("read %d bytes, the whole file: the download was not cut", n)
	}
	if err == nil {
		t.Logf("read %d bytes, then EOF", n)
	} else if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatalf("read %d bytes, then the connection stayed open (%v): the server let go of its slot but not of the connection", n, err)
	}
}

// TestWriteDeadlinesOff is the control of TestStalledDownloadIsCut: with
// HTTPWriteTimeout negative the stalled download keeps its connection
// (which is why the default is not negative).
func TestWriteDeadlinesOff(t *testing.T) {
	ts := startHTTPServer(t, server.Options{HTTPWriteTimeout: -1})
	stalledGet(t, ts.addr, "/big")
	waitMetric(t, ts.reg, "duplex_conns_counted", 2)
	time.Sleep(2 * time.Second) // four times the timeout TestStalledDownloadIsCut uses
	if n := metricValue(t, ts.reg, "duplex_conns_counted"); n != 2 {
		t.Fatalf("duplex_conns_counted = %v with write deadlines off, want the stalled download still held", n)
	}
}

// TestSlowReaderCompletes: a client that reads steadily but slowly, over
// a small receive buffer, gets the whole file although the transfer lasts
// many times HTTPWriteTimeout: the deadline is renewed with each chunk
// taken, it bounds a stall, not the response.
func TestSlowReaderCompletes(t *testing.T) {
	const timeout = 400 * time.Millisecond
	const rate = 256 << 10 // bytes a second
	const want = 1 << 20   // read the first MiB of /big with a range
	ts := startHTTPServer(t, server.Options{HTTPWriteTimeout: timeout})
	d := net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
		return c.Control(func(fd uintptr) { syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 16<<10) })
	}}
	c, err := d.Dial("tcp", ts.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "GET /big HTTP/1.1\r\nHost: %s\r\nRange: bytes=0-%d\r\n\r\n", ts.addr, want-1)
	c.SetReadDeadline(time.Now().Add(2 * time.Minute))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	buf := make([]byte, 8<<10)
	var got int
	for {
		if due := start.Add(time.Duration(got) * time.Second / rate); time.Until(due) > 0 {
			time.Sleep(time.Until(due))
		}
		n, err := resp.Body.Read(buf)
		got += n
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("after %d of %d bytes in %v: %v (the slow reader was cut)", got, want, time.Since(start), err)
		}
	}
	took := time.Since(start)
	if got != want {
		t.Fatalf("read %d bytes, want %d", got, want)
	}
	if took < 4*timeout {
		t.Fatalf("the transfer took %v, not several times the %v timeout: the test proves nothing", took, timeout)
	}
	t.Logf("%d bytes at %d KiB/s in %v with a %v write timeout", got, rate>>10, took.Round(time.Millisecond), timeout)
}

// TestWebSocketOutlivesHTTPWriteTimeout: a connection that first fetched
// a page through WriteDeadlines (so its write deadline was set) and then
// became a WebSocket keeps working long after that deadline, and keeps
// its one slot under MaxConns.
func TestWebSocketOutlivesHTTPWriteTimeout(t *testing.T) {
	const timeout = 300 * time.Millisecond
	ts := startHTTPServer(t, server.Options{HTTPWriteTimeout: timeout})
	// The page first, on a connection of our own...
	raw, err := net.Dial("tcp", ts.addr)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(raw, "GET /small HTTP/1.1\r\nHost: %s\r\n\r\n", ts.addr)
	raw.SetReadDeadline(time.Now().Add(waitTimeout))
	resp, err := http.ReadResponse(bufio.NewReader(raw), nil)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := io.ReadAll(resp.Body); string(b) != "small\n" || resp.Close {
		t.Fatalf("page: %q, close %v", b, resp.Close)
	}
	raw.SetReadDeadline(time.Time{})
	// ...then the WebSocket over the same connection.
	var dials atomic.Int64
	opts := dialOpts()
	opts.HTTPClient = &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			if dials.Add(1) > 1 {
				return nil, fmt.Errorf("a second connection")
			}
			return raw, nil
		},
	}}
	ctx, cancel := contextWithTimeout()
	defer cancel()
	conn, _, err := websocket.Dial(ctx, "ws://"+ts.addr+"/ws", opts)
	if err != nil {
		t.Fatal(err)
	}
	ann := newClient(t, conn, "ann")
	ann.hello(t, "Ann")
	ann.join(t, "lobby", nil)
	waitMetric(t, ts.reg, "duplex_conns_counted", 1)
	waitMetric(t, ts.reg, "duplex_connections", 1)
	time.Sleep(5 * timeout) // well past any deadline the page left
	bob := dial(t, "ws://"+ts.addr+"/ws", "bob")
	bob.hello(t, "Bob")
	bob.join(t, "lobby", nil)
	ack := bob.sendMsg(t, "lobby", "m-1", "still there?")
	ann.waitSeq(t, "lobby", ack.Seq) // a server write to Ann, past the deadline
	ack = ann.sendMsg(t, "lobby", "m-2", "yes")
	bob.waitSeq(t, "lobby", ack.Seq)
	waitMetric(t, ts.reg, "duplex_conns_counted", 2) // one slot each
}

// TestListenerCountsHTTPConnections: MaxConns counts plain HTTP
// connections with the WebSockets. With MaxConns 2 and a reserve of 1: a
// WebSocket and an idle HTTP connection fill the cap; a third connection
// lands in the reserve, where an upgrade gets 503 and a page 503 while
// /healthz answers; a fourth, past the reserve, is closed unanswered; a
// reserve connection is closed after its 5 s; closing the idle one lets a
// WebSocket in again.
func TestListenerCountsHTTPConnections(t *testing.T) {
	ts := startHTTPServer(t, server.Options{MaxConns: 2, ConnReserve: 1})
	url := "ws://" + ts.addr + "/ws"
	ann := dial(t, url, "ann")
	ann.hello(t, "Ann")
	idle, err := net.Dial("tcp", ts.addr) // an HTTP connection that asks nothing
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()
	waitMetric(t, ts.reg, "duplex_conns_counted", 2)

	noKeepAlive := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: waitTimeout}
	opts := dialOpts()
	opts.HTTPClient = noKeepAlive
	check503(t, dialRefused(t, url, opts))
	waitMetric(t, ts.reg, "duplex_conns_counted", 2) // the refused one is gone
	if n := metricValue(t, ts.reg, "duplex_connections_refused_total", "reason", "max_conns"); n != 1 {
		t.Errorf("refused{max_conns} = %v, want 1", n)
	}
	for path, want := range map[string]int{"/healthz": 200, "/small": 503} {
		resp, err := noKeepAlive.Get("http://" + ts.addr + path)
		if err != nil {
			t.Fatalf("GET %s in the reserve: %v", path, err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("GET %s in the reserve: %d, want %d", path, resp.StatusCode, want)
		}
		if want == 503 {
			check503(t, resp)
		}
		waitMetric(t, ts.reg, "duplex_conns_counted", 2)
	}

	// Fill the reserve with a silent connection: the next is closed at once.
	reserve, err := net.Dial("tcp", ts.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer reserve.Close()
	waitMetric(t, ts.reg, "duplex_conns_counted", 3)
	// The server may reset it before connect(2) has returned (the kernel
	// completed the handshake, the accept loop closed it at once): a dial
	// refused by a reset is closed unanswered too.
	if past, err := net.Dial("tcp", ts.addr); err != nil && !isReset(err) {
		t.Fatal(err)
	} else if err == nil {
		defer past.Close()
		fmt.Fprintf(past, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
		past.SetReadDeadline(time.Now().Add(waitTimeout))
		if b, err := io.ReadAll(past); len(b) > 0 || err != nil && !isReset(err) {
			t.Fatalf("past the reserve: read %q, %v; want the connection closed unanswered", b, err)
		}
	}
	waitMetric(t, ts.reg, "duplex_connections_refused_total", 1, "reason", "max_conns_accept")

	// The silent reserve connection lives 5 s at most.
	reserve.SetReadDeadline(time.Now().Add(waitTimeout))
	if _, err := io.ReadAll(reserve); err != nil && !isReset(err) {
		t.Fatalf("reserve connection: %v, want it closed by the server", err)
	}
	waitMetric(t, ts.reg, "duplex_conns_counted", 2)

	// Freeing the idle connection's slot lets a WebSocket in.
	idle.Close()
	waitMetric(t, ts.reg, "duplex_conns_counted", 1)
	bob := dial(t, url, "bob")
	bob.hello(t, "Bob")
	waitMetric(t, ts.reg, "duplex_connections", 2)
}

func isReset(err error) bool {
	return err != nil && (strings.Contains(err.Error(), "reset") || strings.Contains(err.Error(), "EOF"))
}

// TestResponsesInFlightCount: a response through WriteDeadlines takes a
// slot under MaxConns while it runs (it may hold an open file). With
// MaxConns 2, no reserve, and two connections open, a request on one of
// them gets 503 with Retry-After; once the other closes, it is served.
func TestResponsesInFlightCount(t *testing.T) {
	ts := startHTTPServer(t, server.Options{MaxConns: 2, ConnReserve: -1})
	get := func(c net.Conn) *http.Response {
		t.Helper()
		fmt.Fprintf(c, "GET /small HTTP/1.1\r\nHost: x\r\n\r\n")
		c.SetReadDeadline(time.Now().Add(waitTimeout))
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	a, err := net.Dial("tcp", ts.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := net.Dial("tcp", ts.addr)
	if err != nil {
		t.Fatal(err)
	}
	waitMetric(t, ts.reg, "duplex_conns_counted", 2)
	check503(t, get(a))
	waitMetric(t, ts.reg, "duplex_conns_counted", 1) // a was closed with its 503
	b.Close()
	waitMetric(t, ts.reg, "duplex_conns_counted", 0)
	c, err := net.Dial("tcp", ts.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if resp := get(c); resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /small with a slot free: %d", resp.StatusCode)
	}
}
