//go:build !unix

package sysnet

// OpenFileLimit reports no limit where the open-file limit is not known.
func OpenFileLimit() (n int, ok bool) { return 0, false }
