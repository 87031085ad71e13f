//go:build unix

package sysnet

import (
	"syscall"
	"testing"
)

// TestOpenFileLimitFollowsSoftLimit: the soft limit is what is reported,
// read afresh each call; lowered to 1000 and then to 64 (bad inputs for a
// cap would be a stale or hard limit) it says 1000, then 64.
func TestOpenFileLimitFollowsSoftLimit(t *testing.T) {
	var orig syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &orig); err != nil {
		t.Skip("no RLIMIT_NOFILE here:", err)
	}
	t.Cleanup(func() { syscall.Setrlimit(syscall.RLIMIT_NOFILE, &orig) })
	for _, soft := range []uint64{1000, 64} {
		if soft > orig.Max {
			t.Skipf("hard limit %d is below %d", orig.Max, soft)
		}
		l := orig
		l.Cur = soft
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
			t.Fatalf("set the soft limit to %d: %v", soft, err)
		}
		n, ok := OpenFileLimit()
		if !ok || n != int(soft) {
			t.Fatalf("soft limit %d: OpenFileLimit() = %d, %v", soft, n, ok)
		}
	}
}
