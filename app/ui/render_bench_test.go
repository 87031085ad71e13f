package ui

import (
	"strconv"
	"testing"

	"github.com/duplex-chat/duplex/shared"
	"github.com/maxence-charriere/go-app/v10/pkg/app"
)

// benchRows are n formatted messages in one room, as a snapshot holds them.
func benchRows(n int) []row {
	msgs := make([]shared.Message, n)
	for i := range msgs {
		u := "u" + strconv.Itoa(i%7)
		msgs[i] = shared.Message{
			Room: "general", Seq: int64(i + 1), MsgID: "m" + strconv.Itoa(i), TS: 1_700_000_000_000 + int64(i)*61_000,
			Author: shared.Member{User: u, Nick: "nick" + u},
			Body:   "message " + strconv.Itoa(i) + " with **bold**, _italic_, `code`, a link https://example.com/p/" + strconv.Itoa(i) + " and @nicku1 mentioned",
			Kind:   shared.KindMessage,
		}
	}
	rows := make([]row, n)
	for i := range msgs {
		rows[i] = row{Msg: &msgs[i], Status: "sent"}
	}
	return rows
}

func benchList(rows []row) *MessageList {
	members := []shared.Member{{User: "u1", Nick: "nicku1"}, {User: "u2", Nick: "nicku2"}}
	return &MessageList{m: newModel(), Room: "general", Rows: rows, Me: "u1", Ready: true,
		Nicks: newNickSet(members, members[0]), Names: map[string]string{"u1": "nicku1"}}
}

// BenchmarkMessageListRender is the cost of one refresh of a room with
// 2,000 messages: the mounted list builds its tree again from a new
// snapshot (the same messages, as after a typing or presence change).
// Run: go test -run '^$' -bench MessageList -benchmem ./app/ui/
func BenchmarkMessageListRender(b *testing.B) {
	rows := benchRows(2000)
	l := benchList(rows)
	e := app.NewTestEngine()
	if err := e.Load(l); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		l.Rows = append([]row(nil), rows...)
		_ = l.Render()
	}
}

// BenchmarkMessageListMount is a first render (a prerendered page or a
// room opened) of 2,000 messages into a fresh engine.
func BenchmarkMessageListMount(b *testing.B) {
	rows := benchRows(2000)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		e := app.NewTestEngine()
		if err := e.Load(benchList(rows)); err != nil {
			b.Fatal(err)
		}
	}
}
