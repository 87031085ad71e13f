package ui

import (
	"context"
	"sort"
	"time"

	"github.com/duplex-chat/duplex/app/client"
	"github.com/duplex-chat/duplex/shared"
	"github.com/maxence-charriere/go-app/v10/pkg/app"
)

// The model's side of edits, deletions, reactions and replies (PROTOCOL.md
// 7.12, 7.13). The client applies every event to the message it targets
// (client.Messages holds each message in its latest state, reply quotes
// renewed); the model only looks messages up there.

// quoteIn is the quote of message seq of msgs for a pending reply, or nil.
func quoteIn(msgs []shared.Message, seq int64) *shared.Reply {
	if seq == 0 {
		return nil
	}
	if m, ok := findMessage(msgs, seq); ok {
		return quoteOf(m)
	}
	return &shared.Reply{Seq: seq}
}

// findMessage returns the message seq of msgs (ascending seq).
func findMessage(msgs []shared.Message, seq int64) (shared.Message, bool) {
	i := sort.Search(len(msgs), func(i int) bool { return msgs[i].Seq >= seq })
	if i < len(msgs) && msgs[i].Seq == seq && msgs[i].Kind == shared.KindMessage {
		return msgs[i], true
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
	cv := m.readClient(room) // no model lock: the messages are the client's snapshot
	if cv.cl == nil {
		return shared.Message{}, false
	}
	me, msgs := cv.me.User, cv.msgs
	for i := len(msgs) - 1; i >= 0; i-- {
		if msg := msgs[i]; msg.Kind == shared.KindMessage && msg.Author.User == me && !msg.Deleted {
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

// edit, remove and react queue an event in the outbox (model.do, queued).
func (m *model) edit(ctx app.Context, room string, seq int64, body string) {
	m.do(ctx, "Not edited", queued, func(_ context.Context, cl *client.Client) error { _, err := cl.QueueEdit(room, seq, body); return err })
}

func (m *model) remove(ctx app.Context, room string, seq int64) {
	m.do(ctx, "Not deleted", queued, func(_ context.Context, cl *client.Client) error { _, err := cl.QueueDelete(room, seq); return err })
}

func (m *model) react(ctx app.Context, room string, seq int64, emoji string, on bool) {
	m.do(ctx, "Reaction not saved", queued, func(_ context.Context, cl *client.Client) error {
		_, err := cl.QueueReact(room, seq, emoji, on)
		return err
	})
}

// failedLocked shows an outbox entry the server refused for good: a
// message stays in the room as failed, an event becomes the notice, a read
// marker goes quietly (the next one moves it).
func (m *model) failedLocked(e client.MessageFailed) {
	switch e.Pending.Kind {
	case shared.KindMessage:
		v := m.viewLocked(e.Pending.Room)
		v.failed = append(v.failed, failedSend{Pending: e.Pending, reason: e.Err.Message})
		m.notice = "Not sent: " + e.Err.Message
	case shared.KindEdit:
		m.notice = "Not edited: " + e.Err.Message
	case shared.KindDelete:
		m.notice = "Not deleted: " + e.Err.Message
	case shared.KindReact, shared.KindUnreact:
		m.notice = "Reaction not saved: " + e.Err.Message
	}
}

// shows reports whether the view of room holds message seq.
func (m *model) shows(room string, seq int64) bool {
	_, ok := findMessage(m.messages(room), seq)
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
			msgs := m.messages(room) // the client's copy
			m.mu.Lock()
			v := m.viewLocked(room)
			_, ok := findMessage(msgs, seq)
			if ok || !v.more || len(msgs) == 0 {
				m.mu.Unlock()
				return
			}
			if v.loading { // a scroll is paging in already: let it finish
				m.mu.Unlock()
				time.Sleep(100 * time.Millisecond)
				continue
			}
			v.loading = true
			before := msgs[0].Seq
			m.mu.Unlock()
			if m.fetchPage(cl, v, room, before, shared.MaxHistory) != nil {
				return
			}
		}
	})
}
