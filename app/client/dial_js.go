//go:build js && wasm

package client

import (
	"context"

	"github.com/coder/websocket"
	"github.com/duplex-chat/duplex/shared"
)

// dial opens the browser WebSocket. HTTPHeader cannot be set there
// (coder/websocket#290): the browser sends its own cookies and Origin.
func dial(ctx context.Context, url string, _ *Options) (*websocket.Conn, error) {
	conn, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{Subprotocols: []string{shared.Protocol}})
	return conn, err
}
