package server_test

// Issue #14.1: search has a budget. Real server, real SQLite file.

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/duplex-chat/duplex/server"
	"github.com/duplex-chat/duplex/server/store"
	"github.com/duplex-chat/duplex/shared"
)

// seedWords appends n messages of size characters of random words to the
// public room, in one batch: a vocabulary in which a one-letter prefix
// expands to thousands of words, which makes a search of many of them slow.
func seedWords(t testing.TB, st store.Store, room string, n, size int) {
	t.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	ann := shared.Member{User: "u-seed", Nick: "Seed"}
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
	if _, err := st.Append(context.Background(), batch); err != nil {
		t.Fatal(err)
	}
}

// TestSearchBudgetCutsSlowSearches: four connections send a search of 100
// one-letter prefixes (allowed here, so that it runs) over a seeded index.
// Each is answered with search_timeout: the two that got a connection of
// the store's search pool were cut at SearchTimeout, the two that waited
// for one gave up at it. MaxSearches is 4, as many as the store's main
// pool has connections, so were searches on it they would hold them all;
// yet a bystander's send is acked and the server is ready before the
// first search is answered. (SearchTimeout is a quarter of what the search takes uncut,
// measured first on the same store, so the cut is certain; the bystander's
// send and Ready take milliseconds against that quarter.)
func TestSearchBudgetCutsSlowSearches(t *testing.T) {
	st := openSQLite(t)
	seedWords(t, st, "archive", 1000, 4000)
	slow := strings.TrimSpace(strings.Repeat("a ", 100))
	t0 := time.Now()
	if _, _, err := st.Search(context.Background(), store.SearchQuery{User: "u-x", Query: slow, Limit: 10}); err != nil {
		t.Fatal(err)
	}
	full := time.Since(t0)
	timeout := max(full/4, 50*time.Millisecond)
	t.Logf("uncut search: %v; SearchTimeout %v", full, timeout)
	if full < 4*50*time.Millisecond {
		t.Skipf("the uncut search took only %v: too fast to cut reliably", full)
	}
	ts := startServer(t, server.Options{Store: st, SearchTimeout: timeout, SearchMinPrefix: 1, SearchMaxTerms: 100, MaxSearches: 4})
	ann, bob := lobbyPair(t, ts.url)
	searchers := make([]*wsClient, 4)
	ids := make([]string, len(searchers))
	for i := range searchers {
		searchers[i] = dial(t, ts.url, fmt.Sprintf("searcher%d", i))
		searchers[i].hello(t, fmt.Sprintf("Searcher%d", i))
	}
	var mu sync.Mutex
	var firstAnswer time.Time
	answers := make([]shared.Frame, len(searchers))
	var wg sync.WaitGroup
	for i, c := range searchers {
		ids[i] = c.request(t, shared.TypeSearch, &shared.Search{Query: slow, Limit: shared.MaxSearch})
		wg.Add(1)
		go func() {
			defer wg.Done()
			f, err := c.awaitErr(ids[i])
			mu.Lock()
			defer mu.Unlock()
			if err == nil && firstAnswer.IsZero() {
				firstAnswer = time.Now()
			}
			answers[i] = f
		}()
	}
	a := ann.sendMsg(t, "lobby", "a-1", "sent while four searches run")
	acked := time.Now()
	ctx, cancel := contextWithTimeout()
	defer cancel()
	if err := ts.srv.Ready(ctx); err != nil {
		t.Fatalf("Ready while searching: %v", err)
	}
	ready := time.Now()
	bob.waitSeq(t, "lobby", a.Seq)
	wg.Wait()
	for i, f := range answers {
		if f.ID == "" {
			t.Fatalf("searcher%d: no answer", i)
		}
		checkError(t, searchers[i].name, f, shared.CodeSearchTimeout)
	}
	mu.Lock()
	defer mu.Unlock()
	if !acked.Before(firstAnswer) || !ready.Before(firstAnswer) {
		t.Fatalf("the bystander's ack (%v) or Ready (%v) came after the first search answer (%v): they waited for searches",
			acked.Sub(t0), ready.Sub(t0), firstAnswer.Sub(t0))
	}
	// The searches freed their turns: a narrow search answers.
	f, _ := searchers[0].call(t, shared.TypeSearch, &shared.Search{Query: "sent while", Limit: 5})
	if r := ackOf[shared.SearchAck](t, f); len(r.Results) != 1 {
		t.Fatalf("narrow search after the cut ones: %+v", r)
	}
}

// TestSearchBudgetBadInputs: with the default budget (8 words, 2
// characters), a search of only one-letter words or of more than 8 words
// is search_too_broad, a blank one invalid, a too long one too_large, each
// with a message; one-letter words beside a longer one are ignored, and a
// query of punctuation only matches nothing. Nothing is lost: the next
// good search answers.
func TestSearchBudgetBadInputs(t *testing.T) {
	ts := startServer(t, server.Options{Store: openSQLite(t)})
	ann, _ := lobbyPair(t, ts.url)
	ann.sendMsg(t, "lobby", "a-1", "a plan for the release")
	ann.sendMsg(t, "lobby", "a-2", "another topic")
	for _, bad := range []struct {
		query string
		code  shared.Code
	}{
		{"a", shared.CodeSearchTooBroad},
		{"a b c d", shared.CodeSearchTooBroad},
		{"x * y \" z", shared.CodeSearchTooBroad},
		{"one two three four five six seven eight nine", shared.CodeSearchTooBroad},
		{"", shared.CodeInvalid},
		{"   ", shared.CodeInvalid},
		{strings.Repeat("ab ", 70), shared.CodeTooLarge},
	} {
		ann.expectError(t, ann.request(t, shared.TypeSearch, &shared.Search{Query: bad.query, Limit: 5}), bad.code)
	}
	for _, good := range []struct {
		query string
		want  int
	}{
		{"a plan", 1},  // "a" ignored
		{"pl", 1},      // two letters: a prefix
		{"!!! ???", 0}, // no words: nothing
		{"one two three four five six seven eight", 0}, // eight words: allowed
	} {
		f, _ := ann.call(t, shared.TypeSearch, &shared.Search{Query: good.query, Limit: 5})
		if r := ackOf[shared.SearchAck](t, f); len(r.Results) != good.want {
			t.Fatalf("search %q: %d results, want %d", good.query, len(r.Results), good.want)
		}
	}
}
