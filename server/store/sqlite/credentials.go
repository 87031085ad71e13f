package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/duplex-chat/duplex/server/store"
)

// credentialsSchema holds what sign-out needs (store.Credentials). It is
// created with IF NOT EXISTS on every open rather than as a numbered
// migration, so that it merges with other branches' migrations in any
// order; it never changes shape (a change would be a migration).
const credentialsSchema = `
CREATE TABLE IF NOT EXISTS revoked_tokens (
	id      TEXT    PRIMARY KEY, -- server.Identity.TokenID: a hash, never the token
	expires INTEGER NOT NULL     -- Unix ms; pruned after it
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS revoked_tokens_expires ON revoked_tokens (expires);
CREATE TABLE IF NOT EXISTS revoked_users (
	user_id TEXT    PRIMARY KEY,
	before  INTEGER NOT NULL, -- Unix s: credentials issued up to it are refused
	keep    INTEGER NOT NULL  -- Unix ms; 0 for good
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS nick_owners (
	nick_key TEXT PRIMARY KEY, -- shared.NickKey of nick
	user_id  TEXT NOT NULL UNIQUE,
	nick     TEXT NOT NULL
) WITHOUT ROWID;`

var _ store.Credentials = (*Store)(nil)

func (s *Store) createCredentials() error {
	if _, err := s.db.Exec(credentialsSchema); err != nil {
		return fmt.Errorf("create credential tables: %w", err)
	}
	return nil
}

// RevokeToken implements store.Credentials.
func (s *Store) RevokeToken(ctx context.Context, tokenID string, expires int64) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO revoked_tokens (id, expires) VALUES (?, ?)
		ON CONFLICT (id) DO UPDATE SET expires = max(expires, excluded.expires)`, tokenID, expires)
	if err != nil {
		return fmt.Errorf("sqlite store: revoke token: %w", err)
	}
	return nil
}

// RevokeUser implements store.Credentials.
func (s *Store) RevokeUser(ctx context.Context, user string, before, keep int64) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO revoked_users (user_id, before, keep) VALUES (?, ?, ?)
		ON CONFLICT (user_id) DO UPDATE SET before = excluded.before, keep = excluded.keep WHERE excluded.before > before`, user, before, keep)
	if err != nil {
		return fmt.Errorf("sqlite store: revoke user: %w", err)
	}
	return nil
}

// Revoked implements store.Credentials: one query, two primary-key looks.
func (s *Store) Revoked(ctx context.Context, tokenID, user string, now int64) (bool, int64, error) {
	st, err := s.stmt(ctx, `SELECT
		EXISTS (SELECT 1 FROM revoked_tokens WHERE id = ?1 AND expires >= ?3),
		COALESCE((SELECT before FROM revoked_users WHERE user_id = ?2 AND (keep = 0 OR keep >= ?3)), 0)`)
	if err != nil {
		return false, 0, err
	}
	var revoked bool
	var before int64
	if err := st.QueryRowContext(ctx, tokenID, user, now).Scan(&revoked, &before); err != nil {
		return false, 0, fmt.Errorf("sqlite store: revoked: %w", err)
	}
	return revoked && tokenID != "", before, nil
}

// PruneRevoked implements store.Credentials.
func (s *Store) PruneRevoked(ctx context.Context, now int64) error {
	for _, q := range []string{`DELETE FROM revoked_tokens WHERE expires < ?`, `DELETE FROM revoked_users WHERE keep != 0 AND keep < ?`} {
		if _, err := s.db.ExecContext(ctx, q, now); err != nil {
			return fmt.Errorf("sqlite store: prune revoked: %w", err)
		}
	}
	return nil
}

// ReserveNick implements store.Credentials, in one transaction.
func (s *Store) ReserveNick(ctx context.Context, key, user, nick string) (string, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return "", fmt.Errorf("sqlite store: reserve nick: %w", err)
	}
	defer tx.Rollback()
	var owner string
	err = tx.QueryRowContext(ctx, `SELECT user_id FROM nick_owners WHERE nick_key = ?`, key).Scan(&owner)
	switch {
	case err == nil && owner != user:
		return owner, nil
	case err != nil && !errors.Is(err, sql.ErrNoRows):
		return "", fmt.Errorf("sqlite store: reserve nick: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM nick_owners WHERE user_id = ?`, user); err != nil {
		return "", fmt.Errorf("sqlite store: reserve nick: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO nick_owners (nick_key, user_id, nick) VALUES (?, ?, ?)`, key, user, nick); err != nil {
		return "", fmt.Errorf("sqlite store: reserve nick: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return "", fmt.Errorf("sqlite store: reserve nick: %w", err)
	}
	return "", nil
}

// NickOwner implements store.Credentials.
func (s *Store) NickOwner(ctx context.Context, key string) (string, error) {
	st, err := s.stmt(ctx, `SELECT user_id FROM nick_owners WHERE nick_key = ?`)
	if err != nil {
		return "", err
	}
	var owner string
	err = st.QueryRowContext(ctx, key).Scan(&owner)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("sqlite store: nick owner: %w", err)
	}
	return owner, nil
}
