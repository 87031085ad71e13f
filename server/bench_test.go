package server_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/duplex-chat/duplex/server"
	"github.com/duplex-chat/duplex/server/store/sqlite"
	"github.com/duplex-chat/duplex/shared"
)

// BenchmarkServerPersistedSends pushes sends through the real server (a
// loopback listener, the SQLite store in a temporary directory) from
// several raw WebSocket clients, each with many sends in flight, and
// reports acked (so committed) messages per second. Each client posts to a
// room of its own, so the number measures the commit path, not fan-out.
func BenchmarkServerPersistedSends(b *testing.B) {
	for _, cfg := range []struct{ clients, window int }{{1, 1}, {8, 128}} {
		b.Run(fmt.Sprintf("clients=%d/inflight=%d", cfg.clients, cfg.window), func(b *testing.B) {
			st, err := sqlite.Open(b.TempDir())
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { st.Close() })
			ts := startServer(b, server.Options{Store: st})
			clients := make([]*benchClient, cfg.clients)
			for i := range clients {
				clients[i] = newBenchClient(b, ts.url, fmt.Sprintf("room-%d", i))
			}
			body := strings.Repeat("x", 100)

			var next atomic.Int64 // sends handed out, across clients
			total := int64(b.N)
			b.ResetTimer()
			start := time.Now()
			var wg sync.WaitGroup
			errs := make(chan error, len(clients))
			for _, c := range clients {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if err := c.run(&next, total, cfg.window, body); err != nil {
						errs <- err
					}
				}()
			}
			wg.Wait()
			elapsed := time.Since(start)
			b.StopTimer()
			close(errs)
			for err := range errs {
				b.Fatal(err)
			}
			var acked int64
			for _, c := range clients {
				acked += c.acked
			}
			if acked != total {
				b.Fatalf("%d acks for %d sends", acked, total)
			}
			b.ReportMetric(float64(acked)/elapsed.Seconds(), "msgs/s")
		})
	}
}

// benchClient is a lean client for the benchmark: one writer, one reader
// counting acks, a semaphore bounding the sends in flight.
type benchClient struct {
	conn  *websocket.Conn
	room  string
	acked int64
}

func newBenchClient(b *testing.B, url, room string) *benchClient {
	c := dial(b, url, room)
	c.hello(b, "Bench")
	c.join(b, room, nil)
	// Hand the connection over: stop the test client's reader, which
	// would otherwise race the benchmark's for frames.
	c.pause()
	c.call(b, shared.TypeRooms, &shared.Rooms{}) // the reader is now parked before its next read
	return &benchClient{conn: c.conn, room: room}
}

func (c *benchClient) run(next *atomic.Int64, total int64, window int, body string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	slots := make(chan struct{}, window) // one per send in flight
	readErr := make(chan error, 1)
	go func() { readErr <- c.readAcks(ctx, slots) }()
	for {
		n := next.Add(1)
		if n > total {
			break
		}
		select {
		case slots <- struct{}{}:
		case err := <-readErr:
			return err
		}
		frame, err := shared.Encode(shared.TypeSend, fmt.Sprintf("s%d", n), &shared.Send{Room: c.room, MsgID: fmt.Sprintf("m-%d", n), Body: body})
		if err != nil {
			return err
		}
		if err := c.conn.Write(ctx, websocket.MessageText, frame); err != nil {
			return err
		}
	}
	// Every slot free again means every send was acked.
	for range window {
		select {
		case slots <- struct{}{}:
		case err := <-readErr:
			return err
		}
	}
	c.conn.CloseNow()
	<-readErr
	return nil
}

// readAcks counts acks, freeing a slot for each, until the connection ends.
func (c *benchClient) readAcks(ctx context.Context, slots chan struct{}) error {
	for {
		_, data, err := c.conn.Read(ctx)
		if err != nil {
			return err
		}
		frames, err := decodeServer(data)
		if err != nil {
			return err
		}
		for _, f := range frames {
			switch f.Type {
			case shared.TypeAck:
				c.acked++
				<-slots
			case shared.TypeError:
				return fmt.Errorf("send failed: %+v", f.Payload)
			}
		}
	}
}
