#!/bin/sh
# prepare.sh DIR readies DIR for building the wasm bundle with
# `go build -modfile DIR/go.mod`: copies of go-app and coder/websocket from
# the module cache with three files patched (the copies beside this
# script) and go-app's server-side http.go left out, and a go.mod that
# replaces the two modules with them. See README.md.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
out=$1
mkdir -p "$out"
out=$(cd "$out" && pwd)
moddir() { (cd "$root" && ${GO:-go} mod download -json "$1") | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p'; }
app=$(moddir github.com/maxence-charriere/go-app/v10)
ws=$(moddir github.com/coder/websocket)
[ -n "$app" ] && [ -n "$ws" ] || { echo "prepare.sh: cannot find the go-app or websocket module" >&2; exit 1; }
rm -rf "$out/go-app" "$out/websocket"
cp -R "$app" "$out/go-app"
cp -R "$ws" "$out/websocket"
chmod -R u+w "$out/go-app" "$out/websocket"
rm "$out/go-app/pkg/app/http.go"
cp "$here/go-app/resource.go" "$here/go-app/wasm.go" "$out/go-app/pkg/app/"
cp "$here/websocket/ws_js.go" "$out/websocket/"
cp "$root/go.sum" "$out/go.sum"
{
	cat "$root/go.mod"
	echo "replace github.com/maxence-charriere/go-app/v10 => $out/go-app"
	echo "replace github.com/coder/websocket => $out/websocket"
} >"$out/go.mod"
