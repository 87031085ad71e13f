//go:build js && wasm

package client

import (
	"context"
	"errors"
	"syscall/js"

	"github.com/coder/websocket"
	"github.com/duplex-chat/duplex/shared"
)

// Header is the type of Options.HTTPHeader, which the browser ignores. It
// is http.Header natively; naming net/http in the browser would link it,
// and crypto/tls with it, into the wasm bundle (about 400 KB brotli).
type Header = map[string][]string

// HTTPClient is the type of Options.HTTPClient, which the browser ignores
// (http.Client natively; see Header).
type HTTPClient struct{}

// dial opens the browser WebSocket. HTTPHeader cannot be set there
// (coder/websocket#290): the browser sends its own cookies and Origin.
func dial(ctx context.Context, url string, _ *Options) (*websocket.Conn, error) {
	// coder/websocket panics (and so kills the program) when there is no
	// WebSocket constructor, e.g. in Node before 22 without
	// --experimental-websocket: fail the attempt instead.
	if js.Global().Get("WebSocket").Type() != js.TypeFunction {
		return nil, errNoWebSocket
	}
	conn, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{Subprotocols: []string{shared.Protocol}})
	return conn, err
}

var errNoWebSocket = errors.New("duplex client: this JavaScript environment has no WebSocket")

// watchNetwork ends the reconnect wait at once when the browser says the
// network is back (online) or shows the page again from the back-forward
// cache (pageshow with persisted set): waiting out the backoff then would
// only leave the person offline for nothing.
func watchNetwork(c *Client) (stop func()) {
	win := js.Global()
	if win.Get("addEventListener").Type() != js.TypeFunction {
		return func() {} // Node: no window events
	}
	online := js.FuncOf(func(js.Value, []js.Value) any {
		go c.RetryNow()
		return nil
	})
	pageshow := js.FuncOf(func(_ js.Value, args []js.Value) any {
		if len(args) > 0 && args[0].Get("persisted").Truthy() {
			go c.RetryNow()
		}
		return nil
	})
	win.Call("addEventListener", "online", online)
	win.Call("addEventListener", "pageshow", pageshow)
	return func() {
		win.Call("removeEventListener", "online", online)
		win.Call("removeEventListener", "pageshow", pageshow)
		online.Release()
		pageshow.Release()
	}
}
