package sqlite

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/duplex-chat/duplex/server/store"
	"github.com/duplex-chat/duplex/shared"
	"github.com/duplex-chat/duplex/shared/testpoll"
)

// grepDir returns "file: word" for every word found in the raw bytes of
// any file under dir.
func grepDir(t testing.TB, dir string, words []string) []string {
	t.Helper()
	var found []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, w := range words {
			if bytes.Contains(b, []byte(w)) {
				found = append(found, filepath.Base(path)+": "+w)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return found
}

// waitErased polls until no file of dir holds any of gone (the store
// stays open: the background checkpoint must empty the WAL) and every
// word of kept is found (so the grep can fail).
func waitErased(t *testing.T, dir string, gone, kept []string) {
	t.Helper()
	var left, got []string
	testpoll.Until(t, fmt.Sprintf("no file of %s to hold %v", dir, gone), func() bool {
		left, got = grepDir(t, dir, gone), grepDir(t, dir, kept)
		return len(left) == 0 && len(got) >= len(kept)
	}, func() string {
		return fmt.Sprintf("erased words still found: %v; kept words found: %v (want all of %v)", left, got, kept)
	})
	t.Logf("no file of %s holds %v; %v found", dir, gone, got)
}

func appendOK(t *testing.T, s *Store, m store.NewMessage) store.Result {
	t.Helper()
	r, err := s.Append(context.Background(), []store.NewMessage{m})
	if err != nil {
		t.Fatalf("append %s: %v", m.MsgID, err)
	}
	if r[0].Err != nil {
		t.Fatalf("append %s: %v", m.MsgID, r[0].Err)
	}
	return r[0]
}

var ann = shared.Member{User: "u-ann", Nick: "Ann"}

// TestEraseDeletedAndEditedText: a message sent, edited twice and
// deleted leaves none of its three texts in any file of the data
// directory while the store stays open (row, edit rows, FTS5 index, WAL
// all cleared within the checkpoint delay), and an edit alone erases the
// text it replaced. The kept message's words are found by the same grep.
// The FTS5 vocabulary (fts5vocab) holds no term of the erased texts.
func TestEraseDeletedAndEditedText(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	appendOK(t, s, store.NewMessage{Room: "a", MsgID: "keep", Author: ann, Body: "keptalpha keptbravo", TS: 1})
	appendOK(t, s, store.NewMessage{Room: "a", MsgID: "m", Author: ann, Body: "deletedsecret zebraquokka hunter2xyz", TS: 2})
	appendOK(t, s, store.NewMessage{Room: "a", MsgID: "e1", Author: ann, Kind: shared.KindEdit, Target: 2, Body: "firstedit wombatxyz", TS: 3})
	appendOK(t, s, store.NewMessage{Room: "a", MsgID: "e2", Author: ann, Kind: shared.KindEdit, Target: 2, Body: "secondedit platypusxyz", TS: 4})
	// An edit alone: the replaced words go, the new ones stay.
	appendOK(t, s, store.NewMessage{Room: "a", MsgID: "n", Author: ann, Body: "beforeedit narwhalxyz", TS: 5})
	appendOK(t, s, store.NewMessage{Room: "a", MsgID: "n1", Author: ann, Kind: shared.KindEdit, Target: 5, Body: "afteredit", TS: 6})
	waitErased(t, dir, []string{"deletedsecret", "zebraquokka", "hunter2xyz", "firstedit", "wombatxyz", "beforeedit", "narwhalxyz"},
		[]string{"keptalpha", "keptbravo", "secondedit", "platypusxyz", "afteredit"})

	appendOK(t, s, store.NewMessage{Room: "a", MsgID: "d", Author: ann, Kind: shared.KindDelete, Target: 2, TS: 7})
	waitErased(t, dir, []string{"deletedsecret", "zebraquokka", "hunter2xyz", "firstedit", "wombatxyz", "secondedit", "platypusxyz", "beforeedit", "narwhalxyz"},
		[]string{"keptalpha", "keptbravo", "afteredit"})

	if _, err := s.db.Exec(`CREATE VIRTUAL TABLE temp.vocab USING fts5vocab(main, search, row)`); err != nil {
		t.Fatal(err)
	}
	rows, err := s.db.Query(`SELECT term FROM temp.vocab ORDER BY term`)
	if err != nil {
		t.Fatal(err)
	}
	var terms []string
	for rows.Next() {
		var term string
		rows.Scan(&term)
		terms = append(terms, term)
	}
	rows.Close()
	if got := strings.Join(terms, " "); got != "afteredit keptalpha keptbravo" {
		t.Fatalf("search index terms = %q, want only the live texts' \"afteredit keptalpha keptbravo\"", got)
	}
	// Search still finds what is live and nothing erased.
	for q, want := range map[string]int{"keptalpha": 1, "afteredit": 1, "zebraquokka": 0, "secondedit": 0, "beforeedit": 0} {
		got, _, err := s.Search(context.Background(), store.SearchQuery{Query: q, Limit: 10})
		if err != nil || len(got) != want {
			t.Fatalf("Search(%q) = %d results (%v), want %d", q, len(got), err, want)
		}
	}
}

// TestEraseSupersededEditRetry: the body of an edit that a newer edit
// superseded is erased, yet a retry of it (same msg id, same request)
// is still answered as a duplicate, not a conflict; a different request
// under that msg id is still a conflict. History replays both edit
// events with the latest text.
func TestEraseSupersededEditRetry(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	appendOK(t, s, store.NewMessage{Room: "a", MsgID: "m", Author: ann, Body: "one", TS: 1})
	e1 := store.NewMessage{Room: "a", MsgID: "e1", Author: ann, Kind: shared.KindEdit, Target: 1, Body: "two", TS: 2}
	appendOK(t, s, e1)
	appendOK(t, s, store.NewMessage{Room: "a", MsgID: "e2", Author: ann, Kind: shared.KindEdit, Target: 1, Body: "three", TS: 3})
	var stored string
	if err := s.db.QueryRow(`SELECT body FROM messages WHERE room = 'a' AND msg_id = 'e1'`).Scan(&stored); err != nil || stored != "" {
		t.Fatalf("superseded edit row body = %q (%v), want erased", stored, err)
	}
	if r := appendOK(t, s, e1); !r.Duplicate || r.Message.Seq != 2 || r.Message.Body != "three" {
		t.Fatalf("retry of superseded edit = %+v, want duplicate of seq 2 carrying the latest text", r)
	}
	other := e1
	other.Target = 99
	r, err := s.Append(ctx, []store.NewMessage{other})
	var se *shared.Error
	if err != nil || !errors.As(r[0].Err, &se) || se.Code != shared.CodeConflict {
		t.Fatalf("other request under e1's msg id: %v %v, want conflict", err, r[0].Err)
	}
	msgs, err := s.After(ctx, "a", 0, 10)
	if err != nil || len(msgs) != 3 || msgs[1].Body != "three" || msgs[2].Body != "three" {
		t.Fatalf("After = %+v (%v), want both edit events carrying the latest text", msgs, err)
	}
}

// TestPruneErases: retention removes messages and their edit rows from
// every file of the data directory, search index and WAL included.
func TestPruneErases(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	appendOK(t, s, store.NewMessage{Room: "a", MsgID: "old", Author: ann, Body: "prunedsecret oldwalrus", TS: 1})
	appendOK(t, s, store.NewMessage{Room: "a", MsgID: "e", Author: ann, Kind: shared.KindEdit, Target: 1, Body: "prunededit", TS: 2})
	appendOK(t, s, store.NewMessage{Room: "a", MsgID: "new", Author: ann, Body: "survivor keptyak", TS: 3})
	if n, err := s.Prune(context.Background(), store.Retention{KeepCount: 1}, 100); err != nil || n != 2 {
		t.Fatalf("Prune = %d, %v; want 2", n, err)
	}
	waitErased(t, dir, []string{"prunedsecret", "oldwalrus", "prunededit"}, []string{"survivor", "keptyak"})
}

// TestEraseMigratesOldIndex: a database written by the previous schema
// (contentless_delete index that kept deleted words, edit rows with
// superseded text) loses that text when this binary opens it.
func TestEraseMigratesOldIndex(t *testing.T) {
	dir := t.TempDir()
	all := migrations
	migrations = all[:7] // up to the reaction counts; 8 is the erasing index
	s, err := Open(dir)
	if err != nil {
		migrations = all
		t.Fatal(err)
	}
	// This binary's code erases superseded edit bodies even on the old
	// schema: write them back, as the previous binary left them.
	appendOK(t, s, store.NewMessage{Room: "a", MsgID: "keep", Author: ann, Body: "keptalpha", TS: 1})
	appendOK(t, s, store.NewMessage{Room: "a", MsgID: "m", Author: ann, Body: "olddeleted oldsecret", TS: 2})
	appendOK(t, s, store.NewMessage{Room: "a", MsgID: "e1", Author: ann, Kind: shared.KindEdit, Target: 2, Body: "oldedit", TS: 3})
	appendOK(t, s, store.NewMessage{Room: "a", MsgID: "e2", Author: ann, Kind: shared.KindEdit, Target: 2, Body: "latest", TS: 4})
	if _, err := s.db.Exec(`UPDATE messages SET body = 'oldedit' WHERE msg_id = 'e1'`); err != nil {
		t.Fatal(err)
	}
	appendOK(t, s, store.NewMessage{Room: "a", MsgID: "o", Author: ann, Body: "otherlive", TS: 5})
	appendOK(t, s, store.NewMessage{Room: "a", MsgID: "o1", Author: ann, Kind: shared.KindEdit, Target: 5, Body: "supersededtext", TS: 6})
	appendOK(t, s, store.NewMessage{Room: "a", MsgID: "o2", Author: ann, Kind: shared.KindEdit, Target: 5, Body: "finaltext", TS: 7})
	if _, err := s.db.Exec(`UPDATE messages SET body = 'supersededtext' WHERE msg_id = 'o1'`); err != nil {
		t.Fatal(err)
	}
	appendOK(t, s, store.NewMessage{Room: "a", MsgID: "d", Author: ann, Kind: shared.KindDelete, Target: 2, TS: 8})
	s.Close()
	migrations = all
	if got := grepDir(t, dir, []string{"olddeleted", "oldsecret"}); len(got) == 0 {
		t.Fatal("the old schema's index no longer holds the deleted words: this test cannot show the migration erases them")
	}
	s, err = Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	waitErased(t, dir, []string{"olddeleted", "oldsecret", "oldedit", "supersededtext"}, []string{"keptalpha", "finaltext"})
	got, _, err := s.Search(context.Background(), store.SearchQuery{Query: "finaltext", Limit: 10})
	if err != nil || len(got) != 1 {
		t.Fatalf("search after migration: %d results, %v", len(got), err)
	}
}

// TestPruneReportsImages: Prune reports the images whose last message it
// removed (once: TakePrunedImages forgets them), not one a kept message
// still carries, nor one of a message deleted earlier (its image was
// reported by the delete).
func TestPruneReportsImages(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	img := func(id string) *shared.Image {
		return &shared.Image{ID: id, Name: "x.png", Type: "image/png", Size: 1, Width: 1, Height: 1}
	}
	m := func(id, image string) store.NewMessage {
		return store.NewMessage{Room: "a", MsgID: id, Author: ann, Body: "", TS: 1, Image: img(image)}
	}
	appendOK(t, s, m("m1", "i-gone"))
	appendOK(t, s, m("m2", "i-kept"))
	appendOK(t, s, m("m3", "i-deleted"))
	if r := appendOK(t, s, store.NewMessage{Room: "a", MsgID: "d", Author: ann, Kind: shared.KindDelete, Target: 3, TS: 2}); r.Orphaned != "i-deleted" {
		t.Fatalf("delete: Orphaned %q", r.Orphaned)
	}
	appendOK(t, s, m("m5", "i-kept"))
	if n, err := s.Prune(context.Background(), store.Retention{KeepCount: 1}, 100); err != nil || n != 4 {
		t.Fatalf("Prune = %d, %v; want 4", n, err)
	}
	if got := s.TakePrunedImages(); len(got) != 1 || got[0] != "i-gone" {
		t.Fatalf("TakePrunedImages = %v, want [i-gone]", got)
	}
	if got := s.TakePrunedImages(); len(got) != 0 {
		t.Fatalf("second TakePrunedImages = %v, want none", got)
	}
}

// BenchmarkSendEditDelete measures the erasure's cost: each iteration is
// a send, an edit and a delete of one message (three transactions), in a
// room that already holds 2,000 messages; the deletes' FTS5 secure-delete
// and the background checkpoints are included.
func BenchmarkSendEditDelete(b *testing.B) {
	s, err := Open(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	var seed []store.NewMessage
	for i := range 2000 {
		seed = append(seed, store.NewMessage{Room: "a", MsgID: fmt.Sprintf("seed-%d", i), Author: ann, Body: fmt.Sprintf("seed message %d with some words in it", i), TS: 1})
	}
	if _, err := s.Append(ctx, seed); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := range b.N {
		id := fmt.Sprintf("m-%d", i)
		r, err := s.Append(ctx, []store.NewMessage{{Room: "a", MsgID: id, Author: ann, Body: "a secret message number " + id, TS: 2}})
		if err != nil || r[0].Err != nil {
			b.Fatal(err, r[0].Err)
		}
		seq := r[0].Message.Seq
		for _, ev := range []store.NewMessage{
			{Room: "a", MsgID: id + "-e", Author: ann, Kind: shared.KindEdit, Target: seq, Body: "edited " + id, TS: 3},
			{Room: "a", MsgID: id + "-d", Author: ann, Kind: shared.KindDelete, Target: seq, TS: 4},
		} {
			if r, err := s.Append(ctx, []store.NewMessage{ev}); err != nil || r[0].Err != nil {
				b.Fatal(err, r[0].Err)
			}
		}
	}
}
