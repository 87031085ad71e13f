package store

import (
	"context"
	"sync"
)

// Credentials is what sign-out needs from a store (issue #15): revoked
// credentials, users who signed out everywhere, and the nicknames kept
// for verified users while they are offline. Memory and the SQLite store
// implement it; the server keeps the records in process memory for a
// store that does not (they are then lost on restart, and not shared by
// several nodes).
type Credentials interface {
	// RevokeToken refuses the credential tokenID (a hash of the token,
	// see server.Identity.TokenID) until expires, Unix ms: it would have
	// expired then anyway, and the record may be pruned.
	RevokeToken(ctx context.Context, tokenID string, expires int64) error
	// RevokeUser refuses every credential of user issued at or before
	// before (Unix seconds). The record is kept until keep (Unix ms; 0:
	// for good). A later call with an earlier before changes nothing.
	RevokeUser(ctx context.Context, user string, before, keep int64) error
	// Revoked reports whether tokenID is revoked and user's cutoff (the
	// before of RevokeUser, 0 when none), ignoring records whose time
	// ended before now (Unix ms).
	Revoked(ctx context.Context, tokenID, user string, now int64) (revoked bool, before int64, err error)
	// PruneRevoked removes the records whose time ended before now.
	PruneRevoked(ctx context.Context, now int64) error
	// ReserveNick keeps the nickname key (shared.NickKey of nick) for
	// user, in place of the user's earlier reservation. When another user
	// holds key nothing changes and owner names them.
	ReserveNick(ctx context.Context, key, user, nick string) (owner string, err error)
	// NickOwner returns the user who holds key, "" when nobody does.
	NickOwner(ctx context.Context, key string) (user string, err error)
}

// MemoryCredentials is Credentials in process memory. The zero value is
// ready; Memory embeds one.
type MemoryCredentials struct {
	mu     sync.Mutex
	tokens map[string]int64 // token id -> expires, Unix ms
	users  map[string]userCutoff
	nicks  map[string]string // key -> user
	byUser map[string]string // user -> key
}

type userCutoff struct{ before, keep int64 }

var _ Credentials = (*MemoryCredentials)(nil)

// RevokeToken implements Credentials.
func (m *MemoryCredentials) RevokeToken(_ context.Context, tokenID string, expires int64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.tokens == nil {
		m.tokens = make(map[string]int64)
	}
	m.tokens[tokenID] = max(m.tokens[tokenID], expires)
	return nil
}

// RevokeUser implements Credentials.
func (m *MemoryCredentials) RevokeUser(_ context.Context, user string, before, keep int64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.users == nil {
		m.users = make(map[string]userCutoff)
	}
	old, ok := m.users[user]
	if ok && old.before >= before {
		return nil
	}
	m.users[user] = userCutoff{before: before, keep: keep}
	return nil
}

// Revoked implements Credentials.
func (m *MemoryCredentials) Revoked(_ context.Context, tokenID, user string, now int64) (bool, int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	exp, revoked := m.tokens[tokenID]
	revoked = revoked && tokenID != "" && exp >= now
	var before int64
	if c, ok := m.users[user]; ok && (c.keep == 0 || c.keep >= now) {
		before = c.before
	}
	return revoked, before, nil
}

// PruneRevoked implements Credentials.
func (m *MemoryCredentials) PruneRevoked(_ context.Context, now int64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for id, exp := range m.tokens {
		if exp < now {
			delete(m.tokens, id)
		}
	}
	for u, c := range m.users {
		if c.keep != 0 && c.keep < now {
			delete(m.users, u)
		}
	}
	return nil
}

// ReserveNick implements Credentials.
func (m *MemoryCredentials) ReserveNick(_ context.Context, key, user, _ string) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if owner, ok := m.nicks[key]; ok && owner != user {
		return owner, nil
	}
	if m.nicks == nil {
		m.nicks, m.byUser = make(map[string]string), make(map[string]string)
	}
	if old, ok := m.byUser[user]; ok {
		delete(m.nicks, old)
	}
	m.nicks[key], m.byUser[user] = user, key
	return "", nil
}

// NickOwner implements Credentials.
func (m *MemoryCredentials) NickOwner(_ context.Context, key string) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.nicks[key], nil
}
