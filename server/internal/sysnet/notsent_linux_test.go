//go:build linux

package sysnet

import (
	"net"
	"syscall"
	"testing"
)

// TestSetNotsentLowat sets the option on a real TCP connection and reads
// it back from the kernel; a conn that is not TCP (net.Pipe) is left alone
// without a panic.
func TestSetNotsentLowat(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		if c, err := ln.Accept(); err == nil {
			defer c.Close()
			c.Read(make([]byte, 1))
		}
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	get := func() int {
		raw, err := c.(*net.TCPConn).SyscallConn()
		if err != nil {
			t.Fatal(err)
		}
		var v int
		var gerr error
		raw.Control(func(fd uintptr) { v, gerr = syscall.GetsockoptInt(int(fd), syscall.IPPROTO_TCP, tcpNotsentLowat) })
		if gerr != nil {
			t.Fatal(gerr)
		}
		return v
	}
	for _, n := range []int{16 << 10, 128 << 10} {
		SetNotsentLowat(c, n)
		if got := get(); got != n {
			t.Fatalf("after SetNotsentLowat(%d) the kernel says %d", n, got)
		}
	}
	p1, p2 := net.Pipe()
	defer p1.Close()
	defer p2.Close()
	SetNotsentLowat(p1, 1)
}
