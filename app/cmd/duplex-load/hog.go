//go:build !(js && wasm)

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"
	"github.com/duplex-chat/duplex/app/client"
	"github.com/duplex-chat/duplex/shared"
)

// historyHogConfig: H connections pipeline history requests for the
// largest page and never read the answers.
type historyHogConfig struct {
	abuseConfig
	hogs, fill, size int
}

// hogResult is what became of one hog.
type hogResult struct {
	requests int   // history requests written
	drained  int64 // bytes read after the attack, until close or quiet
	code     int   // close code, or 0 when still open (paced)
}

func (cfg *historyHogConfig) run(out io.Writer) error {
	ctx, cancel := context.WithTimeout(context.Background(), cfg.timeout)
	defer cancel()
	room := randomRoom("hog")
	if err := fillRoom(ctx, cfg.url, room, cfg.fill, cfg.size); err != nil {
		return err
	}
	results := make([]hogResult, cfg.hogs)
	s, u, err := withBystanderWatched(cfg.abuseConfig, func(ctx context.Context) error {
		var firstErr error
		var mu sync.Mutex
		inParallel(len(results), func(i int) {
			r, err := hog(ctx, cfg, i, room)
			mu.Lock()
			defer mu.Unlock()
			results[i] = r
			if err != nil && firstErr == nil {
				firstErr = err
			}
		})
		return firstErr
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "workload            history-hog: %d connections pipeline history (limit %d, %d messages of %d bytes in the room) without reading, for %v\n",
		cfg.hogs, shared.MaxHistory, cfg.fill, cfg.size, cfg.duration)
	var closed, open int
	codes := map[int]int{}
	var reqs int
	for _, r := range results {
		reqs += r.requests
		if r.code != 0 {
			closed++
			codes[r.code]++
		} else {
			open++
		}
	}
	fmt.Fprintf(out, "hogs                %d closed (by code %v), %d still open (paced); %d requests written in all\n", closed, codes, open, reqs)
	u.print(out, u.cpu.Round(time.Millisecond).String())
	s.print(out)
	return nil
}

// fillRoom puts n messages of size bytes in room through real clients,
// which honour the send rate limit; four of them share the work (each
// connection has its own burst).
func fillRoom(ctx context.Context, url, room string, n, size int) error {
	const fillers = 4
	errs := make(chan error, fillers)
	for f := range fillers {
		go func() { errs <- fillPart(ctx, url, room, f, (n+fillers-1-f)/fillers, size) }()
	}
	var first error
	for range fillers {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	return first
}

func fillPart(ctx context.Context, url, room string, f, n, size int) error {
	c, err := client.New(url, &client.Options{Nick: randomRoom(fmt.Sprintf("filler%d", f)), CacheSize: -1, OnEvent: func(client.Event) {}})
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.Join(ctx, room); err != nil {
		return fmt.Errorf("fill: join: %w", err)
	}
	for i := range n {
		if _, err := c.Send(room, body(size, int64(f*n+i))); err != nil {
			return fmt.Errorf("fill: %w", err)
		}
	}
	for len(c.Outbox()) > 0 {
		if ctx.Err() != nil {
			return fmt.Errorf("fill: %d of %d messages not acked", len(c.Outbox()), n)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return nil
}

// hog writes history requests until ctx's duration ends or the server
// closes it, then reads what is left to learn whether it was closed.
func hog(ctx context.Context, cfg *historyHogConfig, i int, room string) (hogResult, error) {
	var r hogResult
	c, err := dialAbuser(ctx, cfg.url, 21000+i, fmt.Sprintf("hog-%d", i), room)
	if err != nil {
		return r, fmt.Errorf("hog %d: %w", i, err)
	}
	defer c.conn.CloseNow()
	wctx, cancel := context.WithTimeout(ctx, cfg.duration)
	defer cancel()
	for wctx.Err() == nil {
		if _, err := c.write(wctx, shared.TypeHistory, &shared.History{Room: room, Limit: shared.MaxHistory}); err != nil {
			break
		}
		r.requests++
	}
	// Drain: a closed hog reads its close frame after what was queued;
	// an open one goes quiet once its answers are read.
	for {
		rctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		_, b, err := c.conn.Read(rctx)
		cancel()
		if err != nil {
			if code := closeCode(err); code >= 0 {
				r.code = code
			} else if !errors.Is(err, context.DeadlineExceeded) && !strings.Contains(err.Error(), "deadline") {
				r.code = int(websocket.StatusAbnormalClosure)
			}
			return r, nil
		}
		r.drained += int64(len(b))
	}
}
