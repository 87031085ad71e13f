package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/duplex-chat/duplex/server/store"
	"github.com/duplex-chat/duplex/shared"
)

// searchIndexing fills the search index from search_rows and creates the
// trigger that indexes each new message: statements of both readSchema
// and eraseSchema (which rebuilds the index for secure-delete).
const searchIndexing = `INSERT INTO search (rowid, body) SELECT r.id, m.body FROM search_rows r JOIN messages m ON m.room = r.room AND m.seq = r.seq;
	CREATE TRIGGER messages_search_insert AFTER INSERT ON messages WHEN new.kind IN ('', 'message') BEGIN
		INSERT INTO search_rows (room, seq) VALUES (new.room, new.seq);
		INSERT INTO search (rowid, body) VALUES (last_insert_rowid(), new.body);
	END;`

// readSchema is the migration of mentions, read markers and search.
//
// Mentions are a table of their own, indexed both ways: by message (to
// return them with a page of history) and by user (to count a user's
// mentions after their marker). Search is an FTS5 index of message
// bodies, kept in step with the messages table by triggers, so it follows
// every insert, edit (an UPDATE of body) and removal (delete, retention)
// whatever code path makes it. messages is a WITHOUT ROWID table, so
// search_rows gives each indexed message the integer id FTS5 needs; ids
// grow with insertion, and the search cursor is that id. The FTS table is
// contentless: bodies live in messages only.
const readSchema = `CREATE TABLE mentions (
		room    TEXT    NOT NULL,
		seq     INTEGER NOT NULL,
		user_id TEXT    NOT NULL,
		PRIMARY KEY (room, seq, user_id)
	) WITHOUT ROWID;
	CREATE INDEX mentions_user ON mentions (user_id, room, seq);
	CREATE TABLE reads (
		user_id TEXT    NOT NULL,
		room    TEXT    NOT NULL,
		seq     INTEGER NOT NULL,
		PRIMARY KEY (user_id, room)
	) WITHOUT ROWID;
	CREATE TABLE search_rows (
		id   INTEGER PRIMARY KEY,
		room TEXT    NOT NULL,
		seq  INTEGER NOT NULL,
		UNIQUE (room, seq)
	);
	CREATE VIRTUAL TABLE search USING fts5 (body, content = '', contentless_delete = 1, tokenize = 'unicode61 remove_diacritics 2');
	INSERT INTO search_rows (room, seq) SELECT room, seq FROM messages WHERE kind IN ('', 'message') ORDER BY ts, room, seq;
	` + searchIndexing + `
	CREATE TRIGGER messages_search_update AFTER UPDATE OF body ON messages WHEN new.kind IN ('', 'message') BEGIN
		DELETE FROM search WHERE rowid = (SELECT id FROM search_rows WHERE room = old.room AND seq = old.seq);
		INSERT INTO search (rowid, body) SELECT id, new.body FROM search_rows WHERE room = new.room AND seq = new.seq;
	END;
	CREATE TRIGGER messages_search_delete AFTER DELETE ON messages BEGIN
		DELETE FROM search WHERE rowid = (SELECT id FROM search_rows WHERE room = old.room AND seq = old.seq);
		DELETE FROM search_rows WHERE room = old.room AND seq = old.seq;
		DELETE FROM mentions WHERE room = old.room AND seq = old.seq;
	END;`

// unreadWhere selects the messages that count as unread for ?2 (see
// store.Unread): messages, not events, of others, not deleted.
const unreadWhere = `m.user_id != ?2 AND m.kind = 'message' AND m.deleted = 0`

// readFlushDelay batches the markers of first joins, as members are: a
// join storm must not cost one fsync per newcomer.
const readFlushDelay = 100 * time.Millisecond

// sqlReads holds the markers InitRead has not written yet.
type sqlReads struct {
	mu      sync.Mutex
	pending map[readKey]int64
	// flushing holds the markers flushReads is writing, until its
	// transaction has committed: marker finds each either here or in
	// the table, never in neither.
	flushing map[readKey]int64
	flush    *time.Timer
}

type readKey struct{ room, user string }

// insertMentions stores the mentions of a new message inside Append's
// transaction.
func insertMentions(ctx context.Context, tx *sql.Tx, room string, seq int64, users []string) error {
	for _, u := range users {
		if _, err := tx.ExecContext(ctx, `INSERT INTO mentions (room, seq, user_id) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`, room, seq, u); err != nil {
			return fmt.Errorf("sqlite store: insert mention: %w", err)
		}
	}
	return nil
}

// fillMentions sets Mentions on a page of messages of room, ascending or
// descending, with one range query
// (inside tx when it is not nil). Event rows have no mentions.
func (s *Store) fillMentions(ctx context.Context, tx *sql.Tx, room string, msgs []shared.Message) error {
	if len(msgs) == 0 {
		return nil
	}
	lo, hi := msgs[0].Seq, msgs[len(msgs)-1].Seq
	if lo > hi {
		lo, hi = hi, lo
	}
	rows, err := s.rows(ctx, tx, `SELECT seq, user_id FROM mentions WHERE room = ? AND seq BETWEEN ? AND ? ORDER BY seq, user_id`, room, lo, hi)
	if err != nil {
		return fmt.Errorf("sqlite store: read mentions: %w", err)
	}
	defer rows.Close()
	at := make(map[int64]int, len(msgs))
	for i := range msgs {
		at[msgs[i].Seq] = i
	}
	for rows.Next() {
		var seq int64
		var u string
		if err := rows.Scan(&seq, &u); err != nil {
			return fmt.Errorf("sqlite store: read mentions: %w", err)
		}
		if i, ok := at[seq]; ok {
			msgs[i].Mentions = append(msgs[i].Mentions, u)
		}
	}
	return rows.Err()
}

// marker returns user's stored (or pending) marker in room.
func (s *Store) marker(ctx context.Context, room, user string) (int64, bool, error) {
	st, err := s.stmt(ctx, `SELECT seq FROM reads WHERE user_id = ? AND room = ?`)
	if err != nil {
		return 0, false, err
	}
	var seq int64
	err = st.QueryRowContext(ctx, user, room).Scan(&seq)
	if errors.Is(err, sql.ErrNoRows) {
		k := readKey{room, user}
		s.reads.mu.Lock()
		seq, ok := s.reads.pending[k]
		if !ok {
			seq, ok = s.reads.flushing[k]
		}
		s.reads.mu.Unlock()
		if ok {
			return seq, true, nil
		}
		// A flush may have committed it (and forgotten it) since the
		// query above.
		err = st.QueryRowContext(ctx, user, room).Scan(&seq)
		if errors.Is(err, sql.ErrNoRows) {
			return 0, false, nil
		}
	}
	if err != nil {
		return 0, false, fmt.Errorf("sqlite store: read marker: %w", err)
	}
	return seq, true, nil
}

// ReadState implements store.Reads.
func (s *Store) ReadState(ctx context.Context, room, user string) (store.ReadState, error) {
	seq, ok, err := s.marker(ctx, room, user)
	if err != nil || !ok {
		return store.ReadState{}, err
	}
	return s.counts(ctx, room, user, seq)
}

// counts counts what is unread for user in room after seq. The mention
// count starts from the user's mentions (CROSS JOIN fixes that order):
// they are few, the messages after the marker may be many.
func (s *Store) counts(ctx context.Context, room, user string, seq int64) (store.ReadState, error) {
	rs := store.ReadState{Marked: true, Read: seq}
	st, err := s.stmt(ctx, fmt.Sprintf(`SELECT
		(SELECT count(*) FROM (SELECT 1 FROM messages m WHERE m.room = ?1 AND m.seq > ?3 AND %[1]s LIMIT %[2]d)),
		(SELECT count(*) FROM (SELECT 1 FROM mentions n CROSS JOIN messages m ON m.room = n.room AND m.seq = n.seq
			WHERE n.user_id = ?2 AND n.room = ?1 AND n.seq > ?3 AND %[1]s LIMIT %[2]d))`, unreadWhere, store.MaxUnread))
	if err != nil {
		return rs, err
	}
	if err := st.QueryRowContext(ctx, room, user, seq).Scan(&rs.Unread, &rs.Mentioned); err != nil {
		return rs, fmt.Errorf("sqlite store: count unread: %w", err)
	}
	return rs, nil
}

// MarkRead implements store.Reads.
func (s *Store) MarkRead(ctx context.Context, room, user string, seq int64) (store.ReadState, error) {
	s.reads.mu.Lock()
	k := readKey{room, user}
	if p, ok := s.reads.pending[k]; ok {
		seq = max(seq, p) // written below, in its place
		delete(s.reads.pending, k)
	}
	s.reads.mu.Unlock()
	var stored int64
	err := s.db.QueryRowContext(ctx, `INSERT INTO reads (user_id, room, seq) VALUES (?, ?, ?)
		ON CONFLICT (user_id, room) DO UPDATE SET seq = max(seq, excluded.seq) RETURNING seq`, user, room, seq).Scan(&stored)
	if err != nil {
		return store.ReadState{}, fmt.Errorf("sqlite store: mark read: %w", err)
	}
	return s.counts(ctx, room, user, stored)
}

// InitRead implements store.Reads: the marker is written within
// readFlushDelay, together with the other first joins of that moment.
func (s *Store) InitRead(_ context.Context, room, user string, seq int64) error {
	s.reads.mu.Lock()
	defer s.reads.mu.Unlock()
	if s.reads.pending == nil {
		s.reads.pending = make(map[readKey]int64)
	}
	k := readKey{room, user}
	if _, ok := s.reads.pending[k]; !ok {
		s.reads.pending[k] = seq
	}
	if s.reads.flush == nil {
		s.reads.flush = time.AfterFunc(readFlushDelay, func() { s.flushReads() })
	}
	return nil
}

// flushReads writes the pending first-join markers in one transaction;
// a marker written meanwhile by MarkRead wins.
func (s *Store) flushReads() error {
	s.reads.mu.Lock()
	pending := s.reads.pending
	s.reads.pending = nil
	if s.reads.flush != nil {
		s.reads.flush.Stop()
		s.reads.flush = nil
	}
	if len(pending) == 0 {
		s.reads.mu.Unlock()
		return nil
	}
	if s.reads.flushing == nil {
		s.reads.flushing = make(map[readKey]int64, len(pending))
	}
	for k, seq := range pending { // another flush may still be writing its own
		s.reads.flushing[k] = seq
	}
	s.reads.mu.Unlock()
	defer func() {
		s.reads.mu.Lock()
		for k := range pending {
			delete(s.reads.flushing, k)
		}
		s.reads.mu.Unlock()
	}()
	tx, err := s.db.Begin()
	if err != nil {
		return fmt.Errorf("sqlite store: begin: %w", err)
	}
	defer tx.Rollback()
	ins, err := tx.Prepare(`INSERT INTO reads (user_id, room, seq) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`)
	if err != nil {
		return fmt.Errorf("sqlite store: init read: %w", err)
	}
	for k, seq := range pending {
		if _, err := ins.Exec(k.user, k.room, seq); err != nil {
			return fmt.Errorf("sqlite store: init read: %w", err)
		}
	}
	return tx.Commit()
}
