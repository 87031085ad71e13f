package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/duplex-chat/duplex/server/store"
)

// Erasure (issue #15): the text of a deleted message, and the text an
// edit replaced, must leave every file of the data directory.
//
//   - Rows: a delete empties the message's body and image and the bodies
//     of its edit rows (deleteText); an edit empties the bodies of the
//     earlier edit rows of its target (supersedeEdits), so only the
//     latest edit row holds text, the same text as its target.
//   - Free space: PRAGMA secure_delete=ON (Open) zeroes freed cells and
//     pages, so a rewritten row leaves no copy in the page it left.
//   - Search index: FTS5 with contentless_delete=1 (migration 5) only
//     marks a deleted row with a tombstone and keeps its tokens, with
//     their positions, until a merge. Migration 7 rebuilds the index as
//     a plain contentless table with FTS5's secure-delete option: the
//     triggers remove a row's tokens from the index pages at once with
//     the 'delete' command and the old body.
//   - Images: a delete that leaves an image attached to no live message
//     of its room names it in store.Result.Orphaned (messages_image finds
//     the others), and the server removes its file (files.Remover).
//   - WAL: the old page images stay in duplex.db-wal until a checkpoint
//     overwrites the file. After an edit or a delete the store schedules
//     one TRUNCATE checkpoint within eraseCheckpointDelay (at most one
//     per delay however many erasures), so the WAL is emptied soon
//     after; Close checkpoints too.
const eraseSchema = `DROP TRIGGER messages_search_insert;
	DROP TRIGGER messages_search_update;
	DROP TRIGGER messages_search_delete;
	DROP TABLE search;
	CREATE INDEX messages_image ON messages (room, json_extract(image, '$.id')) WHERE image != '';
	CREATE VIRTUAL TABLE search USING fts5 (body, content = '', tokenize = 'unicode61 remove_diacritics 2');
	INSERT INTO search (search, rank) VALUES ('secure-delete', 1);
	UPDATE messages SET body = '' WHERE kind = 'edit' AND EXISTS (SELECT 1 FROM messages n
		WHERE n.room = messages.room AND n.target = messages.target AND n.kind = 'edit' AND n.seq > messages.seq);
	` + searchIndexing + `
	CREATE TRIGGER messages_search_update AFTER UPDATE OF body ON messages WHEN new.kind IN ('', 'message') BEGIN
		INSERT INTO search (search, rowid, body) SELECT 'delete', id, old.body FROM search_rows WHERE room = old.room AND seq = old.seq;
		INSERT INTO search (rowid, body) SELECT id, new.body FROM search_rows WHERE room = new.room AND seq = new.seq;
	END;
	CREATE TRIGGER messages_search_delete AFTER DELETE ON messages BEGIN
		INSERT INTO search (search, rowid, body) SELECT 'delete', id, old.body FROM search_rows WHERE room = old.room AND seq = old.seq;
		DELETE FROM search_rows WHERE room = old.room AND seq = old.seq;
		DELETE FROM mentions WHERE room = old.room AND seq = old.seq;
	END;`

// eraseCheckpointDelay is how soon after an edit or a delete the WAL is
// checkpointed and truncated. Batching bounds the cost: one checkpoint
// per delay, however many erasures it covers.
const eraseCheckpointDelay = 500 * time.Millisecond

// scheduleCheckpoint arranges one TRUNCATE checkpoint within
// eraseCheckpointDelay, unless one is pending already.
func (s *Store) scheduleCheckpoint() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || s.checkpoint != nil {
		return
	}
	s.checkpoint = time.AfterFunc(eraseCheckpointDelay, s.runCheckpoint)
}

// runCheckpoint checkpoints the WAL into the database file and truncates
// it. A checkpoint that readers kept from finishing is tried again.
func (s *Store) runCheckpoint() {
	s.mu.Lock()
	s.checkpoint = nil
	closed := s.closed
	s.mu.Unlock()
	if closed {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// A PASSIVE checkpoint first copies the WAL into the database without
	// holding up writers; the TRUNCATE one, which blocks new writers while
	// it runs, then only has the frames written since, and truncates.
	var busy, logFrames, done int
	s.db.QueryRowContext(ctx, `PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &logFrames, &done)
	err := s.db.QueryRowContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`).Scan(&busy, &logFrames, &done)
	if err != nil || busy != 0 {
		s.scheduleCheckpoint()
	}
}

var _ store.PrunedImages = (*Store)(nil)

// TakePrunedImages implements store.PrunedImages.
func (s *Store) TakePrunedImages() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	ids := s.prunedImages
	s.prunedImages = nil
	return ids
}

// prunedImages returns, inside Prune's transaction, the ids of the images
// carried by messages seq after..upto of room and by no message after
// upto (an image id belongs to one room: files.ImageID).
func prunedImages(ctx context.Context, tx *sql.Tx, room string, after, upto int64) ([]string, error) {
	rows, err := tx.QueryContext(ctx, `SELECT DISTINCT json_extract(image, '$.id') FROM messages m
		WHERE room = ?1 AND seq > ?2 AND seq <= ?3 AND image != ''
			AND NOT EXISTS (SELECT 1 FROM messages o WHERE o.room = ?1 AND o.image != ''
				AND json_extract(o.image, '$.id') = json_extract(m.image, '$.id') AND o.seq > ?3)`, room, after, upto)
	if err != nil {
		return nil, fmt.Errorf("sqlite store: prune: images: %w", err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id sql.NullString
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("sqlite store: prune: images: %w", err)
		}
		if id.String != "" {
			ids = append(ids, id.String)
		}
	}
	return ids, rows.Err()
}
