package sqlite

import (
	"context"
	"database/sql"
	"fmt"
)

// LogCursors returns every cursor SetLogCursors stored: for a cluster
// node (server/cluster), the last log sequence its projection applied, per
// room and overall. A fresh database has none.
func (s *Store) LogCursors(ctx context.Context) (map[string]uint64, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT name, seq FROM log_cursors`)
	if err != nil {
		return nil, fmt.Errorf("sqlite store: read log cursors: %w", err)
	}
	defer rows.Close()
	out := make(map[string]uint64)
	for rows.Next() {
		var name string
		var seq uint64
		if err := rows.Scan(&name, &seq); err != nil {
			return nil, fmt.Errorf("sqlite store: read log cursors: %w", err)
		}
		out[name] = seq
	}
	return out, rows.Err()
}

// SetLogCursors stores cursors in one transaction, each only moving
// forward.
func (s *Store) SetLogCursors(ctx context.Context, cursors map[string]uint64) error {
	if len(cursors) == 0 {
		return nil
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite store: write log cursors: %w", err)
	}
	defer tx.Rollback()
	for name, seq := range cursors {
		if _, err := tx.ExecContext(ctx, `INSERT INTO log_cursors (name, seq) VALUES (?, ?)
			ON CONFLICT (name) DO UPDATE SET seq = max(seq, excluded.seq)`, name, seq); err != nil {
			return fmt.Errorf("sqlite store: write log cursors: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite store: write log cursors: %w", err)
	}
	return nil
}

// TextIDs returns the msg_ids whose text message seq of room carries or
// carried: its own and its edits'. A cluster node erases their keys when
// the message is deleted or edited (server/cluster).
func (s *Store) TextIDs(ctx context.Context, room string, seq int64) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT msg_id FROM messages WHERE room = ? AND (seq = ? OR (kind = 'edit' AND target = ?))`, room, seq, seq)
	return column[string](rows, err, "text ids")
}

// column reads the one column of rows (err: the query's) into a slice.
func column[T any](rows *sql.Rows, err error, what string) ([]T, error) {
	if err != nil {
		return nil, fmt.Errorf("sqlite store: %s: %w", what, err)
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		var v T
		if err := rows.Scan(&v); err != nil {
			return nil, fmt.Errorf("sqlite store: %s: %w", what, err)
		}
		out = append(out, v)
	}
	return out, rows.Err()
}
