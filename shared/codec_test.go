package shared_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/duplex-chat/duplex/shared"
)

// assertEqual fails the test when got and want differ (reflect.DeepEqual).
func assertEqual(t *testing.T, what string, got, want any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s: got %#v, want %#v", what, got, want)
	}
}

// assertCode fails the test unless err is a *shared.Error with code want, or
// nil when want is "".
func assertCode(t *testing.T, err error, want shared.Code) {
	t.Helper()
	if want == "" {
		if err != nil {
			t.Errorf("unexpected error: %v", err)
		}
		return
	}
	var e *shared.Error
	if !errors.As(err, &e) {
		t.Errorf("error %v (%T) is not a *shared.Error with code %s", err, err, want)
		return
	}
	if e.Code != want {
		t.Errorf("error code %s (%q), want %s", e.Code, e.Message, want)
	}
	if e.Message == "" {
		t.Errorf("error with code %s has no message", e.Code)
	}
}

func mustEncode(t testing.TB, typ shared.Type, id string, payload any) []byte {
	t.Helper()
	b, err := shared.Encode(typ, id, payload)
	if err != nil {
		t.Fatalf("Encode(%s): %v", typ, err)
	}
	return b
}

func i64(v int64) *int64 { return &v }

var (
	ann = shared.Member{User: "u-1", Nick: "Ann"}
	bob = shared.Member{User: "u-2", Nick: "Bob ✓"}
	msg = shared.Message{Room: "lobby", Seq: 7, TS: 1700000000123, Author: ann, Body: "héllo <b>&</b> \"world\"\n😀", MsgID: "m-1"}
)

// roundTrip lists one frame of every type. For every type but ack, payload
// is the pointer Decode must produce; for ack it is the value DecodeAck must
// produce.
var roundTrip = []struct {
	name    string
	typ     shared.Type
	id      string
	payload any
}{
	{"hello", shared.TypeHello, "h1", &shared.Hello{Nick: "Ann"}},
	{"hello with token", shared.TypeHello, "h1", &shared.Hello{Nick: "Zoë the 2nd", Token: "dx1.eyJ1IjoidS0xIn0.c2ln"}},
	{"join", shared.TypeJoin, "r1", &shared.Join{Room: "lobby"}},
	{"join since 0", shared.TypeJoin, "r1", &shared.Join{Room: "lobby", Since: i64(0)}},
	{"join since", shared.TypeJoin, "r1", &shared.Join{Room: "go-dev_2", Since: i64(41)}},
	{"leave", shared.TypeLeave, "r2", &shared.Leave{Room: "lobby"}},
	{"send", shared.TypeSend, "r3", &shared.Send{Room: "lobby", MsgID: "m-1", Body: "héllo <b>&</b>"}},
	{"send max body", shared.TypeSend, "r3", &shared.Send{Room: "lobby", MsgID: "m.2", Body: strings.Repeat("😀", shared.MaxBodyRunes)}},
	{"history", shared.TypeHistory, "r4", &shared.History{Room: "lobby", Limit: 50}},
	{"history before", shared.TypeHistory, "r4", &shared.History{Room: "lobby", Before: 100, Limit: shared.MaxHistory}},
	{"rooms", shared.TypeRooms, "r5", &shared.Rooms{}},
	{"welcome", shared.TypeWelcome, "h1", &shared.Welcome{Protocol: shared.Protocol, Session: "s-9", User: "u-1", Nick: "Ann", MaxBody: shared.MaxBodyRunes}},
	{"ack join", shared.TypeAck, "r1", shared.JoinAck{Room: "lobby", Head: 42, First: 1}},
	{"ack send", shared.TypeAck, "r3", shared.SendAck{Room: "lobby", MsgID: "m-1", Seq: 43, TS: 1700000000123}},
	{"ack history", shared.TypeAck, "r4", shared.HistoryAck{Room: "lobby", Messages: []shared.Message{msg, msg}, More: true}},
	{"ack leave", shared.TypeAck, "r2", struct{}{}},
	{"error", shared.TypeError, "r3", &shared.ErrorFrame{Code: shared.CodeConflict, Message: "msg_id m-1 was used with another body"}},
	{"error without id", shared.TypeError, "", &shared.ErrorFrame{Code: shared.CodeBadFrame, Message: "not JSON"}},
	{"message", shared.TypeMessage, "", &msg},
	{"presence", shared.TypePresence, "", &shared.Presence{Room: "lobby", Members: []shared.Member{ann, bob}}},
	{"presence count only", shared.TypePresence, "", &shared.Presence{Room: "lobby", Count: 250}},
	{"presence diff", shared.TypePresenceDiff, "", &shared.PresenceDiff{Room: "lobby", Joined: []shared.Member{bob}, Left: []shared.Member{ann}}},
	{"members", shared.TypeMembers, "r6", &shared.Members{Room: "lobby", After: "u-1", Limit: 100}},
	{"ack members", shared.TypeAck, "r6", shared.MembersAck{Room: "lobby", Members: []shared.Member{ann, bob}, More: true}},
	{"member joined", shared.TypeMemberJoined, "", &shared.MemberEvent{Room: "lobby", Member: bob}},
	{"member left", shared.TypeMemberLeft, "", &shared.MemberEvent{Room: "lobby", Member: ann}},
	{"room list", shared.TypeRoomList, "r5", &shared.RoomList{Rooms: []shared.RoomInfo{{Name: "lobby", Members: 3, Head: 42}, {Name: "empty", Members: 0, Head: 0}}}},
	{"batch", shared.TypeBatch, "", &shared.Batch{Frames: []json.RawMessage{json.RawMessage(`{"type":"message","data":{"room":"a","seq":1,"ts":1,"author":{"user":"u","nick":"n"},"body":"b","msg_id":"m"}}`)}}},
}

func TestRoundTrip(t *testing.T) {
	for _, tc := range roundTrip {
		t.Run(tc.name, func(t *testing.T) {
			b := mustEncode(t, tc.typ, tc.id, tc.payload)
			f, err := shared.Decode(b)
			assertCode(t, err, "")
			assertEqual(t, "type", f.Type, tc.typ)
			assertEqual(t, "id", f.ID, tc.id)
			if tc.typ != shared.TypeAck {
				assertEqual(t, "payload", f.Payload, tc.payload)
				return
			}
			got := reflect.New(reflect.TypeOf(tc.payload))
			assertCode(t, shared.DecodeAck(f, got.Interface()), "")
			assertEqual(t, "ack payload", got.Elem().Interface(), tc.payload)
		})
	}
}

func TestEncodeBatch(t *testing.T) {
	var inner [][]byte
	for _, tc := range roundTrip {
		inner = append(inner, mustEncode(t, tc.typ, tc.id, tc.payload))
	}
	f, err := shared.Decode(shared.EncodeBatch(inner))
	assertCode(t, err, "")
	assertEqual(t, "type", f.Type, shared.TypeBatch)
	assertEqual(t, "id", f.ID, "")
	batch, ok := f.Payload.(*shared.Batch)
	if !ok {
		t.Fatalf("payload is %T, want *shared.Batch", f.Payload)
	}
	if len(batch.Frames) != len(roundTrip) {
		t.Fatalf("batch holds %d frames, want %d", len(batch.Frames), len(roundTrip))
	}
	for i, raw := range batch.Frames {
		tc := roundTrip[i]
		assertEqual(t, tc.name+" inner bytes", string(raw), string(inner[i]))
		g, err := shared.Decode(raw)
		assertCode(t, err, "")
		assertEqual(t, tc.name+" inner type", g.Type, tc.typ)
		assertEqual(t, tc.name+" inner id", g.ID, tc.id)
		if tc.typ != shared.TypeAck {
			assertEqual(t, tc.name+" inner payload", g.Payload, tc.payload)
		}
	}

	assertEqual(t, "two frames", string(shared.EncodeBatch([][]byte{[]byte(`{"type":"a"}`), []byte(`{"type":"b"}`)})),
		`{"type":"batch","data":{"frames":[{"type":"a"},{"type":"b"}]}}`)
	empty := shared.EncodeBatch(nil)
	assertEqual(t, "empty batch", string(empty), `{"type":"batch","data":{"frames":[]}}`)
	f, err = shared.Decode(empty)
	assertCode(t, err, "")
	assertEqual(t, "empty batch payload", f.Payload, &shared.Batch{Frames: []json.RawMessage{}})
}

func TestEncodeText(t *testing.T) {
	cases := []struct {
		name    string
		typ     shared.Type
		id      string
		payload any
		want    string
	}{
		{"no html escaping", shared.TypeSend, "r1", shared.Send{Room: "lobby", MsgID: "m1", Body: "<b>hi</b> & bye"},
			`{"type":"send","id":"r1","data":{"room":"lobby","msg_id":"m1","body":"<b>hi</b> & bye"}}`},
		{"no id, no data", shared.TypeRooms, "", nil, `{"type":"rooms"}`},
		{"since omitted", shared.TypeJoin, "r2", shared.Join{Room: "lobby"}, `{"type":"join","id":"r2","data":{"room":"lobby"}}`},
		{"since 0 kept", shared.TypeJoin, "r2", shared.Join{Room: "lobby", Since: i64(0)}, `{"type":"join","id":"r2","data":{"room":"lobby","since":0}}`},
		{"user omitted", shared.TypeHello, "h", shared.Hello{Nick: "Ann"}, `{"type":"hello","id":"h","data":{"nick":"Ann"}}`},
		{"raw ack", shared.TypeAck, "r3", json.RawMessage(`{"room":"a", "head":1}`), `{"type":"ack","id":"r3","data":{"room":"a","head":1}}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			assertEqual(t, "text", string(mustEncode(t, tc.typ, tc.id, tc.payload)), tc.want)
		})
	}
	if _, err := shared.Encode(shared.TypeSend, "r1", func() {}); err == nil {
		t.Error("Encode of a func payload succeeded")
	}
}

// TestDecodeAccepts covers inputs that are unusual but valid.
func TestDecodeAccepts(t *testing.T) {
	cases := []struct {
		name string
		in   string
		want any
	}{
		{"whitespace around", " \n{ \"type\" : \"rooms\" , \"id\" : \"r1\" }\r\n\t", &shared.Rooms{}},
		{"rooms data null", `{"type":"rooms","id":"r1","data":null}`, &shared.Rooms{}},
		{"rooms data empty", `{"type":"rooms","id":"r1","data":{}}`, &shared.Rooms{}},
		{"join since null", `{"type":"join","id":"r1","data":{"room":"a","since":null}}`, &shared.Join{Room: "a"}},
		{"escaped strings", `{"type":"send","id":"r1","data":{"room":"\u0061","msg_id":"m","body":"\u00e9\ud83d\ude00\n"}}`,
			&shared.Send{Room: "a", MsgID: "m", Body: "é😀\n"}},
		{"lone surrogate becomes U+FFFD", `{"type":"send","id":"r1","data":{"room":"a","msg_id":"m","body":"\ud800"}}`,
			&shared.Send{Room: "a", MsgID: "m", Body: "\uFFFD"}},
		{"room 64 chars", `{"type":"leave","id":"r1","data":{"room":"` + strings.Repeat("a", shared.MaxRoomLen) + `"}}`,
			&shared.Leave{Room: strings.Repeat("a", shared.MaxRoomLen)}},
		{"id 64 chars", `{"type":"leave","id":"` + strings.Repeat("Z", shared.MaxIDLen) + `","data":{"room":"a"}}`, &shared.Leave{Room: "a"}},
		{"ack without data", `{"type":"ack","id":"r1"}`, rawp(`{}`)},
		{"ack data null", `{"type":"ack","id":"r1","data":null}`, rawp(`{}`)},
		{"message with id", `{"type":"message","id":"x","data":{"room":"a","seq":1}}`, &shared.Message{Room: "a", Seq: 1}},
		{"request frame exactly MaxFrameBytes", pad(`{"type":"rooms","id":"r1"}`, shared.MaxFrameBytes), &shared.Rooms{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f, err := shared.Decode([]byte(tc.in))
			assertCode(t, err, "")
			assertEqual(t, "payload", f.Payload, tc.want)
		})
	}
}

func rawp(s string) *json.RawMessage { r := json.RawMessage(s); return &r }

// pad appends spaces to frame until it is n bytes long.
func pad(frame string, n int) string { return frame + strings.Repeat(" ", n-len(frame)) }

func sendFrame(body string) string {
	b, _ := json.Marshal(body)
	return `{"type":"send","id":"r1","data":{"room":"lobby","msg_id":"m1","body":` + string(b) + `}}`
}

func helloFrame(nick string) string {
	b, _ := json.Marshal(nick)
	return `{"type":"hello","id":"h1","data":{"nick":` + string(b) + `}}`
}

func roomFrame(room string) string {
	b, _ := json.Marshal(room)
	return `{"type":"join","id":"r1","data":{"room":` + string(b) + `}}`
}

func TestDecodeRejects(t *testing.T) {
	big := strings.Repeat("x", shared.MaxFrameBytes)
	cases := []struct {
		name     string
		in       string
		code     shared.Code
		wantType shared.Type // what the returned Frame must still carry
		wantID   string
	}{
		// Not an envelope at all.
		{"not JSON", `hello`, shared.CodeBadFrame, "", ""},
		{"empty", ``, shared.CodeBadFrame, "", ""},
		{"only whitespace", " \n ", shared.CodeBadFrame, "", ""},
		{"JSON array", `[{"type":"rooms","id":"r1"}]`, shared.CodeBadFrame, "", ""},
		{"JSON string", `"rooms"`, shared.CodeBadFrame, "", ""},
		{"JSON number", `42`, shared.CodeBadFrame, "", ""},
		{"JSON null", `null`, shared.CodeBadFrame, "", ""},
		{"truncated", `{"type":"rooms","id":"r1"`, shared.CodeBadFrame, "", ""},
		{"trailing garbage", `{"type":"rooms","id":"r1"}x`, shared.CodeBadFrame, "", ""},
		{"two frames", `{"type":"rooms","id":"r1"}{"type":"rooms","id":"r2"}`, shared.CodeBadFrame, "", ""},
		{"trailing brace", `{"type":"rooms","id":"r1"}}`, shared.CodeBadFrame, "", ""},
		{"invalid UTF-8 in body", "{\"type\":\"send\",\"id\":\"r1\",\"data\":{\"room\":\"a\",\"msg_id\":\"m\",\"body\":\"\xff\"}}", shared.CodeBadFrame, "", ""},
		{"invalid UTF-8 outside strings", "{\"type\":\"rooms\",\"id\":\"r1\"}\xc3", shared.CodeBadFrame, "", ""},
		{"unknown envelope field", `{"type":"rooms","id":"r1","extra":1}`, shared.CodeBadFrame, "", ""},
		{"type not a string", `{"type":5,"id":"r1"}`, shared.CodeBadFrame, "", ""},
		{"id not a string", `{"type":"rooms","id":5}`, shared.CodeBadFrame, "", ""},

		// Envelope readable: type and id are carried.
		{"missing type", `{"id":"r1","data":{}}`, shared.CodeBadFrame, "", "r1"},
		{"empty type", `{"type":"","id":"r1"}`, shared.CodeBadFrame, "", "r1"},
		{"unknown type", `{"type":"shout","id":"r1","data":{"room":"a"}}`, shared.CodeUnknownType, "shout", "r1"},
		{"type wrong case", `{"type":"Send","id":"r1"}`, shared.CodeUnknownType, "Send", "r1"},
		{"hello without id", `{"type":"hello","data":{"nick":"Ann"}}`, shared.CodeBadFrame, shared.TypeHello, ""},
		{"join without id", `{"type":"join","data":{"room":"a"}}`, shared.CodeBadFrame, shared.TypeJoin, ""},
		{"leave without id", `{"type":"leave","data":{"room":"a"}}`, shared.CodeBadFrame, shared.TypeLeave, ""},
		{"send without id", `{"type":"send","data":{"room":"a","msg_id":"m","body":"b"}}`, shared.CodeBadFrame, shared.TypeSend, ""},
		{"history without id", `{"type":"history","data":{"room":"a","limit":1}}`, shared.CodeBadFrame, shared.TypeHistory, ""},
		{"rooms without id", `{"type":"rooms"}`, shared.CodeBadFrame, shared.TypeRooms, ""},
		{"rooms with empty id", `{"type":"rooms","id":""}`, shared.CodeBadFrame, shared.TypeRooms, ""},

		// Missing data or required fields.
		{"join without data", `{"type":"join","id":"r1"}`, shared.CodeInvalid, shared.TypeJoin, "r1"},
		{"join data null", `{"type":"join","id":"r1","data":null}`, shared.CodeInvalid, shared.TypeJoin, "r1"},
		{"hello without data", `{"type":"hello","id":"h1"}`, shared.CodeInvalid, shared.TypeHello, "h1"},
		{"send without msg_id", `{"type":"send","id":"r1","data":{"room":"a","body":"b"}}`, shared.CodeInvalid, shared.TypeSend, "r1"},
		{"send without body", `{"type":"send","id":"r1","data":{"room":"a","msg_id":"m"}}`, shared.CodeInvalid, shared.TypeSend, "r1"},
		{"send without room", `{"type":"send","id":"r1","data":{"msg_id":"m","body":"b"}}`, shared.CodeInvalid, shared.TypeSend, "r1"},
		{"history without limit", `{"type":"history","id":"r1","data":{"room":"a"}}`, shared.CodeInvalid, shared.TypeHistory, "r1"},
		{"error without code", `{"type":"error","id":"r1","data":{"message":"x"}}`, shared.CodeBadFrame, shared.TypeError, "r1"},
		{"message without room", `{"type":"message","data":{"seq":1}}`, shared.CodeInvalid, shared.TypeMessage, ""},
		{"message seq 0", `{"type":"message","data":{"room":"a","seq":0}}`, shared.CodeInvalid, shared.TypeMessage, ""},

		// Wrong field types.
		{"room is a number", `{"type":"join","id":"r1","data":{"room":5}}`, shared.CodeBadFrame, shared.TypeJoin, "r1"},
		{"since is a string", `{"type":"join","id":"r1","data":{"room":"a","since":"x"}}`, shared.CodeBadFrame, shared.TypeJoin, "r1"},
		{"since is fractional", `{"type":"join","id":"r1","data":{"room":"a","since":1.5}}`, shared.CodeBadFrame, shared.TypeJoin, "r1"},
		{"since overflows", `{"type":"join","id":"r1","data":{"room":"a","since":99999999999999999999}}`, shared.CodeBadFrame, shared.TypeJoin, "r1"},
		{"limit is a string", `{"type":"history","id":"r1","data":{"room":"a","limit":"10"}}`, shared.CodeBadFrame, shared.TypeHistory, "r1"},
		{"body is a bool", `{"type":"send","id":"r1","data":{"room":"a","msg_id":"m","body":true}}`, shared.CodeBadFrame, shared.TypeSend, "r1"},
		{"data is an array", `{"type":"join","id":"r1","data":[]}`, shared.CodeBadFrame, shared.TypeJoin, "r1"},
		{"data is a string", `{"type":"join","id":"r1","data":"lobby"}`, shared.CodeBadFrame, shared.TypeJoin, "r1"},
		{"rooms data is a number", `{"type":"rooms","id":"r1","data":1}`, shared.CodeBadFrame, shared.TypeRooms, "r1"},
		{"seq in exponent form", `{"type":"message","data":{"room":"a","seq":1e3}}`, shared.CodeBadFrame, shared.TypeMessage, ""},
		{"members not an array", `{"type":"presence","data":{"room":"a","members":{}}}`, shared.CodeBadFrame, shared.TypePresence, ""},
		{"members limit 0", `{"type":"members","id":"r1","data":{"room":"a","limit":0}}`, shared.CodeInvalid, shared.TypeMembers, "r1"},
		{"members limit too big", `{"type":"members","id":"r1","data":{"room":"a","limit":1001}}`, shared.CodeInvalid, shared.TypeMembers, "r1"},
		{"members after not an id", `{"type":"members","id":"r1","data":{"room":"a","after":"a b","limit":5}}`, shared.CodeInvalid, shared.TypeMembers, "r1"},
		{"members without id", `{"type":"members","data":{"room":"a","limit":5}}`, shared.CodeBadFrame, shared.TypeMembers, ""},
		{"presence_diff bad room", `{"type":"presence_diff","data":{"room":"A"}}`, shared.CodeInvalid, shared.TypePresenceDiff, ""},
		{"presence_diff joined not an array", `{"type":"presence_diff","data":{"room":"a","joined":{}}}`, shared.CodeBadFrame, shared.TypePresenceDiff, ""},

		// Unknown fields in data.
		{"unknown join field", `{"type":"join","id":"r1","data":{"room":"a","colour":"red"}}`, shared.CodeBadFrame, shared.TypeJoin, "r1"},
		{"unknown rooms field", `{"type":"rooms","id":"r1","data":{"all":true}}`, shared.CodeBadFrame, shared.TypeRooms, "r1"},
		{"unknown nested field", `{"type":"message","data":{"room":"a","seq":1,"author":{"user":"u","nick":"n","x":1}}}`, shared.CodeBadFrame, shared.TypeMessage, ""},

		// Oversize.
		{"request over MaxFrameBytes", sendFrame(big), shared.CodeTooLarge, shared.TypeSend, "r1"},
		{"request padded over MaxFrameBytes", pad(`{"type":"rooms","id":"r1"}`, shared.MaxFrameBytes+1), shared.CodeTooLarge, shared.TypeRooms, "r1"},
		{"garbage over MaxFrameBytes", big + "x", shared.CodeTooLarge, "", ""},
		{"unknown type over MaxFrameBytes", pad(`{"type":"shout","id":"r1"}`, shared.MaxFrameBytes+1), shared.CodeTooLarge, "shout", "r1"},

		// Bodies.
		{"body over MaxBodyRunes", sendFrame(strings.Repeat("a", shared.MaxBodyRunes+1)), shared.CodeTooLarge, shared.TypeSend, "r1"},
		{"multi-byte body over MaxBodyRunes", sendFrame(strings.Repeat("é", shared.MaxBodyRunes+1)), shared.CodeTooLarge, shared.TypeSend, "r1"},
		{"empty body", sendFrame(""), shared.CodeInvalid, shared.TypeSend, "r1"},
		{"blank body", sendFrame(" \t\n\u00a0\u3000"), shared.CodeInvalid, shared.TypeSend, "r1"},

		// Room names.
		{"room uppercase", roomFrame("Lobby"), shared.CodeInvalid, shared.TypeJoin, "r1"},
		{"room with space", roomFrame("my room"), shared.CodeInvalid, shared.TypeJoin, "r1"},
		{"room leading dash", roomFrame("-lobby"), shared.CodeInvalid, shared.TypeJoin, "r1"},
		{"room too long", roomFrame(strings.Repeat("a", shared.MaxRoomLen+1)), shared.CodeInvalid, shared.TypeJoin, "r1"},
		{"room empty", roomFrame(""), shared.CodeInvalid, shared.TypeJoin, "r1"},
		{"room non-ASCII", roomFrame("café"), shared.CodeInvalid, shared.TypeJoin, "r1"},
		{"leave bad room", `{"type":"leave","id":"r1","data":{"room":"A"}}`, shared.CodeInvalid, shared.TypeLeave, "r1"},
		{"send bad room", `{"type":"send","id":"r1","data":{"room":"a.b","msg_id":"m","body":"b"}}`, shared.CodeInvalid, shared.TypeSend, "r1"},
		{"history bad room", `{"type":"history","id":"r1","data":{"room":"_a","limit":1}}`, shared.CodeInvalid, shared.TypeHistory, "r1"},

		// Nicknames.
		{"nick with control char", helloFrame("Ann\x01"), shared.CodeInvalid, shared.TypeHello, "h1"},
		{"nick with newline", helloFrame("An\nn"), shared.CodeInvalid, shared.TypeHello, "h1"},
		{"nick with DEL", helloFrame("Ann\x7f"), shared.CodeInvalid, shared.TypeHello, "h1"},
		{"nick too long", helloFrame(strings.Repeat("ñ", shared.MaxNickRunes+1)), shared.CodeTooLarge, shared.TypeHello, "h1"},
		{"nick blank", helloFrame("   "), shared.CodeInvalid, shared.TypeHello, "h1"},
		{"nick empty", helloFrame(""), shared.CodeInvalid, shared.TypeHello, "h1"},
		{"nick leading space", helloFrame(" Ann"), shared.CodeInvalid, shared.TypeHello, "h1"},
		{"nick trailing space", helloFrame("Ann "), shared.CodeInvalid, shared.TypeHello, "h1"},

		// Numbers out of range.
		{"negative since", `{"type":"join","id":"r1","data":{"room":"a","since":-1}}`, shared.CodeInvalid, shared.TypeJoin, "r1"},
		{"history limit 0", `{"type":"history","id":"r1","data":{"room":"a","limit":0}}`, shared.CodeInvalid, shared.TypeHistory, "r1"},
		{"history limit over MaxHistory", `{"type":"history","id":"r1","data":{"room":"a","limit":201}}`, shared.CodeInvalid, shared.TypeHistory, "r1"},
		{"history negative limit", `{"type":"history","id":"r1","data":{"room":"a","limit":-5}}`, shared.CodeInvalid, shared.TypeHistory, "r1"},
		{"history negative before", `{"type":"history","id":"r1","data":{"room":"a","before":-1,"limit":10}}`, shared.CodeInvalid, shared.TypeHistory, "r1"},

		// Ids. A bad request id cannot be named, so the frame carries none.
		{"id with space", `{"type":"rooms","id":"r 1"}`, shared.CodeInvalid, "", ""},
		{"id with slash", `{"type":"rooms","id":"r/1"}`, shared.CodeInvalid, "", ""},
		{"id non-ASCII", `{"type":"rooms","id":"é"}`, shared.CodeInvalid, "", ""},
		{"id too long", `{"type":"rooms","id":"` + strings.Repeat("a", shared.MaxIDLen+1) + `"}`, shared.CodeInvalid, "", ""},
		{"msg_id empty", `{"type":"send","id":"r1","data":{"room":"a","msg_id":"","body":"b"}}`, shared.CodeInvalid, shared.TypeSend, "r1"},
		{"msg_id with colon", `{"type":"send","id":"r1","data":{"room":"a","msg_id":"m:1","body":"b"}}`, shared.CodeInvalid, shared.TypeSend, "r1"},
		{"msg_id too long", `{"type":"send","id":"r1","data":{"room":"a","msg_id":"` + strings.Repeat("m", shared.MaxIDLen+1) + `","body":"b"}}`, shared.CodeInvalid, shared.TypeSend, "r1"},
		{"hello with a bare user id", `{"type":"hello","id":"h1","data":{"nick":"Ann","user":"u-1"}}`, shared.CodeUnauthorized, shared.TypeHello, "h1"},
		{"hello with a token of spaces", `{"type":"hello","id":"h1","data":{"nick":"Ann","token":"a b"}}`, shared.CodeInvalid, shared.TypeHello, "h1"},
		{"auth without token", `{"type":"auth","id":"a1","data":{}}`, shared.CodeInvalid, shared.TypeAuth, "a1"},
		{"create of unknown kind", `{"type":"create","id":"c1","data":{"room":"x","kind":"secret"}}`, shared.CodeInvalid, shared.TypeCreate, "c1"},
		{"dm with a bad user id", `{"type":"dm","id":"d1","data":{"user":"u 1"}}`, shared.CodeInvalid, shared.TypeDM, "d1"},
		{"invite to a bad room", `{"type":"invite","id":"i1","data":{"room":"A","user":"u-1"}}`, shared.CodeInvalid, shared.TypeInvite, "i1"},
		{"nick only zero-width", "{\"type\":\"nick\",\"id\":\"n1\",\"data\":{\"nick\":\"\u200b\u200b\"}}", shared.CodeInvalid, shared.TypeNick, "n1"},
		{"rooms limit too big", `{"type":"rooms","id":"r1","data":{"limit":1000}}`, shared.CodeInvalid, shared.TypeRooms, "r1"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f, err := shared.Decode([]byte(tc.in))
			assertCode(t, err, tc.code)
			assertEqual(t, "frame type", f.Type, tc.wantType)
			assertEqual(t, "frame id", f.ID, tc.wantID)
			if f.Payload != nil {
				t.Errorf("payload %#v on error", f.Payload)
			}
		})
	}
}

// TestDecodeMaxBody checks that the body limit counts runes, not bytes.
func TestDecodeMaxBody(t *testing.T) {
	for _, r := range []string{"a", "é", "€", "😀"} {
		body := strings.Repeat(r, shared.MaxBodyRunes)
		f, err := shared.Decode([]byte(sendFrame(body)))
		assertCode(t, err, "")
		if s, ok := f.Payload.(*shared.Send); !ok || s.Body != body {
			t.Errorf("%q x %d: payload %T does not hold the body", r, shared.MaxBodyRunes, f.Payload)
		}
	}
}

// TestDecodeLargeServerFrames checks that MaxFrameBytes, a limit on what
// clients send, does not stop a client from reading long server frames.
func TestDecodeLargeServerFrames(t *testing.T) {
	var msgs []shared.Message
	for i := 1; i <= shared.MaxHistory; i++ {
		m := msg
		m.Seq, m.Body = int64(i), strings.Repeat("€", shared.MaxBodyRunes)
		msgs = append(msgs, m)
	}
	want := shared.HistoryAck{Room: "lobby", Messages: msgs, More: true}
	ack := mustEncode(t, shared.TypeAck, "r4", want)
	if len(ack) <= shared.MaxFrameBytes {
		t.Fatalf("history ack is only %d bytes", len(ack))
	}
	f, err := shared.Decode(ack)
	assertCode(t, err, "")
	assertEqual(t, "id", f.ID, "r4")
	var got shared.HistoryAck
	assertCode(t, shared.DecodeAck(f, &got), "")
	assertEqual(t, "history ack", got, want)

	var frames [][]byte
	for i := range 100 {
		frames = append(frames, mustEncode(t, shared.TypeMessage, "", &msgs[i]))
	}
	f, err = shared.Decode(shared.EncodeBatch(frames))
	assertCode(t, err, "")
	assertEqual(t, "batch frames", len(f.Payload.(*shared.Batch).Frames), 100)

	// Re-encoding a decoded server frame may make it longer than the input.
	in := `{"type":"presence","data":{"room":"a","members":[` + strings.Repeat(`{},`, 20000) + `{}]}}`
	f, err = shared.Decode([]byte(in))
	assertCode(t, err, "")
	f2, err := shared.Decode(mustEncode(t, f.Type, f.ID, f.Payload))
	assertCode(t, err, "")
	assertEqual(t, "presence", f2.Payload, f.Payload)
}

func TestDecodeAck(t *testing.T) {
	f, err := shared.Decode([]byte(`{"type":"ack","id":"r3","data":{"room":"lobby","msg_id":"m-1","seq":43,"ts":1700000000123}}`))
	assertCode(t, err, "")
	var sa shared.SendAck
	assertCode(t, shared.DecodeAck(f, &sa), "")
	assertEqual(t, "send ack", sa, shared.SendAck{Room: "lobby", MsgID: "m-1", Seq: 43, TS: 1700000000123})

	var ja shared.JoinAck
	assertCode(t, shared.DecodeAck(f, &ja), "") // fields of other shapes are ignored
	assertEqual(t, "join ack", ja, shared.JoinAck{Room: "lobby"})

	bad, err := shared.Decode([]byte(`{"type":"ack","id":"r3","data":{"seq":"x"}}`))
	assertCode(t, err, "")
	assertCode(t, shared.DecodeAck(bad, &sa), shared.CodeBadFrame)

	notAck, err := shared.Decode([]byte(`{"type":"rooms","id":"r5"}`))
	assertCode(t, err, "")
	assertCode(t, shared.DecodeAck(notAck, &sa), shared.CodeBadFrame)
	assertCode(t, shared.DecodeAck(shared.Frame{}, &sa), shared.CodeBadFrame)
}

func TestErrorString(t *testing.T) {
	err := error(shared.Errorf(shared.CodeInvalid, "room %q is bad", "A"))
	assertEqual(t, "Error()", err.Error(), `invalid: room "A" is bad`)
	assertCode(t, err, shared.CodeInvalid)
}

func TestRetryable(t *testing.T) {
	cases := []struct {
		code shared.Code
		want bool
	}{
		{shared.CodeBadFrame, false},
		{shared.CodeUnknownType, false},
		{shared.CodeInvalid, false},
		{shared.CodeTooLarge, false},
		{shared.CodeHelloRequired, false},
		{shared.CodeNotJoined, false},
		{shared.CodeConflict, false},
		{shared.CodeRateLimited, true},
		{shared.CodeUnavailable, true},
		{shared.CodeInternal, true},
		{"some_future_code", false},
	}
	for _, tc := range cases {
		assertEqual(t, string(tc.code)+" retryable", tc.code.Retryable(), tc.want)
	}
}
