package server_test

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/duplex-chat/duplex/server"
	"github.com/duplex-chat/duplex/shared"
)

// presenceView applies the presence frames a client received, in order,
// the way a client keeps its member list: a snapshot replaces it, a diff
// edits it, a count alone empties it (the room is large).
type presenceView struct {
	members map[string]shared.Member // nil: counts only
	count   int
	diffs   int
	counts  int // count-only snapshots
}

func (v *presenceView) apply(f shared.Frame, room string) {
	switch p := f.Payload.(type) {
	case *shared.Presence:
		if p.Room != room {
			return
		}
		v.count, v.members = p.Count, nil
		if p.Members != nil {
			v.members = make(map[string]shared.Member)
			for _, m := range p.Members {
				v.members[m.User] = m
			}
		} else {
			v.counts++
		}
	case *shared.PresenceDiff:
		if p.Room != room {
			return
		}
		v.diffs++
		for _, m := range p.Left {
			delete(v.members, m.User)
		}
		for _, m := range p.Joined {
			if v.members != nil {
				v.members[m.User] = m
			}
		}
		v.count = len(v.members)
	case *shared.MemberEvent:
		panic("member_joined/member_left are no longer sent")
	}
}

// watch consumes c's frames, applying presence, until cond holds.
func (v *presenceView) watch(t testing.TB, c *wsClient, room, what string, cond func() bool) {
	t.Helper()
	c.mustWait(t, what, func() bool {
		for len(c.queue) > 0 {
			v.apply(c.queue[0], room)
			c.queue = c.queue[1:]
		}
		return cond()
	})
}

func userSet(ms map[string]shared.Member) []string {
	return slices.Sorted(maps.Keys(ms))
}

// TestPresenceCoalescedAndCounted: joins and leaves reach the other
// members as coalesced presence_diff frames that keep their lists exact;
// above the threshold members get counts only (no lists, no diffs) and page
// the list with members; below three quarters of it lists come back.
func TestPresenceCoalescedAndCounted(t *testing.T) {
	const threshold = 6
	ts := startServer(t, server.Options{PresenceThreshold: threshold, PresenceInterval: 50 * time.Millisecond})
	obs := dial(t, ts.url, "obs")
	wo := obs.hello(t, "Observer")
	obs.join(t, "lobby", nil)
	var v presenceView
	want := map[string]shared.Member{wo.User: {User: wo.User, Nick: "Observer"}}
	same := func() bool { return slices.Equal(userSet(v.members), userSet(want)) }
	v.watch(t, obs, "lobby", "own snapshot", same)

	// Five join, one of them twice (a second tab is not a second member),
	// and one comes and goes at once: the list ends exact.
	var others []*wsClient
	for i := range 5 {
		c := dial(t, ts.url, fmt.Sprint("m", i))
		w := c.hello(t, fmt.Sprint("Member ", i))
		c.join(t, "lobby", nil)
		want[w.User] = shared.Member{User: w.User, Nick: fmt.Sprint("Member ", i)}
		others = append(others, c)
		if i == 0 {
			tab := dial(t, ts.url, "m0-tab2")
			tab.helloAs(t, "Member 0", w.Token)
			tab.join(t, "lobby", nil)
		}
	}
	flit := dial(t, ts.url, "flit")
	flit.hello(t, "Flit")
	flit.join(t, "lobby", nil)
	flit.call(t, shared.TypeLeave, &shared.Leave{Room: "lobby"})
	v.watch(t, obs, "lobby", "six members listed", same)
	if v.diffs == 0 || v.diffs > 7 {
		t.Fatalf("%d diffs for 7 joins and a leave, want coalesced", v.diffs)
	}

	// A seventh member makes the room large: the observer gets a count,
	// the newcomer a count-only snapshot.
	big := dial(t, ts.url, "big")
	wb := big.hello(t, "Big")
	big.join(t, "lobby", nil)
	want[wb.User] = shared.Member{User: wb.User, Nick: "Big"}
	v.watch(t, obs, "lobby", "count of 7", func() bool { return v.members == nil && v.count == 7 })
	var bv presenceView
	bv.watch(t, big, "lobby", "count-only snapshot", func() bool { return bv.count == 7 })
	if bv.members != nil {
		t.Fatalf("a member of a large room got the list: %v", bv.members)
	}

	// The list pages by user id, with no member twice and none missing.
	var paged []string
	after := ""
	for {
		f, _ := big.call(t, shared.TypeMembers, &shared.Members{Room: "lobby", After: after, Limit: 3})
		a := ackOf[shared.MembersAck](t, f)
		for _, m := range a.Members {
			paged = append(paged, m.User)
			if want[m.User] != m {
				t.Fatalf("paged member %+v, want %+v", m, want[m.User])
			}
		}
		if !a.More {
			break
		}
		after = a.Members[len(a.Members)-1].User
	}
	if !sort.StringsAreSorted(paged) || !slices.Equal(paged, userSet(want)) {
		t.Fatalf("paged %v, want %v", paged, userSet(want))
	}

	// Bad members requests: each answered with its code, nothing else.
	for _, bad := range []struct {
		p    *shared.Members
		code shared.Code
	}{
		{&shared.Members{Room: "lobby", Limit: 0}, shared.CodeInvalid},
		{&shared.Members{Room: "lobby", Limit: shared.MaxMembersPage + 1}, shared.CodeInvalid},
		{&shared.Members{Room: "lobby", After: "not an id!", Limit: 5}, shared.CodeInvalid},
		{&shared.Members{Room: "Lobby", Limit: 5}, shared.CodeInvalid},
		{&shared.Members{Room: "elsewhere", Limit: 5}, shared.CodeNotJoined},
	} {
		big.expectError(t, big.request(t, shared.TypeMembers, bad.p), bad.code)
	}

	// Three leave: 4 members is below 3/4 of 6, so lists come back.
	for _, c := range others[2:] {
		c.call(t, shared.TypeLeave, &shared.Leave{Room: "lobby"})
	}
	v.watch(t, obs, "lobby", "list of 4 again", func() bool { return v.members != nil && v.count == 4 })
	if v.members[wb.User] != want[wb.User] {
		t.Fatalf("list after the room shrank: %v", v.members)
	}
	if v.counts == 0 {
		t.Fatal("the observer never got a count-only snapshot")
	}
}
