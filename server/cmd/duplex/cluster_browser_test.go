//go:build !(js && wasm)

package main

import "testing"

// TestBrowserClusterTwoNodes: two browsers on two nodes of a cluster chat
// as on one (issue #16): each sees the other in the member list (presence
// crosses nodes), a message sent on node A shows on node B as sent, with
// the same seq, and the answer comes back the other way.
func TestBrowserClusterTwoNodes(t *testing.T) {
	exe := requireBrowser(t)
	timed(t)
	nats := startNATS(t)
	key := clusterKey()
	a, b := startNode(t, nats, key, "a"), startNode(t, nats, key, "b")
	alice, bob := newTab(t, exe, "alice"), newTab(t, exe, "bob")
	alice.open(a.URL + "/r/lobby")
	alice.signIn("alice")
	bob.open(b.URL + "/r/lobby")
	bob.signIn("bob")
	for _, tb := range []*tab{alice, bob} {
		tb.waitOnline()
		poll[bool](tb, "alice and bob in the member list, across nodes", js(`JSON.stringify(__members()) === '["alice","bob"]'`))
	}
	const hiAlice, hiBob = "hello from node A", "hi, node B here"
	alice.sendEnter(hiAlice)
	onB := bob.waitRow(hiAlice, "alice", "sent")
	onA := alice.waitRow(hiAlice, "alice", "sent")
	bob.sendEnter(hiBob)
	backOnA := alice.waitRow(hiBob, "bob", "sent")
	bob.waitRow(hiBob, "bob", "sent")
	if onA.Seq != onB.Seq || backOnA.Seq <= onA.Seq {
		t.Errorf("seqs: alice's message %d on A and %d on B, bob's %d on A", onA.Seq, onB.Seq, backOnA.Seq)
	}
	for _, tb := range []*tab{alice, bob} {
		if rows := tb.noDuplicates(); len(rows) != 2 {
			t.Errorf("%s: %d messages shown, want 2: %+v", tb.name, len(rows), rows)
		}
	}
}
