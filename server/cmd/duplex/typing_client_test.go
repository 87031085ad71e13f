package main

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/duplex-chat/duplex/app/client"
	"github.com/duplex-chat/duplex/shared"
	"github.com/duplex-chat/duplex/shared/testpoll"
)

// typingWatcher records a client's TypingChanged events.
type typingWatcher struct {
	c  *client.Client
	mu sync.Mutex
	ev []client.TypingChanged
}

func watchTyping(t *testing.T, ta *testApp, nick, room string) *typingWatcher {
	t.Helper()
	w := &typingWatcher{}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := client.Dial(ctx, ta.WS, &client.Options{Nick: nick, OnEvent: func(ev client.Event) {
		if e, ok := ev.(client.TypingChanged); ok {
			w.mu.Lock()
			w.ev = append(w.ev, e)
			w.mu.Unlock()
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if err := c.Join(ctx, room); err != nil {
		t.Fatal(err)
	}
	w.c = c
	return w
}

// waitFor waits until the latest TypingChanged of room lists exactly nicks.
func (w *typingWatcher) waitFor(t *testing.T, room string, nicks ...string) {
	t.Helper()
	want := strings.Join(nicks, ",")
	testpoll.Until(t, "typing "+want, func() bool {
		w.mu.Lock()
		defer w.mu.Unlock()
		if len(w.ev) == 0 || w.ev[len(w.ev)-1].Room != room {
			return false
		}
		var got []string
		for _, u := range w.ev[len(w.ev)-1].Users {
			got = append(got, u.Nick)
		}
		return strings.Join(got, ",") == want && strings.Join(typistNicks(w.c.Typists(room)), ",") == want
	}, func() string { w.mu.Lock(); defer w.mu.Unlock(); return "events so far: " + itoa(len(w.ev)) })
}

func (w *typingWatcher) count() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.ev)
}

// TestClientTyping: Typing reaches the other members as TypingChanged
// (never the typist itself); calling it on every keystroke sends one frame
// per throttle period (the others see one change, not one per key);
// sending a message and StopTyping clear it. Bad input tried: Typing in a
// room not joined and StopTyping without Typing do nothing.
func TestClientTyping(t *testing.T) {
	ta := startApp(t, "", "")
	ann := watchTyping(t, ta, "Ann", "typing")
	bob := watchTyping(t, ta, "Bob", "typing")

	ann.c.Typing("elsewhere")  // not joined: nothing
	ann.c.StopTyping("typing") // not typing: nothing
	for i := 0; i < 40; i++ {  // forty keystrokes
		ann.c.Typing("typing")
	}
	bob.waitFor(t, "typing", "Ann")
	if n := bob.count(); n != 1 {
		t.Fatalf("Bob saw %d typing changes for one burst of keystrokes, want 1", n)
	}
	if _, err := ann.c.Send("typing", "there"); err != nil {
		t.Fatal(err)
	}
	bob.waitFor(t, "typing") // sending clears it
	ann.c.Typing("typing")   // the throttle restarts after a send
	bob.waitFor(t, "typing", "Ann")
	bob.c.Typing("typing")
	ann.waitFor(t, "typing", "Bob")
	ann.c.StopTyping("typing")
	bob.waitFor(t, "typing")
	if n := ann.count(); n != 1 {
		t.Fatalf("Ann saw %d typing changes (%v), want only Bob's: never herself", n, ann.ev)
	}
}

func typistNicks(ms []shared.Member) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.Nick
	}
	return out
}
