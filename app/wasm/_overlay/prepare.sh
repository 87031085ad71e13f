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
# moddir MODULE downloads MODULE at the version go.mod requires (a no-op
# when the module cache has it) and prints its directory. When that fails
# (no network, GOPROXY=off, GOFLAGS=-mod=vendor, a checksum mismatch, ...)
# it says why, with the go command's own words, and the build stops.
moddir() {
	json=$(cd "$root" && ${GO:-go} mod download -json "$1" 2>&1) || {
		echo "prepare.sh: go mod download $1 failed:" >&2
		printf '%s\n' "$json" >&2
		exit 1
	}
	dir=$(printf '%s\n' "$json" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
	[ -n "$dir" ] && [ -d "$dir" ] || {
		echo "prepare.sh: go mod download $1 gave no module directory:" >&2
		printf '%s\n' "$json" >&2
		exit 1
	}
	printf '%s\n' "$dir"
}
app=$(moddir github.com/maxence-charriere/go-app/v10)
ws=$(moddir github.com/coder/websocket)
rm -rf "$out/go-app" "$out/websocket"
cp -R "$app" "$out/go-app"
cp -R "$ws" "$out/websocket"
chmod -R u+w "$out/go-app" "$out/websocket"
rm "$out/go-app/pkg/app/http.go"
cp "$here/go-app/resource.go" "$here/go-app/wasm.go" "$out/go-app/pkg/app/"
cp "$here/websocket/ws_js.go" "$out/websocket/"
cp "$root/go.sum" "$out/go.sum"
# Inside the repository the replacements are relative (the go command
# reads them from the module root): the bundle records them in its build
# information, so it does not then name the directory it was built in and
# two checkouts build the same bytes.
case $out in
"$root"/*) rel=./${out#"$root"/} ;;
*) rel=$out ;;
esac
{
	cat "$root/go.mod"
	echo "replace github.com/maxence-charriere/go-app/v10 => $rel/go-app"
	echo "replace github.com/coder/websocket => $rel/websocket"
} >"$out/go.mod"
