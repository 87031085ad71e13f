//go:build !(js && wasm)

package main

// The orphans workload (issue #14): connections upload large images that
// no message ever uses, as fast as the server takes them. Run it against
// a server whose data directory you can measure (du -s DATA_DIR before
// and after): the quotas bound what it stores, the sweep removes it later.

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/png"
	"io"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/coder/websocket"
	"github.com/duplex-chat/duplex/shared"
)

type orphansConfig struct {
	common
	conns int
}

func (cfg *orphansConfig) run(out io.Writer) error {
	// ~4.8 MB of incompressible pixels, like the 28 images.
	img := image.NewNRGBA(image.Rect(0, 0, 1100, 1100))
	r := rand.New(rand.NewPCG(1, 2))
	for i := range img.Pix {
		img.Pix[i] = uint8(r.Uint32())
	}
	var b bytes.Buffer
	if err := (&png.Encoder{CompressionLevel: png.NoCompression}).Encode(&b, img); err != nil {
		return err
	}
	base := b.Bytes()
	ctx, cancel := context.WithTimeout(context.Background(), cfg.duration)
	defer cancel()
	var mu sync.Mutex
	answers := map[string]int{}
	var stored int64
	var wg sync.WaitGroup
	for i := range cfg.conns {
		wg.Go(func() {
			room := randomRoom(fmt.Sprintf("orphan%d", i))
			redial(ctx, cfg.url, 25000+i, fmt.Sprintf("orphan-%d", i), room, func(c *rawConn, k int) {
				for n := 0; ctx.Err() == nil; n++ {
					id := fmt.Sprintf("o-%d-%d-%d", i, k, n)
					data := append(bytes.Clone(base), byte(i), byte(k), byte(n), byte(n>>8)) // distinct: each is stored
					msg, _ := shared.EncodeUpload(id, shared.Upload{Room: room, Name: "orphan.png"}, data)
					if err := c.conn.Write(ctx, websocket.MessageBinary, msg); err != nil {
						return
					}
					answer, code := awaitAnswer(ctx, c, id, 30*time.Second)
					mu.Lock()
					if code != 0 {
						answers[fmt.Sprintf("closed %d", code)]++
					} else {
						answers[answer]++
						if answer == "ack" {
							stored += int64(len(data))
						}
					}
					mu.Unlock()
					if code != 0 {
						return
					}
					if answer == string(shared.CodeRateLimited) {
						time.Sleep(time.Second) // as a client honouring retry_after would, at least
					}
				}
			})
		})
	}
	wg.Wait()
	fmt.Fprintf(out, "workload            orphans: %d connections upload distinct %d-byte images no message uses, a new anonymous user per connection (reconnecting when closed), for %v\n",
		cfg.conns, len(base), cfg.duration)
	fmt.Fprintf(out, "uploads             answered %v; %.0f MiB accepted\n", answers, mib(stored))
	return nil
}
