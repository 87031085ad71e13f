package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/duplex-chat/duplex/server/store"
	"github.com/duplex-chat/duplex/server/store/storetest"
	"github.com/duplex-chat/duplex/shared"
	"github.com/duplex-chat/duplex/shared/testpoll"
)

func openTemp(t testing.TB) store.Store {
	t.Helper()
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s
}

func TestConformance(t *testing.T) { storetest.Run(t, openTemp) }

func TestReopenPersists(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	ann := shared.Member{User: "u-ann", Nick: "Ann"}
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	var batch []store.NewMessage
	for i := 1; i <= 5; i++ {
		batch = append(batch, store.NewMessage{Room: "a", MsgID: fmt.Sprintf("m-%d", i), Author: ann, Body: fmt.Sprintf("body %d", i), TS: int64(i)})
	}
	batch = append(batch, store.NewMessage{Room: "b", MsgID: "m-1", Author: ann, Body: "in b", TS: 9})
	if _, err := s.Append(ctx, batch); err != nil {
		t.Fatal(err)
	}
	if err := s.AddMember(ctx, "empty", ann); err != nil {
		t.Fatal(err)
	}
	before, err := s.Rooms(ctx, store.RoomQuery{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s, err = Open(dir)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer s.Close()
	for room, want := range map[string]int64{"a": 5, "b": 1, "empty": 0, "none": 0} {
		if h, err := s.Head(ctx, room); err != nil || h != want {
			t.Errorf("Head(%s) after reopen = %d, %v; want %d", room, h, err, want)
		}
	}
	msgs, err := s.After(ctx, "a", 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	for i, m := range msgs {
		want := shared.Message{Room: "a", Seq: int64(i + 1), TS: int64(i + 1), Author: ann, Body: fmt.Sprintf("body %d", i+1), MsgID: fmt.Sprintf("m-%d", i+1)}
		if !reflect.DeepEqual(m, want) {
			t.Errorf("message %d after reopen: %+v, want %+v", i, m, want)
		}
	}
	if len(msgs) != 5 {
		t.Fatalf("%d messages after reopen", len(msgs))
	}
	after, err := s.Rooms(ctx, store.RoomQuery{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(after, before) {
		t.Errorf("Rooms after reopen %+v, before %+v", after, before)
	}
	// Seqs continue, dedup still knows old msg_ids, and activity order
	// continues from the stored clock.
	res, err := s.Append(ctx, []store.NewMessage{
		{Room: "a", MsgID: "m-6", Author: ann, Body: "six", TS: 6},
		{Room: "a", MsgID: "m-2", Author: ann, Body: "body 2", TS: 99},
		{Room: "a", MsgID: "m-3", Author: ann, Body: "changed", TS: 99},
	})
	if err != nil {
		t.Fatal(err)
	}
	if res[0].Message.Seq != 6 || res[0].Duplicate {
		t.Errorf("first append after reopen: %+v, want seq 6", res[0])
	}
	if !res[1].Duplicate || res[1].Message.Seq != 2 || res[1].Message.TS != 2 {
		t.Errorf("duplicate after reopen: %+v", res[1])
	}
	var e *shared.Error
	if !errors.As(res[2].Err, &e) || e.Code != shared.CodeConflict {
		t.Errorf("conflict after reopen: %+v", res[2])
	}
	rooms, err := s.Rooms(ctx, store.RoomQuery{Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(rooms) != 1 || rooms[0].Name != "a" || rooms[0].Head != 6 {
		t.Errorf("most active room after reopen: %+v, want a with head 6", rooms)
	}
}

func userVersion(t *testing.T, db *sql.DB) int {
	t.Helper()
	var v int
	if err := db.QueryRow(`PRAGMA user_version`).Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

func TestMigrationsIdempotent(t *testing.T) {
	dir := t.TempDir()
	for i := range 3 {
		s, err := Open(dir)
		if err != nil {
			t.Fatalf("open %d: %v", i+1, err)
		}
		if v := userVersion(t, s.db); v != len(migrations) {
			t.Errorf("open %d: user_version %d, want %d", i+1, v, len(migrations))
		}
		if _, err := s.Append(context.Background(), []store.NewMessage{{Room: "a", MsgID: fmt.Sprintf("m-%d", i), Author: shared.Member{User: "u", Nick: "n"}, Body: "x", TS: 1}}); err != nil {
			t.Fatal(err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if h, _ := s.Head(context.Background(), "a"); h != 3 {
		t.Fatalf("Head after three opens = %d, want 3", h)
	}
}

func TestNewerSchemaRefused(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	newer := len(migrations) + 5
	if _, err := s.db.Exec(fmt.Sprintf(`PRAGMA user_version = %d`, newer)); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(dir)
	if err == nil {
		s.Close()
		t.Fatal("Open accepted a database with a newer schema")
	}
	for _, want := range []string{"newer", fmt.Sprint(newer)} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	// The refused database is left untouched.
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, FileName))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if v := userVersion(t, db); v != newer {
		t.Errorf("user_version changed to %d", v)
	}
}

func TestWALMode(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// Every pooled connection gets the pragmas: check several at once.
	ctx := context.Background()
	var conns []*sql.Conn
	for range 3 {
		c, err := s.db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	for i, c := range conns {
		var mode string
		var sync, busy int
		if err := c.QueryRowContext(ctx, `PRAGMA journal_mode`).Scan(&mode); err != nil {
			t.Fatal(err)
		}
		if err := c.QueryRowContext(ctx, `PRAGMA synchronous`).Scan(&sync); err != nil {
			t.Fatal(err)
		}
		if err := c.QueryRowContext(ctx, `PRAGMA busy_timeout`).Scan(&busy); err != nil {
			t.Fatal(err)
		}
		if mode != "wal" || sync != 2 || busy <= 0 {
			t.Errorf("connection %d: journal_mode %q, synchronous %d, busy_timeout %d; want wal, 2 (FULL), > 0", i, mode, sync, busy)
		}
		c.Close()
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(dbPath(t, s)), FileName+"-wal")); err != nil {
		t.Errorf("no WAL file beside the database: %v", err)
	}
}

func dbPath(t *testing.T, s *Store) string {
	t.Helper()
	var seq int
	var name, file string
	if err := s.db.QueryRow(`PRAGMA database_list`).Scan(&seq, &name, &file); err != nil {
		t.Fatal(err)
	}
	return file
}

// TestConcurrentAddMemberAndAppend runs the server's two writers (the
// committer and joins) at once: neither may fail with SQLITE_BUSY.
func TestConcurrentAddMemberAndAppend(t *testing.T) {
	s := openTemp(t)
	defer s.Close()
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 25 {
				if err := s.AddMember(ctx, fmt.Sprintf("r%d", i%5), shared.Member{User: fmt.Sprintf("u-%d-%d", w, i), Nick: "n"}); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	for i := range 50 {
		if _, err := s.Append(ctx, []store.NewMessage{{Room: fmt.Sprintf("r%d", i%5), MsgID: fmt.Sprintf("m-%d", i), Author: shared.Member{User: "u", Nick: "n"}, Body: "x", TS: 1}}); err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for r := range 5 {
		if h, _ := s.Head(ctx, fmt.Sprintf("r%d", r)); h != 10 {
			t.Errorf("Head(r%d) = %d, want 10", r, h)
		}
	}
}

// BenchmarkAppendGroupCommit appends batches of 1, 64 and 512 messages, one
// transaction (one fsync) per batch, and reports messages per second.
func BenchmarkAppendGroupCommit(b *testing.B) {
	for _, size := range []int{1, 64, 512} {
		b.Run(fmt.Sprintf("batch=%d", size), func(b *testing.B) {
			s, err := Open(b.TempDir())
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			ctx := context.Background()
			author := shared.Member{User: "u-bench", Nick: "Bench"}
			body := strings.Repeat("x", 100)
			batch := make([]store.NewMessage, size)
			n := 0
			b.ResetTimer()
			start := time.Now()
			for b.Loop() {
				for i := range batch {
					n++
					batch[i] = store.NewMessage{Room: "bench", MsgID: fmt.Sprintf("m-%d", n), Author: author, Body: body, TS: int64(n)}
				}
				if _, err := s.Append(ctx, batch); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(n)/time.Since(start).Seconds(), "msgs/s")
		})
	}
}

func memberRows(t *testing.T, db *sql.DB) map[string]string {
	t.Helper()
	rows, err := db.Query(`SELECT room, user_id, nick FROM members`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var room, user, nick string
		if err := rows.Scan(&room, &user, &nick); err != nil {
			t.Fatal(err)
		}
		out[room+"/"+user] = nick
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestMembersPersist: member records, which AddMember may write in the
// background, are on disk after Close (and soon after without one), with
// the latest nickname.
func TestMembersPersist(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []struct{ room, user, nick string }{
		{"a", "u-1", "Ann"}, {"a", "u-2", "Bob"}, {"b", "u-1", "Ann"}, {"a", "u-1", "Ann 2"},
	} {
		if err := s.AddMember(ctx, m.room, shared.Member{User: m.user, Nick: m.nick}); err != nil {
			t.Fatal(err)
		}
	}
	want := map[string]string{"a/u-1": "Ann 2", "a/u-2": "Bob", "b/u-1": "Ann"}
	// Without a Close they reach the file shortly.
	testpoll.Until(t, fmt.Sprintf("members on disk %v", want), func() bool { return reflect.DeepEqual(memberRows(t, s.db), want) },
		func() string { return fmt.Sprintf("members on disk %v", memberRows(t, s.db)) })
	// Joined right before Close: written by Close.
	if err := s.AddMember(ctx, "c", shared.Member{User: "u-3", Nick: "Cy"}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.AddMember(ctx, "c", shared.Member{User: "u-4", Nick: "Dee"}); !errors.Is(err, store.ErrClosed) {
		t.Fatalf("AddMember after Close: %v, want ErrClosed", err)
	}
	s, err = Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	want["c/u-3"] = "Cy"
	if got := memberRows(t, s.db); !reflect.DeepEqual(got, want) {
		t.Fatalf("members after reopen %v, want %v", got, want)
	}
	rooms, err := s.Rooms(ctx, store.RoomQuery{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(rooms) != 3 || rooms[0].Name != "c" {
		t.Fatalf("rooms after reopen %+v, want c (the last joined) first of 3", rooms)
	}
}
