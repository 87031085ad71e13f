//go:build !(js && wasm)

package main

// The abusive workloads (flood, joinstorm, history-hog, reactions, search,
// typing, bomb, trickle, slowdl; orphans on its own) each run beside a
// bystander: a well-behaved client in a room of its own that sends at a
// steady rate and times send→ack. Its latency before and during the abuse
// says how well the server isolates it.

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/duplex-chat/duplex/app/client"
)

// abuseBystander is a real client that sends at a steady rate and times acks.
type abuseBystander struct {
	c    *client.Client
	room string
}

func startAbuseBystander(ctx context.Context, url string) (*abuseBystander, error) {
	c, err := client.New(url, &client.Options{
		Nick: randomRoom("bystander"), CacheSize: -1,
		OnEvent:    func(client.Event) {}, // nothing to keep; Events stays empty
		HTTPClient: httpClientFor(19999, hostOf(url)),
	})
	if err != nil {
		return nil, err
	}
	b := &abuseBystander{c: c, room: randomRoom("bystander")}
	if err := c.Join(ctx, b.room); err != nil {
		c.Close()
		return nil, fmt.Errorf("bystander join: %w", err)
	}
	return b, nil
}

// measure sends rate messages a second until stop is closed and returns
// the sorted send→ack latencies (waiting up to 10s for late acks);
// unanswered sends are counted as lost.
func (b *abuseBystander) measure(ctx context.Context, stop <-chan struct{}, rate float64) (lat []time.Duration, lost int) {
	var mu sync.Mutex
	var wg sync.WaitGroup
	tick := time.NewTicker(time.Duration(float64(time.Second) / rate))
	defer tick.Stop()
	sent := 0
	for ctx.Err() == nil {
		select {
		case <-tick.C:
		case <-stop:
		}
		select {
		case <-stop:
			wg.Wait()
			slices.Sort(lat)
			return lat, sent - len(lat)
		default:
		}
		sent++
		wg.Go(func() {
			wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			t0 := time.Now()
			if _, err := b.c.SendWait(wctx, b.room, body(40, 0)); err == nil {
				mu.Lock()
				lat = append(lat, time.Since(t0))
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	slices.Sort(lat)
	return lat, sent - len(lat)
}

// after returns a channel closed after d.
func after(d time.Duration) <-chan struct{} {
	ch := make(chan struct{})
	time.AfterFunc(d, func() { close(ch) })
	return ch
}

func (b *abuseBystander) close() { b.c.Close() }

// pct returns the p-quantile of sorted latencies.
func pct(lat []time.Duration, p float64) time.Duration {
	if len(lat) == 0 {
		return 0
	}
	return lat[min(int(float64(len(lat))*p), len(lat)-1)]
}

// sideBySide is the bystander's latency without and with the abuse.
type sideBySide struct {
	base, load   []time.Duration
	lostB, lostL int
	wall, tool   time.Duration // length of the loaded measurement, and the tool's CPU in it
}

func (s sideBySide) ratio() float64 {
	if pct(s.base, .99) == 0 {
		return 0
	}
	return float64(pct(s.load, .99)) / float64(pct(s.base, .99))
}

// selfCPU is this process's CPU time: when it nears the wall time of a
// measurement on a pinned core, the tool, not the server, was the limit.
func selfCPU() time.Duration { return cpuTime(os.Getpid()) }

func (s sideBySide) print(w io.Writer) {
	r := func(d time.Duration) time.Duration { return d.Round(100 * time.Microsecond) }
	fmt.Fprintf(w, "bystander send→ack  baseline p50 %v p99 %v (%d acks, %d lost); under load p50 %v p99 %v (%d acks, %d lost); p99 ratio %.2f\n",
		r(pct(s.base, .5)), r(pct(s.base, .99)), len(s.base), s.lostB, r(pct(s.load, .5)), r(pct(s.load, .99)), len(s.load), s.lostL, s.ratio())
	fmt.Fprintf(w, "load tool CPU       %v in %v (%.0f%% of one core)\n", s.tool.Round(time.Millisecond), s.wall.Round(time.Millisecond), 100*s.tool.Seconds()/max(s.wall.Seconds(), 1e-9))
}

// abuseConfig holds what the workloads share.
type abuseConfig struct {
	common
	byRate float64 // bystander messages per second
}

// base is the part every abusive workload shares.
func (cfg *abuseConfig) base() *abuseConfig { return cfg }

// bystanderConfig is the child process of the abuse workloads.
type bystanderConfig struct{ abuseConfig }

func (cfg *bystanderConfig) run(w io.Writer) error { return runBystanderChild(w, cfg.url, cfg.byRate) }

// withBystander measures the bystander for cfg.duration alone, then
// again while abuse runs, until it returns. The bystander runs in a child
// process (duplex-load bystander): in this one the abusers' goroutines
// would delay its client, and the figure would be the tool's, not the
// server's.
func withBystander(cfg abuseConfig, abuse func(ctx context.Context) error) (sideBySide, error) {
	ctx, cancel := context.WithTimeout(context.Background(), cfg.timeout)
	defer cancel()
	var s sideBySide
	base, err := startChildBystander(ctx, cfg)
	if err != nil {
		return s, err
	}
	time.Sleep(cfg.duration)
	if s.base, s.lostB, err = base.finish(); err != nil {
		return s, err
	}
	load, err := startChildBystander(ctx, cfg)
	if err != nil {
		return s, err
	}
	t0, cpu0 := time.Now(), selfCPU()
	aerr := abuse(ctx)
	s.wall, s.tool = time.Since(t0), selfCPU()-cpu0
	if s.load, s.lostL, err = load.finish(); err != nil {
		return s, err
	}
	return s, aerr
}

// withBystanderWatched is withBystander with the server watched: its RSS
// before (after a GC), and its peak RSS and CPU time while abuse runs.
func withBystanderWatched(cfg abuseConfig, abuse func(ctx context.Context) error) (sideBySide, serverUsage, error) {
	cfg.serverGC(cfg.debugURL)
	u := serverUsage{rss0: rss(cfg.pid)}
	s, err := withBystander(cfg, func(ctx context.Context) error {
		w := watchServer(cfg.pid)
		err := abuse(ctx)
		u.cpu, u.peak = w.cpu(), w.end()
		return err
	})
	return s, u, err
}

// childBystander is a running "duplex-load bystander" process.
type childBystander struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	out   *bufio.Scanner
}

// startChildBystander starts the child and waits until it has joined and
// warmed up.
func startChildBystander(ctx context.Context, cfg abuseConfig) (*childBystander, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, self, "bystander", "-url", cfg.url, "-bystander-rate", strconv.FormatFloat(cfg.byRate, 'f', -1, 64))
	stdin, stdout, err := startChild(cmd)
	if err != nil {
		return nil, err
	}
	c := &childBystander{cmd: cmd, stdin: stdin, out: bufio.NewScanner(stdout)}
	if !c.out.Scan() || c.out.Text() != "ready" {
		cmd.Process.Kill()
		cmd.Wait()
		return nil, fmt.Errorf("bystander did not start: %q", c.out.Text())
	}
	return c, nil
}

// finish stops the child's measurement and reads its latencies.
func (c *childBystander) finish() (lat []time.Duration, lost int, err error) {
	c.stdin.Close()
	for c.out.Scan() {
		f := strings.Fields(c.out.Text())
		if len(f) != 2 {
			continue
		}
		n, _ := strconv.ParseInt(f[1], 10, 64)
		switch f[0] {
		case "lat":
			lat = append(lat, time.Duration(n))
		case "lost":
			lost = int(n)
		}
	}
	if err := c.cmd.Wait(); err != nil {
		return nil, 0, fmt.Errorf("bystander: %w", err)
	}
	slices.Sort(lat)
	return lat, lost, nil
}

// runBystanderChild is the "bystander" subcommand: join, warm up, say
// "ready", then send and time until stdin closes, and print the results.
func runBystanderChild(out io.Writer, url string, rate float64) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	b, err := startAbuseBystander(ctx, url)
	if err != nil {
		return err
	}
	defer b.close()
	b.measure(ctx, after(time.Second), rate)
	fmt.Fprintln(out, "ready")
	stop := make(chan struct{})
	go func() { io.Copy(io.Discard, os.Stdin); close(stop) }()
	lat, lost := b.measure(ctx, stop, rate)
	w := bufio.NewWriter(out)
	for _, l := range lat {
		fmt.Fprintf(w, "lat %d\n", l.Nanoseconds())
	}
	fmt.Fprintf(w, "lost %d\n", lost)
	return w.Flush()
}

// abuseWorkloads are the commands abuse runs, in order, each with its
// defaults.
var abuseWorkloads = []string{"flood", "joinstorm", "history-hog", "reactions", "search", "typing", "bomb", "trickle", "slowdl"}

// abusive is an abusive workload's command.
type abusive interface {
	command
	base() *abuseConfig
}

// abuseBenchConfig runs the abuseWorkloads against one spawned server,
// each with its bystander.
type abuseBenchConfig struct {
	duplexBin, serverCPUs, extra string
	duration                     time.Duration
	clients                      int
}

func (cfg *abuseBenchConfig) run(w io.Writer) error {
	var extra []string
	if cfg.extra != "" {
		extra = strings.Fields(cfg.extra)
	}
	t, err := startDuplexPinned(cfg.duplexBin, cfg.serverCPUs, extra...)
	if err != nil {
		return err
	}
	defer t.stop()
	c := abuseConfig{common: t.common(cfg.duration), byRate: 8} // under the default 10 sends/s
	where := "server and tool unpinned"
	if cfg.serverCPUs != "" {
		where = "server pinned to CPU " + cfg.serverCPUs
	}
	fmt.Fprintf(w, "== abuse workloads against %s (%s), each beside a bystander sending 8 msg/s ==\n\n", cfg.duplexBin, where)
	for _, name := range abuseWorkloads {
		wl := commands()[name].(abusive)
		wl.flags(flag.NewFlagSet(name, flag.ContinueOnError)) // its defaults
		*wl.base() = c
		switch wl := wl.(type) {
		case *joinstormConfig:
			wl.clients = cfg.clients
		case *trickleConfig:
			wl.duration = max(c.duration, 20*time.Second) // tricklers are closed after seconds, not milliseconds
		}
		if err := wl.run(w); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		fmt.Fprintln(w)
	}
	return nil
}
