package server_test

// Issue #14: a rate limit on every request kind, and typing floods closed.
// Real server, raw clients writing pipelined floods.

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/duplex-chat/duplex/server"
	"github.com/duplex-chat/duplex/shared"
)

// TestRateLimitEveryKind floods each kind of request a client may repeat,
// 30 pipelined on a fresh connection (a fresh user) whose limit is 5/s
// burst 5: past the burst each kind is refused with rate_limited carrying
// a retry_after and a message, and other answers still come. Uploads count
// bytes: three quarters of the burst twice.
func TestRateLimitEveryKind(t *testing.T) {
	r := server.Rate{PerSecond: 5, Burst: 5}
	all := server.RequestRates{Send: r, Join: r, Create: r, History: r, Rooms: r, Read: r, Search: r, Typing: r,
		Invite: r, Remove: r, Nick: r, Auth: r, Members: r,
		Upload: server.Rate{PerSecond: 1000, Burst: shared.MaxImageBytes}}
	ts, _ := startFileServer(t, server.Options{Limits: server.Limits{Conn: all, User: all, Refusals: server.Unlimited}})
	big := pngBytes(t, 100, 100)
	big = append(big, make([]byte, shared.MaxImageBytes*3/4-len(big))...)

	bob := dial(t, ts.url, "bob")
	bobUser := bob.hello(t, "Bob").User
	tokens := map[*wsClient]string{}
	kinds := []struct {
		name  string
		n     int
		setup func(c *wsClient)
		req   func(c *wsClient, i int) string // writes one request, returns its id
	}{
		{name: "invite", req: func(c *wsClient, _ int) string {
			return c.request(t, shared.TypeInvite, &shared.Invite{Room: privRoom(c), User: bobUser})
		}, setup: func(c *wsClient) {
			c.call(t, shared.TypeCreate, &shared.Create{Room: privRoom(c), Kind: shared.RoomPrivate})
		}},
		{name: "remove", req: func(c *wsClient, _ int) string {
			return c.request(t, shared.TypeRemove, &shared.Remove{Room: privRoom(c), User: bobUser})
		}, setup: func(c *wsClient) {
			c.call(t, shared.TypeCreate, &shared.Create{Room: privRoom(c), Kind: shared.RoomPrivate})
		}},
		{name: "nick", req: func(c *wsClient, i int) string {
			return c.request(t, shared.TypeNick, &shared.Nick{Nick: fmt.Sprintf("%s-%d", c.name, i%2)})
		}},
		{name: "auth", req: func(c *wsClient, _ int) string { return c.request(t, shared.TypeAuth, &shared.Auth{Token: tokens[c]}) }},
		{name: "members", req: func(c *wsClient, _ int) string {
			return c.request(t, shared.TypeMembers, &shared.Members{Room: "lobby", Limit: 10})
		}, setup: func(c *wsClient) { c.join(t, "lobby", nil) }},
		{name: "search", req: func(c *wsClient, _ int) string {
			return c.request(t, shared.TypeSearch, &shared.Search{Query: "plan", Limit: 5})
		}},
		{name: "read", req: func(c *wsClient, _ int) string {
			return c.request(t, shared.TypeRead, &shared.Read{Room: "lobby", Seq: 1})
		}, setup: func(c *wsClient) { c.join(t, "lobby", nil); c.sendMsg(t, "lobby", c.name+"-m", "plan") }},
		{name: "upload", n: 4, req: func(c *wsClient, _ int) string { return c.upload(t, "lobby", "big.png", big) },
			setup: func(c *wsClient) { c.join(t, "lobby", nil) }},
	}
	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			c := dial(t, ts.url, "flood-"+k.name)
			tokens[c] = c.hello(t, "Flood-"+k.name).Token
			if k.setup != nil {
				k.setup(c)
			}
			n := k.n
			if n == 0 {
				n = 30
			}
			ids := make([]string, n)
			for i := range ids {
				ids[i] = k.req(c, i)
			}
			answered, limited := 0, 0
			for _, id := range ids {
				f, _ := c.await(t, id)
				e, isErr := f.Payload.(*shared.ErrorFrame)
				if !isErr || e.Code != shared.CodeRateLimited {
					answered++
					continue
				}
				limited++
				if e.RetryAfter <= 0 || e.Message == "" {
					t.Fatalf("%s flood: rate_limited without retry_after or message: %+v", k.name, e)
				}
			}
			if limited == 0 || answered == 0 {
				t.Fatalf("%s flood of %d: %d answered, %d rate_limited; want both", k.name, n, answered, limited)
			}
			t.Logf("%s: %d of %d answered, %d rate_limited", k.name, answered, n, limited)
		})
	}
}

// privRoom is a private room of c's own.
func privRoom(c *wsClient) string { return "priv-" + strings.TrimPrefix(c.name, "flood-") }

// TestTypingFloodClosed1008: typing frames over the rate are dropped
// without an answer, and a connection that keeps sending them (past its
// TypingExcess budget) is closed with 1008, while another member's typing
// still reaches the room and the room still chats.
func TestTypingFloodClosed1008(t *testing.T) {
	ts := startServer(t, server.Options{
		PresenceInterval: 10 * time.Millisecond,
		// The defaults but typing's (2/s burst 10 per connection).
		Limits: server.Limits{TypingExcess: server.Rate{PerSecond: 10, Burst: 100}},
	})
	ann, bob := lobbyPair(t, ts.url)
	eve := dial(t, ts.url, "eve")
	eve.hello(t, "Eve")
	eve.join(t, "lobby", nil)
	frame, err := shared.Encode(shared.TypeTyping, "", &shared.Typing{Room: "lobby"})
	if err != nil {
		t.Fatal(err)
	}
	for range 2000 {
		if eve.write(frame) != nil {
			break // closed under the flood
		}
	}
	var ce websocket.CloseError
	if err := eve.closeErr(t); !errors.As(err, &ce) || ce.Code != websocket.StatusCode(shared.ClosePolicy) {
		t.Fatalf("typing flooder ended with %v, want close %d", err, shared.ClosePolicy)
	}
	t.Logf("flooder closed: %d %q", ce.Code, ce.Reason)
	// Ann types: Bob sees her (and no longer Eve, who left).
	ann.send(t, shared.TypeTyping, "", &shared.Typing{Room: "lobby"})
	bob.mustWait(t, "Ann typing", func() bool {
		for _, f := range bob.queue {
			if nicks, ok := typingOf(f, "lobby"); ok && strings.Join(nicks, ",") == "Ann" {
				return true
			}
		}
		return false
	})
	a := ann.sendMsg(t, "lobby", "a-1", "still chatting")
	bob.waitSeq(t, "lobby", a.Seq)
}
