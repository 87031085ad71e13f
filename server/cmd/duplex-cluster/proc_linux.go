package main

import "syscall"

// childAttr puts a node in a process group of its own (a Ctrl-C reaches
// it through duplex-cluster, which stops NATS only after the nodes), and
// has the kernel stop it if duplex-cluster dies without doing so.
func childAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
}
