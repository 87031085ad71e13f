//go:build !(js && wasm)

// Command duplex-load drives a Duplex server (or the naive reference loop)
// with real WebSocket clients built on the client package, and reports
// delivered messages/s, loss, latency percentiles, connect rate, and the
// server's RSS and CPU when it runs on this machine. Every run is bounded
// in time and exits by itself.
//
//	duplex-load fanout -url ws://127.0.0.1:8080/ws -subs 1000 -rate 200 -duration 10s -pid $(pgrep duplex)
//	duplex-load rooms  -url ... -rooms 100 -members 10 -member-rate 0.5
//	duplex-load idle   -url ... -conns 10000 -pid ...
//	duplex-load idle   -url ... -conns 10000 -one-room -pid ...   # join storm into one room
//	duplex-load churn  -url ... -members 300 -cyclers 4 -duration 10s   # presence amplification
//	duplex-load naive-server -addr 127.0.0.1:9100   # the reference broadcast loop
//	duplex-load bench  -duplex ./bin/duplex          # both, same workloads, ratios
//	duplex-load cluster -duplex ./bin/duplex -server-cpus 0   # one node vs a 3-node cluster on NATS (cluster.go)
//	duplex-load flood       -url ... -flooders 8 -duration 10s -pid ...
//	duplex-load joinstorm   -url ... -clients 2000 -pid ...
//	duplex-load history-hog -url ... -hogs 10 -pid ...
//	duplex-load reactions   -url ... -reactors 20 -react-rate 10 -pid ...
//	duplex-load search      -url ... -searchers 4 -pid ...   # pathological searches over a seeded index
//	duplex-load typing      -url ... -flooders 20 -pid ...
//	duplex-load bomb        -url ... -conns 4 -per 3 -pid ...   # decompression bombs
//	duplex-load trickle     -url ... -tricklers 8 -duration 20s -pid ...   # slow uploads beside a victim
//	duplex-load orphans     -url ... -conns 4 -duration 30s   # unused uploads (measure the data directory)
//	duplex-load slowdl      -url ... -stalled 1000 -window 60s -pid ...
//	duplex-load abuse -duplex ./bin/duplex -server-cpus 0   # every workload but orphans, one spawned server
package main

import (
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"strings"
	"time"
)

// A command is a subcommand's configuration: flags declares its flags on
// fs (each field takes its default as its flag is declared), and run runs
// it, printing its report on w.
type command interface {
	flags(fs *flag.FlagSet)
	run(w io.Writer) error
}

// commands returns a fresh configuration of every subcommand by name.
func commands() map[string]command {
	return map[string]command{
		// throughput, memory and presence, reported as a result
		"fanout": new(fanoutConfig), "rooms": new(roomsConfig), "idle": new(idleConfig), "churn": new(churnConfig),
		// abusive, each beside a bystander (abuseWorkloads); orphans on its own
		"flood": new(floodConfig), "joinstorm": new(joinstormConfig), "history-hog": new(historyHogConfig),
		"reactions": new(reactionsConfig), "search": new(searchAbuseConfig), "typing": new(typingFloodConfig),
		"bomb": new(bombConfig), "trickle": new(trickleConfig), "slowdl": new(slowdlConfig), "orphans": new(orphansConfig),
		// servers, and the runs that spawn them
		"naive-server": new(naiveConfig), "bench": new(benchConfig), "abuse": new(abuseBenchConfig),
		"bystander": new(bystanderConfig),                                         // the child process of the abuse workloads
		"cluster":   new(clusterBenchConfig), "nats-server": new(natsChildConfig), // one node vs a cluster (cluster.go), and its NATS child
	}
}

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	name, args := os.Args[1], os.Args[2:]
	// A load generator trades memory for CPU: it shares the machine with
	// the server it measures, so every cycle spent on GC here skews that.
	debug.SetGCPercent(400)
	if f := os.Getenv("DUPLEX_LOAD_CPUPROFILE"); f != "" {
		if out, err := os.Create(f); err == nil {
			pprof.StartCPUProfile(out)
			defer pprof.StopCPUProfile()
		}
	}
	cmd, ok := commands()[name]
	if !ok {
		usage()
	}
	fs := flag.NewFlagSet(name, flag.ExitOnError)
	cmd.flags(fs)
	fs.Parse(args)
	if err := cmd.run(os.Stdout); err != nil {
		pprof.StopCPUProfile()
		fmt.Fprintln(os.Stderr, "duplex-load:", err)
		os.Exit(1)
	}
}

// report runs a workload that returns a result and prints the result on w.
func report[C any](w io.Writer, run func(C) (*result, error), cfg C) error {
	r, err := run(cfg)
	if err == nil {
		r.print(w)
	}
	return err
}

func usage() {
	names := slices.Sorted(maps.Keys(commands()))
	fmt.Fprintf(os.Stderr, "usage: duplex-load %s [flags]  (-h for flags)\n", strings.Join(names, "|"))
	os.Exit(2)
}

// common holds flags every workload has.
type common struct {
	url      string
	naive    bool
	duration time.Duration
	pid      int
	timeout  time.Duration
	debugURL string
	deflate  bool
}

func (c *common) flags(fs *flag.FlagSet) {
	fs.StringVar(&c.url, "url", "ws://127.0.0.1:8080/ws", "server WebSocket URL")
	fs.BoolVar(&c.naive, "naive", false, "the server is the naive reference loop, not Duplex")
	fs.DurationVar(&c.duration, "duration", 10*time.Second, "how long to publish")
	fs.IntVar(&c.pid, "pid", 0, "server process id, to report its RSS and CPU (local servers only)")
	fs.DurationVar(&c.timeout, "timeout", 2*time.Minute, "hard limit for the whole run")
	fs.BoolVar(&c.deflate, "deflate", false, "offer permessage-deflate")
	fs.StringVar(&c.debugURL, "debug-url", "", "server debug listener (duplex -debug-addr), asked to GC before RSS is read")
}

// Each command's flags: the common ones first, where it has them, then
// its own. Their defaults are also what abuse runs its workloads with.

func (cfg *abuseConfig) flags(fs *flag.FlagSet) {
	cfg.common.flags(fs)
	fs.Float64Var(&cfg.byRate, "bystander-rate", 8, "bystander messages per second (keep it under the server's send limit, 10/s by default)")
}

func (cfg *fanoutConfig) flags(fs *flag.FlagSet) {
	cfg.common.flags(fs)
	fs.IntVar(&cfg.subs, "subs", 1000, "subscribers in the room")
	fs.IntVar(&cfg.pubs, "pubs", 1, "publishers")
	fs.Float64Var(&cfg.rate, "rate", 200, "messages per second, all publishers together")
	fs.IntVar(&cfg.size, "size", 100, "message body bytes")
}

func (cfg *roomsConfig) flags(fs *flag.FlagSet) {
	cfg.common.flags(fs)
	fs.IntVar(&cfg.rooms, "rooms", 100, "rooms")
	fs.IntVar(&cfg.members, "members", 10, "members per room, each also sending")
	fs.Float64Var(&cfg.memberRate, "member-rate", 0.5, "messages per second per member")
	fs.IntVar(&cfg.size, "size", 100, "message body bytes")
}

func (cfg *idleConfig) flags(fs *flag.FlagSet) {
	cfg.common.flags(fs)
	fs.IntVar(&cfg.conns, "conns", 10000, "idle connections, each joined to a room")
	fs.BoolVar(&cfg.oneRoom, "one-room", false, "all connections in one room (presence at scale), not rooms of 100")
}

func (cfg *churnConfig) flags(fs *flag.FlagSet) {
	cfg.common.flags(fs)
	fs.IntVar(&cfg.members, "members", 300, "members sitting in the room")
	fs.IntVar(&cfg.cyclers, "cyclers", 4, "sockets cycling join and leave")
}

func (cfg *floodConfig) flags(fs *flag.FlagSet) {
	cfg.abuseConfig.flags(fs)
	fs.IntVar(&cfg.flooders, "flooders", 8, "flooding connections")
}

func (cfg *joinstormConfig) flags(fs *flag.FlagSet) {
	cfg.abuseConfig.flags(fs)
	fs.IntVar(&cfg.clients, "clients", 2000, "connections joining one room")
}

func (cfg *historyHogConfig) flags(fs *flag.FlagSet) {
	cfg.abuseConfig.flags(fs)
	fs.IntVar(&cfg.hogs, "hogs", 10, "connections pipelining history without reading")
	fs.IntVar(&cfg.fill, "fill", 200, "messages put in the room first")
	fs.IntVar(&cfg.size, "size", 4000, "message body bytes")
}

func (cfg *reactionsConfig) flags(fs *flag.FlagSet) {
	cfg.abuseConfig.flags(fs)
	fs.IntVar(&cfg.reactors, "reactors", 20, "connections reacting to one message")
	fs.Float64Var(&cfg.rate, "react-rate", 10, "reactions per second per connection")
}

func (cfg *searchAbuseConfig) flags(fs *flag.FlagSet) {
	cfg.abuseConfig.flags(fs)
	fs.IntVar(&cfg.searchers, "searchers", 4, "connections searching pathologically")
	fs.IntVar(&cfg.seeders, "seeders", 20, "private rooms seeded first, one connection each")
	fs.IntVar(&cfg.seedMsgs, "seed-msgs", 286, "messages per seeded room")
	fs.IntVar(&cfg.seedSize, "seed-size", 4000, "characters per seeded message (distinct random words)")
}

func (cfg *typingFloodConfig) flags(fs *flag.FlagSet) {
	cfg.abuseConfig.flags(fs)
	fs.IntVar(&cfg.flooders, "flooders", 20, "connections flooding typing frames")
}

func (cfg *bombConfig) flags(fs *flag.FlagSet) {
	cfg.abuseConfig.flags(fs)
	fs.IntVar(&cfg.conns, "conns", 4, "connections uploading bombs")
	fs.IntVar(&cfg.per, "per", 3, "bombs each connection uploads, one after another")
	fs.StringVar(&cfg.kind, "kind", "jpeg", "jpeg: the 313 KB progressive CMYK JPEG of issue #14 (~960 MB to decode); png16: a 16-bit PNG just under the default per-image cap (~192 MB), decoded within the budget")
}

func (cfg *trickleConfig) flags(fs *flag.FlagSet) {
	cfg.abuseConfig.flags(fs)
	fs.IntVar(&cfg.tricklers, "tricklers", 8, "connections trickling an upload")
	fs.DurationVar(&cfg.interval, "interval", 5*time.Second, "time between two bytes of a trickled upload")
}

func (cfg *slowdlConfig) flags(fs *flag.FlagSet) {
	cfg.abuseConfig.flags(fs)
	fs.IntVar(&cfg.stalled, "stalled", 1000, "downloads that never read")
	fs.DurationVar(&cfg.window, "window", 60*time.Second, "how long the stalled downloads are watched (-duration is the bystander's baseline)")
	fs.Float64Var(&cfg.honestRate, "honest-rate", 200e3, "bytes per second the honest download reads")
	fs.StringVar(&cfg.path, "path", "/web/app.wasm", "the file downloaded")
	fs.IntVar(&cfg.rcvbuf, "rcvbuf", 4096, "SO_RCVBUF of the stalled clients")
}

func (cfg *orphansConfig) flags(fs *flag.FlagSet) {
	cfg.common.flags(fs)
	fs.IntVar(&cfg.conns, "conns", 4, "connections uploading unused images")
}

func (cfg *naiveConfig) flags(fs *flag.FlagSet) {
	fs.StringVar(&cfg.addr, "addr", "127.0.0.1:9100", "listen address")
	fs.StringVar(&cfg.debugAddr, "debug-addr", "", "debug listener with /debug/gc")
}

func (cfg *benchConfig) flags(fs *flag.FlagSet) {
	fs.StringVar(&cfg.duplexBin, "duplex", "bin/duplex", "the duplex server binary")
	fs.DurationVar(&cfg.duration, "duration", 5*time.Second, "length of each workload")
	fs.IntVar(&cfg.subs, "subs", 1000, "fan-out subscribers")
	fs.StringVar(&cfg.rates, "rates", "50,200,400", "fan-out publish rates to run (msgs/s)")
	fs.IntVar(&cfg.idle, "idle", 10000, "idle connections")
	fs.BoolVar(&cfg.deflate, "deflate", true, "also run fan-out with permessage-deflate")
}

func (cfg *abuseBenchConfig) flags(fs *flag.FlagSet) {
	fs.StringVar(&cfg.duplexBin, "duplex", "bin/duplex", "the duplex server binary")
	fs.StringVar(&cfg.serverCPUs, "server-cpus", "", "pin the server to these CPUs with taskset (e.g. 0; run the tool itself under taskset -c 1)")
	fs.DurationVar(&cfg.duration, "duration", 10*time.Second, "length of each measurement")
	fs.IntVar(&cfg.clients, "clients", 2000, "joinstorm connections")
	fs.StringVar(&cfg.extra, "server-flags", "", "extra flags for the server, space-separated")
}
