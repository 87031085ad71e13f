package main

import (
	"context"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/duplex-chat/duplex/app/client"
	"github.com/duplex-chat/duplex/server"
	"github.com/duplex-chat/duplex/shared"
	"github.com/duplex-chat/duplex/shared/testpoll"
)

// eventLog records a client's events.
type eventLog struct {
	mu  sync.Mutex
	evs []client.Event
}

func (l *eventLog) add(ev client.Event) {
	l.mu.Lock()
	l.evs = append(l.evs, ev)
	l.mu.Unlock()
}

func (l *eventLog) has(match func(client.Event) bool) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.ContainsFunc(l.evs, match)
}

func nicks(ms []shared.Member) string {
	var out []string
	for _, m := range ms {
		out = append(out, m.Nick)
	}
	return strings.Join(out, ",")
}

// TestClientPresence: the client package keeps its member list from the
// server's coalesced presence_diff frames and emits MemberJoined and
// MemberLeft from them; in a room above the presence threshold it keeps
// the count alone and pages the list with MembersPage.
func TestClientPresence(t *testing.T) {
	srv, err := server.New(&server.Options{PresenceThreshold: 3, PresenceInterval: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	defer hs.Close()
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	}()
	url := "ws" + strings.TrimPrefix(hs.URL, "http")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	join := func(nick string, log *eventLog) *client.Client {
		t.Helper()
		opts := &client.Options{Nick: nick, CacheSize: -1}
		if log != nil {
			opts.OnEvent = log.add
		}
		c, err := client.Dial(ctx, url, opts)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		if log == nil {
			go func() {
				for range c.Events() {
				}
			}()
		}
		if err := c.Join(ctx, "lobby"); err != nil {
			t.Fatal(err)
		}
		return c
	}
	var annLog eventLog
	ann := join("Ann", &annLog)
	bob := join("Bob", nil)
	testpoll.Until(t, "Bob in Ann's list", func() bool { return nicks(ann.Members("lobby")) == "Ann,Bob" })
	testpoll.Until(t, "MemberJoined Bob", func() bool {
		return annLog.has(func(ev client.Event) bool { e, ok := ev.(client.MemberJoined); return ok && e.Member.Nick == "Bob" })
	})
	if n := ann.MemberCount("lobby"); n != 2 {
		t.Fatalf("count %d, want 2", n)
	}
	if err := bob.Leave(ctx, "lobby"); err != nil {
		t.Fatal(err)
	}
	testpoll.Until(t, "MemberLeft Bob", func() bool {
		return annLog.has(func(ev client.Event) bool { e, ok := ev.(client.MemberLeft); return ok && e.Member.Nick == "Bob" })
	})
	if got := nicks(ann.Members("lobby")); got != "Ann" {
		t.Fatalf("members after Bob left: %s", got)
	}

	// Three more make four members, above the threshold of 3: counts only.
	for _, n := range []string{"Cy", "Dan", "Eve"} {
		join(n, nil)
	}
	testpoll.Until(t, "a count of 4", func() bool { return ann.MemberCount("lobby") == 4 && len(ann.Members("lobby")) == 0 })
	testpoll.Until(t, "PresenceChanged with a count", func() bool {
		return annLog.has(func(ev client.Event) bool {
			e, ok := ev.(client.PresenceChanged)
			return ok && e.Count == 4 && len(e.Members) == 0
		})
	})
	page, more, err := ann.MembersPage(ctx, "lobby", "", 3)
	if err != nil || len(page) != 3 || !more {
		t.Fatalf("first page %v more %v: %v", page, more, err)
	}
	rest, more, err := ann.MembersPage(ctx, "lobby", page[2].User, 3)
	if err != nil || len(rest) != 1 || more {
		t.Fatalf("second page %v more %v: %v", rest, more, err)
	}
	all := append(page, rest...)
	slices.SortFunc(all, func(a, b shared.Member) int { return strings.Compare(a.Nick, b.Nick) })
	if got := nicks(all); got != "Ann,Cy,Dan,Eve" {
		t.Fatalf("paged members %s", got)
	}
	if _, _, err := ann.MembersPage(ctx, "lobby", "", 0); err == nil {
		t.Fatal("a page of 0 members was not refused")
	}
}
