package cluster_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/duplex-chat/duplex/server/cluster"
	"github.com/duplex-chat/duplex/server/cluster/natsrun"
	"github.com/duplex-chat/duplex/server/store"
	"github.com/duplex-chat/duplex/server/store/sqlite"
	"github.com/duplex-chat/duplex/shared"
	"github.com/duplex-chat/duplex/shared/testpoll"
)

// natsCluster starts a three-server JetStream cluster in this process.
func natsCluster(t *testing.T) *natsrun.Cluster {
	t.Helper()
	c, err := natsrun.Start(t.TempDir(), 3)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Shutdown)
	return c
}

// openNode opens a node on a projection in dir (a fresh one when dir is
// empty).
func openNode(t *testing.T, nats *natsrun.Cluster, dir string, cfg cluster.Config) *cluster.Node {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	proj, err := sqlite.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	cfg.URL = nats.URL()
	if cfg.Replicas == 0 {
		cfg.Replicas = 3
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	n, err := cluster.Open(ctx, cfg, proj)
	if err != nil {
		proj.Close()
		t.Fatal(err)
	}
	return n
}

func msg(room, id, body string) store.NewMessage {
	return store.NewMessage{Room: room, MsgID: id, Author: shared.Member{User: "u-" + id, Nick: "n"}, Body: body, TS: time.Now().UnixMilli()}
}

func appendOne(t *testing.T, n *cluster.Node, m store.NewMessage) store.Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := n.Append(ctx, []store.NewMessage{m})
	if err != nil {
		t.Fatalf("append %s: %v", m.MsgID, err)
	}
	return res[0]
}

// history is every message of room that node holds, oldest first.
func history(t *testing.T, n *cluster.Node, room string) []shared.Message {
	t.Helper()
	msgs, err := n.After(context.Background(), room, 0, 100000)
	if err != nil {
		t.Fatal(err)
	}
	return msgs
}

// sameHistory waits until every node holds want messages in room and all
// hold the same ones, in the same order with the same seqs.
func sameHistory(t *testing.T, room string, want int, nodes ...*cluster.Node) []shared.Message {
	t.Helper()
	var first []shared.Message
	why := ""
	testpoll.Until(t, fmt.Sprintf("%d nodes to hold the same %d messages of %s", len(nodes), want, room), func() bool {
		first = history(t, nodes[0], room)
		if len(first) != want {
			why = fmt.Sprintf("node 1 holds %d messages, want %d", len(first), want)
			return false
		}
		for i, n := range nodes[1:] {
			other := history(t, n, room)
			if len(other) != len(first) {
				why = fmt.Sprintf("node %d holds %d messages, node 1 %d", i+2, len(other), len(first))
				return false
			}
			for k := range first {
				a, b := first[k], other[k]
				if a.Seq != b.Seq || a.MsgID != b.MsgID || a.Body != b.Body || a.Deleted != b.Deleted || a.Kind != b.Kind || len(a.Reactions) != len(b.Reactions) {
					why = fmt.Sprintf("node %d differs at %d: %+v vs %+v", i+2, k, b, a)
					return false
				}
			}
		}
		return true
	}, func() string { return why })
	return first
}

// TestRacingNodesAgree: three nodes append to one room at once (3 × 60
// messages, 8 writers per node); every node ends with the same 180
// messages, seqs 1..180 with no gap, each msg_id once, and each writer's
// messages in the order it sent them.
func TestRacingNodesAgree(t *testing.T) {
	nc := natsCluster(t)
	nodes := []*cluster.Node{openNode(t, nc, "", cluster.Config{Name: "a"}), openNode(t, nc, "", cluster.Config{Name: "b"}), openNode(t, nc, "", cluster.Config{Name: "c"})}
	for _, n := range nodes {
		defer n.Close()
	}
	const perWriter, writers = 15, 4
	var wg sync.WaitGroup
	for ni, n := range nodes {
		for w := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for k := range perWriter {
					appendOne(t, n, msg("race", fmt.Sprintf("n%d-w%d-%03d", ni, w, k), "hello"))
				}
			}()
		}
	}
	wg.Wait()
	total := len(nodes) * writers * perWriter
	msgs := sameHistory(t, "race", total, nodes...)
	seen := map[string]bool{}
	last := map[string]string{}
	for i, m := range msgs {
		if m.Seq != int64(i+1) {
			t.Fatalf("message %d has seq %d: a gap or a double", i, m.Seq)
		}
		if seen[m.MsgID] {
			t.Fatalf("msg_id %s stored twice", m.MsgID)
		}
		seen[m.MsgID] = true
		writer := m.MsgID[:len(m.MsgID)-4]
		if m.MsgID <= last[writer] {
			t.Fatalf("writer %s: %s stored after %s", writer, m.MsgID, last[writer])
		}
		last[writer] = m.MsgID
	}
}

// TestIdempotencyOutlivesDuplicateWindow: with JetStream's duplicate
// window at 1 s, a msg_id resent to another node 2 s later returns the
// original seq and stores nothing; the same msg_id with another body is a
// conflict.
func TestIdempotencyOutlivesDuplicateWindow(t *testing.T) {
	nc := natsCluster(t)
	cfg := cluster.Config{Duplicates: time.Second}
	a, b := openNode(t, nc, "", cfg), openNode(t, nc, "", cfg)
	defer a.Close()
	defer b.Close()
	first := appendOne(t, a, msg("idem", "m1", "once"))
	appendOne(t, a, msg("idem", "m2", "twice"))
	time.Sleep(2 * time.Second) // past the window, on purpose
	again := appendOne(t, b, msg("idem", "m1", "once"))
	if !again.Duplicate || again.Message.Seq != first.Message.Seq {
		t.Fatalf("resent to another node past the window: %+v, want a duplicate of seq %d", again, first.Message.Seq)
	}
	if r := appendOne(t, b, msg("idem", "m1", "other body")); r.Err == nil {
		t.Fatalf("msg_id reused with another body: %+v, want a conflict", r)
	}
	sameHistory(t, "idem", 2, a, b)
}

// TestRacingEventsConverge: an edit against a delete of one message and
// two reactions, sent to different nodes at once, leave every node in the
// same state; so does a grant against a revoke.
func TestRacingEventsConverge(t *testing.T) {
	nc := natsCluster(t)
	a, b, c := openNode(t, nc, "", cluster.Config{}), openNode(t, nc, "", cluster.Config{}), openNode(t, nc, "", cluster.Config{})
	defer a.Close()
	defer b.Close()
	defer c.Close()
	var stored atomic.Int64 // messages and events written
	for round := range 5 {
		stored.Add(1)
		m := msg("ev", fmt.Sprintf("m%d", round), "text")
		target := appendOne(t, a, m).Message.Seq
		// No wait for b and c to have the message: a node that has not
		// applied it yet catches up with the room's log before it
		// refuses an event (cluster.go: errCheckFresh).
		edit := m
		edit.MsgID, edit.Kind, edit.Target, edit.Body = fmt.Sprintf("e%d", round), shared.KindEdit, target, "edited"
		del := m
		del.MsgID, del.Kind, del.Target, del.Body = fmt.Sprintf("d%d", round), shared.KindDelete, target, ""
		r1 := msg("ev", fmt.Sprintf("r%d", round), "")
		r1.Kind, r1.Target, r1.Emoji = shared.KindReact, target, "👍"
		r2 := r1
		r2.MsgID, r2.Author.User, r2.Emoji = fmt.Sprintf("s%d", round), "u-other", "🎉"
		var wg sync.WaitGroup
		for _, job := range []struct {
			n *cluster.Node
			m store.NewMessage
		}{{b, edit}, {c, del}, {a, r1}, {b, r2}} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				defer cancel()
				res, err := job.n.Append(ctx, []store.NewMessage{job.m})
				if err != nil {
					t.Errorf("append %s: %v", job.m.MsgID, err)
				} else if res[0].Err == nil && !res[0].Duplicate {
					stored.Add(1)
				}
			}()
		}
		wg.Wait()
	}
	sameHistory(t, "ev", int(stored.Load()), a, b, c)
	for _, m := range history(t, a, "ev") {
		if m.Kind == shared.KindMessage && !m.Deleted {
			t.Errorf("message %d survived its delete: %+v", m.Seq, m)
		}
	}

	// Access: a private room created on one node, a grant and a revoke
	// racing on two others.
	ctx := context.Background()
	if _, created, err := a.CreateRoom(ctx, store.RoomMeta{Name: "priv", Kind: shared.RoomPrivate, Owner: "u-owner"}); err != nil || !created {
		t.Fatalf("create: %v %v", created, err)
	}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); b.Grant(ctx, "priv", "u-guest") }()
	go func() { defer wg.Done(); c.Revoke(ctx, "priv", "u-guest") }()
	wg.Wait()
	why := ""
	testpoll.Until(t, "the three nodes to agree on access to priv", func() bool {
		var got []bool
		for _, n := range []*cluster.Node{a, b, c} {
			has, err := n.HasAccess(ctx, "priv", "u-guest")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, has)
		}
		owner, _ := c.HasAccess(ctx, "priv", "u-owner")
		why = fmt.Sprintf("guest access per node %v, owner on c %v", got, owner)
		return owner && got[0] == got[1] && got[1] == got[2]
	}, func() string { return why })
}

// TestRebuildFromEmptyDirectory: a node whose data directory is deleted
// rebuilds the same history from the log; a node restarted on its
// directory catches up with what it missed.
func TestRebuildFromEmptyDirectory(t *testing.T) {
	nc := natsCluster(t)
	a := openNode(t, nc, "", cluster.Config{})
	defer a.Close()
	bdir := t.TempDir()
	b := openNode(t, nc, bdir, cluster.Config{})
	for i := range 40 {
		appendOne(t, a, msg("rb", fmt.Sprintf("m%02d", i), fmt.Sprintf("body %d", i)))
	}
	sameHistory(t, "rb", 40, a, b)
	b.Close()
	for i := 40; i < 60; i++ { // b is down
		appendOne(t, a, msg("rb", fmt.Sprintf("m%02d", i), fmt.Sprintf("body %d", i)))
	}
	b = openNode(t, nc, bdir, cluster.Config{})
	sameHistory(t, "rb", 60, a, b)
	b.Close()
	fresh := openNode(t, nc, filepath.Join(t.TempDir(), "empty"), cluster.Config{})
	defer fresh.Close()
	sameHistory(t, "rb", 60, a, fresh)
	appendOne(t, fresh, msg("rb", "from-fresh", "hi"))
	sameHistory(t, "rb", 61, a, fresh)
}

// filesHolding lists the files under dirs whose bytes contain secret.
func filesHolding(t *testing.T, secret []byte, dirs ...string) []string {
	t.Helper()
	var found []string
	for _, dir := range dirs {
		filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return nil
			}
			if b, err := os.ReadFile(path); err == nil && bytes.Contains(b, secret) {
				rel, _ := filepath.Rel(dir, path)
				found = append(found, rel)
			}
			return nil
		})
	}
	return found
}

// TestErasureInTheLog: a message is sent, edited twice and deleted, on
// different nodes. No text of it is on the NATS servers' disks in the
// clear at any time (the log holds sealed texts), the keys of all three
// texts are erased from the key bucket, every node's projection holds
// the deletion, and a node rebuilt from an empty directory holds the
// same. A message edited once keeps only its last text, also after a
// rebuild.
func TestErasureInTheLog(t *testing.T) {
	nc := natsCluster(t)
	a, b := openNode(t, nc, "", cluster.Config{}), openNode(t, nc, "", cluster.Config{})
	defer a.Close()
	defer b.Close()
	conn, err := nats.Connect(nc.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	js, _ := jetstream.New(conn)
	var keys jetstream.Stream
	var secretKeys [][]byte // the keys of the texts the deletion and the edits must erase
	keyOf := func(id string) {
		t.Helper()
		if keys == nil {
			if keys, err = js.Stream(context.Background(), "DUPLEX_ROOMS_KEYS"); err != nil {
				t.Fatal(err)
			}
		}
		sum := sha256.Sum256([]byte(id))
		m, err := keys.GetLastMsgForSubject(context.Background(), "duplex.room-keys.erase."+hex.EncodeToString(sum[:16]))
		if err != nil {
			t.Fatalf("the key of %s: %v", id, err)
		}
		secretKeys = append(secretKeys, m.Data)
	}
	m := msg("erase", "secret-1", "deletedsecret zebraquokka my password is hunter2xyz")
	target := appendOne(t, a, m).Message.Seq
	keyOf("secret-1")
	kept := appendOne(t, a, msg("erase", "kept-1", "original wombatfirst"))
	ev := func(id string, kind shared.Kind, tgt int64, body string) store.NewMessage {
		e := m
		e.MsgID, e.Kind, e.Target, e.Body = id, kind, tgt, body
		return e
	}
	// Capture each key before the next edit, on the node that did not
	// append it, so that it cannot erase it first.
	appendOne(t, b, ev("edit-1", shared.KindEdit, target, "first edit platypusone"))
	keyOf("edit-1")
	appendOne(t, a, ev("edit-2", shared.KindEdit, target, "second edit echidnatwo"))
	keyOf("edit-2")
	e := ev("edit-k", shared.KindEdit, kept.Message.Seq, "replaced numbatlast")
	e.Author = kept.Message.Author
	appendOne(t, b, e)
	secrets := []string{"zebraquokka", "hunter2xyz", "platypusone", "echidnatwo", "wombatfirst", "numbatlast"}
	for _, s := range secrets {
		if f := filesHolding(t, []byte(s), nc.StoreDirs()...); len(f) > 0 {
			t.Errorf("%q is on a NATS server's disk in the clear: %v", s, f)
		}
	}
	appendOne(t, b, ev("delete-1", shared.KindDelete, target, ""))

	// The keys of the deleted message's three texts, and of the edited
	// message's first text, are gone from the bucket.
	info, err := keys.Info(context.Background(), jetstream.WithSubjectFilter(">"))
	if err != nil {
		t.Fatal(err)
	}
	if len(info.State.Subjects) != 1 {
		t.Errorf("keys left: %v; want one, the edited message's last text's", info.State.Subjects)
	}

	// JetStream's secure delete overwrites a key in the stream's files
	// (on every replica, once each has applied it); the stream's raft
	// log keeps the append that stored it until the group compacts it.
	for i, k := range secretKeys {
		var inStream, inRaft []string
		testpoll.Until(t, fmt.Sprintf("erased key %d to leave the key stream's files", i+1), func() bool {
			inStream, inRaft = nil, nil
			for _, f := range filesHolding(t, k, nc.StoreDirs()...) {
				if strings.Contains(f, "_js_") {
					inRaft = append(inRaft, f)
				} else {
					inStream = append(inStream, f)
				}
			}
			return len(inStream) == 0
		}, func() string { return strings.Join(inStream, " ") })
		t.Logf("erased key %d: left in raft logs %v", i+1, inRaft)
	}
	check := func(n *cluster.Node, who string) {
		testpoll.Until(t, who+" to hold the deletion and the edit", func() bool {
			var dead, live shared.Message
			for _, h := range history(t, n, "erase") {
				switch h.Seq {
				case target:
					dead = h
				case kept.Message.Seq:
					live = h
				}
			}
			return dead.Deleted && dead.Body == "" && live.Body == "replaced numbatlast"
		})
	}
	check(a, "node a")
	check(b, "node b")
	fresh := openNode(t, nc, "", cluster.Config{})
	defer fresh.Close()
	check(fresh, "a node rebuilt from an empty directory")
	sameHistory(t, "erase", len(history(t, a, "erase")), a, b, fresh)
}

// TestNodesOpenTogether: three nodes start at once on a fresh NATS
// cluster, as `make serve-cluster` starts them, and all three create or
// find the stream.
func TestNodesOpenTogether(t *testing.T) {
	nats := natsCluster(t)
	nodes := make([]*cluster.Node, 3)
	errs := make([]error, 3)
	var wg sync.WaitGroup
	for i := range nodes {
		proj, err := sqlite.Open(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			nodes[i], errs[i] = cluster.Open(ctx, cluster.Config{URL: nats.URL(), Replicas: 3, Name: fmt.Sprintf("node-%d", i+1)}, proj)
			if errs[i] != nil {
				proj.Close()
			}
		}()
	}
	start := time.Now()
	wg.Wait()
	for i, n := range nodes {
		if errs[i] != nil {
			t.Errorf("node %d: %v", i+1, errs[i])
		} else {
			defer n.Close()
		}
	}
	if t.Failed() {
		t.FailNow()
	}
	t.Logf("three nodes open in %v", time.Since(start).Round(time.Millisecond))
	appendOne(t, nodes[0], msg("r", "m1", "hello"))
	testpoll.Until(t, "node 3 has the message", func() bool { return len(history(t, nodes[2], "r")) == 1 })
}
