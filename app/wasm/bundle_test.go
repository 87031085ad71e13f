//go:build !js

package main

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestWasmImports guards the bundle size: the wasm build must not import
// net/http (which links crypto/tls and its initializers, about 330 KB of
// brotli) nor any server or server-only package.
func TestWasmImports(t *testing.T) {
	cmd := exec.Command("go", "list", "-deps", ".")
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

// patchedCopies are the dependencies go.mod replaces with the patched
// copies in app/third_party: every file there must equal upstream's,
// except the patched and added ones, so that an upgrade cannot silently
// keep stale code.
var patchedCopies = []struct {
	dir, module, version string
	patched, added       []string
}{
	{
		dir: "../third_party/go-app", module: "github.com/maxence-charriere/go-app/v10", version: "v10.1.11",
		patched: []string{"go.mod", "pkg/app/http.go", "pkg/app/resource.go", "pkg/app/wasm.go"},
		added:   []string{"PATCHES.md", "pkg/app/resource_local.go"},
	},
	{
		dir: "../third_party/websocket", module: "github.com/coder/websocket", version: "v1.8.15",
		patched: []string{"ws_js.go"},
		added:   []string{"PATCHES.md"},
	},
}

func TestPatchedCopiesMatchUpstream(t *testing.T) {
	for _, pc := range patchedCopies {
		t.Run(pc.module, func(t *testing.T) {
			upstream := downloadDir(t, pc.module+"@"+pc.version)
			if !strings.Contains(readFile(t, "../../go.mod"), pc.module+" "+pc.version) {
				t.Fatalf("go.mod does not require %s %s: update the copy and this test together", pc.module, pc.version)
			}
			seen := 0
			err := filepath.WalkDir(pc.dir, func(path string, d fs.DirEntry, err error) error {
				if err != nil || d.IsDir() {
					return err
				}
				rel, _ := filepath.Rel(pc.dir, path)
				rel = filepath.ToSlash(rel)
				mine, _ := os.ReadFile(path)
				theirs, err := os.ReadFile(filepath.Join(upstream, rel))
				switch {
				case contains(pc.added, rel):
					if err == nil {
						t.Errorf("%s: listed as added but upstream has it", rel)
					}
				case err != nil:
					t.Errorf("%s: not in upstream %s and not listed as added", rel, pc.version)
				case contains(pc.patched, rel):
					if bytes.Equal(mine, theirs) {
						t.Errorf("%s: listed as patched but equals upstream", rel)
					}
				case !bytes.Equal(mine, theirs):
					t.Errorf("%s: differs from upstream %s but is not listed as patched", rel, pc.version)
				}
				seen++
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if seen < len(pc.patched)+len(pc.added) {
				t.Fatalf("only %d files in %s", seen, pc.dir)
			}
		})
	}
}

// downloadDir returns the module cache directory of an upstream release,
// skipping the test when it cannot be fetched (offline, no proxy).
func downloadDir(t *testing.T, modVersion string) string {
	t.Helper()
	out, err := exec.Command("go", "mod", "download", "-json", modVersion).Output()
	if err != nil {
		t.Skipf("cannot fetch %s to compare (offline?): %v", modVersion, err)
	}
	var info struct{ Dir string }
	if err := json.Unmarshal(out, &info); err != nil || info.Dir == "" {
		t.Skipf("cannot fetch %s to compare: %s", modVersion, out)
	}
	return info.Dir
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
