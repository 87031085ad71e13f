//go:build !unix

package server

// defaultMaxConns is -1 (no cap) where the open-file limit is not known.
func defaultMaxConns() int { return -1 }
