//go:build !(js && wasm)

package client

import (
	"context"

	"github.com/coder/websocket"
	"github.com/duplex-chat/duplex/shared"
)

func dial(ctx context.Context, url string, o *Options) (*websocket.Conn, error) {
	conn, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{
		Subprotocols:    []string{shared.Protocol},
		HTTPHeader:      o.HTTPHeader,
		HTTPClient:      o.HTTPClient,
		CompressionMode: o.Compression,
	})
	return conn, err
}
