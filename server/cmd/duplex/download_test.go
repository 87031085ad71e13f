package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/duplex-chat/duplex/shared/testpoll"
)

// TestStalledWasmDownloadIsCut: the real app, with -http-write-timeout
// 500ms, cuts clients that request /web/app.wasm (raw and brotli) over a
// tiny receive buffer and never read: their connections are let go (the
// duplex_conns_counted gauge falls back to the one scraping it), and what
// they can still read is not the whole file. The brotli twin (1.4 MB)
// fits in the kernel's default buffers, so without TCP_NOTSENT_LOWAT its
// handler would finish and the connection idle on.
func TestStalledWasmDownloadIsCut(t *testing.T) {
	if !wasmBuilt(t) {
		t.Skip("web/app.wasm is not built: run `make wasm`")
	}
	ta := startAppWith(t, config{limits: limitFlags{off: true}, httpWriteTimeout: 500 * time.Millisecond})
	d := net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
		return c.Control(func(fd uintptr) { syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) })
	}}
	var stalled []net.Conn
	for _, enc := range []string{"", "br", "gzip"} {
		c, err := d.Dial("tcp", ta.Addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		fmt.Fprintf(c, "GET /web/app.wasm HTTP/1.1\r\nHost: %s\r\nAccept-Encoding: %s\r\n\r\n", ta.Addr, enc)
		stalled = append(stalled, c)
	}
	// One keep-alive connection scrapes, so it counts 1 itself.
	scraper := &http.Client{Transport: &http.Transport{MaxConnsPerHost: 1}, Timeout: opsWait}
	counted := func() float64 {
		resp, err := scraper.Get(ta.URL + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		var v float64
		for _, line := range strings.Split(string(b), "\n") {
			if n, _ := fmt.Sscanf(line, "duplex_conns_counted %g", &v); n == 1 {
				return v
			}
		}
		t.Fatal("/metrics has no duplex_conns_counted")
		return 0
	}
	var n float64
	testpoll.Until(t, "duplex_conns_counted = 1 (the scraper): the stalled downloads cut", func() bool { n = counted(); return n == 1 },
		func() string { return fmt.Sprintf("duplex_conns_counted = %v", n) })
	for i, c := range stalled {
		c.SetReadDeadline(time.Now().Add(opsWait))
		n, err := io.Copy(io.Discard, c)
		if ne, ok := err.(net.Error); ok && ne.Timeout() {
			t.Fatalf("download %d: read %d bytes, then the connection stayed open", i, n)
		}
		if n > 1<<20 {
			t.Errorf("download %d: read %d bytes after the cut: the server had handed the kernel most of the file", i, n)
		}
	}
}

// TestParseConfigHTTPDownloads: the flags of issue #14's HTTP limits, and
// a bad value refused with the flag named.
func TestParseConfigHTTPDownloads(t *testing.T) {
	noEnv := func(string) string { return "" }
	c, err := parseConfig([]string{"-conn-reserve", "5", "-http-write-timeout", "3s"}, noEnv)
	if err != nil || c.connReserve != 5 || c.httpWriteTimeout != 3*time.Second {
		t.Errorf("flags: %+v, %v", c, err)
	}
	if c, _ := parseConfig(nil, noEnv); c.connReserve != 0 || c.httpWriteTimeout != 0 {
		t.Errorf("defaults: reserve %d, timeout %v; want 0 (the server's defaults)", c.connReserve, c.httpWriteTimeout)
	}
	for _, bad := range [][]string{{"-http-write-timeout", "soon"}, {"-conn-reserve", "lots"}} {
		if _, err := parseConfig(bad, noEnv); err == nil || !strings.Contains(err.Error(), bad[0][1:]) {
			t.Errorf("%v: %v, want an error naming the flag", bad, err)
		}
	}
}
