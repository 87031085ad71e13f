package server_test

import (
	"bufio"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/duplex-chat/duplex/server"
	"github.com/duplex-chat/duplex/shared"
	"github.com/duplex-chat/duplex/shared/testpoll"
	"github.com/prometheus/client_golang/prometheus"
)

// dialRefused dials and returns the refused handshake's response; the
// test fails if the connection was accepted.
func dialRefused(t testing.TB, u string, opts *websocket.DialOptions) *http.Response {
	t.Helper()
	ctx, cancel := contextWithTimeout()
	defer cancel()
	conn, resp, err := websocket.Dial(ctx, u, opts)
	if err == nil {
		conn.CloseNow()
		t.Fatalf("dial %s: accepted, want 503", u)
	}
	if resp == nil {
		t.Fatalf("dial %s failed without an HTTP response: %v", u, err)
	}
	if resp.Body != nil {
		resp.Body.Close()
	}
	return resp
}

func check503(t testing.TB, resp *http.Response) {
	t.Helper()
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") != "5" {
		t.Fatalf("refused upgrade: status %d, Retry-After %q; want 503 and 5", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
}

// TestMaxConnsRefusesWith503: over Options.MaxConns an upgrade gets 503
// with Retry-After and no WebSocket; the connections already open keep
// working, and a slot freed by a close is available again.
func TestMaxConnsRefusesWith503(t *testing.T) {
	reg := prometheus.NewRegistry()
	ts := startServer(t, server.Options{MaxConns: 3, Metrics: reg})
	ann, bob := lobbyPair(t, ts.url)
	cy := dial(t, ts.url, "cy")
	cy.hello(t, "Cy")

	check503(t, dialRefused(t, ts.url, dialOpts()))
	check503(t, dialRefused(t, ts.url, dialOpts()))
	if n := metricValue(t, reg, "duplex_connections_refused_total", "reason", "max_conns"); n != 2 {
		t.Errorf("duplex_connections_refused_total{reason=max_conns} = %v, want 2", n)
	}

	// Everyone inside is unaffected.
	ack := ann.sendMsg(t, "lobby", "m-1", "still here")
	bob.waitSeq(t, "lobby", ack.Seq)

	// Cy leaves: the slot frees when the server has ended her session.
	cy.conn.Close(websocket.StatusNormalClosure, "bye")
	waitMetric(t, reg, "duplex_connections", 2)
	dan := dial(t, ts.url, "dan")
	dan.hello(t, "Dan")
	check503(t, dialRefused(t, ts.url, dialOpts()))
}

// TestMaxConnsPerAddr: the per-address cap refuses a third connection
// from 127.0.0.1 while 127.0.0.2 (another address of this host) still
// gets in.
func TestMaxConnsPerAddr(t *testing.T) {
	reg := prometheus.NewRegistry()
	ts := startServer(t, server.Options{MaxConnsPerAddr: 2, Metrics: reg})
	ann, bob := lobbyPair(t, ts.url)
	check503(t, dialRefused(t, ts.url, dialOpts()))

	from2 := dialOpts()
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2)}}
	from2.HTTPClient = &http.Client{Transport: &http.Transport{DialContext: d.DialContext}}
	ctx, cancel := contextWithTimeout()
	defer cancel()
	conn, _, err := websocket.Dial(ctx, ts.url, from2)
	if errors.Is(err, syscall.EADDRNOTAVAIL) {
		t.Skipf("this host cannot send from 127.0.0.2: %v", err)
	}
	if err != nil {
		t.Fatalf("dial from 127.0.0.2: %v (a cap on 127.0.0.1 must not refuse it)", err)
	}
	cy := newClient(t, conn, "cy")
	cy.hello(t, "Cy")
	cy.join(t, "lobby", nil)
	ack := ann.sendMsg(t, "lobby", "m-1", "hi")
	bob.waitSeq(t, "lobby", ack.Seq)
	cy.waitSeq(t, "lobby", ack.Seq)
	if n := metricValue(t, reg, "duplex_connections_refused_total", "reason", "max_conns_per_addr"); n != 1 {
		t.Errorf("duplex_connections_refused_total{reason=max_conns_per_addr} = %v, want 1", n)
	}
}

// rawUpgrade opens a TCP connection and performs the WebSocket handshake
// by hand, so the test can then write arbitrary (and unfinished) frames.
func rawUpgrade(t testing.TB, serverURL string) net.Conn {
	t.Helper()
	u, err := url.Parse(serverURL)
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	key := make([]byte, 16)
	rand.Read(key)
	fmt.Fprintf(c, "GET / HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: %s\r\n\r\n",
		u.Host, base64.StdEncoding.EncodeToString(key), shared.Protocol)
	c.SetReadDeadline(time.Now().Add(waitTimeout))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("handshake: %v", err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("handshake: status %d", resp.StatusCode)
	}
	c.SetReadDeadline(time.Time{})
	return c
}

// waitServerClose reads until the server closes c and fails if it has
// not within waitTimeout.
func waitServerClose(t testing.TB, who string, c net.Conn) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(waitTimeout))
	_, err := io.Copy(io.Discard, c)
	if errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("%s: the server kept the connection open for %v", who, waitTimeout)
	}
}

// TestFrameTimeoutClosesStalledFrame: a client that starts a frame and
// stalls is cut off after Options.FrameTimeout. Bad inputs tried: a
// header announcing 60 KB followed by 1 KB of payload, and a lone first
// header byte. A connection that is idle between frames for longer than
// that is not affected. HelloTimeout is long, so only the frame deadline
// can close the stalled connections within the test's wait.
func TestFrameTimeoutClosesStalledFrame(t *testing.T) {
	reg := prometheus.NewRegistry()
	ts := startServer(t, server.Options{FrameTimeout: 300 * time.Millisecond, HelloTimeout: 10 * time.Minute, Metrics: reg})
	idle := dial(t, ts.url, "idle")
	idle.hello(t, "Idle")

	payload := rand.Text()
	stalled := rawUpgrade(t, ts.url)
	frame := []byte{0x81, 0x80 | 126, 0xF0, 0x00, 1, 2, 3, 4} // text, masked, 61440 bytes
	frame = append(frame, make([]byte, 1024)...)
	copy(frame[8:], payload)
	if _, err := stalled.Write(frame); err != nil {
		t.Fatal(err)
	}
	header := rawUpgrade(t, ts.url)
	if _, err := header.Write([]byte{0x81}); err != nil {
		t.Fatal(err)
	}
	waitServerClose(t, "60 KB frame stalled after 1 KB", stalled)
	waitServerClose(t, "frame stalled inside its header", header)
	waitMetric(t, reg, "duplex_frame_timeouts_total", 2)

	// idle has now been idle for longer than the frame timeout, twice over.
	idle.call(t, shared.TypeRooms, &shared.Rooms{})
	idle.join(t, "lobby", nil)
	// A frame larger than the read buffer arrives over several reads.
	idle.sendMsg(t, "lobby", "m-1", strings.Repeat("long frames are read in pieces; ", 60))
}

// TestDisconnectsByCloseCode: the close code a connection ended with is
// counted, whoever sent it.
func TestDisconnectsByCloseCode(t *testing.T) {
	reg := prometheus.NewRegistry()
	ts := startServer(t, server.Options{HelloTimeout: 200 * time.Millisecond, Metrics: reg})
	slow := dial(t, ts.url, "no-hello")
	var ce websocket.CloseError
	if err := slow.closeErr(t); !asCloseError(err, &ce) || ce.Code != websocket.StatusCode(shared.CloseHelloTimeout) {
		t.Fatalf("closed with %v, want %d", err, shared.CloseHelloTimeout)
	}
	bye := dial(t, ts.url, "bye")
	bye.hello(t, "Bye")
	bye.conn.Close(websocket.StatusNormalClosure, "")
	waitMetric(t, reg, "duplex_disconnects_total", 1, "code", "4002")
	waitMetric(t, reg, "duplex_disconnects_total", 1, "code", "1000")
	waitMetric(t, reg, "duplex_connections", 0)
}

// waitMetric polls until the metric (with the label pair, if given) has
// the value want.
func waitMetric(t testing.TB, reg *prometheus.Registry, name string, want float64, label ...string) {
	t.Helper()
	var got float64
	testpoll.Until(t, fmt.Sprintf("%s%v = %v", name, label, want), func() bool { got = metricValue(t, reg, name, label...); return got == want },
		func() string { return fmt.Sprintf("%s%v = %v", name, label, got) })
}

// metricValue reads a counter or gauge (or a histogram's sample count)
// from reg; -1 when it is not there.
func metricValue(t testing.TB, reg *prometheus.Registry, name string, label ...string) float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
	metric:
		for _, m := range f.GetMetric() {
			if len(label) == 2 {
				for _, lp := range m.GetLabel() {
					if lp.GetName() == label[0] && lp.GetValue() != label[1] {
						continue metric
					}
				}
			}
			switch {
			case m.Counter != nil:
				return m.GetCounter().GetValue()
			case m.Gauge != nil:
				return m.GetGauge().GetValue()
			case m.Histogram != nil:
				return float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	return -1
}
