package server_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/duplex-chat/duplex/server"
	"github.com/duplex-chat/duplex/shared"
)

// TestStrictFields sends frames that encoding/json alone would accept or
// echo: repeated fields (where the last would win: a hello that would run
// as a join, a send whose body would be swapped), wrongly-cased field
// names, and 60 KB of input where an error might quote it. Each gets an
// error (invalid for the repeats and the case), the error quotes at most a
// short prefix, nothing runs or is stored, and Ann's connection and Bob's
// chat go on.
func TestStrictFields(t *testing.T) {
	ts := startServer(t, server.Options{})
	ann, bob := lobbyPair(t, ts.url)
	ann.sendMsg(t, "lobby", "first", "before the bad input")

	long := strings.Repeat("x", 60<<10)
	cases := []struct {
		name  string
		frame string
		id    string // the id the error must name; "" when it names none
		code  shared.Code
	}{
		{"repeated type (a hello that would run as a join)", `{"type":"hello","type":"join","id":"d1","data":{"room":"elsewhere"}}`, "", shared.CodeInvalid},
		{"repeated id", `{"type":"rooms","id":"d2","id":"d3"}`, "", shared.CodeInvalid},
		{"repeated body", `{"type":"send","id":"d4","data":{"room":"lobby","msg_id":"m-d4","body":"shown","body":"stored"}}`, "d4", shared.CodeInvalid},
		{"repeated room", `{"type":"join","id":"d5","data":{"room":"lobby","room":"elsewhere"}}`, "d5", shared.CodeInvalid},
		{"wrong-case Type and ID", `{"Type":"rooms","ID":"c1"}`, "", shared.CodeInvalid},
		{"wrong-case Data", `{"type":"join","id":"c2","Data":{"room":"elsewhere"}}`, "", shared.CodeInvalid},
		{"wrong-case Room", `{"type":"send","id":"c3","data":{"Room":"lobby","msg_id":"m-c3","body":"hi"}}`, "c3", shared.CodeInvalid},
		{"wrong-case via long s", `{"type":"join","id":"c4","data":{"room":"lobby","ſince":0}}`, "c4", shared.CodeInvalid},
		{"60 KB type", `{"type":"` + long + `","id":"l1"}`, "l1", shared.CodeUnknownType},
		{"60 KB room name", `{"type":"join","id":"l2","data":{"room":"` + long + `"}}`, "l2", shared.CodeInvalid},
		{"40-character bad room name", `{"type":"join","id":"l3","data":{"room":"` + strings.Repeat("X", 40) + `"}}`, "l3", shared.CodeInvalid},
		{"60 KB unknown field", `{"type":"rooms","id":"l4","` + long + `":1}`, "", shared.CodeBadFrame},
		{"60 KB number", `{"type":"join","id":"l5","data":{"room":"lobby","since":1` + strings.Repeat("0", 60<<10) + `}}`, "l5", shared.CodeBadFrame},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ann.writeRaw(t, []byte(tc.frame))
			var e *shared.ErrorFrame
			if tc.id == "" {
				e = ann.expectAnonError(t, tc.code)
			} else {
				e = ann.expectError(t, tc.id, tc.code)
			}
			if len(e.Message) > 512 || strings.Contains(e.Message, strings.Repeat("x", 33)) {
				t.Fatalf("error message of %d bytes echoes too much: %.200q", len(e.Message), e.Message)
			}
			a := ann.sendMsg(t, "lobby", fmt.Sprintf("after-%d", i), "still alive after "+tc.name)
			bob.waitSeq(t, "lobby", a.Seq)
		})
	}

	// Neither the repeated type nor the repeated room joined Ann anywhere.
	id := ann.request(t, shared.TypeSend, &shared.Send{Room: "elsewhere", MsgID: "m-e", Body: "hi"})
	ann.expectError(t, id, shared.CodeNotJoined)

	b := bob.sendMsg(t, "lobby", "bob-last", "and Bob keeps chatting")
	msgs := ann.waitSeq(t, "lobby", b.Seq)
	checkSeqs(t, "ann", msgs, 1, b.Seq)
	if b.Seq != int64(len(cases)+2) {
		t.Fatalf("head %d after %d good sends: a refused frame was stored", b.Seq, len(cases)+2)
	}
	for _, m := range msgs[1 : len(msgs)-1] {
		if !strings.HasPrefix(m.MsgID, "after-") {
			t.Fatalf("a refused frame was stored: %+v", m)
		}
	}
}
