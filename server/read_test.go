package server_test

import (
	"fmt"
	"reflect"
	"slices"
	"testing"

	"github.com/duplex-chat/duplex/server"
	"github.com/duplex-chat/duplex/server/store"
	"github.com/duplex-chat/duplex/shared"
)

// readAck marks room read up to seq and returns the answer.
func readAck(t testing.TB, c *wsClient, room string, seq int64) shared.ReadAck {
	t.Helper()
	return ackOf[shared.ReadAck](t, first(c.call(t, shared.TypeRead, &shared.Read{Room: room, Seq: seq})))
}

// waitReadPush waits for a pushed read frame of room at seq.
func waitReadPush(t testing.TB, c *wsClient, room string, seq int64) shared.Read {
	t.Helper()
	f, _ := c.waitFrame(t, fmt.Sprintf("read push %s@%d", room, seq), func(f shared.Frame) bool {
		r, ok := f.Payload.(*shared.Read)
		return ok && f.ID == "" && r.Room == room && r.Seq == seq
	})
	return *f.Payload.(*shared.Read)
}

// TestReadMarkers: a user's marker and unread counts follow them across a
// second connection (pushed) and a reconnect, never move down, never pass
// the head, and count neither their own messages nor those before their
// first join. Bad inputs tried: a read of a room not joined, a negative
// seq, an invalid room name, a seq past the head, a lower seq, a read
// without id.
func TestReadMarkers(t *testing.T) {
	forEachStore(t, func(t *testing.T, open func(testing.TB) store.Store) {
		ts := startServer(t, server.Options{Store: open(t)})
		ann, bob := dial(t, ts.url, "ann"), dial(t, ts.url, "bob")
		ann.hello(t, "Ann")
		wb := bob.hello(t, "Bob")
		ann.join(t, "lobby", nil)
		ann.sendMsg(t, "lobby", "a-0", "before bob ever came")
		if ack, _ := bob.join(t, "lobby", nil); ack.Read != 1 || ack.Unread != 0 || ack.Mentioned != 0 {
			t.Fatalf("bob's first join: read %d unread %d mentioned %d; want the head (1) and nothing unread", ack.Read, ack.Unread, ack.Mentioned)
		}
		ann.sendMsg(t, "lobby", "a-1", "one")
		ann.sendMsg(t, "lobby", "a-2", "two")
		ann.sendMsg(t, "lobby", "a-3", "three, @bob")
		bob.waitSeq(t, "lobby", 4)
		bob.sendMsg(t, "lobby", "b-1", "my own")

		// A second connection of bob sees the same counts.
		bob2 := dial(t, ts.url, "bob2")
		bob2.helloAs(t, "Bob", wb.Token)
		ack, _ := bob2.join(t, "lobby", nil)
		if ack.Read != 1 || ack.Unread != 3 || ack.Mentioned != 1 {
			t.Fatalf("bob's second join: read %d unread %d mentioned %d; want 1, 3, 1", ack.Read, ack.Unread, ack.Mentioned)
		}
		if l := findRoom(roomList(t, bob2, shared.Rooms{}), "lobby"); l == nil || l.Read != 1 || l.Unread != 3 || l.Mentioned != 1 {
			t.Fatalf("bob's room list entry: %+v", l)
		}

		if a := readAck(t, bob, "lobby", 3); a != (shared.ReadAck{Room: "lobby", Seq: 3, Unread: 1, Mentioned: 1}) {
			t.Fatalf("read 3: %+v", a)
		}
		if p := waitReadPush(t, bob2, "lobby", 3); p.Unread != 1 || p.Mentioned != 1 {
			t.Fatalf("push to bob's other connection: %+v", p)
		}
		if a := readAck(t, bob, "lobby", 2); a.Seq != 3 {
			t.Fatalf("a lower read moved the marker down: %+v", a)
		}
		if a := readAck(t, bob2, "lobby", 99); a != (shared.ReadAck{Room: "lobby", Seq: 5}) {
			t.Fatalf("read past the head: %+v, want the head (5), nothing unread", a)
		}
		waitReadPush(t, bob, "lobby", 5)
		ann.waitSeq(t, "lobby", 5)
		// ann's first join found the room empty (marker 0): of its five
		// messages four are hers, so one is unread.
		if a := readAck(t, ann, "lobby", 0); a != (shared.ReadAck{Room: "lobby", Unread: 1}) {
			t.Fatalf("ann: %+v, want marker 0 and bob's message unread", a)
		}

		// Bad inputs.
		bob.expectError(t, bob.request(t, shared.TypeRead, &shared.Read{Room: "elsewhere", Seq: 1}), shared.CodeNotJoined)
		bob.expectError(t, bob.request(t, shared.TypeRead, &shared.Read{Room: "lobby", Seq: -1}), shared.CodeInvalid)
		bob.expectError(t, bob.request(t, shared.TypeRead, &shared.Read{Room: "Lobby!", Seq: 1}), shared.CodeInvalid)

		// A read without id moves the marker and answers nothing.
		ann.sendMsg(t, "lobby", "a-4", "four")
		ann.sendMsg(t, "lobby", "a-5", "five")
		bob.send(t, shared.TypeRead, "", &shared.Read{Room: "lobby", Seq: 6})
		waitReadPush(t, bob2, "lobby", 6)

		// Reconnect: the counts come back from the store.
		bob.conn.CloseNow()
		bob2.conn.CloseNow()
		bob3 := dial(t, ts.url, "bob3")
		bob3.helloAs(t, "Bob", wb.Token)
		if ack, _ := bob3.join(t, "lobby", ptr(int64(7))); ack.Read != 6 || ack.Unread != 1 || ack.Mentioned != 0 {
			t.Fatalf("after reconnecting: read %d unread %d mentioned %d; want 6, 1, 0", ack.Read, ack.Unread, ack.Mentioned)
		}
	})
}

// TestMentionsResolved: the server, not the client, turns @nicks into
// user ids: members present in the room, compared as nicknames are (a
// look-alike spelling names the same user), the longest nickname first,
// at word boundaries; in a DM the other user even when away. Inputs
// tried: Greek and Cyrillic look-alikes, other case, "@Bobby" (no
// boundary), an e-mail address, a user online but not in the room, an
// unknown nick, 4,000 @ signs.
func TestMentionsResolved(t *testing.T) {
	forEachStore(t, func(t *testing.T, open func(testing.TB) store.Store) {
		ts := startServer(t, server.Options{Store: open(t)})
		ann, bob, lee, dave := dial(t, ts.url, "ann"), dial(t, ts.url, "bob"), dial(t, ts.url, "lee"), dial(t, ts.url, "dave")
		wa, wb, wl := ann.hello(t, "Ann"), bob.hello(t, "Bob"), lee.hello(t, "Ann Lee")
		dave.hello(t, "Dave")
		for _, c := range []*wsClient{ann, bob, lee} {
			c.join(t, "lobby", nil)
		}
		dave.join(t, "elsewhere", nil)
		cases := []struct {
			body string
			want []string
		}{
			{"hi @Bob", []string{wb.User}},
			{"@bob, @BOB and @Bob again", []string{wb.User}},
			{"@Βοb look-alike (Greek Beta and omicron)", []string{wb.User}},
			{"@Вob look-alike (Cyrillic Ve)", []string{wb.User}},
			{"@Bobby is not bob", nil},
			{"mail ann@example.com", nil},
			{"@Ann Lee and @Ann", []string{wl.User, wa.User}},
			{"@Ann, not Lee", []string{wa.User}},
			{"@Dave is not here", nil},
			{"@nobody", nil},
			{"@", nil},
			{"no mention", nil},
		}
		for i := range cases {
			slices.Sort(cases[i].want)
		}
		for i, c := range cases {
			ack := ann.sendMsg(t, "lobby", fmt.Sprint("m-", i), c.body)
			got := bob.waitSeq(t, "lobby", ack.Seq)
			m := got[len(got)-1]
			if !reflect.DeepEqual(m.Mentions, c.want) {
				t.Errorf("%q mentions %v, want %v", c.body, m.Mentions, c.want)
			}
		}
		h := ackOf[shared.HistoryAck](t, first(lee.call(t, shared.TypeHistory, &shared.History{Room: "lobby", Limit: 50})))
		for i, m := range h.Messages {
			if !reflect.DeepEqual(m.Mentions, cases[i].want) {
				t.Errorf("history: %q mentions %v, want %v", m.Body, m.Mentions, cases[i].want)
			}
		}
		many := ""
		for len(many) < shared.MaxBodyRunes-4 {
			many += "@"
		}
		ann.sendMsg(t, "lobby", "many", many+"@Bob")

		// In a DM the other user is mentioned even when not there.
		dm := ackOf[shared.RoomInfo](t, first(ann.call(t, shared.TypeDM, &shared.DM{User: wb.User}))).Name
		ann.join(t, dm, nil)
		ack := ann.sendMsg(t, dm, "dm-1", "@bob are you there?")
		msgs := ann.waitSeq(t, dm, ack.Seq)
		if m := msgs[len(msgs)-1]; !slices.Equal(m.Mentions, []string{wb.User}) {
			t.Errorf("DM mention of the away peer: %v", m.Mentions)
		}
	})
}

// TestSearchAccess: search finds messages only in rooms the user may
// read, with or without a room filter; naming a private room of others is
// forbidden, an unknown room not_found. Bad inputs tried: FTS syntax
// ("NEAR(", quotes, stars, AND OR), an empty and a blank query, a query
// over the limit, limits 0 and 51, a bad room name, a negative before.
func TestSearchAccess(t *testing.T) {
	forEachStore(t, func(t *testing.T, open func(testing.TB) store.Store) {
		ts := startServer(t, server.Options{Store: open(t)})
		ann, bob, eve := dial(t, ts.url, "ann"), dial(t, ts.url, "bob"), dial(t, ts.url, "eve")
		ann.hello(t, "Ann")
		wb := bob.hello(t, "Bob")
		eve.hello(t, "Eve")
		ann.call(t, shared.TypeCreate, &shared.Create{Room: "secret", Kind: shared.RoomPrivate})
		ann.join(t, "secret", nil)
		ann.sendMsg(t, "secret", "s-1", "the plan, private")
		dm := ackOf[shared.RoomInfo](t, first(ann.call(t, shared.TypeDM, &shared.DM{User: wb.User}))).Name
		ann.join(t, dm, nil)
		ann.sendMsg(t, dm, "d-1", "the plan, direct")
		bob.join(t, "lobby", nil)
		for i := range 5 {
			bob.sendMsg(t, "lobby", fmt.Sprint("l-", i), fmt.Sprintf("the plan, public %d", i))
		}

		search := func(c *wsClient, q shared.Search) shared.SearchAck {
			t.Helper()
			if q.Limit == 0 {
				q.Limit = 50
			}
			return ackOf[shared.SearchAck](t, first(c.call(t, shared.TypeSearch, &q)))
		}
		rooms := func(a shared.SearchAck) map[string]int {
			out := map[string]int{}
			for _, m := range a.Results {
				out[m.Room]++
			}
			return out
		}
		if got := rooms(search(ann, shared.Search{Query: "plan"})); !reflect.DeepEqual(got, map[string]int{"secret": 1, dm: 1, "lobby": 5}) {
			t.Errorf("ann finds %v", got)
		}
		if got := rooms(search(bob, shared.Search{Query: "plan"})); !reflect.DeepEqual(got, map[string]int{dm: 1, "lobby": 5}) {
			t.Errorf("bob finds %v", got)
		}
		if got := rooms(search(eve, shared.Search{Query: "plan"})); !reflect.DeepEqual(got, map[string]int{"lobby": 5}) {
			t.Errorf("eve finds %v", got)
		}
		if got := rooms(search(eve, shared.Search{Query: "plan", Room: "lobby"})); !reflect.DeepEqual(got, map[string]int{"lobby": 5}) {
			t.Errorf("eve in lobby finds %v", got)
		}
		eve.expectError(t, eve.request(t, shared.TypeSearch, &shared.Search{Query: "plan", Room: "secret", Limit: 10}), shared.CodeForbidden)
		eve.expectError(t, eve.request(t, shared.TypeSearch, &shared.Search{Query: "plan", Room: dm, Limit: 10}), shared.CodeForbidden)
		eve.expectError(t, eve.request(t, shared.TypeSearch, &shared.Search{Query: "plan", Room: "nowhere", Limit: 10}), shared.CodeNotFound)

		// Paging, newest first, no repeats.
		var seqs []int64
		var before int64
		for range 10 {
			a := search(eve, shared.Search{Query: "plan", Limit: 2, Before: before})
			for _, m := range a.Results {
				seqs = append(seqs, m.Seq)
			}
			if before = a.Next; before == 0 {
				break
			}
		}
		if !slices.Equal(seqs, []int64{5, 4, 3, 2, 1}) {
			t.Errorf("paged results: %v", seqs)
		}

		for _, q := range []string{`"`, `NEAR(`, `plan"`, `*`, `AND OR`, `"plan" OR "x"`, `plan*`, `col:plan`} {
			search(eve, shared.Search{Query: q})
		}
		for _, bad := range []struct {
			s    shared.Search
			code shared.Code
		}{
			{shared.Search{Query: "", Limit: 5}, shared.CodeInvalid},
			{shared.Search{Query: "   ", Limit: 5}, shared.CodeInvalid},
			{shared.Search{Query: "plan", Limit: 0}, shared.CodeInvalid},
			{shared.Search{Query: "plan", Limit: shared.MaxSearch + 1}, shared.CodeInvalid},
			{shared.Search{Query: "plan", Room: "No Such", Limit: 5}, shared.CodeInvalid},
			{shared.Search{Query: "plan", Before: -1, Limit: 5}, shared.CodeInvalid},
		} {
			f, _ := eve.await(t, eve.request(t, shared.TypeSearch, &bad.s))
			if _, ok := f.Payload.(*shared.ErrorFrame); !ok {
				t.Errorf("search %+v answered %s, want an error", bad.s, f.Type)
			}
		}
		long := ""
		for range shared.MaxQueryRunes + 1 {
			long += "p"
		}
		eve.expectError(t, eve.request(t, shared.TypeSearch, &shared.Search{Query: long, Limit: 5}), shared.CodeTooLarge)
	})
}

// TestSearchRateLimited: searches past the default burst are refused with
// rate_limited and a retry_after.
func TestSearchRateLimited(t *testing.T) {
	ts := startServer(t, server.Options{Limits: server.Limits{Conn: server.RequestRates{Search: server.Rate{PerSecond: 2, Burst: 10}}, Refusals: server.Unlimited}})
	c := dial(t, ts.url, "ann")
	c.hello(t, "Ann")
	ids := make([]string, 30)
	for i := range ids {
		ids[i] = c.request(t, shared.TypeSearch, &shared.Search{Query: "x", Limit: 5})
	}
	limited := 0
	for _, id := range ids {
		f, _ := c.await(t, id)
		if e, ok := f.Payload.(*shared.ErrorFrame); ok && e.Code == shared.CodeRateLimited && e.RetryAfter > 0 {
			limited++
		}
	}
	if limited == 0 {
		t.Fatal("30 searches at once: none refused")
	}
}

// TestReadDMStartsUnread: a DM's messages were written to its other user,
// so before they ever open it they count as unread (in the room list and
// at the first join), unlike a room's history at a first join.
func TestReadDMStartsUnread(t *testing.T) {
	forEachStore(t, func(t *testing.T, open func(testing.TB) store.Store) {
		ts := startServer(t, server.Options{Store: open(t)})
		ann, bob := dial(t, ts.url, "ann"), dial(t, ts.url, "bob")
		ann.hello(t, "Ann")
		wb := bob.hello(t, "Bob")
		dm := ackOf[shared.RoomInfo](t, first(ann.call(t, shared.TypeDM, &shared.DM{User: wb.User}))).Name
		ann.join(t, dm, nil)
		ann.sendMsg(t, dm, "d-1", "hi")
		ann.sendMsg(t, dm, "d-2", "@Bob are you there?")
		if r := findRoom(roomList(t, bob, shared.Rooms{}), dm); r == nil || r.Read != 0 || r.Unread != 2 {
			t.Fatalf("bob's list entry for the new DM: %+v", r)
		}
		if ack, _ := bob.join(t, dm, nil); ack.Read != 0 || ack.Unread != 2 {
			t.Fatalf("bob's first join of the DM: read %d unread %d, want 0 and 2", ack.Read, ack.Unread)
		}
		if ack, _ := ann.join(t, "lobby", nil); ack.Unread != 0 {
			t.Fatalf("a room's first join: unread %d", ack.Unread)
		}
	})
}
