package server_test

// Edits, deletions, reactions and replies over a real server: live to
// the room, replayed by a resume, folded into history, and every bad
// request answered with a clear error that changes nothing.

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/duplex-chat/duplex/server"
	"github.com/duplex-chat/duplex/server/store"
	"github.com/duplex-chat/duplex/shared"
)

// sendEvent sends s and waits for its ack.
func (c *wsClient) sendEvent(t testing.TB, s *shared.Send) shared.SendAck {
	t.Helper()
	f, _ := c.call(t, shared.TypeSend, s)
	return ackOf[shared.SendAck](t, f)
}

// waitRow waits until c received the row seq of room and returns it.
func (c *wsClient) waitRow(t testing.TB, room string, seq int64) shared.Message {
	t.Helper()
	var got shared.Message
	c.mustWait(t, fmt.Sprintf("%s seq %d", room, seq), func() bool {
		for _, m := range c.log[room] {
			if m.Seq == seq {
				got = m
				return true
			}
		}
		return false
	})
	return got
}

func TestEventsLiveResumeAndHistory(t *testing.T) {
	forEachStore(t, func(t *testing.T, open func(testing.TB) store.Store) {
		ts := startServer(t, server.Options{Store: open(t)})
		ann, bob := lobbyPair(t, ts.url)
		hello := ann.sendMsg(t, "lobby", "m1", "hello")
		react := bob.sendEvent(t, &shared.Send{Room: "lobby", MsgID: "r1", Kind: shared.KindReact, Target: hello.Seq, Emoji: "👍"})
		// Ann sees Bob's reaction live as the change: who, which emoji, its
		// count now; not the message's body or reactions list (#14).
		ev := ann.waitRow(t, "lobby", react.Seq)
		change := shared.Reaction{Emoji: "👍", Count: 1}
		if ev.Kind != shared.KindReact || ev.Target != hello.Seq || ev.Author.Nick != "Bob" || ev.Body != "" || ev.Reactions != nil ||
			ev.Reaction == nil || !reflect.DeepEqual(*ev.Reaction, change) {
			t.Fatalf("Ann saw the reaction as %+v (%+v)", ev, ev.Reaction)
		}
		// As anyone but Bob sees it, naming the first reactors (Bob).
		want := []shared.Reaction{{Emoji: "👍", Count: 1, Users: []string{ev.Author.User}}}
		edit := ann.sendEvent(t, &shared.Send{Room: "lobby", MsgID: "e1", Kind: shared.KindEdit, Target: hello.Seq, Body: "hello, world"})
		if ev := bob.waitRow(t, "lobby", edit.Seq); ev.Kind != shared.KindEdit || ev.Body != "hello, world" || ev.Edited == 0 || !reflect.DeepEqual(ev.Reactions, want) {
			t.Fatalf("Bob saw the edit as %+v", ev)
		}
		reply := bob.sendEvent(t, &shared.Send{Room: "lobby", MsgID: "m2", Body: "hi Ann", ReplyTo: hello.Seq})
		if m := ann.waitRow(t, "lobby", reply.Seq); m.ReplyTo == nil || m.ReplyTo.Seq != hello.Seq || m.ReplyTo.Excerpt != "hello, world" || m.ReplyTo.Author.Nick != "Ann" {
			t.Fatalf("Ann saw the reply as %+v", m)
		}
		gone := ann.sendMsg(t, "lobby", "m3", "oops, wrong room")
		del := ann.sendEvent(t, &shared.Send{Room: "lobby", MsgID: "d1", Kind: shared.KindDelete, Target: gone.Seq})
		if ev := bob.waitRow(t, "lobby", del.Seq); ev.Kind != shared.KindDelete || !ev.Deleted || ev.Body != "" || ev.Target != gone.Seq {
			t.Fatalf("Bob saw the delete as %+v", ev)
		}

		// A third client resumes from 0: every row, events carrying the
		// current state of their target.
		carol := dial(t, ts.url, "carol")
		carol.hello(t, "Carol")
		_, replay := carol.join(t, "lobby", ptr(int64(0)))
		if len(replay) != 6 {
			t.Fatalf("resume replayed %d rows, want 6: %+v", len(replay), replay)
		}
		for _, m := range replay {
			switch {
			case m.Kind == shared.KindReact:
				if m.Reaction == nil || !reflect.DeepEqual(*m.Reaction, change) || m.Body != "" || m.Reactions != nil {
					t.Fatalf("replayed reaction %d: %+v, want the change %+v alone", m.Seq, m, change)
				}
			case m.Seq == hello.Seq || m.Target == hello.Seq:
				if m.Body != "hello, world" || m.Edited == 0 || !reflect.DeepEqual(m.Reactions, want) {
					t.Fatalf("replayed row %d (%s): %+v, want the latest state of seq %d", m.Seq, m.Kind, m, hello.Seq)
				}
			case m.Seq == gone.Seq || m.Target == gone.Seq:
				if !m.Deleted || m.Body != "" {
					t.Fatalf("replayed row %d (%s): %+v, want deleted", m.Seq, m.Kind, m)
				}
			}
		}
		// History holds messages only, in their latest state.
		f, _ := carol.call(t, shared.TypeHistory, &shared.History{Room: "lobby", Limit: 50})
		h := ackOf[shared.HistoryAck](t, f).Messages
		if len(h) != 3 || h[0].Seq != hello.Seq || h[1].Seq != reply.Seq || h[2].Seq != gone.Seq {
			t.Fatalf("history: %+v, want messages %d, %d, %d", h, hello.Seq, reply.Seq, gone.Seq)
		}
		if h[0].Body != "hello, world" || !reflect.DeepEqual(h[0].Reactions, want) || h[1].ReplyTo == nil || !h[2].Deleted || h[2].Body != "" {
			t.Fatalf("history state: %+v", h)
		}
		for _, m := range h {
			if strings.Contains(m.Body, "wrong room") {
				t.Fatalf("deleted text in history: %+v", m)
			}
		}
		// Bob's own history and resume say the reaction is his.
		f, _ = bob.call(t, shared.TypeHistory, &shared.History{Room: "lobby", Limit: 50})
		mine := []shared.Reaction{{Emoji: "👍", Count: 1, Me: true, Users: want[0].Users}}
		if h := ackOf[shared.HistoryAck](t, f).Messages; !reflect.DeepEqual(h[0].Reactions, mine) {
			t.Fatalf("Bob's history: %+v, want %+v", h[0].Reactions, mine)
		}
		bob.call(t, shared.TypeLeave, &shared.Leave{Room: "lobby"})
		if _, replay := bob.join(t, "lobby", ptr(int64(0))); !reflect.DeepEqual(replay[0].Reactions, mine) {
			t.Fatalf("Bob's replay: %+v, want %+v", replay[0], mine)
		}
	})
}

// TestEventsBadInput tries every request the rules refuse. Bad inputs:
// edit and delete of someone else's message, a target that does not
// exist or is itself an event, a reply to a seq that does not exist, a
// reaction in a room not joined, invalid emoji (letters, empty, too
// long), wrong fields for a kind (an edit without a body, a delete with
// one, no target, an unknown kind), an edit of a deleted message, a
// reused msg_id. Each gets its error and nothing is written: the next
// message takes the next seq. A repeated reaction is acked with seq =
// target and is not broadcast.
func TestEventsBadInput(t *testing.T) {
	ts := startServer(t, server.Options{})
	ann, bob := lobbyPair(t, ts.url)
	hello := ann.sendMsg(t, "lobby", "m1", "hello")
	react := bob.sendEvent(t, &shared.Send{Room: "lobby", MsgID: "r1", Kind: shared.KindReact, Target: hello.Seq, Emoji: "👍"})
	gone := ann.sendMsg(t, "lobby", "m2", "to delete")
	del := ann.sendEvent(t, &shared.Send{Room: "lobby", MsgID: "d1", Kind: shared.KindDelete, Target: gone.Seq})
	cases := []struct {
		who  *wsClient
		send shared.Send
		code shared.Code
		says string // part of the error message
	}{
		{bob, shared.Send{Kind: shared.KindEdit, Target: hello.Seq, Body: "mine now"}, shared.CodeForbidden, "only its author"},
		{bob, shared.Send{Kind: shared.KindDelete, Target: hello.Seq}, shared.CodeForbidden, "only its author"},
		{ann, shared.Send{Kind: shared.KindEdit, Target: 99, Body: "x"}, shared.CodeNotFound, "no message 99"},
		{ann, shared.Send{Kind: shared.KindEdit, Target: react.Seq, Body: "x"}, shared.CodeNotFound, "not a message"},
		{bob, shared.Send{Kind: shared.KindReact, Target: 99, Emoji: "👍"}, shared.CodeNotFound, "no message 99"},
		{bob, shared.Send{Body: "re", ReplyTo: 99}, shared.CodeNotFound, "reply_to 99"},
		{bob, shared.Send{Kind: shared.KindReact, Target: hello.Seq, Emoji: "ok"}, shared.CodeInvalid, "not an emoji"},
		{bob, shared.Send{Kind: shared.KindReact, Target: hello.Seq, Emoji: "<img src=x onerror=alert(1)>"}, shared.CodeInvalid, "not an emoji"},
		{bob, shared.Send{Kind: shared.KindReact, Target: hello.Seq}, shared.CodeInvalid, "emoji is empty"},
		{bob, shared.Send{Kind: shared.KindReact, Target: hello.Seq, Emoji: strings.Repeat("👍", 11)}, shared.CodeTooLarge, "emoji"},
		{bob, shared.Send{Kind: shared.KindReact, Target: hello.Seq, Emoji: "\ue000"}, shared.CodeInvalid, "not an emoji"},
		{bob, shared.Send{Kind: shared.KindReact, Target: hello.Seq, Emoji: "👍👍"}, shared.CodeInvalid, "not an emoji"},
		{ann, shared.Send{Kind: shared.KindEdit, Target: hello.Seq}, shared.CodeInvalid, "body"},
		{ann, shared.Send{Kind: shared.KindDelete, Target: hello.Seq, Body: "x"}, shared.CodeInvalid, "no body"},
		{ann, shared.Send{Kind: shared.KindEdit, Body: "x"}, shared.CodeInvalid, "target"},
		{ann, shared.Send{Kind: "pin", Target: hello.Seq}, shared.CodeInvalid, "kind"},
		{ann, shared.Send{Kind: shared.KindEdit, Target: gone.Seq, Body: "back"}, shared.CodeInvalid, "deleted"},
		{bob, shared.Send{Kind: shared.KindReact, Target: gone.Seq, Emoji: "👍"}, shared.CodeInvalid, "deleted"},
		{bob, shared.Send{MsgID: "r1", Kind: shared.KindReact, Target: hello.Seq, Emoji: "🎉"}, shared.CodeConflict, "msg_id"},
		{bob, shared.Send{Room: "elsewhere", Kind: shared.KindReact, Target: hello.Seq, Emoji: "👍"}, shared.CodeNotJoined, "join room"},
	}
	for i, c := range cases {
		s := c.send
		if s.Room == "" {
			s.Room = "lobby"
		}
		if s.MsgID == "" {
			s.MsgID = fmt.Sprintf("bad-%d", i)
		}
		e := c.who.expectError(t, c.who.request(t, shared.TypeSend, &s), c.code)
		if !strings.Contains(e.Message, c.says) {
			t.Errorf("case %d (%+v): error %q does not say %q", i, s, e.Message, c.says)
		}
	}
	// Repeats are no-ops: acked with seq = target, nothing new.
	again := bob.sendEvent(t, &shared.Send{Room: "lobby", MsgID: "r2", Kind: shared.KindReact, Target: hello.Seq, Emoji: "👍"})
	twice := ann.sendEvent(t, &shared.Send{Room: "lobby", MsgID: "d2", Kind: shared.KindDelete, Target: gone.Seq})
	if again.Seq != hello.Seq || twice.Seq != gone.Seq || again.MsgID != "r2" {
		t.Fatalf("no-op acks %+v and %+v, want seq = target", again, twice)
	}
	next := ann.sendMsg(t, "lobby", "m3", "next")
	if next.Seq != del.Seq+1 {
		t.Fatalf("next message got seq %d, want %d: a refused or no-op request wrote a row", next.Seq, del.Seq+1)
	}
	bob.waitRow(t, "lobby", next.Seq)
	for _, m := range bob.messages("lobby") {
		if m.Seq > del.Seq && m.Seq != next.Seq {
			t.Fatalf("Bob received row %+v after the bad requests", m)
		}
	}
}

// TestEventsAreRateLimitedAsSends floods reactions: they count against
// the send limit like messages.
func TestEventsAreRateLimitedAsSends(t *testing.T) {
	ts := startServer(t, server.Options{Limits: tightLimits()})
	ann, _ := lobbyPair(t, ts.url)
	hello := ann.sendMsg(t, "lobby", "m1", "hello")
	emoji := []string{"👍", "🎉", "❤️", "😂", "😮", "😢", "🙏", "🔥", "👀", "✅"}
	ok, limited := pipeline(t, ann, shared.TypeSend, 2*len(emoji), func(i int) any {
		kind := shared.KindReact
		if i >= len(emoji) {
			kind = shared.KindUnreact
		}
		return &shared.Send{Room: "lobby", MsgID: fmt.Sprintf("r-%d", i), Kind: kind, Target: hello.Seq, Emoji: emoji[i%len(emoji)]}
	})
	if len(limited) == 0 || ok == 0 {
		t.Fatalf("%d reactions accepted, %d refused; want both", ok, len(limited))
	}
}
