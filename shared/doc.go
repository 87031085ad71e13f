// Package shared is the Duplex wire protocol: the frame types, the JSON
// codec with its validation, the error codes, the limits and the close-code
// table. Both the native server and the js/wasm client compile it, so the two
// sides can never disagree about a field. It imports the standard library
// only.
//
// Servers read clients with Decode, which is strict (unknown types and
// fields, repeated and wrongly-cased fields are errors); clients read
// servers with DecodeAll and DecodeServerFrame, which ignore unknown fields
// and skip unknown types, so that a newer server never strands an older
// client.
//
// PROTOCOL.md in this directory documents the protocol for implementers in
// other languages, with an example of every frame.
package shared
