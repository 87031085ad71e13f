//go:build linux

package sysnet

import (
	"net"
	"syscall"
)

// tcpNotsentLowat is TCP_NOTSENT_LOWAT from linux/tcp.h (the syscall
// package does not name it).
const tcpNotsentLowat = 25

// SetNotsentLowat bounds how many bytes c's kernel buffer holds that the
// peer has not been sent yet; 0 restores the system default. With it a
// write blocks once that much waits for a reader that stalled, instead of
// the kernel absorbing megabytes of a download for it.
func SetNotsentLowat(c net.Conn, n int) {
	tc, ok := c.(*net.TCPConn)
	if !ok {
		return
	}
	raw, err := tc.SyscallConn()
	if err != nil {
		return
	}
	raw.Control(func(fd uintptr) {
		syscall.SetsockoptInt(int(fd), syscall.IPPROTO_TCP, tcpNotsentLowat, n)
	})
}
