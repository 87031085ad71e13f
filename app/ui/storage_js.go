//go:build js && wasm

package ui

import (
	"github.com/duplex-chat/duplex/app/client"
	"github.com/maxence-charriere/go-app/v10/pkg/app"
)

func newStorage() client.Storage { return client.LocalStorage{} }

// setTokenCookie keeps the credential in a same-site cookie (or deletes
// it, for ""), so the server prerenders a private room's page only for
// someone with access.
func setTokenCookie(token string) {
	c := "duplex_token=" + token + "; Path=/; SameSite=Strict; Max-Age=2592000"
	if token == "" {
		c = "duplex_token=; Path=/; SameSite=Strict; Max-Age=0"
	}
	if app.Window().Get("location").Get("protocol").String() == "https:" {
		c += "; Secure"
	}
	app.Window().Get("document").Set("cookie", c)
}
