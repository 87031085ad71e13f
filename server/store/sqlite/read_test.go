package sqlite

import (
	"context"
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
