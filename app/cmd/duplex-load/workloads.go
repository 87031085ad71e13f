//go:build !(js && wasm)

package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	mathrand "math/rand/v2"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

type fanoutConfig struct {
	common
	subs, pubs, size int
	rate             float64
}

func (cfg *fanoutConfig) run(w io.Writer) error { return report(w, runFanout, *cfg) }

type roomsConfig struct {
	common
	rooms, members, size int
	memberRate           float64
}

func (cfg *roomsConfig) run(w io.Writer) error {
	if err := cfg.duplexOnly("rooms", "rooms"); err != nil {
		return err
	}
	return report(w, runRooms, *cfg)
}

type idleConfig struct {
	common
	conns   int
	oneRoom bool // every connection in one room: presence at scale
}

func (cfg *idleConfig) run(w io.Writer) error { return report(w, runIdle, *cfg) }

// receiver counts and times the deliveries of one subscriber. Bodies carry
// a publish number n; seen detects duplicates.
type receiver struct {
	mu    sync.Mutex
	count int64
	dups  int64
	seen  map[int64]struct{}
	lat   []time.Duration
}

func (r *receiver) onBody(b string) {
	now := time.Now()
	t, ok := sentAt(b)
	n := publishNumber(b)
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.seen[n]; dup {
		r.dups++
		return
	}
	r.seen[n] = struct{}{}
	r.count++
	if ok {
		r.lat = append(r.lat, now.Sub(t))
	}
}

func publishNumber(b string) int64 {
	_, rest, ok := strings.Cut(b, " n=")
	if !ok {
		return -1
	}
	ns, _, _ := strings.Cut(rest, " ")
	n, _ := strconv.ParseInt(ns, 10, 64)
	return n
}

func randomRoom(prefix string) string {
	var b [4]byte
	rand.Read(b[:])
	return prefix + "-" + hex.EncodeToString(b[:])
}

func (c *common) dial(ctx context.Context, room string, i int, onBody func(string)) (peer, error) {
	if c.naive {
		return asPeer(dialNaive(ctx, c.url, i, onBody))
	}
	return asPeer(dialDuplex(ctx, c.url, room, i, c.deflate, onBody))
}

// asPeer returns what a dial returned as a peer: nil, not a typed nil in
// the interface, when it failed.
func asPeer[P peer](p P, err error) (peer, error) {
	if err != nil {
		return nil, err
	}
	return p, nil
}

// duplexOnly refuses the naive loop for a workload that needs what it
// lacks.
func (c *common) duplexOnly(workload, lacks string) error {
	if c.naive {
		return fmt.Errorf("the naive loop has no %s; run %s against Duplex", lacks, workload)
	}
	return nil
}

// serverGC asks the server's debug listener to collect garbage and return
// memory to the OS, so RSS reflects live memory.
func (c *common) serverGC(debugURL string) {
	if debugURL == "" {
		return
	}
	if resp, err := http.Get(debugURL + "/debug/gc"); err == nil {
		resp.Body.Close()
	}
	time.Sleep(200 * time.Millisecond)
}

// runFanout: S subscribers in one room, P publishers at a total rate R.
func runFanout(cfg fanoutConfig) (*result, error) {
	ctx, cancel := context.WithTimeout(context.Background(), cfg.timeout)
	defer cancel()
	room := randomRoom("fanout")
	r := &result{name: fmt.Sprintf("fanout subs=%d pubs=%d rate=%.0f/s size=%dB naive=%v", cfg.subs, cfg.pubs, cfg.rate, cfg.size, cfg.naive)}
	r.rssBefore = rss(cfg.pid)
	recv := make([]*receiver, cfg.subs)
	subs, dur, err := dialMany(ctx, cfg.subs, func(i int) (peer, error) {
		recv[i] = &receiver{seen: make(map[int64]struct{}, int(cfg.rate*cfg.duration.Seconds())+16)}
		return cfg.dial(ctx, room, i, recv[i].onBody)
	})
	if err != nil {
		return nil, err
	}
	defer closeAll(subs)
	r.conns, r.connectDur = cfg.subs, dur
	r.rssAfter = rss(cfg.pid)
	pubs, _, err := dialMany(ctx, cfg.pubs, func(i int) (peer, error) {
		return cfg.dial(ctx, room, cfg.subs+i, nil)
	})
	if err != nil {
		return nil, err
	}
	defer closeAll(pubs)
	// Let the join storm settle (presence events of 1,000 joins reach every
	// member) so the measurement sees steady-state fan-out only.
	time.Sleep(time.Second)
	settle(time.Second, 30*time.Second)

	cpu0, w0 := cpuTime(cfg.pid), bytesWritten(cfg.pid)
	sent, errs := publish(ctx, pubs, cfg.rate, cfg.duration, cfg.size)
	r.duration = cfg.duration
	r.sent, r.errs = sent, errs
	r.expected = sent * int64(cfg.subs)
	waitDelivered(ctx, recv, r.expected, 5*time.Second)
	r.cpu, r.written = cpuTime(cfg.pid)-cpu0, bytesWritten(cfg.pid)-w0
	collect(r, recv)
	return r, nil
}

// publish sends at rate msgs/s spread over the publishers for d, in 5 ms
// ticks, and returns how many were handed to the connections.
func publish(ctx context.Context, pubs []peer, rate float64, d time.Duration, size int) (sent, errs int64) {
	var n atomic.Int64
	var bad atomic.Int64
	var wg sync.WaitGroup
	per := rate / float64(len(pubs))
	begin := time.Now()
	for pi, p := range pubs {
		wg.Go(func() {
			// A random phase, so that many slow publishers do not all send
			// at the same instants.
			start := time.Now().Add(-time.Duration(mathrand.Float64() * float64(time.Second) / per))
			if per >= 200 {
				start = time.Now()
			}
			tick := time.NewTicker(5 * time.Millisecond)
			defer tick.Stop()
			var done int64
			for range tick.C {
				el := time.Since(start)
				if time.Since(begin) >= d || ctx.Err() != nil {
					return
				}
				due := int64(per * el.Seconds())
				for ; done < due; done++ {
					num := int64(pi)*1_000_000_000 + done
					if err := p.publish(body(size, num)); err != nil {
						bad.Add(1)
						continue
					}
					n.Add(1)
				}
			}
		})
	}
	wg.Wait()
	return n.Load(), bad.Load()
}

// waitDelivered waits until every expected delivery arrived, or until
// nothing new arrived for quiet.
func waitDelivered(ctx context.Context, recv []*receiver, expected int64, quiet time.Duration) {
	last, lastChange := int64(-1), time.Now()
	for ctx.Err() == nil {
		var got int64
		for _, r := range recv {
			r.mu.Lock()
			got += r.count
			r.mu.Unlock()
		}
		if got >= expected {
			return
		}
		if got != last {
			last, lastChange = got, time.Now()
		} else if time.Since(lastChange) > quiet {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func collect(r *result, recv []*receiver) {
	var l latencies
	for _, rc := range recv {
		rc.mu.Lock()
		r.delivered += rc.count
		r.duplicates += rc.dups
		l.add(rc.lat)
		rc.mu.Unlock()
	}
	r.lat = l.sorted()
}

// runRooms: many rooms of M members, every member sending at a rate.
func runRooms(cfg roomsConfig) (*result, error) {
	ctx, cancel := context.WithTimeout(context.Background(), cfg.timeout)
	defer cancel()
	prefix := randomRoom("rooms")
	n := cfg.rooms * cfg.members
	r := &result{name: fmt.Sprintf("rooms rooms=%d members=%d member-rate=%.2f/s size=%dB", cfg.rooms, cfg.members, cfg.memberRate, cfg.size)}
	r.rssBefore = rss(cfg.pid)
	recv := make([]*receiver, n)
	peers, dur, err := dialMany(ctx, n, func(i int) (peer, error) {
		recv[i] = &receiver{seen: make(map[int64]struct{})}
		return cfg.dial(ctx, fmt.Sprintf("%s-%d", prefix, i/cfg.members), i, recv[i].onBody)
	})
	if err != nil {
		return nil, err
	}
	defer closeAll(peers)
	r.conns, r.connectDur = n, dur
	r.rssAfter = rss(cfg.pid)
	cpu0 := cpuTime(cfg.pid)
	var sent, errs atomic.Int64
	var wg sync.WaitGroup
	for room := 0; room < cfg.rooms; room++ {
		wg.Go(func() {
			members := peers[room*cfg.members : (room+1)*cfg.members]
			s, e := publish(ctx, members, cfg.memberRate*float64(cfg.members), cfg.duration, cfg.size)
			sent.Add(s)
			errs.Add(e)
		})
	}
	wg.Wait()
	r.duration = cfg.duration
	r.sent, r.errs = sent.Load(), errs.Load()
	r.expected = r.sent * int64(cfg.members) // members receive their own messages too
	waitDelivered(ctx, recv, r.expected, 5*time.Second)
	r.cpu = cpuTime(cfg.pid) - cpu0
	collect(r, recv)
	return r, nil
}

// runIdle: C connections joined and silent, in rooms of 100 or all in one
// room; reports the join time, RSS per connection, the bytes the server
// sent to the connections (welcome, join ack and presence) and, while the
// connections join, the send->ack p99 of a bystander in a room of its own
// against its baseline before.
func runIdle(cfg idleConfig) (*result, error) {
	ctx, cancel := context.WithTimeout(context.Background(), cfg.timeout)
	defer cancel()
	raiseFileLimit(uint64(cfg.conns) + 1024)
	r := &result{name: fmt.Sprintf("idle conns=%d one-room=%v naive=%v", cfg.conns, cfg.oneRoom, cfg.naive)}
	debugURL := cfg.debugURL
	cfg.serverGC(debugURL)
	r.rssBefore = rss(cfg.pid)
	room := randomRoom("idle")
	var by *bystander
	if !cfg.naive {
		p, err := dialDuplex(ctx, cfg.url, randomRoom("bystander"), cfg.conns, cfg.deflate, nil)
		if err != nil {
			return nil, fmt.Errorf("bystander: %w", err)
		}
		defer p.close()
		by = startBystander(ctx, p)
		time.Sleep(2 * time.Second) // its baseline
		by.phase()
	}
	sent0 := socketBytesSent(cfg.url)
	peers, dur, err := dialMany(ctx, cfg.conns, func(i int) (peer, error) {
		if cfg.oneRoom {
			return cfg.dial(ctx, room, i, nil)
		}
		return cfg.dial(ctx, fmt.Sprintf("%s-%d", room, i/100), i, nil)
	})
	if err != nil {
		return nil, err
	}
	defer closeAll(peers)
	r.conns, r.connectDur = cfg.conns, dur
	if by != nil {
		base, storm := by.stop()
		r.notes = append(r.notes, fmt.Sprintf("bystander send->ack p99  %v before, %v during the joins (%.2fx)",
			base.Round(10*time.Microsecond), storm.Round(10*time.Microsecond), float64(storm)/float64(max(base, 1))))
	}
	settle(time.Second, 30*time.Second) // the presence of the last joins
	if sent := socketBytesSent(cfg.url); sent0 >= 0 && sent >= 0 {
		// The sockets that exist now: the joined ones and the bystander.
		r.notes = append(r.notes, fmt.Sprintf("server sent         %.1f MiB on its sockets (%.0f bytes per connection: welcome, join ack, presence)", mib(sent-sent0), float64(sent-sent0)/float64(cfg.conns)))
	}
	time.Sleep(time.Second)
	cfg.serverGC(debugURL)
	r.rssAfter = rss(cfg.pid)
	if d := os.Getenv("DUPLEX_LOAD_HOLD"); d != "" { // keep the connections open for inspection
		if hold, err := time.ParseDuration(d); err == nil {
			time.Sleep(hold)
		}
	}
	return r, nil
}

// bystander sends one message every 20 ms from its own room and times
// each send->ack, in phases.
type bystander struct {
	mu     sync.Mutex
	phases [][]time.Duration
	done   chan struct{}
	ended  chan struct{}
}

func startBystander(ctx context.Context, p *duplexPeer) *bystander {
	b := &bystander{phases: make([][]time.Duration, 1), done: make(chan struct{}), ended: make(chan struct{})}
	go func() {
		defer close(b.ended)
		for i := 0; ; i++ {
			select {
			case <-b.done:
				return
			case <-time.After(20 * time.Millisecond):
			}
			start := time.Now()
			sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
			_, err := p.c.SendWait(sctx, p.room, fmt.Sprintf("bystander %d", i))
			cancel()
			if err == nil {
				b.mu.Lock()
				b.phases[len(b.phases)-1] = append(b.phases[len(b.phases)-1], time.Since(start))
				b.mu.Unlock()
			}
		}
	}()
	return b
}

// phase starts a new measuring phase.
func (b *bystander) phase() {
	b.mu.Lock()
	b.phases = append(b.phases, nil)
	b.mu.Unlock()
}

// stop ends the bystander and returns the p99 of the first two phases.
func (b *bystander) stop() (base, during time.Duration) {
	close(b.done)
	<-b.ended
	p99 := func(l []time.Duration) time.Duration {
		if len(l) == 0 {
			return 0
		}
		slices.Sort(l)
		return l[min(len(l)*99/100, len(l)-1)]
	}
	return p99(b.phases[0]), p99(b.phases[1])
}
