package ui

import (
	"context"
	"slices"
	"sort"
	"time"

	"github.com/duplex-chat/duplex/app/client"
	"github.com/duplex-chat/duplex/shared"
	"github.com/maxence-charriere/go-app/v10/pkg/app"
)

// The model's side of edits, deletions, reactions and replies (PROTOCOL.md
// 7.12, 7.13). An event row (Kind not empty) stays in roomView.msgs as a
// hidden row, so the rows of a join's replay and of the live stream keep
// consecutive seqs for trimGapLocked, and its state is copied onto its
// target (client.Apply). History pages hold messages only: the seq range
// each spans is recorded as covered, so their gaps are not taken for
// holes.

// applyLocked copies the state of event ev onto its target, if the view
// holds it, into a fresh slice: a snapshot handed out earlier never
// changes.
func (v *roomView) applyLocked(ev shared.Message) {
	if ev.Kind == shared.KindMessage {
		return
	}
	next := slices.Clone(v.msgs)
	if client.Apply(next, ev) {
		v.msgs = next
	}
}

// coverLocked records that the server sent every message with a seq from
// from to to.
func (v *roomView) coverLocked(from, to int64) {
	if from <= to {
		v.covered = append(v.covered, [2]int64{from, to})
	}
}

// coveredLocked reports whether the seqs strictly between lo and hi were
// spanned by one messages-only page.
func (v *roomView) coveredLocked(lo, hi int64) bool {
	for _, c := range v.covered {
		if c[0] <= lo && hi <= c[1] {
			return true
		}
	}
	return false
}

// addPageLocked adds a history page asked for with before.
func (v *roomView) addPageLocked(page shared.HistoryAck, before int64) {
	v.addLocked(page.Messages...)
	from := int64(1)
	if len(page.Messages) > 0 {
		from = page.Messages[0].Seq
	}
	if before > 0 {
		v.coverLocked(from, before)
	}
	v.more = page.More
}

// quoteLocked is the quote of message seq for a pending reply, or nil.
func (v *roomView) quoteLocked(seq int64) *shared.Reply {
	if v == nil || seq == 0 {
		return nil
	}
	if m, ok := v.messageLocked(seq); ok {
		return quoteOf(m)
	}
	return &shared.Reply{Seq: seq}
}

// messageLocked returns the shown message seq.
func (v *roomView) messageLocked(seq int64) (shared.Message, bool) {
	i := sort.Search(len(v.msgs), func(i int) bool { return v.msgs[i].Seq >= seq })
	if i < len(v.msgs) && v.msgs[i].Seq == seq && v.msgs[i].Kind == shared.KindMessage {
		return v.msgs[i], true
	}
	return shared.Message{}, false
}

// quoteOf is the quote of m a reply to it shows.
func quoteOf(m shared.Message) *shared.Reply {
	r := &shared.Reply{Seq: m.Seq, Author: m.Author}
	if !m.Deleted {
		r.Excerpt = shared.Excerpt(m.Body)
	}
	return r
}

// lastOwn returns the person's newest message in room that can be edited.
func (m *model) lastOwn(room string) (shared.Message, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	v := m.views[room]
	if v == nil || m.cl == nil {
		return shared.Message{}, false
	}
	me := m.cl.User()
	for i := len(v.msgs) - 1; i >= 0; i-- {
		if msg := v.msgs[i]; msg.Kind == shared.KindMessage && msg.Author.User == me && !msg.Deleted {
			return msg, true
		}
	}
	return shared.Message{}, false
}

// reply queues body as a reply to parent in room.
func (m *model) reply(room string, parent int64, body string) error {
	cl := m.client()
	if cl == nil {
		return shared.Errorf(shared.CodeNotJoined, "not signed in")
	}
	_, err := cl.Reply(room, parent, body)
	if err == nil {
		m.changed()
	}
	return err
}

// change runs an edit, delete or reaction in the background; a refusal
// becomes the notice. The result shows when the event comes back.
func (m *model) change(ctx app.Context, what string, do func(context.Context, *client.Client) error) {
	cl := m.client()
	if cl == nil {
		return
	}
	ctx.Async(func() {
		cctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := do(cctx, cl); err != nil {
			m.mu.Lock()
			m.notice = what + ": " + errText(err)
			m.mu.Unlock()
			m.changed()
		}
	})
}

func (m *model) edit(ctx app.Context, room string, seq int64, body string) {
	m.change(ctx, "Not edited", func(ctx context.Context, cl *client.Client) error {
		_, err := cl.Edit(ctx, room, seq, body)
		return err
	})
}

func (m *model) remove(ctx app.Context, room string, seq int64) {
	m.change(ctx, "Not deleted", func(ctx context.Context, cl *client.Client) error {
		_, err := cl.Delete(ctx, room, seq)
		return err
	})
}

func (m *model) react(ctx app.Context, room string, seq int64, emoji string, on bool) {
	m.change(ctx, "Reaction not saved", func(ctx context.Context, cl *client.Client) error {
		_, err := cl.React(ctx, room, seq, emoji, on)
		return err
	})
}

// shows reports whether the view of room holds message seq.
func (m *model) shows(room string, seq int64) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	v := m.views[room]
	if v == nil {
		return false
	}
	_, ok := v.messageLocked(seq)
	return ok
}

// loadUntil pages history back until the view of room holds seq (or
// nothing older exists), then calls done (on its own goroutine).
func (m *model) loadUntil(ctx app.Context, room string, seq int64, done func()) {
	cl := m.client()
	if cl == nil {
		return
	}
	ctx.Async(func() {
		defer done()
		for range 100 { // at most 100 pages: a jump never pages forever
			m.mu.Lock()
			v := m.viewLocked(room)
			_, ok := v.messageLocked(seq)
			if ok || !v.more || len(v.msgs) == 0 {
				m.mu.Unlock()
				return
			}
			if v.loading { // a scroll is paging in already: let it finish
				m.mu.Unlock()
				time.Sleep(100 * time.Millisecond)
				continue
			}
			v.loading = true
			before := v.msgs[0].Seq
			m.mu.Unlock()
			hctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
			page, err := cl.History(hctx, room, before, shared.MaxHistory)
			cancel()
			m.mu.Lock()
			v.loading = false
			if err == nil {
				v.addPageLocked(page, before)
			}
			m.mu.Unlock()
			m.changed()
			if err != nil {
				return
			}
		}
	})
}
