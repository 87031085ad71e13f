//go:build !js

package client_test

// Native only: the test listens on 127.0.0.1, which a wasm test in Node
// cannot. The lenient decoding it relies on (shared.DecodeAll) runs under
// wasm in the shared package's tests.

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/duplex-chat/duplex/app/client"
	"github.com/duplex-chat/duplex/shared"
)

// newerServer plays a later Duplex server that has grown frame types
// (poll_vote, read_marker) and fields (edited_at, reply_to, heartbeat_ms,
// an envelope "v") this client does not know. It writes raw frames, as a
// newer server would, and reads the client's frames with the strict
// decoder, as every server does.
type newerServer struct {
	t     *testing.T
	conns atomic.Int32
	seq   int
}

// New frames and fields, exactly as a newer server might write them.
const (
	typingFrame = `{"type":"poll_vote","data":{"room":"lobby","users":[{"user":"u-bob","nick":"Bob"}]}}`
	markerFrame = `{"type":"read_marker","data":[1,2,3]}` // not even an object
)

func editedMessage(seq int, body, msgID string) string {
	return `{"type":"message","v":2,"data":{"room":"lobby","seq":` + strconv.Itoa(seq) + `,"ts":1700000000000,` +
		`"author":{"user":"u-bob","nick":"Bob","avatar":"b.png"},"body":"` + body + `","msg_id":"` + msgID + `",` +
		`"edited_at":1700000001000,"thread_of":{"seq":1}}}`
}

func (s *newerServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	conn, err := websocket.Accept(w, r, &websocket.AcceptOptions{Subprotocols: []string{shared.Protocol}})
	if err != nil {
		s.t.Errorf("accept: %v", err)
		return
	}
	defer conn.CloseNow()
	s.conns.Add(1)
	ctx := r.Context()
	write := func(frames ...string) {
		for _, f := range frames {
			if err := conn.Write(ctx, websocket.MessageText, []byte(f)); err != nil {
				return
			}
		}
	}
	batch := func(frames ...string) string {
		raw := make([][]byte, len(frames))
		for i, f := range frames {
			raw[i] = []byte(f)
		}
		return string(shared.EncodeBatch(raw))
	}
	for {
		_, data, err := conn.Read(ctx)
		if err != nil {
			return
		}
		f, err := shared.Decode(data)
		if err != nil {
			s.t.Errorf("the client sent %s: %v", data, err)
			return
		}
		switch p := f.Payload.(type) {
		case *shared.Hello:
			write(typingFrame, // before the welcome, even
				`{"type":"welcome","id":"`+f.ID+`","data":{"protocol":"duplex.v1","session":"s-1","user":"u-old","nick":"`+p.Nick+`","max_body":4000,"heartbeat_ms":15000}}`)
		case *shared.Join:
			s.seq = 1
			write(batch(typingFrame, editedMessage(1, "first, edited", "b-1"), markerFrame,
				`{"type":"ack","id":"`+f.ID+`","data":{"room":"lobby","head":1,"first":1,"unread":0}}`),
				`{"type":"presence","data":{"room":"lobby","members":[{"user":"u-bob","nick":"Bob","status":"away"},{"user":"u-old","nick":"old"}]}}`,
				markerFrame)
		case *shared.Send:
			s.seq++
			n := strconv.Itoa(s.seq)
			write(typingFrame,
				`{"type":"message","data":{"room":"lobby","seq":`+n+`,"ts":1700000002000,"author":{"user":"u-old","nick":"old"},"body":"`+p.Body+`","msg_id":"`+p.MsgID+`","reactions":[]}}`,
				batch(`{"type":"ack","id":"`+f.ID+`","data":{"room":"lobby","msg_id":"`+p.MsgID+`","seq":`+n+`,"ts":1700000002000,"thread":"t-1"}}`, typingFrame))
			s.seq++
			write(editedMessage(s.seq, "after yours", "b-"+strconv.Itoa(s.seq)))
		default:
			s.t.Errorf("unexpected request %s", f.Type)
		}
	}
}

// TestOlderClientIgnoresNewerServer runs this client against a server that
// sends frame types and fields the client does not know: alone, in
// batches, before welcome, between a request and its answer. The client
// must keep its one session (no close 4003, no reconnect), deliver the
// messages, and keep working: a join, a send and the messages after it.
func TestOlderClientIgnoresNewerServer(t *testing.T) {
	srv := &newerServer{t: t}
	hs := httptest.NewServer(srv)
	defer hs.Close()
	url := "ws" + strings.TrimPrefix(hs.URL, "http")

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := client.Dial(ctx, url, &client.Options{Nick: "old", MinBackoff: 10 * time.Millisecond, MaxBackoff: 50 * time.Millisecond})
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	defer c.Close()
	msgs := make(chan shared.Message, 16)
	offline := make(chan error, 16)
	go func() {
		for ev := range c.Events() {
			switch e := ev.(type) {
			case client.MessageReceived:
				msgs <- e.Message
			case client.StateChanged:
				if e.State != client.StateOnline {
					offline <- e.Err
				}
			}
		}
	}()
	next := func(what string) shared.Message {
		t.Helper()
		select {
		case m := <-msgs:
			return m
		case err := <-offline:
			t.Fatalf("went offline waiting for %s: %v", what, err)
		case <-ctx.Done():
			t.Fatalf("no %s", what)
		}
		return shared.Message{}
	}

	if err := c.Join(ctx, "lobby"); err != nil {
		t.Fatalf("Join: %v", err)
	}
	if m := next("the replayed message"); m.Seq != 1 || m.Body != "first, edited" || m.Author.Nick != "Bob" {
		t.Fatalf("replayed %+v", m)
	}
	ack, err := c.SendWait(ctx, "lobby", "still here")
	if err != nil {
		t.Fatalf("SendWait after unknown frames: %v", err)
	}
	if ack.Seq != 2 || ack.Room != "lobby" {
		t.Fatalf("ack %+v", ack)
	}
	if m := next("the own message"); m.Seq != 2 || m.Body != "still here" || m.MsgID != ack.MsgID {
		t.Fatalf("own message %+v", m)
	}
	if m := next("the message after the send"); m.Seq != 3 || m.Body != "after yours" {
		t.Fatalf("later message %+v", m)
	}
	if members := c.Members("lobby"); len(members) != 2 {
		t.Fatalf("members %+v, want Bob and old", members)
	}
	if n := srv.conns.Load(); n != 1 || c.State() != client.StateOnline {
		t.Fatalf("%d connections, state %s: the client dropped its session", n, c.State())
	}
	select {
	case err := <-offline:
		t.Fatalf("went offline: %v", err)
	default:
	}
}
