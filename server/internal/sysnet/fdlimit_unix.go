//go:build unix

package sysnet

import "syscall"

// OpenFileLimit returns the soft open-file limit; ok is false when it is
// unknown or unlimited.
func OpenFileLimit() (n int, ok bool) {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		return 0, false
	}
	limit := uint64(l.Cur)
	if limit > 1<<31 {
		return 0, false
	}
	return int(limit), true
}
