// Package sqlite is the durable default history store: one SQLite file in
// WAL mode through the pure-Go modernc.org/sqlite driver, so the server
// stays a single portable binary without cgo.
package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/duplex-chat/duplex/server/store"
	"github.com/duplex-chat/duplex/shared"
	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// FileName is the database file Open creates inside the data directory.
const FileName = "duplex.db"

// migrations are applied in order; PRAGMA user_version records how many ran.
// Append new steps, never edit old ones.
var migrations = []string{
	`CREATE TABLE rooms (
		name   TEXT PRIMARY KEY,
		head   INTEGER NOT NULL DEFAULT 0,
		active INTEGER NOT NULL DEFAULT 0
	) WITHOUT ROWID;
	CREATE TABLE messages (
		room    TEXT    NOT NULL,
		seq     INTEGER NOT NULL,
		kind    TEXT    NOT NULL DEFAULT 'message',
		msg_id  TEXT    NOT NULL,
		user_id TEXT    NOT NULL,
		nick    TEXT    NOT NULL,
		body    TEXT    NOT NULL,
		ts      INTEGER NOT NULL,
		PRIMARY KEY (room, seq)
	) WITHOUT ROWID;
	CREATE UNIQUE INDEX messages_msg_id ON messages (room, msg_id);
	CREATE TABLE members (
		room    TEXT    NOT NULL,
		user_id TEXT    NOT NULL,
		nick    TEXT    NOT NULL,
		joined  INTEGER NOT NULL,
		PRIMARY KEY (room, user_id)
	) WITHOUT ROWID;`,
	// 2: room kinds and access lists (private rooms, DMs); the room list
	// is read through an index instead of sorting the table.
	`ALTER TABLE rooms ADD COLUMN kind TEXT NOT NULL DEFAULT 'public';
	ALTER TABLE rooms ADD COLUMN owner TEXT NOT NULL DEFAULT '';
	CREATE INDEX rooms_active ON rooms (active);
	CREATE TABLE access (
		room    TEXT NOT NULL,
		user_id TEXT NOT NULL,
		PRIMARY KEY (room, user_id)
	) WITHOUT ROWID;
	CREATE INDEX access_user ON access (user_id, room);
	CREATE INDEX members_user ON members (user_id, joined);`,
	// 3: retention: the highest seq removed by Prune, per room.
	`ALTER TABLE rooms ADD COLUMN pruned INTEGER NOT NULL DEFAULT 0;`,
	// 4: events (edit, delete, react, unreact) and replies (events.go).
	// A message row keeps its latest state (body, edited, deleted); an
	// event row names its target. Before reads messages only through
	// messages_kind; a delete finds the edits of its target through
	// messages_target.
	`ALTER TABLE messages ADD COLUMN target INTEGER NOT NULL DEFAULT 0;
	ALTER TABLE messages ADD COLUMN emoji TEXT NOT NULL DEFAULT '';
	ALTER TABLE messages ADD COLUMN reply_to INTEGER NOT NULL DEFAULT 0;
	ALTER TABLE messages ADD COLUMN edited INTEGER NOT NULL DEFAULT 0;
	ALTER TABLE messages ADD COLUMN deleted INTEGER NOT NULL DEFAULT 0;
	CREATE INDEX messages_kind ON messages (room, kind, seq);
	CREATE INDEX messages_target ON messages (room, target) WHERE target > 0;
	CREATE TABLE reactions (
		room    TEXT    NOT NULL,
		seq     INTEGER NOT NULL,
		user_id TEXT    NOT NULL,
		emoji   TEXT    NOT NULL,
		at      INTEGER NOT NULL,
		PRIMARY KEY (room, seq, user_id, emoji)
	) WITHOUT ROWID;`,
	// 5: mentions, read markers and the search index (read.go).
	readSchema,
	// 6 (images): the image a message carries, as the JSON of a
	// shared.Image; empty for none (and once the message is deleted).
	`ALTER TABLE messages ADD COLUMN image TEXT NOT NULL DEFAULT '';`,
	// 7 (reactions, #14): a count per message and emoji (reactions.go).
	reactionCountsSchema,
	// 8 (erasure): a search index that forgets deleted text (erase.go).
	eraseSchema,
	// 9 (who reacted): the first reactors of a message's emoji, read by
	// index in time order, a few rows each (reactions.go: reactionLists).
	`CREATE INDEX reactions_by_emoji ON reactions (room, seq, emoji, at);`,
	// 10: how far a cluster node's projection has applied the log
	// (logcursor.go).
	`CREATE TABLE log_cursors (name TEXT PRIMARY KEY, seq INTEGER NOT NULL) WITHOUT ROWID;`,
}

// Store is a store.Store on one SQLite file.
type Store struct {
	db   *sql.DB
	path string // the database file, for error messages
	// stmts caches the prepared statements of the read path (joins,
	// history, access checks): parsing SQL was a fifth of a join's CPU.
	stmts sync.Map // query text -> *sql.Stmt
	// search is the search's own read-only pool (search.go): a slow
	// search never takes a connection sends, joins or history need.
	search *sql.DB

	mu      sync.Mutex       // guards the fields below
	heads   map[string]int64 // cached rooms.head; Append is the only writer
	pruned  map[string]int64 // cached rooms.pruned; Prune is the only writer
	clock   int64            // last "active" stamp handed out
	known   map[string]bool  // rooms known to have a row
	members []memberRow      // joins not yet written; see AddMember
	flush   *time.Timer      // pending write of members
	closed  bool
	// checkpoint is the pending WAL checkpoint after an erasure, and
	// prunedImages the images Prune left unused (erase.go).
	checkpoint   *time.Timer
	prunedImages []string

	reads sqlReads // first-join markers not yet written; see read.go
}

type memberRow struct {
	room   string
	member shared.Member
	stamp  int64
}

// memberFlushDelay batches member records: a storm of joins costs one
// transaction (one fsync) per delay instead of one per join.
const memberFlushDelay = 100 * time.Millisecond

var _ store.Store = (*Store)(nil)

// Open opens (creating when needed) the database in dir and migrates it.
func Open(dir string) (*Store, error) {
	return openSynced(dir, "FULL")
}

// OpenProjection opens the store of a cluster node (server/cluster),
// whose rooms are a projection of a log that NATS JetStream keeps
// durably: its commits are not synced one by one (synchronous NORMAL, in
// WAL mode), so a crash may lose the last of them, and with them the log
// cursors saved after them; the node applies those records again from
// the log at its restart.
func OpenProjection(dir string) (*Store, error) {
	return openSynced(dir, "NORMAL")
}

func openSynced(dir, synchronous string) (*Store, error) {
	path := filepath.Join(dir, FileName)
	s, err := open(dir, path, synchronous)
	if err != nil {
		// Name the file and the cause: "disk I/O error" alone does not
		// tell an operator which disk, or that it is full or read-only.
		return nil, fmt.Errorf("open SQLite store %s: %w%s", path, err, diagnose(dir))
	}
	return s, nil
}

func open(dir, path, synchronous string) (*Store, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create data dir: %w", err)
	}
	q := url.Values{}
	// auto_vacuum first: it takes effect only on a database that has no
	// table yet, so a new file gets incremental vacuum (retention gives
	// pages back, see prune.go) and an older one reuses freed pages
	// instead of shrinking (run VACUUM offline to shrink it).
	// secure_delete zeroes freed content, so the text of a deleted
	// message does not linger in free space of the file (events.go).
	for _, p := range []string{"auto_vacuum(INCREMENTAL)", "journal_mode(WAL)", "synchronous(" + synchronous + ")", "busy_timeout(10000)", "foreign_keys(ON)", "secure_delete(ON)"} {
		q.Add("_pragma", p)
	}
	q.Set("_txlock", "immediate")
	dsn := "file:" + path + "?" + q.Encode()
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open: %w", err)
	}
	db.SetMaxOpenConns(4)
	s := &Store{db: db, path: path, heads: make(map[string]int64), pruned: make(map[string]int64), known: make(map[string]bool)}
	migrated, err := s.migrate()
	if err != nil {
		db.Close()
		return nil, err
	}
	if err := s.createCredentials(); err != nil { // credentials.go
		db.Close()
		return nil, err
	}
	if migrated {
		// A migration may have erased text (8 rebuilt the search index):
		// the old pages leave the database file at the checkpoint.
		s.scheduleCheckpoint()
	}
	if err := db.QueryRow(`SELECT COALESCE(MAX(active), 0) FROM rooms`).Scan(&s.clock); err != nil {
		db.Close()
		return nil, fmt.Errorf("read clock: %w", err)
	}
	if s.search, err = openSearchDB(path); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// diagnose adds the likely cause of a failed Open that SQLite's own error
// hides: a directory that cannot be written or a disk with no space left.
func diagnose(dir string) string {
	if info, err := os.Stat(dir); err != nil || !info.IsDir() {
		return "" // creating the directory failed, and its error says why
	}
	f, err := os.CreateTemp(dir, ".duplex-write-check-*")
	if err != nil {
		return fmt.Sprintf(" (the data directory is not writable: %v)", err)
	}
	defer os.Remove(f.Name())
	defer f.Close()
	if _, err := f.Write(make([]byte, 64<<10)); err != nil {
		return fmt.Sprintf(" (cannot write to the data directory: %v)", err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Sprintf(" (cannot write to the data directory: %v)", err)
	}
	return ""
}

func (s *Store) migrate() (migrated bool, err error) {
	var version int
	if err := s.db.QueryRow(`PRAGMA user_version`).Scan(&version); err != nil {
		return false, fmt.Errorf("read schema version: %w", err)
	}
	if version > len(migrations) {
		return false, fmt.Errorf("schema version %d is newer than this binary (%d)", version, len(migrations))
	}
	for i := version; i < len(migrations); i++ {
		tx, err := s.db.Begin()
		if err != nil {
			return false, fmt.Errorf("migrate: %w", err)
		}
		if _, err := tx.Exec(migrations[i]); err != nil {
			tx.Rollback()
			return false, fmt.Errorf("migration %d: %w", i+1, err)
		}
		if _, err := tx.Exec(fmt.Sprintf(`PRAGMA user_version = %d`, i+1)); err != nil {
			tx.Rollback()
			return false, fmt.Errorf("migration %d: %w", i+1, err)
		}
		if err := tx.Commit(); err != nil {
			return false, fmt.Errorf("migration %d: %w", i+1, err)
		}
	}
	return version < len(migrations), nil
}

// Append implements store.Store: one IMMEDIATE transaction for the whole
// batch, so concurrent sends share one fsync (group commit). Events and
// replies are checked and applied inside it (events.go).
func (s *Store) Append(ctx context.Context, msgs []store.NewMessage) ([]store.Result, error) {
	return s.append(ctx, msgs, true)
}

// Plan returns what Append(msgs) would return now, writing nothing: the
// same rules in a transaction that is rolled back. A cluster node plans a
// batch against its projection, appends the planned changes to the room's
// log, and then applies them (server/cluster).
func (s *Store) Plan(ctx context.Context, msgs []store.NewMessage) ([]store.Result, error) {
	return s.append(ctx, msgs, false)
}

func (s *Store) append(ctx context.Context, msgs []store.NewMessage, commit bool) ([]store.Result, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("sqlite store: begin: %w", err)
	}
	defer tx.Rollback()
	find, err := tx.PrepareContext(ctx, `SELECT seq, kind, target, emoji, reply_to, user_id, nick, body, ts, deleted, image FROM messages WHERE room = ? AND msg_id = ?`)
	if err != nil {
		return nil, err
	}
	insert, err := tx.PrepareContext(ctx, `INSERT INTO messages (room, seq, kind, msg_id, user_id, nick, body, ts, target, emoji, reply_to, image) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return nil, err
	}
	heads := make(map[string]int64)
	erased := false // an edit or a delete was applied: checkpoint soon
	res := make([]store.Result, len(msgs))
	for i, m := range msgs {
		var old store.NewMessage
		var seq int64
		var kind string
		var deleted bool
		var image string
		err := find.QueryRowContext(ctx, m.Room, m.MsgID).Scan(&seq, &kind, &old.Target, &old.Emoji, &old.ReplyTo, &old.Author.User, &old.Author.Nick, &old.Body, &old.TS, &deleted, &image)
		switch {
		case err == nil:
			old.Kind, old.Image = kindOf(kind), decodeImage(image)
			if res[i], err = s.duplicate(ctx, tx, m, old, seq, deleted); err != nil {
				return nil, err
			}
			continue
		case !errors.Is(err, sql.ErrNoRows):
			return nil, fmt.Errorf("sqlite store: dedup lookup: %w", err)
		}
		head, ok := heads[m.Room]
		if !ok {
			if head, err = s.head(ctx, tx, m.Room); err != nil {
				return nil, err
			}
		}
		if m.Kind != shared.KindMessage || m.ReplyTo != 0 {
			var apply bool
			if res[i], apply, err = s.applyEvent(ctx, tx, m, head+1); err != nil {
				return nil, err
			}
			if !apply {
				continue
			}
			erased = erased || m.Kind == shared.KindEdit || m.Kind == shared.KindDelete
		}
		head++
		heads[m.Room] = head
		if _, err := insert.ExecContext(ctx, m.Room, head, kindColumn(m.Kind), m.MsgID, m.Author.User, m.Author.Nick, m.Body, m.TS, m.Target, m.Emoji, m.ReplyTo, encodeImage(m.Image)); err != nil {
			return nil, fmt.Errorf("sqlite store: insert: %w", err)
		}
		if err := insertMentions(ctx, tx, m.Room, head, m.Mentions); err != nil { // read.go
			return nil, err
		}
		if m.Kind == shared.KindMessage && m.ReplyTo == 0 {
			res[i].Message = shared.Message{Room: m.Room, Seq: head, TS: m.TS, Author: m.Author, Body: m.Body, MsgID: m.MsgID, Mentions: m.Mentions, Image: m.Image}
		} else if res[i].Message, err = s.view(ctx, tx, m.Room, head); err != nil {
			return nil, err
		}
	}
	if !commit {
		return res, nil // the deferred Rollback undoes it
	}
	s.mu.Lock()
	clock := s.clock
	s.mu.Unlock()
	for room, head := range heads {
		clock++
		if _, err := tx.ExecContext(ctx, `INSERT INTO rooms (name, head, active) VALUES (?, ?, ?)
			ON CONFLICT (name) DO UPDATE SET head = excluded.head, active = excluded.active`, room, head, clock); err != nil {
			return nil, fmt.Errorf("sqlite store: update head: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("sqlite store: commit: %w", err)
	}
	s.mu.Lock()
	for room, head := range heads {
		s.heads[room] = head
	}
	s.clock = max(s.clock, clock)
	s.mu.Unlock()
	if erased {
		s.scheduleCheckpoint()
	}
	return res, nil
}

// head returns the cached head of room, reading it inside tx on a miss.
func (s *Store) head(ctx context.Context, tx *sql.Tx, room string) (int64, error) {
	s.mu.Lock()
	head, ok := s.heads[room]
	s.mu.Unlock()
	if ok {
		return head, nil
	}
	err := tx.QueryRowContext(ctx, `SELECT head FROM rooms WHERE name = ?`, room).Scan(&head)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("sqlite store: read head: %w", err)
	}
	return head, nil
}

// After implements store.Store.
func (s *Store) After(ctx context.Context, room string, after int64, limit int) ([]shared.Message, error) {
	return s.query(ctx, nil, selectRows+`WHERE m.room = ? AND m.seq > ? ORDER BY m.seq LIMIT ?`, room, after, limit)
}

// Before implements store.Store: messages only, through messages_kind.
func (s *Store) Before(ctx context.Context, room string, before int64, limit int) ([]shared.Message, error) {
	if before <= 0 {
		before = 1 << 62
	}
	msgs, err := s.query(ctx, nil, selectRows+`WHERE m.room = ? AND m.kind = 'message' AND m.seq < ? ORDER BY m.seq DESC LIMIT ?`, room, before, limit)
	slices.Reverse(msgs)
	return msgs, err
}

// stmt returns the prepared statement for q, preparing it on first use.
func (s *Store) stmt(ctx context.Context, q string) (*sql.Stmt, error) {
	if st, ok := s.stmts.Load(q); ok {
		return st.(*sql.Stmt), nil
	}
	st, err := s.db.PrepareContext(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("sqlite store: prepare: %w", err)
	}
	if old, loaded := s.stmts.LoadOrStore(q, st); loaded {
		st.Close()
		return old.(*sql.Stmt), nil
	}
	return st, nil
}

// Head implements store.Store.
func (s *Store) Head(ctx context.Context, room string) (int64, error) {
	head, _, err := s.cachedOrRead(ctx, s.heads, "head", room)
	return head, err
}

// cachedOrRead returns room's value in cache (one of s.mu's maps), or
// else column of room's row in rooms, 0 when it has none; cached says
// which it was.
func (s *Store) cachedOrRead(ctx context.Context, cache map[string]int64, column, room string) (v int64, cached bool, err error) {
	s.mu.Lock()
	v, ok := cache[room]
	s.mu.Unlock()
	if ok {
		return v, true, nil
	}
	err = s.db.QueryRowContext(ctx, `SELECT `+column+` FROM rooms WHERE name = ?`, room).Scan(&v)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return 0, false, fmt.Errorf("sqlite store: read %s: %w", column, err)
	}
	return v, false, nil
}

// AddMember implements store.Store. A new room's row is written before it
// returns; member records are written in batches within memberFlushDelay
// (and on Close), since a join must not wait for an fsync.
func (s *Store) AddMember(ctx context.Context, room string, m shared.Member) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return store.ErrClosed
	}
	s.clock++
	stamp, known := s.clock, s.known[room]
	s.mu.Unlock()
	if !known {
		if _, err := s.db.ExecContext(ctx, `INSERT INTO rooms (name, active) VALUES (?, ?)
			ON CONFLICT (name) DO UPDATE SET active = excluded.active`, room, stamp); err != nil {
			return fmt.Errorf("sqlite store: add room: %w", err)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.known[room] = true
	s.members = append(s.members, memberRow{room, m, stamp})
	if s.flush == nil {
		s.flush = time.AfterFunc(memberFlushDelay, func() { s.flushMembers() })
	}
	return nil
}

// flushMembers writes the pending member records in one transaction.
func (s *Store) flushMembers() error {
	s.mu.Lock()
	rows := s.members
	s.members, s.flush = nil, nil
	s.mu.Unlock()
	if len(rows) == 0 {
		return nil
	}
	tx, err := s.db.Begin()
	if err != nil {
		return fmt.Errorf("sqlite store: begin: %w", err)
	}
	defer tx.Rollback()
	// Prepared once per batch: a join storm writes thousands of rows here.
	member, err := tx.Prepare(`INSERT INTO members (room, user_id, nick, joined) VALUES (?, ?, ?, ?)
		ON CONFLICT (room, user_id) DO UPDATE SET nick = excluded.nick`)
	if err != nil {
		return fmt.Errorf("sqlite store: add member: %w", err)
	}
	touch, err := tx.Prepare(`UPDATE rooms SET active = max(active, ?) WHERE name = ?`)
	if err != nil {
		return fmt.Errorf("sqlite store: touch room: %w", err)
	}
	for _, r := range rows {
		if _, err := member.Exec(r.room, r.member.User, r.member.Nick, r.stamp); err != nil {
			return fmt.Errorf("sqlite store: add member: %w", err)
		}
		if _, err := touch.Exec(r.stamp, r.room); err != nil {
			return fmt.Errorf("sqlite store: touch room: %w", err)
		}
	}
	return tx.Commit()
}

// Rooms implements store.Store. The rooms_active index serves the order;
// access_user the private rooms of the user.
func (s *Store) Rooms(ctx context.Context, q store.RoomQuery) ([]shared.RoomInfo, error) {
	if err := s.flushMembers(); err != nil { // joins count as activity
		return nil, err
	}
	before := q.Before
	if before <= 0 {
		before = 1 << 62
	}
	rows, err := s.db.QueryContext(ctx, `SELECT name, head, kind, owner, active,
			CASE WHEN kind = 'dm' THEN (SELECT a.user_id FROM access a WHERE a.room = r.name AND a.user_id != ?1 LIMIT 1) ELSE '' END
		FROM rooms r
		WHERE active < ?2 AND (kind = 'public' OR name IN (SELECT room FROM access WHERE user_id = ?1))
		ORDER BY active DESC LIMIT ?3`, q.User, before, q.Limit)
	if err != nil {
		return nil, fmt.Errorf("sqlite store: rooms: %w", err)
	}
	defer rows.Close()
	var out []shared.RoomInfo
	for rows.Next() {
		var r shared.RoomInfo
		var peer sql.NullString
		if err := rows.Scan(&r.Name, &r.Head, &r.Kind, &r.Owner, &r.Active, &peer); err != nil {
			return nil, fmt.Errorf("sqlite store: rooms: %w", err)
		}
		if r.Kind == shared.RoomPublic {
			r.Kind = ""
		}
		if peer.String != "" {
			r.Peer = &shared.Member{User: peer.String}
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// Room implements store.Store.
func (s *Store) Room(ctx context.Context, name string) (store.RoomMeta, bool, error) {
	meta := store.RoomMeta{Name: name}
	st, err := s.stmt(ctx, `SELECT kind, owner FROM rooms WHERE name = ?`)
	if err != nil {
		return store.RoomMeta{}, false, err
	}
	err = st.QueryRowContext(ctx, name).Scan(&meta.Kind, &meta.Owner)
	if errors.Is(err, sql.ErrNoRows) {
		return store.RoomMeta{}, false, nil
	}
	if err != nil {
		return store.RoomMeta{}, false, fmt.Errorf("sqlite store: read room: %w", err)
	}
	if meta.Kind == shared.RoomDM {
		rows, err := s.db.QueryContext(ctx, `SELECT user_id FROM access WHERE room = ? ORDER BY user_id`, name)
		if err != nil {
			return store.RoomMeta{}, false, fmt.Errorf("sqlite store: read access: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var u string
			if err := rows.Scan(&u); err != nil {
				return store.RoomMeta{}, false, err
			}
			meta.Users = append(meta.Users, u)
		}
		return meta, true, rows.Err()
	}
	return meta, true, nil
}

// CreateRoom implements store.Store: the room and its access list in one
// transaction, so a private room is never visible without its owner.
func (s *Store) CreateRoom(ctx context.Context, meta store.RoomMeta) (store.RoomMeta, bool, error) {
	if meta.Kind == "" {
		meta.Kind = shared.RoomPublic
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return store.RoomMeta{}, false, store.ErrClosed
	}
	s.clock++
	stamp := s.clock
	s.mu.Unlock()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return store.RoomMeta{}, false, fmt.Errorf("sqlite store: begin: %w", err)
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `INSERT INTO rooms (name, active, kind, owner) VALUES (?, ?, ?, ?) ON CONFLICT (name) DO NOTHING`,
		meta.Name, stamp, meta.Kind, meta.Owner)
	if err != nil {
		return store.RoomMeta{}, false, fmt.Errorf("sqlite store: create room: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		tx.Rollback()
		existing, _, err := s.Room(ctx, meta.Name)
		return existing, false, err
	}
	for _, u := range append([]string{meta.Owner}, meta.Users...) {
		if u == "" {
			continue
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO access (room, user_id) VALUES (?, ?) ON CONFLICT DO NOTHING`, meta.Name, u); err != nil {
			return store.RoomMeta{}, false, fmt.Errorf("sqlite store: grant: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return store.RoomMeta{}, false, fmt.Errorf("sqlite store: commit: %w", err)
	}
	s.mu.Lock()
	s.known[meta.Name] = true
	s.mu.Unlock()
	sort.Strings(meta.Users)
	return meta, true, nil
}

// Grant implements store.Store.
func (s *Store) Grant(ctx context.Context, room, user string) error {
	if _, err := s.db.ExecContext(ctx, `INSERT INTO access (room, user_id) VALUES (?, ?) ON CONFLICT DO NOTHING`, room, user); err != nil {
		return fmt.Errorf("sqlite store: grant: %w", err)
	}
	return nil
}

// Revoke implements store.Store.
func (s *Store) Revoke(ctx context.Context, room, user string) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM access WHERE room = ? AND user_id = ?`, room, user); err != nil {
		return fmt.Errorf("sqlite store: revoke: %w", err)
	}
	return nil
}

// HasAccess implements store.Store.
func (s *Store) HasAccess(ctx context.Context, room, user string) (bool, error) {
	var one int
	st, err := s.stmt(ctx, `SELECT 1 FROM access WHERE room = ? AND user_id = ?`)
	if err != nil {
		return false, err
	}
	err = st.QueryRowContext(ctx, room, user).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("sqlite store: read access: %w", err)
	}
	return true, nil
}

// User implements store.Store.
func (s *Store) User(ctx context.Context, id string) (shared.Member, bool, error) {
	if err := s.flushMembers(); err != nil {
		return shared.Member{}, false, err
	}
	m := shared.Member{User: id}
	err := s.db.QueryRowContext(ctx, `SELECT nick FROM members WHERE user_id = ? ORDER BY joined DESC LIMIT 1`, id).Scan(&m.Nick)
	if errors.Is(err, sql.ErrNoRows) {
		return shared.Member{}, false, nil
	}
	if err != nil {
		return shared.Member{}, false, fmt.Errorf("sqlite store: read user: %w", err)
	}
	return m, true, nil
}

var _ store.Pinger = (*Store)(nil)

// Ping implements store.Pinger with a real write: it commits one row of a
// one-row table, which takes the write lock, appends to the WAL and syncs,
// as a message commit does. The table is created here rather than by a
// migration: it holds no data worth a schema version, and a database
// without it is still valid for every binary.
func (s *Store) Ping(ctx context.Context) error {
	if _, err := s.db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS ping (id INTEGER PRIMARY KEY, at INTEGER NOT NULL)`); err != nil {
		return fmt.Errorf("sqlite store %s: write check: %w", s.path, err)
	}
	if _, err := s.db.ExecContext(ctx, `INSERT INTO ping (id, at) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET at = excluded.at`, time.Now().UnixNano()); err != nil {
		return fmt.Errorf("sqlite store %s: write check: %w", s.path, err)
	}
	return nil
}

// Close implements store.Store: it writes pending member records first.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.flush != nil {
		s.flush.Stop()
	}
	if s.checkpoint != nil {
		s.checkpoint.Stop()
	}
	s.closed = true
	s.mu.Unlock()
	err := errors.Join(s.flushMembers(), s.flushReads())
	s.stmts.Range(func(_, st any) bool {
		st.(*sql.Stmt).Close()
		return true
	})
	return errors.Join(err, s.search.Close(), s.db.Close())
}

// encodeImage is the image column's value: the JSON of img, empty for none.
func encodeImage(img *shared.Image) string {
	if img == nil {
		return ""
	}
	b, _ := json.Marshal(img)
	return string(b)
}

// decodeImage reads the image column (empty or corrupt: no image).
func decodeImage(s string) *shared.Image {
	if s == "" {
		return nil
	}
	img := new(shared.Image)
	if json.Unmarshal([]byte(s), img) != nil {
		return nil
	}
	return img
}
