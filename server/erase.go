package server

import (
	"context"
	"time"

	"github.com/duplex-chat/duplex/server/files"
)

// removeImage removes the file of an image that a delete left attached
// to no message (store.Result.Orphaned; for retention
// store.PrunedImages), when the files store can (files.Remover), off the
// commit loop. A crash before it runs leaves the file in place (as every
// image was kept before issue #15); no message names it any more.
func (srv *Server) removeImage(id string) { srv.removeImages([]string{id}) }

// removeImages is removeImage for several ids, one after another on one
// goroutine (retention may orphan many at once).
func (srv *Server) removeImages(ids []string) {
	rm, ok := srv.opts.Files.(files.Remover)
	if !ok || len(ids) == 0 {
		return
	}
	go func() {
		for _, id := range ids {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			if err := rm.Remove(ctx, id); err != nil {
				srv.log.Error("remove erased image", "image", id, "err", err)
			}
			cancel()
		}
	}()
}
