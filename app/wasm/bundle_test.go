//go:build !js

package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// prepare readies a build directory as the Makefile does for the bundle
// (patched copies of two modules and a go.mod replacing them) and
// returns the path of its go.mod.
func prepare(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if out, err := exec.Command("sh", "_overlay/prepare.sh", dir).CombinedOutput(); err != nil {
		t.Fatalf("_overlay/prepare.sh: %v\n%s", err, out)
	}
	return filepath.Join(dir, "go.mod")
}

// TestWasmImports guards the bundle size: the wasm build, with the
// patched modules the Makefile uses, must not import net/http (which links
// crypto/tls and its initializers, about 330 KB of brotli) nor any server
// or server-only package.
func TestWasmImports(t *testing.T) {
	cmd := exec.Command("go", "list", "-modfile", prepare(t), "-deps", ".")
	cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	banned := []string{"net/http", "crypto/tls", "crypto/x509",
		"github.com/duplex-chat/duplex/server", "github.com/golang-jwt/",
		"github.com/prometheus/", "golang.org/x/time/", "github.com/nats-io/"}
	for _, pkg := range strings.Fields(string(out)) {
		for _, b := range banned {
			if pkg == b || strings.HasPrefix(pkg, b+"/") || strings.HasSuffix(b, "/") && strings.HasPrefix(pkg, b) {
				t.Errorf("the wasm build imports %s (banned: %s)", pkg, b)
			}
		}
	}
}

// TestOverlayBase fails when a dependency the build patches changes
// version (or its files change) without the patched copies being redone
// from the new upstream files: each entry is the SHA-256 of the upstream
// file a patch was made from.
func TestOverlayBase(t *testing.T) {
	base := map[string]string{
		"github.com/maxence-charriere/go-app/v10 pkg/app/http.go":     "0601189a9f611378e9b24ab4bdf42780a03cbf95c1bbebd4171b523ddbe9a32d",
		"github.com/maxence-charriere/go-app/v10 pkg/app/resource.go": "6b52ab4ec2f4171d403384bffe159e9ec22699933e768ef5868f2851a1b84baa",
		"github.com/maxence-charriere/go-app/v10 pkg/app/wasm.go":     "10117b07fb7147cdfcd97d1e07cd010da30914e2a622b73d0242b5d9019796f8",
		"github.com/coder/websocket ws_js.go":                         "afde6fe4b98c1d28a9cb2f0e27203e8d8fa2c14cc779947698040bf9bc7decb7",
	}
	for key, want := range base {
		mod, file, _ := strings.Cut(key, " ")
		out, err := exec.Command("go", "mod", "download", "-json", mod).Output()
		if err != nil {
			t.Fatalf("go mod download %s: %v", mod, err)
		}
		var info struct{ Dir string }
		if err := json.Unmarshal(out, &info); err != nil || info.Dir == "" {
			t.Fatalf("go mod download %s: %s", mod, out)
		}
		got, err := os.ReadFile(filepath.Join(info.Dir, file))
		if err != nil {
			t.Fatal(err)
		}
		if sum := sha256.Sum256(got); hex.EncodeToString(sum[:]) != want {
			t.Errorf("%s %s is not the file its patch was made from: redo the patch (_overlay/README.md)", mod, file)
		}
	}
}
