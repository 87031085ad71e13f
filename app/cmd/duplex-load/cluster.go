//go:build !(js && wasm)

package main

// duplex-load cluster measures one node and a three-node cluster in the
// same run, with the same fan-out workload (issue #16): publishers on the
// first node, subscribers spread over the other nodes (on the single node,
// everyone on it), so in the cluster every delivery crosses the room log in
// NATS JetStream. It reports send→receive latency, deliveries/s and the
// server CPU per delivery, the nodes' and NATS's apart.
//
//	taskset -c 1 duplex-load cluster -duplex bin/duplex -server-cpus 0 -duration 20s
//
// The nodes are the duplex binary as child processes; NATS runs in a child
// process too ("duplex-load nats-server", natsrun inside), so that its CPU
// is read from /proc like the nodes' and not mixed with the tool's.

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/duplex-chat/duplex/server/cluster/natsrun"
)

// clusterShape is one configuration the workload runs against.
type clusterShape struct {
	name     string
	nodes    int
	nats     int // NATS servers; 0: a standalone node (SQLite only)
	replicas int
}

var clusterShapes = map[string]clusterShape{
	"single":  {name: "single", nodes: 1},
	"nats1":   {name: "nats1", nodes: 1, nats: 1, replicas: 1},
	"cluster": {name: "cluster", nodes: 3, nats: 3, replicas: 3},
}

type clusterBenchConfig struct {
	duplexBin  string
	serverCPUs string
	shapes     string
	duration   time.Duration
	warmup     time.Duration
	subs, pubs int
	rateList   string // -rates, parsed into rates by run
	rates      []float64
	size       int
}

// clusterResult is one configuration's figures.
type clusterResult struct {
	shape          clusterShape
	rate           float64
	r              *result
	nodeCPU, nats  time.Duration
	tool           time.Duration
	wall           time.Duration // first send to last delivery
	idleNodes      time.Duration // CPU over idleWindow with the clients connected and silent
	idleNATS       time.Duration
	perNode        []time.Duration
	subsOn, pubsOn string
}

func (c *clusterResult) cpuPerDelivery() time.Duration {
	return (c.nodeCPU + c.nats) / time.Duration(max(c.r.delivered, 1))
}

func (cfg *clusterBenchConfig) flags(fs *flag.FlagSet) {
	fs.StringVar(&cfg.duplexBin, "duplex", "bin/duplex", "the duplex server binary")
	fs.StringVar(&cfg.serverCPUs, "server-cpus", "", "pin every node and the NATS servers to these CPUs with taskset (e.g. 0; run the tool itself under taskset -c 1)")
	fs.StringVar(&cfg.shapes, "configs", "single,cluster", "configurations, in order: single (one node, SQLite only), nats1 (one node on one NATS server, R1), cluster (three nodes on three NATS servers, R3)")
	fs.DurationVar(&cfg.duration, "duration", 20*time.Second, "how long each configuration is measured")
	fs.DurationVar(&cfg.warmup, "warmup", 3*time.Second, "an unreported run first, in the same room")
	fs.IntVar(&cfg.subs, "subs", 200, "subscribers in the room")
	fs.IntVar(&cfg.pubs, "pubs", 2, "publishers")
	fs.StringVar(&cfg.rateList, "rates", "100,400", "publish rates to measure, one after another on each configuration (messages per second, all publishers together)")
	fs.IntVar(&cfg.size, "size", 100, "message body bytes")
}

// run measures every configuration of -configs at every rate.
func (cfg *clusterBenchConfig) run(w io.Writer) error {
	for _, s := range strings.Split(cfg.rateList, ",") {
		r, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil || r <= 0 {
			return fmt.Errorf("-rates: bad rate %q", s)
		}
		cfg.rates = append(cfg.rates, r)
	}

	host, _ := os.Hostname()
	fmt.Printf("machine: %s, %d cores; load tool, nodes and NATS on the same machine", host, machineCPUs())
	if cfg.serverCPUs != "" {
		fmt.Printf(" (nodes and NATS pinned to CPUs %s)", cfg.serverCPUs)
	}
	fmt.Printf("\nworkload: %d publishers at %s msg/s in all, %d subscribers, %d-byte bodies, %v per rate and configuration\n\n",
		cfg.pubs, cfg.rateList, cfg.subs, cfg.size, cfg.duration)
	var results []*clusterResult
	for _, name := range strings.Split(cfg.shapes, ",") {
		shape, ok := clusterShapes[strings.TrimSpace(name)]
		if !ok {
			return fmt.Errorf("-configs: no configuration %q", name)
		}
		res, err := runClusterShape(*cfg, shape, func(res *clusterResult) {
			res.print(os.Stdout)
			fmt.Println()
		})
		if err != nil {
			return fmt.Errorf("%s: %w", shape.name, err)
		}
		results = append(results, res...)
	}

	fmt.Println("== one node vs a cluster, same run ==")
	fmt.Println("(delivered/s and CPU over the time from the first send to the last delivery)")
	fmt.Printf("%-26s %6s %11s %9s %9s %6s %13s %10s %10s %10s\n", "configuration", "msg/s", "delivered/s", "p50", "p99", "lost", "CPU/delivery", "CPU/msg", "nodes CPU", "NATS CPU")
	for _, c := range results {
		fmt.Printf("%-26s %6.0f %11.0f %9v %9v %6d %11.1fµs %8.2fms %9.0f%% %9.0f%%\n", c.label(), c.r.sentRate(), c.deliveryRate(),
			c.r.pct(.5).Round(100*time.Microsecond), c.r.pct(.99).Round(100*time.Microsecond), c.r.loss(),
			float64(c.cpuPerDelivery())/float64(time.Microsecond), float64(c.nodeCPU+c.nats)/float64(max(c.r.sent, 1))/float64(time.Millisecond),
			100*c.nodeCPU.Seconds()/c.wall.Seconds(), 100*c.nats.Seconds()/c.wall.Seconds())
	}
	return nil
}

// deliveryRate is deliveries per second from the first send to the last
// delivery: a configuration that falls behind takes longer than the
// publishing window to deliver.
func (c *clusterResult) deliveryRate() float64 {
	return float64(c.r.delivered) / max(c.wall.Seconds(), 1e-9)
}

// idleWindow is how long each configuration's idle cost is measured.
const idleWindow = 3 * time.Second

func (c *clusterResult) label() string {
	switch {
	case c.shape.nats == 0:
		return "1 node (SQLite)"
	case c.shape.nodes == 1:
		return fmt.Sprintf("1 node on %d NATS (R%d)", c.shape.nats, c.shape.replicas)
	}
	return fmt.Sprintf("%d nodes on %d NATS (R%d)", c.shape.nodes, c.shape.nats, c.shape.replicas)
}

func (c *clusterResult) print(w io.Writer) {
	fmt.Fprintf(w, "[%s] publishers on %s, subscribers on %s\n", c.label(), c.pubsOn, c.subsOn)
	c.r.print(w)
	var per []string
	for i, d := range c.perNode {
		per = append(per, fmt.Sprintf("node-%d %v", i+1, d.Round(time.Millisecond)))
	}
	fmt.Fprintf(w, "CPU by process      %s; NATS %v; %.1f µs per delivery\n", strings.Join(per, ", "), c.nats.Round(time.Millisecond), float64(c.cpuPerDelivery())/float64(time.Microsecond))
	fmt.Fprintf(w, "first send to last  %v: %.0f deliveries/s, nodes %.0f%% and NATS %.0f%% of one core (idle: %.1f%% and %.1f%%)\n",
		c.wall.Round(time.Millisecond), c.deliveryRate(), 100*c.nodeCPU.Seconds()/c.wall.Seconds(), 100*c.nats.Seconds()/c.wall.Seconds(),
		100*c.idleNodes.Seconds()/idleWindow.Seconds(), 100*c.idleNATS.Seconds()/idleWindow.Seconds())
	fmt.Fprintf(w, "load tool CPU       %v (%.0f%% of one core)\n", c.tool.Round(time.Millisecond), 100*c.tool.Seconds()/c.wall.Seconds())
}

// runClusterShape starts a configuration, runs the workload once to warm
// up and once measured per rate (each result handed to done as it is
// measured), and stops it.
func runClusterShape(cfg clusterBenchConfig, shape clusterShape, done func(*clusterResult)) ([]*clusterResult, error) {
	dir, err := os.MkdirTemp("", "duplex-cluster-bench-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	var natsProc *natsChild
	natsURL := ""
	if shape.nats > 0 {
		if natsProc, err = startNATSChild(filepath.Join(dir, "nats"), shape.nats, cfg.serverCPUs); err != nil {
			return nil, err
		}
		defer natsProc.stop()
		natsURL = natsProc.url
	}
	var nodes []*target
	defer func() {
		for _, t := range nodes {
			t.stop() // before NATS (deferred earlier, so run later)
		}
	}()
	for i := range shape.nodes {
		name := fmt.Sprintf("node-%d", i+1)
		port, dport := freePort(), freePort()
		argv := []string{cfg.duplexBin, "-addr", fmt.Sprintf("127.0.0.1:%d", port), "-data", filepath.Join(dir, name),
			"-debug-addr", fmt.Sprintf("127.0.0.1:%d", dport), "-queue", "4096", "-no-limits"}
		if natsURL != "" {
			argv = append(argv, "-nats-url", natsURL, "-nats-replicas", strconv.Itoa(shape.replicas), "-node-name", name)
		}
		env := []string{"GOMAXPROCS=2"}
		if cfg.serverCPUs != "" {
			argv, env = append([]string{"taskset", "-c", cfg.serverCPUs}, argv...), nil
		}
		t, err := startTarget("duplex", argv, env, port, dport)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		nodes = append(nodes, t)
	}

	// Publishers on the first node; subscribers on the others, or on the
	// only one.
	subNodes := nodes
	if len(nodes) > 1 {
		subNodes = nodes[1:]
	}
	var on []string
	for i := range subNodes {
		on = append(on, fmt.Sprintf("node-%d", len(nodes)-len(subNodes)+i+1))
	}

	timeout := cfg.warmup + time.Duration(len(cfg.rates))*(cfg.duration+time.Minute) + 2*time.Minute
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	room := randomRoom("cluster")
	recv := make([]*receiver, cfg.subs)
	subs, dur, err := dialMany(ctx, cfg.subs, func(i int) (peer, error) {
		recv[i] = &receiver{seen: make(map[int64]struct{})}
		return asPeer(dialDuplex(ctx, subNodes[i%len(subNodes)].ws, room, i, false, recv[i].onBody))
	})
	if err != nil {
		return nil, err
	}
	defer closeAll(subs)
	pubs, _, err := dialMany(ctx, cfg.pubs, func(i int) (peer, error) {
		return asPeer(dialDuplex(ctx, nodes[0].ws, room, cfg.subs+i, false, nil))
	})
	if err != nil {
		return nil, err
	}
	defer closeAll(pubs)
	settle(time.Second, 30*time.Second)

	reset := func() {
		for _, rc := range recv {
			rc.mu.Lock()
			rc.count, rc.dups, rc.lat = 0, 0, nil
			clear(rc.seen)
			rc.mu.Unlock()
		}
	}
	if cfg.warmup > 0 {
		sent, _ := publish(ctx, pubs, cfg.rates[0], cfg.warmup, cfg.size)
		waitDelivered(ctx, recv, sent*int64(cfg.subs), 5*time.Second)
		reset()
	}

	cpu := func() (nodeCPU []time.Duration, nats time.Duration) {
		for _, t := range nodes {
			nodeCPU = append(nodeCPU, cpuTime(t.cmd.Process.Pid))
		}
		if natsProc != nil {
			nats = cpuTime(natsProc.cmd.Process.Pid)
		}
		return nodeCPU, nats
	}
	// What the configuration costs doing nothing, clients connected: the
	// NATS cluster's heartbeats, the nodes' timers.
	in0, inats0 := cpu()
	time.Sleep(idleWindow)
	in1, inats1 := cpu()
	var idleNodes time.Duration
	for i := range in1 {
		idleNodes += in1[i] - in0[i]
	}
	var out []*clusterResult
	for _, rate := range cfg.rates {
		res := &clusterResult{shape: shape, rate: rate, pubsOn: "node-1", subsOn: strings.Join(on, ", "), idleNodes: idleNodes, idleNATS: inats1 - inats0}
		r := &result{name: fmt.Sprintf("fanout %s subs=%d pubs=%d rate=%.0f/s size=%dB", shape.name, cfg.subs, cfg.pubs, rate, cfg.size)}
		r.conns, r.connectDur = cfg.subs, dur
		n0, nats0 := cpu()
		tool0, t0 := selfCPU(), time.Now()
		sent, errs := publish(ctx, pubs, rate, cfg.duration, cfg.size)
		r.duration = cfg.duration
		r.sent, r.errs = sent, errs
		r.expected = sent * int64(cfg.subs)
		waitDelivered(ctx, recv, r.expected, 5*time.Second)
		res.wall = time.Since(t0)
		n1, nats1 := cpu()
		res.tool = selfCPU() - tool0
		for i := range n1 {
			d := n1[i] - n0[i]
			res.perNode = append(res.perNode, d)
			res.nodeCPU += d
		}
		res.nats = nats1 - nats0
		r.cpu = res.nodeCPU + res.nats
		collect(r, recv)
		if r.delivered < r.expected {
			res.wall -= 5 * time.Second // waitDelivered's quiet time
		}
		reset()
		res.r = r
		done(res)
		out = append(out, res)
		if ctx.Err() != nil {
			return out, ctx.Err()
		}
	}
	return out, nil
}

// machineCPUs is the machine's CPU count, not the tool's affinity (the
// tool is usually pinned to one).
func machineCPUs() int {
	b, _ := os.ReadFile("/proc/cpuinfo")
	n := 0
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "processor") {
			n++
		}
	}
	if n == 0 {
		return runtime.NumCPU()
	}
	return n
}

// natsChild is a "duplex-load nats-server" process.
type natsChild struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	url   string
}

func startNATSChild(dir string, n int, cpus string) (*natsChild, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	argv := []string{self, "nats-server", "-dir", dir, "-n", strconv.Itoa(n)}
	if cpus != "" {
		argv = append([]string{"taskset", "-c", cpus}, argv...)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	stdin, stdout, err := startChild(cmd)
	if err != nil {
		return nil, err
	}
	c := &natsChild{cmd: cmd, stdin: stdin}
	line := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		if sc.Scan() {
			line <- sc.Text()
		}
		close(line)
		io.Copy(io.Discard, stdout)
	}()
	select {
	case l, ok := <-line:
		if u, found := strings.CutPrefix(l, "nats "); ok && found {
			c.url = u
			return c, nil
		}
	case <-time.After(90 * time.Second):
	}
	c.stop()
	return nil, fmt.Errorf("the NATS servers did not start")
}

// stop closes the child's stdin, which stops it; killed after 20 s.
func (c *natsChild) stop() {
	c.stdin.Close()
	waitOrKill(c.cmd, 20*time.Second)
}

// natsChildConfig is the child: it runs n NATS servers with JetStream under
// dir, prints "nats URL", and stops them when its stdin closes (the tool
// ended, however) or on SIGINT/SIGTERM.
type natsChildConfig struct {
	dir string
	n   int
}

func (c *natsChildConfig) flags(fs *flag.FlagSet) {
	fs.StringVar(&c.dir, "dir", "", "directory of the JetStream files")
	fs.IntVar(&c.n, "n", 3, "servers")
}

func (c *natsChildConfig) run(io.Writer) error {
	if c.dir == "" {
		return fmt.Errorf("nats-server: -dir is required")
	}
	nc, err := natsrun.Start(c.dir, c.n)
	if err != nil {
		return err
	}
	defer nc.Shutdown()
	fmt.Println("nats " + nc.URL())
	done := make(chan struct{})
	go func() { io.Copy(io.Discard, os.Stdin); close(done) }()
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	select {
	case <-done:
	case <-sig:
	}
	return nil
}
