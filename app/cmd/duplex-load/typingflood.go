//go:build !(js && wasm)

package main

import (
	"context"
	"fmt"
	"io"

	"github.com/coder/websocket"
	"github.com/duplex-chat/duplex/shared"
)

// typingFloodConfig: F connections in one room write typing frames as
// fast as their sockets take them, reconnecting whenever they are closed.
type typingFloodConfig struct {
	abuseConfig
	flooders int
}

func (cfg *typingFloodConfig) run(out io.Writer) error {
	var st abuserCounts
	room := randomRoom("typing")
	frame, _ := shared.Encode(shared.TypeTyping, "", &shared.Typing{Room: room})
	s, u, err := withBystanderWatched(cfg.abuseConfig, func(ctx context.Context) error {
		ctx, cancel := context.WithTimeout(ctx, cfg.duration)
		defer cancel()
		inParallel(cfg.flooders, func(i int) {
			redial(ctx, cfg.url, 24000+i, fmt.Sprintf("typist-%d", i), room, func(c *rawConn, _ int) {
				st.flood(ctx, c, func(int) error { return c.writeRaw(ctx, frame) }, nil)
			})
		})
		return nil
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "workload            typing: %d connections in one room writing typing frames as fast as they can, reconnecting when closed, for %v\n", cfg.flooders, cfg.duration)
	s.print(out)
	fmt.Fprintf(out, "flooders            %d typing frames written (%.0f/s); %s\n",
		st.written.Load(), float64(st.written.Load())/cfg.duration.Seconds(), st.connections())
	u.print(out, cpuShare(u.cpu, cfg.duration))
	return nil
}

// writeRaw writes an encoded frame as it is.
func (c *rawConn) writeRaw(ctx context.Context, frame []byte) error {
	return c.conn.Write(ctx, websocket.MessageText, frame)
}
