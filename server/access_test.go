package server_test

// Threat cases of issue #7, access half: private rooms and direct messages
// stay private. An outsider tries every request on them (join, resume,
// history, send, invite, remove, create, the room list) and gets a refusal;
// meanwhile nothing the outsider receives (pushed room lists, presence,
// messages) mentions the room or its contents.

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/duplex-chat/duplex/server"
	"github.com/duplex-chat/duplex/server/store"
	"github.com/duplex-chat/duplex/shared"
)

// outsider is a client that must learn nothing about some rooms: every
// frame it receives through refused passes through noLeak.
type outsider struct {
	*wsClient
	secrets []string
}

// refused sends a request that must fail with code, and checks that
// neither the frames that arrived before the answer nor the answer carry
// a secret other than the room name the outsider itself gave.
func (o *outsider) refused(t testing.TB, typ shared.Type, payload any, code shared.Code) {
	t.Helper()
	f, before := o.await(t, o.request(t, typ, payload))
	e := checkError(t, o.name, f, code)
	noLeak(t, o.name, before, o.secrets...)
	for _, s := range o.secrets[1:] { // secrets[0] is the room name
		if strings.Contains(e.Message, s) {
			t.Fatalf("%s: error %q reveals %q", o.name, e.Message, s)
		}
	}
}

// roomList asks for one page of the room list.
func roomList(t testing.TB, c *wsClient, q shared.Rooms) shared.RoomList {
	t.Helper()
	f, _ := c.call(t, shared.TypeRooms, &q)
	l, ok := f.Payload.(*shared.RoomList)
	if !ok {
		t.Fatalf("%s: rooms answered with %s", c.name, f.Type)
	}
	return *l
}

func findRoom(l shared.RoomList, name string) *shared.RoomInfo {
	for i := range l.Rooms {
		if l.Rooms[i].Name == name {
			return &l.Rooms[i]
		}
	}
	return nil
}

// waitRemoved waits for the removed frame of room.
func waitRemoved(t testing.TB, c *wsClient, room string) {
	t.Helper()
	c.waitFrame(t, "removed from "+room, func(f shared.Frame) bool {
		r, ok := f.Payload.(*shared.Removed)
		return ok && f.Type == shared.TypeRemoved && r.Room == room
	})
}

// TestAccessPrivateRoom: a private room is invisible and closed to an
// outsider (join, resume, history, send, invite, remove, create under its
// name, the room list, its presence); an invited user sees, joins and
// reads it but, not being the owner, cannot remove; a removed user's
// sessions are told, stop receiving it and cannot come back.
func TestAccessPrivateRoom(t *testing.T) {
	forEachStore(t, func(t *testing.T, open func(testing.TB) store.Store) {
		ts := startServer(t, server.Options{Store: open(t)})
		ann, bob, eveC := dial(t, ts.url, "ann"), dial(t, ts.url, "bob"), dial(t, ts.url, "eve")
		wa, wb, we := ann.hello(t, "ann"), bob.hello(t, "bob"), eveC.hello(t, "eve")
		const secret = "the launch is on friday"
		eve := &outsider{eveC, []string{"design", secret}}
		roomList(t, eve.wsClient, shared.Rooms{}) // eve asks for the list: she gets pushed updates
		bob.join(t, "lobby", nil)                 // bob is a known user, stored too

		info := ackOf[shared.RoomInfo](t, first(ann.call(t, shared.TypeCreate, &shared.Create{Room: "design", Kind: shared.RoomPrivate})))
		if info.Name != "design" || info.Kind != shared.RoomPrivate || info.Owner != wa.User {
			t.Fatalf("create ack %+v, want private design owned by %s", info, wa.User)
		}
		ann.join(t, "design", nil)
		ann.sendMsg(t, "design", "m-1", secret)

		// The outsider.
		eve.refused(t, shared.TypeJoin, &shared.Join{Room: "design"}, shared.CodeForbidden)
		eve.refused(t, shared.TypeJoin, &shared.Join{Room: "design", Since: ptr(int64(0))}, shared.CodeForbidden)
		eve.refused(t, shared.TypeHistory, &shared.History{Room: "design", Limit: 50}, shared.CodeNotJoined)
		eve.refused(t, shared.TypeSend, &shared.Send{Room: "design", MsgID: "e-1", Body: "let me in"}, shared.CodeNotJoined)
		eve.refused(t, shared.TypeInvite, &shared.Invite{Room: "design", User: we.User}, shared.CodeForbidden)
		eve.refused(t, shared.TypeInvite, &shared.Invite{Room: "design", User: wb.User}, shared.CodeForbidden)
		eve.refused(t, shared.TypeRemove, &shared.Remove{Room: "design", User: wa.User}, shared.CodeForbidden)
		eve.refused(t, shared.TypeCreate, &shared.Create{Room: "design", Kind: shared.RoomPrivate}, shared.CodeForbidden)
		eve.refused(t, shared.TypeCreate, &shared.Create{Room: "design", Kind: shared.RoomPublic}, shared.CodeForbidden)
		eve.refused(t, shared.TypeInvite, &shared.Invite{Room: "nowhere", User: we.User}, shared.CodeNotFound)
		if l := roomList(t, eve.wsClient, shared.Rooms{}); findRoom(l, "design") != nil {
			t.Fatalf("eve's room list shows design: %+v", l.Rooms)
		}

		// Invitation by a member; the invitee sees, joins and reads it.
		ann.call(t, shared.TypeInvite, &shared.Invite{Room: "design", User: wb.User})
		bl := roomList(t, bob, shared.Rooms{})
		if r := findRoom(bl, "design"); r == nil || r.Kind != shared.RoomPrivate || r.Owner != wa.User {
			t.Fatalf("bob's room list after the invitation: %+v", bl.Rooms)
		}
		_, replay := bob.join(t, "design", nil)
		if len(replay) != 1 || replay[0].Body != secret {
			t.Fatalf("bob's replay of design: %+v", replay)
		}
		h := ackOf[shared.HistoryAck](t, first(bob.call(t, shared.TypeHistory, &shared.History{Room: "design", Limit: 10})))
		if len(h.Messages) != 1 || h.Messages[0].Body != secret {
			t.Fatalf("bob's history of design: %+v", h)
		}
		bob.sendMsg(t, "design", "b-1", "count me in")
		ann.waitMessages(t, "design", 2)
		// Any member may invite (only the owner removes).
		cat := dial(t, ts.url, "cat")
		wc := cat.hello(t, "cat")
		bob.call(t, shared.TypeInvite, &shared.Invite{Room: "design", User: wc.User})
		if r := findRoom(roomList(t, cat, shared.Rooms{}), "design"); r == nil {
			t.Fatalf("cat, invited by bob, does not see design")
		}
		cat.join(t, "design", nil)
		// Not the owner: bob cannot remove ann, nor can the owner be removed.
		bob.expectError(t, bob.request(t, shared.TypeRemove, &shared.Remove{Room: "design", User: wa.User}), shared.CodeForbidden)
		ann.expectError(t, ann.request(t, shared.TypeRemove, &shared.Remove{Room: "design", User: wa.User}), shared.CodeInvalid)
		// Inviting a user the server never saw is not_found, and grants nothing.
		ann.expectError(t, ann.request(t, shared.TypeInvite, &shared.Invite{Room: "design", User: "u-nobody"}), shared.CodeNotFound)
		// Inviting into a public room makes no sense.
		ann.expectError(t, ann.request(t, shared.TypeInvite, &shared.Invite{Room: "lobby", User: we.User}), shared.CodeForbidden)

		// Removal: both of bob's sessions are told, he stops receiving the
		// room, cannot send to it, re-join it, or see it listed.
		bobTab := dial(t, ts.url, "bob-tab")
		bobTab.helloAs(t, "bob", wb.Token)
		ann.call(t, shared.TypeRemove, &shared.Remove{Room: "design", User: wb.User})
		waitRemoved(t, bob, "design")
		waitRemoved(t, bobTab, "design")
		// The room's presence no longer holds bob (presence is coalesced:
		// a join and a removal within one period never show at all).
		mp := ackOf[shared.MembersAck](t, first(ann.call(t, shared.TypeMembers, &shared.Members{Room: "design", Limit: 100})))
		if slices.ContainsFunc(mp.Members, func(m shared.Member) bool { return m.User == wb.User }) {
			t.Fatalf("bob is still a member of design after his removal: %+v", mp.Members)
		}
		before := len(bob.messages("design"))
		a := ann.sendMsg(t, "design", "m-after", "bob is gone")
		ann.waitSeq(t, "design", a.Seq) // fanned out: bob's copy, if any, is queued
		barrier(t, bob)
		if n := len(bob.messages("design")); n != before {
			t.Fatalf("bob received %d messages of design after his removal", n-before)
		}
		bob.expectError(t, bob.request(t, shared.TypeSend, &shared.Send{Room: "design", MsgID: "b-2", Body: "still here?"}), shared.CodeNotJoined)
		bob.expectError(t, bob.request(t, shared.TypeHistory, &shared.History{Room: "design", Limit: 10}), shared.CodeNotJoined)
		bob.expectError(t, bob.request(t, shared.TypeJoin, &shared.Join{Room: "design"}), shared.CodeForbidden)
		bob.expectError(t, bob.request(t, shared.TypeJoin, &shared.Join{Room: "design", Since: ptr(int64(1))}), shared.CodeForbidden)
		if l := roomList(t, bob, shared.Rooms{}); findRoom(l, "design") != nil {
			t.Fatalf("bob's room list still shows design: %+v", l.Rooms)
		}

		// A room nobody made yet is created public by a join, and cannot
		// be turned private by a create afterwards.
		eve.join(t, "fresh", nil)
		if r := findRoom(roomList(t, ann, shared.Rooms{}), "fresh"); r == nil || (r.Kind != "" && r.Kind != shared.RoomPublic) {
			t.Fatalf("fresh in ann's list: %+v", r)
		}
		ann.expectError(t, ann.request(t, shared.TypeCreate, &shared.Create{Room: "fresh", Kind: shared.RoomPrivate}), shared.CodeForbidden)
		ann.call(t, shared.TypeCreate, &shared.Create{Room: "fresh", Kind: shared.RoomPublic}) // what exists: harmless

		// Through it all eve saw nothing of design: no presence, no
		// messages, no room-list entry, pushed or answered.
		noLeak(t, "eve", barrier(t, eve.wsClient), eve.secrets...)
		if n := len(eve.messages("design")); n != 0 {
			t.Fatalf("eve received %d messages of design", n)
		}
	})
}

// TestAccessDM: a direct conversation is the same room for both users,
// who join, read and write it; a third user cannot join, resume, read,
// write, list, invite into, remove from or re-create it; a DM with oneself
// or an unknown user is refused, and dm- names are kept for DMs.
func TestAccessDM(t *testing.T) {
	forEachStore(t, func(t *testing.T, open func(testing.TB) store.Store) {
		ts := startServer(t, server.Options{Store: open(t)})
		ann, bob, eveC := dial(t, ts.url, "ann"), dial(t, ts.url, "bob"), dial(t, ts.url, "eve")
		wa, wb, we := ann.hello(t, "ann"), bob.hello(t, "bob"), eveC.hello(t, "eve")
		roomList(t, eveC, shared.Rooms{})

		info := ackOf[shared.RoomInfo](t, first(ann.call(t, shared.TypeDM, &shared.DM{User: wb.User})))
		if !strings.HasPrefix(info.Name, "dm-") || info.Kind != shared.RoomDM || info.Peer == nil || *info.Peer != (shared.Member{User: wb.User, Nick: "bob"}) {
			t.Fatalf("dm ack %+v (peer %+v), want a dm- room with peer bob", info, info.Peer)
		}
		dm := info.Name
		back := ackOf[shared.RoomInfo](t, first(bob.call(t, shared.TypeDM, &shared.DM{User: wa.User})))
		if back.Name != dm || back.Peer == nil || back.Peer.User != wa.User {
			t.Fatalf("bob's dm to ann: %+v, want room %s with peer ann", back, dm)
		}
		const secret = "just between us"
		eve := &outsider{eveC, []string{dm, secret}}

		ann.join(t, dm, nil)
		bob.join(t, dm, nil)
		ann.sendMsg(t, dm, "a-1", secret)
		bob.waitMessages(t, dm, 1)
		bob.sendMsg(t, dm, "b-1", "sure")
		ann.waitMessages(t, dm, 2)
		h := ackOf[shared.HistoryAck](t, first(bob.call(t, shared.TypeHistory, &shared.History{Room: dm, Limit: 10})))
		if len(h.Messages) != 2 {
			t.Fatalf("bob's history of the DM: %+v", h.Messages)
		}
		if r := findRoom(roomList(t, bob, shared.Rooms{}), dm); r == nil || r.Kind != shared.RoomDM || r.Peer == nil || r.Peer.User != wa.User || r.Peer.Nick != "ann" {
			t.Fatalf("bob's list entry for the DM: %+v", r)
		}

		eve.refused(t, shared.TypeJoin, &shared.Join{Room: dm}, shared.CodeForbidden)
		eve.refused(t, shared.TypeJoin, &shared.Join{Room: dm, Since: ptr(int64(0))}, shared.CodeForbidden)
		eve.refused(t, shared.TypeHistory, &shared.History{Room: dm, Limit: 10}, shared.CodeNotJoined)
		eve.refused(t, shared.TypeSend, &shared.Send{Room: dm, MsgID: "e-1", Body: "hi both"}, shared.CodeNotJoined)
		eve.refused(t, shared.TypeInvite, &shared.Invite{Room: dm, User: we.User}, shared.CodeForbidden)
		eve.refused(t, shared.TypeRemove, &shared.Remove{Room: dm, User: wb.User}, shared.CodeForbidden)
		eve.refused(t, shared.TypeCreate, &shared.Create{Room: dm, Kind: shared.RoomPublic}, shared.CodeForbidden)
		eve.refused(t, shared.TypeCreate, &shared.Create{Room: dm, Kind: shared.RoomPrivate}, shared.CodeForbidden)
		if r := findRoom(roomList(t, eve.wsClient, shared.Rooms{}), dm); r != nil {
			t.Fatalf("eve's room list shows the DM: %+v", r)
		}
		// Eve's own DM with ann is another room.
		if e := ackOf[shared.RoomInfo](t, first(eve.call(t, shared.TypeDM, &shared.DM{User: wa.User}))); e.Name == dm {
			t.Fatalf("eve's DM with ann is ann and bob's room %s", dm)
		}
		// Not even a member may add a third person or remove the other.
		ann.expectError(t, ann.request(t, shared.TypeInvite, &shared.Invite{Room: dm, User: we.User}), shared.CodeForbidden)
		ann.expectError(t, ann.request(t, shared.TypeRemove, &shared.Remove{Room: dm, User: wb.User}), shared.CodeForbidden)

		ann.expectError(t, ann.request(t, shared.TypeDM, &shared.DM{User: wa.User}), shared.CodeInvalid)
		ann.expectError(t, ann.request(t, shared.TypeDM, &shared.DM{User: "u-nobody"}), shared.CodeNotFound)
		ann.expectError(t, ann.request(t, shared.TypeDM, &shared.DM{User: "not a user"}), shared.CodeInvalid)
		// Nobody may take a dm- name ahead of a conversation.
		eve.refused(t, shared.TypeJoin, &shared.Join{Room: "dm-squat"}, shared.CodeForbidden)
		eve.refused(t, shared.TypeCreate, &shared.Create{Room: "dm-squat", Kind: shared.RoomPublic}, shared.CodeForbidden)
		eve.refused(t, shared.TypeCreate, &shared.Create{Room: "dm-squat", Kind: shared.RoomPrivate}, shared.CodeForbidden)
		if r := findRoom(roomList(t, ann, shared.Rooms{}), "dm-squat"); r != nil {
			t.Fatalf("a refused dm- room exists: %+v", r)
		}

		// A user who is offline but known to the store can be messaged.
		carol := dial(t, ts.url, "carol")
		wc := carol.hello(t, "carol")
		carol.join(t, "lobby", nil)
		carol.conn.Close(1000, "")
		if r := ackOf[shared.RoomInfo](t, first(ann.call(t, shared.TypeDM, &shared.DM{User: wc.User}))); r.Peer == nil || r.Peer.User != wc.User {
			t.Fatalf("dm to carol: %+v", r)
		}

		noLeak(t, "eve", barrier(t, eve.wsClient), eve.secrets...)
		if n := len(eve.messages(dm)); n != 0 {
			t.Fatalf("eve received %d messages of the DM", n)
		}
	})
}

// TestAccessRoomListPaged: the room list comes in pages (limit, before,
// next), most recently active first, without gaps or repeats; a page
// counts only rooms the user may see, so an outsider's pages are full of
// public rooms and never show another user's private rooms; bad paging
// parameters are invalid.
func TestAccessRoomListPaged(t *testing.T) {
	forEachStore(t, func(t *testing.T, open func(testing.TB) store.Store) {
		ts := startServer(t, server.Options{Store: open(t)})
		ann, eve := dial(t, ts.url, "ann"), dial(t, ts.url, "eve")
		ann.hello(t, "ann")
		eve.hello(t, "eve")
		var public, all []string
		for i := 1; i <= 7; i++ {
			pub, priv := fmt.Sprintf("pub-%d", i), fmt.Sprintf("priv-%d", i)
			ann.join(t, pub, nil)
			ann.call(t, shared.TypeCreate, &shared.Create{Room: priv, Kind: shared.RoomPrivate})
			public = append(public, pub)
			all = append(all, pub, priv)
		}
		pages := func(c *wsClient, limit int) (names []string, sizes []int) {
			t.Helper()
			var before int64
			last := int64(-1)
			for range 50 {
				l := roomList(t, c, shared.Rooms{Limit: limit, Before: before})
				if len(l.Rooms) > limit {
					t.Fatalf("%s: page of %d rooms for limit %d", c.name, len(l.Rooms), limit)
				}
				sizes = append(sizes, len(l.Rooms))
				for _, r := range l.Rooms {
					if last >= 0 && r.Active >= last {
						t.Fatalf("%s: %s (active %d) after active %d: not most recent first", c.name, r.Name, r.Active, last)
					}
					last = r.Active
					names = append(names, r.Name)
				}
				if l.Next == 0 {
					return names, sizes
				}
				before = l.Next
			}
			t.Fatalf("%s: the room list never ends", c.name)
			return nil, nil
		}
		sameSet := func(who string, got, want []string) {
			t.Helper()
			g, w := slices.Clone(got), slices.Clone(want)
			slices.Sort(g)
			slices.Sort(w)
			if !slices.Equal(g, w) {
				t.Fatalf("%s pages through %v, want %v", who, got, want)
			}
		}
		names, sizes := pages(ann, 3)
		sameSet("ann", names, all)
		names, sizes = pages(eve, 2)
		sameSet("eve", names, public)
		for i, n := range sizes[:len(sizes)-1] {
			if n != 2 {
				t.Fatalf("eve's page %d has %d rooms (pages %v): hidden rooms counted against the limit", i, n, sizes)
			}
		}
		if l := roomList(t, eve, shared.Rooms{}); len(l.Rooms) != len(public) || l.Next != 0 {
			t.Fatalf("eve's default page: %d rooms, next %d", len(l.Rooms), l.Next)
		}
		for _, q := range []shared.Rooms{{Limit: -1}, {Limit: shared.MaxRooms + 1}, {Before: -5}} {
			eve.expectError(t, eve.request(t, shared.TypeRooms, &q), shared.CodeInvalid)
		}
	})
}

// TestAccessCustomAuthorize: an embedder's Authorize is asked about list,
// create, join (and resume), read and send, and its refusals reach the
// client as the error it returned (forbidden), changing nothing: a room it
// hides is not listed, a room it will not create does not appear, a send
// it refuses is not stored.
func TestAccessCustomAuthorize(t *testing.T) {
	forEachStore(t, func(t *testing.T, open func(testing.TB) store.Store) {
		const owner = "e-ann" // the only user who may post in "announce"
		policy := func(ctx context.Context, id server.Identity, action server.Action, room server.RoomAccess) error {
			switch {
			case action == server.ActionList && room.Name == "hidden":
				return shared.Errorf(shared.CodeForbidden, "not listed")
			case action == server.ActionCreate && strings.HasPrefix(room.Name, "x-"):
				return shared.Errorf(shared.CodeForbidden, "x- rooms are not made here")
			case action == server.ActionJoin && room.Name == "staff" && id.User != owner:
				return shared.Errorf(shared.CodeForbidden, "staff only")
			case action == server.ActionSend && room.Name == "announce" && id.User != owner:
				return shared.Errorf(shared.CodeForbidden, "read-only room")
			}
			return server.DefaultAuthorize(ctx, id, action, room)
		}
		ts := startServer(t, server.Options{Store: open(t), Authorize: policy, VerifyToken: verifyFake})
		ann, bob := dial(t, ts.url, "ann"), dial(t, ts.url, "bob")
		ann.helloAs(t, "ann", fakeToken(owner, "ann", time.Now().Add(time.Hour)))
		bob.hello(t, "bob")

		for _, room := range []string{"announce", "hidden", "staff"} {
			ann.join(t, room, nil)
		}
		ann.sendMsg(t, "announce", "a-1", "welcome all")
		bob.join(t, "announce", nil)
		bob.expectError(t, bob.request(t, shared.TypeSend, &shared.Send{Room: "announce", MsgID: "b-1", Body: "me too"}), shared.CodeForbidden)
		bob.expectError(t, bob.request(t, shared.TypeJoin, &shared.Join{Room: "staff"}), shared.CodeForbidden)
		bob.expectError(t, bob.request(t, shared.TypeJoin, &shared.Join{Room: "staff", Since: ptr(int64(0))}), shared.CodeForbidden)
		bob.expectError(t, bob.request(t, shared.TypeJoin, &shared.Join{Room: "x-new"}), shared.CodeForbidden)
		bob.expectError(t, bob.request(t, shared.TypeCreate, &shared.Create{Room: "x-new", Kind: shared.RoomPrivate}), shared.CodeForbidden)

		h := ackOf[shared.HistoryAck](t, first(bob.call(t, shared.TypeHistory, &shared.History{Room: "announce", Limit: 10})))
		if len(h.Messages) != 1 || h.Messages[0].MsgID != "a-1" {
			t.Fatalf("announce holds %+v, want only ann's message", h.Messages)
		}
		for _, c := range []*wsClient{ann, bob} {
			l := roomList(t, c, shared.Rooms{})
			if findRoom(l, "hidden") != nil || findRoom(l, "x-new") != nil || findRoom(l, "announce") == nil {
				t.Fatalf("%s's room list: %+v", c.name, l.Rooms)
			}
		}
	})
}

// TestAccessJoinRemoveRace: a join racing with the removal of its user is
// either refused or answered and then undone by the removal; it is always
// answered, and afterwards the removed user receives nothing of the room.
// (Before the fix, in about 3% of rounds a join that passed the access
// check just before the removal stayed subscribed, and a join evicted
// during its replay was never answered, within the first ten rounds.)
// The race is real, so a regression shows up as a failure in most runs,
// not in every one.
func TestAccessJoinRemoveRace(t *testing.T) {
	ts := startServer(t, server.Options{Store: openSQLite(t)})
	ann, bob := dial(t, ts.url, "ann"), dial(t, ts.url, "bob")
	ann.hello(t, "ann")
	wb := bob.hello(t, "bob")
	ann.call(t, shared.TypeCreate, &shared.Create{Room: "design", Kind: shared.RoomPrivate})
	ann.join(t, "design", nil)
	var joined, refused int
	for i := range 100 {
		ann.call(t, shared.TypeInvite, &shared.Invite{Room: "design", User: wb.User})
		jid := bob.request(t, shared.TypeJoin, &shared.Join{Room: "design"})
		rid := ann.request(t, shared.TypeRemove, &shared.Remove{Room: "design", User: wb.User})
		jf, beforeJoin := bob.await(t, jid)
		if f, _ := ann.await(t, rid); f.Type != shared.TypeAck {
			t.Fatalf("remove %d answered %s %+v", i, f.Type, f.Payload)
		}
		if jf.Type == shared.TypeAck {
			joined++
		} else {
			checkError(t, "bob", jf, shared.CodeForbidden)
			refused++
		}
		if !slices.ContainsFunc(beforeJoin, func(f shared.Frame) bool { return f.Type == shared.TypeRemoved }) {
			waitRemoved(t, bob, "design")
		}
		a := ann.sendMsg(t, "design", fmt.Sprintf("m-%d", i), "after the removal")
		ann.waitSeq(t, "design", a.Seq)
		barrier(t, bob)
		if l := bob.messages("design"); len(l) > 0 && l[len(l)-1].Seq == a.Seq {
			t.Fatalf("round %d: bob's join was %s and he still receives design after his removal", i, jf.Type)
		}
	}
	t.Logf("joins answered: %d acked then removed, %d refused", joined, refused)
}
