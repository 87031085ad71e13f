package client_test

import (
	"strings"
	"testing"

	"github.com/duplex-chat/duplex/app/client"
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
