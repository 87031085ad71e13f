package ui

import (
	"context"
	"errors"
	"time"

	"github.com/duplex-chat/duplex/app/client"
	"github.com/maxence-charriere/go-app/v10/pkg/app"
)

// Honest connection and delivery state (issue #17). The pill says offline
// the moment the browser says the network is gone, or a request goes
// unanswered, rather than when the socket's heartbeat finally gives up
// (two intervals: 50 s by default); it says online only once the server
// welcomed a connection. Each message in the outbox says "sending", and
// one not acknowledged after undeliveredAfter says "not delivered", with
// Retry and Delete.

const (
	// undeliveredAfter is how long a send may wait for its ack before
	// the person is told it was not delivered.
	undeliveredAfter = 8 * time.Second
	// probeAfter is how long a send may wait before the page asks the
	// server something to learn whether the socket still answers;
	// probeTimeout is how long that answer may take.
	probeAfter   = 3 * time.Second
	probeTimeout = 3 * time.Second
)

// netState is the model's view of the network, beside the client's state.
type netState struct {
	down    bool                 // the browser says it is offline
	probing bool                 // a probe request is out
	retried map[string]time.Time // Retry pressed: the undelivered clock restarts
	late    map[string]bool      // pending sends shown as not delivered
	funcs   []app.Func
}

// watchNet follows the browser's online and offline events for cl and
// checks the outbox every half second while cl runs.
func (m *model) watchNet(cl *client.Client) {
	win := app.Window()
	m.mu.Lock()
	m.net.down = !win.Get("navigator").Get("onLine").Bool()
	m.mu.Unlock()
	offline := app.FuncOf(func(app.Value, []app.Value) any {
		m.mu.Lock()
		m.net.down = true
		m.mu.Unlock()
		go func() {
			cl.Reconnect() // the socket may stay silent instead of failing
			m.changed()
		}()
		return nil
	})
	online := app.FuncOf(func(app.Value, []app.Value) any {
		m.mu.Lock()
		m.net.down = false
		m.mu.Unlock()
		go func() {
			cl.RetryNow()
			m.changed()
		}()
		return nil
	})
	win.Call("addEventListener", "offline", offline)
	win.Call("addEventListener", "online", online)
	m.mu.Lock()
	m.net.funcs = append(m.net.funcs, offline, online)
	m.mu.Unlock()
	go func() {
		t := time.NewTicker(500 * time.Millisecond)
		defer t.Stop()
		for range t.C {
			if m.client() != cl {
				return
			}
			m.checkOutbox(cl)
		}
	}()
}

// checkOutbox marks sends waiting too long as not delivered, and probes
// the connection when a send waits while the client believes it online.
func (m *model) checkOutbox(cl *client.Client) {
	now := time.Now()
	out := cl.Outbox()
	m.mu.Lock()
	changed, probe := false, false
	late := make(map[string]bool, len(out))
	for _, p := range out {
		since := time.UnixMilli(p.TS)
		if r, ok := m.net.retried[p.MsgID]; ok && r.After(since) {
			since = r
		}
		waited := now.Sub(since)
		if waited >= undeliveredAfter {
			late[p.MsgID] = true
		}
		if waited >= probeAfter && m.state == client.StateOnline && !m.net.probing {
			probe = true
		}
	}
	if len(late) != len(m.net.late) {
		changed = true
	}
	for id := range late {
		if !m.net.late[id] {
			changed = true
		}
	}
	m.net.late = late
	if probe {
		m.net.probing = true
	}
	m.mu.Unlock()
	if probe {
		go m.probe(cl)
	}
	if changed {
		m.changed()
	}
}

// probe asks the server for the room list: no answer in probeTimeout
// means the socket is dead, whatever it looks like, so the client drops
// it (the pill says offline at once) and connects again.
func (m *model) probe(cl *client.Client) {
	ctx, cancel := context.WithTimeout(context.Background(), probeTimeout)
	defer cancel()
	_, err := cl.Rooms(ctx)
	m.mu.Lock()
	m.net.probing = false
	m.mu.Unlock()
	if err != nil && ctx.Err() != nil {
		cl.Reconnect()
	}
}

// requestFailed is told of a request that went unanswered: the socket
// is presumed dead (see probe).
func (m *model) requestFailed(err error) {
	if cl := m.client(); cl != nil && errors.Is(err, context.DeadlineExceeded) {
		cl.Reconnect()
	}
}

// retrySend restarts the wait of an undelivered send and reconnects, which
// sends the outbox again.
func (m *model) retrySend(msgID string) {
	m.mu.Lock()
	cl := m.cl
	if m.net.retried == nil {
		m.net.retried = make(map[string]time.Time)
	}
	m.net.retried[msgID] = time.Now()
	delete(m.net.late, msgID)
	m.mu.Unlock()
	if cl != nil {
		cl.Reconnect()
	}
	m.changed()
}

// discardSend deletes an undelivered send from the outbox.
func (m *model) discardSend(msgID string) {
	if cl := m.client(); cl != nil {
		cl.Discard(msgID)
	}
	m.mu.Lock()
	delete(m.net.late, msgID)
	m.mu.Unlock()
	m.changed()
}

// shownState is the state the pill shows: offline while the browser says
// so, whatever the client still believes.
// A client connecting again is "connecting", never online until the
// server welcomed it.
func (m *model) shownStateLocked() client.State {
	if m.cl != nil && m.net.down {
		return client.StateOffline
	}
	return m.state
}

// renderDelivery is a pending message's delivery line: "sending", or "not
// delivered" with Retry and Delete.
func (l *MessageList) renderDelivery(r row) app.UI {
	if r.Status != "pending" {
		return nil
	}
	if !r.Late {
		return app.Div().Class("delivery").DataSet("test", "delivery").DataSet("state", "sending").Text("sending…")
	}
	return app.Div().Class("delivery late").DataSet("test", "delivery").DataSet("state", "undelivered").Body(
		app.Span().Text("not delivered"),
		app.Button().Type("button").Class("act").DataSet("test", "retry-send").OnClick(l.onRetrySend).Text("Retry"),
		app.Button().Type("button").Class("act").DataSet("test", "discard-send").Attr("aria-label", "Delete this undelivered message").
			OnClick(l.onDiscardSend).Text("Delete"),
	)
}

// The handlers read the message from the DOM: go-app keeps the first
// handler of a reused element when the new one is the same function
// literal, so a closure over a row would act on the row that was there
// before (a deleted row moves the next one into its element).
func (l *MessageList) onRetrySend(ctx app.Context, e app.Event) { l.m.retrySend(rowMsgID(ctx)) }

func (l *MessageList) onDiscardSend(ctx app.Context, e app.Event) { l.m.discardSend(rowMsgID(ctx)) }

// rowMsgID is the msg_id of the message row holding the event's element.
func rowMsgID(ctx app.Context) string {
	row := ctx.JSSrc().Call("closest", "[data-test=message]")
	if !row.Truthy() {
		return ""
	}
	return row.Get("dataset").Get("msgId").String()
}
