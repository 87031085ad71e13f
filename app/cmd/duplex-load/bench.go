//go:build !(js && wasm)

package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"time"
)

type benchConfig struct {
	duplexBin string
	duration  time.Duration
	subs      int
	rates     string
	idle      int
	deflate   bool
}

// target is a server process the bench starts and measures.
type target struct {
	name string
	cmd  *exec.Cmd
	ws   string
	dbg  string
}

func freePort() int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startTarget runs a server and waits until its debug listener answers.
func startTarget(name string, argv []string, env []string, port, dport int) (*target, error) {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = nil, os.Stderr
	if name != "naive" {
		cmd.Stderr = nil // the duplex server logs every connection
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	t := &target{name: name, cmd: cmd, ws: fmt.Sprintf("ws://127.0.0.1:%d/ws", port), dbg: fmt.Sprintf("http://127.0.0.1:%d", dport)}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(t.dbg + "/debug/gc"); err == nil {
			resp.Body.Close()
			return t, nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.stop()
	return nil, fmt.Errorf("%s did not start", name)
}

func (t *target) stop() {
	t.cmd.Process.Signal(os.Interrupt)
	waitOrKill(t.cmd, 20*time.Second)
}

// waitOrKill waits for cmd to exit, and kills it after d.
func waitOrKill(cmd *exec.Cmd, d time.Duration) {
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(d):
		cmd.Process.Kill()
		<-done
	}
}

// startChild starts cmd, a child process the tool talks to through its
// stdin and stdout (its stderr is the tool's).
func startChild(cmd *exec.Cmd) (stdin io.WriteCloser, stdout io.ReadCloser, err error) {
	cmd.Stderr = os.Stderr
	if stdin, err = cmd.StdinPipe(); err != nil {
		return nil, nil, err
	}
	if stdout, err = cmd.StdoutPipe(); err != nil {
		return nil, nil, err
	}
	return stdin, stdout, cmd.Start()
}

func (t *target) common(d time.Duration) common {
	return common{url: t.ws, naive: t.name == "naive", duration: d, pid: t.cmd.Process.Pid, timeout: 3 * time.Minute, debugURL: t.dbg}
}

// startDuplex starts the server for the throughput workloads: a deeper
// queue, and rate limits off (one publisher sends far more than a
// person's 50 messages a second).
func startDuplex(bin string, extra ...string) (*target, error) {
	return startDuplexPinned(bin, "", append([]string{"-queue", "4096", "-no-limits"}, extra...)...)
}

// startDuplexPinned starts the server under taskset -c cpus when cpus is
// not empty (the Go runtime then sizes GOMAXPROCS to those CPUs).
func startDuplexPinned(bin, cpus string, extra ...string) (*target, error) {
	port, dport := freePort(), freePort()
	data, err := os.MkdirTemp("", "duplex-bench-")
	if err != nil {
		return nil, err
	}
	argv := append([]string{bin, "-addr", fmt.Sprintf("127.0.0.1:%d", port), "-data", data,
		"-debug-addr", fmt.Sprintf("127.0.0.1:%d", dport)}, extra...)
	env := []string{"GOMAXPROCS=2"}
	if cpus != "" {
		argv, env = append([]string{"taskset", "-c", cpus}, argv...), nil
	}
	return startTarget("duplex", argv, env, port, dport)
}

func startNaive() (*target, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	port, dport := freePort(), freePort()
	return startTarget("naive", []string{self, "naive-server", "-addr", fmt.Sprintf("127.0.0.1:%d", port), "-debug-addr", fmt.Sprintf("127.0.0.1:%d", dport)}, nil, port, dport)
}

// run puts the same workloads to Duplex and to the naive loop, one
// server at a time, and prints Duplex's figures as ratios to the naive's.
func (cfg *benchConfig) run(w io.Writer) error {
	var rates []float64
	for _, s := range strings.Split(cfg.rates, ",") {
		r, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil {
			return fmt.Errorf("bad rate %q", s)
		}
		rates = append(rates, r)
	}
	host, _ := os.Hostname()
	fmt.Fprintf(w, "machine: %s, %d cores; load tool and server on the same machine\n\n", host, runtime.NumCPU())
	fan := make([]benchRow, len(rates))
	var idle benchRow
	var deflated *result
	for _, name := range []string{"duplex", "naive"} {
		if err := benchServer(w, cfg, name, rates, fan, &idle); err != nil {
			return err
		}
	}
	if cfg.deflate && len(rates) > 0 {
		t, err := startDuplex(cfg.duplexBin, "-compression")
		if err != nil {
			return err
		}
		c := t.common(cfg.duration)
		c.deflate = true
		deflated, err = runFanout(fanoutConfig{common: c, subs: cfg.subs, pubs: 1, rate: rates[0], size: 100})
		t.stop()
		if err != nil {
			return fmt.Errorf("deflate fanout: %w", err)
		}
		printTagged(w, "duplex -compression (permessage-deflate)", deflated)
	}

	fmt.Fprintln(w, "== Duplex vs naive coder/websocket loop, same run ==")
	fmt.Fprintf(w, "%-34s %14s %14s %8s %10s %10s %8s %8s\n", "workload", "duplex del/s", "naive del/s", "ratio", "duplex p99", "naive p99", "d.loss", "n.loss")
	var bestD, bestN float64
	for _, f := range fan {
		fmt.Fprintf(w, "%-34s %14.0f %14.0f %8.2f %10v %10v %8d %8d\n",
			fmt.Sprintf("fanout %d subs @ %.0f msg/s", cfg.subs, f.duplex.sentRate()), f.duplex.rate(), f.naive.rate(), f.duplex.rate()/f.naive.rate(),
			f.duplex.pct(.99).Round(100*time.Microsecond), f.naive.pct(.99).Round(100*time.Microsecond), f.duplex.loss(), f.naive.loss())
		bestD, bestN = max(bestD, f.duplex.rate()), max(bestN, f.naive.rate())
	}
	fmt.Fprintf(w, "%-34s %14.0f %14.0f %8.2f\n", "best delivered/s (saturation)", bestD, bestN, bestD/bestN)
	if idle.duplex != nil {
		fmt.Fprintf(w, "%-34s %12.1f KiB %12.1f KiB %8.2f\n", fmt.Sprintf("idle RSS/conn @ %d", cfg.idle), idle.duplex.perConnKiB(), idle.naive.perConnKiB(), idle.duplex.perConnKiB()/idle.naive.perConnKiB())
	}
	if deflated != nil && fan[0].duplex != nil {
		fmt.Fprintf(w, "%-34s server CPU %v vs %v without; wrote %.1f MiB vs %.1f MiB without\n", "permessage-deflate", deflated.cpu.Round(time.Millisecond), fan[0].duplex.cpu.Round(time.Millisecond), mib(deflated.written), mib(fan[0].duplex.written))
	}
	return nil
}

// benchRow is one workload's result against each server.
type benchRow struct{ duplex, naive *result }

// set keeps r as the result against server name.
func (b *benchRow) set(name string, r *result) {
	if name == "duplex" {
		b.duplex = r
	} else {
		b.naive = r
	}
}

// benchServer starts server name ("duplex" or "naive"), runs the fan-out
// rates and the idle workload against it, prints each result and keeps
// it in fan and idle.
func benchServer(w io.Writer, cfg *benchConfig, name string, rates []float64, fan []benchRow, idle *benchRow) error {
	start := startNaive
	if name == "duplex" {
		start = func() (*target, error) { return startDuplex(cfg.duplexBin) }
	}
	t, err := start()
	if err != nil {
		return err
	}
	defer t.stop()
	// A short run first, not reported: a fresh process pays for heap
	// growth, goroutine stacks and its first SQLite checkpoints, which
	// is not the steady state being compared.
	if _, err := runFanout(fanoutConfig{common: t.common(2 * time.Second), subs: cfg.subs, pubs: 1, rate: rates[0], size: 100}); err != nil {
		return fmt.Errorf("%s warm-up: %w", name, err)
	}
	for i, rate := range rates {
		r, err := runFanout(fanoutConfig{common: t.common(cfg.duration), subs: cfg.subs, pubs: 1, rate: rate, size: 100})
		if err != nil {
			return fmt.Errorf("%s fanout: %w", name, err)
		}
		printTagged(w, name, r)
		fan[i].set(name, r)
	}
	if cfg.idle > 0 {
		r, err := runIdle(idleConfig{common: t.common(0), conns: cfg.idle})
		if err != nil {
			return fmt.Errorf("%s idle: %w", name, err)
		}
		printTagged(w, name, r)
		idle.set(name, r)
	}
	return nil
}

// printTagged prints a result under the name of the server it ran against.
func printTagged(w io.Writer, name string, r *result) {
	fmt.Fprintf(w, "[%s]\n", name)
	r.print(w)
	fmt.Fprintln(w)
}

func (r *result) sentRate() float64 { return float64(r.sent) / r.duration.Seconds() }
