package server_test

// Rate limits: real server, raw clients. Floods are pipelined requests
// written without waiting for answers, the way an abusive client sends.

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/coder/websocket"
	"github.com/duplex-chat/duplex/server"
	"github.com/duplex-chat/duplex/shared"
	"github.com/prometheus/client_golang/prometheus"
)

// tightLimits allows bursts of 5 and 5 requests a second of every kind,
// and never closes for refusals unless a test says so.
func tightLimits() server.Limits {
	r := server.Rate{PerSecond: 5, Burst: 5}
	all := server.RequestRates{Send: r, Join: r, Create: r, History: r, Rooms: r}
	return server.Limits{Conn: all, User: all, Refusals: server.Unlimited}
}

// pipeline writes n requests made by payload(i) without waiting, then
// collects their answers: how many succeeded and the rate_limited errors.
func pipeline(t *testing.T, c *wsClient, typ shared.Type, n int, payload func(i int) any) (ok int, limited []*shared.ErrorFrame) {
	t.Helper()
	ids := make([]string, n)
	for i := range ids {
		ids[i] = c.request(t, typ, payload(i))
	}
	// Refusals come at once and acks after a commit: answers arrive out of
	// request order, so collect them by id.
	answers := map[string]shared.Frame{}
	for len(answers) < n {
		f, _ := c.waitFrame(t, fmt.Sprintf("%d answers", n), func(f shared.Frame) bool { return slices.Contains(ids, f.ID) })
		answers[f.ID] = f
	}
	for _, id := range ids {
		f := answers[id]
		e, isErr := f.Payload.(*shared.ErrorFrame)
		switch {
		case !isErr:
			ok++
		case e.Code == shared.CodeRateLimited:
			limited = append(limited, e)
		default:
			t.Fatalf("%s: %s %s answered with %s: %s", c.name, typ, id, e.Code, e.Message)
		}
	}
	return ok, limited
}

// TestRateLimitFloodsAreRefusedBystanderChats floods each limited request
// kind (send, join, history, rooms) from one connection: past the burst
// each is refused with rate_limited and a positive retry_after, while a
// bystander on another connection keeps chatting with the flooder's room.
func TestRateLimitFloodsAreRefusedBystanderChats(t *testing.T) {
	reg := prometheus.NewRegistry()
	ts := startServer(t, server.Options{Limits: tightLimits(), Metrics: reg})
	ann, bob := lobbyPair(t, ts.url)
	const n = 30
	refused := 0
	floods := []struct {
		typ     shared.Type
		payload func(i int) any
	}{
		{shared.TypeSend, func(i int) any { return &shared.Send{Room: "lobby", MsgID: fmt.Sprintf("flood-%d", i), Body: "spam"} }},
		{shared.TypeJoin, func(int) any { return &shared.Join{Room: "lobby"} }},
		{shared.TypeHistory, func(int) any { return &shared.History{Room: "lobby", Limit: 10} }},
		{shared.TypeRooms, func(int) any { return &shared.Rooms{} }},
	}
	sendsAccepted := 0
	for k, fl := range floods {
		ok, limited := pipeline(t, ann, fl.typ, n, fl.payload)
		if len(limited) == 0 || ok >= n {
			t.Fatalf("%s flood of %d: %d succeeded, none refused", fl.typ, n, ok)
		}
		for _, e := range limited {
			if e.RetryAfter <= 0 || e.Message == "" {
				t.Fatalf("%s flood: rate_limited without retry_after or message: %+v", fl.typ, e)
			}
		}
		if fl.typ == shared.TypeSend {
			sendsAccepted = ok
		}
		refused += len(limited)
		t.Logf("%s: %d of %d accepted, %d refused (retry_after %d ms)", fl.typ, ok, n, len(limited), limited[0].RetryAfter)
		// The bystander's requests are not counted against the flooder.
		body := fmt.Sprintf("still here %d", k)
		ack := bob.sendMsg(t, "lobby", fmt.Sprintf("bob-%d", k), body)
		ann.waitSeq(t, "lobby", ack.Seq)
		bob.call(t, shared.TypeHistory, &shared.History{Room: "lobby", Limit: 5})
		bob.call(t, shared.TypeRooms, &shared.Rooms{})
	}
	// Refused sends were not stored: the store holds the accepted ones only.
	msgs, err := ts.st.After(context.Background(), "lobby", 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	stored := 0
	for _, m := range msgs {
		if strings.HasPrefix(m.MsgID, "flood-") {
			stored++
		}
	}
	if stored != sendsAccepted {
		t.Fatalf("store holds %d flood messages, %d were acked", stored, sendsAccepted)
	}
	// Every refusal is counted in duplex_rate_limited_total.
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	counted := -1.0
	for _, f := range families {
		if f.GetName() == "duplex_rate_limited_total" {
			counted = f.GetMetric()[0].GetCounter().GetValue()
		}
	}
	if counted != float64(refused) {
		t.Fatalf("duplex_rate_limited_total = %v, %d requests were refused", counted, refused)
	}
}

// TestRateLimitSustainedFloodCloses1008 keeps flooding past the refusal
// budget: the connection is closed with 1008 and a reason, the bystander
// is not.
func TestRateLimitSustainedFloodCloses1008(t *testing.T) {
	lim := tightLimits()
	lim.Refusals = server.Rate{PerSecond: 1, Burst: 20}
	ts := startServer(t, server.Options{Limits: lim})
	ann, bob := lobbyPair(t, ts.url)
	for i := range 200 {
		b, _ := shared.Encode(shared.TypeSend, fmt.Sprintf("s%d", i), &shared.Send{Room: "lobby", MsgID: fmt.Sprintf("f%d", i), Body: "spam"})
		if ann.write(b) != nil {
			break // closed under us: expected
		}
	}
	err := ann.closeErr(t)
	var ce websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != websocket.StatusCode(shared.ClosePolicy) || !strings.Contains(ce.Reason, "rate limit") {
		t.Fatalf("flooder closed with %v, want 1008 with a reason about rate limits", err)
	}
	bob.sendMsg(t, "lobby", "after", "the flooder is gone")
}

// TestRateLimitPerUserAcrossConnections: two connections of one user share
// the user's budget, while each connection alone is under its own.
func TestRateLimitPerUserAcrossConnections(t *testing.T) {
	lim := server.NoLimits()
	lim.Conn.Send = server.Rate{PerSecond: 100, Burst: 100}
	lim.User.Send = server.Rate{PerSecond: 0.1, Burst: 4}
	lim.Refusals = server.Unlimited
	ts := startServer(t, server.Options{Limits: lim})
	tab1, tab2, other := dial(t, ts.url, "tab1"), dial(t, ts.url, "tab2"), dial(t, ts.url, "other")
	w := tab1.hello(t, "Ann")
	tab2.helloAs(t, "Ann", w.Token) // the same user (its session token) on a second connection
	other.hello(t, "Cy")
	for _, c := range []*wsClient{tab1, tab2, other} {
		c.join(t, "lobby", nil)
	}
	ok1, lim1 := pipeline(t, tab1, shared.TypeSend, 3, func(i int) any { return &shared.Send{Room: "lobby", MsgID: fmt.Sprintf("a%d", i), Body: "one"} })
	ok2, lim2 := pipeline(t, tab2, shared.TypeSend, 3, func(i int) any { return &shared.Send{Room: "lobby", MsgID: fmt.Sprintf("b%d", i), Body: "two"} })
	if ok1 != 3 || len(lim1) != 0 {
		t.Fatalf("first connection: %d accepted, %d refused; want 3 and 0", ok1, len(lim1))
	}
	if ok2 != 1 || len(lim2) != 2 || lim2[0].RetryAfter <= 0 {
		t.Fatalf("second connection of the same user: %d accepted, %v refused; want 1 and 2 with retry_after", ok2, lim2)
	}
	// Another user is not affected.
	ok3, lim3 := pipeline(t, other, shared.TypeSend, 3, func(i int) any { return &shared.Send{Room: "lobby", MsgID: fmt.Sprintf("c%d", i), Body: "three"} })
	if ok3 != 3 || len(lim3) != 0 {
		t.Fatalf("other user: %d accepted, %d refused; want 3 and 0", ok3, len(lim3))
	}
}

// TestRoomCreationLimited: creating rooms (by join or create) is
// rate-limited, and capped per connection (refused without retry_after:
// waiting does not help), while joining rooms that exist stays possible.
func TestRoomCreationLimited(t *testing.T) {
	lim := server.NoLimits()
	lim.Conn.Create = server.Rate{PerSecond: 0.01, Burst: 2}
	lim.MaxCreated = 3
	lim.Refusals = server.Unlimited
	ts := startServer(t, server.Options{Limits: lim})
	ann, bob := dial(t, ts.url, "ann"), dial(t, ts.url, "bob")
	ann.hello(t, "Ann")
	bob.hello(t, "Bob")
	ann.join(t, "r1", nil)
	ann.join(t, "r2", nil)
	e := ann.expectError(t, ann.request(t, shared.TypeJoin, &shared.Join{Room: "r3"}), shared.CodeRateLimited)
	if e.RetryAfter <= 0 {
		t.Fatalf("creation over the rate: %+v, want retry_after", e)
	}
	// Joining a room someone else created is not a creation.
	bob.join(t, "bobs", nil)
	ann.join(t, "bobs", nil)

	// The cap: a connection whose rate allows more still stops at 3.
	lim.Conn.Create = server.Unlimited
	ts = startServer(t, server.Options{Limits: lim})
	cy := dial(t, ts.url, "cy")
	cy.hello(t, "Cy")
	for _, r := range []string{"c1", "c2", "c3"} {
		cy.join(t, r, nil)
	}
	e = cy.expectError(t, cy.request(t, shared.TypeJoin, &shared.Join{Room: "c4"}), shared.CodeRateLimited)
	if e.RetryAfter != 0 || !strings.Contains(e.Message, "at most 3 rooms") {
		t.Fatalf("creation over the cap: %+v, want no retry_after and a message naming the cap", e)
	}
	cy.join(t, "c1", nil) // rooms it already made are fine
	// The create frame counts against the same cap; creating what exists
	// does not.
	e = cy.expectError(t, cy.request(t, shared.TypeCreate, &shared.Create{Room: "c5", Kind: shared.RoomPrivate}), shared.CodeRateLimited)
	if e.RetryAfter != 0 {
		t.Fatalf("create over the cap: %+v, want no retry_after", e)
	}
	cy.call(t, shared.TypeCreate, &shared.Create{Room: "c2", Kind: shared.RoomPublic})
}
