//go:build !(js && wasm)

package client

import (
	"context"
	"net/http"

	"github.com/coder/websocket"
	"github.com/duplex-chat/duplex/shared"
)

// Header is the type of Options.HTTPHeader: http.Header natively.
type Header = http.Header

// HTTPClient is the type of Options.HTTPClient: http.Client natively.
type HTTPClient = http.Client

func dial(ctx context.Context, url string, o *Options) (*websocket.Conn, error) {
	conn, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{
		Subprotocols:    []string{shared.Protocol},
		HTTPHeader:      o.HTTPHeader,
		HTTPClient:      o.HTTPClient,
		CompressionMode: o.Compression,
	})
	return conn, err
}

// watchNetwork does nothing natively: there are no browser events to
// shorten a reconnect wait.
func watchNetwork(*Client) (stop func()) { return func() {} }
