//go:build unix

package server

import "syscall"

// defaultMaxConns derives Options.MaxConns from the soft open-file limit,
// leaving 10% and 64 descriptors for the store, the listeners, health
// checks and page loads. It returns -1 (no cap) when the limit is unknown
// or unlimited.
func defaultMaxConns() int {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		return -1
	}
	limit := uint64(l.Cur)
	if limit > 1<<31 {
		return -1
	}
	return max(int(limit)-int(limit)/10-64, 16)
}
