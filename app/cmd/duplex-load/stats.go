//go:build !(js && wasm)

package main

import (
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// result is what one workload run reports.
type result struct {
	name       string
	conns      int
	connectDur time.Duration
	sent       int64 // messages published (acked, for Duplex)
	expected   int64 // deliveries that should have arrived
	delivered  int64 // deliveries that arrived
	duplicates int64
	duration   time.Duration
	lat        []time.Duration // sorted
	rssBefore  int64           // server RSS, bytes, before connecting
	rssAfter   int64           // server RSS, bytes, with the connections open
	cpu        time.Duration   // server CPU time during the publishing window
	written    int64           // bytes the server wrote (all sockets) in the window
	errs       int64
	notes      []string // workload-specific lines, printed last
}

func (r *result) rate() float64 { return float64(r.delivered) / r.duration.Seconds() }

func (r *result) loss() int64 { return max(r.expected-r.delivered, 0) }

func (r *result) pct(p float64) time.Duration {
	if len(r.lat) == 0 {
		return 0
	}
	return r.lat[min(int(float64(len(r.lat))*p), len(r.lat)-1)]
}

func (r *result) print(w io.Writer) {
	fmt.Fprintf(w, "workload            %s\n", r.name)
	fmt.Fprintf(w, "connections         %d (connected in %v, %.0f/s)\n", r.conns, r.connectDur.Round(time.Millisecond), float64(r.conns)/r.connectDur.Seconds())
	if r.sent > 0 {
		fmt.Fprintf(w, "published           %d in %v\n", r.sent, r.duration.Round(time.Millisecond))
		fmt.Fprintf(w, "delivered           %d of %d (%.0f/s), lost %d, duplicates %d\n", r.delivered, r.expected, r.rate(), r.loss(), r.duplicates)
		fmt.Fprintf(w, "latency             p50 %v  p99 %v  max %v\n", r.pct(.5).Round(10*time.Microsecond), r.pct(.99).Round(10*time.Microsecond), r.pct(1).Round(10*time.Microsecond))
	}
	if r.rssAfter > 0 {
		fmt.Fprintf(w, "server RSS          %.1f MiB -> %.1f MiB (%.1f KiB per connection)\n", mib(r.rssBefore), mib(r.rssAfter), r.perConnKiB())
	}
	if r.cpu > 0 {
		fmt.Fprintf(w, "server CPU          %s\n", cpuShare(r.cpu, r.duration))
	}
	if r.written > 0 {
		fmt.Fprintf(w, "server wrote        %.1f MiB (%.0f bytes per delivery)\n", mib(r.written), float64(r.written)/float64(max(r.delivered, 1)))
	}
	if r.errs > 0 {
		fmt.Fprintf(w, "errors              %d\n", r.errs)
	}
	for _, n := range r.notes {
		fmt.Fprintln(w, n)
	}
}

func (r *result) perConnKiB() float64 {
	if r.conns == 0 {
		return 0
	}
	return float64(r.rssAfter-r.rssBefore) / 1024 / float64(r.conns)
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }

// latencies gathers samples from many receivers with little contention:
// each receiver appends to its own slice.
type latencies struct {
	mu  sync.Mutex
	all [][]time.Duration
}

func (l *latencies) add(s []time.Duration) {
	l.mu.Lock()
	l.all = append(l.all, s)
	l.mu.Unlock()
}

func (l *latencies) sorted() []time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []time.Duration
	for _, s := range l.all {
		out = append(out, s...)
	}
	slices.Sort(out)
	return out
}

// body builds a message body of size bytes carrying the send time.
func body(size int, seq int64) string {
	s := "t=" + strconv.FormatInt(time.Now().UnixNano(), 10) + " n=" + strconv.FormatInt(seq, 10) + " "
	if len(s) < size {
		s += strings.Repeat("x", size-len(s))
	}
	return s
}

// sentAt reads the send time back out of a body.
func sentAt(b string) (time.Time, bool) {
	rest, ok := strings.CutPrefix(b, "t=")
	if !ok {
		return time.Time{}, false
	}
	ns, _, _ := strings.Cut(rest, " ")
	n, err := strconv.ParseInt(ns, 10, 64)
	return time.Unix(0, n), err == nil
}

// procPath is the path of a process's file under /proc (Linux), or ""
// when pid is 0: no local server to read, and every read fails.
func procPath(pid int, name string) string {
	if pid == 0 {
		return ""
	}
	return "/proc/" + strconv.Itoa(pid) + "/" + name
}

// procField returns the value after key on a line of a process's /proc
// file name, trimmed, and whether there was one.
func procField(pid int, name, key string) (string, bool) {
	b, err := os.ReadFile(procPath(pid, name))
	if err != nil {
		return "", false
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, key); ok {
			return strings.TrimSpace(v), true
		}
	}
	return "", false
}

// rss returns a process's resident set size in bytes (Linux /proc).
func rss(pid int) int64 {
	v, ok := procField(pid, "status", "VmRSS:")
	if !ok {
		return 0
	}
	kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(v, "kB")), 10, 64)
	return kb * 1024
}

// cpuTime returns a process's user+system CPU time (Linux /proc).
func cpuTime(pid int) time.Duration {
	b, err := os.ReadFile(procPath(pid, "stat"))
	if err != nil {
		return 0
	}
	s := string(b)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	if len(fields) < 13 {
		return 0
	}
	ut, _ := strconv.ParseInt(fields[11], 10, 64)
	st, _ := strconv.ParseInt(fields[12], 10, 64)
	return time.Duration(ut+st) * time.Second / 100 // USER_HZ is 100 on Linux
}

// bytesWritten returns what a process has written through write(2) and
// friends, sockets included (Linux /proc/PID/io, wchar).
func bytesWritten(pid int) int64 {
	v, _ := procField(pid, "io", "wchar:")
	n, _ := strconv.ParseInt(v, 10, 64)
	return n
}

// openFDs counts a process's open file descriptors (Linux /proc); 0 when
// unknown.
func openFDs(pid int) int64 {
	f, err := os.Open(procPath(pid, "fd"))
	if err != nil {
		return 0
	}
	defer f.Close()
	names, _ := f.Readdirnames(-1)
	return int64(len(names))
}

// tcpMemBytes is the kernel's TCP buffer memory, host-wide (the "mem"
// pages of /proc/net/sockstat); -1 when unknown.
func tcpMemBytes() int64 {
	b, err := os.ReadFile("/proc/net/sockstat")
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(b), "\n") {
		if !strings.HasPrefix(line, "TCP:") {
			continue
		}
		f := strings.Fields(line)
		for i := 0; i+1 < len(f); i++ {
			if f[i] == "mem" {
				pages, _ := strconv.ParseInt(f[i+1], 10, 64)
				return pages * int64(os.Getpagesize())
			}
		}
	}
	return -1
}

// sample calls next with its last result (the zero T at first) at once
// and then every period until stop is closed, then sends the last result.
func sample[T any](period time.Duration, stop <-chan struct{}, next func(T) T) <-chan T {
	out := make(chan T, 1)
	go func() {
		var v T
		t := time.NewTicker(period)
		defer t.Stop()
		for {
			v = next(v)
			select {
			case <-t.C:
			case <-stop:
				out <- v
				return
			}
		}
	}()
	return out
}

// serverWatch follows a server process through an abusive workload: its
// CPU time from the start, and its peak RSS, sampled every 50ms.
type serverWatch struct {
	pid  int
	cpu0 time.Duration
	stop chan struct{}
	peak <-chan int64
}

func watchServer(pid int) *serverWatch {
	stop := make(chan struct{})
	peak := sample(50*time.Millisecond, stop, func(p int64) int64 { return max(p, rss(pid)) })
	return &serverWatch{pid: pid, cpu0: cpuTime(pid), stop: stop, peak: peak}
}

// cpu is the server's CPU time since the watch began.
func (w *serverWatch) cpu() time.Duration { return cpuTime(w.pid) - w.cpu0 }

// end stops the sampling and returns the peak RSS, read once more now.
func (w *serverWatch) end() int64 {
	close(w.stop)
	return max(<-w.peak, rss(w.pid))
}

// serverUsage is a server's RSS before an abusive workload and at its
// peak during it, and the CPU time the workload cost it.
type serverUsage struct {
	rss0, peak int64
	cpu        time.Duration
}

// print writes the RSS line, ending with cpu when it is not empty;
// nothing when the RSS was not read.
func (u serverUsage) print(w io.Writer, cpu string) {
	if u.peak <= 0 {
		return
	}
	if cpu != "" {
		cpu = "; CPU " + cpu
	}
	fmt.Fprintf(w, "server RSS          %.0f MiB before, peak %.0f MiB (+%.0f MiB)%s\n", mib(u.rss0), mib(u.peak), mib(u.peak-u.rss0), cpu)
}

// cpuShare is cpu, and the share of one core it is over d.
func cpuShare(cpu, d time.Duration) string {
	return fmt.Sprintf("%v (%.0f%% of one core)", cpu.Round(time.Millisecond), 100*cpu.Seconds()/d.Seconds())
}

// raiseFileLimit lifts RLIMIT_NOFILE as far as allowed: idle runs hold
// tens of thousands of sockets.
func raiseFileLimit(n uint64) {
	var l syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l) != nil {
		return
	}
	if l.Max < n {
		l.Max = n // works as root
	}
	l.Cur = l.Max
	if syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l) != nil {
		syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l)
		l.Cur = l.Max
		syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l)
	}
	runtime.GC()
}

// socketBytesSent sums the bytes sent on the established TCP connections
// whose local port is the server's (ss(8) reads them from the kernel):
// what the server wrote to its clients, without its disk writes. -1 when
// ss is not available.
func socketBytesSent(url string) int64 {
	_, port, err := net.SplitHostPort(hostOf(url))
	if err != nil {
		return -1
	}
	out, err := exec.Command("ss", "-tinH", "state", "established", "( sport = :"+port+" )").Output()
	if err != nil {
		return -1
	}
	var n int64
	for _, f := range strings.Fields(string(out)) {
		if v, ok := strings.CutPrefix(f, "bytes_sent:"); ok {
			b, _ := strconv.ParseInt(v, 10, 64)
			n += b
		}
	}
	return n
}
