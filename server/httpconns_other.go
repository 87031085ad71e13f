//go:build !linux

package server

import "net"

// setNotsentLowat is a no-op where TCP_NOTSENT_LOWAT is not known: the
// write deadlines still cut a stalled reader once the kernel buffer fills.
func setNotsentLowat(net.Conn, int) {}
