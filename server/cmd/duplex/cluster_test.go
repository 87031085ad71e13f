package main

// Cluster tests (issue #16): three Duplex nodes on a three-server
// JetStream cluster embedded in this process, on 127.0.0.1, with real
// clients spread over the nodes. Every wait is bounded (testpoll).

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/duplex-chat/duplex/app/client"
	"github.com/duplex-chat/duplex/server"
	"github.com/duplex-chat/duplex/server/cluster/natsrun"
	"github.com/duplex-chat/duplex/shared"
	"github.com/duplex-chat/duplex/shared/testpoll"
)

// startNATS runs a three-server JetStream cluster for the test.
func startNATS(t testing.TB) *natsrun.Cluster {
	t.Helper()
	c, err := natsrun.Start(t.TempDir(), 3)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Shutdown)
	return c
}

// clusterKey is a session key the nodes of a test share.
func clusterKey() string { return hex.EncodeToString(server.NewSessionKey()) }

// startNode runs an in-process node of the cluster at nats.
func startNode(t testing.TB, nats *natsrun.Cluster, key, name string) *testApp {
	t.Helper()
	return startAppWith(t, config{sessionKey: key, limits: limitFlags{off: true},
		cluster: clusterFlags{natsURL: nats.URL(), replicas: 3, name: name}})
}

// balancer is a TCP load balancer in front of the nodes: each new
// connection goes to the next backend that accepts it, as a real one with
// health checks would; no stickiness.
type balancer struct {
	ln       net.Listener
	backends []string
	next     atomic.Int64
	mu       sync.Mutex
	conns    map[net.Conn]bool
}

func newBalancer(t testing.TB, backends ...string) *balancer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	b := &balancer{ln: ln, backends: backends, conns: map[net.Conn]bool{}}
	go b.serve()
	t.Cleanup(b.close)
	return b
}

func (b *balancer) WS() string { return "ws://" + b.ln.Addr().String() + "/ws" }

func (b *balancer) serve() {
	for {
		c, err := b.ln.Accept()
		if err != nil {
			return
		}
		go b.forward(c)
	}
}

func (b *balancer) forward(c net.Conn) {
	var up net.Conn
	for range b.backends {
		addr := b.backends[int(b.next.Add(1))%len(b.backends)]
		var err error
		if up, err = net.DialTimeout("tcp", addr, time.Second); err == nil {
			break
		}
	}
	if up == nil {
		c.Close()
		return
	}
	b.mu.Lock()
	b.conns[c], b.conns[up] = true, true
	b.mu.Unlock()
	done := make(chan struct{}, 2)
	pipe := func(dst, src net.Conn) { io.Copy(dst, src); dst.Close(); src.Close(); done <- struct{}{} }
	go pipe(up, c)
	go pipe(c, up)
	<-done
	<-done
	b.mu.Lock()
	delete(b.conns, c)
	delete(b.conns, up)
	b.mu.Unlock()
}

func (b *balancer) close() {
	b.ln.Close()
	b.mu.Lock()
	for c := range b.conns {
		c.Close()
	}
	b.mu.Unlock()
}

// TestClusterChatAcrossNodes: three clients, each on another node, send
// 40 messages each to one room at once. Every client receives all 120,
// seqs 1..120 with no gap and no double, in the same order as the others,
// and every ack names the seq the message has everywhere.
func TestClusterChatAcrossNodes(t *testing.T) {
	nats := startNATS(t)
	key := clusterKey()
	nodes := []*testApp{startNode(t, nats, key, "a"), startNode(t, nats, key, "b"), startNode(t, nats, key, "c")}
	const room, each = "across", 40
	var peers []*rcPeer
	for i, n := range nodes {
		p := rcNew(t, n.WS, fmt.Sprintf("peer%d", i), nil)
		p.join(t, room)
		peers = append(peers, p)
	}
	var wg sync.WaitGroup
	for _, p := range peers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range each {
				if _, err := p.c.Send(room, fmt.Sprintf("%s says %d", p.name, k)); err != nil {
					t.Errorf("%s: send: %v", p.name, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	total := each * len(peers)
	diag := func() string {
		s := ""
		for _, p := range peers {
			m := p.received(room)
			s += fmt.Sprintf("%s: outbox %d, received %d%s\n%s", p.name, len(p.c.Outbox()), len(m), rcSeqSummary(m), p.problems())
		}
		return s
	}
	rcWaitAllDelivered(t, peers, []string{room}, map[string]int{room: total}, diag)
	first := peers[0].received(room)
	if err := rcCheckStream(first, 1, int64(total)); err != nil {
		t.Fatal(err)
	}
	bySeq := map[string]int64{}
	for _, m := range first {
		bySeq[m.MsgID] = m.Seq
	}
	for _, p := range peers {
		if err := rcSameStream(first, p.received(room)); err != nil {
			t.Errorf("%s's stream differs from %s's: %v", p.name, peers[0].name, err)
		}
		for id, ack := range p.acked() {
			if bySeq[id] != ack.Seq {
				t.Errorf("%s: ack of %s says seq %d, delivered as %d", p.name, id, ack.Seq, bySeq[id])
			}
		}
		if s := p.problems(); s != "" {
			t.Errorf("%s", s)
		}
	}
}

// clusterProc is a node of the cluster running as a child process, so
// that a kill -9 is real.
type clusterProc struct {
	addr   string
	cmd    *exec.Cmd
	exited chan struct{}
}

// buildDuplex builds the binary once per test.
func buildDuplex(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "duplex")
	build := exec.Command(rcGoTool(t), "build", "-o", bin, "./server/cmd/duplex")
	build.Dir = rcRepoRoot(t)
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func startProc(t *testing.T, bin, addr, data, natsURL, key string, logw io.Writer) *clusterProc {
	t.Helper()
	cmd := exec.Command(bin, "-addr", addr, "-web", repoWeb(t), "-data", data, "-no-limits",
		"-nats-url", natsURL, "-nats-replicas", "3", "-session-key", key, "-node-name", addr)
	cmd.Stdout, cmd.Stderr = logw, logw
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &clusterProc{addr: addr, cmd: cmd, exited: make(chan struct{})}
	go func() { cmd.Wait(); close(p.exited) }()
	t.Cleanup(func() { p.cmd.Process.Kill(); <-p.exited })
	hc := &http.Client{Timeout: time.Second}
	testpoll.Until(t, "node "+addr+" to answer /readyz", func() bool {
		select {
		case <-p.exited:
			t.Fatalf("node %s exited", addr)
		default:
		}
		resp, err := hc.Get("http://" + addr + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	return p
}

// TestClusterNodeKill9: three nodes as child processes behind a load
// balancer, three clients sending to two rooms. One node is killed with
// SIGKILL mid-stream and one of the three NATS servers is shut down;
// later every NATS server is restarted. Clients resume on the surviving
// nodes: every acked message is stored, every client ends with the same
// gapless stream, and nothing is delivered twice. The counts are logged
// (sent, acked, received, lost, doubled).
func TestClusterNodeKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and kills a node")
	}
	bin := buildDuplex(t)
	nats := startNATS(t)
	key := clusterKey()
	tmp := t.TempDir()
	logPath := filepath.Join(tmp, "nodes.log")
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	defer func() {
		if t.Failed() {
			b, _ := os.ReadFile(logPath)
			var firsts []string // the first lines of each kind of trouble, then the tail
			seen := map[string]bool{}
			for _, line := range strings.Split(string(b), "\n") {
				if k := strings.SplitN(line, " err=", 2)[0]; len(line) > 20 && !seen[k[20:]] && (strings.Contains(line, "ERROR") || strings.Contains(line, "WARN")) {
					seen[k[20:]] = true
					firsts = append(firsts, line)
				}
			}
			if len(b) > 4000 {
				b = b[len(b)-4000:]
			}
			t.Logf("node logs, first of each kind:\n%s\ntail:\n%s", strings.Join(firsts[:min(len(firsts), 40)], "\n"), b)
		}
	}()
	var procs []*clusterProc
	var addrs []string
	for i := range 3 {
		addr := "127.0.0.1:" + rcFreePort(t)
		procs = append(procs, startProc(t, bin, addr, filepath.Join(tmp, fmt.Sprintf("node%d", i)), nats.URL(), key, logf))
		addrs = append(addrs, addr)
	}
	lb := newBalancer(t, addrs...)
	rooms := []string{"k-a", "k-b"}
	var peers []*rcPeer
	for i := range 3 {
		p := rcNew(t, lb.WS(), fmt.Sprintf("kill%d", i), nil)
		p.join(t, rooms...)
		peers = append(peers, p)
	}
	var sentMu sync.Mutex
	sent := map[string]map[string]string{rooms[0]: {}, rooms[1]: {}}
	stop := make(chan struct{})
	var senders sync.WaitGroup
	for i, p := range peers {
		senders.Add(1)
		go func() {
			defer senders.Done()
			for j := 0; j < 2000; j++ {
				select {
				case <-stop:
					return
				default:
				}
				room := rooms[(i+j)%2]
				body := fmt.Sprintf("%s #%04d", p.name, j)
				id, err := p.c.Send(room, body)
				if err != nil {
					t.Errorf("%s: send: %v", p.name, err)
					return
				}
				sentMu.Lock()
				sent[room][id] = body
				sentMu.Unlock()
				time.Sleep(3 * time.Millisecond)
			}
		}()
	}
	stopSenders := sync.OnceFunc(func() { close(stop); senders.Wait() })
	defer stopSenders()
	acked := func() int {
		n := 0
		for _, p := range peers {
			n += p.ackedCount()
		}
		return n
	}
	diag := func() string {
		s := fmt.Sprintf("acked %d\n", acked())
		for _, p := range peers {
			s += fmt.Sprintf("%s: state %s outbox %d", p.name, p.c.State(), len(p.c.Outbox()))
			for _, r := range rooms {
				m := p.received(r)
				s += fmt.Sprintf(" %s %d%s", r, len(m), rcSeqSummary(m))
			}
			s += "\n" + p.problems()
		}
		return s
	}
	more := func(n int, what string) {
		base := acked()
		testpoll.Until(t, fmt.Sprintf("%d more acks %s", n, what), func() bool { return acked() >= base+n }, diag)
	}
	more(150, "before the kill")
	if err := procs[0].cmd.Process.Kill(); err != nil { // SIGKILL
		t.Fatal(err)
	}
	<-procs[0].exited
	more(150, "after node 1 was killed")
	nats.Stop(2)
	more(150, "with one NATS server down")
	if err := nats.Restart(2); err != nil {
		t.Fatal(err)
	}
	more(100, "with the NATS server back")
	for i := range 3 { // every NATS server restarted, one after the other
		if err := nats.Restart(i); err != nil {
			t.Fatal(err)
		}
	}
	more(100, "after every NATS server restarted")
	stopSenders()

	want := map[string]int{}
	total := 0
	for _, r := range rooms {
		want[r] = len(sent[r])
		total += want[r]
	}
	rcWaitAllDelivered(t, peers, rooms, want, diag)
	received, doubled := 0, 0
	for _, r := range rooms {
		first := peers[0].received(r)
		if err := rcCheckStream(first, 1, int64(len(first))); err != nil {
			t.Errorf("room %s: %v", r, err)
		}
		for _, p := range peers {
			got := p.received(r)
			received += len(got)
			seen := map[string]int64{}
			for i, m := range got {
				if first, ok := seen[m.MsgID]; ok {
					if doubled++; doubled <= 5 {
						t.Errorf("%s: %s delivered as seq %d and again as seq %d (at %d of %d)", p.name, m.MsgID, first, m.Seq, i, len(got))
					}
				}
				seen[m.MsgID] = m.Seq
			}
			if err := rcSameStream(first, got); err != nil {
				t.Errorf("room %s: %s differs from %s: %v", r, p.name, peers[0].name, err)
			}
		}
	}
	lost, acks := 0, 0
	stored := map[string]shared.Message{}
	for _, r := range rooms {
		for _, m := range peers[0].received(r) {
			stored[r+"/"+m.MsgID] = m
		}
	}
	for _, p := range peers {
		for id, ack := range p.acked() {
			acks++
			if m, ok := stored[ack.Room+"/"+id]; !ok || m.Seq != ack.Seq {
				lost++
				t.Errorf("acked %s (seq %d in %s) is not where its ack says", id, ack.Seq, ack.Room)
			}
		}
		if s := p.problems(); s != "" {
			t.Errorf("%s", s)
		}
	}
	if doubled > 0 || acks != total {
		t.Errorf("doubled %d, acked %d of %d sent", doubled, acks, total)
	}
	if b, _ := os.ReadFile(logPath); bytes.Contains(b, []byte("diverged")) {
		t.Errorf("a node's projection diverged from the log (see the node logs)")
	}
	t.Logf("node kill -9, one NATS server lost, every NATS server restarted: sent %d, acked %d, received %d (3 clients), lost %d, doubled %d",
		total, acks, received, lost, doubled)
}

// TestClusterPresenceTypingPushes: alice on node A, bob on node B, carol
// on node C (a child process). Each sees the three as members; bob's
// typing reaches alice; bob's second session, on A, hears bob's new
// nickname, his read marker and his removal from a private room, all
// made on B; when C is killed with SIGKILL, carol leaves alice's list
// within 10 s (no ghost); bob signing out everywhere on A closes his
// session on B.
func TestClusterPresenceTypingPushes(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and kills a node")
	}
	bin := buildDuplex(t)
	nats := startNATS(t)
	key := clusterKey()
	a, b := startNode(t, nats, key, "a"), startNode(t, nats, key, "b")
	cAddr := "127.0.0.1:" + rcFreePort(t)
	c := startProc(t, bin, cAddr, t.TempDir(), nats.URL(), key, io.Discard)
	const room = "pres"
	alice, bob, carol := rcNew(t, a.WS, "alice", nil), rcNew(t, b.WS, "bob", nil), rcNew(t, "ws://"+cAddr+"/ws", "carol", nil)
	for _, p := range []*rcPeer{alice, bob, carol} {
		p.join(t, room)
	}
	for _, p := range []*rcPeer{alice, bob, carol} {
		testpoll.Until(t, p.name+" to see the three members", func() bool { return nicks(p.c.Members(room)) == "alice,bob,carol" },
			func() string { return nicks(p.c.Members(room)) })
	}

	bob.c.Typing(room)
	testpoll.Until(t, "alice to see bob typing", func() bool {
		ts := alice.c.Typists(room)
		return len(ts) == 1 && ts[0].Nick == "bob"
	})

	bob2 := rcNewAs(t, a.WS, "bob", bob)
	bob2.join(t, room)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := bob.c.SetNick(ctx, "bobby"); err != nil {
		t.Fatal(err)
	}
	testpoll.Until(t, "bob's session on A to take the nickname set on B", func() bool { return bob2.c.Nick() == "bobby" })

	ack, err := alice.c.SendWait(ctx, room, "read me")
	if err != nil {
		t.Fatal(err)
	}
	testpoll.Until(t, "bob's two sessions to have alice's message", func() bool {
		return bob.count(room) > 0 && bob2.count(room) > 0
	})
	bob.c.MarkRead(room, ack.Seq)
	testpoll.Until(t, "bob's session on A to hear the marker moved on B", func() bool { return bob2.c.ReadState(room).Seq == ack.Seq },
		func() string { return fmt.Sprintf("%+v", bob2.c.ReadState(room)) })

	if _, err := alice.c.CreateRoom(ctx, "hideout", shared.RoomPrivate); err != nil {
		t.Fatal(err)
	}
	if err := alice.c.Invite(ctx, "hideout", bob.c.User()); err != nil {
		t.Fatal(err)
	}
	bob.join(t, "hideout")
	bob2.join(t, "hideout")
	if err := carol.c.Remove(ctx, "hideout", bob.c.User()); err == nil {
		t.Fatal("carol (not the owner) removed bob")
	}
	if err := alice.c.Remove(ctx, "hideout", bob.c.User()); err != nil {
		t.Fatal(err)
	}
	for _, p := range []*rcPeer{bob, bob2} {
		testpoll.Until(t, p.name+" on "+p.c.Token()[:4]+"… to be told of the removal", func() bool {
			p.mu.Lock()
			defer p.mu.Unlock()
			return slices.Contains(p.removed, "hideout")
		})
	}

	if err := c.cmd.Process.Kill(); err != nil { // SIGKILL
		t.Fatal(err)
	}
	killed := time.Now()
	if err := testpoll.Wait(10*time.Second, "carol to leave alice's member list after her node died",
		func() bool { return nicks(alice.c.Members(room)) == "alice,bobby" }, func() string { return nicks(alice.c.Members(room)) }); err != nil {
		t.Fatal(err)
	}
	t.Logf("a dead node's member left the other nodes' lists %v after the kill", time.Since(killed).Round(100*time.Millisecond))

	if err := bob2.c.SignOutEverywhere(); err != nil {
		t.Fatal(err)
	}
	testpoll.Until(t, "bob's session on B to be signed out", func() bool { return bob.c.State() == client.StateOffline },
		func() string { return string(bob.c.State()) })
}

// TestClusterUsersAnywhere: what belongs to a user rather than a room is
// the same on every node. Alice is on node A, bob on node B: alice opens
// a DM with bob (whom A has never seen); bob's mention of alice is unread
// and a mention for alice on A and on B; once alice reads it on A, a
// session of hers on C finds nothing unread, and finds the message by
// search; after she signs out everywhere on B, her credential opens no
// session on C.
func TestClusterUsersAnywhere(t *testing.T) {
	nats := startNATS(t)
	key := clusterKey()
	a, b, c := startNode(t, nats, key, "a"), startNode(t, nats, key, "b"), startNode(t, nats, key, "c")
	const room = "users"
	alice, bob := rcNew(t, a.WS, "alice", nil), rcNew(t, b.WS, "bob", nil)
	alice.join(t, room)
	bob.join(t, room)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	dm, err := alice.c.DirectMessage(ctx, bob.c.User())
	if err != nil {
		t.Fatalf("alice on A opens a DM with bob, seen only on B: %v", err)
	}
	if dm.Peer == nil || dm.Peer.Nick != "bob" {
		t.Errorf("the DM's peer: %+v, want bob", dm.Peer)
	}
	ack, err := bob.c.SendWait(ctx, room, "@alice hello from B")
	if err != nil {
		t.Fatal(err)
	}
	want := client.ReadChanged{Room: room, Seq: 0, Unread: 1, Mentioned: 1}
	for _, p := range []*rcPeer{alice, rcNewAs(t, b.WS, "alice", alice)} {
		p.join(t, room)
		testpoll.Until(t, p.name+" to count bob's mention as unread", func() bool {
			st := p.c.ReadState(room)
			return st.Unread == want.Unread && st.Mentioned == want.Mentioned
		}, func() string { return fmt.Sprintf("%+v", p.c.ReadState(room)) })
	}
	alice.c.MarkRead(room, ack.Seq)
	testpoll.Until(t, "alice's marker to be acked on A", func() bool { return alice.c.ReadState(room).Seq == ack.Seq })
	alice3 := rcNewAs(t, c.WS, "alice", alice)
	alice3.join(t, room)
	testpoll.Until(t, "alice on C to find nothing unread", func() bool {
		st := alice3.c.ReadState(room)
		return st.Seq == ack.Seq && st.Unread == 0 && st.Mentioned == 0
	}, func() string { return fmt.Sprintf("%+v", alice3.c.ReadState(room)) })
	found, err := alice3.c.Search(ctx, "hello", room, 0, 10)
	if err != nil || len(found.Results) != 1 || found.Results[0].Seq != ack.Seq {
		t.Fatalf("alice on C searches bob's message: %+v, %v", found, err)
	}

	token, user := alice.c.Token(), alice.c.User()
	alice2 := rcNewAs(t, b.WS, "alice", alice)
	testpoll.Until(t, "alice's session on B to be online", func() bool { return alice2.c.State() == client.StateOnline })
	if err := alice2.c.SignOutEverywhere(); err != nil {
		t.Fatal(err)
	}
	testpoll.Until(t, "alice's session on C to be closed", func() bool { return alice3.c.State() == client.StateOffline })
	late := rcNewWith(t, c.WS, "late", &client.Options{Token: token}, nil)
	testpoll.Until(t, "the signed-out credential to be refused on C", func() bool {
		return strings.Contains(late.problems(), string(shared.CodeSignedOut))
	}, func() string { return string(late.c.State()) + "\n" + late.problems() })
	if late.c.State() == client.StateOnline && late.c.User() == user {
		t.Fatalf("alice's signed-out credential opened a session on C as %s", user)
	}
}

// TestClusterNATSDown: with every NATS server down, a node's /readyz
// fails and its metrics say NATS is gone; a client's sends are not acked
// (they stay in its outbox, nothing is refused for good); when NATS comes
// back the node recovers by itself and every send is acked and delivered
// once.
func TestClusterNATSDown(t *testing.T) {
	nats := startNATS(t)
	key := clusterKey()
	a, b := startNode(t, nats, key, "a"), startNode(t, nats, key, "b")
	const room = "down"
	alice, bob := rcNew(t, a.WS, "alice", nil), rcNew(t, b.WS, "bob", nil)
	alice.join(t, room)
	bob.join(t, room)
	hc := &http.Client{Timeout: 5 * time.Second}
	status := func(url string) int {
		resp, err := hc.Get(url)
		if err != nil {
			return 0
		}
		defer resp.Body.Close()
		return resp.StatusCode
	}
	metric := func(name string) string {
		resp, err := hc.Get(a.URL + "/metrics")
		if err != nil {
			return err.Error()
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		for _, line := range strings.Split(string(body), "\n") {
			if strings.HasPrefix(line, name+" ") {
				return strings.TrimPrefix(line, name+" ")
			}
		}
		return "absent"
	}
	if got := metric("duplex_cluster_nats_connected"); got != "1" {
		t.Fatalf("duplex_cluster_nats_connected = %s with NATS up", got)
	}
	for i := range 3 {
		nats.Stop(i)
	}
	testpoll.Until(t, "/readyz to fail with NATS down", func() bool { return status(a.URL+"/readyz") == http.StatusServiceUnavailable })
	if got := metric("duplex_cluster_nats_connected"); got != "0" {
		t.Errorf("duplex_cluster_nats_connected = %s with NATS down", got)
	}
	const n = 20
	for k := range n {
		if _, err := alice.c.Send(room, fmt.Sprintf("while NATS is down %d", k)); err != nil {
			t.Fatal(err)
		}
	}
	// The node tries and fails (its store errors count them): nothing
	// may be acked meanwhile.
	testpoll.Until(t, "the node to refuse appends while NATS is down", func() bool {
		v, err := strconv.Atoi(metric("duplex_store_errors_total"))
		return err == nil && v >= 1
	}, func() string { return metric("duplex_store_errors_total") })
	if acked := alice.ackedCount(); acked != 0 {
		t.Fatalf("%d sends acked while NATS was down", acked)
	}
	if s := alice.problems(); s != "" {
		t.Fatalf("sends refused for good while NATS was down:\n%s", s)
	}
	for i := range 3 {
		if err := nats.Restart(i); err != nil {
			t.Fatal(err)
		}
	}
	testpoll.Until(t, "/readyz to answer again", func() bool { return status(a.URL+"/readyz") == http.StatusOK })
	diag := func() string {
		return fmt.Sprintf("alice acked %d outbox %d, bob received %d%s", alice.ackedCount(), len(alice.c.Outbox()), bob.count(room), rcSeqSummary(bob.received(room)))
	}
	rcWaitAllDelivered(t, []*rcPeer{alice, bob}, []string{room}, map[string]int{room: n}, diag)
	if err := rcCheckStream(bob.received(room), 1, n); err != nil {
		t.Fatal(err)
	}
}

// TestClusterResumeOnAnyNode: a client reads a room on node A and goes
// away; meanwhile, on node B, more messages come, one is edited and one
// deleted. The client comes back on node C with its stored cursor and
// gets exactly the gap, edits and deletions included: no message twice,
// none missing, each in its latest state.
func TestClusterResumeOnAnyNode(t *testing.T) {
	nats := startNATS(t)
	key := clusterKey()
	a, b, c := startNode(t, nats, key, "a"), startNode(t, nats, key, "b"), startNode(t, nats, key, "c")
	const room = "resume"
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	bob := rcNew(t, b.WS, "bob", nil)
	bob.join(t, room)
	var seqs []int64
	send := func(body string) {
		ack, err := bob.c.SendWait(ctx, room, body)
		if err != nil {
			t.Fatal(err)
		}
		seqs = append(seqs, ack.Seq)
	}
	for k := range 5 {
		send(fmt.Sprintf("before %d", k))
	}
	st := &client.Memory{} // the reader's browser storage: its cursor survives
	reader := rcNew(t, a.WS, "reader", st)
	reader.join(t, room)
	testpoll.Until(t, "the reader to have the first five", func() bool { return reader.count(room) == 5 })
	reader.close()
	for k := range 5 {
		send(fmt.Sprintf("after %d", k))
	}
	if _, err := bob.c.Edit(ctx, room, seqs[1], "before 1, edited on B"); err != nil {
		t.Fatal(err)
	}
	if _, err := bob.c.Delete(ctx, room, seqs[7]); err != nil {
		t.Fatal(err)
	}
	back := rcNew(t, c.WS, "reader", st)
	back.join(t, room)
	testpoll.Until(t, "the reader, back on C, to have the gap", func() bool {
		msgs := back.c.Messages(room)
		return len(msgs) == 10 && msgs[1].Body == "before 1, edited on B" && msgs[7].Deleted
	}, func() string { return fmt.Sprintf("%+v", back.c.Messages(room)) })
	got := back.received(room)
	seen := map[int64]bool{}
	for _, m := range got {
		if seen[m.Seq] {
			t.Errorf("seq %d received twice on resume", m.Seq)
		}
		seen[m.Seq] = true
		if m.Seq <= seqs[4] && m.Kind == shared.KindMessage {
			t.Errorf("seq %d, read on A before leaving, received again on C", m.Seq)
		}
	}
	if s := back.problems(); s != "" {
		t.Error(s)
	}
}
