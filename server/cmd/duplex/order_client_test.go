package main

// Issue #15 point 1, natively: the real server on 127.0.0.1 with its
// SQLite store, real clients of the client package.

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/duplex-chat/duplex/app/client"
	"github.com/duplex-chat/duplex/shared"
	"github.com/duplex-chat/duplex/shared/testpoll"
)

// authorBodies lists the bodies of author's messages (Kind "") in msgs.
func authorBodies(msgs []shared.Message, author string) []string {
	var out []string
	for _, m := range msgs {
		if m.Kind == shared.KindMessage && m.Author.Nick == author {
			out = append(out, m.Body)
		}
	}
	return out
}

// TestClientBurstPastLimitInOrder: with the default limits (10 sends a
// second, bursts of 50), a writer sends 120 messages at once while online,
// then, with its connection down, 80 more that wait in its outbox until the
// network is back. Both times most of them are refused with rate_limited
// first. The reader receives every message exactly once, and the seq order
// of each batch is the order they were sent in (so is the store's); the
// writer's connection is never closed for its refusals. Before the one
// ordered outbox each refused send was resent on its own timer and the
// stored order came out as 1–50, 61, 72, 51–60, ….
func TestClientBurstPastLimitInOrder(t *testing.T) {
	const room = "burst-order"
	ta := startAppWith(t, config{}) // the default limits
	px := rcNewProxy(t, ta.Addr)
	w := rcNew(t, px.WS(), "writer", nil)
	r := rcNew(t, ta.WS, "reader", nil)
	w.join(t, room)
	r.join(t, room)

	sent := map[string]string{}
	var order []string
	send := func(label string, n int) {
		for i := 1; i <= n; i++ {
			body := fmt.Sprintf("%s %03d", label, i)
			id, err := w.c.Send(room, body)
			if err != nil {
				t.Fatal(err)
			}
			sent[id] = body
			order = append(order, body)
		}
	}
	send("online", 120)
	testpoll.Until(t, "the reader to get the 120", func() bool { return r.count(room) >= 120 }, r.problems)

	px.pause(true)
	px.cut(1)
	testpoll.Until(t, "the writer offline", func() bool { return w.c.State() != client.StateOnline })
	send("offline", 80)
	if n := len(w.c.Outbox()); n != 80 {
		t.Fatalf("the outbox holds %d entries offline, want 80", n)
	}
	px.pause(false)
	testpoll.Until(t, "the reader to get all 200", func() bool { return r.count(room) >= 200 }, r.problems)
	testpoll.Until(t, "the writer's outbox to drain", func() bool { return len(w.c.Outbox()) == 0 }, w.problems)

	got := authorBodies(r.received(room), "writer")
	t.Logf("received: online %s; offline %s", compactRuns(got[:min(120, len(got))], "online "), compactRuns(got[min(120, len(got)):], "offline "))
	if strings.Join(got, "|") != strings.Join(order, "|") {
		t.Fatalf("the reader received\n  %q\nwant the send order\n  %q", got, order)
	}
	stored := authorBodies(rcCheckStore(t, ta.app.store, room, sent), "writer")
	if strings.Join(stored, "|") != strings.Join(order, "|") {
		t.Fatalf("the store holds another order:\n  %q", stored)
	}
	if p := w.problems() + r.problems(); p != "" {
		t.Fatal(p)
	}
	if on := w.onlineCount(); on != 2 {
		t.Fatalf("the writer went online %d times, want 2 (start, after the cut): a refusal closed it", on)
	}
	// The limit did refuse: 120 sends past a burst of 50 at 10/s take at
	// least 6.9 s of server time (a lower bound, not a race).
	var lo, hi int64 = 1 << 62, 0
	for id, a := range w.acked() {
		if strings.HasPrefix(sent[id], "online") {
			lo, hi = min(lo, a.TS), max(hi, a.TS)
		}
	}
	if span := time.Duration(hi-lo) * time.Millisecond; span < 6900*time.Millisecond {
		t.Fatalf("120 sends committed within %v: the default limit did not refuse any", span)
	}
}

// compactRuns writes label-numbered bodies as runs of their numbers.
func compactRuns(bodies []string, label string) string {
	trimmed := make([]string, len(bodies))
	for i, b := range bodies {
		trimmed[i] = "m" + strings.TrimLeft(strings.TrimPrefix(b, label), "0")
	}
	return compactOrder(trimmed)
}

// TestClientOfflineEventsInOrder: alice's connection is down while she
// edits her first message, reacts to it, sends a message, tries to edit
// bob's message, deletes her second message and marks the room read; then
// she "reloads" (a new client on the same Storage) before the network
// returns. All six wait in the outbox, in that order, across the reload.
// When the network is back (the new client joins the room for its
// entries, nobody calls Join) the server applies them in that order (their
// seqs ascend as queued); the edit of bob's message is refused for good
// (forbidden) with a MessageFailed that names it, and the entries after
// it still go; the read marker reaches the store. Bad inputs tried: an
// edit with an empty body and a reaction that is no emoji are refused at
// once and never queued.
func TestClientOfflineEventsInOrder(t *testing.T) {
	const room = "offline-events"
	ta := startApp(t, "", "")
	px := rcNewProxy(t, ta.Addr)
	st := &client.Memory{}
	alice := rcNew(t, px.WS(), "alice", st)
	bob := rcNew(t, ta.WS, "bob", nil)
	alice.join(t, room)
	bob.join(t, room)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	first, err := alice.c.SendWait(ctx, room, "first")
	if err != nil {
		t.Fatal(err)
	}
	second, err := alice.c.SendWait(ctx, room, "second")
	if err != nil {
		t.Fatal(err)
	}
	bobs, err := bob.c.SendWait(ctx, room, "bob's")
	if err != nil {
		t.Fatal(err)
	}
	testpoll.Until(t, "alice to hold bob's message", func() bool { return alice.count(room) >= 3 })

	px.pause(true)
	px.cut(1)
	testpoll.Until(t, "alice offline", func() bool { return alice.c.State() != client.StateOnline })
	var pe *shared.Error
	if _, err := alice.c.QueueEdit(room, first.Seq, ""); !errors.As(err, &pe) || pe.Code != shared.CodeInvalid {
		t.Fatalf("an empty edit: %v, want invalid at once", err)
	}
	if _, err := alice.c.QueueReact(room, first.Seq, "not an emoji", true); !errors.As(err, &pe) || pe.Code != shared.CodeInvalid {
		t.Fatalf("a reaction that is no emoji: %v, want invalid at once", err)
	}
	steps := []func() (string, error){
		func() (string, error) { return alice.c.QueueEdit(room, first.Seq, "first, edited offline") },
		func() (string, error) { return alice.c.QueueReact(room, first.Seq, "👍", true) },
		func() (string, error) { return alice.c.Send(room, "after the edit") },
		func() (string, error) { return alice.c.QueueEdit(room, bobs.Seq, "not hers to edit") },
		func() (string, error) { return alice.c.QueueDelete(room, second.Seq) },
	}
	var ids []string
	for _, step := range steps {
		id, err := step()
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	alice.c.MarkRead(room, bobs.Seq)
	wantKinds := []shared.Kind{shared.KindEdit, shared.KindReact, shared.KindMessage, shared.KindEdit, shared.KindDelete, client.KindRead}
	checkOutbox := func(c *client.Client, when string) {
		t.Helper()
		ob := c.Outbox()
		var kinds []shared.Kind
		for _, p := range ob {
			kinds = append(kinds, p.Kind)
		}
		if fmt.Sprint(kinds) != fmt.Sprint(wantKinds) {
			t.Fatalf("%s: the outbox holds kinds %q, want %q", when, kinds, wantKinds)
		}
		for i, id := range ids {
			if ob[i].MsgID != id {
				t.Fatalf("%s: outbox entry %d is %s, want %s", when, i, ob[i].MsgID, id)
			}
		}
	}
	checkOutbox(alice.c, "offline")

	alice.close() // the reload
	alice2 := rcNew(t, px.WS(), "alice", st)
	checkOutbox(alice2.c, "after the reload")
	// No Join: the outbox joins the room its entries need.
	px.pause(false)
	testpoll.Until(t, "alice's outbox to drain", func() bool { return len(alice2.c.Outbox()) == 0 }, alice2.problems)
	testpoll.Until(t, "bob to receive the delete", func() bool {
		for _, m := range bob.received(room) {
			if m.Kind == shared.KindDelete {
				return true
			}
		}
		return false
	}, bob.problems)

	// bob received alice's changes in the order she made them.
	var got []string
	for _, m := range bob.received(room) {
		if m.Seq > bobs.Seq && m.Author.Nick == "alice" {
			got = append(got, fmt.Sprintf("%s:%d", m.Kind, m.Target))
		}
	}
	want := []string{
		fmt.Sprintf("edit:%d", first.Seq), fmt.Sprintf("react:%d", first.Seq),
		":0", fmt.Sprintf("delete:%d", second.Seq),
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("bob received alice's changes as %q, want %q", got, want)
	}
	alice2.mu.Lock()
	failed := alice2.failed
	alice2.mu.Unlock()
	if len(failed) != 1 || failed[0].Pending.MsgID != ids[3] || failed[0].Pending.Kind != shared.KindEdit || failed[0].Err.Code != shared.CodeForbidden {
		t.Fatalf("failures %+v, want one: the edit of bob's message, forbidden", failed)
	}
	for _, m := range rcStoreAll(t, ta.app.store, room) {
		switch m.Seq {
		case first.Seq:
			if m.Body != "first, edited offline" || len(m.Reactions) != 1 || m.Reactions[0].Emoji != "👍" {
				t.Errorf("first in the store: %q, reactions %+v", m.Body, m.Reactions)
			}
		case second.Seq:
			if !m.Deleted {
				t.Errorf("second in the store is not deleted: %+v", m)
			}
		case bobs.Seq:
			if m.Body != "bob's" {
				t.Errorf("bob's message was changed: %q", m.Body)
			}
		}
	}
	testpoll.Until(t, "alice's read marker in the store", func() bool {
		rs, err := ta.app.store.ReadState(ctx, room, alice2.c.User())
		return err == nil && rs.Read >= bobs.Seq
	})
}
