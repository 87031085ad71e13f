//go:build !(js && wasm)

package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync/atomic"
	"time"

	"github.com/duplex-chat/duplex/shared"
)

// floodConfig: F connections flood sends as fast as their sockets take
// them, reconnecting whenever they are closed.
type floodConfig struct {
	abuseConfig
	flooders int
}

// floodStats adds up what the flooders saw.
type floodStats struct {
	abuserCounts
	acked, limited, otherErr atomic.Int64
}

func (cfg *floodConfig) run(out io.Writer) error {
	var st floodStats
	var cpuLoad time.Duration
	s, err := withBystander(cfg.abuseConfig, func(ctx context.Context) error {
		ctx, cancel := context.WithTimeout(ctx, cfg.duration)
		defer cancel()
		c0 := cpuTime(cfg.pid)
		inParallel(cfg.flooders, func(i int) { flooder(ctx, cfg, i, &st) })
		<-ctx.Done() // with -flooders 0: a bystander-only control run
		cpuLoad = cpuTime(cfg.pid) - c0
		return nil
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "workload            flood: %d connections pipelining sends, each in a room of its own, reconnecting when closed, for %v\n", cfg.flooders, cfg.duration)
	s.print(out)
	fmt.Fprintf(out, "flooders            %d sends written, %d acked, %d rate_limited, %d other errors; %s\n",
		st.written.Load(), st.acked.Load(), st.limited.Load(), st.otherErr.Load(), st.connections())
	if cpuLoad > 0 {
		fmt.Fprintf(out, "server CPU          %v during the flood (%.0f%% of one core), %.1f µs per request written\n",
			cpuLoad.Round(time.Millisecond), 100*cpuLoad.Seconds()/cfg.duration.Seconds(), float64(cpuLoad.Microseconds())/float64(max(st.written.Load(), 1)))
	}
	return nil
}

// flooder is one abusive connection, reconnected until ctx ends.
func flooder(ctx context.Context, cfg *floodConfig, i int, st *floodStats) {
	room := fmt.Sprintf("flood-%d", i)
	redial(ctx, cfg.url, 20000+i, room, room, func(c *rawConn, k int) {
		send := func(n int) error {
			_, err := c.write(ctx, shared.TypeSend, &shared.Send{Room: room, MsgID: fmt.Sprintf("f%d-%d-%d", i, k, n), Body: "flood " + strings.Repeat("x", 60)})
			return err
		}
		st.flood(ctx, c, send, st.countAnswers)
	})
}

// countAnswers counts the acks and errors in a message to a flooder.
func (st *floodStats) countAnswers(b []byte) {
	shared.DecodeAll(b, func(f shared.Frame, err error) {
		switch p := f.Payload.(type) {
		case *shared.ErrorFrame:
			if p.Code == shared.CodeRateLimited {
				st.limited.Add(1)
			} else {
				st.otherErr.Add(1)
			}
		default:
			if f.Type == shared.TypeAck {
				st.acked.Add(1)
			}
		}
	})
}
