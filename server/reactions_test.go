package server_test

// Reactions bounded (issue #14): twelve connections try well over a
// thousand reactions on one message, most with an emoji the message does
// not have yet (real emoji, private-use code points, letters, over-long
// sequences), beside a member who only reads. The reader never gets a
// frame over 64 KiB and is never disconnected; the message ends with the
// cap's 20 kinds of emoji, counted exactly; every other attempt is
// refused with its code.

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/coder/websocket"
	"github.com/duplex-chat/duplex/server"
	"github.com/duplex-chat/duplex/server/store"
	"github.com/duplex-chat/duplex/shared"
	"github.com/duplex-chat/duplex/shared/testpoll"
)

// attemptEmoji is attacker a's i-th emoji. Bad inputs tried: private-use
// code points (BMP and plane 15), a letter, a digit, an arrow that is no
// emoji, two emoji side by side, an over-long ZWJ chain; and real emoji,
// each new to the message (a range of pictographs and skin-tone hands).
func attemptEmoji(a, i int) string {
	n := a*1000 + i
	switch i % 8 {
	case 0:
		return string(rune(0xE000 + n))
	case 1:
		return string(rune(0xF0000 + n))
	case 2:
		return "a"
	case 3:
		return "7"
	case 4:
		return "→"
	case 5:
		return "👍👍"
	case 6:
		return strings.Repeat("👩\u200d", 6) + "👩"
	default:
		return string(rune(0x1F400 + a*13 + i/8)) // 156 animals and objects, all real emoji
	}
}

// frameReader is a member of a room that reads everything and keeps the
// largest frame's size.
type frameReader struct {
	conn    *websocket.Conn
	mu      sync.Mutex
	largest int
	seqs    map[int64]bool // seqs of the reaction and message frames seen
	err     error
	done    chan struct{}
}

func readRoom(t *testing.T, url, room string) *frameReader {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, url, dialOpts())
	if err != nil {
		t.Fatal(err)
	}
	conn.SetReadLimit(64 << 20) // so that an oversized frame is measured, not refused
	r := &frameReader{conn: conn, seqs: map[int64]bool{}, done: make(chan struct{})}
	for _, f := range []struct {
		typ shared.Type
		p   any
	}{{shared.TypeHello, &shared.Hello{Nick: "Reader"}}, {shared.TypeJoin, &shared.Join{Room: room}}} {
		b, _ := shared.Encode(f.typ, string(f.typ), f.p)
		if err := conn.Write(ctx, websocket.MessageText, b); err != nil {
			t.Fatal(err)
		}
	}
	go func() {
		defer close(r.done)
		for {
			_, b, err := conn.Read(context.Background())
			r.mu.Lock()
			if err != nil {
				r.err = err
				r.mu.Unlock()
				return
			}
			r.largest = max(r.largest, len(b))
			shared.DecodeAll(b, func(f shared.Frame, _ error) {
				if m, ok := f.Payload.(*shared.Message); ok {
					r.seqs[m.Seq] = true
				}
			})
			r.mu.Unlock()
		}
	}()
	t.Cleanup(func() { conn.CloseNow(); <-r.done })
	return r
}

func TestReactionsBoundedForReaders(t *testing.T) {
	forEachStore(t, func(t *testing.T, open func(testing.TB) store.Store) {
		// No rate limits: the attack goes as fast as the sockets let it.
		ts := startServer(t, server.Options{Store: open(t), Limits: server.NoLimits()})
		author := dial(t, ts.url, "author")
		authorID := author.hello(t, "Author").User
		author.join(t, "lobby", nil)
		// The longest body there is: events used to carry it each time.
		target := author.sendMsg(t, "lobby", "m1", strings.Repeat("é", shared.MaxBodyRunes))
		reader := readRoom(t, ts.url, "lobby")

		const attackers, each = 12, 104
		codes := make([]map[shared.Code]int, attackers)
		var acked [][]int64
		var mu sync.Mutex
		var wg sync.WaitGroup
		for a := range attackers {
			c := dial(t, ts.url, fmt.Sprintf("attacker%d", a))
			c.hello(t, fmt.Sprintf("Attacker%d", a))
			c.join(t, "lobby", nil)
			wg.Add(1)
			go func() {
				defer wg.Done()
				ids := make([]string, each)
				for i := range ids {
					ids[i] = c.request(t, shared.TypeSend, &shared.Send{Room: "lobby", MsgID: fmt.Sprintf("x%d-%d", a, i),
						Kind: shared.KindReact, Target: target.Seq, Emoji: attemptEmoji(a, i)})
				}
				got := map[shared.Code]int{}
				var seqs []int64
				for range ids {
					f, _ := c.waitFrame(t, "answers", func(f shared.Frame) bool { return slices.Contains(ids, f.ID) })
					if e, ok := f.Payload.(*shared.ErrorFrame); ok {
						got[e.Code]++
						continue
					}
					var ack shared.SendAck
					if err := shared.DecodeAck(f, &ack); err != nil {
						t.Error(err)
						return
					}
					seqs = append(seqs, ack.Seq)
				}
				mu.Lock()
				codes[a], acked = got, append(acked, seqs)
				mu.Unlock()
			}()
		}
		wg.Wait()
		if t.Failed() {
			return
		}
		total := map[shared.Code]int{}
		var accepted []int64
		for a := range attackers {
			for code, n := range codes[a] {
				total[code] += n
			}
			accepted = append(accepted, acked[a]...)
		}
		// 7 of every 8 attempts are no emoji (6 invalid, 1 too_large: the
		// long chain); of the real ones, 20 kinds fit.
		firstRound := len(accepted)
		if total[shared.CodeInvalid] != attackers*each*6/8 || total[shared.CodeTooLarge] != attackers*each/8 || total[shared.CodeReactionLimit] == 0 {
			t.Fatalf("refusals %v", total)
		}
		// Then each attacker toggles the kinds in place, on and off: all
		// accepted, each one a frame to the reader.
		f, _ := author.call(t, shared.TypeHistory, &shared.History{Room: "lobby", Limit: 10})
		kinds := ackOf[shared.HistoryAck](t, f).Messages[0].Reactions
		for a := range attackers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c := dial(t, ts.url, fmt.Sprintf("toggler%d", a))
				c.hello(t, fmt.Sprintf("Toggler%d", a))
				c.join(t, "lobby", nil)
				var ids []string
				for i := range 2 * len(kinds) {
					kind := shared.KindReact
					if i%2 == 1 {
						kind = shared.KindUnreact
					}
					ids = append(ids, c.request(t, shared.TypeSend, &shared.Send{Room: "lobby", MsgID: fmt.Sprintf("t%d-%d", a, i),
						Kind: kind, Target: target.Seq, Emoji: kinds[i/2].Emoji}))
				}
				var seqs []int64
				for range ids {
					f, _ := c.waitFrame(t, "answers", func(f shared.Frame) bool { return slices.Contains(ids, f.ID) })
					var ack shared.SendAck
					if err := shared.DecodeAck(f, &ack); err != nil {
						t.Errorf("toggle: %v", err)
						return
					}
					seqs = append(seqs, ack.Seq)
				}
				mu.Lock()
				accepted = append(accepted, seqs...)
				mu.Unlock()
			}()
		}
		wg.Wait()
		if t.Failed() {
			return
		}
		// The reader got every accepted reaction, in frames of at most
		// 64 KiB, and is still connected.
		testpoll.Until(t, "every accepted reaction at the reader", func() bool {
			reader.mu.Lock()
			defer reader.mu.Unlock()
			if reader.err != nil {
				t.Fatalf("reader closed: %v", reader.err)
			}
			for _, s := range accepted {
				if !reader.seqs[s] {
					return false
				}
			}
			return true
		})
		reader.mu.Lock()
		largest, rerr := reader.largest, reader.err
		reader.mu.Unlock()
		if largest > 64<<10 || rerr != nil {
			t.Fatalf("reader: largest frame %d bytes, closed: %v", largest, rerr)
		}
		t.Logf("%d reactions and unreactions accepted, refusals %v; the reader's largest frame was %d bytes", len(accepted), total, largest)

		// The message carries 20 kinds, their counts adding up to the
		// reactions accepted in the first round (the toggles cancel out).
		accepted = accepted[:firstRound]
		f, _ = author.call(t, shared.TypeHistory, &shared.History{Room: "lobby", Limit: 10})
		h := ackOf[shared.HistoryAck](t, f).Messages
		sum := 0
		for _, r := range h[0].Reactions {
			sum += r.Count
			if len(r.Users) > shared.ReactionSample || len(r.Users) > r.Count || r.Me {
				t.Fatalf("reaction %+v names more than its first reactors or says it is the author's", r)
			}
		}
		if len(h) != 1 || len(h[0].Reactions) != server.DefaultReactionEmoji || sum != len(accepted) {
			t.Fatalf("history: %d kinds adding up to %d, want %d kinds adding up to %d: %+v", len(h[0].Reactions), sum, server.DefaultReactionEmoji, len(accepted), h[0].Reactions)
		}
		// A new reaction with a kind in place is still accepted.
		more := author.sendEvent(t, &shared.Send{Room: "lobby", MsgID: "more", Kind: shared.KindReact, Target: target.Seq, Emoji: h[0].Reactions[0].Emoji})
		if more.Seq <= target.Seq {
			t.Fatalf("react with a kind in place: %+v", more)
		}
		f, _ = author.call(t, shared.TypeHistory, &shared.History{Room: "lobby", Limit: 10})
		first := ackOf[shared.HistoryAck](t, f).Messages[0].Reactions[0]
		users := h[0].Reactions[0].Users
		if len(users) < shared.ReactionSample {
			users = append(users, authorID) // named last
		}
		if want := (shared.Reaction{Emoji: h[0].Reactions[0].Emoji, Count: h[0].Reactions[0].Count + 1, Me: true, Users: users}); !reflect.DeepEqual(first, want) {
			t.Fatalf("after the author's react: %+v, want %+v", first, want)
		}
	})
}

// TestReactionCapOption: Options.MaxReactionEmoji sets the cap, and the
// refusal names it.
func TestReactionCapOption(t *testing.T) {
	ts := startServer(t, server.Options{MaxReactionEmoji: 2})
	ann, bob := lobbyPair(t, ts.url)
	m := ann.sendMsg(t, "lobby", "m1", "two kinds only")
	bob.sendEvent(t, &shared.Send{Room: "lobby", MsgID: "r1", Kind: shared.KindReact, Target: m.Seq, Emoji: "👍"})
	ann.sendEvent(t, &shared.Send{Room: "lobby", MsgID: "r2", Kind: shared.KindReact, Target: m.Seq, Emoji: "🎉"})
	e := bob.expectError(t, bob.request(t, shared.TypeSend, &shared.Send{Room: "lobby", MsgID: "r3", Kind: shared.KindReact, Target: m.Seq, Emoji: "❤️"}), shared.CodeReactionLimit)
	if !strings.Contains(e.Message, "2 kinds") {
		t.Fatalf("refusal %q does not name the cap", e.Message)
	}
	bob.sendEvent(t, &shared.Send{Room: "lobby", MsgID: "r4", Kind: shared.KindReact, Target: m.Seq, Emoji: "🎉"}) // a kind in place
}
