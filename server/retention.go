package server

import (
	"context"
	"time"

	"github.com/duplex-chat/duplex/server/store"
)

// pruneBatch bounds the messages one store.Prune call removes, and
// prunePause is the breather between two calls: the commit loop's
// transactions get the store between batches, so retention never holds
// up sends for more than one small batch.
const (
	pruneBatch = 500
	prunePause = 20 * time.Millisecond
)

// retention is the store.Retention that Options ask for at time now.
func (srv *Server) retention(now time.Time) store.Retention {
	r := store.Retention{KeepCount: srv.opts.RetainCount}
	if srv.opts.RetainAge > 0 {
		r.Before = now.Add(-srv.opts.RetainAge).UnixMilli()
	}
	return r
}

// pruneLoop enforces RetainAge and RetainCount every PruneInterval, in
// batches, off every lock of the server, until Shutdown.
func (srv *Server) pruneLoop() {
	defer close(srv.prunerEnd)
	if srv.retention(time.Now()).IsZero() {
		return
	}
	t := time.NewTicker(srv.opts.PruneInterval)
	defer t.Stop()
	for {
		srv.pruneOnce()
		select {
		case <-t.C:
		case <-srv.quit:
			return
		}
	}
}

// pruneOnce removes every message outside retention now, batch by batch.
func (srv *Server) pruneOnce() {
	ret := srv.retention(time.Now())
	total := 0
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		n, err := srv.opts.Store.Prune(ctx, ret, pruneBatch)
		cancel()
		total += n
		if err != nil {
			srv.log.Error("retention: prune", "removed", total, "err", err)
			return
		}
		if n < pruneBatch {
			break
		}
		select {
		case <-time.After(prunePause):
		case <-srv.quit:
			return
		}
	}
	if total > 0 {
		srv.log.Info("retention: pruned messages", "removed", total)
	}
	if pi, ok := srv.opts.Store.(store.PrunedImages); ok {
		srv.removeImages(pi.TakePrunedImages()) // erase.go
	}
}

// prunedBefore returns the oldest seq of room still stored when retention
// removed messages at or after from (the first seq a request wanted), or
// 0 when the request reached no removed message.
func (srv *Server) prunedBefore(ctx context.Context, room string, from int64) int64 {
	p, err := srv.opts.Store.Pruned(ctx, room)
	if err != nil || p == 0 || from > p {
		return 0
	}
	return p + 1
}
