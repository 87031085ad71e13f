//go:build js && wasm

package client

import "syscall/js"

// LocalStorage is a Storage on the browser's window.localStorage, so the
// outbox and history survive a page reload. Keys get Prefix.
type LocalStorage struct{ Prefix string }

// Get implements Storage.
func (s LocalStorage) Get(key string) (string, bool) {
	v := js.Global().Get("localStorage").Call("getItem", s.Prefix+key)
	if v.IsNull() || v.IsUndefined() {
		return "", false
	}
	return v.String(), true
}

// Set implements Storage. A full or disabled localStorage is ignored: the
// client keeps working from memory.
func (s LocalStorage) Set(key, value string) {
	defer func() { recover() }()
	js.Global().Get("localStorage").Call("setItem", s.Prefix+key, value)
}
