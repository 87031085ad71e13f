package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/duplex-chat/duplex/server/store"
)

// vacuumPages bounds the pages one Prune call returns to the file system
// (4 MiB at the default page size): incremental vacuum holds the write
// lock while it moves pages, so it runs in small steps.
const vacuumPages = 1024

// Prune implements store.Store. One short IMMEDIATE transaction removes
// up to limit messages, then an incremental vacuum gives back a bounded
// number of free pages, each holding the write lock only briefly so
// commits wait milliseconds at most.
func (s *Store) Prune(ctx context.Context, r store.Retention, limit int) (int, error) {
	if r.IsZero() || limit <= 0 {
		return 0, nil
	}
	type candidate struct {
		room         string
		head, pruned int64
	}
	rows, err := s.db.QueryContext(ctx, `SELECT name, head, pruned FROM rooms WHERE head > pruned`)
	if err != nil {
		return 0, fmt.Errorf("sqlite store: prune: list rooms: %w", err)
	}
	var cands []candidate
	for rows.Next() {
		var c candidate
		if err := rows.Scan(&c.room, &c.head, &c.pruned); err != nil {
			rows.Close()
			return 0, fmt.Errorf("sqlite store: prune: %w", err)
		}
		cands = append(cands, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("sqlite store: prune: %w", err)
	}

	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("sqlite store: prune: begin: %w", err)
	}
	defer tx.Rollback()
	removed := 0
	cuts := map[string]int64{}
	var orphans []string // images no message carries after the cut
	for _, c := range cands {
		if removed >= limit {
			break
		}
		// Read this room's pruned mark again inside the transaction: it
		// is the only writer of it, but be exact.
		if err := tx.QueryRowContext(ctx, `SELECT pruned FROM rooms WHERE name = ?`, c.room).Scan(&c.pruned); err != nil {
			return 0, fmt.Errorf("sqlite store: prune: %w", err)
		}
		var ts []int64
		if r.Before > 0 {
			if ts, err = s.oldestTS(ctx, tx, c.room, c.pruned, limit-removed); err != nil {
				return 0, err
			}
		}
		upto := min(r.Cut(c.pruned, c.head, ts), c.pruned+int64(limit-removed))
		if upto <= c.pruned {
			continue
		}
		images, err := prunedImages(ctx, tx, c.room, c.pruned, upto) // erase.go
		if err != nil {
			return 0, err
		}
		orphans = append(orphans, images...)
		res, err := tx.ExecContext(ctx, `DELETE FROM messages WHERE room = ? AND seq > ? AND seq <= ?`, c.room, c.pruned, upto)
		if err != nil {
			return 0, fmt.Errorf("sqlite store: prune: delete: %w", err)
		}
		n, _ := res.RowsAffected()
		// The events of removed messages and their reactions go with
		// them (an event after the cut whose target is gone would carry
		// nothing).
		if _, err := tx.ExecContext(ctx, `DELETE FROM messages WHERE room = ? AND target > 0 AND target <= ?`, c.room, upto); err != nil {
			return 0, fmt.Errorf("sqlite store: prune: delete events: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM reactions WHERE room = ? AND seq <= ?`, c.room, upto); err != nil {
			return 0, fmt.Errorf("sqlite store: prune: delete reactions: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM reaction_counts WHERE room = ? AND seq <= ?`, c.room, upto); err != nil {
			return 0, fmt.Errorf("sqlite store: prune: delete reaction counts: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE rooms SET pruned = ? WHERE name = ?`, upto, c.room); err != nil {
			return 0, fmt.Errorf("sqlite store: prune: mark: %w", err)
		}
		removed += int(n)
		cuts[c.room] = upto
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("sqlite store: prune: commit: %w", err)
	}
	s.mu.Lock()
	for room, upto := range cuts {
		s.pruned[room] = upto
	}
	s.prunedImages = append(s.prunedImages, orphans...)
	s.mu.Unlock()
	if removed > 0 {
		s.scheduleCheckpoint() // the removed text leaves the WAL too (erase.go)
		if _, err := s.db.ExecContext(ctx, fmt.Sprintf(`PRAGMA incremental_vacuum(%d)`, vacuumPages)); err != nil {
			return removed, fmt.Errorf("sqlite store: incremental vacuum: %w", err)
		}
	}
	return removed, nil
}

// oldestTS returns the timestamps of up to n messages of room after seq
// pruned, in seq order.
func (s *Store) oldestTS(ctx context.Context, tx *sql.Tx, room string, pruned int64, n int) ([]int64, error) {
	rows, err := tx.QueryContext(ctx, `SELECT ts FROM messages WHERE room = ? AND seq > ? ORDER BY seq LIMIT ?`, room, pruned, n)
	return column[int64](rows, err, "prune: read timestamps")
}

// Pruned implements store.Store.
func (s *Store) Pruned(ctx context.Context, room string) (int64, error) {
	p, cached, err := s.cachedOrRead(ctx, s.pruned, "pruned", room)
	if cached || err != nil {
		return p, err
	}
	s.mu.Lock()
	s.pruned[room] = max(s.pruned[room], p)
	p = s.pruned[room]
	s.mu.Unlock()
	return p, nil
}
