package sqlite

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/duplex-chat/duplex/server/store"
	"github.com/duplex-chat/duplex/shared"
)

// TestPruneReclaimsSpace: a new database uses incremental vacuum, so
// pruning gives pages back to the file system in bounded steps, and the
// pruned mark survives a reopen.
func TestPruneReclaimsSpace(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	var mode int
	if err := s.db.QueryRow(`PRAGMA auto_vacuum`).Scan(&mode); err != nil || mode != 2 {
		t.Fatalf("auto_vacuum = %d (%v), want 2 (incremental)", mode, err)
	}
	body := strings.Repeat("x", 3000)
	for b := range 10 {
		var batch []store.NewMessage
		for i := range 200 {
			batch = append(batch, store.NewMessage{Room: "a", MsgID: fmt.Sprintf("m-%d-%d", b, i), Author: shared.Member{User: "u", Nick: "n"}, Body: body, TS: 1})
		}
		if _, err := s.Append(ctx, batch); err != nil {
			t.Fatal(err)
		}
	}
	pages := func() (count, free int64) {
		s.db.QueryRow(`PRAGMA page_count`).Scan(&count)
		s.db.QueryRow(`PRAGMA freelist_count`).Scan(&free)
		return
	}
	full, _ := pages()
	for {
		n, err := s.Prune(ctx, store.Retention{KeepCount: 10}, 500)
		if err != nil {
			t.Fatal(err)
		}
		if n < 500 {
			break
		}
	}
	count, free := pages()
	t.Logf("pages: %d before, %d after pruning (%d free)", full, count, free)
	if count > full/4 {
		t.Fatalf("%d pages after pruning 1990 of 2000 messages, %d before: space not reclaimed", count, full)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if p, err := s.Pruned(ctx, "a"); err != nil || p != 1990 {
		t.Fatalf("Pruned after reopen = %d, %v; want 1990", p, err)
	}
}
