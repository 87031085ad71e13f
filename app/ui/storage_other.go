//go:build !(js && wasm)

package ui

import "github.com/duplex-chat/duplex/app/client"

func newStorage() client.Storage { return &client.Memory{} }

func setTokenCookie(string) {}
