package ui

import (
	"github.com/duplex-chat/duplex/app/client"
	"github.com/duplex-chat/duplex/shared"
)

// viewState is the view state of the page that outlives one render and is
// not the chat's: open controls, folded bodies, attachments. It is part of
// the page's model (never a package variable: the server prerenders pages
// concurrently, one model per page). Only the UI goroutine touches it, so
// it takes no lock.
type viewState struct {
	// msgUI is the per-message controls' state: the message that asks to
	// confirm its delete and the one whose picker is open.
	msgUI struct {
		room            string
		confirm, picker int64
	}
	pickerQuery string // the emoji picker's search
	// pickerCategory is the category the picker shows without a search.
	pickerCategory int
	expanded       map[string]bool        // long messages unfolded by "Show more", by msg_id
	attachments    map[string]*attachment // each room's attachment, before it is sent
	bodies         bodyMemo               // formatted bodies by message version: bodymemo.go
}

// newModel is a page's model: one per page load in the browser, one per
// prerendered page on the server (routes.go).
func newModel() *model {
	return &model{
		state:      client.StateConnecting,
		views:      make(map[string]*roomView),
		sentImages: make(map[string]shared.Image),
		viewState:  viewState{expanded: make(map[string]bool), attachments: make(map[string]*attachment)},
	}
}
