package client_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/duplex-chat/duplex/app/client"
	"github.com/duplex-chat/duplex/shared/testpoll"
)

// TestRetryNow: a client that cannot connect waits before the next
// attempt and says until when; RetryNow ends that wait early, so a new
// attempt (which fails again here) starts a new wait well before the old
// one would have ended. Bad input tried: RetryNow while not waiting (after
// Close) does nothing and does not block.
func TestRetryNow(t *testing.T) {
	c, err := client.New(unreachable, &client.Options{Nick: "retry", MinBackoff: time.Minute, MaxBackoff: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	first := waitNextRetry(t, c, time.Time{})
	if d := time.Until(first); d < 10*time.Second {
		t.Fatalf("next retry in %v, want about a minute (MinBackoff)", d)
	}
	c.RetryNow()
	waitNextRetry(t, c, first) // a new attempt failed and a new wait began
	if d := time.Until(first); d < 10*time.Second {
		t.Fatalf("the new wait began only %v before the old one would have ended: RetryNow did not cut it short", d)
	}
	c.Close()
	if !c.NextRetry().IsZero() {
		t.Errorf("NextRetry after Close = %v, want zero", c.NextRetry())
	}
	c.RetryNow() // not waiting: a no-op
}

// waitNextRetry polls until NextRetry is set and differs from prev.
func waitNextRetry(t *testing.T, c *client.Client, prev time.Time) time.Time {
	t.Helper()
	var at time.Time
	testpoll.Until(t, fmt.Sprintf("NextRetry set and moved from %v", prev), func() bool { at = c.NextRetry(); return !at.IsZero() && !at.Equal(prev) },
		func() string { return fmt.Sprintf("NextRetry %v", at) })
	return at
}
