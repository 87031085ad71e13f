package client_test

import (
	"reflect"
	"slices"
	"testing"

	"github.com/duplex-chat/duplex/app/client"
	"github.com/duplex-chat/duplex/shared"
)

// TestApplyReactions applies reaction frames (#14: the change, not the
// whole list) and edits to a held message, as Ann, and checks the counts
// and Ann's Me flags after each; then an older server's react event,
// which lists users instead.
func TestApplyReactions(t *testing.T) {
	ann, bob := shared.Member{User: "u-ann", Nick: "Ann"}, shared.Member{User: "u-bob", Nick: "Bob"}
	msgs := []shared.Message{{Room: "r", Seq: 1, Body: "hi"}, {Room: "r", Seq: 2, Body: "other"}}
	change := func(seq int64, who shared.Member, kind shared.Kind, emoji string, count int) shared.Message {
		return shared.Message{Room: "r", Seq: seq, Author: who, Kind: kind, Target: 1, Reaction: &shared.Reaction{Emoji: emoji, Count: count}}
	}
	steps := []struct {
		what string
		ev   shared.Message
		want []shared.Reaction
	}{
		{"Bob reacts", change(3, bob, shared.KindReact, "👍", 1), []shared.Reaction{{Emoji: "👍", Count: 1, Users: []string{"u-bob"}}}},
		{"Ann reacts too", change(4, ann, shared.KindReact, "👍", 2), []shared.Reaction{{Emoji: "👍", Count: 2, Me: true, Users: []string{"u-bob", "u-ann"}}}},
		{"Ann adds another", change(5, ann, shared.KindReact, "🎉", 1), []shared.Reaction{{Emoji: "👍", Count: 2, Me: true, Users: []string{"u-bob", "u-ann"}}, {Emoji: "🎉", Count: 1, Me: true, Users: []string{"u-ann"}}}},
		{"an edit carries counts and the first reactors, not Me", shared.Message{Room: "r", Seq: 6, Kind: shared.KindEdit, Target: 1, Body: "hi!", Edited: 6,
			Reactions: []shared.Reaction{{Emoji: "👍", Count: 2, Users: []string{"u-bob", "u-ann"}}, {Emoji: "🎉", Count: 1, Users: []string{"u-ann"}}}},
			[]shared.Reaction{{Emoji: "👍", Count: 2, Me: true, Users: []string{"u-bob", "u-ann"}}, {Emoji: "🎉", Count: 1, Me: true, Users: []string{"u-ann"}}}},
		{"Bob takes his back", change(7, bob, shared.KindUnreact, "👍", 1), []shared.Reaction{{Emoji: "👍", Count: 1, Me: true, Users: []string{"u-ann"}}, {Emoji: "🎉", Count: 1, Me: true, Users: []string{"u-ann"}}}},
		{"Ann takes hers back: gone", change(8, ann, shared.KindUnreact, "👍", 0), []shared.Reaction{{Emoji: "🎉", Count: 1, Me: true, Users: []string{"u-ann"}}}},
		{"applied twice: the same", change(8, ann, shared.KindUnreact, "👍", 0), []shared.Reaction{{Emoji: "🎉", Count: 1, Me: true, Users: []string{"u-ann"}}}},
		{"Ann's last one goes", change(9, ann, shared.KindUnreact, "🎉", 0), nil},
		{"an older server's react event lists users", shared.Message{Room: "r", Seq: 10, Author: bob, Kind: shared.KindReact, Target: 1, Body: "hi!", Edited: 6,
			Reactions: []shared.Reaction{{Emoji: "❤️", Count: 2, Users: []string{"u-bob", "u-ann"}}}}, []shared.Reaction{{Emoji: "❤️", Count: 2, Me: true, Users: []string{"u-bob", "u-ann"}}}},
	}
	for _, s := range steps {
		before := append([]shared.Message(nil), msgs...) // a snapshot shares the old reactions
		held := slices.Clone(before[0].Reactions)
		for i := range held {
			held[i].Users = slices.Clone(held[i].Users)
		}
		if !client.ApplyAs(msgs, s.ev, ann.User) {
			t.Fatalf("%s: the target was not found", s.what)
		}
		if got := msgs[0].Reactions; !reflect.DeepEqual(got, s.want) {
			t.Fatalf("%s: %+v, want %+v", s.what, got, s.want)
		}
		if !reflect.DeepEqual(held, before[0].Reactions) { // the snapshot's reactions are as they were
			t.Fatalf("%s: the reactions held before were changed in place", s.what)
		}
		if msgs[1].Reactions != nil || msgs[0].Body != "hi" && msgs[0].Body != "hi!" {
			t.Fatalf("%s: touched more than the target: %+v", s.what, msgs)
		}
	}
	// A reaction frame for a message not held changes nothing.
	if client.ApplyAs(msgs, shared.Message{Room: "r", Seq: 11, Author: ann, Kind: shared.KindReact, Target: 99, Reaction: &shared.Reaction{Emoji: "👍", Count: 1}}, ann.User) {
		t.Fatal("applied to a message not held")
	}
}
