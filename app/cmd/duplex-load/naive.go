//go:build !(js && wasm)

package main

import (
	"context"
	"io"
	"net/http"
	"runtime/debug"
	"sync"
	"sync/atomic"

	"github.com/coder/websocket"
)

// naiveConfig is the naive-server command's.
type naiveConfig struct{ addr, debugAddr string }

func (cfg *naiveConfig) run(io.Writer) error { return serveNaive(cfg.addr, cfg.debugAddr) }

// serveNaive runs the reference every chat benchmark is compared with: the
// classic coder/websocket broadcast loop. A goroutine per connection writes
// each message with its own Write; a full per-connection buffer drops the
// message for that connection. No protocol, no persistence.
func serveNaive(addr, debugAddr string) error {
	raiseFileLimit(1 << 20)
	var (
		mu      sync.Mutex
		clients = map[chan []byte]struct{}{}
		dropped atomic.Int64
	)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		ctx, cancel := context.WithCancel(r.Context())
		defer cancel()
		out := make(chan []byte, 256)
		mu.Lock()
		clients[out] = struct{}{}
		mu.Unlock()
		defer func() { mu.Lock(); delete(clients, out); mu.Unlock() }()
		go func() {
			defer cancel()
			for {
				_, msg, err := c.Read(ctx)
				if err != nil {
					return
				}
				mu.Lock()
				for ch := range clients {
					select {
					case ch <- msg:
					default:
						dropped.Add(1)
					}
				}
				mu.Unlock()
			}
		}()
		for {
			select {
			case msg := <-out:
				if c.Write(ctx, websocket.MessageText, msg) != nil {
					return
				}
			case <-ctx.Done():
				c.CloseNow()
				return
			}
		}
	})
	if debugAddr != "" {
		go http.ListenAndServe(debugAddr, debugMux())
	}
	return http.ListenAndServe(addr, h)
}

func debugMux() *http.ServeMux {
	m := http.NewServeMux()
	m.HandleFunc("/debug/gc", func(w http.ResponseWriter, r *http.Request) { debug.FreeOSMemory() })
	return m
}
