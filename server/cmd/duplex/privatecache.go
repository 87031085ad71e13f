package main

import (
	"net/http"

	"github.com/duplex-chat/duplex/server/store"
	"github.com/duplex-chat/duplex/shared"
)

// No shared cache for private pages (issue #15). The page of a private
// room or a DM differs by who asks (its messages are prerendered only for
// a member's duplex_token cookie), so it must never be stored by a shared
// cache nor revalidated against another identity's copy: it is sent with
// "Cache-Control: private, no-store", "Vary: Cookie" and no ETag (go-app's
// ETag names the app version only, the same for every identity and for a
// public page). Public rooms' pages are the same for everyone and keep
// go-app's headers.

// publicRoom reports whether room is public or not created yet (its page
// is then the same for everyone). A store error counts as private.
func publicRoom(r *http.Request, st store.Store, room string) bool {
	meta, exists, err := st.Room(r.Context(), room)
	if err != nil {
		return false
	}
	return !exists || meta.Kind == "" || meta.Kind == shared.RoomPublic
}

// noSharedCache sets the private page's caching headers just before the
// header is written, over whatever the page handler set.
type noSharedCache struct {
	http.ResponseWriter
	done bool
}

func (w *noSharedCache) set() {
	if w.done {
		return
	}
	w.done = true
	h := w.Header()
	h.Set("Cache-Control", "private, no-store")
	h.Del("ETag")
	h.Del("Last-Modified")
	for _, v := range h.Values("Vary") {
		if http.CanonicalHeaderKey(v) == "Cookie" {
			return
		}
	}
	h.Add("Vary", "Cookie")
}

func (w *noSharedCache) WriteHeader(status int) {
	w.set()
	w.ResponseWriter.WriteHeader(status)
}

func (w *noSharedCache) Write(b []byte) (int, error) {
	w.set()
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *noSharedCache) Unwrap() http.ResponseWriter { return w.ResponseWriter }
