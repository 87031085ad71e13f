package ui

import (
	"context"
	"encoding/json"
	"sync/atomic"

	"github.com/duplex-chat/duplex/shared"
)

// What a prerendered room page may carry (issue #14): anyone may fetch
// /r/{room} without signing in, so its messages are bounded in bytes, not
// only in number, and each message's reactions are its capped summary
// (at most shared.MaxReactionKinds emoji with counts). Messages that do
// not fit load over the socket once the app runs.

// DefaultPrerenderBytes is the most bytes of messages, measured as JSON,
// a page prerenders when SetPrerenderBudget was not called (or with 0).
// The page holds them twice (as HTML and as the hand-over data), so it
// stays within a few times this.
const DefaultPrerenderBytes = 64 << 10

// pageConfig is what the server binary configures for prerendered pages,
// set before serving and never changed while pages render: it is stored
// whole (an immutable value behind an atomic pointer), so a page reads a
// consistent copy without a lock.
type pageConfig struct {
	history HistorySource
	budget  int
}

var pageCfg atomic.Pointer[pageConfig]

func loadPageConfig() *pageConfig {
	if c := pageCfg.Load(); c != nil {
		return c
	}
	return &pageConfig{budget: DefaultPrerenderBytes}
}

// SetPrerenderBudget sets the most bytes of messages (as JSON) a page
// prerenders, newest first: 0 means DefaultPrerenderBytes, a negative
// value none. Call it before serving pages.
func SetPrerenderBudget(n int) {
	if n == 0 {
		n = DefaultPrerenderBytes
	}
	c := *loadPageConfig()
	c.budget = n
	pageCfg.Store(&c)
}

// ViewerParam is the query parameter through which the server binary
// tells the prerenderer who asks for a page (after checking the
// request's credential cookie, and removing any such parameter the
// request itself carried), so that the page marks that user's own
// reactions (shared.Reaction.Me).
const ViewerParam = "duplex_viewer"

// ViewerHistorySource is a HistorySource that can read as a given user.
type ViewerHistorySource interface {
	HistorySource
	RecentFor(ctx context.Context, room string, n int, viewer string) ([]shared.Message, error)
}

// fitPrerender keeps the newest of msgs (oldest first) whose JSON fits in
// budget bytes, each with at most shared.MaxReactionKinds reactions.
func fitPrerender(msgs []shared.Message, budget int) []shared.Message {
	if budget < 0 {
		return nil
	}
	used := 0
	first := len(msgs)
	for first > 0 {
		m := &msgs[first-1]
		if len(m.Reactions) > shared.MaxReactionKinds {
			m.Reactions = m.Reactions[:shared.MaxReactionKinds]
		}
		b, err := json.Marshal(m)
		if err != nil || used+len(b) > budget {
			break
		}
		used += len(b)
		first--
	}
	return msgs[first:]
}
