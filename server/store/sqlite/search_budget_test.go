package sqlite

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/duplex-chat/duplex/server/store"
	"github.com/duplex-chat/duplex/shared"
)

// seedDistinctWords appends n messages of size characters of random
// words to room, in one batch: a vocabulary where a one-letter prefix
// expands to thousands of words, which is what makes a search slow.
func seedDistinctWords(t testing.TB, s store.Store, room string, n, size int) {
	t.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	ann := shared.Member{User: "u-ann", Nick: "Ann"}
	batch := make([]store.NewMessage, n)
	for i := range batch {
		var b strings.Builder
		for b.Len() < size-10 {
			for range 5 + rng.IntN(5) {
				b.WriteByte(byte('a' + rng.IntN(26)))
			}
			b.WriteByte(' ')
		}
		batch[i] = store.NewMessage{Room: room, MsgID: fmt.Sprintf("w-%d", i), Author: ann, Body: b.String(), TS: int64(i + 1)}
	}
	if _, err := s.Append(context.Background(), batch); err != nil {
		t.Fatal(err)
	}
}

// TestSearchInterruptedByContext: a search whose context ends is cut
// inside SQLite (the driver interrupts the statement), not read to its end
// and then dropped: the cut search returns in a fraction of the time the
// same search takes uncut (the driver reports the interrupt as the
// context's error, so the time is what tells the two apart; the margin is
// wide: 50ms against seconds). Each cut search frees its connection of the
// search pool: more cut searches than the pool holds, then one with time,
// all answer.
func TestSearchInterruptedByContext(t *testing.T) {
	s := openTemp(t).(*Store)
	defer s.Close()
	seedDistinctWords(t, s, "lobby", 300, 4000)
	// 800 one-letter prefixes: the store takes any query (the server
	// bounds the words); each expands to thousands of words. Under the
	// race detector SQLite (C translated to Go) runs many times slower:
	// 800 took 1m56s of the 2-minute bound there, 200 keep the uncut
	// search seconds long, still far above the 50 ms cut.
	prefixes := 800
	if raceEnabled {
		prefixes = 200
	}
	slow := strings.TrimSpace(strings.Repeat("a ", prefixes))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t0 := time.Now()
	_, _, err := s.Search(ctx, store.SearchQuery{User: "u-ann", Query: slow, Limit: 10})
	full := time.Since(t0)
	cancel()
	if err != nil {
		t.Fatalf("uncut search: %v", err)
	}
	if full < 500*time.Millisecond {
		t.Fatalf("the uncut search took %v: too fast to tell a cut one from it", full)
	}
	for range searchConns + 1 {
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		t0 := time.Now()
		_, _, err := s.Search(ctx, store.SearchQuery{User: "u-ann", Query: slow, Limit: 10})
		took := time.Since(t0)
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("search cut by its context: %v, want the context's error", err)
		}
		if took > full/2 {
			t.Fatalf("the cut search took %v, the uncut one %v: SQLite was not interrupted", took, full)
		}
		t.Logf("cut after %v (uncut: %v)", took, full)
	}
	ctx, cancel = context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	msgs, _, err := s.Search(ctx, store.SearchQuery{User: "u-ann", Query: "zz", Limit: 10})
	if err != nil || len(msgs) == 0 {
		t.Fatalf("search after the cut ones: %d results, %v", len(msgs), err)
	}
}
