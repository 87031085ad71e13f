package sqlite

import (
	"context"
	"testing"

	"github.com/duplex-chat/duplex/server/store/storetest"
)

func TestCredentials(t *testing.T) { storetest.Credentials(t, openTemp) }

// TestCredentialsSurviveRestart: a revocation and a reserved nickname
// are in the file, not in memory.
func TestCredentialsSurviveRestart(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.RevokeToken(ctx, "tok", 5000); err != nil {
		t.Fatal(err)
	}
	if err := s.RevokeUser(ctx, "j1-x", 100, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ReserveNick(ctx, "alice", "j1-alice", "Alice"); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err = Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if r, b, err := s.Revoked(ctx, "tok", "j1-x", 1000); err != nil || !r || b != 100 {
		t.Fatalf("after reopening: revoked %v cutoff %d, %v", r, b, err)
	}
	if o, err := s.NickOwner(ctx, "alice"); err != nil || o != "j1-alice" {
		t.Fatalf("after reopening: owner %q, %v", o, err)
	}
}
