//go:build !(js && wasm)

package main

import (
	"context"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"github.com/duplex-chat/duplex/shared"
)

type churnConfig struct {
	common
	members, cyclers int
}

func (cfg *churnConfig) run(w io.Writer) error {
	if err := cfg.duplexOnly("churn", "presence"); err != nil {
		return err
	}
	return report(w, runChurn, *cfg)
}

// runChurn: M members sit in one room and read; C sockets cycle join and
// leave in it for the duration. It reports the presence bytes the members
// received against the bytes of the cyclers' requests: the amplification
// of churn. Raw sockets, so every frame is counted as sent.
func runChurn(cfg churnConfig) (*result, error) {
	ctx, cancel := context.WithTimeout(context.Background(), cfg.timeout)
	defer cancel()
	room := randomRoom("churn")
	r := &result{name: fmt.Sprintf("churn members=%d cyclers=%d", cfg.members, cfg.cyclers)}
	var presenceBytes, presenceFrames atomic.Int64
	var counting atomic.Bool
	var conns []*websocket.Conn
	defer func() {
		for _, c := range conns {
			c.CloseNow()
		}
	}()
	start := time.Now()
	for i := range cfg.members {
		c, err := dialRaw(ctx, cfg.url, i, fmt.Sprintf("churn-member-%d", i))
		if err != nil {
			return nil, err
		}
		conns = append(conns, c)
		if err := writeFrame(ctx, c, shared.TypeJoin, "j", &shared.Join{Room: room}); err != nil {
			return nil, err
		}
		go func() {
			for {
				_, b, err := c.Read(context.Background())
				if err != nil {
					return
				}
				if !counting.Load() {
					continue
				}
				shared.DecodeAll(b, func(f shared.Frame, err error) {
					switch f.Type {
					case shared.TypePresence, shared.TypePresenceDiff, shared.TypeMemberJoined, shared.TypeMemberLeft:
						raw, _ := shared.Encode(f.Type, "", f.Payload)
						presenceFrames.Add(1)
						presenceBytes.Add(int64(len(raw)))
					}
				})
			}
		}()
	}
	r.conns, r.connectDur = cfg.members, time.Since(start)
	time.Sleep(2 * time.Second) // the join storm's own presence
	counting.Store(true)
	var in, cycles atomic.Int64
	var wg sync.WaitGroup
	end := time.Now().Add(cfg.duration)
	for k := range cfg.cyclers {
		c, err := dialRaw(ctx, cfg.url, cfg.members+k, fmt.Sprintf("churn-cycler-%d", k))
		if err != nil {
			return nil, err
		}
		conns = append(conns, c)
		go func() { // answers are read and dropped
			for {
				if _, _, err := c.Read(context.Background()); err != nil {
					return
				}
			}
		}()
		wg.Go(func() {
			for n := 0; time.Now().Before(end) && ctx.Err() == nil; n++ {
				j, _ := shared.Encode(shared.TypeJoin, fmt.Sprint("j", n), &shared.Join{Room: room})
				l, _ := shared.Encode(shared.TypeLeave, fmt.Sprint("l", n), &shared.Leave{Room: room})
				if c.Write(ctx, websocket.MessageText, j) != nil || c.Write(ctx, websocket.MessageText, l) != nil {
					return
				}
				in.Add(int64(len(j) + len(l)))
				cycles.Add(1)
				time.Sleep(5 * time.Millisecond)
			}
		})
	}
	wg.Wait()
	time.Sleep(time.Second) // the last flush
	counting.Store(false)
	r.duration = cfg.duration
	out := presenceBytes.Load()
	r.notes = append(r.notes,
		fmt.Sprintf("churn               %d join/leave cycles, %.2f MiB of requests", cycles.Load(), mib(in.Load())),
		fmt.Sprintf("presence received   %d frames, %.2f MiB by all members (%.1f KB/s)", presenceFrames.Load(), mib(out), float64(out)/(cfg.duration.Seconds()+1)/1000),
		fmt.Sprintf("amplification       %.2f (presence bytes out / churn bytes in)", float64(out)/float64(max(in.Load(), 1))))
	return r, nil
}

// dialRaw opens a plain duplex.v1 socket and says hello.
func dialRaw(ctx context.Context, url string, i int, nick string) (*websocket.Conn, error) {
	c, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{Subprotocols: []string{shared.Protocol}, HTTPClient: httpClientFor(i, hostOf(url))})
	if err != nil {
		return nil, err
	}
	c.SetReadLimit(64 << 20)
	if err := writeFrame(ctx, c, shared.TypeHello, "h", &shared.Hello{Nick: nick}); err != nil {
		c.CloseNow()
		return nil, err
	}
	return c, nil
}

func writeFrame(ctx context.Context, c *websocket.Conn, t shared.Type, id string, p any) error {
	b, err := shared.Encode(t, id, p)
	if err != nil {
		return err
	}
	return c.Write(ctx, websocket.MessageText, b)
}
