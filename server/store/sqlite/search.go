package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"strings"

	"github.com/duplex-chat/duplex/server/store"
	"github.com/duplex-chat/duplex/shared"
)

// searchConns is the size of the search's pool: searches beyond it wait
// for a connection (within their context), never for one of the main pool.
const searchConns = 2

// openSearchDB opens the search's pool on the database file: read-only
// connections (query_only), so that a search, however slow, holds none
// of the connections writes and reads of the chat need. Searches are
// bounded by their context: the driver interrupts SQLite when it ends.
func openSearchDB(path string) (*sql.DB, error) {
	q := url.Values{}
	for _, p := range []string{"query_only(1)", "busy_timeout(2000)"} {
		q.Add("_pragma", p)
	}
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("open search pool: %w", err)
	}
	db.SetMaxOpenConns(searchConns)
	db.SetMaxIdleConns(searchConns)
	if err := db.Ping(); err != nil {
		db.Close()
		return nil, fmt.Errorf("open search pool: %w", err)
	}
	return db, nil
}

// matchExpr turns user input into an FTS5 query that cannot be anything
// but plain terms: each term of store.Terms quoted as a string (a quote
// inside doubled) and made a prefix, all of them required. Operators
// (AND, OR, NOT, NEAR), column filters, stars and unbalanced quotes in
// the input are thus only words or separators.
func matchExpr(query string) string {
	terms := store.Terms(query)
	for i, t := range terms {
		terms[i] = `"` + strings.ReplaceAll(t, `"`, `""`) + `"*`
	}
	return strings.Join(terms, " AND ")
}

// Search implements store.Searcher with the FTS5 index, newest first by
// the index's insertion order, filtered to the rooms q.User may read.
func (s *Store) Search(ctx context.Context, q store.SearchQuery) ([]shared.Message, int64, error) {
	expr := matchExpr(q.Query)
	if expr == "" {
		return nil, 0, nil
	}
	before := q.Before
	if before <= 0 {
		before = 1 << 62
	}
	rows, err := s.search.QueryContext(ctx, `SELECT r.id, r.room, r.seq
		FROM search f
		JOIN search_rows r ON r.id = f.rowid
		JOIN messages m ON m.room = r.room AND m.seq = r.seq
		WHERE search MATCH ?1 AND f.rowid < ?2 AND (?3 = '' OR r.room = ?3) AND m.deleted = 0
			AND EXISTS (SELECT 1 FROM rooms o WHERE o.name = r.room
				AND (o.kind = 'public' OR EXISTS (SELECT 1 FROM access a WHERE a.room = r.room AND a.user_id = ?4)))
		ORDER BY f.rowid DESC LIMIT ?5`, expr, before, q.Room, q.User, q.Limit)
	if err != nil {
		return nil, 0, fmt.Errorf("sqlite store: search: %w", err)
	}
	type hit struct {
		room string
		seq  int64
	}
	var hits []hit
	var last int64
	for rows.Next() {
		var h hit
		if err := rows.Scan(&last, &h.room, &h.seq); err != nil {
			rows.Close()
			return nil, 0, fmt.Errorf("sqlite store: search: %w", err)
		}
		hits = append(hits, h)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("sqlite store: search: %w", err)
	}
	// Each result as history shows it: latest state, reactions, reply
	// quote, mentions.
	out := make([]shared.Message, 0, len(hits))
	for _, h := range hits {
		m, err := s.view(ctx, nil, h.room, h.seq)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, m)
	}
	var next int64
	if len(hits) == q.Limit {
		next = last
	}
	return out, next, nil
}
