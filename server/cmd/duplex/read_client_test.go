package main

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/duplex-chat/duplex/app/client"
	"github.com/duplex-chat/duplex/shared/testpoll"
)

// rcNewAs is rcNew for another client of the same user (a second tab or
// device): it presents the first client's credential.
func rcNewAs(t testing.TB, url, name string, of *rcPeer) *rcPeer {
	t.Helper()
	return rcNewWith(t, url, name, &client.Options{Token: of.c.Token()}, nil)
}

// waitRead polls a client's unread bookkeeping until it says want.
func waitRead(t testing.TB, p *rcPeer, want client.ReadChanged) {
	t.Helper()
	testpoll.Until(t, fmt.Sprintf("%s's read state %+v", p.name, want), func() bool { return p.c.ReadState(want.Room) == want },
		func() string { return fmt.Sprintf("read state %+v", p.c.ReadState(want.Room)) })
}

// TestClientUnreadFollowsUser: the client keeps per-room unread and
// mention counts from joins and live messages; MarkRead (called many
// times in a row: coalesced) moves the marker, and the user's second
// client hears of it by the server's push; a third client of the same
// user, started later, gets the counts from the server.
func TestClientUnreadFollowsUser(t *testing.T) {
	ta := startApp(t, "", "")
	const room = "reads"
	ann := rcNew(t, ta.WS, "Ann", nil)
	bob := rcNew(t, ta.WS, "Bob", nil)
	ann.join(t, room)
	bob.join(t, room)
	testpoll.Until(t, "bob online", func() bool { return bob.c.Token() != "" })
	bob2 := rcNewAs(t, ta.WS, "Bob", bob)
	bob2.join(t, room)

	sent := map[string]string{}
	rcSendAll(t, ann, room, "hello", 3, sent)
	if _, err := ann.c.Send(room, "and you, @bob?"); err != nil {
		t.Fatal(err)
	}
	waitRead(t, bob, client.ReadChanged{Room: room, Unread: 4, Mentioned: 1})
	waitRead(t, bob2, client.ReadChanged{Room: room, Unread: 4, Mentioned: 1})
	waitRead(t, ann, client.ReadChanged{Room: room}) // her own messages are not unread

	for seq := int64(1); seq <= 3; seq++ {
		bob.c.MarkRead(room, seq)
	}
	waitRead(t, bob, client.ReadChanged{Room: room, Seq: 3, Unread: 1, Mentioned: 1})
	waitRead(t, bob2, client.ReadChanged{Room: room, Seq: 3, Unread: 1, Mentioned: 1})
	bob2.c.MarkRead(room, 4)
	bob2.c.MarkRead(room, 2) // lower: ignored
	waitRead(t, bob, client.ReadChanged{Room: room, Seq: 4})

	bob3 := rcNewAs(t, ta.WS, "Bob", bob)
	if _, err := ann.c.Send(room, "one more"); err != nil {
		t.Fatal(err)
	}
	waitRead(t, bob, client.ReadChanged{Room: room, Seq: 4, Unread: 1})
	bob3.join(t, room)
	waitRead(t, bob3, client.ReadChanged{Room: room, Seq: 4, Unread: 1})

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := bob3.c.Search(ctx, "hello", "", 0, 10)
	if err != nil || len(res.Results) != 3 || res.Results[0].Seq != 3 {
		t.Fatalf("search: %+v, %v", res, err)
	}
	if _, err := bob3.c.Search(ctx, "hello", "no-such-room", 0, 10); err == nil {
		t.Fatal("search of an unknown room succeeded")
	}
}
