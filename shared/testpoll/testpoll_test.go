package testpoll_test

import (
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/duplex-chat/duplex/shared/testpoll"
)

// TestWaitReturnsWhenTheConditionHolds: a condition that becomes true on
// the third look ends the wait then, without error.
func TestWaitReturnsWhenTheConditionHolds(t *testing.T) {
	var looks atomic.Int32
	start := time.Now()
	err := testpoll.Wait(time.Minute, "the third look", func() bool { return looks.Add(1) == 3 })
	if err != nil {
		t.Fatalf("Wait: %v", err)
	}
	if n := looks.Load(); n != 3 {
		t.Fatalf("cond called %d times, want 3", n)
	}
	if d := time.Since(start); d > 30*time.Second {
		t.Fatalf("Wait returned after %v: it did not stop when the condition held", d)
	}
}

// TestWaitNamesWhatAndTheLastState: a condition that never holds gives an
// error naming what was waited for and the state the seen functions
// report (a nil seen function is skipped, not called).
func TestWaitNamesWhatAndTheLastState(t *testing.T) {
	n := 0
	err := testpoll.Wait(100*time.Millisecond, "the sky to fall", func() bool { n++; return false },
		func() string { return "sky still up" }, nil)
	if err == nil {
		t.Fatal("Wait returned nil for a condition that never held")
	}
	for _, want := range []string{"the sky to fall", "last seen: sky still up", "100ms"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if n < 2 {
		t.Errorf("cond looked at %d times in 100ms, want it polled", n)
	}
}

// TestUntilPassesAtOnce: a condition already true returns without
// failing the test and without sleeping.
func TestUntilPassesAtOnce(t *testing.T) {
	start := time.Now()
	testpoll.Until(t, "truth", func() bool { return true })
	if d := time.Since(start); d >= testpoll.Every*10 {
		t.Fatalf("Until took %v for a condition true at once", d)
	}
}
