//go:build linux

package main

import (
	"net"
	"syscall"
	"unsafe"
)

// tcpEstablished reports whether c is still ESTABLISHED (tcpi_state, the
// first byte of TCP_INFO): a connection the server reset is CLOSE, one
// it closed whose FIN arrived is CLOSE_WAIT. Reading would tell too, but
// would drain the data the client is refusing to take.
func tcpEstablished(c net.Conn) bool {
	tc, ok := c.(*net.TCPConn)
	if !ok {
		return true
	}
	raw, err := tc.SyscallConn()
	if err != nil {
		return false
	}
	var info [8]byte
	established := true
	raw.Control(func(fd uintptr) {
		n := uint32(len(info))
		_, _, errno := syscall.Syscall6(syscall.SYS_GETSOCKOPT, fd, syscall.IPPROTO_TCP, syscall.TCP_INFO,
			uintptr(unsafe.Pointer(&info[0])), uintptr(unsafe.Pointer(&n)), 0)
		established = errno == 0 && info[0] == 1 // TCP_ESTABLISHED
	})
	return established
}
