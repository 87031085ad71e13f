package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/duplex-chat/duplex/server/store"
	"github.com/duplex-chat/duplex/shared"
)

// Events and replies in SQLite (the rules are store/events.go's). A
// message row holds the message's latest state: an edit rewrites its
// body and sets edited, a delete empties its body and the bodies of the
// edit rows naming it (with secure_delete on, so the text does not stay
// in free pages), and reactions live in their own table keyed by (room,
// seq, user, emoji), so a repeated reaction is a no-op by construction.

// selectRows reads rows as After and Before return them: an event row
// carries its target's body, edited and deleted (t), a reply its parent's
// author and text for the quote (p). Reactions are read by reactions.
const selectRows = `SELECT m.seq, m.kind, m.target, m.user_id, m.nick, m.msg_id, m.ts,
		COALESCE(t.body, m.body), COALESCE(t.edited, m.edited), COALESCE(t.deleted, m.deleted),
		m.reply_to, p.seq, p.user_id, p.nick, p.body, p.deleted, m.image
	FROM messages m
	LEFT JOIN messages t ON m.target > 0 AND t.room = m.room AND t.seq = m.target
	LEFT JOIN messages p ON m.reply_to > 0 AND p.room = m.room AND p.seq = m.reply_to
	`

// kindOf reads the kind column: 'message' is the empty kind.
func kindOf(col string) shared.Kind {
	if col == "message" {
		return shared.KindMessage
	}
	return shared.Kind(col)
}

// kindColumn is the kind column's value for k.
func kindColumn(k shared.Kind) string {
	if k == shared.KindMessage {
		return "message"
	}
	return string(k)
}

// query runs a selectRows query (inside tx when it is not nil) and fills
// in reactions.
func (s *Store) query(ctx context.Context, tx *sql.Tx, q, room string, args ...any) ([]shared.Message, error) {
	rows, err := s.rows(ctx, tx, q, append([]any{room}, args...)...)
	if err != nil {
		return nil, fmt.Errorf("sqlite store: query: %w", err)
	}
	defer rows.Close()
	var msgs []shared.Message
	for rows.Next() {
		m := shared.Message{Room: room}
		var kind string
		var replyTo int64
		var pSeq sql.NullInt64
		var pUser, pNick, pBody sql.NullString
		var pDeleted sql.NullBool
		var image string
		if err := rows.Scan(&m.Seq, &kind, &m.Target, &m.Author.User, &m.Author.Nick, &m.MsgID, &m.TS,
			&m.Body, &m.Edited, &m.Deleted, &replyTo, &pSeq, &pUser, &pNick, &pBody, &pDeleted, &image); err != nil {
			return nil, fmt.Errorf("sqlite store: scan: %w", err)
		}
		m.Image = decodeImage(image)
		m.Kind = kindOf(kind)
		if replyTo != 0 {
			parent := shared.Message{Author: shared.Member{User: pUser.String, Nick: pNick.String}, Body: pBody.String, Deleted: pDeleted.Bool}
			m.ReplyTo = store.ReplyOf(replyTo, parent, pSeq.Valid)
		}
		msgs = append(msgs, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite store: query: %w", err)
	}
	rows.Close()
	if err := s.fillMentions(ctx, tx, room, msgs); err != nil { // read.go
		return nil, err
	}
	return msgs, s.reactions(ctx, tx, room, msgs)
}

// rows runs q inside tx, or outside any through a cached prepared
// statement. (Preparing on another connection while tx holds the write
// lock would wait for it.)
func (s *Store) rows(ctx context.Context, tx *sql.Tx, q string, args ...any) (*sql.Rows, error) {
	if tx != nil {
		return tx.QueryContext(ctx, q, args...)
	}
	st, err := s.stmt(ctx, q)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(ctx, args...)
}

// view reads one row, inside tx, as After returns it.
func (s *Store) view(ctx context.Context, tx *sql.Tx, room string, seq int64) (shared.Message, error) {
	msgs, err := s.query(ctx, tx, selectRows+`WHERE m.room = ? AND m.seq = ?`, room, seq)
	if err != nil {
		return shared.Message{}, err
	}
	if len(msgs) == 0 {
		return shared.Message{}, fmt.Errorf("sqlite store: row %d of room %q vanished", seq, room)
	}
	return msgs[0], nil
}

// target reads what the rules need to know of the row seq of room.
func target(ctx context.Context, tx *sql.Tx, room string, seq int64) (store.TargetState, error) {
	t := store.TargetState{Found: true}
	var kind string
	err := tx.QueryRowContext(ctx, `SELECT kind, user_id, deleted FROM messages WHERE room = ? AND seq = ?`, room, seq).Scan(&kind, &t.Author, &t.Deleted)
	if errors.Is(err, sql.ErrNoRows) {
		return store.TargetState{}, nil
	}
	if err != nil {
		return t, fmt.Errorf("sqlite store: read target: %w", err)
	}
	t.Kind = kindOf(kind)
	return t, nil
}

// duplicate answers m, whose msg_id is already stored as old (row seq):
// the stored row when m repeats the same request, else a conflict.
func (s *Store) duplicate(ctx context.Context, tx *sql.Tx, m, old store.NewMessage, seq int64, deleted bool) (store.Result, error) {
	scrubbed := deleted
	if old.Kind != shared.KindMessage {
		t, err := target(ctx, tx, m.Room, old.Target)
		if err != nil {
			return store.Result{}, err
		}
		scrubbed = !t.Found || t.Deleted
	}
	if old.Kind == shared.KindEdit && !scrubbed {
		// A superseded edit's body was erased (supersedeEdits): a retry
		// of it is recognised by everything else.
		var newer bool
		if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM messages WHERE room = ? AND target = ? AND kind = 'edit' AND seq > ?)`,
			m.Room, old.Target, seq).Scan(&newer); err != nil {
			return store.Result{}, fmt.Errorf("sqlite store: read edits: %w", err)
		}
		scrubbed = newer
	}
	if !store.SameRequest(old, scrubbed, m) {
		return store.Result{Err: store.Conflict(m.Room, m.MsgID)}, nil
	}
	msg, err := s.view(ctx, tx, m.Room, seq)
	return store.Result{Message: msg, Duplicate: true}, err
}

// applyEvent checks m, an event or a reply, against the rules and, for
// an event, changes its target (seq is the seq m will get). apply is
// false when m must not be stored: res then holds the error or the no-op
// answer.
func (s *Store) applyEvent(ctx context.Context, tx *sql.Tx, m store.NewMessage, seq int64) (res store.Result, apply bool, err error) {
	if m.Kind == shared.KindMessage {
		p, err := target(ctx, tx, m.Room, m.ReplyTo)
		if err != nil {
			return res, false, err
		}
		if !p.Found || p.Kind != shared.KindMessage {
			return store.Result{Err: store.ReplyNotFound(m.Room, m.ReplyTo)}, false, nil
		}
		return res, true, nil
	}
	t, err := target(ctx, tx, m.Room, m.Target)
	if err != nil {
		return res, false, err
	}
	noop, err := store.CheckEvent(m, t)
	if err != nil {
		return store.Result{Err: err}, false, nil
	}
	if !noop {
		var changed int64 = 1
		switch m.Kind {
		case shared.KindEdit:
			_, err = tx.ExecContext(ctx, `UPDATE messages SET body = ?, edited = ? WHERE room = ? AND seq = ?`, m.Body, m.TS, m.Room, m.Target)
			if err == nil {
				err = supersedeEdits(ctx, tx, m.Room, m.Target)
			}
		case shared.KindDelete:
			res.Orphaned, err = deleteText(ctx, tx, m.Room, m.Target)
		case shared.KindReact, shared.KindUnreact:
			var did bool
			var refusal error
			if did, refusal, err = react(ctx, tx, m, seq); refusal != nil {
				return store.Result{Err: refusal}, false, nil
			}
			if !did {
				changed = 0
			}
		}
		if err != nil {
			return res, false, fmt.Errorf("sqlite store: apply %s: %w", m.Kind, err)
		}
		if changed > 0 {
			return res, true, nil
		}
	}
	cur, err := s.view(ctx, tx, m.Room, m.Target)
	return store.NoOp(m, cur), false, err
}

func rowsChanged(r sql.Result, err error) (int64, error) {
	if err != nil {
		return 0, err
	}
	return r.RowsAffected()
}

// supersedeEdits empties the bodies of the earlier edit rows of message
// seq, inside the transaction of a new edit (before its row is
// inserted): an edit keeps no history, so the text an edit replaced is
// stored nowhere (erase.go).
func supersedeEdits(ctx context.Context, tx *sql.Tx, room string, seq int64) error {
	_, err := tx.ExecContext(ctx, `UPDATE messages SET body = '' WHERE room = ? AND target = ? AND target > 0 AND kind = 'edit' AND body != ''`, room, seq)
	return err
}

// deleteText removes a deleted message's text: its body, the bodies of
// its edits, its image and its reactions. orphan is the id of its image
// when no other live message of the room carries it (store.Result).
func deleteText(ctx context.Context, tx *sql.Tx, room string, seq int64) (orphan string, err error) {
	var image string
	if err := tx.QueryRowContext(ctx, `SELECT image FROM messages WHERE room = ? AND seq = ?`, room, seq).Scan(&image); err != nil {
		return "", err
	}
	if img := decodeImage(image); img != nil {
		var live bool
		if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM messages
			WHERE room = ? AND image != '' AND json_extract(image, '$.id') = ? AND seq != ? AND deleted = 0)`, room, img.ID, seq).Scan(&live); err != nil {
			return "", err
		}
		if !live {
			orphan = img.ID
		}
	}
	for _, q := range []string{
		`UPDATE messages SET body = '', deleted = 1, image = '' WHERE room = ? AND seq = ?`,
		`UPDATE messages SET body = '' WHERE room = ? AND target = ? AND target > 0 AND kind = 'edit'`,
		`DELETE FROM reactions WHERE room = ? AND seq = ?`,
		`DELETE FROM reaction_counts WHERE room = ? AND seq = ?`,
	} {
		if _, err := tx.ExecContext(ctx, q, room, seq); err != nil {
			return "", err
		}
	}
	return orphan, nil
}
