package server_test

import (
	"fmt"
	"testing"

	"github.com/duplex-chat/duplex/server"
	"github.com/duplex-chat/duplex/shared"
	"github.com/duplex-chat/duplex/shared/testpoll"
)

// TestEmptyRoomsLeaveMemory: 1,000 rooms joined and left (by leave, or by
// closing the connection) leave the server's room map empty; a room left
// and joined again still has its history and delivers live.
func TestEmptyRoomsLeaveMemory(t *testing.T) {
	ts := startServer(t, server.Options{Store: openSQLite(t)})
	ann := dial(t, ts.url, "ann")
	ann.hello(t, "Ann")
	for i := range 1000 {
		room := fmt.Sprintf("r%d", i)
		ann.join(t, room, nil)
		if i%100 == 0 {
			ann.sendMsg(t, room, fmt.Sprintf("m%d", i), "kept in the store")
		}
		ann.call(t, shared.TypeLeave, &shared.Leave{Room: room})
	}
	if n := ts.srv.RoomsInMemory(); n != 0 {
		t.Fatalf("%d rooms in memory after 1,000 were joined and left, want 0", n)
	}

	// Rooms left by closing the connection go too.
	bob := dial(t, ts.url, "bob")
	bob.hello(t, "Bob")
	for i := range 50 {
		bob.join(t, fmt.Sprintf("b%d", i), nil)
	}
	if n := ts.srv.RoomsInMemory(); n != 50 {
		t.Fatalf("%d rooms in memory with Bob in 50, want 50", n)
	}
	bob.conn.CloseNow()
	testpoll.Until(t, "Bob's rooms dropped", func() bool { return ts.srv.RoomsInMemory() == 0 })

	// A dropped room comes back with its head from the store.
	ack, replay := ann.join(t, "r500", ptr[int64](0))
	checkSeqs(t, "r500 replay", replay, 1, 1)
	if ack.Head != 1 {
		t.Fatalf("rejoin ack %+v, want head 1", ack)
	}
	cy := dial(t, ts.url, "cy")
	cy.hello(t, "Cy")
	cy.join(t, "r500", nil)
	a := cy.sendMsg(t, "r500", "c1", "live again")
	if a.Seq != 2 {
		t.Fatalf("seq %d after the room was dropped and rejoined, want 2", a.Seq)
	}
	got := ann.waitSeq(t, "r500", 2) // m500 when sent, then the replay and the live one
	checkSeqs(t, "ann", got[1:], 1, 2)
	if n := ts.srv.RoomsInMemory(); n != 1 {
		t.Fatalf("%d rooms in memory, want 1", n)
	}
}
