// Package storetest is the conformance suite every store.Store
// implementation must pass: the memory store and the SQLite store run it,
// and so should a NATS JetStream store.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"

	"github.com/duplex-chat/duplex/server/store"
	"github.com/duplex-chat/duplex/shared"
)

// ctx is the context of every store call of the suite; ann and bob
// write its messages.
var (
	ctx = context.Background()
	ann = shared.Member{User: "u-ann", Nick: "Ann"}
	bob = shared.Member{User: "u-bob", Nick: "Bob"}
)

// freshStores returns what opens a store for one subtest: a new one from
// open, closed when the subtest ends.
func freshStores(open func(t testing.TB) store.Store) func(t *testing.T) store.Store {
	return func(t *testing.T) store.Store {
		s := open(t)
		t.Cleanup(func() { s.Close() })
		return s
	}
}

// must returns v when err is nil and otherwise fails t with call, a
// format of args that names what was called, and err:
// must(s.Head(ctx, room))(t, "Head(%s)", room).
func must[T any](v T, err error) func(t testing.TB, call string, args ...any) T {
	return func(t testing.TB, call string, args ...any) T {
		t.Helper()
		if err != nil {
			t.Fatalf(call+": %v", append(args, err)...)
		}
		return v
	}
}

// Run runs the store.Store contract against stores made by open,
// each subtest on a fresh store.
func Run(t *testing.T, open func(t testing.TB) store.Store) {
	msg := func(room, id, body string, ts int64) store.NewMessage {
		return store.NewMessage{Room: room, MsgID: id, Author: ann, Body: body, TS: ts}
	}
	appendOK := func(t *testing.T, s store.Store, msgs ...store.NewMessage) []store.Result {
		t.Helper()
		res, err := s.Append(ctx, msgs)
		if err != nil {
			t.Fatalf("Append: %v", err)
		}
		if len(res) != len(msgs) {
			t.Fatalf("Append returned %d results for %d messages", len(res), len(msgs))
		}
		return res
	}
	fill := func(t *testing.T, s store.Store, room string, n int) {
		t.Helper()
		var batch []store.NewMessage
		for i := 1; i <= n; i++ {
			batch = append(batch, msg(room, fmt.Sprintf("m-%d", i), fmt.Sprintf("body %d", i), int64(1000+i)))
		}
		appendOK(t, s, batch...)
	}
	seqs := func(msgs []shared.Message) []int64 {
		out := []int64{}
		for _, m := range msgs {
			out = append(out, m.Seq)
		}
		return out
	}
	span := func(from, to int64) []int64 {
		out := []int64{}
		for s := from; s <= to; s++ {
			out = append(out, s)
		}
		return out
	}
	head := func(t *testing.T, s store.Store, room string) int64 {
		t.Helper()
		return must(s.Head(ctx, room))(t, "Head(%s)", room)
	}
	fresh := freshStores(open)

	t.Run("Append assigns per-room seqs from 1", func(t *testing.T) {
		s := fresh(t)
		res := appendOK(t, s, msg("a", "a1", "one", 10), msg("b", "b1", "uno", 11), msg("a", "a2", "two", 12))
		want := []shared.Message{
			{Room: "a", Seq: 1, TS: 10, Author: ann, Body: "one", MsgID: "a1"},
			{Room: "b", Seq: 1, TS: 11, Author: ann, Body: "uno", MsgID: "b1"},
			{Room: "a", Seq: 2, TS: 12, Author: ann, Body: "two", MsgID: "a2"},
		}
		for i, r := range res {
			if r.Err != nil || r.Duplicate || !reflect.DeepEqual(r.Message, want[i]) {
				t.Fatalf("result %d: %+v, want %+v", i, r, want[i])
			}
		}
		// A later batch continues each room's sequence.
		res = appendOK(t, s, msg("b", "b2", "dos", 13), msg("a", "a3", "three", 14))
		if res[0].Message.Seq != 2 || res[1].Message.Seq != 3 {
			t.Fatalf("second batch seqs %d, %d; want 2, 3", res[0].Message.Seq, res[1].Message.Seq)
		}
		if h := head(t, s, "a"); h != 3 {
			t.Fatalf("Head(a) = %d, want 3", h)
		}
		if h := head(t, s, "b"); h != 2 {
			t.Fatalf("Head(b) = %d, want 2", h)
		}
		// What was stored reads back exactly, body bytes included.
		got, err := s.After(ctx, "a", 0, 10)
		if err != nil {
			t.Fatal(err)
		}
		wantA := []shared.Message{want[0], want[2], {Room: "a", Seq: 3, TS: 14, Author: ann, Body: "three", MsgID: "a3"}}
		if !reflect.DeepEqual(got, wantA) {
			t.Fatalf("After(a, 0) = %+v, want %+v", got, wantA)
		}
	})

	t.Run("Append keeps unusual bodies exactly", func(t *testing.T) {
		s := fresh(t)
		bodies := []string{"  spaced  ", "line 1\nline 2\r\n", "<b>&amp;</b> \"q\" 'a'", "😀 é 東京", "nul \x00 inside", "'); DROP TABLE messages; --"}
		var batch []store.NewMessage
		for i, b := range bodies {
			batch = append(batch, msg("odd", fmt.Sprintf("o-%d", i), b, 1))
		}
		appendOK(t, s, batch...)
		got, err := s.After(ctx, "odd", 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(bodies) {
			t.Fatalf("%d messages, want %d", len(got), len(bodies))
		}
		for i, m := range got {
			if m.Body != bodies[i] {
				t.Errorf("body %d: %q, want %q", i, m.Body, bodies[i])
			}
		}
	})

	t.Run("duplicate msg_id returns the original", func(t *testing.T) {
		s := fresh(t)
		first := appendOK(t, s, msg("a", "m-1", "hello", 100))[0].Message
		res := appendOK(t, s, msg("a", "m-1", "hello", 999))
		if !res[0].Duplicate || res[0].Err != nil || !reflect.DeepEqual(res[0].Message, first) {
			t.Fatalf("duplicate: %+v, want Duplicate with %+v", res[0], first)
		}
		// Inside one batch, the second copy is the duplicate of the first.
		res = appendOK(t, s, msg("a", "m-2", "twice", 200), msg("a", "m-2", "twice", 201))
		if res[0].Duplicate || res[0].Message.Seq != 2 || !res[1].Duplicate || !reflect.DeepEqual(res[1].Message, res[0].Message) {
			t.Fatalf("in-batch duplicate: %+v", res)
		}
		if h := head(t, s, "a"); h != 2 {
			t.Fatalf("Head = %d after duplicates, want 2", h)
		}
		// msg_id is scoped to its room.
		res = appendOK(t, s, msg("b", "m-1", "hello", 300))
		if res[0].Duplicate || res[0].Message.Seq != 1 || res[0].Message.Room != "b" {
			t.Fatalf("same msg_id in another room: %+v", res[0])
		}
	})

	t.Run("conflict on another body or author", func(t *testing.T) {
		s := fresh(t)
		appendOK(t, s, msg("a", "m-1", "hello", 100))
		other := msg("a", "m-1", "hello", 100)
		other.Author = bob
		res := appendOK(t, s, msg("a", "m-1", "changed", 101), other, msg("a", "m-2", "next", 102))
		for i, r := range res[:2] {
			var e *shared.Error
			if !errors.As(r.Err, &e) || e.Code != shared.CodeConflict {
				t.Fatalf("result %d: %+v, want a conflict error", i, r)
			}
		}
		// A conflict writes nothing and does not fail the rest of the batch.
		if r := res[2]; r.Err != nil || r.Message.Seq != 2 {
			t.Fatalf("message after conflicts: %+v, want seq 2", r)
		}
		got, err := s.After(ctx, "a", 0, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 || got[0].Body != "hello" || got[0].Author != ann || got[0].TS != 100 {
			t.Fatalf("stored after conflicts: %+v", got)
		}
	})

	type pageCase struct {
		from  int64 // after or before
		limit int
		want  []int64
	}
	// pagingEdges checks page (s.After or s.Before, called name) in room
	// "a" for each case, and that a room never written to is empty.
	pagingEdges := func(t *testing.T, name string, page func(context.Context, string, int64, int) ([]shared.Message, error), cases []pageCase) {
		t.Helper()
		for _, c := range cases {
			got, err := page(ctx, "a", c.from, c.limit)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(seqs(got), c.want) {
				t.Errorf("%s(%d, %d) = %v, want %v", name, c.from, c.limit, seqs(got), c.want)
			}
		}
		if got, err := page(ctx, "nowhere", 0, 10); err != nil || len(got) != 0 {
			t.Errorf("%s on an unknown room: %v, %v", name, got, err)
		}
	}

	t.Run("After paging edges", func(t *testing.T) {
		s := fresh(t)
		fill(t, s, "a", 10)
		pagingEdges(t, "After", s.After, []pageCase{
			{0, 3, span(1, 3)},
			{0, 100, span(1, 10)}, // limit larger than the count
			{3, 3, span(4, 6)},
			{8, 5, span(9, 10)},
			{9, 1, span(10, 10)},
			{10, 5, span(1, 0)},  // after = head
			{50, 5, span(1, 0)},  // beyond head
			{0, 10, span(1, 10)}, // exactly the count
		})
	})

	t.Run("Before paging edges", func(t *testing.T) {
		s := fresh(t)
		fill(t, s, "a", 10)
		pagingEdges(t, "Before", s.Before, []pageCase{
			{0, 3, span(8, 10)}, // 0 means the newest
			{0, 100, span(1, 10)},
			{1, 10, span(1, 0)}, // nothing before the first
			{2, 10, span(1, 1)},
			{5, 2, span(3, 4)},
			{5, 100, span(1, 4)},
			{11, 3, span(8, 10)}, // head+1 is the same as 0
			{500, 3, span(8, 10)},
		})
		// Paging back with before = the oldest seq received reaches 1
		// with neither gap nor overlap.
		var all []int64
		before := int64(0)
		for {
			page, err := s.Before(ctx, "a", before, 4)
			if err != nil {
				t.Fatal(err)
			}
			if len(page) == 0 {
				break
			}
			all = append(seqs(page), all...)
			before = page[0].Seq
		}
		if !reflect.DeepEqual(all, span(1, 10)) {
			t.Errorf("paging back: %v", all)
		}
	})

	t.Run("Head", func(t *testing.T) {
		s := fresh(t)
		if h := head(t, s, "a"); h != 0 {
			t.Fatalf("Head of an unknown room = %d", h)
		}
		fill(t, s, "a", 7)
		if h := head(t, s, "a"); h != 7 {
			t.Fatalf("Head = %d, want 7", h)
		}
		if err := s.AddMember(ctx, "a", bob); err != nil {
			t.Fatal(err)
		}
		if h := head(t, s, "a"); h != 7 {
			t.Fatalf("Head after AddMember = %d, want 7", h)
		}
	})

	t.Run("AddMember creates the room", func(t *testing.T) {
		s := fresh(t)
		if err := s.AddMember(ctx, "new-room", ann); err != nil {
			t.Fatal(err)
		}
		if err := s.AddMember(ctx, "new-room", ann); err != nil {
			t.Fatalf("AddMember twice: %v", err)
		}
		renamed := shared.Member{User: ann.User, Nick: "Ann 2"}
		if err := s.AddMember(ctx, "new-room", renamed); err != nil {
			t.Fatalf("AddMember with a new nick: %v", err)
		}
		rooms, err := s.Rooms(ctx, store.RoomQuery{Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		if len(rooms) != 1 || rooms[0].Name != "new-room" || rooms[0].Head != 0 || rooms[0].Kind != "" {
			t.Fatalf("Rooms = %+v, want the new empty room", rooms)
		}
		if h := head(t, s, "new-room"); h != 0 {
			t.Fatalf("Head of the new room = %d", h)
		}
		// Appending to it starts at 1.
		if r := appendOK(t, s, msg("new-room", "m", "first", 1)); r[0].Message.Seq != 1 {
			t.Fatalf("first seq %d", r[0].Message.Seq)
		}
	})

	t.Run("Rooms ordered by activity", func(t *testing.T) {
		s := fresh(t)
		if rooms, err := s.Rooms(ctx, store.RoomQuery{Limit: 10}); err != nil || len(rooms) != 0 {
			t.Fatalf("Rooms of an empty store: %v, %v", rooms, err)
		}
		for _, r := range []string{"a", "b", "c"} {
			if err := s.AddMember(ctx, r, ann); err != nil {
				t.Fatal(err)
			}
		}
		names := func(limit int) []string {
			t.Helper()
			rooms, err := s.Rooms(ctx, store.RoomQuery{Limit: limit})
			if err != nil {
				t.Fatal(err)
			}
			out := []string{}
			for _, r := range rooms {
				if r.Members != 0 {
					t.Errorf("store reports %d members for %s; presence is the server's", r.Members, r.Name)
				}
				out = append(out, r.Name)
			}
			return out
		}
		if got := names(10); !reflect.DeepEqual(got, []string{"c", "b", "a"}) {
			t.Fatalf("after joins: %v, want [c b a]", got)
		}
		appendOK(t, s, msg("a", "m-1", "wake a", 1))
		if got := names(10); !reflect.DeepEqual(got, []string{"a", "c", "b"}) {
			t.Fatalf("after a message in a: %v, want [a c b]", got)
		}
		if err := s.AddMember(ctx, "b", bob); err != nil {
			t.Fatal(err)
		}
		if got := names(2); !reflect.DeepEqual(got, []string{"b", "a"}) {
			t.Fatalf("after a join of b, limit 2: %v, want [b a]", got)
		}
		fill(t, s, "c", 3)
		rooms, err := s.Rooms(ctx, store.RoomQuery{Limit: 1})
		if err != nil {
			t.Fatal(err)
		}
		if len(rooms) != 1 || rooms[0].Name != "c" || rooms[0].Head != 3 || rooms[0].Kind != "" {
			t.Fatalf("Rooms(1) = %+v, want public c with head 3", rooms)
		}
		// Paging: the Active of the last room is the cursor of the next page.
		next, err := s.Rooms(ctx, store.RoomQuery{Limit: 10, Before: rooms[0].Active})
		if err != nil {
			t.Fatal(err)
		}
		if got := roomNames(next); !reflect.DeepEqual(got, []string{"b", "a"}) {
			t.Fatalf("second page: %v, want [b a]", got)
		}
	})

	t.Run("private rooms and DMs are listed only to users with access", func(t *testing.T) {
		s := fresh(t)
		if err := s.AddMember(ctx, "lobby", ann); err != nil {
			t.Fatal(err)
		}
		meta, created, err := s.CreateRoom(ctx, store.RoomMeta{Name: "secret", Kind: shared.RoomPrivate, Owner: "u-ann"})
		if err != nil || !created || meta.Owner != "u-ann" {
			t.Fatalf("CreateRoom = %+v, %v, %v", meta, created, err)
		}
		// A second create changes nothing and reports the first.
		again, created, err := s.CreateRoom(ctx, store.RoomMeta{Name: "secret", Kind: shared.RoomPublic, Owner: "u-eve"})
		if err != nil || created || again.Kind != shared.RoomPrivate || again.Owner != "u-ann" {
			t.Fatalf("second CreateRoom = %+v, %v, %v", again, created, err)
		}
		if _, _, err := s.CreateRoom(ctx, store.RoomMeta{Name: "dm-x", Kind: shared.RoomDM, Users: []string{"u-bob", "u-ann"}}); err != nil {
			t.Fatal(err)
		}
		list := func(user string) []string {
			t.Helper()
			rooms, err := s.Rooms(ctx, store.RoomQuery{User: user, Limit: 10})
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range rooms {
				if r.Kind == shared.RoomDM && (r.Peer == nil || r.Peer.User == user) {
					t.Errorf("DM %s listed to %s with peer %+v", r.Name, user, r.Peer)
				}
			}
			return roomNames(rooms)
		}
		if got := list("u-ann"); !reflect.DeepEqual(got, []string{"dm-x", "secret", "lobby"}) {
			t.Fatalf("ann sees %v", got)
		}
		if got := list("u-eve"); !reflect.DeepEqual(got, []string{"lobby"}) {
			t.Fatalf("an outsider sees %v, want only the public room", got)
		}
		if got := list("u-bob"); !reflect.DeepEqual(got, []string{"dm-x", "lobby"}) {
			t.Fatalf("bob sees %v", got)
		}
		dm, ok, err := s.Room(ctx, "dm-x")
		if err != nil || !ok || dm.Kind != shared.RoomDM || !reflect.DeepEqual(dm.Users, []string{"u-ann", "u-bob"}) {
			t.Fatalf("Room(dm-x) = %+v, %v, %v", dm, ok, err)
		}
		if _, ok, _ := s.Room(ctx, "nowhere"); ok {
			t.Fatal("Room of an unknown name reports it exists")
		}
		if pub, ok, _ := s.Room(ctx, "lobby"); !ok || pub.Kind != shared.RoomPublic {
			t.Fatalf("a room made by AddMember is %+v, want public", pub)
		}
		if err := s.Grant(ctx, "secret", "u-eve"); err != nil {
			t.Fatal(err)
		}
		if has, _ := s.HasAccess(ctx, "secret", "u-eve"); !has {
			t.Fatal("no access after Grant")
		}
		if got := list("u-eve"); !reflect.DeepEqual(got, []string{"secret", "lobby"}) {
			t.Fatalf("after an invitation eve sees %v", got)
		}
		if err := s.Revoke(ctx, "secret", "u-eve"); err != nil {
			t.Fatal(err)
		}
		if has, _ := s.HasAccess(ctx, "secret", "u-eve"); has {
			t.Fatal("access after Revoke")
		}
		if got := list("u-eve"); !reflect.DeepEqual(got, []string{"lobby"}) {
			t.Fatalf("after removal eve sees %v", got)
		}
		if m, ok, err := s.User(ctx, ann.User); err != nil || !ok || m != ann {
			t.Fatalf("User(ann) = %+v, %v, %v", m, ok, err)
		}
		if _, ok, _ := s.User(ctx, "u-nobody"); ok {
			t.Fatal("User of an unknown id reports it exists")
		}
	})

	t.Run("concurrent reads while appending", func(t *testing.T) {
		s := fresh(t)
		const batches, size = 20, 10
		var wg sync.WaitGroup
		errs := make(chan error, 3)
		stop := make(chan struct{})
		for range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					select {
					case <-stop:
						return
					default:
					}
					h, err := s.Head(ctx, "a")
					if err != nil {
						errs <- err
						return
					}
					msgs, err := s.After(ctx, "a", 0, batches*size)
					if err != nil {
						errs <- err
						return
					}
					// Everything up to a head read before is visible, in order.
					if int64(len(msgs)) < h {
						errs <- fmt.Errorf("After shows %d messages after Head said %d", len(msgs), h)
						return
					}
					for i, m := range msgs {
						if m.Seq != int64(i+1) {
							errs <- fmt.Errorf("After: seq %d at %d", m.Seq, i)
							return
						}
					}
				}
			}()
		}
		for b := range batches {
			var batch []store.NewMessage
			for i := range size {
				batch = append(batch, msg("a", fmt.Sprintf("m-%d-%d", b, i), "x", 1))
			}
			if _, err := s.Append(ctx, batch); err != nil {
				t.Error(err)
				break
			}
		}
		close(stop)
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		if h := head(t, s, "a"); h != batches*size {
			t.Fatalf("Head = %d, want %d", h, batches*size)
		}
	})

	prune := func(t *testing.T, s store.Store, r store.Retention, limit int) int {
		t.Helper()
		return must(s.Prune(ctx, r, limit))(t, "Prune(%+v, %d)", r, limit)
	}
	pruned := func(t *testing.T, s store.Store, room string) int64 {
		t.Helper()
		return must(s.Pruned(ctx, room))(t, "Pruned(%s)", room)
	}
	after := func(t *testing.T, s store.Store, room string, seq int64) []int64 {
		t.Helper()
		return seqs(must(s.After(ctx, room, seq, 1000))(t, "After(%s, %d)", room, seq))
	}
	before := func(t *testing.T, s store.Store, room string, seq int64, limit int) []int64 {
		t.Helper()
		return seqs(must(s.Before(ctx, room, seq, limit))(t, "Before(%s, %d, %d)", room, seq, limit))
	}

	t.Run("Prune by count keeps the newest per room", func(t *testing.T) {
		s := fresh(t)
		fill(t, s, "a", 10)
		fill(t, s, "b", 3)
		if n := prune(t, s, store.Retention{KeepCount: 4}, 100); n != 6 {
			t.Fatalf("Prune removed %d, want 6", n)
		}
		if got := after(t, s, "a", 0); !reflect.DeepEqual(got, span(7, 10)) {
			t.Fatalf("After(a, 0) = %v, want 7..10", got)
		}
		if got := after(t, s, "a", 2); !reflect.DeepEqual(got, span(7, 10)) {
			t.Fatalf("After(a, 2) = %v, want 7..10", got)
		}
		if got := before(t, s, "a", 0, 100); !reflect.DeepEqual(got, span(7, 10)) {
			t.Fatalf("Before(a, 0) = %v, want 7..10", got)
		}
		if got := before(t, s, "a", 9, 100); !reflect.DeepEqual(got, span(7, 8)) {
			t.Fatalf("Before(a, 9) = %v, want 7..8", got)
		}
		if got := before(t, s, "a", 7, 100); len(got) != 0 {
			t.Fatalf("Before(a, 7) = %v, want none", got)
		}
		if got := after(t, s, "b", 0); !reflect.DeepEqual(got, span(1, 3)) {
			t.Fatalf("room b: %v, want 1..3 untouched", got)
		}
		if p := pruned(t, s, "a"); p != 6 {
			t.Fatalf("Pruned(a) = %d, want 6", p)
		}
		if p := pruned(t, s, "b") + pruned(t, s, "nope"); p != 0 {
			t.Fatalf("Pruned of an unpruned and an unknown room = %d, want 0", p)
		}
		if h := head(t, s, "a"); h != 10 {
			t.Fatalf("Head(a) = %d after prune, want 10", h)
		}
		if n := prune(t, s, store.Retention{KeepCount: 4}, 100); n != 0 {
			t.Fatalf("a second Prune removed %d, want 0", n)
		}
		// Seqs go on after the head; a kept msg_id still deduplicates,
		// a pruned one no longer does.
		res := appendOK(t, s, msg("a", "m-10", "body 10", 1), msg("a", "m-1", "body 1", 1), msg("a", "new", "x", 1))
		if !res[0].Duplicate || res[0].Message.Seq != 10 {
			t.Fatalf("kept msg_id: %+v, want the duplicate seq 10", res[0])
		}
		if res[1].Duplicate || res[1].Message.Seq != 11 || res[2].Message.Seq != 12 {
			t.Fatalf("after prune: %+v %+v, want new seqs 11 and 12", res[1], res[2])
		}
	})

	t.Run("Prune removes at most limit per call", func(t *testing.T) {
		s := fresh(t)
		fill(t, s, "a", 10)
		total := 0
		for range 10 {
			n := prune(t, s, store.Retention{KeepCount: 1}, 4)
			if n > 4 {
				t.Fatalf("Prune removed %d with limit 4", n)
			}
			total += n
			if n < 4 {
				break
			}
		}
		if total != 9 || pruned(t, s, "a") != 9 {
			t.Fatalf("removed %d, Pruned %d; want 9 and 9", total, pruned(t, s, "a"))
		}
		if got := after(t, s, "a", 0); !reflect.DeepEqual(got, []int64{10}) {
			t.Fatalf("After = %v, want [10]", got)
		}
	})

	t.Run("Prune by age removes the older prefix", func(t *testing.T) {
		s := fresh(t)
		fill(t, s, "a", 10) // TS 1001..1010
		if n := prune(t, s, store.Retention{Before: 1006}, 100); n != 5 {
			t.Fatalf("Prune removed %d, want 5", n)
		}
		if got := after(t, s, "a", 0); !reflect.DeepEqual(got, span(6, 10)) {
			t.Fatalf("After = %v, want 6..10", got)
		}
		// Count and age together: whichever removes more.
		if n := prune(t, s, store.Retention{Before: 1007, KeepCount: 2}, 100); n != 3 || pruned(t, s, "a") != 8 {
			t.Fatalf("Prune removed %d, Pruned %d; want 3 and 8", n, pruned(t, s, "a"))
		}
		// Everything old: the room keeps its head and is empty.
		if n := prune(t, s, store.Retention{Before: 1 << 40}, 100); n != 2 {
			t.Fatalf("Prune removed %d, want 2", n)
		}
		if got := after(t, s, "a", 0); len(got) != 0 || head(t, s, "a") != 10 || pruned(t, s, "a") != 10 {
			t.Fatalf("After = %v, Head %d, Pruned %d; want none, 10, 10", got, head(t, s, "a"), pruned(t, s, "a"))
		}
	})

	t.Run("Prune with zero retention keeps everything", func(t *testing.T) {
		s := fresh(t)
		fill(t, s, "a", 5)
		if n := prune(t, s, store.Retention{}, 100); n != 0 {
			t.Fatalf("Prune removed %d, want 0", n)
		}
		if got := after(t, s, "a", 0); !reflect.DeepEqual(got, span(1, 5)) {
			t.Fatalf("After = %v", got)
		}
	})

	runEvents(t, fresh)
	runReads(t, fresh)  // read.go
	runSearch(t, fresh) // read.go
	runReadsEvents(t, fresh)

	t.Run("a message keeps its image through After, Before and dedup", func(t *testing.T) {
		s := fresh(t)
		img := &shared.Image{ID: "i0123", Name: "cat ☺.png", Type: "image/png", Size: 1234, Width: 640, Height: 480}
		withImage := msg("a", "m-img", "", 10)
		withImage.Image = img
		res := appendOK(t, s, msg("a", "m-1", "text", 9), withImage)
		if !reflect.DeepEqual(res[1].Message.Image, img) {
			t.Fatalf("Append returned image %+v, want %+v", res[1].Message.Image, img)
		}
		for name, get := range map[string]func() ([]shared.Message, error){
			"After":  func() ([]shared.Message, error) { return s.After(ctx, "a", 0, 10) },
			"Before": func() ([]shared.Message, error) { return s.Before(ctx, "a", 0, 10) },
		} {
			msgs, err := get()
			if err != nil || len(msgs) != 2 {
				t.Fatalf("%s: %v, %v", name, msgs, err)
			}
			if msgs[0].Image != nil || !reflect.DeepEqual(msgs[1].Image, img) {
				t.Fatalf("%s: images %+v and %+v, want none and %+v", name, msgs[0].Image, msgs[1].Image, img)
			}
		}
		// A resend with the same image is a duplicate; with another image,
		// or without it, a conflict that writes nothing.
		again := appendOK(t, s, withImage)
		if !again[0].Duplicate || !reflect.DeepEqual(again[0].Message.Image, img) {
			t.Fatalf("resend: %+v", again[0])
		}
		other := withImage
		other.Image = &shared.Image{ID: "i9999", Name: "dog.png", Type: "image/png", Size: 1, Width: 1, Height: 1}
		noImage := withImage
		noImage.Image = nil
		for _, r := range appendOK(t, s, other, noImage) {
			var se *shared.Error
			if !errors.As(r.Err, &se) || se.Code != shared.CodeConflict {
				t.Fatalf("msg_id reused with another image: %+v, want conflict", r)
			}
		}
		if h := head(t, s, "a"); h != 2 {
			t.Fatalf("head %d after refused resends, want 2", h)
		}
		// Deleting the message takes its image with its text.
		del := store.NewMessage{Room: "a", MsgID: "m-del", Author: ann, Kind: shared.KindDelete, Target: 2, TS: 11}
		if r := appendOK(t, s, del)[0]; r.Err != nil {
			t.Fatalf("delete: %v", r.Err)
		}
		for name, get := range map[string]func() ([]shared.Message, error){
			"After":  func() ([]shared.Message, error) { return s.After(ctx, "a", 0, 10) },
			"Before": func() ([]shared.Message, error) { return s.Before(ctx, "a", 0, 10) },
		} {
			msgs, err := get()
			if err != nil || len(msgs) < 2 || msgs[1].Seq != 2 || !msgs[1].Deleted || msgs[1].Image != nil {
				t.Fatalf("%s after the delete: %+v, %v; want seq 2 deleted without its image", name, msgs, err)
			}
		}
	})

	t.Run("empty batch", func(t *testing.T) {
		s := fresh(t)
		res, err := s.Append(ctx, nil)
		if err != nil || len(res) != 0 {
			t.Fatalf("Append(nil) = %v, %v", res, err)
		}
	})
}

func roomNames(rooms []shared.RoomInfo) []string {
	out := []string{}
	for _, r := range rooms {
		out = append(out, r.Name)
	}
	return out
}
