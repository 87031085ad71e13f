package server_test

// Retention: a real server prunes its store in the background, and joins
// and history requests that reach removed messages say so.

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/duplex-chat/duplex/server"
	"github.com/duplex-chat/duplex/server/store"
	"github.com/duplex-chat/duplex/shared"
	"github.com/duplex-chat/duplex/shared/testpoll"
)

// waitPruned polls the store until room's pruned mark reaches want.
func waitPruned(t *testing.T, st store.Store, room string, want int64) {
	t.Helper()
	var p int64
	testpoll.Until(t, fmt.Sprintf("room %s pruned up to %d", room, want), func() bool {
		var err error
		if p, err = st.Pruned(context.Background(), room); err != nil {
			t.Fatal(err)
		}
		return p >= want
	}, func() string { return fmt.Sprintf("pruned up to %d", p) })
}

// TestRetainCount: with RetainCount 5 the store keeps 5 messages per room;
// a join since 0, a resume from a pruned seq and a history request that
// reaches the removed ones get pruned_before; a resume from a kept seq and
// a history page inside the kept ones do not.
func TestRetainCount(t *testing.T) {
	forEachStore(t, func(t *testing.T, open func(testing.TB) store.Store) {
		ts := startServer(t, server.Options{Store: open(t), RetainCount: 5, PruneInterval: 20 * time.Millisecond})
		ann, bob := lobbyPair(t, ts.url)
		for i := 1; i <= 3; i++ {
			ann.sendMsg(t, "lobby", fmt.Sprintf("m%d", i), "early")
		}
		bob.waitSeq(t, "lobby", 3)
		bob.conn.CloseNow() // bob holds 1..3 and goes away
		for i := 4; i <= 20; i++ {
			ann.sendMsg(t, "lobby", fmt.Sprintf("m%d", i), "later")
		}
		waitPruned(t, ts.st, "lobby", 15)
		msgs, err := ts.st.After(context.Background(), "lobby", 0, 100)
		if err != nil || len(msgs) != 5 || msgs[0].Seq != 16 {
			t.Fatalf("store holds %d messages from seq %v (%v), want 5 from 16", len(msgs), seqsOf(msgs), err)
		}

		cy := dial(t, ts.url, "cy")
		cy.hello(t, "Cy")
		ack, replay := cy.join(t, "lobby", ptr[int64](0))
		if ack.PrunedBefore != 16 || ack.First != 16 || ack.Head != 20 || len(replay) != 5 {
			t.Fatalf("join since 0: ack %+v with %d replayed, want pruned_before 16, first 16, head 20, 5 messages", ack, len(replay))
		}

		bob = dial(t, ts.url, "bob again")
		bob.hello(t, "Bob")
		ack, replay = bob.join(t, "lobby", ptr[int64](3))
		if ack.PrunedBefore != 16 || len(replay) != 5 || replay[0].Seq != 16 {
			t.Fatalf("resume since 3: ack %+v with seqs %v, want pruned_before 16 and 16..20", ack, seqsOf(replay))
		}
		dan := dial(t, ts.url, "dan")
		dan.hello(t, "Dan")
		if ack, _ = dan.join(t, "lobby", ptr[int64](17)); ack.PrunedBefore != 0 {
			t.Fatalf("resume since 17 (kept): ack %+v, want no pruned_before", ack)
		}

		h := ackOf[shared.HistoryAck](t, first(bob.call(t, shared.TypeHistory, &shared.History{Room: "lobby", Before: 19, Limit: 2})))
		if h.PrunedBefore != 0 || !h.More || len(h.Messages) != 2 {
			t.Fatalf("history inside the kept messages: %+v, want 17..18, more, no pruned_before", h)
		}
		h = ackOf[shared.HistoryAck](t, first(bob.call(t, shared.TypeHistory, &shared.History{Room: "lobby", Before: 18, Limit: 50})))
		if h.PrunedBefore != 16 || h.More || len(h.Messages) != 2 {
			t.Fatalf("history reaching the pruned ones: %+v, want 16..17, pruned_before 16, no more", h)
		}
		h = ackOf[shared.HistoryAck](t, first(bob.call(t, shared.TypeHistory, &shared.History{Room: "lobby", Before: 10, Limit: 50})))
		if h.PrunedBefore != 16 || h.More || len(h.Messages) != 0 {
			t.Fatalf("history of pruned seqs only: %+v, want none, pruned_before 16", h)
		}
	})
}

// TestRetainAge: messages older than RetainAge go (their timestamps are
// injected straight into the store), newer ones stay.
func TestRetainAge(t *testing.T) {
	forEachStore(t, func(t *testing.T, open func(testing.TB) store.Store) {
		st := open(t)
		old := time.Now().Add(-2 * time.Hour).UnixMilli()
		var batch []store.NewMessage
		for i := 1; i <= 10; i++ {
			batch = append(batch, store.NewMessage{Room: "lobby", MsgID: fmt.Sprintf("old%d", i), Author: shared.Member{User: "u-old", Nick: "Old"}, Body: "old", TS: old})
		}
		if _, err := st.Append(context.Background(), batch); err != nil {
			t.Fatal(err)
		}
		ts := startServer(t, server.Options{Store: st, RetainAge: time.Hour, PruneInterval: 20 * time.Millisecond})
		ann := dial(t, ts.url, "ann")
		ann.hello(t, "Ann")
		ann.join(t, "lobby", nil)
		ann.sendMsg(t, "lobby", "new1", "fresh")
		waitPruned(t, st, "lobby", 10)
		msgs, err := st.After(context.Background(), "lobby", 0, 100)
		if err != nil || len(msgs) != 1 || msgs[0].MsgID != "new1" {
			t.Fatalf("store holds %v (%v), want only new1 (seq 11)", seqsOf(msgs), err)
		}
		bob := dial(t, ts.url, "bob")
		bob.hello(t, "Bob")
		ack, replay := bob.join(t, "lobby", ptr[int64](0))
		if ack.PrunedBefore != 11 || len(replay) != 1 {
			t.Fatalf("join since 0: %+v with %d replayed, want pruned_before 11 and 1 message", ack, len(replay))
		}
	})
}

func seqsOf(msgs []shared.Message) []int64 {
	out := []int64{}
	for _, m := range msgs {
		out = append(out, m.Seq)
	}
	return out
}
