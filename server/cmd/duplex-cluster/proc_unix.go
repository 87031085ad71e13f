//go:build unix && !linux

package main

import "syscall"

// childAttr puts a node in a process group of its own: a Ctrl-C reaches
// it through duplex-cluster, which stops NATS only after the nodes.
func childAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }
