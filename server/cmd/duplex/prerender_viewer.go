package main

import (
	"context"
	"net/http"

	"github.com/duplex-chat/duplex/app/ui"
	"github.com/duplex-chat/duplex/server/store"
	"github.com/duplex-chat/duplex/shared"
)

// withViewer tells the prerenderer who asks for a room page, so that the
// page marks their own reactions (issue #14: reactions carry Me, not the
// list of who reacted): the user the credential cookie names, passed in
// the query parameter ui.ViewerParam. A parameter the request itself
// carried is removed first: nobody reads a page as someone else.
func withViewer(r *http.Request, ids *identities) *http.Request {
	q := r.URL.Query()
	given := q.Has(ui.ViewerParam)
	q.Del(ui.ViewerParam)
	if c, err := r.Cookie(tokenCookie); err == nil {
		if user := ids.verify(r.Context(), c.Value); user != "" {
			q.Set(ui.ViewerParam, user)
		}
	}
	if !given && !q.Has(ui.ViewerParam) {
		return r
	}
	r2 := r.Clone(r.Context())
	r2.URL.RawQuery = q.Encode()
	return r2
}

// RecentFor is Recent as viewer sees it (ui.ViewerHistorySource).
func (h storeHistory) RecentFor(ctx context.Context, room string, n int, viewer string) ([]shared.Message, error) {
	return h.st.Before(store.WithViewer(ctx, viewer), room, 0, n)
}
