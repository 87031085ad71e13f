package main

import (
	"os"
	"path/filepath"
	"testing"
)

// TestSessionKeyKept: the first run makes the shared key (mode 0600, long
// enough for duplex's -session-key), later runs read the same one, so a
// restart of make serve-cluster signs nobody out.
func TestSessionKeyKept(t *testing.T) {
	path := filepath.Join(t.TempDir(), "session.key")
	k1, err := sessionKey(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(k1) < 16 {
		t.Fatalf("key %q is shorter than duplex accepts", k1)
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %v, want 0600", info.Mode().Perm())
	}
	k2, err := sessionKey(path)
	if err != nil || k2 != k1 {
		t.Fatalf("second run: %q, %v; want %q", k2, err, k1)
	}
	os.WriteFile(path, []byte("short\n"), 0o600)
	if _, err := sessionKey(path); err == nil {
		t.Error("a file that is not a key was accepted")
	}
}

func TestBadPortsRefused(t *testing.T) {
	if err := run("bin/duplex", t.TempDir(), t.TempDir(), "web", "8081,x"); err == nil {
		t.Error("-ports 8081,x was accepted")
	}
}
