// Package ui is the Duplex browser front end: go-app components that the
// wasm binary runs and the server prerenders for first paint.
//
// The page (Chat) is made of components that read like it: SignIn,
// RoomList, MessageList, Composer, MemberList and ConnStatus. They render
// snapshots of the model (model.go) and never lock it.
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
// it, so the server can prerender every page the browser can show. Every
// path is routed to the page, which shows a not-found page with a way
// back for paths that name no room (the server sends those with 404).
//
// The page's model is made here, not kept in a package variable: in the
// browser one model serves the page load (it outlives remounts and
// navigations, and takes the prerendered messages before go-app replaces
// the prerendered DOM); on the server every prerendered page gets its own,
// since go-app prerenders pages concurrently, one goroutine per request.
func Routes() {
	page := func() app.Composer { return &Chat{m: newModel()} }
	if app.IsClient {
		m := newModel()
		m.seedFromPrerender()
		page = func() app.Composer { return &Chat{m: m} }
	}
	app.Route("/", page)
	app.RouteWithRegexp(`^/.*$`, page)
}

// RoomPath is the URL path of a room.
func RoomPath(room string) string { return "/r/" + url.PathEscape(room) }

// roomFromPath returns the room a path names, DefaultRoom for "/", and ""
// when the path names no valid room. Room names are lower case; a path
// with upper case names the lower-case room (CanonicalPath redirects).
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
	name = strings.ToLower(name)
	if shared.ValidRoom(name) != nil {
		return ""
	}
	return name
}

// CanonicalPath returns the path a page should live at and whether path
// is a page at all: "/r/Design-Review" lives at "/r/design-review"; a path
// naming no room is not a page (the server answers it with 404 and the
// not-found page).
func CanonicalPath(path string) (canonical string, found bool) {
	if path == "/" || path == "" {
		return "/", true
	}
	room := roomFromPath(path)
	if room == "" {
		return path, false
	}
	return RoomPath(room), true
}
