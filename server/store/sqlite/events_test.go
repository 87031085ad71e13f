package sqlite

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/duplex-chat/duplex/server/store"
	"github.com/duplex-chat/duplex/shared"
)

// TestDeleteLeavesNoTextInTheFile deletes a message that was edited and
// reacted to and quoted, checkpoints the WAL into the main file, and
// looks for the deleted text in the bytes of every file of the database.
// Before the delete the same search finds it, so the check can fail.
func TestDeleteLeavesNoTextInTheFile(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ann := shared.Member{User: "u-ann", Nick: "Ann"}
	bob := shared.Member{User: "u-bob", Nick: "Bob"}
	secrets := []string{"zebra-original-7f3a", "zebra-edited-9c1d", "zebra-edited-again-2b8e"}
	batches := [][]store.NewMessage{
		{{Room: "r", MsgID: "m1", Author: ann, Body: "before " + secrets[0] + " after", TS: 1}},
		{{Room: "r", MsgID: "e1", Author: ann, Body: secrets[1], TS: 2, Kind: shared.KindEdit, Target: 1}},
		{{Room: "r", MsgID: "m2", Author: bob, Body: "a reply", TS: 3, ReplyTo: 1}},
		{{Room: "r", MsgID: "r1", Author: bob, TS: 4, Kind: shared.KindReact, Target: 1, Emoji: "👍"}},
		{{Room: "r", MsgID: "e2", Author: ann, Body: secrets[2], TS: 5, Kind: shared.KindEdit, Target: 1}},
	}
	for _, b := range batches {
		res, err := s.Append(ctx, b)
		if err != nil || res[0].Err != nil {
			t.Fatalf("Append: %v %+v", err, res)
		}
	}
	found := func() []string {
		if _, err := s.db.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
			t.Fatal(err)
		}
		files, _ := filepath.Glob(filepath.Join(dir, FileName+"*"))
		var hits []string
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			for _, sec := range secrets {
				if bytes.Contains(b, []byte(sec)) {
					hits = append(hits, filepath.Base(f)+": "+sec)
				}
			}
		}
		return hits
	}
	// The latest edit's text is stored (in the message row and the
	// latest edit row); the original body and the first edit's were
	// overwritten, in place (an edit keeps no history: erase.go).
	if hits := found(); len(hits) != 1 || hits[0] != FileName+": "+secrets[2] {
		t.Fatalf("before the delete the file holds %v; want only the latest edit's text (else this test proves nothing)", hits)
	}
	res, err := s.Append(ctx, []store.NewMessage{{Room: "r", MsgID: "d1", Author: ann, TS: 6, Kind: shared.KindDelete, Target: 1}})
	if err != nil || res[0].Err != nil {
		t.Fatalf("delete: %v %+v", err, res)
	}
	if hits := found(); len(hits) != 0 {
		t.Fatalf("deleted text still in the database files: %v", hits)
	}
}
