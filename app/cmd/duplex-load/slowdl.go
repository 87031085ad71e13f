//go:build !(js && wasm)

package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// slowdlConfig: N raw TCP clients with a tiny receive buffer request a
// large static file and never read it (so the kernel cannot absorb the
// file for them), beside one honest client that reads it at a steady
// rate. The question is whether the server lets go of the stalled ones
// while the slow honest one finishes.
type slowdlConfig struct {
	abuseConfig
	stalled    int
	window     time.Duration // how long the stalled clients are watched
	honestRate float64       // bytes per second the honest client reads
	path       string
	rcvbuf     int // SO_RCVBUF of the stalled clients
}

// stalledClient is one downloader that stopped reading.
type stalledClient struct {
	conn    net.Conn
	dropped time.Duration // since the attack began; 0: still held
}

// honestResult is what became of the honest download.
type honestResult struct {
	status      int
	got, length int64
	took        time.Duration
	err         error
}

func (cfg *slowdlConfig) run(out io.Writer) error {
	raiseFileLimit(uint64(cfg.stalled) + 1024)
	u, err := url.Parse(cfg.url)
	if err != nil {
		return err
	}
	if u.Scheme != "ws" && u.Scheme != "http" {
		return fmt.Errorf("slowdl speaks plain HTTP: -url %s", cfg.url)
	}
	host := u.Host
	srv, fds0, mem0 := serverUsage{rss0: rss(cfg.pid)}, openFDs(cfg.pid), tcpMemBytes()
	var (
		fdPeak, memPeak int64
		fdsEnd          int64
		clients         []*stalledClient
		dialFailed      int
		honest          honestResult
		health          healthProbe
	)
	s, err := withBystander(cfg.abuseConfig, func(ctx context.Context) error {
		w := watchServer(cfg.pid)
		stop := make(chan struct{})
		peaks := samplePeaks(cfg.pid, stop)
		healthDone := health.run(ctx, "http://"+host+"/healthz", stop)
		begin := time.Now()
		honestc := make(chan honestResult, 1)
		go func() {
			hctx, cancel := context.WithTimeout(ctx, cfg.window+2*time.Minute)
			defer cancel()
			honestc <- honestDownload(hctx, host, cfg.path, cfg.honestRate)
		}()
		clients, dialFailed = dialStalled(ctx, host, cfg.path, cfg.stalled, cfg.rcvbuf)
		// Watch the stalled clients until the window ends: a connection
		// the server reset or closed is no longer ESTABLISHED.
		tick := time.NewTicker(250 * time.Millisecond)
		for time.Since(begin) < cfg.window && ctx.Err() == nil {
			<-tick.C
			for _, c := range clients {
				if c.dropped == 0 && !tcpEstablished(c.conn) {
					c.dropped = time.Since(begin)
				}
			}
		}
		tick.Stop()
		fdsEnd = openFDs(cfg.pid)
		honest = <-honestc
		srv.cpu = w.cpu()
		for _, c := range clients {
			if tc, ok := c.conn.(*net.TCPConn); ok {
				tc.SetLinger(0)
			}
			c.conn.Close()
		}
		close(stop)
		srv.peak = w.end()
		p := <-peaks
		fdPeak, memPeak = p.fds, p.tcpMem
		<-healthDone
		return nil
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "workload            slowdl: %d raw TCP clients (SO_RCVBUF %d) request %s, half with Accept-Encoding: br, and never read; one honest client reads it at %.0f KB/s; watched for %v\n",
		cfg.stalled, cfg.rcvbuf, cfg.path, cfg.honestRate/1000, cfg.window)
	var drops []time.Duration
	for _, c := range clients {
		if c.dropped > 0 {
			drops = append(drops, c.dropped)
		}
	}
	slices.Sort(drops)
	fmt.Fprintf(out, "stalled             %d connected (%d failed to connect); %d dropped by the server within %v (%.0f%%)",
		len(clients), dialFailed, len(drops), cfg.window, 100*float64(len(drops))/float64(max(len(clients), 1)))
	if len(drops) > 0 {
		fmt.Fprintf(out, ": first at %v, median %v, last %v", drops[0].Round(100*time.Millisecond), pct(drops, .5).Round(100*time.Millisecond), drops[len(drops)-1].Round(100*time.Millisecond))
	}
	fmt.Fprintf(out, "; %d still held\n", len(clients)-len(drops))
	verdict := "completed"
	if honest.err != nil || honest.length <= 0 || honest.got != honest.length {
		verdict = fmt.Sprintf("NOT completed (%v)", honest.err)
	}
	fmt.Fprintf(out, "honest download     status %d, %d of %d bytes in %v (%.0f KB/s): %s\n",
		honest.status, honest.got, honest.length, honest.took.Round(100*time.Millisecond), float64(honest.got)/max(honest.took.Seconds(), 1e-9)/1000, verdict)
	if cfg.pid != 0 {
		fmt.Fprintf(out, "server              open files %d before, peak %d, %d at %v; RSS %.0f MiB before, peak %.0f MiB (+%.0f MiB); CPU %v\n",
			fds0, fdPeak, fdsEnd, cfg.window, mib(srv.rss0), mib(srv.peak), mib(srv.peak-srv.rss0), srv.cpu.Round(time.Millisecond))
	}
	if mem0 >= 0 {
		fmt.Fprintf(out, "kernel TCP memory   %.0f MiB before, peak %.0f MiB (whole host, /proc/net/sockstat)\n", mib(mem0), mib(memPeak))
	}
	health.print(out)
	s.print(out)
	return nil
}

// dialStalled opens n connections with a receive buffer of rcvbuf bytes,
// sends each a GET for path, and leaves them unread.
func dialStalled(ctx context.Context, host, path string, n, rcvbuf int) (clients []*stalledClient, failed int) {
	var mu sync.Mutex
	// Every connection is tried, and counted when it fails, even once ctx
	// has ended.
	inParallelAtMost(context.Background(), n, 64, func(i int) {
		d := &net.Dialer{Timeout: 10 * time.Second, Control: smallRcvbuf(rcvbuf)}
		conn, err := d.DialContext(ctx, "tcp", host)
		if err == nil {
			enc := ""
			if i%2 == 1 {
				enc = "Accept-Encoding: br\r\n"
			}
			conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
			_, err = fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: duplex-load slowdl\r\n%s\r\n", path, host, enc)
		}
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			failed++
			if conn != nil {
				conn.Close()
			}
			return
		}
		clients = append(clients, &stalledClient{conn: conn})
	})
	return clients, failed
}

// honestDownload fetches path over a connection with a 64 KiB receive
// buffer and reads the body at rate bytes a second, like a phone on a
// slow link.
func honestDownload(ctx context.Context, host, path string, rate float64) (r honestResult) {
	t0 := time.Now()
	defer func() { r.took = time.Since(t0) }()
	d := &net.Dialer{Timeout: 10 * time.Second, Control: smallRcvbuf(64 << 10)}
	conn, err := d.DialContext(ctx, "tcp", host)
	if err != nil {
		r.err = err
		return r
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Now()) })
	defer stop()
	fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: duplex-load slowdl honest\r\nConnection: close\r\n\r\n", path, host)
	br := bufio.NewReaderSize(conn, 16<<10)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		r.err = err
		return r
	}
	defer resp.Body.Close()
	r.status, r.length = resp.StatusCode, resp.ContentLength
	buf := make([]byte, 16<<10)
	start := time.Now()
	for {
		// Read no faster than rate: wait until the bytes so far are due.
		if due := start.Add(time.Duration(float64(r.got) / rate * float64(time.Second))); time.Until(due) > 0 {
			time.Sleep(time.Until(due))
		}
		n, err := resp.Body.Read(buf)
		r.got += int64(n)
		if err == io.EOF {
			return r
		}
		if err != nil {
			r.err = err
			return r
		}
	}
}

// healthProbe asks /healthz on a new connection every half second.
type healthProbe struct {
	asked, answered atomic.Int64
	worst           atomic.Int64 // nanoseconds
}

func (h *healthProbe) run(ctx context.Context, u string, stop <-chan struct{}) <-chan struct{} {
	done := make(chan struct{})
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	go func() {
		defer close(done)
		t := time.NewTicker(500 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-ctx.Done():
				return
			case <-t.C:
			}
			h.asked.Add(1)
			t0 := time.Now()
			resp, err := client.Get(u)
			if err != nil {
				continue
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				h.answered.Add(1)
				if d := int64(time.Since(t0)); d > h.worst.Load() {
					h.worst.Store(d)
				}
			}
		}
	}()
	return done
}

func (h *healthProbe) print(w io.Writer) {
	fmt.Fprintf(w, "/healthz            %d of %d answered 200 (new connection each, 5s timeout), slowest %v\n",
		h.answered.Load(), h.asked.Load(), time.Duration(h.worst.Load()).Round(100*time.Microsecond))
}

// peaks are the highest open-file count of the server and kernel TCP
// memory seen.
type peaks struct{ fds, tcpMem int64 }

func samplePeaks(pid int, stop <-chan struct{}) <-chan peaks {
	return sample(200*time.Millisecond, stop, func(p peaks) peaks {
		return peaks{fds: max(p.fds, openFDs(pid)), tcpMem: max(p.tcpMem, tcpMemBytes())}
	})
}

// smallRcvbuf sets SO_RCVBUF before connecting (the window scale is
// chosen then), so that the kernel cannot buffer a download for a client
// that does not read it.
func smallRcvbuf(n int) func(network, address string, c syscall.RawConn) error {
	return func(_, _ string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, n)
		})
		if err != nil {
			return err
		}
		return serr
	}
}
