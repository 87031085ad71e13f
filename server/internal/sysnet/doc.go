// Package sysnet holds the server's operating-system plumbing for sockets:
// the open-file limit and TCP options. It knows nothing of Duplex.
package sysnet
