package main

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"
)

// TestChaosRandomDisconnects runs N real clients through a proxy that cuts
// random connections every 100-300ms while they send into three rooms with
// Send (outbox, resend with the same msg_id). After the chaos every client
// must hold, per room, the same stream: seqs 1..head, no gap, no duplicate,
// exactly the bodies sent; the store holds each msg_id once.
func TestChaosRandomDisconnects(t *testing.T) {
	const (
		nClients = 6
		perCli   = 60
		chaosMax = 6 * time.Second
	)
	rooms := []string{"chaos-a", "chaos-b", "chaos-c"}
	ta := startApp(t, "", "")
	px := rcNewProxy(t, ta.Addr)

	peers := make([]*rcPeer, nClients)
	for i := range peers {
		peers[i] = rcNew(t, px.WS(), fmt.Sprintf("chaos%d", i), nil)
	}
	for _, p := range peers {
		p.join(t, rooms...)
	}

	// sent[room][msg_id] = body
	var sentMu sync.Mutex
	sent := map[string]map[string]string{}
	order := map[string][]string{} // per sender, msg_ids in Send order
	for _, r := range rooms {
		sent[r] = map[string]string{}
	}

	start := time.Now()
	var senders sync.WaitGroup
	for _, p := range peers {
		senders.Add(1)
		go func() {
			defer senders.Done()
			for j := 0; j < perCli; j++ {
				room := rooms[rand.IntN(len(rooms))]
				body := fmt.Sprintf("%s #%03d", p.name, j)
				id, err := p.c.Send(room, body)
				if err != nil {
					t.Errorf("%s: send: %v", p.name, err)
					return
				}
				sentMu.Lock()
				sent[room][id] = body
				order[p.name] = append(order[p.name], id)
				sentMu.Unlock()
				time.Sleep(time.Duration(15+rand.IntN(30)) * time.Millisecond)
			}
		}()
	}
	sendersDone := make(chan struct{})
	go func() { senders.Wait(); close(sendersDone) }()

	// Chaos: cut all or a random part of the live connections every
	// 100-300ms until the senders are done (at least 2s, at most chaosMax).
	rounds, cutAll := 0, 0
	minChaos := time.Now().Add(3 * time.Second)
	deadline := time.Now().Add(chaosMax)
chaos:
	for time.Now().Before(deadline) {
		select {
		case <-sendersDone:
			if time.Now().After(minChaos) {
				break chaos
			}
		default:
		}
		time.Sleep(time.Duration(100+rand.IntN(200)) * time.Millisecond)
		frac := 0.5
		if rand.IntN(4) == 0 {
			frac, cutAll = 1, cutAll+1
		}
		px.cut(frac)
		rounds++
	}
	chaosTime := time.Since(start)
	select {
	case <-sendersDone:
	case <-time.After(30 * time.Second):
		t.Fatal("senders did not finish")
	}

	want := map[string]int{}
	total := 0
	for _, r := range rooms {
		want[r] = len(sent[r])
		total += len(sent[r])
	}
	if total != nClients*perCli {
		t.Fatalf("sent %d messages, want %d", total, nClients*perCli)
	}
	diag := func() string {
		s := ""
		for _, p := range peers {
			s += fmt.Sprintf("%s: state %s outbox %d online %d", p.name, p.c.State(), len(p.c.Outbox()), p.onlineCount())
			for _, r := range rooms {
				msgs := p.received(r)
				s += fmt.Sprintf(" %s %d/%d%s", r, len(msgs), want[r], rcSeqSummary(msgs))
			}
			s += "\n" + p.problems()
		}
		return s
	}
	rcWaitAllDelivered(t, peers, rooms, want, diag)
	settle := time.Since(start)

	// Every client holds the same stream per room: 1..head exactly.
	for _, r := range rooms {
		ref := peers[0].received(r)
		if err := rcCheckStream(ref, 1, int64(want[r])); err != nil {
			t.Errorf("%s room %s: %v", peers[0].name, r, err)
		}
		for _, p := range peers[1:] {
			if err := rcSameStream(ref, p.received(r)); err != nil {
				t.Errorf("room %s: %s and %s differ: %v", r, peers[0].name, p.name, err)
			}
		}
		got := map[string]string{}
		for _, m := range ref {
			if _, dup := got[m.MsgID]; dup {
				t.Errorf("room %s: msg_id %s delivered twice", r, m.MsgID)
			}
			got[m.MsgID] = m.Body
		}
		for id, body := range sent[r] {
			if got[id] != body {
				t.Errorf("room %s: sent %s %q, received %q", r, id, body, got[id])
			}
		}
		if len(got) != len(sent[r]) {
			t.Errorf("room %s: received %d distinct messages, sent %d", r, len(got), len(sent[r]))
		}
		// The store: each msg_id exactly once, 1..head.
		stored := rcCheckStore(t, ta.app.store, r, sent[r])
		if err := rcSameStream(ref, stored); err != nil {
			t.Errorf("room %s: delivered stream and store differ: %v", r, err)
		}
	}
	acks := 0
	for _, p := range peers {
		if s := p.problems(); s != "" {
			t.Errorf("unexpected failures:\n%s", s)
		}
		a := p.acked()
		acks += len(a)
		seqOf := map[string]int64{}
		for _, r := range rooms {
			for _, m := range p.received(r) {
				seqOf[m.Room+"/"+m.MsgID] = m.Seq
			}
		}
		for id, ack := range a {
			if seqOf[ack.Room+"/"+id] != ack.Seq {
				t.Errorf("%s: ack for %s says seq %d, stream has %d", p.name, id, ack.Seq, seqOf[ack.Room+"/"+id])
			}
		}
	}
	if acks != total {
		t.Errorf("%d distinct acks, want %d", acks, total)
	}
	// Each sender's messages keep its Send order within a room: the outbox
	// is FIFO and resent in order on one connection after every reconnect.
	inversions := 0
	pos := map[string]int64{}
	for _, r := range rooms {
		for _, m := range peers[0].received(r) {
			pos[m.MsgID] = m.Seq
		}
	}
	for _, ids := range order {
		last := map[string]int64{}
		for _, id := range ids {
			var room string
			for _, r := range rooms {
				if _, ok := sent[r][id]; ok {
					room = r
				}
			}
			if pos[id] < last[room] {
				inversions++
			}
			last[room] = max(last[room], pos[id])
		}
	}
	if inversions > 0 {
		t.Errorf("%d messages were stored before an earlier Send of the same sender and room", inversions)
	}
	cuts, conns := px.stats()
	reconnects := 0
	for _, p := range peers {
		reconnects += p.onlineCount() - 1
	}
	t.Logf("chaos: %d clients x %d messages = %d over %d rooms (%v); %d cut rounds (%d cut all), %d connections cut, %d proxied, %d reconnects; chaos %v, all delivered after %v",
		nClients, perCli, total, len(rooms), want, rounds, cutAll, cuts, conns, reconnects, chaosTime.Round(time.Millisecond), settle.Round(time.Millisecond))
}
