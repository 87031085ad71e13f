// Package ui is the Duplex browser front end: go-app components that the
// wasm binary runs and the server prerenders for first paint.
package ui

import (
	"net/url"
	"strings"

	"github.com/duplex-chat/duplex/shared"
	"github.com/maxence-charriere/go-app/v10/pkg/app"
)

// DefaultRoom is the room "/" opens.
const DefaultRoom = "general"

// Routes registers the UI's pages. Both the wasm main and the server call
// it, so the server can prerender every page the browser can show.
func Routes() {
	app.Route("/", func() app.Composer { return &Chat{} })
	app.RouteWithRegexp(`^/r/[^/]+$`, func() app.Composer { return &Chat{} })
}

// RoomPath is the URL path of a room.
func RoomPath(room string) string { return "/r/" + url.PathEscape(room) }

// roomFromPath returns the room a path names, DefaultRoom for "/", and ""
// when the path names no valid room.
func roomFromPath(path string) string {
	if path == "/" || path == "" {
		return DefaultRoom
	}
	name, ok := strings.CutPrefix(path, "/r/")
	if !ok {
		return ""
	}
	if n, err := url.PathUnescape(name); err == nil {
		name = n
	}
	if shared.ValidRoom(name) != nil {
		return ""
	}
	return name
}
