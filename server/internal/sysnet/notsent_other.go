//go:build !linux

package sysnet

import "net"

// SetNotsentLowat is a no-op where TCP_NOTSENT_LOWAT is not known: the
// write deadlines still cut a stalled reader once the kernel buffer fills.
func SetNotsentLowat(net.Conn, int) {}
