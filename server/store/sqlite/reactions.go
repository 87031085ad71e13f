package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/duplex-chat/duplex/server/store"
	"github.com/duplex-chat/duplex/shared"
)

// Reactions in SQLite (issue #14). The reactions table holds who reacted
// with what (one row per user and emoji: a repeat is a no-op by its
// primary key); reaction_counts holds, per message and emoji, the count
// and when the emoji appeared (its order). A react or unreact changes one
// row of each, and reading a message's reactions reads at most
// shared.MaxReactionKinds count rows, never its reactions one by one.

// reactionCountsSchema is migration 7: the counts, derived once from the
// reactions already stored.
const reactionCountsSchema = `CREATE TABLE reaction_counts (
		room  TEXT    NOT NULL,
		seq   INTEGER NOT NULL,
		emoji TEXT    NOT NULL,
		count INTEGER NOT NULL,
		first INTEGER NOT NULL,
		PRIMARY KEY (room, seq, emoji)
	) WITHOUT ROWID;
	` + recountReactions

// recountReactions derives reaction_counts from reactions.
const recountReactions = `INSERT INTO reaction_counts (room, seq, emoji, count, first)
	SELECT room, seq, emoji, count(*), min(at) FROM reactions GROUP BY room, seq, emoji;`

// react applies react or unreact m (which would get seq) to its target
// inside tx. changed is false for a no-op; refusal is set when m would add
// a kind of emoji beyond the cap (nothing is written then).
func react(ctx context.Context, tx *sql.Tx, m store.NewMessage, seq int64) (changed bool, refusal, err error) {
	if m.Kind == shared.KindUnreact {
		n, err := rowsChanged(tx.ExecContext(ctx, `DELETE FROM reactions WHERE room = ? AND seq = ? AND user_id = ? AND emoji = ?`,
			m.Room, m.Target, m.Author.User, m.Emoji))
		if err != nil || n == 0 {
			return false, nil, err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE reaction_counts SET count = count - 1 WHERE room = ? AND seq = ? AND emoji = ?`,
			m.Room, m.Target, m.Emoji); err != nil {
			return false, nil, err
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM reaction_counts WHERE room = ? AND seq = ? AND emoji = ? AND count <= 0`, m.Room, m.Target, m.Emoji)
		return err == nil, nil, err
	}
	var have int
	err = tx.QueryRowContext(ctx, `SELECT count FROM reaction_counts WHERE room = ? AND seq = ? AND emoji = ?`, m.Room, m.Target, m.Emoji).Scan(&have)
	switch {
	case errors.Is(err, sql.ErrNoRows): // a new kind of emoji on the message: within the cap?
		var kinds int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM reaction_counts WHERE room = ? AND seq = ?`, m.Room, m.Target).Scan(&kinds); err != nil {
			return false, nil, err
		}
		if kinds >= store.EmojiCap(m) {
			return false, store.ReactionLimit(m), nil
		}
	case err != nil:
		return false, nil, err
	}
	n, err := rowsChanged(tx.ExecContext(ctx, `INSERT INTO reactions (room, seq, user_id, emoji, at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT DO NOTHING`, m.Room, m.Target, m.Author.User, m.Emoji, seq))
	if err != nil || n == 0 {
		return false, nil, err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO reaction_counts (room, seq, emoji, count, first) VALUES (?, ?, ?, 1, ?)
		ON CONFLICT (room, seq, emoji) DO UPDATE SET count = count + 1`, m.Room, m.Target, m.Emoji, seq)
	return err == nil, nil, err
}

// reactions fills in what msgs show of reactions: a message its own list
// (Me set for the viewer of ctx, store.WithViewer), an edit or delete its
// target's, a react or unreact its change (store.ReactionEvent).
func (s *Store) reactions(ctx context.Context, tx *sql.Tx, room string, msgs []shared.Message) error {
	var targets, events []int64
	for _, m := range msgs {
		switch m.Kind {
		case shared.KindReact, shared.KindUnreact:
			events = append(events, m.Seq)
		case shared.KindMessage:
			targets = append(targets, m.Seq)
		default:
			targets = append(targets, m.Target)
		}
	}
	lists, err := s.reactionLists(ctx, tx, room, targets, store.Viewer(ctx))
	if err != nil {
		return err
	}
	changes, err := s.reactionChanges(ctx, tx, room, events)
	if err != nil {
		return err
	}
	for i := range msgs {
		switch m := &msgs[i]; m.Kind {
		case shared.KindReact, shared.KindUnreact:
			c := changes[m.Seq]
			*m = store.ReactionEvent(*m, c.Emoji, c.Count)
		case shared.KindMessage:
			m.Reactions = lists[m.Seq]
		default:
			m.Reactions = lists[m.Target]
		}
	}
	return nil
}

// reactionLists reads the reactions of the messages seqs: at most
// shared.MaxReactionKinds each, in the order the emoji appeared, Me set
// for viewer's.
func (s *Store) reactionLists(ctx context.Context, tx *sql.Tx, room string, seqs []int64, viewer string) (map[int64][]shared.Reaction, error) {
	if len(seqs) == 0 {
		return nil, nil
	}
	list, _ := json.Marshal(seqs)
	rows, err := s.rows(ctx, tx, `SELECT seq, emoji, count FROM reaction_counts
		WHERE room = ? AND seq IN (SELECT value FROM json_each(?)) ORDER BY seq, first`, room, string(list))
	if err != nil {
		return nil, fmt.Errorf("sqlite store: reactions: %w", err)
	}
	defer rows.Close()
	out := map[int64][]shared.Reaction{}
	for rows.Next() {
		var seq int64
		var r shared.Reaction
		if err := rows.Scan(&seq, &r.Emoji, &r.Count); err != nil {
			return nil, fmt.Errorf("sqlite store: reactions: %w", err)
		}
		if len(out[seq]) < shared.MaxReactionKinds { // a database from before the cap may hold more
			out[seq] = append(out[seq], r)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite store: reactions: %w", err)
	}
	rows.Close()
	if err := s.reactionSamples(ctx, tx, room, out); err != nil {
		return nil, err
	}
	if viewer == "" || len(out) == 0 {
		return out, nil
	}
	mine, err := s.rows(ctx, tx, `SELECT seq, emoji FROM reactions
		WHERE room = ? AND seq IN (SELECT value FROM json_each(?)) AND user_id = ?`, room, string(list), viewer)
	if err != nil {
		return nil, fmt.Errorf("sqlite store: own reactions: %w", err)
	}
	defer mine.Close()
	for mine.Next() {
		var seq int64
		var emoji string
		if err := mine.Scan(&seq, &emoji); err != nil {
			return nil, fmt.Errorf("sqlite store: own reactions: %w", err)
		}
		for i, r := range out[seq] {
			if r.Emoji == emoji {
				out[seq][i].Me = true
			}
		}
	}
	return out, mine.Err()
}

// reactionSamples sets Users of every reaction in out to its first
// shared.ReactionSample reactors, oldest first: a few index rows per
// emoji (reactions_by_emoji), whatever the count.
func (s *Store) reactionSamples(ctx context.Context, tx *sql.Tx, room string, out map[int64][]shared.Reaction) error {
	if len(out) == 0 {
		return nil
	}
	seqs := make([]int64, 0, len(out))
	for seq := range out {
		seqs = append(seqs, seq)
	}
	list, _ := json.Marshal(seqs)
	// One statement for the whole page: per message and emoji, a few
	// rows of reactions_by_emoji in time order.
	rows, err := s.rows(ctx, tx, `SELECT c.seq, c.emoji, (SELECT json_group_array(user_id) FROM (
			SELECT r.user_id FROM reactions r WHERE r.room = c.room AND r.seq = c.seq AND r.emoji = c.emoji ORDER BY r.at LIMIT ?))
		FROM reaction_counts c WHERE c.room = ? AND c.seq IN (SELECT value FROM json_each(?))`,
		shared.ReactionSample, room, string(list))
	if err != nil {
		return fmt.Errorf("sqlite store: reactors: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var seq int64
		var emoji, users string
		if err := rows.Scan(&seq, &emoji, &users); err != nil {
			return fmt.Errorf("sqlite store: reactors: %w", err)
		}
		rs := out[seq]
		for i := range rs {
			if rs[i].Emoji == emoji {
				if err := json.Unmarshal([]byte(users), &rs[i].Users); err != nil {
					return fmt.Errorf("sqlite store: reactors: %w", err)
				}
			}
		}
	}
	return rows.Err()
}

// reactionChanges reads, for the react and unreact rows seqs, their emoji
// and its current count on their target.
func (s *Store) reactionChanges(ctx context.Context, tx *sql.Tx, room string, seqs []int64) (map[int64]shared.Reaction, error) {
	if len(seqs) == 0 {
		return nil, nil
	}
	list, _ := json.Marshal(seqs)
	rows, err := s.rows(ctx, tx, `SELECT m.seq, m.emoji, COALESCE(c.count, 0) FROM messages m
		LEFT JOIN reaction_counts c ON c.room = m.room AND c.seq = m.target AND c.emoji = m.emoji
		WHERE m.room = ? AND m.seq IN (SELECT value FROM json_each(?))`, room, string(list))
	if err != nil {
		return nil, fmt.Errorf("sqlite store: reaction events: %w", err)
	}
	defer rows.Close()
	out := map[int64]shared.Reaction{}
	for rows.Next() {
		var seq int64
		var r shared.Reaction
		if err := rows.Scan(&seq, &r.Emoji, &r.Count); err != nil {
			return nil, fmt.Errorf("sqlite store: reaction events: %w", err)
		}
		out[seq] = r
	}
	return out, rows.Err()
}
