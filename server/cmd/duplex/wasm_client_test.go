package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestClientUnderWasm runs the client package's TestDialRealServer and
// TestDialRealServerSignedOut compiled for js/wasm in Node against the real
// server: the same client code the browser runs dials, joins, sends and
// receives over Node's WebSocket (which sends no Origin header: the
// server's same-origin check lets such non-browser clients in), and sees
// the server's close code when its credential is revoked. It is built as
// the bundle is (the module graph app/wasm/_overlay/prepare.sh writes, with
// the patched coder/websocket), so it tests the socket code the browser
// runs.
func TestClientUnderWasm(t *testing.T) {
	if testing.Short() {
		t.Skip("compiles the client tests for js/wasm")
	}
	node, err := exec.LookPath("node")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("node is not installed (required in CI)")
		}
		t.Skip("node is not installed")
	}
	// Node 22+ has a global WebSocket; 20.10+ needs --experimental-websocket.
	probe := exec.Command(node, "-e", "process.exit(typeof WebSocket === 'function' ? 0 : 3)")
	probe.Env = append(os.Environ(), "NODE_OPTIONS=--experimental-websocket")
	if out, err := probe.CombinedOutput(); err != nil {
		v, _ := exec.Command(node, "--version").Output()
		t.Skipf("node %s has no WebSocket even with --experimental-websocket (needs 20.10+): %v %s", strings.TrimSpace(string(v)), err, out)
	}
	goTool := rcGoTool(t)
	goroot, err := exec.Command(goTool, "env", "GOROOT").Output()
	if err != nil {
		t.Fatal(err)
	}
	wasmExec := filepath.Join(strings.TrimSpace(string(goroot)), "lib", "wasm")

	ta := startApp(t, "", "")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	modDir := t.TempDir()
	prep := exec.CommandContext(ctx, "sh", "app/wasm/_overlay/prepare.sh", modDir)
	prep.Dir = rcRepoRoot(t)
	prep.Env = append(os.Environ(), "GO="+goTool)
	if out, err := prep.CombinedOutput(); err != nil {
		t.Fatalf("app/wasm/_overlay/prepare.sh: %v\n%s", err, out)
	}
	cmd := exec.CommandContext(ctx, goTool, "test", "-modfile", filepath.Join(modDir, "go.mod"), "-count=1", "-v", "-run", "Dial", "./app/client/")
	cmd.Dir = rcRepoRoot(t)
	env := []string{}
	for _, kv := range os.Environ() {
		switch strings.SplitN(kv, "=", 2)[0] {
		case "PATH", "GOOS", "GOARCH", "NODE_OPTIONS", "DUPLEX_TEST_WS", "GOFLAGS":
			continue
		}
		env = append(env, kv)
	}
	cmd.Env = append(env,
		"PATH="+wasmExec+string(os.PathListSeparator)+os.Getenv("PATH"),
		"GOOS=js", "GOARCH=wasm",
		"NODE_OPTIONS=--experimental-websocket",
		"DUPLEX_TEST_WS="+ta.WS,
	)
	start := time.Now()
	out, err := cmd.CombinedOutput()
	t.Logf("GOOS=js GOARCH=wasm go test -run Dial ./app/client/ (%v):\n%s", time.Since(start).Round(time.Millisecond), out)
	if err != nil {
		t.Fatalf("wasm client test failed: %v", err)
	}
	for _, name := range []string{"TestDialRealServer", "TestDialRealServerSignedOut"} {
		if !strings.Contains(string(out), "--- PASS: "+name+" ") {
			t.Fatalf("%s did not run and pass under wasm", name)
		}
	}
}
