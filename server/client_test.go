package server_test

// A raw test client for the Duplex protocol: coder/websocket plus the shared
// codec, and nothing from app/ (server packages never import app). Every
// client reads in its own goroutine into an unbounded in-memory queue, so a
// test decides when to look at frames while the server always sees a fast
// reader, unless the test pauses the client to play a slow consumer.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/duplex-chat/duplex/server"
	"github.com/duplex-chat/duplex/server/store"
	"github.com/duplex-chat/duplex/server/store/sqlite"
	"github.com/duplex-chat/duplex/shared"
	"github.com/duplex-chat/duplex/shared/testpoll"
)

// waitTimeout bounds every wait for a frame or an event. Tests never sleep
// to assert: they wait for the event they expect, up to this long.
const waitTimeout = 20 * time.Second

// TestMain fails the package when goroutines of the server or of the
// WebSocket library outlive the tests.
func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 {
		if leaked := waitNoLeaks(15 * time.Second); leaked != "" {
			fmt.Fprintf(os.Stderr, "goroutines leaked after the tests:\n%s\n", leaked)
			code = 1
		}
	}
	os.Exit(code)
}

// waitNoLeaks polls until no goroutine runs server or websocket code.
func waitNoLeaks(limit time.Duration) string {
	var leaked []string
	if testpoll.Wait(limit, "no goroutine in server or websocket code", func() bool {
		buf := make([]byte, 1<<20)
		buf = buf[:runtime.Stack(buf, true)]
		leaked = leaked[:0]
		for _, g := range strings.Split(string(buf), "\n\n") {
			if strings.Contains(g, "duplex-chat/duplex/server.") ||
				strings.Contains(g, "duplex-chat/duplex/server/store") ||
				strings.Contains(g, "coder/websocket.") ||
				strings.Contains(g, "database/sql.") {
				leaked = append(leaked, g)
			}
		}
		return len(leaked) == 0
	}) == nil {
		return ""
	}
	return strings.Join(leaked, "\n\n")
}

// storeKind opens a fresh store for a test.
type storeKind struct {
	name string
	open func(t testing.TB) store.Store
}

var storeKinds = []storeKind{
	{"memory", func(testing.TB) store.Store { return store.NewMemory() }},
	{"sqlite", openSQLite},
}

func openSQLite(t testing.TB) store.Store {
	t.Helper()
	st, err := sqlite.Open(t.TempDir())
	if err != nil {
		t.Fatalf("sqlite.Open: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// forEachStore runs fn as a subtest per store implementation.
func forEachStore(t *testing.T, fn func(t *testing.T, open func(testing.TB) store.Store)) {
	for _, k := range storeKinds {
		t.Run(k.name, func(t *testing.T) { fn(t, k.open) })
	}
}

func testLogger() *slog.Logger {
	if os.Getenv("DUPLEX_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// testServer is a Duplex server on a loopback listener.
type testServer struct {
	srv *server.Server
	url string
	st  store.Store
}

// startServer starts a server with opts (Store and Logger filled in when
// nil) and shuts it down when the test ends.
func startServer(t testing.TB, opts server.Options) *testServer {
	t.Helper()
	if opts.Store == nil {
		opts.Store = store.NewMemory()
	}
	if opts.Logger == nil {
		opts.Logger = testLogger()
	}
	if opts.Limits == (server.Limits{}) {
		// Most tests drive traffic faster than a person would (pipelined
		// sends, many rooms, history floods) to test other things; the
		// rate limits have tests of their own (limits_test.go).
		opts.Limits = server.NoLimits()
	}
	srv, err := server.New(&opts)
	if err != nil {
		t.Fatalf("server.New: %v", err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil && !errors.Is(err, server.ErrClosed) {
			t.Errorf("Shutdown: %v", err)
		}
		hs.Close()
	})
	return &testServer{srv: srv, url: hs.URL, st: opts.Store}
}

// wsClient is one raw WebSocket connection speaking duplex.v1.
type wsClient struct {
	t    testing.TB
	name string
	conn *websocket.Conn
	seq  atomic.Int64 // request ids

	gate gate

	mu      sync.Mutex
	changed chan struct{} // closed and replaced whenever state changes
	queue   []shared.Frame
	log     map[string][]shared.Message // every message received, per room, in arrival order
	bad     error                       // a frame the server should never send
	readErr error                       // why the reader stopped
	done    chan struct{}               // closed when the reader stopped
}

// lobbyPair connects Ann and Bob, both said hello and joined "lobby".
func lobbyPair(t testing.TB, url string) (ann, bob *wsClient) {
	t.Helper()
	ann, bob = dial(t, url, "ann"), dial(t, url, "bob")
	ann.hello(t, "Ann")
	bob.hello(t, "Bob")
	ann.join(t, "lobby", nil)
	bob.join(t, "lobby", nil)
	return ann, bob
}

func dialOpts() *websocket.DialOptions {
	return &websocket.DialOptions{Subprotocols: []string{shared.Protocol}}
}

// dial connects a client that reads in the background.
func dial(t testing.TB, url, name string) *wsClient {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, url, dialOpts())
	if err != nil {
		t.Fatalf("%s: dial: %v", name, err)
	}
	return newClient(t, conn, name)
}

func newClient(t testing.TB, conn *websocket.Conn, name string) *wsClient {
	// Server frames have no size limit (a history answer or a batch may be
	// megabytes).
	conn.SetReadLimit(64 << 20)
	c := &wsClient{
		t: t, name: name, conn: conn,
		changed: make(chan struct{}),
		log:     make(map[string][]shared.Message),
		done:    make(chan struct{}),
	}
	go c.readLoop()
	t.Cleanup(func() {
		c.gate.resume()
		c.conn.CloseNow()
		<-c.done
	})
	return c
}

func (c *wsClient) readLoop() {
	defer close(c.done)
	for {
		c.gate.wait(c.done)
		typ, b, err := c.conn.Read(context.Background())
		if err != nil {
			c.update(func() { c.readErr = err })
			return
		}
		if typ != websocket.MessageText {
			c.update(func() { c.bad = fmt.Errorf("server sent a binary message") })
			continue
		}
		frames, err := decodeServer(b)
		c.update(func() {
			if err != nil && c.bad == nil {
				c.bad = err
			}
			for _, f := range frames {
				c.queue = append(c.queue, f)
				if m, ok := f.Payload.(*shared.Message); ok {
					c.log[m.Room] = append(c.log[m.Room], *m)
				}
			}
		})
	}
}

// decodeServer decodes one WebSocket message from the server, unwrapping a
// batch into its frames.
func decodeServer(b []byte) ([]shared.Frame, error) {
	f, err := shared.Decode(b)
	if err != nil {
		return nil, fmt.Errorf("undecodable server frame %.200q: %v", b, err)
	}
	batch, ok := f.Payload.(*shared.Batch)
	if !ok {
		return []shared.Frame{f}, nil
	}
	if f.ID != "" || len(batch.Frames) == 0 {
		return nil, fmt.Errorf("malformed batch %.200q", b)
	}
	out := make([]shared.Frame, 0, len(batch.Frames))
	for _, raw := range batch.Frames {
		inner, err := shared.Decode(raw)
		if err != nil {
			return out, fmt.Errorf("undecodable frame %.200q in a batch: %v", raw, err)
		}
		if inner.Type == shared.TypeBatch {
			return out, fmt.Errorf("nested batch")
		}
		out = append(out, inner)
	}
	return out, nil
}

func (c *wsClient) update(fn func()) {
	c.mu.Lock()
	fn()
	close(c.changed)
	c.changed = make(chan struct{})
	c.mu.Unlock()
}

// waitUntil calls cond under the lock each time the client's state changes
// until it returns true, and reports an error after timeout or when the
// client can never satisfy it (the connection ended). It is safe to call
// from any goroutine.
func (c *wsClient) waitUntil(timeout time.Duration, what string, cond func() bool) error {
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for {
		c.mu.Lock()
		ok, bad, ch := cond(), c.bad, c.changed
		var ended error
		if !ok && c.readErr != nil {
			ended = c.readErr
		}
		c.mu.Unlock()
		switch {
		case bad != nil:
			return fmt.Errorf("%s: %v", c.name, bad)
		case ok:
			return nil
		case ended != nil:
			return fmt.Errorf("%s: connection ended while waiting for %s: %v", c.name, what, ended)
		}
		select {
		case <-ch:
		case <-timer.C:
			return fmt.Errorf("%s: no %s within %v", c.name, what, timeout)
		}
	}
}

func (c *wsClient) mustWait(t testing.TB, what string, cond func() bool) {
	t.Helper()
	if err := c.waitUntil(waitTimeout, what, cond); err != nil {
		t.Fatal(err)
	}
}

// waitFrame pops frames until match accepts one; it returns that frame and
// the frames skipped before it, in order.
func (c *wsClient) waitFrame(t testing.TB, what string, match func(shared.Frame) bool) (shared.Frame, []shared.Frame) {
	t.Helper()
	var skipped []shared.Frame
	var found shared.Frame
	c.mustWait(t, what, func() bool {
		for len(c.queue) > 0 {
			f := c.queue[0]
			c.queue = c.queue[1:]
			if match(f) {
				found = f
				return true
			}
			skipped = append(skipped, f)
		}
		return false
	})
	return found, skipped
}

// closeErr waits for the connection to end and returns why.
func (c *wsClient) closeErr(t testing.TB) error {
	t.Helper()
	select {
	case <-c.done:
	case <-time.After(waitTimeout):
		t.Fatalf("%s: connection still open after %v", c.name, waitTimeout)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.readErr
}

// messages returns a copy of every message received in room so far.
func (c *wsClient) messages(room string) []shared.Message {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.log[room])
}

// waitMessages waits until at least n messages of room arrived and returns
// them all.
func (c *wsClient) waitMessages(t testing.TB, room string, n int) []shared.Message {
	t.Helper()
	c.mustWait(t, fmt.Sprintf("%d messages in %s", n, room), func() bool { return len(c.log[room]) >= n })
	return c.messages(room)
}

// waitSeq waits until a message of room with seq >= seq arrived and returns
// every message of room received so far.
func (c *wsClient) waitSeq(t testing.TB, room string, seq int64) []shared.Message {
	t.Helper()
	c.mustWait(t, fmt.Sprintf("seq %d in %s", seq, room), func() bool {
		l := c.log[room]
		return len(l) > 0 && l[len(l)-1].Seq >= seq
	})
	return c.messages(room)
}

// write sends one raw WebSocket text message; safe from any goroutine.
func (c *wsClient) write(b []byte) error {
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	return c.conn.Write(ctx, websocket.MessageText, b)
}

func (c *wsClient) writeRaw(t testing.TB, b []byte) {
	t.Helper()
	if err := c.write(b); err != nil {
		t.Fatalf("%s: write: %v", c.name, err)
	}
}

func (c *wsClient) newID(prefix string) string {
	return fmt.Sprintf("%s%d", prefix, c.seq.Add(1))
}

// send encodes and writes one frame with the given id.
func (c *wsClient) send(t testing.TB, typ shared.Type, id string, payload any) {
	t.Helper()
	b, err := shared.Encode(typ, id, payload)
	if err != nil {
		t.Fatalf("Encode: %v", err)
	}
	c.writeRaw(t, b)
}

// request sends a request with a fresh id and returns the id.
func (c *wsClient) request(t testing.TB, typ shared.Type, payload any) string {
	t.Helper()
	id := c.newID(string(typ) + "-")
	c.send(t, typ, id, payload)
	return id
}

// await pops frames until the answer to request id (a frame carrying that
// id) and returns it with the frames that came before it.
func (c *wsClient) await(t testing.TB, id string) (shared.Frame, []shared.Frame) {
	t.Helper()
	return c.waitFrame(t, "answer to "+id, func(f shared.Frame) bool { return f.ID == id })
}

// call sends a request and waits for a successful answer.
func (c *wsClient) call(t testing.TB, typ shared.Type, payload any) (shared.Frame, []shared.Frame) {
	t.Helper()
	id := c.request(t, typ, payload)
	f, before := c.await(t, id)
	if e, ok := f.Payload.(*shared.ErrorFrame); ok {
		t.Fatalf("%s: %s %s failed: %s: %s", c.name, typ, id, e.Code, e.Message)
	}
	return f, before
}

// expectError waits for the answer to id and checks it is an error with code.
func (c *wsClient) expectError(t testing.TB, id string, code shared.Code) *shared.ErrorFrame {
	t.Helper()
	f, _ := c.await(t, id)
	return checkError(t, c.name, f, code)
}

// expectAnonError waits for an error frame that names no request.
func (c *wsClient) expectAnonError(t testing.TB, code shared.Code) *shared.ErrorFrame {
	t.Helper()
	f, _ := c.waitFrame(t, "error without id", func(f shared.Frame) bool {
		_, isErr := f.Payload.(*shared.ErrorFrame)
		return isErr && f.ID == ""
	})
	return checkError(t, c.name, f, code)
}

func checkError(t testing.TB, who string, f shared.Frame, code shared.Code) *shared.ErrorFrame {
	t.Helper()
	e, ok := f.Payload.(*shared.ErrorFrame)
	if !ok || f.Type != shared.TypeError {
		t.Fatalf("%s: got %s %+v, want error %s", who, f.Type, f.Payload, code)
	}
	if e.Code != code {
		t.Fatalf("%s: error code %s (%q), want %s", who, e.Code, e.Message, code)
	}
	if e.Message == "" {
		t.Fatalf("%s: error %s has no message", who, e.Code)
	}
	return e
}

func ackOf[T any](t testing.TB, f shared.Frame) T {
	t.Helper()
	var v T
	if f.Type != shared.TypeAck {
		t.Fatalf("got %s %+v, want an ack", f.Type, f.Payload)
	}
	if err := shared.DecodeAck(f, &v); err != nil {
		t.Fatalf("ack: %v", err)
	}
	return v
}

func (c *wsClient) hello(t testing.TB, nick string) shared.Welcome {
	t.Helper()
	return c.helloAs(t, nick, "")
}

// helloAs says hello with a credential: the token of an earlier welcome
// resumes that user.
func (c *wsClient) helloAs(t testing.TB, nick, token string) shared.Welcome {
	t.Helper()
	f, _ := c.call(t, shared.TypeHello, &shared.Hello{Nick: nick, Token: token})
	w, ok := f.Payload.(*shared.Welcome)
	if !ok {
		t.Fatalf("%s: hello answered with %s %+v", c.name, f.Type, f.Payload)
	}
	return *w
}

// join joins room and returns the ack and the messages of room replayed
// before it.
func (c *wsClient) join(t testing.TB, room string, since *int64) (shared.JoinAck, []shared.Message) {
	t.Helper()
	f, before := c.call(t, shared.TypeJoin, &shared.Join{Room: room, Since: since})
	var replay []shared.Message
	for _, b := range before {
		if m, ok := b.Payload.(*shared.Message); ok && m.Room == room {
			replay = append(replay, *m)
		}
	}
	return ackOf[shared.JoinAck](t, f), replay
}

// sendMsg sends a message and waits for its ack.
func (c *wsClient) sendMsg(t testing.TB, room, msgID, body string) shared.SendAck {
	t.Helper()
	f, _ := c.call(t, shared.TypeSend, &shared.Send{Room: room, MsgID: msgID, Body: body})
	a := ackOf[shared.SendAck](t, f)
	if a.Room != room || a.MsgID != msgID || a.Seq < 1 || a.TS <= 0 {
		t.Fatalf("%s: send ack %+v for %s/%s", c.name, a, room, msgID)
	}
	return a
}

// pause stops the reader before its next WebSocket read, so the client
// stops draining its socket: a slow consumer. resume restarts it.
func (c *wsClient) pause()  { c.gate.pause() }
func (c *wsClient) resume() { c.gate.resume() }

type gate struct {
	mu     sync.Mutex
	paused bool
	ch     chan struct{}
}

func (g *gate) pause() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.paused {
		g.paused, g.ch = true, make(chan struct{})
	}
}

func (g *gate) resume() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.paused {
		g.paused = false
		close(g.ch)
	}
}

func (g *gate) wait(stop <-chan struct{}) {
	g.mu.Lock()
	paused, ch := g.paused, g.ch
	g.mu.Unlock()
	if paused {
		select {
		case <-ch:
		case <-stop:
		}
	}
}

// checkSeqs fails unless msgs hold exactly the seqs from..to, in order.
func checkSeqs(t testing.TB, who string, msgs []shared.Message, from, to int64) {
	t.Helper()
	var got []int64
	for _, m := range msgs {
		got = append(got, m.Seq)
	}
	var want []int64
	for s := from; s <= to; s++ {
		want = append(want, s)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s: seqs %s, want %d..%d", who, seqRanges(got), from, to)
	}
}

// seqRanges renders seqs compactly ("1-5,7,7,9-12") for failure messages.
func seqRanges(seqs []int64) string {
	if len(seqs) == 0 {
		return "none"
	}
	var b strings.Builder
	start := seqs[0]
	for i := 1; i <= len(seqs); i++ {
		if i < len(seqs) && seqs[i] == seqs[i-1]+1 {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		if start == seqs[i-1] {
			fmt.Fprintf(&b, "%d", start)
		} else {
			fmt.Fprintf(&b, "%d-%d", start, seqs[i-1])
		}
		if i < len(seqs) {
			start = seqs[i]
		}
	}
	return b.String()
}

func ptr[T any](v T) *T { return &v }

// httpStatusOfDial dials with opts and returns the HTTP status of a refused
// handshake (0 when it succeeded, closing the connection).
func httpStatusOfDial(t testing.TB, url string, opts *websocket.DialOptions) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	conn, resp, err := websocket.Dial(ctx, url, opts)
	if err == nil {
		conn.CloseNow()
		return 0
	}
	if resp == nil {
		t.Fatalf("dial failed without an HTTP response: %v", err)
	}
	if resp.Body != nil {
		resp.Body.Close()
	}
	return resp.StatusCode
}

func contextWithTimeout() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), waitTimeout)
}

func asCloseError(err error, ce *websocket.CloseError) bool { return errors.As(err, ce) }

// awaitErr is await for goroutines other than the test's: it returns an
// error instead of failing the test.
func (c *wsClient) awaitErr(id string) (shared.Frame, error) {
	var found shared.Frame
	err := c.waitUntil(waitTimeout, "answer to "+id, func() bool {
		for len(c.queue) > 0 {
			f := c.queue[0]
			c.queue = c.queue[1:]
			if f.ID == id {
				found = f
				return true
			}
		}
		return false
	})
	return found, err
}

// flood sends messages prefix-1, prefix-2, ... to room with window sends in
// flight until stop is closed or max messages went out, and returns the
// acks. It does not touch the test's *testing.T, so it can run in a
// goroutine; it must be the only consumer of c's frame queue meanwhile.
func flood(c *wsClient, room, prefix, body string, window, max int, stop <-chan struct{}) ([]shared.SendAck, error) {
	var acks []shared.SendAck
	var pending []string
	settle := func(keep int) error {
		for len(pending) > keep {
			f, err := c.awaitErr(pending[0])
			if err != nil {
				return err
			}
			var a shared.SendAck
			if f.Type != shared.TypeAck {
				return fmt.Errorf("%s: send %s answered with %s %+v", c.name, pending[0], f.Type, f.Payload)
			}
			if err := shared.DecodeAck(f, &a); err != nil {
				return err
			}
			acks = append(acks, a)
			pending = pending[1:]
		}
		return nil
	}
	for i := 1; i <= max; i++ {
		select {
		case <-stop:
			return acks, settle(0)
		default:
		}
		id := c.newID("f-")
		b, err := shared.Encode(shared.TypeSend, id, &shared.Send{Room: room, MsgID: fmt.Sprintf("%s-%d", prefix, i), Body: body})
		if err != nil {
			return acks, err
		}
		if err := c.write(b); err != nil {
			return acks, err
		}
		pending = append(pending, id)
		if err := settle(window - 1); err != nil {
			return acks, err
		}
	}
	return acks, settle(0)
}

// first returns its first argument: first(c.await(t, id)) is the answer.
func first[A, B any](a A, _ B) A { return a }
