package testpoll

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// fatalRecorder is a testing.TB whose Fatal records instead of stopping.
type fatalRecorder struct {
	testing.TB
	fatal string
}

func (r *fatalRecorder) Helper()           {}
func (r *fatalRecorder) Fatal(args ...any) { r.fatal = fmt.Sprint(args...) }

// TestUntilFailsTheTest: Until's body fails its test with the message
// naming what it waited for and the state seen, when the condition never
// holds (a 100 ms timeout here instead of Until's minute); and does not
// fail it when the condition holds.
func TestUntilFailsTheTest(t *testing.T) {
	r := &fatalRecorder{TB: t}
	until(r, 100*time.Millisecond, "nothing", func() bool { return false }, func() string { return "still nothing" })
	if !strings.Contains(r.fatal, "waiting for nothing") || !strings.Contains(r.fatal, "last seen: still nothing") {
		t.Fatalf("until failed the test with %q", r.fatal)
	}
	ok := &fatalRecorder{TB: t}
	until(ok, 100*time.Millisecond, "truth", func() bool { return true })
	if ok.fatal != "" {
		t.Fatalf("until failed a test whose condition held: %q", ok.fatal)
	}
}
