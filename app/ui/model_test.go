package ui

import (
	"reflect"
	"testing"
	"time"

	"github.com/duplex-chat/duplex/app/client"
	"github.com/duplex-chat/duplex/shared"
)

// TestModelHoldsNoMessages: the browser holds one copy of a room's
// messages, the client's (issue #9). Structurally, no field of the UI
// model or of a room's view state can hold a message (the test walks
// their types, so a slice of messages added later fails it), except the
// search results (model.find: hits from any room, a list of their own,
// not a room's history) and the prerendered seed (held only until the
// client exists, then handed to it: model.start); and a
// snapshot's rows point into the client's own snapshot slice instead of
// copying its messages, also after more arrive. Bad input tried: a seed
// with a message of another room and one without a seq (neither shown).
func TestModelHoldsNoMessages(t *testing.T) {
	msgType := reflect.TypeOf(shared.Message{})
	var walk func(reflect.Type, string, map[reflect.Type]bool)
	walk = func(typ reflect.Type, path string, seen map[reflect.Type]bool) {
		if seen[typ] || path == "model.find" || path == "model.seed" {
			return
		}
		seen[typ] = true
		switch typ.Kind() {
		case reflect.Pointer, reflect.Slice, reflect.Array, reflect.Map:
			if typ == reflect.TypeOf(&client.Client{}) {
				return // the owner of the messages
			}
			if typ.Kind() == reflect.Map {
				walk(typ.Key(), path+"[key]", seen)
			}
			walk(typ.Elem(), path+"[]", seen)
		case reflect.Struct:
			if typ == msgType {
				t.Errorf("%s holds shared.Message: the UI model must not keep messages (the client does)", path)
				return
			}
			for i := 0; i < typ.NumField(); i++ {
				f := typ.Field(i)
				walk(f.Type, path+"."+f.Name, seen)
			}
		}
	}
	walk(reflect.TypeOf(model{}), "model", map[reflect.Type]bool{})
	walk(reflect.TypeOf(roomView{}), "roomView", map[reflect.Type]bool{})

	cl, err := client.New("ws://127.0.0.1:1/ws", &client.Options{Nick: "reader", MinBackoff: time.Hour, MaxBackoff: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	go func() {
		for range cl.Events() {
		}
	}()
	msg := func(room string, seq int64) shared.Message {
		return shared.Message{Room: room, Seq: seq, TS: 1700000000000 + seq, MsgID: "m" + string(rune('a'+seq)), Body: "body", Author: shared.Member{User: "u-1", Nick: "Ann"}}
	}
	cl.Seed("lobby", []shared.Message{msg("lobby", 1), msg("lobby", 2), msg("other", 3), msg("lobby", 0)})
	m := &model{cl: cl, views: make(map[string]*roomView)}
	check := func(want int) {
		t.Helper()
		held := cl.Messages("lobby")
		rows := m.snapshot("lobby").Rows
		if len(rows) != want || len(held) != want {
			t.Fatalf("%d rows for %d held messages, want %d", len(rows), len(held), want)
		}
		for i := range rows {
			if rows[i].Msg != &held[i] {
				t.Fatalf("row %d holds a copy of message seq %d, not the client's", i, held[i].Seq)
			}
		}
	}
	check(2)
	cl.Seed("lobby", []shared.Message{msg("lobby", 3), msg("lobby", 4)})
	check(4)
}
