package server

import (
	"context"
	"time"

	"github.com/duplex-chat/duplex/server/files"
)

// removeImage removes the file of an image that a delete left attached
// to no message (store.Result.Orphaned), when the files store can
// (files.Remover), off the commit loop. A crash before it runs leaves
// the file in place (as every image was kept before issue #15); the
// deleted message no longer names it.
func (s *Server) removeImage(id string) {
	rm, ok := s.opts.Files.(files.Remover)
	if !ok {
		return
	}
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := rm.Remove(ctx, id); err != nil {
			s.log.Error("remove deleted image", "image", id, "err", err)
		}
	}()
}
