// Command wasm is the Duplex browser front end, built with GOOS=js
// GOARCH=wasm into web/app.wasm. It links the client package and the UI,
// never server code.
package main

import (
	"github.com/duplex-chat/duplex/app/ui"
	"github.com/maxence-charriere/go-app/v10/pkg/app"
)

func main() {
	ui.Routes() // in the browser it also takes the prerendered messages
	app.RunWhenOnBrowser()
}
