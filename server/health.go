package server

import (
	"context"
	"errors"

	"github.com/duplex-chat/duplex/server/store"
)

// errShuttingDown is what Ready reports once Shutdown has begun.
var errShuttingDown = errors.New("duplex server: shutting down")

// Ready reports whether the server should get new clients: nil unless it
// is shutting down or its store cannot write (when the store implements
// store.Pinger, Ready makes one small real write). A readiness probe
// (/readyz in the duplex binary) calls it; liveness is just answering.
func (srv *Server) Ready(ctx context.Context) error {
	srv.mu.Lock()
	closing := srv.closing
	srv.mu.Unlock()
	if closing {
		return errShuttingDown
	}
	if p, ok := srv.opts.Store.(store.Pinger); ok {
		return p.Ping(ctx)
	}
	return nil
}
