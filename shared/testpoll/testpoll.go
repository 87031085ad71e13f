// Package testpoll is how Duplex's tests wait for state they expect: poll a
// condition until it holds, with a generous timeout, and on failure say
// what was waited for and what was seen last. Tests never sleep and then
// assert; they poll.
//
// It is for tests only (server, server/cmd/duplex, the stores and
// app/client import it from their _test files; no shipped package does).
// It lives under shared/ because that is the one folder both app/ and
// server/ may import, and like the rest of shared/ it uses the standard
// library only.
package testpoll

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

const (
	// Timeout is how long Until waits: generous, for a machine loaded by
	// other builds and tests. It only bounds a failing test; a passing one
	// returns as soon as its condition holds.
	Timeout = 60 * time.Second
	// Every is the pause between two looks.
	Every = 20 * time.Millisecond
)

// Until polls cond every Every until it returns true. After Timeout it
// fails t, naming what it waited for and, from each seen function, the
// state it saw last. cond runs on the caller's goroutine, so it may itself
// fail t (t.Fatal) when what it sees can never get better.
func Until(t testing.TB, what string, cond func() bool, seen ...func() string) {
	t.Helper()
	until(t, Timeout, what, cond, seen...)
}

func until(t testing.TB, timeout time.Duration, what string, cond func() bool, seen ...func() string) {
	t.Helper()
	if err := Wait(timeout, what, cond, seen...); err != nil {
		t.Fatal(err)
	}
}

// Wait polls cond every Every until it returns true (nil) or timeout
// passes (an error naming what and the state from each seen function).
// It is for waits without a test to fail (TestMain), with a timeout of
// their own, or whose caller reports the outcome itself.
func Wait(timeout time.Duration, what string, cond func() bool, seen ...func() string) error {
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			var b strings.Builder
			fmt.Fprintf(&b, "gave up after %v waiting for %s", timeout, what)
			for _, s := range seen {
				if s != nil {
					b.WriteString("\nlast seen: " + s())
				}
			}
			return fmt.Errorf("%s", b.String())
		}
		time.Sleep(Every)
	}
	return nil
}
