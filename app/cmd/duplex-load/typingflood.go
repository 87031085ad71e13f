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

// typingFloodConfig: F connections in one room write typing frames as
// fast as their sockets take them, reconnecting whenever they are closed.
type typingFloodConfig struct {
	abuseConfig
	flooders int
}

func runTypingFlood(cfg typingFloodConfig, out io.Writer) error {
	var written, connects atomic.Int64
	var mu sync.Mutex
	closes := map[int]int{}
	room := randomRoom("typing")
	s, u, err := withBystanderWatched(cfg.abuseConfig, func(ctx context.Context) error {
		ctx, cancel := context.WithTimeout(ctx, cfg.duration)
		defer cancel()
		var wg sync.WaitGroup
		for i := range cfg.flooders {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for k := 0; ctx.Err() == nil; k++ {
					c, err := dialAbuser(ctx, cfg.url, 24000+i, fmt.Sprintf("typist-%d-%d", i, k), room)
					if err != nil {
						if ctx.Err() == nil {
							time.Sleep(100 * time.Millisecond)
						}
						continue
					}
					connects.Add(1)
					done := make(chan int, 1)
					go func() { // read (and drop) until the connection ends
						for {
							if _, _, err := c.conn.Read(context.Background()); err != nil {
								done <- closeCode(err)
								return
							}
						}
					}()
					frame, _ := shared.Encode(shared.TypeTyping, "", &shared.Typing{Room: room})
					for ctx.Err() == nil {
						if err := c.writeRaw(ctx, frame); err != nil {
							break
						}
						written.Add(1)
					}
					if ctx.Err() != nil {
						c.conn.CloseNow()
					}
					code := <-done
					if ctx.Err() == nil {
						mu.Lock()
						closes[code]++
						mu.Unlock()
					}
				}
			}()
		}
		wg.Wait()
		return nil
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "workload            typing: %d connections in one room writing typing frames as fast as they can, reconnecting when closed, for %v\n", cfg.flooders, cfg.duration)
	s.print(out)
	mu.Lock()
	fmt.Fprintf(out, "flooders            %d typing frames written (%.0f/s); %d connections, closed by code %v\n",
		written.Load(), float64(written.Load())/cfg.duration.Seconds(), connects.Load(), closes)
	mu.Unlock()
	u.print(out, cpuShare(u.cpu, cfg.duration))
	return nil
}

// writeRaw writes an encoded frame as it is.
func (c *rawConn) writeRaw(ctx context.Context, frame []byte) error {
	return c.conn.Write(ctx, websocket.MessageText, frame)
}
