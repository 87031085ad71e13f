package sqlite

import (
	"context"
	"reflect"
	"testing"

	"github.com/duplex-chat/duplex/server/store"
	"github.com/duplex-chat/duplex/shared"
)

// TestReactionCountsMigrate opens a database written before the per-emoji
// counts (schema 6, reactions only) and checks that the migration derives
// them: the reactions it held show with their counts, in the order their
// emoji appeared, and the next react counts on from there.
func TestReactionCountsMigrate(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	all := migrations
	migrations = all[:7] // later migrations do not run again after the rollback below
	s, err := Open(dir)
	migrations = all
	if err != nil {
		t.Fatal(err)
	}
	ann := shared.Member{User: "u-ann", Nick: "Ann"}
	if _, err := s.Append(ctx, []store.NewMessage{{Room: "r", MsgID: "m1", Author: ann, Body: "old", TS: 1}}); err != nil {
		t.Fatal(err)
	}
	// Back to schema 6, with three reactions written the old way.
	for _, q := range []string{
		`DROP TABLE reaction_counts`,
		`INSERT INTO reactions (room, seq, user_id, emoji, at) VALUES ('r', 1, 'u-a', '🎉', 2), ('r', 1, 'u-b', '👍', 3), ('r', 1, 'u-c', '🎉', 4)`,
		`PRAGMA user_version = 6`,
	} {
		if _, err := s.db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	s.Close()
	s, err = Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	want := []shared.Reaction{{Emoji: "🎉", Count: 2, Users: []string{"u-a", "u-c"}}, {Emoji: "👍", Count: 1, Me: true, Users: []string{"u-b"}}}
	h, err := s.Before(store.WithViewer(ctx, "u-b"), "r", 0, 10)
	if err != nil || len(h) != 1 || !reflect.DeepEqual(h[0].Reactions, want) {
		t.Fatalf("after the migration: %+v, %v; want %+v", h, err, want)
	}
	res, err := s.Append(ctx, []store.NewMessage{{Room: "r", MsgID: "x", Author: ann, TS: 5, Kind: shared.KindReact, Target: 1, Emoji: "🎉"}})
	if err != nil || res[0].Err != nil || res[0].Message.Reaction == nil || res[0].Message.Reaction.Count != 3 {
		t.Fatalf("react after the migration: %+v, %v", res, err)
	}
}
