package main

import (
	"fmt"
	"testing"

	"github.com/duplex-chat/duplex/app/client"
	"github.com/duplex-chat/duplex/shared/testpoll"
)

// TestOutboxTwoTabsOneStorage: two clients of one user share one Storage,
// as two tabs share localStorage. Both go offline and each sends while
// offline; then tab 1 is closed (the person closes that tab) and the
// network comes back. Tab 2 finds tab 1's unsent messages in the shared
// Storage when it is welcomed again and delivers them with its own: every
// message is delivered exactly once and stored once, the outbox drains,
// nothing fails. With one Storage key for the whole outbox, each tab's
// write replaced the other's, and tab 1's messages were lost with it.
func TestOutboxTwoTabsOneStorage(t *testing.T) {
	const room = "two-tabs"
	ta := startApp(t, "", "")
	px := rcNewProxy(t, ta.Addr)
	st := &client.Memory{}
	tab1 := rcNew(t, px.WS(), "tabs", st)
	tab1.join(t, room)
	tab2 := rcNew(t, px.WS(), "tabs", st) // the same identity, from Storage
	tab2.join(t, room)
	if tab1.c.User() != tab2.c.User() {
		t.Fatalf("the tabs are different users (%s, %s): they should share the stored identity", tab1.c.User(), tab2.c.User())
	}
	observer := rcNew(t, ta.WS, "observer", nil)
	observer.join(t, room)

	px.pause(true)
	px.cut(1)
	for _, tab := range []*rcPeer{tab1, tab2} {
		testpoll.Until(t, tab.name+" offline", func() bool { return tab.c.State() != client.StateOnline })
	}
	sent := map[string]string{}
	for i := 0; i < 6; i++ {
		tab := []*rcPeer{tab1, tab2}[i%2]
		body := fmt.Sprintf("tab%d offline #%d", i%2+1, i)
		id, err := tab.c.Send(room, body)
		if err != nil {
			t.Fatal(err)
		}
		sent[id] = body
	}
	tab1.close()
	px.pause(false)
	rcWaitAllDelivered(t, []*rcPeer{tab2, observer}, []string{room}, map[string]int{room: len(sent)},
		func() string {
			return fmt.Sprintf("tab 2 outbox %d, observer %d", len(tab2.c.Outbox()), observer.count(room))
		})
	got := map[string]int{}
	for _, m := range observer.received(room) {
		got[m.MsgID]++
	}
	for id, body := range sent {
		if got[id] != 1 {
			t.Errorf("%q delivered %d times, want once", body, got[id])
		}
	}
	if len(got) != len(sent) {
		t.Errorf("observer received %d distinct messages, sent %d", len(got), len(sent))
	}
	rcCheckStore(t, ta.app.store, room, sent)
	for _, p := range []*rcPeer{tab1, tab2, observer} {
		if s := p.problems(); s != "" {
			t.Errorf("unexpected failures:\n%s", s)
		}
	}
	if keys := st.Keys("duplex.outbox"); len(keys) != 0 {
		t.Errorf("the shared Storage still holds outbox entries: %v", keys)
	}
}
