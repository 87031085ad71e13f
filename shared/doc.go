// Package shared is the Duplex wire protocol: the frame types, the JSON
// codec with its validation, the error codes, the limits and the close-code
// table. Both the native server and the js/wasm client compile it, so the two
// sides can never disagree about a field. It imports the standard library
// only.
//
// PROTOCOL.md in this directory documents the protocol for implementers in
// other languages, with an example of every frame.
package shared
