package client_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/duplex-chat/duplex/app/client"
	"github.com/duplex-chat/duplex/shared"
)

// TestOutboxTwoClientsShareStorage: two clients on one Storage (two tabs
// of one browser on localStorage) both send while offline. Each message is
// kept under its own key, so neither client's writes remove the other's:
// a third client on that Storage (a reload) finds all of them, in send
// order per client, and a client that reconnects finds the messages the
// other added after it loaded (welcome merges them; here: a new client).
// With one key for the whole outbox the last writer won and the other
// tab's messages were lost. Bad input tried: a corrupt entry (not JSON)
// and an entry whose key does not match its msg_id are dropped, not sent.
func TestOutboxTwoClientsShareStorage(t *testing.T) {
	st := &client.Memory{}
	a, aEvents := offlineClient(t, st)
	b, bEvents := offlineClient(t, st)
	joinOffline(t, a, "lobby")
	joinOffline(t, b, "lobby")
	var sent []string
	for i, c := range []*client.Client{a, b, a, b, a} {
		id, err := c.Send("lobby", "message "+string(rune('A'+i)))
		if err != nil {
			t.Fatal(err)
		}
		sent = append(sent, id)
	}
	st.Set("duplex.outbox.v3.mgarbage", "{not json")
	st.Set("duplex.outbox.v3.mother", `{"room":"lobby","msg_id":"mreal","body":"x","ts":1}`)
	if n := len(a.Outbox()); n != 3 {
		t.Fatalf("client a holds %d sends, want its own 3", n)
	}
	closeAndWait(t, a, aEvents)
	closeAndWait(t, b, bEvents)

	c, cEvents := offlineClient(t, st)
	got := c.Outbox()
	if len(got) != len(sent) {
		t.Fatalf("a client loading the shared Storage holds %d sends, want all %d: %+v", len(got), len(sent), got)
	}
	held := map[string]bool{}
	for _, p := range got {
		held[p.MsgID] = true
	}
	for _, id := range sent {
		if !held[id] {
			t.Errorf("msg_id %s was lost from the shared Storage", id)
		}
	}
	for _, k := range st.Keys("duplex.outbox.v3.") {
		if strings.HasSuffix(k, "mgarbage") || strings.HasSuffix(k, "mother") {
			t.Errorf("bad entry %s was kept", k)
		}
	}
	closeAndWait(t, c, cEvents)
}

// TestOutboxOneQueueAcrossReload: messages, edits, reactions, deletions
// and read markers queued offline go into one outbox in the order they
// were made, each under its own Storage key; a reload (a new client on
// the Storage) finds them all in that order. Read markers coalesce: a
// newer one replaces the one queued before and moves to the end (it is
// the newest thing done); a lower one changes nothing. A v2 entry (a
// send of a client before the one queue) moves to a v3 key. Bad input
// tried: stored entries of an unknown kind, an edit without a target, a
// reaction that is no emoji, a read marker of seq 0, and an event under
// a v2 key are dropped, not sent; an invalid edit or reaction is refused
// at once. ClearOutbox leaves no outbox key.
func TestOutboxOneQueueAcrossReload(t *testing.T) {
	st := &client.Memory{}
	st.Set("duplex.outbox.v2.mold", `{"room":"lobby","msg_id":"mold","body":"from a v2 tab","ts":1}`)
	st.Set("duplex.outbox.v2.mv2edit", `{"room":"lobby","msg_id":"mv2edit","body":"x","ts":1,"kind":"edit","target":3}`)
	a, aEvents := offlineClient(t, st)
	joinOffline(t, a, "lobby")
	if _, err := a.QueueEdit("lobby", 3, ""); err == nil {
		t.Fatal("an empty edit was queued")
	}
	if _, err := a.QueueReact("lobby", 3, "no emoji", true); err == nil {
		t.Fatal("a reaction that is no emoji was queued")
	}
	if _, err := a.QueueDelete("lobby", 0); err == nil {
		t.Fatal("a delete without a target was queued")
	}
	steps := []func() (string, error){
		func() (string, error) { return a.Send("lobby", "one") },
		func() (string, error) { return a.QueueEdit("lobby", 3, "edited") },
		func() (string, error) { return a.QueueReact("lobby", 3, "👍", true) },
	}
	for _, step := range steps {
		if _, err := step(); err != nil {
			t.Fatal(err)
		}
	}
	a.MarkRead("lobby", 5)
	if _, err := a.Send("lobby", "two"); err != nil {
		t.Fatal(err)
	}
	a.MarkRead("lobby", 7) // replaces 5, at the end
	a.MarkRead("lobby", 6) // lower: nothing
	if _, err := a.QueueDelete("lobby", 4); err != nil {
		t.Fatal(err)
	}
	describe := func(ob []client.Pending) string {
		var parts []string
		for _, p := range ob {
			switch p.Kind {
			case "":
				parts = append(parts, "msg:"+p.Body)
			default:
				parts = append(parts, fmt.Sprintf("%s:%d", p.Kind, p.Target))
			}
		}
		return strings.Join(parts, " ")
	}
	const want = "msg:from a v2 tab msg:one edit:3 react:3 msg:two read:7 delete:4"
	if got := describe(a.Outbox()); got != want {
		t.Fatalf("outbox %q, want %q", got, want)
	}
	closeAndWait(t, a, aEvents)
	for _, bad := range []string{
		`{"room":"lobby","msg_id":"mbogus","ts":1,"kind":"bogus","target":3}`,
		`{"room":"lobby","msg_id":"mnotarget","body":"x","ts":1,"kind":"edit"}`,
		`{"room":"lobby","msg_id":"mbademoji","ts":1,"kind":"react","target":3,"emoji":"no"}`,
		`{"room":"lobby","msg_id":"mread0","ts":1,"kind":"read"}`,
	} {
		var p client.Pending
		if err := json.Unmarshal([]byte(bad), &p); err != nil {
			t.Fatal(err)
		}
		st.Set("duplex.outbox.v3."+p.MsgID, bad)
	}

	b, bEvents := offlineClient(t, st)
	if got := describe(b.Outbox()); got != want {
		t.Fatalf("after the reload the outbox is %q, want %q", got, want)
	}
	keys := st.Keys("duplex.outbox.")
	if len(keys) != 7 || len(st.Keys("duplex.outbox.v2.")) != 0 {
		t.Fatalf("Storage holds the outbox keys %q, want the 7 entries under v3 keys", keys)
	}
	b.ClearOutbox()
	if keys := st.Keys("duplex.outbox"); len(keys) != 0 || len(b.Outbox()) != 0 {
		t.Fatalf("after ClearOutbox: keys %q, outbox %d", keys, len(b.Outbox()))
	}
	closeAndWait(t, b, bEvents)
}

// TestPendingApplied: the outbox's unacknowledged events show on a copy
// of the messages as the server will apply them; the snapshot passed in is
// never changed, and entries of other rooms, sends, read markers and
// events on messages not held change nothing.
func TestPendingApplied(t *testing.T) {
	msgs := []shared.Message{
		{Room: "lobby", Seq: 1, Body: "one", Reactions: []shared.Reaction{{Emoji: "🎉", Count: 1, Me: true}}},
		{Room: "lobby", Seq: 2, Body: "two"},
		{Room: "lobby", Seq: 3, Body: "three", Reactions: []shared.Reaction{{Emoji: "👍", Count: 1}}},
	}
	outbox := []client.Pending{
		{Room: "lobby", Kind: shared.KindEdit, Target: 1, Body: "one, edited", TS: 5},
		{Room: "lobby", Kind: shared.KindUnreact, Target: 1, Emoji: "🎉"},
		{Room: "lobby", Kind: shared.KindDelete, Target: 2},
		{Room: "lobby", Kind: shared.KindReact, Target: 3, Emoji: "👍"},
		{Room: "other", Kind: shared.KindEdit, Target: 3, Body: "elsewhere"},
		{Room: "lobby", Kind: shared.KindEdit, Target: 9, Body: "not held"},
		{Room: "lobby", Body: "a send"},
		{Room: "lobby", Kind: client.KindRead, Target: 3},
	}
	got := client.PendingApplied(msgs, outbox, "lobby", "u-me")
	if got[0].Body != "one, edited" || got[0].Edited == 0 || len(got[0].Reactions) != 0 {
		t.Errorf("edited and unreacted: %+v", got[0])
	}
	if !got[1].Deleted || got[1].Body != "" {
		t.Errorf("deleted: %+v", got[1])
	}
	if r := got[2].Reactions; len(r) != 1 || r[0].Count != 2 || !r[0].Me || got[2].Body != "three" {
		t.Errorf("reacted: %+v", got[2])
	}
	if msgs[0].Body != "one" || msgs[1].Deleted || msgs[2].Reactions[0].Count != 1 || len(msgs[0].Reactions) != 1 {
		t.Errorf("the snapshot passed in was changed: %+v", msgs)
	}
	if same := client.PendingApplied(msgs, outbox[4:], "lobby", "u-me"); &same[0] != &msgs[0] {
		t.Error("nothing to apply, yet msgs was copied")
	}
}
