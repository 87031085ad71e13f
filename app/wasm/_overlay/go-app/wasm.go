//go:build wasm
// +build wasm

package app

// Duplex patch: GenerateStaticWebsite, which only panicked in wasm, is left
// out of the wasm build because it names the server-side Handler (see
// app/wasm/_overlay/README.md).

func wasmExecJS() string {
	return ""
}
