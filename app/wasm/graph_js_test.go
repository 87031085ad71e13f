//go:build js && wasm

package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"runtime/debug"
	"testing"

	"github.com/coder/websocket"
)

// The modules the bundle build patches, and the directory prepare.sh puts
// each patched copy in.
var patched = map[string]string{
	"github.com/maxence-charriere/go-app/v10": "go-app",
	"github.com/coder/websocket":              "websocket",
}

// TestBundleModuleGraph proves that the wasm tests compile the code the
// bundle ships: `make test-wasm` runs this package in the same `go test`
// as shared, app/client and app/ui, so they all link what this test binary
// links. It fails when
//   - the test binary links upstream go-app or coder/websocket instead of
//     prepare.sh's patched copies (a plain `GOOS=js go test`, without
//     -modfile .wasmbuild/go.mod; tried: that run fails here);
//   - the test binary does not have the patched websocket: Dial returns the
//     overlay's *websocket.Response, upstream's returns *http.Response;
//   - web/app.wasm was built from another module graph than this test
//     binary (another go.mod, other versions or other replacements): both
//     binaries carry their build information and the dependencies must be
//     the same list (tried: the bundle against a test binary built from
//     upstream go-app and websocket; a dependency bump without `make
//     wasm` differs the same way, in a version instead of a replacement).
func TestBundleModuleGraph(t *testing.T) {
	own, ok := debug.ReadBuildInfo()
	if !ok {
		t.Fatal("the test binary carries no build information")
	}
	for mod, dir := range patched {
		d := dep(own, mod)
		switch {
		case d == nil:
			t.Errorf("the test binary does not link %s", mod)
		case d.Replace == nil || filepath.Base(d.Replace.Path) != dir:
			t.Errorf("the test binary links upstream %s %s, not the bundle's patched copy: run the wasm tests with `make test-wasm` (go test -modfile .wasmbuild/go.mod)", mod, d.Version)
		}
	}
	if got := reflect.TypeOf(websocket.Dial).Out(1).String(); got != "*websocket.Response" {
		t.Errorf("websocket.Dial returns %s, not the patched ws_js.go's *websocket.Response", got)
	}

	wasm, err := os.ReadFile("../../web/app.wasm")
	if err != nil {
		t.Fatalf("reading the bundle (make wasm builds it; make test-wasm does first): %v", err)
	}
	bundle, err := bundleBuildInfo(wasm)
	if err != nil {
		t.Fatalf("web/app.wasm: %v", err)
	}
	if bundle.Path != "github.com/duplex-chat/duplex/app/wasm" {
		t.Errorf("web/app.wasm is the build of %q, not of app/wasm", bundle.Path)
	}
	if g, w := depList(own), depList(bundle); !reflect.DeepEqual(g, w) {
		t.Errorf("web/app.wasm and the wasm tests link different modules (rebuild with make wasm):\ntests:  %q\nbundle: %q", g, w)
	}
}

func dep(bi *debug.BuildInfo, path string) *debug.Module {
	for _, d := range bi.Deps {
		if d.Path == path {
			return d
		}
	}
	return nil
}

// depList is each dependency as "path version sum => replacement".
func depList(bi *debug.BuildInfo) []string {
	var out []string
	for _, d := range bi.Deps {
		s := d.Path + " " + d.Version + " " + d.Sum
		if r := d.Replace; r != nil {
			s += " => " + r.Path + " " + r.Version + " " + r.Sum
		}
		out = append(out, s)
	}
	return out
}

// bundleBuildInfo reads the build information the go command writes into
// every binary (runtime/debug.modinfo), which debug/buildinfo cannot read
// from wasm: it sits between two 16-byte markers (cmd/go's infoStart and
// infoEnd).
func bundleBuildInfo(wasm []byte) (*debug.BuildInfo, error) {
	start := []byte("\x30\x77\xaf\x0c\x92\x74\x08\x02\x41\xe1\xc1\x07\xe6\xd6\x18\xe6")
	end := []byte("\xf9\x32\x43\x31\x86\x18\x20\x72\x00\x82\x42\x10\x41\x16\xd8\xf2")
	i := bytes.Index(wasm, start)
	if i < 0 {
		return nil, errNoBuildInfo
	}
	info := wasm[i+len(start):]
	j := bytes.Index(info, end)
	if j < 0 {
		return nil, errNoBuildInfo
	}
	return debug.ParseBuildInfo(string(info[:j]))
}

var errNoBuildInfo = errors.New("no Go build information found")
