package storetest

import (
	"testing"

	"github.com/duplex-chat/duplex/server/store"
)

// Credentials checks a store.Credentials (sign-out records and reserved
// nicknames, issue #15). open must return a store that implements it.
func Credentials(t *testing.T, open func(t testing.TB) store.Store) {
	fresh := freshStores(open)
	creds := func(t *testing.T) store.Credentials {
		s := fresh(t)
		c, ok := s.(store.Credentials)
		if !ok {
			t.Fatalf("%T does not implement store.Credentials", s)
		}
		return c
	}
	revoked := func(t *testing.T, c store.Credentials, token, user string, now int64) (bool, int64) {
		t.Helper()
		r, before, err := c.Revoked(ctx, token, user, now)
		if err != nil {
			t.Fatal(err)
		}
		return r, before
	}

	t.Run("revoked tokens until they expire", func(t *testing.T) {
		c := creds(t)
		if r, b := revoked(t, c, "tok-a", "u-ann", 1000); r || b != 0 {
			t.Fatalf("a fresh store: revoked %v cutoff %d", r, b)
		}
		if err := c.RevokeToken(ctx, "tok-a", 5000); err != nil {
			t.Fatal(err)
		}
		if r, _ := revoked(t, c, "tok-a", "u-ann", 4999); !r {
			t.Fatal("a revoked token is not revoked before its expiry")
		}
		if r, _ := revoked(t, c, "tok-b", "u-ann", 4999); r {
			t.Fatal("another token is revoked")
		}
		if r, _ := revoked(t, c, "", "u-ann", 4999); r {
			t.Fatal("an empty token id is revoked")
		}
		if err := c.PruneRevoked(ctx, 6000); err != nil {
			t.Fatal(err)
		}
		if r, _ := revoked(t, c, "tok-a", "u-ann", 4999); r {
			t.Fatal("a revoked token past its expiry was not pruned")
		}
	})

	t.Run("user cutoffs only move forward and expire", func(t *testing.T) {
		c := creds(t)
		if err := c.RevokeUser(ctx, "u-ann", 100, 0); err != nil {
			t.Fatal(err)
		}
		if err := c.RevokeUser(ctx, "u-ann", 50, 0); err != nil {
			t.Fatal(err)
		}
		if _, b := revoked(t, c, "", "u-ann", 1); b != 100 {
			t.Fatalf("cutoff %d after an earlier one, want 100", b)
		}
		if _, b := revoked(t, c, "", "u-bob", 1); b != 0 {
			t.Fatalf("another user's cutoff %d", b)
		}
		if err := c.RevokeUser(ctx, "u-bob", 200, 9000); err != nil {
			t.Fatal(err)
		}
		if err := c.PruneRevoked(ctx, 10000); err != nil {
			t.Fatal(err)
		}
		if _, b := revoked(t, c, "", "u-bob", 10000); b != 0 {
			t.Fatalf("a cutoff past its keep: %d", b)
		}
		if _, b := revoked(t, c, "", "u-ann", 10000); b != 100 {
			t.Fatalf("a cutoff kept for good was pruned: %d", b)
		}
	})

	t.Run("reserved nicknames", func(t *testing.T) {
		c := creds(t)
		owner := func(key string) string {
			t.Helper()
			u, err := c.NickOwner(ctx, key)
			if err != nil {
				t.Fatal(err)
			}
			return u
		}
		reserve := func(key, user string) string {
			t.Helper()
			o, err := c.ReserveNick(ctx, key, user, key)
			if err != nil {
				t.Fatal(err)
			}
			return o
		}
		if owner("alice") != "" {
			t.Fatal("a fresh store has an owner")
		}
		if o := reserve("alice", "j1-alice"); o != "" {
			t.Fatalf("reserve: owner %q", o)
		}
		if o := reserve("alice", "j1-mallory"); o != "j1-alice" || owner("alice") != "j1-alice" {
			t.Fatalf("another user reserved a held key: owner %q", o)
		}
		if o := reserve("alice", "j1-alice"); o != "" {
			t.Fatalf("the owner again: %q", o)
		}
		if o := reserve("alice2", "j1-alice"); o != "" || owner("alice") != "" || owner("alice2") != "j1-alice" {
			t.Fatalf("a new nickname did not replace the old reservation: alice %q alice2 %q", owner("alice"), owner("alice2"))
		}
		if o := reserve("alice", "j1-mallory"); o != "" || owner("alice") != "j1-mallory" {
			t.Fatal("a freed nickname could not be taken")
		}
	})
}
