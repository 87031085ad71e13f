package ui

import (
	"reflect"
	"testing"

	"github.com/duplex-chat/duplex/shared"
)

func TestMentionify(t *testing.T) {
	set := newNickSet([]shared.Member{{User: "u-b", Nick: "Bob"}, {User: "u-l", Nick: "Ann Lee"}, {User: "u-a", Nick: "Ann"}}, shared.Member{User: "u-a", Nick: "Ann"})
	for _, c := range []struct {
		in   string
		want []mentionSeg
	}{
		{"hi @Bob!", []mentionSeg{{Text: "hi "}, {Text: "@Bob", Mention: true}, {Text: "!"}}},
		{"@bob", []mentionSeg{{Text: "@bob", Mention: true}}},
		{"@Βοb", []mentionSeg{{Text: "@Βοb", Mention: true}}}, // Greek look-alike
		{"@Bobby", []mentionSeg{{Text: "@Bobby"}}},
		{"ann@example.com", []mentionSeg{{Text: "ann@example.com"}}},
		{"@Ann Lee and @Ann", []mentionSeg{{Text: "@Ann Lee", Mention: true}, {Text: " and "}, {Text: "@Ann", Mention: true, Me: true}}},
		{"@Ann ", []mentionSeg{{Text: "@Ann", Mention: true, Me: true}, {Text: " "}}},
		{"<b>@Bob</b>", []mentionSeg{{Text: "<b>"}, {Text: "@Bob", Mention: true}, {Text: "</b>"}}},
		{"no at", []mentionSeg{{Text: "no at"}}},
		{"@", []mentionSeg{{Text: "@"}}},
	} {
		if got := mentionify(c.in, set); !reflect.DeepEqual(got, c.want) {
			t.Errorf("mentionify(%q) = %+v, want %+v", c.in, got, c.want)
		}
	}
	if got := suggest([]shared.Member{{User: "u-b", Nick: "Bob"}, {User: "u-a", Nick: "Ann"}, {User: "u-x", Nick: "bobby"}}, "u-a", "BO"); len(got) != 2 || got[0].Nick != "Bob" || got[1].Nick != "bobby" {
		t.Errorf("suggest BO = %v", got)
	}
}
