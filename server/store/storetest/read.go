package storetest

import (
	"fmt"
	"reflect"
	"testing"

	"github.com/duplex-chat/duplex/server/store"
	"github.com/duplex-chat/duplex/shared"
)

// runReads tests mentions, read markers and unread counts.
func runReads(t *testing.T, fresh func(t *testing.T) store.Store) {
	by := func(m shared.Member, room, id, body string, mentions ...string) store.NewMessage {
		return store.NewMessage{Room: room, MsgID: id, Author: m, Body: body, TS: 1, Mentions: mentions}
	}
	add := func(t *testing.T, s store.Store, msgs ...store.NewMessage) {
		t.Helper()
		if _, err := s.Append(ctx, msgs); err != nil {
			t.Fatal(err)
		}
	}
	state := func(t *testing.T, s store.Store, room, user string) store.ReadState {
		t.Helper()
		st, err := s.ReadState(ctx, room, user)
		if err != nil {
			t.Fatal(err)
		}
		return st
	}

	t.Run("mentions are stored and returned", func(t *testing.T) {
		s := fresh(t)
		res, err := s.Append(ctx, []store.NewMessage{
			by(ann, "a", "m1", "hi @Bob and @Cy", "u-bob", "u-cy"),
			by(ann, "a", "m2", "no one"),
			by(bob, "a", "m3", "@Ann", "u-ann"),
		})
		if err != nil {
			t.Fatal(err)
		}
		if got := res[0].Message.Mentions; !reflect.DeepEqual(got, []string{"u-bob", "u-cy"}) {
			t.Fatalf("Append result mentions = %v", got)
		}
		want := [][]string{{"u-bob", "u-cy"}, nil, {"u-ann"}}
		check := func(what string, msgs []shared.Message) {
			t.Helper()
			if len(msgs) != 3 {
				t.Fatalf("%s returned %d messages", what, len(msgs))
			}
			for i, m := range msgs {
				if !reflect.DeepEqual(m.Mentions, want[i]) {
					t.Errorf("%s: seq %d mentions %v, want %v", what, m.Seq, m.Mentions, want[i])
				}
			}
		}
		after, err := s.After(ctx, "a", 0, 10)
		if err != nil {
			t.Fatal(err)
		}
		check("After", after)
		before, err := s.Before(ctx, "a", 0, 10)
		if err != nil {
			t.Fatal(err)
		}
		check("Before", before)
	})

	t.Run("markers move up only, per user and room", func(t *testing.T) {
		s := fresh(t)
		if st := state(t, s, "a", ann.User); st.Marked || st.Read != 0 || st.Unread != 0 {
			t.Fatalf("no marker yet: %+v", st)
		}
		for i := 1; i <= 5; i++ {
			add(t, s, by(bob, "a", fmt.Sprint("b", i), "x"))
		}
		if err := s.InitRead(ctx, "a", ann.User, 2); err != nil {
			t.Fatal(err)
		}
		if err := s.InitRead(ctx, "a", ann.User, 4); err != nil { // not the first: ignored
			t.Fatal(err)
		}
		if st := state(t, s, "a", ann.User); st != (store.ReadState{Marked: true, Read: 2, Unread: 3}) {
			t.Fatalf("after InitRead(2): %+v, want read 2, 3 unread", st)
		}
		st, err := s.MarkRead(ctx, "a", ann.User, 4)
		if err != nil || st != (store.ReadState{Marked: true, Read: 4, Unread: 1}) {
			t.Fatalf("MarkRead(4) = %+v, %v", st, err)
		}
		st, err = s.MarkRead(ctx, "a", ann.User, 1) // lower: nothing changes
		if err != nil || st.Read != 4 || st.Unread != 1 {
			t.Fatalf("MarkRead(1) after 4 = %+v, %v; the marker went down", st, err)
		}
		if err := s.InitRead(ctx, "a", ann.User, 0); err != nil {
			t.Fatal(err)
		}
		if st := state(t, s, "a", ann.User); st.Read != 4 {
			t.Fatalf("InitRead after MarkRead moved the marker to %d", st.Read)
		}
		// Other users and rooms are untouched.
		if st := state(t, s, "a", "u-cy"); st.Marked {
			t.Fatalf("cy has a marker: %+v", st)
		}
		if st := state(t, s, "b", ann.User); st.Marked {
			t.Fatalf("ann has a marker in another room: %+v", st)
		}
		// A marker never set before may start anywhere, even in an empty room.
		st, err = s.MarkRead(ctx, "b", "u-cy", 3)
		if err != nil || st != (store.ReadState{Marked: true, Read: 3}) {
			t.Fatalf("first MarkRead = %+v, %v", st, err)
		}
	})

	t.Run("unread counts exclude the user's own messages; mentions counted", func(t *testing.T) {
		s := fresh(t)
		add(t, s, by(bob, "a", "b0", "before the marker @Ann", ann.User))
		if _, err := s.MarkRead(ctx, "a", ann.User, 1); err != nil {
			t.Fatal(err)
		}
		add(t, s,
			by(bob, "a", "b1", "hello"),
			by(ann, "a", "a1", "my own, mentioning myself @Ann", ann.User),
			by(bob, "a", "b2", "@Ann look", ann.User),
			by(bob, "a", "b3", "@Cy look", "u-cy"),
			by(ann, "b", "a2", "another room"),
		)
		if st := state(t, s, "a", ann.User); st != (store.ReadState{Marked: true, Read: 1, Unread: 3, Mentioned: 1}) {
			t.Fatalf("ann: %+v, want 3 unread (bob's after seq 1), 1 mentioning her", st)
		}
		st, err := s.MarkRead(ctx, "a", bob.User, 0)
		if err != nil || st.Unread != 1 || st.Mentioned != 0 {
			t.Fatalf("bob from 0: %+v, %v; want only ann's message unread", st, err)
		}
		st, err = s.MarkRead(ctx, "a", ann.User, 4)
		if err != nil || st.Unread != 1 || st.Mentioned != 0 {
			t.Fatalf("ann at 4: %+v, %v; want 1 unread, no mention", st, err)
		}
	})
}

// runReadsEvents tests that counts and search follow events: edits,
// deletions and reactions are not unread themselves, a deleted message
// is no longer unread or found, an edited one is found by its new words.
func runReadsEvents(t *testing.T, fresh func(t *testing.T) store.Store) {
	add := func(t *testing.T, s store.Store, nm store.NewMessage) shared.Message {
		t.Helper()
		nm.TS = 5
		res, err := s.Append(ctx, []store.NewMessage{nm})
		if err != nil || res[0].Err != nil {
			t.Fatalf("Append %+v: %v %v", nm, err, res[0].Err)
		}
		return res[0].Message
	}
	found := func(t *testing.T, s store.Store, q string) []shared.Message {
		t.Helper()
		msgs, _, err := s.Search(ctx, store.SearchQuery{User: ann.User, Query: q, Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		return msgs
	}

	t.Run("unread ignores events and deleted messages", func(t *testing.T) {
		s := fresh(t)
		if _, err := s.MarkRead(ctx, "a", ann.User, 0); err != nil {
			t.Fatal(err)
		}
		m1 := add(t, s, store.NewMessage{Room: "a", MsgID: "b1", Author: bob, Body: "one"})
		m2 := add(t, s, store.NewMessage{Room: "a", MsgID: "b2", Author: bob, Body: "@Ann two", Mentions: []string{ann.User}})
		add(t, s, store.NewMessage{Room: "a", MsgID: "b3", Author: bob, Kind: shared.KindEdit, Target: m1.Seq, Body: "one, edited"})
		add(t, s, store.NewMessage{Room: "a", MsgID: "b4", Author: bob, Kind: shared.KindReact, Target: m1.Seq, Emoji: "👍"})
		st, err := s.ReadState(ctx, "a", ann.User)
		if err != nil || st.Unread != 2 || st.Mentioned != 1 {
			t.Fatalf("after an edit and a reaction: %+v, %v; want 2 unread, 1 mention", st, err)
		}
		add(t, s, store.NewMessage{Room: "a", MsgID: "b5", Author: bob, Kind: shared.KindDelete, Target: m2.Seq})
		st, err = s.ReadState(ctx, "a", ann.User)
		if err != nil || st.Unread != 1 || st.Mentioned != 0 {
			t.Fatalf("after deleting the mention: %+v, %v; want 1 unread, no mention", st, err)
		}
	})

	t.Run("search follows edits and deletes", func(t *testing.T) {
		s := fresh(t)
		m := add(t, s, store.NewMessage{Room: "a", MsgID: "a1", Author: ann, Body: "old words"})
		if got := found(t, s, "old"); len(got) != 1 || got[0].Seq != m.Seq {
			t.Fatalf("before the edit: %+v", got)
		}
		add(t, s, store.NewMessage{Room: "a", MsgID: "a2", Author: ann, Kind: shared.KindEdit, Target: m.Seq, Body: "new text"})
		if got := found(t, s, "old"); len(got) != 0 {
			t.Fatalf("the old words are still found: %+v", got)
		}
		got := found(t, s, "new")
		if len(got) != 1 || got[0].Seq != m.Seq || got[0].Body != "new text" || got[0].Edited == 0 || got[0].Kind != shared.KindMessage {
			t.Fatalf("after the edit: %+v, want the message (not the edit event) in its new state", got)
		}
		add(t, s, store.NewMessage{Room: "a", MsgID: "a3", Author: ann, Kind: shared.KindDelete, Target: m.Seq})
		if got := found(t, s, "new"); len(got) != 0 {
			t.Fatalf("a deleted message is found: %+v", got)
		}
	})
}

// runSearch tests full-text search.
func runSearch(t *testing.T, fresh func(t *testing.T) store.Store) {
	post := func(t *testing.T, s store.Store, room, id, body string) {
		t.Helper()
		if _, err := s.Append(ctx, []store.NewMessage{{Room: room, MsgID: id, Author: ann, Body: body, TS: 1}}); err != nil {
			t.Fatal(err)
		}
	}
	search := func(t *testing.T, s store.Store, q store.SearchQuery) ([]string, int64) {
		t.Helper()
		if q.Limit == 0 {
			q.Limit = 50
		}
		msgs, next, err := s.Search(ctx, q)
		if err != nil {
			t.Fatalf("Search(%+v): %v", q, err)
		}
		out := []string{}
		for _, m := range msgs {
			out = append(out, fmt.Sprintf("%s/%d", m.Room, m.Seq))
		}
		return out, next
	}

	t.Run("search matches words and prefixes, newest first", func(t *testing.T) {
		s := fresh(t)
		post(t, s, "a", "1", "Hello world")
		post(t, s, "b", "1", "hello there, WORLDS apart")
		post(t, s, "a", "2", "nothing here")
		post(t, s, "a", "3", "shellfish") // "hel" starts no word here
		for q, want := range map[string][]string{
			"hello":       {"b/1", "a/1"},
			"HEL":         {"b/1", "a/1"},
			"world hello": {"b/1", "a/1"},
			"worlds":      {"b/1"},
			"hello apart": {"b/1"},
			"nothing":     {"a/2"},
			"absent":      {},
		} {
			if got, _ := search(t, s, store.SearchQuery{User: "u-eve", Query: q}); !reflect.DeepEqual(got, want) {
				t.Errorf("search %q = %v, want %v", q, got, want)
			}
		}
		if got, _ := search(t, s, store.SearchQuery{User: "u-eve", Query: "hello", Room: "a"}); !reflect.DeepEqual(got, []string{"a/1"}) {
			t.Errorf("search in room a = %v", got)
		}
		if got, _ := search(t, s, store.SearchQuery{User: "u-eve", Query: "hello", Room: "nowhere"}); len(got) != 0 {
			t.Errorf("search in an unknown room = %v", got)
		}
	})

	t.Run("search user input is never query syntax", func(t *testing.T) {
		s := fresh(t)
		post(t, s, "a", "1", `say "hi" AND or NEAR(x) * col:umn`)
		post(t, s, "a", "2", "plain")
		for _, q := range []string{`"`, `""`, `"hi`, `hi"`, `*`, `**hi`, `NEAR(`, `NEAR(x`, `AND OR`, `OR`, `NOT`, `-`, `col:umn`, `body:plain`,
			`(`, `)`, `^`, `{a b}`, `'`, `\`, `%`, `_`, "\x00", `hi AND`, `"hi" OR "plain"`, `NEAR(hi plain, 2)`} {
			msgs, _, err := s.Search(ctx, store.SearchQuery{User: "u-ann", Query: q, Limit: 10})
			if err != nil {
				t.Errorf("search %q: %v", q, err)
			}
			for _, m := range msgs {
				if m.Seq != 1 && q != "body:plain" {
					t.Errorf("search %q matched seq %d (%q)", q, m.Seq, m.Body)
				}
			}
		}
		// Operators are plain words: "AND OR" finds the message holding both.
		if got, _ := search(t, s, store.SearchQuery{User: "u-ann", Query: "AND OR"}); !reflect.DeepEqual(got, []string{"a/1"}) {
			t.Errorf("search AND OR = %v", got)
		}
		if got, _ := search(t, s, store.SearchQuery{User: "u-ann", Query: `"hi" OR "plain"`}); len(got) != 0 {
			t.Errorf("OR acted as an operator: %v", got)
		}
		if got, _ := search(t, s, store.SearchQuery{User: "u-ann", Query: "body:plain"}); !reflect.DeepEqual(got, []string{}) {
			t.Errorf("a column filter acted as one: %v", got)
		}
	})

	t.Run("search covers only rooms the user may read", func(t *testing.T) {
		s := fresh(t)
		if _, _, err := s.CreateRoom(ctx, store.RoomMeta{Name: "secret", Kind: shared.RoomPrivate, Owner: "u-ann"}); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.CreateRoom(ctx, store.RoomMeta{Name: "dm-x", Kind: shared.RoomDM, Users: []string{"u-ann", "u-bob"}}); err != nil {
			t.Fatal(err)
		}
		post(t, s, "lobby", "1", "plan public")
		post(t, s, "secret", "1", "plan private")
		post(t, s, "dm-x", "1", "plan direct")
		if got, _ := search(t, s, store.SearchQuery{User: "u-ann", Query: "plan"}); !reflect.DeepEqual(got, []string{"dm-x/1", "secret/1", "lobby/1"}) {
			t.Errorf("ann finds %v", got)
		}
		if got, _ := search(t, s, store.SearchQuery{User: "u-bob", Query: "plan"}); !reflect.DeepEqual(got, []string{"dm-x/1", "lobby/1"}) {
			t.Errorf("bob finds %v", got)
		}
		if got, _ := search(t, s, store.SearchQuery{User: "u-eve", Query: "plan"}); !reflect.DeepEqual(got, []string{"lobby/1"}) {
			t.Errorf("eve finds %v", got)
		}
		if got, _ := search(t, s, store.SearchQuery{User: "u-eve", Query: "plan", Room: "secret"}); len(got) != 0 {
			t.Errorf("eve finds %v in a private room naming it", got)
		}
		if err := s.Grant(ctx, "secret", "u-eve"); err != nil {
			t.Fatal(err)
		}
		if got, _ := search(t, s, store.SearchQuery{User: "u-eve", Query: "plan"}); !reflect.DeepEqual(got, []string{"secret/1", "lobby/1"}) {
			t.Errorf("invited eve finds %v", got)
		}
		if err := s.Revoke(ctx, "secret", "u-eve"); err != nil {
			t.Fatal(err)
		}
		if got, _ := search(t, s, store.SearchQuery{User: "u-eve", Query: "plan"}); !reflect.DeepEqual(got, []string{"lobby/1"}) {
			t.Errorf("removed eve finds %v", got)
		}
	})

	t.Run("search pages with the cursor, and forgets pruned messages", func(t *testing.T) {
		s := fresh(t)
		for i := 1; i <= 7; i++ {
			room := "a"
			if i%2 == 0 {
				room = "b"
			}
			post(t, s, room, fmt.Sprint(i), fmt.Sprintf("needle %d", i))
			post(t, s, room, fmt.Sprint("hay", i), "hay")
		}
		var all []string
		var before int64
		for pages := 0; ; pages++ {
			if pages > 4 {
				t.Fatalf("paging does not end: %v", all)
			}
			got, next := search(t, s, store.SearchQuery{User: "u-ann", Query: "needle", Limit: 3, Before: before})
			all = append(all, got...)
			if next == 0 {
				break
			}
			if len(got) != 3 {
				t.Fatalf("a page with a next has %d results", len(got))
			}
			before = next
		}
		// Needle i is seq i in room a; in room b it is seq i-1.
		want := []string{"a/7", "b/5", "a/5", "b/3", "a/3", "b/1", "a/1"}
		if !reflect.DeepEqual(all, want) {
			t.Fatalf("pages = %v, want %v", all, want)
		}
		if _, err := s.Prune(ctx, store.Retention{KeepCount: 4}, 100); err != nil {
			t.Fatal(err)
		}
		// Each room keeps its 4 newest: a 5..8 (needles 5 and 7), b 3..6 (needles 4 and 6).
		if got, _ := search(t, s, store.SearchQuery{User: "u-ann", Query: "needle"}); !reflect.DeepEqual(got, []string{"a/7", "b/5", "a/5", "b/3"}) {
			t.Fatalf("after pruning: %v", got)
		}
	})
}
