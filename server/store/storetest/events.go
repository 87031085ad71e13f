package storetest

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/duplex-chat/duplex/server/store"
	"github.com/duplex-chat/duplex/shared"
)

// runEvents checks edits, deletions, reactions and replies (the rules of
// store/events.go), including every bad request a client can make that
// only the store can judge: a target that does not exist, is an event or
// is in another room; someone else's message; a deleted message; a
// reused msg_id; a reply to a missing seq.
func runEvents(t *testing.T, fresh func(t *testing.T) store.Store) {
	ts := int64(1000)
	nm := func(who shared.Member, id string, kind shared.Kind, target int64, body, emoji string) store.NewMessage {
		ts++
		return store.NewMessage{Room: "r", MsgID: id, Author: who, Body: body, TS: ts, Kind: kind, Target: target, Emoji: emoji}
	}
	post := func(who shared.Member, id, body string) store.NewMessage { return nm(who, id, "", 0, body, "") }
	edit := func(who shared.Member, id string, target int64, body string) store.NewMessage {
		return nm(who, id, shared.KindEdit, target, body, "")
	}
	del := func(who shared.Member, id string, target int64) store.NewMessage {
		return nm(who, id, shared.KindDelete, target, "", "")
	}
	react := func(who shared.Member, id string, target int64, emoji string) store.NewMessage {
		return nm(who, id, shared.KindReact, target, "", emoji)
	}
	unreact := func(who shared.Member, id string, target int64, emoji string) store.NewMessage {
		return nm(who, id, shared.KindUnreact, target, "", emoji)
	}
	reply := func(who shared.Member, id string, parent int64, body string) store.NewMessage {
		m := post(who, id, body)
		m.ReplyTo = parent
		return m
	}
	one := func(t *testing.T, s store.Store, m store.NewMessage) store.Result {
		t.Helper()
		res, err := s.Append(ctx, []store.NewMessage{m})
		if err != nil || len(res) != 1 {
			t.Fatalf("Append(%+v) = %v, %v", m, res, err)
		}
		return res[0]
	}
	ok := func(t *testing.T, s store.Store, m store.NewMessage) shared.Message {
		t.Helper()
		r := one(t, s, m)
		if r.Err != nil || r.Duplicate {
			t.Fatalf("Append(%s %s): %+v, want a new row", m.Kind, m.MsgID, r)
		}
		return r.Message
	}
	head := func(t *testing.T, s store.Store) int64 {
		t.Helper()
		h, err := s.Head(ctx, "r")
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	refused := func(t *testing.T, s store.Store, m store.NewMessage, code shared.Code) {
		t.Helper()
		h := head(t, s)
		r := one(t, s, m)
		var e *shared.Error
		if !errors.As(r.Err, &e) || e.Code != code {
			t.Fatalf("Append(%s %s target %d reply_to %d) = %+v, want %s", m.Kind, m.MsgID, m.Target, m.ReplyTo, r, code)
		}
		if e.Message == "" {
			t.Fatalf("%s error without a message", code)
		}
		if h2 := head(t, s); h2 != h {
			t.Fatalf("a refused %s moved the head from %d to %d", m.Kind, h, h2)
		}
	}
	noop := func(t *testing.T, s store.Store, m store.NewMessage) shared.Message {
		t.Helper()
		h := head(t, s)
		r := one(t, s, m)
		if r.Err != nil || !r.Duplicate || r.Message.Seq != m.Target || r.Message.Target != m.Target || r.Message.Kind != m.Kind {
			t.Fatalf("no-op %s: %+v, want Duplicate with seq = target %d", m.Kind, r, m.Target)
		}
		if h2 := head(t, s); h2 != h {
			t.Fatalf("a no-op %s moved the head from %d to %d", m.Kind, h, h2)
		}
		return r.Message
	}
	after := func(t *testing.T, s store.Store, from int64) []shared.Message {
		t.Helper()
		msgs, err := s.After(ctx, "r", from, 1000)
		if err != nil {
			t.Fatal(err)
		}
		return msgs
	}
	history := func(t *testing.T, s store.Store) []shared.Message {
		t.Helper()
		msgs, err := s.Before(ctx, "r", 0, 1000)
		if err != nil {
			t.Fatal(err)
		}
		return msgs
	}
	find := func(t *testing.T, msgs []shared.Message, seq int64) shared.Message {
		t.Helper()
		for _, m := range msgs {
			if m.Seq == seq {
				return m
			}
		}
		t.Fatalf("seq %d not in %+v", seq, msgs)
		return shared.Message{}
	}

	t.Run("edit: the author replaces the body; history shows the latest state, replay the event", func(t *testing.T) {
		s := fresh(t)
		m := ok(t, s, post(ann, "m1", "first"))
		ok(t, s, post(bob, "m2", "other"))
		ev := ok(t, s, edit(ann, "e1", m.Seq, "second"))
		if ev.Seq != 3 || ev.Kind != shared.KindEdit || ev.Target != 1 || ev.Body != "second" || ev.Edited != ev.TS || ev.Author != ann || ev.MsgID != "e1" {
			t.Fatalf("edit event: %+v", ev)
		}
		ok(t, s, edit(ann, "e2", m.Seq, "third"))
		h := history(t, s)
		if len(h) != 2 || h[0].Seq != 1 || h[0].Body != "third" || h[0].Edited == 0 || h[0].Kind != "" || h[0].MsgID != "m1" || h[1].Seq != 2 {
			t.Fatalf("history after edits: %+v, want messages 1 (body third, edited) and 2 only", h)
		}
		all := after(t, s, 0)
		if len(all) != 4 {
			t.Fatalf("After: %d rows, want 4 (2 messages, 2 edits)", len(all))
		}
		// The first edit, replayed late, carries the current state: a
		// client applying it cannot go back to "second".
		if e := find(t, all, 3); e.Kind != shared.KindEdit || e.Target != 1 || e.Body != "third" || e.Edited != h[0].Edited {
			t.Fatalf("replayed edit: %+v, want the current body third", e)
		}
		// Someone else may not edit it.
		refused(t, s, edit(bob, "e3", m.Seq, "hijack"), shared.CodeForbidden)
		if h := history(t, s); h[0].Body != "third" {
			t.Fatalf("body after a refused edit: %q", h[0].Body)
		}
	})

	t.Run("targets that are not messages of the room are not_found", func(t *testing.T) {
		s := fresh(t)
		m := ok(t, s, post(ann, "m1", "hello"))
		ev := ok(t, s, react(bob, "x1", m.Seq, "👍"))
		other := post(ann, "o1", "elsewhere")
		other.Room = "other"
		ok(t, s, other)
		for _, bad := range []store.NewMessage{
			edit(ann, "b1", 99, "no such seq"),
			edit(ann, "b2", ev.Seq, "an event"),
			del(ann, "b3", 99),
			del(ann, "b4", ev.Seq),
			react(ann, "b5", 99, "👍"),
			react(ann, "b6", ev.Seq, "👍"),
			unreact(bob, "b7", 42, "👍"),
			reply(ann, "b8", 99, "to nothing"),
			reply(ann, "b9", ev.Seq, "to an event"),
		} {
			refused(t, s, bad, shared.CodeNotFound)
		}
		// Seq 1 of room "other" is not seq 1 of room "r" and vice versa:
		// target 2 exists in r (the reaction) but not in other.
		cross := edit(ann, "b10", 2, "cross-room")
		cross.Room = "other"
		res, err := s.Append(ctx, []store.NewMessage{cross})
		var e *shared.Error
		if err != nil || !errors.As(res[0].Err, &e) || e.Code != shared.CodeNotFound {
			t.Fatalf("edit of a seq that exists only in another room: %+v, %v", res, err)
		}
	})

	t.Run("delete: the text is gone, edits included; twice is a no-op; no edit or reaction after", func(t *testing.T) {
		s := fresh(t)
		m := ok(t, s, post(ann, "m1", "secret one"))
		ok(t, s, edit(ann, "e1", m.Seq, "secret two"))
		ok(t, s, react(bob, "r1", m.Seq, "👍"))
		refused(t, s, del(bob, "d0", m.Seq), shared.CodeForbidden)
		ev := ok(t, s, del(ann, "d1", m.Seq))
		if ev.Kind != shared.KindDelete || ev.Target != 1 || !ev.Deleted || ev.Body != "" || len(ev.Reactions) != 0 {
			t.Fatalf("delete event: %+v", ev)
		}
		for _, row := range after(t, s, 0) {
			if strings.Contains(row.Body, "secret") {
				t.Fatalf("row %d still carries deleted text: %+v", row.Seq, row)
			}
			if len(row.Reactions) != 0 {
				t.Fatalf("row %d still carries reactions of a deleted message: %+v", row.Seq, row)
			}
		}
		if h := history(t, s); len(h) != 1 || !h[0].Deleted || h[0].Body != "" || h[0].Seq != 1 {
			t.Fatalf("history after delete: %+v", h)
		}
		// A second delete writes nothing and answers with the state.
		if st := noop(t, s, del(ann, "d2", m.Seq)); !st.Deleted {
			t.Fatalf("second delete: %+v", st)
		}
		refused(t, s, edit(ann, "e2", m.Seq, "back"), shared.CodeInvalid)
		refused(t, s, react(bob, "r2", m.Seq, "🎉"), shared.CodeInvalid)
		refused(t, s, unreact(bob, "r3", m.Seq, "👍"), shared.CodeInvalid)
		// Retrying the original send or edit after the delete is still
		// the same request: the original seq, not a conflict.
		for _, retry := range []store.NewMessage{post(ann, "m1", "secret one"), edit(ann, "e1", m.Seq, "secret two")} {
			if r := one(t, s, retry); r.Err != nil || !r.Duplicate || strings.Contains(r.Message.Body, "secret") {
				t.Fatalf("retry of %s after delete: %+v, want a duplicate without the text", retry.MsgID, r)
			}
		}
	})

	t.Run("delete names the image it leaves attached to no live message (Orphaned)", func(t *testing.T) {
		s := fresh(t)
		img := func(id string) *shared.Image {
			return &shared.Image{ID: id, Name: "x.png", Type: "image/png", Size: 1, Width: 1, Height: 1}
		}
		withImage := func(id, image string) store.NewMessage {
			m := post(ann, id, "")
			m.Image = img(image)
			return m
		}
		a := ok(t, s, withImage("m1", "i-shared"))
		b := ok(t, s, withImage("m2", "i-shared"))
		c := ok(t, s, withImage("m3", "i-alone"))
		plain := ok(t, s, post(ann, "m4", "no image"))
		if r := one(t, s, del(ann, "d1", a.Seq)); r.Err != nil || r.Orphaned != "" {
			t.Fatalf("delete of one of two messages carrying an image: %+v, want no orphan", r)
		}
		if r := one(t, s, del(ann, "d2", b.Seq)); r.Err != nil || r.Orphaned != "i-shared" {
			t.Fatalf("delete of the last message carrying i-shared: %+v, want Orphaned i-shared", r)
		}
		if r := one(t, s, del(ann, "d3", c.Seq)); r.Err != nil || r.Orphaned != "i-alone" {
			t.Fatalf("delete of the only message carrying i-alone: %+v, want Orphaned i-alone", r)
		}
		if r := one(t, s, del(ann, "d4", plain.Seq)); r.Err != nil || r.Orphaned != "" {
			t.Fatalf("delete of a message without an image: %+v, want no orphan", r)
		}
		if r := one(t, s, del(ann, "d5", c.Seq)); !r.Duplicate || r.Orphaned != "" {
			t.Fatalf("second delete: %+v, want a no-op without orphan", r)
		}
	})

	t.Run("an edit superseded by a newer one retries as a duplicate", func(t *testing.T) {
		s := fresh(t)
		m := ok(t, s, post(ann, "m1", "one"))
		e1 := edit(ann, "e1", m.Seq, "two")
		ok(t, s, e1)
		ok(t, s, edit(ann, "e2", m.Seq, "three"))
		if r := one(t, s, e1); r.Err != nil || !r.Duplicate || r.Message.Body != "three" {
			t.Fatalf("retry of the superseded edit: %+v, want a duplicate carrying the latest text", r)
		}
		changed := e1
		changed.Target = 99
		refused(t, s, changed, shared.CodeConflict)
	})

	t.Run("reactions: counts in order of appearance, events carry the change, repeats and missing unreacts are no-ops", func(t *testing.T) {
		s := fresh(t)
		m := ok(t, s, post(ann, "m1", "react to me"))
		change := func(ev shared.Message, kind shared.Kind, who shared.Member, emoji string, count int) {
			t.Helper()
			if ev.Kind != kind || ev.Target != m.Seq || ev.Author != who || ev.Reaction == nil || ev.Reaction.Emoji != emoji || ev.Reaction.Count != count ||
				ev.Body != "" || ev.Reactions != nil || ev.Reaction.Me || ev.Reaction.Users != nil {
				t.Fatalf("%s event: %+v (reaction %+v), want %s by %s, count %d, and no body or list", kind, ev, ev.Reaction, emoji, who.User, count)
			}
		}
		change(ok(t, s, react(bob, "r1", m.Seq, "👍")), shared.KindReact, bob, "👍", 1)
		change(ok(t, s, react(ann, "r2", m.Seq, "🎉")), shared.KindReact, ann, "🎉", 1)
		change(ok(t, s, react(ann, "r3", m.Seq, "👍")), shared.KindReact, ann, "👍", 2)
		want := []shared.Reaction{{Emoji: "👍", Count: 2, Users: []string{bob.User, ann.User}}, {Emoji: "🎉", Count: 1, Users: []string{ann.User}}}
		if h := history(t, s); !reflect.DeepEqual(h[0].Reactions, want) {
			t.Fatalf("history: %+v, want %+v", h[0].Reactions, want)
		}
		change(noop(t, s, react(bob, "r4", m.Seq, "👍")), shared.KindReact, bob, "👍", 2)
		noop(t, s, unreact(bob, "u1", m.Seq, "🎉"))
		change(ok(t, s, unreact(bob, "u2", m.Seq, "👍")), shared.KindUnreact, bob, "👍", 1)
		// 👍 keeps its place though bob, its first, took his back.
		want = []shared.Reaction{{Emoji: "👍", Count: 1, Users: []string{ann.User}}, {Emoji: "🎉", Count: 1, Users: []string{ann.User}}}
		if h := history(t, s); !reflect.DeepEqual(h[0].Reactions, want) {
			t.Fatalf("after unreact: %+v, want %+v", h[0].Reactions, want)
		}
		change(ok(t, s, unreact(ann, "u3", m.Seq, "👍")), shared.KindUnreact, ann, "👍", 0)
		change(ok(t, s, react(bob, "r5", m.Seq, "👍")), shared.KindReact, bob, "👍", 1)
		// Gone to 0 and back, 👍 now comes after 🎉.
		want = []shared.Reaction{{Emoji: "🎉", Count: 1, Users: []string{ann.User}}, {Emoji: "👍", Count: 1, Users: []string{bob.User}}}
		h := history(t, s)
		if len(h) != 1 || !reflect.DeepEqual(h[0].Reactions, want) {
			t.Fatalf("history: %+v, want one message with %+v", h, want)
		}
		// Every replayed reaction event carries its emoji's current count,
		// so replaying them in order ends at the current state.
		for _, row := range after(t, s, 1) {
			if row.Reaction == nil || row.Reaction.Count != map[string]int{"👍": 1, "🎉": 1}[row.Reaction.Emoji] || row.Reactions != nil || row.Body != "" {
				t.Fatalf("replayed %s %d: %+v (%+v)", row.Kind, row.Seq, row, row.Reaction)
			}
		}
	})

	t.Run("Me marks the viewer's own reactions in history and replays", func(t *testing.T) {
		s := fresh(t)
		m := ok(t, s, post(ann, "m1", "mine?"))
		ok(t, s, react(bob, "r1", m.Seq, "👍"))
		ok(t, s, react(ann, "r2", m.Seq, "🎉"))
		ok(t, s, react(ann, "r3", m.Seq, "👍"))
		ed := ok(t, s, edit(ann, "e1", m.Seq, "mine!"))
		// Users names the first reactors, oldest first, whoever reads.
		both, anns := []string{bob.User, ann.User}, []string{ann.User}
		for viewer, want := range map[string][]shared.Reaction{
			"":       {{Emoji: "👍", Count: 2, Users: both}, {Emoji: "🎉", Count: 1, Users: anns}},
			bob.User: {{Emoji: "👍", Count: 2, Me: true, Users: both}, {Emoji: "🎉", Count: 1, Users: anns}},
			ann.User: {{Emoji: "👍", Count: 2, Me: true, Users: both}, {Emoji: "🎉", Count: 1, Me: true, Users: anns}},
			"u-cy":   {{Emoji: "👍", Count: 2, Users: both}, {Emoji: "🎉", Count: 1, Users: anns}},
		} {
			vctx := store.WithViewer(ctx, viewer)
			h, err := s.Before(vctx, "r", 0, 10)
			if err != nil || len(h) != 1 || !reflect.DeepEqual(h[0].Reactions, want) {
				t.Fatalf("history for %q: %+v, %v; want %+v", viewer, h, err, want)
			}
			all, err := s.After(vctx, "r", 0, 10)
			if err != nil || !reflect.DeepEqual(find(t, all, 1).Reactions, want) || !reflect.DeepEqual(find(t, all, ed.Seq).Reactions, want) {
				t.Fatalf("replay for %q: %+v, %v; want the message and the edit with %+v", viewer, all, err, want)
			}
		}
	})

	t.Run("a message takes at most MaxEmoji kinds of emoji; counts stay exact", func(t *testing.T) {
		s := fresh(t)
		m := ok(t, s, post(ann, "m1", "popular"))
		capped := func(r store.NewMessage) store.NewMessage { r.MaxEmoji = 3; return r }
		var batch []store.NewMessage
		for i := range 10 {
			batch = append(batch, capped(react(shared.Member{User: fmt.Sprintf("u-%03d", i), Nick: "x"}, fmt.Sprintf("r%d", i), m.Seq, "❤️")))
		}
		for i, e := range []string{"👍", "🎉"} {
			batch = append(batch, capped(react(bob, fmt.Sprintf("b%d", i), m.Seq, e)))
		}
		if _, err := s.Append(ctx, batch); err != nil {
			t.Fatal(err)
		}
		// A fourth kind is refused, whoever asks; more of a kind in place
		// is fine.
		refused(t, s, capped(react(ann, "a1", m.Seq, "😮")), shared.CodeReactionLimit)
		refused(t, s, capped(react(bob, "b9", m.Seq, "😮")), shared.CodeReactionLimit)
		ok(t, s, capped(react(ann, "a2", m.Seq, "👍")))
		// Users names only the first shared.ReactionSample of the ten.
		want := []shared.Reaction{{Emoji: "❤️", Count: 10, Users: []string{"u-000", "u-001", "u-002"}},
			{Emoji: "👍", Count: 2, Users: []string{bob.User, ann.User}}, {Emoji: "🎉", Count: 1, Users: []string{bob.User}}}
		if r := history(t, s)[0].Reactions; !reflect.DeepEqual(r, want) {
			t.Fatalf("reactions: %+v, want %+v", r, want)
		}
		// Once a kind is gone, another fits.
		ok(t, s, capped(unreact(bob, "u1", m.Seq, "🎉")))
		ok(t, s, capped(react(ann, "a3", m.Seq, "😮")))
		// Without MaxEmoji the protocol's bound holds.
		for i := range shared.MaxReactionKinds {
			react := react(ann, fmt.Sprintf("k%d", i), m.Seq, string(rune(0x1F600+i)))
			if r := one(t, s, react); r.Err != nil && i < shared.MaxReactionKinds-3 {
				t.Fatalf("kind %d: %v", i, r.Err)
			}
		}
		refused(t, s, react(bob, "k-last", m.Seq, "🦀"), shared.CodeReactionLimit)
		if r := history(t, s)[0].Reactions; len(r) != shared.MaxReactionKinds {
			t.Fatalf("%d kinds, want %d", len(r), shared.MaxReactionKinds)
		}
	})

	t.Run("concurrent repeats of one reaction write one row", func(t *testing.T) {
		s := fresh(t)
		m := ok(t, s, post(ann, "m1", "race"))
		var wg sync.WaitGroup
		results := make([]store.Result, 8)
		for i := range results {
			wg.Add(1)
			go func() {
				defer wg.Done()
				res, err := s.Append(ctx, []store.NewMessage{{Room: "r", MsgID: fmt.Sprintf("c%d", i), Author: bob, TS: 5, Kind: shared.KindReact, Target: m.Seq, Emoji: "👍"}})
				if err != nil {
					t.Error(err)
					return
				}
				results[i] = res[0]
			}()
		}
		wg.Wait()
		written := 0
		for _, r := range results {
			if r.Err != nil {
				t.Fatalf("concurrent react: %v", r.Err)
			}
			if !r.Duplicate {
				written++
			}
		}
		if written != 1 || head(t, s) != 2 {
			t.Fatalf("%d reactions written, head %d; want 1 and 2", written, head(t, s))
		}
	})

	t.Run("msg_id idempotency covers events", func(t *testing.T) {
		s := fresh(t)
		m := ok(t, s, post(ann, "m1", "hello"))
		ev := ok(t, s, react(bob, "r1", m.Seq, "👍"))
		if r := one(t, s, react(bob, "r1", m.Seq, "👍")); !r.Duplicate || r.Err != nil || r.Message.Seq != ev.Seq {
			t.Fatalf("retried react: %+v, want the original seq %d", r, ev.Seq)
		}
		e := ok(t, s, edit(ann, "e1", m.Seq, "hello!"))
		if r := one(t, s, edit(ann, "e1", m.Seq, "hello!")); !r.Duplicate || r.Message.Seq != e.Seq {
			t.Fatalf("retried edit: %+v, want the original seq %d", r, e.Seq)
		}
		// Same msg_id, another request: conflict, nothing written.
		for _, bad := range []store.NewMessage{
			react(bob, "r1", m.Seq, "🎉"),    // another emoji
			unreact(bob, "r1", m.Seq, "👍"),  // another kind
			edit(ann, "e1", m.Seq, "other"), // another body
			react(ann, "r1", m.Seq, "👍"),    // another author
			post(ann, "e1", "hello!"),       // a message, not an edit
			reply(ann, "m1", m.Seq, "hello"),
		} {
			refused(t, s, bad, shared.CodeConflict)
		}
	})

	t.Run("replies quote their parent's latest state", func(t *testing.T) {
		s := fresh(t)
		p := ok(t, s, post(ann, "m1", "parent "+strings.Repeat("x", 300)))
		r := ok(t, s, reply(bob, "m2", p.Seq, "child"))
		if r.ReplyTo == nil || r.ReplyTo.Seq != p.Seq || r.ReplyTo.Author != ann || r.ReplyTo.Excerpt != shared.Excerpt(p.Body) || r.Body != "child" {
			t.Fatalf("reply: %+v", r)
		}
		ok(t, s, edit(ann, "e1", p.Seq, "parent, edited"))
		if h := history(t, s); h[1].ReplyTo == nil || h[1].ReplyTo.Excerpt != "parent, edited" {
			t.Fatalf("quote after the parent's edit: %+v", h[1].ReplyTo)
		}
		ok(t, s, del(ann, "d1", p.Seq))
		for _, rows := range [][]shared.Message{history(t, s), after(t, s, 0)} {
			got := find(t, rows, r.Seq)
			if got.ReplyTo == nil || got.ReplyTo.Seq != p.Seq || got.ReplyTo.Excerpt != "" {
				t.Fatalf("quote after the parent's delete: %+v", got.ReplyTo)
			}
		}
		// A reply to a deleted message is allowed, with an empty quote.
		r2 := ok(t, s, reply(bob, "m3", p.Seq, "too late"))
		if r2.ReplyTo == nil || r2.ReplyTo.Excerpt != "" || r2.ReplyTo.Author != ann {
			t.Fatalf("reply to a deleted message: %+v", r2.ReplyTo)
		}
		// A retried reply is the same request.
		if res := one(t, s, reply(bob, "m2", p.Seq, "child")); !res.Duplicate || res.Message.Seq != r.Seq {
			t.Fatalf("retried reply: %+v", res)
		}
	})

	t.Run("a message and its events in one batch", func(t *testing.T) {
		s := fresh(t)
		res, err := s.Append(ctx, []store.NewMessage{
			post(ann, "m1", "draft"),
			edit(ann, "e1", 1, "final"),
			react(bob, "r1", 1, "👍"),
			reply(bob, "m2", 1, "agreed"),
			edit(bob, "e2", 1, "not yours"),
		})
		if err != nil {
			t.Fatal(err)
		}
		for i, r := range res[:4] {
			if r.Err != nil || r.Duplicate || r.Message.Seq != int64(i+1) {
				t.Fatalf("result %d: %+v", i, r)
			}
		}
		var e *shared.Error
		if !errors.As(res[4].Err, &e) || e.Code != shared.CodeForbidden {
			t.Fatalf("foreign edit in a batch: %+v", res[4])
		}
		if res[3].Message.ReplyTo == nil || res[3].Message.ReplyTo.Excerpt != "final" {
			t.Fatalf("reply in the batch: %+v", res[3].Message)
		}
	})

	t.Run("Prune takes the events and reactions of removed messages", func(t *testing.T) {
		s := fresh(t)
		ok(t, s, post(ann, "m1", "old"))                         // 1
		ok(t, s, post(ann, "m2", "kept"))                        // 2
		ok(t, s, react(bob, "r1", 1, "👍"))                       // 3: on a message that goes
		ok(t, s, edit(ann, "e1", 1, "old, edited"))              // 4: on a message that goes
		ok(t, s, react(bob, "r2", 2, "🎉"))                       // 5
		ok(t, s, reply(bob, "m3", 1, "re: old"))                 // 6
		n, err := s.Prune(ctx, store.Retention{KeepCount: 5}, 1) // removes seq 1
		if err != nil || n != 1 {
			t.Fatalf("Prune = %d, %v", n, err)
		}
		var rows []int64
		for _, m := range after(t, s, 0) {
			rows = append(rows, m.Seq)
		}
		if !reflect.DeepEqual(rows, []int64{2, 5, 6}) {
			t.Fatalf("rows after prune: %v, want 2, 5, 6 (the events of seq 1 go with it)", rows)
		}
		h := history(t, s)
		if len(h) != 2 || len(h[0].Reactions) != 1 || h[1].ReplyTo == nil || h[1].ReplyTo.Seq != 1 || h[1].ReplyTo.Excerpt != "" {
			t.Fatalf("history after prune: %+v", h)
		}
		// The pruned events' msg_ids no longer deduplicate, and their
		// target is not found any more.
		refused(t, s, react(bob, "r1", 1, "👍"), shared.CodeNotFound)
		refused(t, s, reply(bob, "m4", 1, "re: gone"), shared.CodeNotFound)
	})
}
