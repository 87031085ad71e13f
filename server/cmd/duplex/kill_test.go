package main

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/duplex-chat/duplex/server/store/sqlite"
	"github.com/duplex-chat/duplex/shared"
	"github.com/duplex-chat/duplex/shared/testpoll"
)

// rcGoTool returns the go command that runs this test.
func rcGoTool(t testing.TB) string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	p := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(p); err != nil {
		t.Skip("no go command found to build the binary")
	}
	return p
}

// rcFreePort returns a port on 127.0.0.1 that was free a moment ago.
func rcFreePort(t testing.TB) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
}

// rcProc is the real duplex binary running as a subprocess.
type rcProc struct {
	cmd    *exec.Cmd
	exited chan struct{}
}

// TestKill9Recovery runs the real binary, kills it with SIGKILL three times
// while real clients keep sending, and restarts it on the same port and
// data directory. Every acknowledged message must survive, and every sent
// message (acked, or in an outbox at kill time) must end up stored exactly
// once, with seqs 1..head and identical streams for every client.
func TestKill9Recovery(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills the real binary")
	}
	const (
		kills    = 3
		nClients = 3
		maxSends = 3000 // per client, bounds the load loop
	)
	rooms := []string{"kill-a", "kill-b"}
	tmp := t.TempDir()
	bin := filepath.Join(tmp, "duplex")
	build := exec.Command(rcGoTool(t), "build", "-o", bin, "./server/cmd/duplex")
	build.Dir = rcRepoRoot(t)
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	data := filepath.Join(tmp, "data")
	port := rcFreePort(t)
	addr := "127.0.0.1:" + port
	logPath := filepath.Join(tmp, "server.log")
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	dumpLog := func() {
		if t.Failed() {
			b, _ := os.ReadFile(logPath)
			if len(b) > 8000 {
				b = b[len(b)-8000:]
			}
			t.Logf("server log (tail):\n%s", b)
		}
	}
	defer dumpLog()

	var cur *rcProc
	start := func() {
		t.Helper()
		for attempt := 0; attempt < 3; attempt++ {
			cmd := exec.Command(bin, "-addr", addr, "-web", repoWeb(t), "-no-limits") // writers flood on purpose
			cmd.Env = append(os.Environ(), "PORT="+port, "DATA_DIR="+data)
			cmd.Stdout, cmd.Stderr = logf, logf
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			p := &rcProc{cmd: cmd, exited: make(chan struct{})}
			go func() { cmd.Wait(); close(p.exited) }()
			hc := &http.Client{Timeout: time.Second}
			_ = testpoll.Wait(testpoll.Timeout, "the duplex binary to answer /healthz", func() bool {
				select {
				case <-p.exited:
					return true // died (port not yet free?): retry
				default:
				}
				if resp, err := hc.Get("http://" + addr + "/healthz"); err == nil {
					resp.Body.Close()
					if resp.StatusCode == http.StatusOK {
						cur = p
						return true
					}
				}
				return false
			})
			if cur == p {
				return
			}
			cmd.Process.Kill()
			<-p.exited
		}
		t.Fatal("the duplex binary did not become healthy")
	}
	kill := func() {
		t.Helper()
		if cur == nil {
			return
		}
		if err := cur.cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		select {
		case <-cur.exited:
		case <-time.After(30 * time.Second):
			t.Fatal("killed server did not exit")
		}
		cur = nil
	}
	t.Cleanup(kill)
	begin := time.Now()
	start()

	ws := "ws://" + addr + "/ws"
	peers := make([]*rcPeer, nClients)
	for i := range peers {
		peers[i] = rcNew(t, ws, fmt.Sprintf("kill%d", i), nil)
		peers[i].join(t, rooms...)
	}

	var sentMu sync.Mutex
	sent := map[string]map[string]string{}
	for _, r := range rooms {
		sent[r] = map[string]string{}
	}
	stop := make(chan struct{})
	var senders sync.WaitGroup
	for i, p := range peers {
		senders.Add(1)
		go func() {
			defer senders.Done()
			for j := 0; j < maxSends; j++ {
				select {
				case <-stop:
					return
				default:
				}
				room := rooms[(i+j)%len(rooms)]
				body := fmt.Sprintf("%s #%04d", p.name, j)
				id, err := p.c.Send(room, body)
				if err != nil {
					t.Errorf("%s: send: %v", p.name, err)
					return
				}
				sentMu.Lock()
				sent[room][id] = body
				sentMu.Unlock()
				time.Sleep(time.Millisecond)
			}
		}()
	}
	stopSenders := func() {
		select {
		case <-stop:
		default:
			close(stop)
		}
		senders.Wait()
	}
	defer stopSenders()

	acked := func() int {
		n := 0
		for _, p := range peers {
			n += p.ackedCount()
		}
		return n
	}
	outboxed := func() int {
		n := 0
		for _, p := range peers {
			n += len(p.c.Outbox())
		}
		return n
	}
	diag := func() string {
		s := fmt.Sprintf("acked %d, outboxes %d\n", acked(), outboxed())
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

	var atKill, whileDown []int
	for k := 0; k < kills; k++ {
		base := acked()
		testpoll.Until(t, fmt.Sprintf("300 more acks before kill %d", k+1), func() bool { return acked() >= base+300 }, diag)
		atKill = append(atKill, outboxed())
		kill()
		// Keep sending while the server is down: the outboxes grow.
		down := outboxed()
		testpoll.Until(t, "sends to queue up while the server is down", func() bool { return outboxed() >= down+30 }, diag)
		whileDown = append(whileDown, outboxed())
		start()
	}
	base := acked()
	testpoll.Until(t, "300 more acks after the last restart", func() bool { return acked() >= base+300 }, diag)
	stopSenders()

	want := map[string]int{}
	total := 0
	for _, r := range rooms {
		want[r] = len(sent[r])
		total += len(sent[r])
	}
	rcWaitAllDelivered(t, peers, rooms, want, diag)

	// Every ack is in; kill once more, then read the SQLite file directly.
	kill()
	st, err := sqlite.Open(data)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	stored := map[string]shared.Message{} // room/msg_id -> message
	for _, r := range rooms {
		msgs := rcCheckStore(t, st, r, sent[r])
		for _, m := range msgs {
			stored[r+"/"+m.MsgID] = m
		}
		for _, p := range peers {
			if err := rcSameStream(msgs, p.received(r)); err != nil {
				t.Errorf("room %s: %s's stream differs from the store: %v", r, p.name, err)
			}
		}
	}
	acks := 0
	for _, p := range peers {
		if s := p.problems(); s != "" {
			t.Errorf("unexpected failures:\n%s", s)
		}
		for id, ack := range p.acked() {
			acks++
			m, ok := stored[ack.Room+"/"+id]
			switch {
			case !ok:
				t.Errorf("acked message %s (seq %d in %s) is not in the store", id, ack.Seq, ack.Room)
			case m.Seq != ack.Seq:
				t.Errorf("acked message %s: ack seq %d, stored at seq %d", id, ack.Seq, m.Seq)
			}
		}
	}
	if acks != total {
		t.Errorf("%d messages acked, %d sent", acks, total)
	}
	var buf bytes.Buffer
	for _, r := range rooms {
		fmt.Fprintf(&buf, " %s:%d", r, want[r])
	}
	reconnects := 0
	for _, p := range peers {
		reconnects += p.onlineCount() - 1
	}
	t.Logf("kill -9: %d messages from %d clients (%s), %d kills + restarts, outboxes at kill %v, grown while down to %v, %d client reconnects; took %v",
		total, nClients, buf.String()[1:], kills, atKill, whileDown, reconnects, time.Since(begin).Round(time.Millisecond))
}
