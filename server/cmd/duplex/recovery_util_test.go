package main

// Helpers shared by the recovery tests (chaos_test.go, kill_test.go,
// resume_test.go): an event recorder around a real client, a TCP proxy that
// can cut connections, bounded polling, and checks of received streams and
// of the store. Names start with rc to stay clear of other test files.

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/duplex-chat/duplex/app/client"
	"github.com/duplex-chat/duplex/server/store"
	"github.com/duplex-chat/duplex/shared"
	"github.com/duplex-chat/duplex/shared/testpoll"
)

// rcRepoRoot is the module root (where go.mod lives).
func rcRepoRoot(t testing.TB) string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "..")
}

// rcPeer is a real client whose events are drained and recorded.
type rcPeer struct {
	name string
	c    *client.Client

	mu       sync.Mutex
	recv     map[string][]shared.Message // per room, in event order
	acks     map[string]shared.SendAck   // by msg_id
	ackCount int                         // MessageAcked events, duplicates included
	failed   []client.MessageFailed
	errs     []error
	online   int      // StateChanged to online
	removed  []string // RoomRemoved
	done     chan struct{}
}

// rcNew creates a client (without waiting for it to connect) and records
// its events until it is closed. t.Cleanup closes it.
func rcNew(t testing.TB, url, name string, st client.Storage) *rcPeer {
	t.Helper()
	return rcNewGated(t, url, name, st, nil)
}

// rcNewGated is rcNew whose event reader starts only when gate is closed
// (nil: at once), to play an app that does not keep up.
func rcNewGated(t testing.TB, url, name string, st client.Storage, gate chan struct{}) *rcPeer {
	t.Helper()
	return rcNewWith(t, url, name, &client.Options{Storage: st}, gate)
}

func rcNewWith(t testing.TB, url, name string, o *client.Options, gate chan struct{}) *rcPeer {
	t.Helper()
	o.Nick, o.MinBackoff, o.MaxBackoff, o.DialTimeout = name, 20*time.Millisecond, 250*time.Millisecond, 5*time.Second
	c, err := client.New(url, o)
	if err != nil {
		t.Fatal(err)
	}
	p := &rcPeer{name: name, c: c, recv: map[string][]shared.Message{}, acks: map[string]shared.SendAck{}, done: make(chan struct{})}
	go func() {
		if gate != nil {
			<-gate
		}
		p.drain()
	}()
	t.Cleanup(func() {
		if gate != nil {
			select {
			case <-gate:
			default:
				close(gate)
			}
		}
		p.close()
	})
	return p
}

func (p *rcPeer) drain() {
	defer close(p.done)
	for ev := range p.c.Events() {
		p.mu.Lock()
		switch e := ev.(type) {
		case client.MessageReceived:
			p.recv[e.Message.Room] = append(p.recv[e.Message.Room], e.Message)
		case client.MessageAcked:
			p.acks[e.Ack.MsgID] = e.Ack
			p.ackCount++
		case client.MessageFailed:
			p.failed = append(p.failed, e)
		case client.ErrorReceived:
			p.errs = append(p.errs, e.Err)
		case client.StateChanged:
			if e.State == client.StateOnline {
				p.online++
			}
		case client.RoomRemoved:
			p.removed = append(p.removed, e.Room)
		}
		p.mu.Unlock()
	}
}

// close closes the client and waits until its events are drained.
func (p *rcPeer) close() {
	p.c.Close()
	<-p.done
}

func (p *rcPeer) join(t testing.TB, rooms ...string) {
	t.Helper()
	for _, r := range rooms {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		err := p.c.Join(ctx, r)
		cancel()
		if err != nil {
			t.Fatalf("%s: join %s: %v", p.name, r, err)
		}
	}
}

func (p *rcPeer) received(room string) []shared.Message {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]shared.Message(nil), p.recv[room]...)
}

func (p *rcPeer) count(room string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.recv[room])
}

func (p *rcPeer) acked() map[string]shared.SendAck {
	p.mu.Lock()
	defer p.mu.Unlock()
	m := make(map[string]shared.SendAck, len(p.acks))
	for k, v := range p.acks {
		m[k] = v
	}
	return m
}

func (p *rcPeer) ackedCount() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.acks)
}

func (p *rcPeer) problems() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var b strings.Builder
	for _, f := range p.failed {
		fmt.Fprintf(&b, "%s: send %s failed: %v\n", p.name, f.Pending.MsgID, f.Err)
	}
	for _, e := range p.errs {
		fmt.Fprintf(&b, "%s: error frame: %v\n", p.name, e)
	}
	return b.String()
}

func (p *rcPeer) onlineCount() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.online
}

// rcCheckStream checks that msgs are exactly seqs from..to in order.
// rcWaitAllDelivered waits until every peer's outbox is empty and every
// peer holds want[room] messages of each room.
func rcWaitAllDelivered(t testing.TB, peers []*rcPeer, rooms []string, want map[string]int, diag func() string) {
	t.Helper()
	testpoll.Until(t, "outboxes to drain and every client to receive every message", func() bool {
		for _, p := range peers {
			if len(p.c.Outbox()) > 0 {
				return false
			}
			for _, r := range rooms {
				if p.count(r) < want[r] {
					return false
				}
			}
		}
		return true
	}, diag)
}

// rcWaitReaches waits until p has received room up to seq head.
func rcWaitReaches(t testing.TB, p *rcPeer, room string, head int64) {
	t.Helper()
	testpoll.Until(t, "the resumed reader to reach the head", func() bool { return rcLastSeq(p.received(room)) >= head },
		func() string {
			m := p.received(room)
			return fmt.Sprintf("head %d, received %d%s", head, len(m), rcSeqSummary(m))
		})
}

func rcCheckStream(msgs []shared.Message, from, to int64) error {
	if int64(len(msgs)) != to-from+1 {
		return fmt.Errorf("got %d messages, want %d (seq %d..%d)%s", len(msgs), to-from+1, from, to, rcSeqSummary(msgs))
	}
	for i, m := range msgs {
		if want := from + int64(i); m.Seq != want {
			return fmt.Errorf("message %d has seq %d, want %d%s", i, m.Seq, want, rcSeqSummary(msgs))
		}
	}
	return nil
}

// rcSeqSummary describes gaps, duplicates and inversions in msgs.
func rcSeqSummary(msgs []shared.Message) string {
	var b strings.Builder
	seen := map[int64]int{}
	for i, m := range msgs {
		seen[m.Seq]++
		if i > 0 && m.Seq != msgs[i-1].Seq+1 {
			fmt.Fprintf(&b, "\n  at %d: seq %d follows %d", i, m.Seq, msgs[i-1].Seq)
			if b.Len() > 2000 {
				b.WriteString("\n  ...")
				break
			}
		}
	}
	for s, n := range seen {
		if n > 1 {
			fmt.Fprintf(&b, "\n  seq %d delivered %d times", s, n)
		}
	}
	return b.String()
}

// rcStoreAll reads every message of room from st, oldest first, by paging.
func rcStoreAll(t testing.TB, st store.Store, room string) []shared.Message {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var all []shared.Message
	var after int64
	for i := 0; i < 100000; i++ {
		page, err := st.After(ctx, room, after, 500)
		if err != nil {
			t.Fatalf("store after %d: %v", after, err)
		}
		if len(page) == 0 {
			return all
		}
		all = append(all, page...)
		after = page[len(page)-1].Seq
	}
	t.Fatal("store paging did not end")
	return nil
}

// rcCheckStore checks that room in st holds seqs 1..head without gap, each
// msg_id once, and exactly the messages of want (msg_id -> body).
func rcCheckStore(t testing.TB, st store.Store, room string, want map[string]string) []shared.Message {
	t.Helper()
	msgs := rcStoreAll(t, st, room)
	if err := rcCheckStream(msgs, 1, int64(len(msgs))); err != nil {
		t.Errorf("store room %s: %v", room, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if head, err := st.Head(ctx, room); err != nil || head != int64(len(msgs)) {
		t.Errorf("store room %s: head %d (err %v), holds %d messages", room, head, err, len(msgs))
	}
	ids := map[string]int{}
	for _, m := range msgs {
		ids[m.MsgID]++
		if n := ids[m.MsgID]; n == 2 {
			t.Errorf("store room %s: msg_id %s stored twice", room, m.MsgID)
		}
		if body, ok := want[m.MsgID]; !ok {
			t.Errorf("store room %s: unexpected msg_id %s (%q) at seq %d", room, m.MsgID, m.Body, m.Seq)
		} else if body != m.Body {
			t.Errorf("store room %s: msg_id %s body %q, want %q", room, m.MsgID, m.Body, body)
		}
	}
	missing := 0
	for id, body := range want {
		if ids[id] == 0 {
			if missing++; missing <= 10 {
				t.Errorf("store room %s: sent message %s (%q) is missing", room, id, body)
			}
		}
	}
	if missing > 10 {
		t.Errorf("store room %s: %d sent messages missing in all", room, missing)
	}
	return msgs
}

// rcSameStream reports the first difference between two message streams.
func rcSameStream(a, b []shared.Message) error {
	if len(a) != len(b) {
		return fmt.Errorf("lengths differ: %d and %d", len(a), len(b))
	}
	for i := range a {
		if a[i].Seq != b[i].Seq || a[i].MsgID != b[i].MsgID || a[i].Body != b[i].Body {
			return fmt.Errorf("at %d: seq %d %s %q vs seq %d %s %q", i, a[i].Seq, a[i].MsgID, a[i].Body, b[i].Seq, b[i].MsgID, b[i].Body)
		}
	}
	return nil
}

// rcProxy is a TCP proxy on 127.0.0.1 that can cut its live connections
// and refuse new ones, to simulate flaky networks.
type rcProxy struct {
	ln     net.Listener
	target string

	mu     sync.Mutex
	links  map[*rcLink]struct{}
	paused bool
	cuts   int // connections cut
	total  int // connections accepted
	wg     sync.WaitGroup
}

type rcLink struct{ a, b net.Conn }

func (l *rcLink) close() { l.a.Close(); l.b.Close() }

func rcNewProxy(t testing.TB, target string) *rcProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &rcProxy{ln: ln, target: target, links: map[*rcLink]struct{}{}}
	p.wg.Add(1)
	go p.serve()
	t.Cleanup(p.close)
	return p
}

// WS is the WebSocket URL through the proxy.
func (p *rcProxy) WS() string { return "ws://" + p.ln.Addr().String() + "/ws" }

func (p *rcProxy) serve() {
	defer p.wg.Done()
	for {
		a, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		paused := p.paused
		p.mu.Unlock()
		if paused {
			a.Close()
			continue
		}
		b, err := net.DialTimeout("tcp", p.target, 5*time.Second)
		if err != nil {
			a.Close()
			continue
		}
		l := &rcLink{a, b}
		p.mu.Lock()
		p.links[l] = struct{}{}
		p.total++
		p.mu.Unlock()
		p.wg.Add(2)
		pipe := func(dst, src net.Conn) {
			defer p.wg.Done()
			io.Copy(dst, src)
			l.close()
			p.mu.Lock()
			delete(p.links, l)
			p.mu.Unlock()
		}
		go pipe(a, b)
		go pipe(b, a)
	}
}

// cut closes each live connection with probability frac (1: all) and
// returns how many it closed.
func (p *rcProxy) cut(frac float64) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for l := range p.links {
		if frac >= 1 || rand.Float64() < frac {
			l.close()
			delete(p.links, l)
			n++
		}
	}
	p.cuts += n
	return n
}

// pause makes the proxy refuse (accept and close) new connections.
func (p *rcProxy) pause(on bool) {
	p.mu.Lock()
	p.paused = on
	p.mu.Unlock()
}

func (p *rcProxy) live() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.links)
}

func (p *rcProxy) stats() (cuts, total int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cuts, p.total
}

func (p *rcProxy) close() {
	p.ln.Close()
	p.cut(1)
	p.wg.Wait()
}

// rcSortedRooms returns the keys of m in order.
func rcSortedRooms[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
