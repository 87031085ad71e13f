//go:build !(js && wasm)

package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// startAppWeb is startApp serving web files from webDir.
func startAppWeb(t *testing.T, addr, data, webDir string) *testApp {
	t.Helper()
	return startAppWith(t, config{addr: addr, dataDir: data, webDir: webDir})
}

// copyWeb copies the repo's web/ (without the compressed twins) to a
// temporary directory a test may change.
func copyWeb(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	entries, err := os.ReadDir(repoWeb(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.IsDir() || strings.HasSuffix(e.Name(), ".br") || strings.HasSuffix(e.Name(), ".gz") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(repoWeb(t), e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestBrowserAppUpdate (#10 point 1): when the server comes back with a
// different app.wasm, an open tab says a new version is available and
// offers a reload (go-app's OnAppUpdate, after ctx.TryUpdate on
// reconnect), and the reload runs the new version.
func TestBrowserAppUpdate(t *testing.T) {
	exe := requireBrowser(t)
	timed(t)
	web := copyWeb(t)
	ta := startAppWeb(t, "127.0.0.1:0", t.TempDir(), web)
	oldVersion := ta.app.wasmVersion
	a := newTab(t, exe, "alice")
	a.open(ta.URL + "/r/update")
	a.signIn("alice")
	poll[bool](a, "the service worker in control", `(async () => {
		await navigator.serviceWorker.ready;
		return !!navigator.serviceWorker.controller;
	})()`)
	if eval[bool](a, `!!document.querySelector('[data-test=update]')`) {
		t.Fatal("an update is offered before there is one")
	}

	// A new build: the same program with a custom section appended (valid
	// WebAssembly, another content hash, so another go-app version).
	ta.Stop()
	f, err := os.OpenFile(filepath.Join(web, "app.wasm"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	name, payload := "duplex-test", time.Now().Format(time.RFC3339Nano)
	section := append([]byte{0, byte(1 + len(name) + len(payload)), byte(len(name))}, name+payload...)
	if _, err := f.Write(section); err != nil {
		t.Fatal(err)
	}
	f.Close()
	ta = startAppWeb(t, ta.Addr, ta.Data, web)
	if ta.app.wasmVersion == oldVersion {
		t.Fatal("the changed app.wasm kept its version")
	}
	poll[bool](a, "the update offer", js(`__conn() === 'online' && !!document.querySelector('[data-test=update-reload]')`))
	a.do("reload", chromedp.Click(chromedp.CSS(`[data-test=update-reload]`)))
	pollAcrossLoad(a, "the new version running", js(`__loaded() && __conn() === 'online' && !document.querySelector('[data-test=update]') &&
		window.goappGetenv && goappGetenv('GOAPP_VERSION') === `+quote(ta.app.wasmVersion)))
}
