package shared_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/duplex-chat/duplex/shared"
)

// maxErrorMessage bounds the message of any decode error: 32 quoted runes
// of client input (at most 10 bytes each, as \U0010ffff) plus the wording.
const maxErrorMessage = 512

// TestDecodeRejectsRepeatedAndWrongCaseFields tries what encoding/json
// alone would accept: a repeated key (the last would win) and a key in
// another case (matched case-insensitively, even through Unicode folding
// such as ſ for s), in the envelope and at every depth of data.
func TestDecodeRejectsRepeatedAndWrongCaseFields(t *testing.T) {
	cases := []struct {
		name     string
		in       string
		wantType shared.Type // the frame names the request only when the envelope is sound
		wantID   string
		mention  string // the message names the field
	}{
		// Envelope.
		{"repeated type runs no join", `{"type":"hello","type":"join","id":"r1","data":{"room":"a"}}`, "", "", `"type" is repeated`},
		{"repeated id", `{"type":"rooms","id":"a","id":"b"}`, "", "", `"id" is repeated`},
		{"repeated data", `{"type":"join","id":"r1","data":{"room":"a"},"data":{"room":"b"}}`, "", "", `"data" is repeated`},
		{"repeated type through an escape", `{"type":"rooms","\u0074ype":"rooms","id":"r1"}`, "", "", `"type" is repeated`},
		{"wrong-case Type and ID", `{"Type":"rooms","ID":"r1"}`, "", "", `"Type" must be spelled "type"`},
		{"wrong-case ID", `{"type":"rooms","ID":"r1"}`, "", "", `"ID" must be spelled "id"`},
		{"upper-case DATA", `{"type":"join","id":"r1","DATA":{"room":"a"}}`, "", "", `"DATA" must be spelled "data"`},
		{"wrong case after a sound repeat check", `{"type":"rooms","id":"r1","tYpE":"join"}`, "", "", `"tYpE"`},

		// Payload.
		{"repeated room", `{"type":"join","id":"r1","data":{"room":"a","room":"b"}}`, shared.TypeJoin, "r1", `"room" in data is repeated`},
		{"repeated body", `{"type":"send","id":"r1","data":{"room":"a","msg_id":"m","body":"x","body":"y"}}`, shared.TypeSend, "r1", `"body" in data is repeated`},
		{"repeated nested nick", `{"type":"message","data":{"room":"a","seq":1,"author":{"user":"u","nick":"n","nick":"m"}}}`, shared.TypeMessage, "", `"nick" in data.author is repeated`},
		{"repeated field in an array element", `{"type":"presence","data":{"room":"a","members":[{"user":"u","nick":"n"},{"user":"v","user":"w"}]}}`, shared.TypePresence, "", `"user" in data.members is repeated`},
		{"repeated null since", `{"type":"join","id":"r1","data":{"room":"a","since":null,"since":5}}`, shared.TypeJoin, "r1", `"since" in data is repeated`},
		{"wrong-case Room", `{"type":"send","id":"r1","data":{"Room":"a","msg_id":"m","body":"b"}}`, shared.TypeSend, "r1", `"Room" in data must be spelled "room"`},
		{"wrong-case MSG_ID", `{"type":"send","id":"r1","data":{"room":"a","MSG_ID":"m","body":"b"}}`, shared.TypeSend, "r1", `"MSG_ID" in data must be spelled "msg_id"`},
		{"long s folds to s", `{"type":"join","id":"r1","data":{"room":"a","ſince":1}}`, shared.TypeJoin, "r1", `must be spelled "since"`},
		{"wrong-case nested Nick", `{"type":"message","data":{"room":"a","seq":1,"author":{"user":"u","Nick":"n"}}}`, shared.TypeMessage, "", `"Nick" in data.author must be spelled "nick"`},
		{"wrong-case in a room list", `{"type":"room_list","data":{"rooms":[{"NAME":"a"}]}}`, shared.TypeRoomList, "", `"NAME" in data.rooms must be spelled "name"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f, err := shared.Decode([]byte(tc.in))
			assertCode(t, err, shared.CodeInvalid)
			assertEqual(t, "frame type", f.Type, tc.wantType)
			assertEqual(t, "frame id", f.ID, tc.wantID)
			if f.Payload != nil {
				t.Errorf("payload %#v on error", f.Payload)
			}
			if err != nil && !strings.Contains(err.Error(), tc.mention) {
				t.Errorf("message %q does not say %q", err, tc.mention)
			}
		})
	}
}

// TestDecodeKeepsUnknownFieldsBadFrame checks the line between the two
// codes: a key no field matches in any case is still an unknown field.
func TestDecodeKeepsUnknownFieldsBadFrame(t *testing.T) {
	for _, in := range []string{
		`{"type":"rooms","id":"r1","types":"x"}`,
		`{"type":"join","id":"r1","data":{"room":"a","rooms":"b"}}`,
		`{"type":"join","id":"r1","data":{"room":"a","x":1,"x":2}}`, // stops at the unknown x
		`{"type":"rooms","id":"r1","data":{"Room":1}}`,              // rooms has no fields at all
	} {
		_, err := shared.Decode([]byte(in))
		assertCode(t, err, shared.CodeBadFrame)
	}
}

// TestDecodeErrorsEchoLittle sends 60 KB of client input in every place
// that an error message might quote (type, id, room, msg_id, a field name,
// a number) and checks the message keeps at most a short prefix.
func TestDecodeErrorsEchoLittle(t *testing.T) {
	long := strings.Repeat("x", 60<<10)
	cases := []struct {
		name string
		in   string
		code shared.Code
	}{
		{"60 KB type", `{"type":"` + long + `","id":"r1"}`, shared.CodeUnknownType},
		{"60 KB room name", roomFrame(long), shared.CodeInvalid},
		{"60 KB room name in send", `{"type":"send","id":"r1","data":{"room":"` + long + `","msg_id":"m","body":"b"}}`, shared.CodeInvalid},
		{"40-character bad room name", roomFrame(strings.Repeat("X", 40)), shared.CodeInvalid},
		{"63 emoji id", `{"type":"rooms","id":"` + strings.Repeat("\U0001F600", 63) + `"}`, shared.CodeInvalid},
		{"60 KB id", `{"type":"rooms","id":"` + long + `"}`, shared.CodeInvalid},
		{"60 KB msg_id", `{"type":"send","id":"r1","data":{"room":"a","msg_id":"` + long + `","body":"b"}}`, shared.CodeInvalid},
		{"60 KB unknown envelope field", `{"type":"rooms","id":"r1","` + long + `":1}`, shared.CodeBadFrame},
		{"60 KB unknown data field", `{"type":"join","id":"r1","data":{"room":"a","` + long + `":1}}`, shared.CodeBadFrame},
		{"30 KB field repeated", `{"type":"` + long[:30<<10] + `","` + long[:30<<10] + `":1}`, shared.CodeBadFrame},
		{"60 KB wrong-case field", `{"type":"rooms","id":"r1","` + strings.Repeat("İ", 20<<10) + `":1}`, shared.CodeBadFrame},
		{"60 KB number", `{"type":"join","id":"r1","data":{"room":"a","since":1` + strings.Repeat("0", 60<<10) + `}}`, shared.CodeBadFrame},
		{"60 KB fraction", `{"type":"join","id":"r1","data":{"room":"a","since":0.` + strings.Repeat("5", 60<<10) + `}}`, shared.CodeBadFrame},
		{"60 KB nickname", helloFrame(long), shared.CodeTooLarge},
		{"unprintable type", `{"type":"` + strings.Repeat("\U000E0001", 15<<10) + `","id":"r1"}`, shared.CodeUnknownType},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if len(tc.in) > shared.MaxFrameBytes {
				t.Fatalf("test frame is %d bytes, over the frame limit", len(tc.in))
			}
			_, err := shared.Decode([]byte(tc.in))
			assertCode(t, err, tc.code)
			var e *shared.Error
			if !errors.As(err, &e) {
				return
			}
			if len(e.Message) > maxErrorMessage || strings.Contains(e.Message, strings.Repeat("x", 33)) {
				t.Errorf("message of %d bytes echoes too much: %.200q", len(e.Message), e.Message)
			}
		})
	}
}

// TestDecodeServerFrameIsLenient checks the client's decoder: a newer
// server's extra fields (in the envelope, in data, nested) are ignored,
// and a type it does not know is reported as unknown_type for skipping.
// The strict Decode, which servers use, still refuses each of them.
func TestDecodeServerFrameIsLenient(t *testing.T) {
	want := &shared.Message{Room: "lobby", Seq: 3, TS: 5, Author: shared.Member{User: "u-1", Nick: "Ann"}, Body: "hi", MsgID: "m-1"}
	cases := []struct {
		name string
		in   string
		want any
	}{
		{"message with edited_at", `{"type":"message","data":{"room":"lobby","seq":3,"ts":5,"author":{"user":"u-1","nick":"Ann"},"body":"hi","msg_id":"m-1","edited_at":7}}`, want},
		{"field before the known ones", `{"type":"message","data":{"thread_of":{"seq":1},"room":"lobby","seq":3,"ts":5,"author":{"user":"u-1","nick":"Ann"},"body":"hi","msg_id":"m-1"}}`, want},
		{"nested author field", `{"type":"message","data":{"room":"lobby","seq":3,"ts":5,"author":{"user":"u-1","nick":"Ann","avatar":"a.png"},"body":"hi","msg_id":"m-1"}}`, want},
		{"envelope field", `{"type":"message","v":2,"data":{"room":"lobby","seq":3,"ts":5,"author":{"user":"u-1","nick":"Ann"},"body":"hi","msg_id":"m-1"}}`, want},
		{"welcome with a heartbeat", `{"type":"welcome","id":"h","data":{"protocol":"duplex.v1","session":"s","user":"u","nick":"n","max_body":4000,"heartbeat_ms":15000}}`,
			&shared.Welcome{Protocol: shared.Protocol, Session: "s", User: "u", Nick: "n", MaxBody: 4000}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f, err := shared.DecodeServerFrame([]byte(tc.in))
			assertCode(t, err, "")
			assertEqual(t, "payload", f.Payload, tc.want)
			_, err = shared.Decode([]byte(tc.in))
			assertCode(t, err, shared.CodeBadFrame)
		})
	}

	f, err := shared.DecodeServerFrame([]byte(`{"type":"poll_vote","data":{"room":"lobby","users":["u-2"]}}`))
	assertCode(t, err, shared.CodeUnknownType)
	assertEqual(t, "unknown type", f.Type, shared.Type("poll_vote"))

	// Leniency is about what is unknown, not about what is known.
	for _, in := range []string{
		`{"type":"message","data":{"room":"lobby","seq":0}}`,
		`{"type":"message","data":{"room":"lobby","seq":"3"}}`,
		`{"type":"message","data":{"room":"lobby","seq":1}} x`,
		`{"type":"","data":{}}`,
		`not json`,
	} {
		_, err := shared.DecodeServerFrame([]byte(in))
		if err == nil {
			t.Errorf("DecodeServerFrame accepted %s", in)
		}
	}
}

// TestDecodeAllSkipsUnknown checks what an older client sees of a newer
// server: unknown frame types are skipped, alone, in a batch as
// EncodeBatch writes it and in a batch it must decode in full; messages
// with new fields are delivered.
func TestDecodeAllSkipsUnknown(t *testing.T) {
	typing := `{"type":"poll_vote","data":{"room":"lobby","users":["u-2"]}}`
	edited := `{"type":"message","data":{"room":"lobby","seq":3,"ts":5,"author":{"user":"u-1","nick":"Ann"},"body":"hi","msg_id":"m-1","edited_at":7}}`
	ack := `{"type":"ack","id":"r1","data":{"room":"lobby","head":3,"first":1,"unread":2}}`
	cases := []struct {
		name string
		in   string
		want []shared.Type
	}{
		{"unknown alone", typing, nil},
		{"unknown with id alone", `{"type":"poll_vote","id":"r9","data":[1,2]}`, nil},
		{"message with a new field", edited, []shared.Type{shared.TypeMessage}},
		{"batch", string(shared.EncodeBatch([][]byte{[]byte(typing), []byte(edited), []byte(ack)})), []shared.Type{shared.TypeMessage, shared.TypeAck}},
		{"batch with spaces and a new field", `{ "type" : "batch", "data" : { "frames" : [ ` + typing + ` , ` + edited + ` ], "compressed": false } }`, []shared.Type{shared.TypeMessage}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var got []shared.Type
			err := shared.DecodeAll([]byte(tc.in), func(f shared.Frame, err error) {
				if err != nil {
					t.Errorf("inner frame %s: %v", f.Type, err)
					return
				}
				got = append(got, f.Type)
				if m, ok := f.Payload.(*shared.Message); ok && m.Body != "hi" {
					t.Errorf("message %+v", m)
				}
			})
			assertCode(t, err, "")
			assertEqual(t, "frames handed over", got, tc.want)
		})
	}
}
