//go:build js && wasm

package client

import (
	"strings"
	"syscall/js"
)

// LocalStorage is a Storage on the browser's window.localStorage, so the
// outbox and history survive a page reload. Keys get Prefix. Every tab of
// the origin shares it: the outbox keeps one key per message, so tabs
// never overwrite each other's.
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

// Delete implements Storage.
func (s LocalStorage) Delete(key string) {
	defer func() { recover() }()
	js.Global().Get("localStorage").Call("removeItem", s.Prefix+key)
}

// Keys implements Storage.
func (s LocalStorage) Keys(prefix string) (keys []string) {
	defer func() { recover() }()
	ls := js.Global().Get("localStorage")
	full := s.Prefix + prefix
	for i, n := 0, ls.Get("length").Int(); i < n; i++ {
		k := ls.Call("key", i)
		if k.IsNull() || k.IsUndefined() {
			continue
		}
		if ks := k.String(); strings.HasPrefix(ks, full) {
			keys = append(keys, ks[len(s.Prefix):])
		}
	}
	return keys
}
