//go:build !(js && wasm)

package main

import (
	"context"
	"fmt"
	"io"
	"sync/atomic"
	"time"

	"github.com/duplex-chat/duplex/shared"
)

// joinstormConfig: N raw connections join one room as fast as they can.
type joinstormConfig struct {
	abuseConfig
	clients int
}

// run reports the time until all N are joined, the bytes they
// received (presence: nobody sends in the room), and the bystander.
func (cfg *joinstormConfig) run(out io.Writer) error {
	raiseFileLimit(uint64(cfg.clients) + 1024)
	room := randomRoom("storm")
	var joinDur, settleDur time.Duration
	var bytes, frames atomic.Int64
	var failed atomic.Int64
	u := serverUsage{rss0: rss(cfg.pid)}
	s, err := withBystander(cfg.abuseConfig, func(ctx context.Context) error {
		w := watchServer(cfg.pid)
		defer func() { u.peak = w.end() }()
		begin := time.Now()
		conns := make([]*rawConn, cfg.clients)
		inParallelAtMost(ctx, len(conns), 64, func(i int) {
			c, err := dialAbuser(ctx, cfg.url, i, fmt.Sprintf("storm-%d", i), room)
			if err != nil {
				failed.Add(1)
				return
			}
			conns[i] = c
			c.readUntilClosed(func(b []byte) { // count everything the room sends it
				bytes.Add(int64(len(b)))
				shared.DecodeAll(b, func(shared.Frame, error) { frames.Add(1) })
			})
		})
		joinDur = time.Since(begin)
		settle := time.Now()
		for last := int64(-1); ctx.Err() == nil; { // until the presence traffic dies down
			n := bytes.Load()
			if n == last {
				break
			}
			last = n
			time.Sleep(time.Second)
		}
		settleDur = time.Since(settle)
		u.cpu = w.cpu() // before the closes: the storm's cost, not the leaving's
		for _, c := range conns {
			if c != nil {
				c.conn.CloseNow()
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	n := int64(cfg.clients) - failed.Load()
	fmt.Fprintf(out, "workload            joinstorm: %d connections join one room (64 dialling at a time)\n", cfg.clients)
	fmt.Fprintf(out, "joined              %d of %d in %v (then %v until presence traffic stopped)\n", n, cfg.clients, joinDur.Round(time.Millisecond), settleDur.Round(time.Millisecond))
	fmt.Fprintf(out, "presence received   %.1f MiB in %d frames; %.1f KiB per client\n", mib(bytes.Load()), frames.Load(), float64(bytes.Load())/1024/float64(max(n, 1)))
	if u.peak > 0 {
		fmt.Fprintf(out, "server              RSS %.0f MiB -> peak %.0f MiB; CPU %v for the storm, %.1f µs per frame delivered\n", mib(u.rss0), mib(u.peak), u.cpu.Round(time.Millisecond), float64(u.cpu.Microseconds())/float64(max(frames.Load(), 1)))
	}
	s.print(out)
	return nil
}
