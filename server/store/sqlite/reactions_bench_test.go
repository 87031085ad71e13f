package sqlite

import (
	"context"
	"fmt"
	"testing"

	"github.com/duplex-chat/duplex/server/store"
	"github.com/duplex-chat/duplex/shared"
)

// benchEmoji are the 20 emoji the reaction benchmark spreads its
// reactions over: as many kinds as the default cap allows on a message.
var benchEmoji = []string{"👍", "❤️", "😂", "🎉", "😮", "🙏", "🔥", "👀", "✅", "💯",
	"🚀", "😢", "😡", "🤔", "👏", "🙌", "💡", "⭐", "🍕", "🐛"}

// BenchmarkReact times one reaction toggled on a message that already
// carries n reactions (n users, 20 emoji): the work the committer does
// inside its write transaction for each react and unreact. Issue #14
// measured 2 ms at 1k reactions and 581 ms at 20k before the per-emoji
// counts.
func BenchmarkReact(b *testing.B) {
	for _, n := range []int{1_000, 20_000, 50_000} {
		b.Run(fmt.Sprintf("reactions=%d", n), func(b *testing.B) {
			s, err := Open(b.TempDir())
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			ctx := context.Background()
			ann := shared.Member{User: "u-ann", Nick: "Ann"}
			if _, err := s.Append(ctx, []store.NewMessage{{Room: "r", MsgID: "m-0", Author: ann, Body: "react to me", TS: 1}}); err != nil {
				b.Fatal(err)
			}
			seedReactions(b, s, n)
			me := shared.Member{User: "u-bench", Nick: "Bench"}
			k := 0
			for b.Loop() {
				kind := shared.KindReact
				if k%2 == 1 {
					kind = shared.KindUnreact
				}
				res, err := s.Append(ctx, []store.NewMessage{{Room: "r", MsgID: fmt.Sprintf("b-%d", k), TS: 3, Author: me,
					Kind: kind, Target: 1, Emoji: benchEmoji[0]}})
				if err != nil || res[0].Err != nil || res[0].Duplicate {
					b.Fatalf("toggle %d: %v %+v", k, err, res)
				}
				k++
			}
		})
	}
}

// seedReactions puts n reactions on message 1 of room "r" straight into
// the table (through Append, setting up 50k would itself take hours
// with a quadratic aggregate), then derives what the store keeps from
// them.
func seedReactions(b *testing.B, s *Store, n int) {
	ctx := context.Background()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer tx.Rollback()
	for j := range n {
		if _, err := tx.ExecContext(ctx, `INSERT INTO reactions (room, seq, user_id, emoji, at) VALUES ('r', 1, ?, ?, ?)`,
			fmt.Sprintf("u-%d", j), benchEmoji[j%len(benchEmoji)], 2+j); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := tx.ExecContext(ctx, recountReactions); err != nil {
		b.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
}
