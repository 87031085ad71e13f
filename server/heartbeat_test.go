package server_test

import (
	"testing"
	"time"

	"github.com/duplex-chat/duplex/server"
	"github.com/duplex-chat/duplex/shared"
)

// TestHeartbeatAnnouncedAndPongs: welcome announces the heartbeat interval
// (the default, and one set in Options), and every ping is answered by a
// pong carrying its id, before hello too (a ping is not a request, so it
// needs no identity). Bad input tried: a ping without an id (answered by a
// pong without one, not an error), a ping with data it does not have
// (bad_frame), and Heartbeat negative (welcome announces none).
func TestHeartbeatAnnouncedAndPongs(t *testing.T) {
	def := startServer(t, server.Options{})
	c := dial(t, def.url, "pinger")
	c.send(t, shared.TypePing, "p0", &shared.Ping{})
	if f, _ := c.await(t, "p0"); f.Type != shared.TypePong {
		t.Fatalf("ping before hello answered with %s %+v, want pong", f.Type, f.Payload)
	}
	if w := c.hello(t, "Pinger"); w.Heartbeat != 25000 {
		t.Fatalf("welcome.heartbeat = %d, want the default 25000 ms", w.Heartbeat)
	}
	for _, id := range []string{"p1", "p2"} {
		c.send(t, shared.TypePing, id, &shared.Ping{})
		if f, _ := c.await(t, id); f.Type != shared.TypePong {
			t.Fatalf("ping %s answered with %s %+v", id, f.Type, f.Payload)
		}
	}
	c.writeRaw(t, []byte(`{"type":"ping"}`))
	c.waitFrame(t, "pong without id", func(f shared.Frame) bool { return f.Type == shared.TypePong && f.ID == "" })
	c.writeRaw(t, []byte(`{"type":"ping","id":"p3","data":{"x":1}}`))
	c.expectError(t, "p3", shared.CodeBadFrame)

	short := startServer(t, server.Options{Heartbeat: 1500 * time.Millisecond})
	if w := dial(t, short.url, "a").hello(t, "A"); w.Heartbeat != 1500 {
		t.Fatalf("welcome.heartbeat = %d, want 1500", w.Heartbeat)
	}
	none := startServer(t, server.Options{Heartbeat: -1})
	if w := dial(t, none.url, "b").hello(t, "B"); w.Heartbeat != 0 {
		t.Fatalf("welcome.heartbeat = %d with Heartbeat -1, want 0 (none)", w.Heartbeat)
	}
}
