package sqlite

import (
	"context"
	"strconv"
	"testing"

	"github.com/duplex-chat/duplex/server/store"
	"github.com/duplex-chat/duplex/shared"
)

// TestReadMarkersPersist: a first-join marker (written lazily, in a batch)
// and a raised one survive Close and reopen, and so do mentions and the
// search index.
func TestReadMarkersPersist(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	bob := shared.Member{User: "u-bob", Nick: "Bob"}
	if _, err := s.Append(ctx, []store.NewMessage{
		{Room: "a", MsgID: "1", Author: bob, Body: "first", TS: 1},
		{Room: "a", MsgID: "2", Author: bob, Body: "hey @Ann", TS: 2, Mentions: []string{"u-ann"}},
	}); err != nil {
		t.Fatal(err)
	}
	if err := s.InitRead(ctx, "a", "u-ann", 1); err != nil {
		t.Fatal(err)
	}
	if _, err := s.MarkRead(ctx, "a", "u-cy", 2); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if st, err := s.ReadState(ctx, "a", "u-ann"); err != nil || st != (store.ReadState{Marked: true, Read: 1, Unread: 1, Mentioned: 1}) {
		t.Fatalf("ann after reopen: %+v, %v", st, err)
	}
	if st, err := s.ReadState(ctx, "a", "u-cy"); err != nil || st.Read != 2 {
		t.Fatalf("cy after reopen: %+v, %v", st, err)
	}
	msgs, _, err := s.Search(ctx, store.SearchQuery{User: "u-ann", Query: "ann", Limit: 5})
	if err != nil || len(msgs) != 1 || msgs[0].Seq != 2 || len(msgs[0].Mentions) != 1 {
		t.Fatalf("search after reopen: %+v, %v", msgs, err)
	}
}

// benchStore fills a store with n messages in 10 rooms, a tenth of them
// mentioning u-ann, every 100th holding "needle".
func benchStore(b *testing.B, n int) *Store { return benchStoreT(b, n) }

func benchStoreT(b testing.TB, n int) *Store {
	b.Helper()
	s, err := Open(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	bob := shared.Member{User: "u-bob", Nick: "Bob"}
	ctx := context.Background()
	for i := 0; i < n; i += 1000 {
		batch := make([]store.NewMessage, 0, 1000)
		for j := i; j < i+1000 && j < n; j++ {
			nm := store.NewMessage{Room: "room-" + strconv.Itoa(j%10), MsgID: "m" + strconv.Itoa(j), Author: bob, Body: "some chat words number " + strconv.Itoa(j), TS: int64(j)}
			if j%10 == 3 {
				nm.Mentions = []string{"u-ann"}
			}
			if j%100 == 7 {
				nm.Body += " needle"
			}
			batch = append(batch, nm)
		}
		if _, err := s.Append(ctx, batch); err != nil {
			b.Fatal(err)
		}
	}
	return s
}

// BenchmarkSearch: one page of 20 results for a word in 1% of 20,000
// messages, across the rooms a user may read.
func BenchmarkSearch(b *testing.B) {
	s := benchStore(b, 20_000)
	ctx := context.Background()
	b.ResetTimer()
	for range b.N {
		msgs, _, err := s.Search(ctx, store.SearchQuery{User: "u-ann", Query: "needle", Limit: 20})
		if err != nil || len(msgs) != 20 {
			b.Fatalf("%d results, %v", len(msgs), err)
		}
	}
}

// BenchmarkReadState: the counts of a join, for a user 1,000 messages
// behind in a room of 2,000, all of them mentioning the user (the worst
// case of the mention count).
func BenchmarkReadState(b *testing.B) {
	s := benchStore(b, 20_000)
	ctx := context.Background()
	if _, err := s.MarkRead(ctx, "room-3", "u-ann", 1_000); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		st, err := s.ReadState(ctx, "room-3", "u-ann")
		if err != nil || st.Unread != 1000 || st.Mentioned != 1000 {
			b.Fatalf("%+v, %v", st, err)
		}
	}
}
