package server_test

// A sender's order (order.go): a send that names, in after, a send the
// connection had refused is refused too, until that one is sent again.

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/duplex-chat/duplex/server"
	"github.com/duplex-chat/duplex/server/store"
	"github.com/duplex-chat/duplex/shared"
)

// sendUntilAcked sends s until it is acked, waiting retry_after (or a
// tenth of a second) after each retryable refusal, as a client should.
func sendUntilAcked(t *testing.T, c *wsClient, s *shared.Send) {
	t.Helper()
	for i := 0; i < 100; i++ {
		f, _ := c.await(t, c.request(t, shared.TypeSend, s))
		e, isErr := f.Payload.(*shared.ErrorFrame)
		if !isErr {
			return
		}
		if !e.Code.Retryable() {
			t.Fatalf("%s refused for good: %s: %s", s.MsgID, e.Code, e.Message)
		}
		time.Sleep(max(time.Duration(e.RetryAfter)*time.Millisecond, 100*time.Millisecond))
	}
	t.Fatalf("%s never acked", s.MsgID)
}

// bodies lists the bodies of c's messages in room, in seq order.
func bodies(c *wsClient, room string) []string {
	var out []string
	for _, m := range c.messages(room) {
		out = append(out, m.Body)
	}
	return out
}

// TestSendAfterRateLimitedIsHeldBack: with bursts of 5, six pipelined
// sends chained by after: the sixth is refused with rate_limited. Once its
// retry_after has passed (the bucket holds a token again), a seventh that
// follows it is still refused: it names a refused send. Without the
// chain it would have been stored before the sixth. The sixth is resent
// and stored; then the seventh; bob receives 1..7 in order, once each.
// A send without after is not held back (older clients keep working).
func TestSendAfterRateLimitedIsHeldBack(t *testing.T) {
	ts := startServer(t, server.Options{Limits: tightLimits()})
	ann, bob := lobbyPair(t, ts.url)
	msg := func(i int, after string) *shared.Send {
		return &shared.Send{Room: "lobby", MsgID: fmt.Sprintf("o-%d", i), Body: fmt.Sprintf("m%d", i), After: after}
	}
	ids := make([]string, 6)
	for i := range ids {
		after := ""
		if i > 0 {
			after = fmt.Sprintf("o-%d", i)
		}
		ids[i] = ann.request(t, shared.TypeSend, msg(i+1, after))
	}
	// Refusals come at once, acks after the commit: collect by id.
	answers := map[string]shared.Frame{}
	for len(answers) < len(ids) {
		f, _ := ann.waitFrame(t, "the six answers", func(f shared.Frame) bool { return slices.Contains(ids, f.ID) })
		answers[f.ID] = f
	}
	for _, id := range ids[:5] {
		if f := answers[id]; f.Type != shared.TypeAck {
			t.Fatalf("send %s within the burst: %+v", id, f.Payload)
		}
	}
	e := checkError(t, "ann", answers[ids[5]], shared.CodeRateLimited)
	if e.RetryAfter <= 0 {
		t.Fatalf("rate_limited without retry_after: %+v", e)
	}
	time.Sleep(time.Duration(e.RetryAfter) * time.Millisecond) // as the protocol asks: now a token is there

	held := ann.expectError(t, ann.request(t, shared.TypeSend, msg(7, "o-6")), shared.CodeRateLimited)
	if !strings.Contains(held.Message, "o-6") || held.RetryAfter <= 0 {
		t.Fatalf("the send after a refused one: %+v, want rate_limited naming o-6 with retry_after", held)
	}
	sendUntilAcked(t, ann, msg(6, "o-5"))
	sendUntilAcked(t, ann, msg(7, "o-6"))
	bob.waitSeq(t, "lobby", 7)
	if got := strings.Join(bodies(bob, "lobby"), " "); got != "m1 m2 m3 m4 m5 m6 m7" {
		t.Fatalf("bob received %q, want m1..m7 in order", got)
	}

	// Without after nothing is held back: a refused send does not stop
	// the next one once the bucket has refilled.
	var refused *shared.ErrorFrame
	for i := 8; refused == nil && i < 30; i++ {
		f, _ := ann.await(t, ann.request(t, shared.TypeSend, msg(i, "")))
		refused, _ = f.Payload.(*shared.ErrorFrame)
	}
	if refused == nil {
		t.Fatal("no send was refused past the burst")
	}
	time.Sleep(time.Duration(refused.RetryAfter) * time.Millisecond)
	if f, _ := ann.await(t, ann.request(t, shared.TypeSend, msg(40, ""))); f.Type != shared.TypeAck {
		t.Fatalf("a send without after, after the refill: %+v, want an ack", f.Payload)
	}
}

// TestSendAfterFailedCommitIsHeldBack: the store fails a send (unavailable);
// once it works again, a send that follows the failed one is refused
// (unavailable) by the committer, which alone knows the first failed;
// after the failed one is resent and stored, the next goes, in order. An
// after that is no valid id is refused as invalid.
func TestSendAfterFailedCommitIsHeldBack(t *testing.T) {
	st := &faultyStore{Memory: store.NewMemory()}
	ts := startServer(t, server.Options{Store: st})
	ann, bob := lobbyPair(t, ts.url)
	first := &shared.Send{Room: "lobby", MsgID: "f-1", Body: "first"}
	second := &shared.Send{Room: "lobby", MsgID: "f-2", Body: "second", After: "f-1"}

	st.failAppend.Store(true)
	ann.expectError(t, ann.request(t, shared.TypeSend, first), shared.CodeUnavailable)
	st.failAppend.Store(false)
	e := ann.expectError(t, ann.request(t, shared.TypeSend, second), shared.CodeUnavailable)
	if !strings.Contains(e.Message, "f-1") {
		t.Fatalf("the held-back send's error does not name f-1: %q", e.Message)
	}
	ann.call(t, shared.TypeSend, first)
	ann.call(t, shared.TypeSend, second)
	bob.waitSeq(t, "lobby", 2)
	if got := strings.Join(bodies(bob, "lobby"), " "); got != "first second" {
		t.Fatalf("bob received %q, want first, second", got)
	}
	ann.expectError(t, ann.request(t, shared.TypeSend, &shared.Send{Room: "lobby", MsgID: "f-3", Body: "x", After: "not an id!"}), shared.CodeInvalid)
}
