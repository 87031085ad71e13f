package shared

import (
	"reflect"
	"strings"
	"testing"
)

// FuzzDecodeFast checks that the hand-written message parser agrees with
// the general decoder, strict (servers) and lenient (clients): whatever it
// accepts, both accept with an equal payload.
func FuzzDecodeFast(f *testing.F) {
	msg := &Message{Room: "general", Seq: 42, TS: 1700000000000, Author: Member{User: "u-1", Nick: "Ann"}, Body: "hi \"there\"\n<b>ünï</b>", MsgID: "m-1"}
	b, _ := Encode(TypeMessage, "", msg)
	f.Add(b)
	f.Add([]byte(strings.Replace(string(b), `"seq":42`, `"seq":042`, 1)))
	f.Add([]byte(strings.Replace(string(b), `"seq":42`, `"seq":-1`, 1)))
	f.Add([]byte(strings.Replace(string(b), `hi`, `hi\u0041\ud83d\ude00`, 1)))
	f.Add([]byte(strings.Replace(string(b), `"body":"`, `"body":"`+"\x01", 1)))
	f.Fuzz(func(t *testing.T, b []byte) {
		fast, ok := decodeFast(b)
		if !ok {
			return
		}
		slow, err := decode(b)
		if err != nil {
			t.Fatalf("fast path accepted %q, general path refused: %v", b, err)
		}
		if !reflect.DeepEqual(fast, slow) {
			t.Fatalf("fast %+v != general %+v for %q", fast.Payload, slow.Payload, b)
		}
		lenient, err := decodeAs(b, nil)
		if err != nil || !reflect.DeepEqual(fast, lenient) {
			t.Fatalf("fast path accepted %q, lenient path gave %+v, %v", b, lenient.Payload, err)
		}
	})
}

func TestDecodeFastTakesEncodedMessages(t *testing.T) {
	for _, body := range []string{"plain", `quote " and \ backslash`, "new\nline", "emoji 😀", "<img src=x onerror=alert(1)>"} {
		msg := &Message{Room: "r", Seq: 1, TS: 2, Author: Member{User: "u", Nick: "n"}, Body: body, MsgID: "m"}
		b, err := Encode(TypeMessage, "", msg)
		if err != nil {
			t.Fatal(err)
		}
		f, ok := decodeFast(b)
		if !ok {
			t.Fatalf("fast path refused %s", b)
		}
		if got := f.Payload.(*Message); !reflect.DeepEqual(*got, *msg) {
			t.Fatalf("got %+v, want %+v", got, msg)
		}
	}
}

// TestDecodeAll checks how a client splits a message: an inner frame of a
// known type that is invalid (a message with seq 0) is passed with its
// error, an unknown type (from a newer server) is skipped without a call.
func TestDecodeAll(t *testing.T) {
	m1, _ := Encode(TypeMessage, "", &Message{Room: "r", Seq: 1, TS: 1, Author: Member{User: "u", Nick: "n"}, Body: "a", MsgID: "m1"})
	m2, _ := Encode(TypePresence, "", &Presence{Room: "r", Members: []Member{{User: "u", Nick: "n"}}})
	bad := []byte(`{"type":"message","data":{"room":"r","seq":0}}`)
	unknown := []byte(`{"type":"nope"}`)
	var types []Type
	var errs int
	err := DecodeAll(EncodeBatch([][]byte{m1, bad, unknown, m2}), func(f Frame, err error) {
		if err != nil {
			errs++
			return
		}
		types = append(types, f.Type)
	})
	if err != nil || errs != 1 || !reflect.DeepEqual(types, []Type{TypeMessage, TypePresence}) {
		t.Fatalf("err %v, inner errors %d, types %v", err, errs, types)
	}
	if err := DecodeAll([]byte("not json"), func(Frame, error) { t.Fatal("called for garbage") }); err == nil {
		t.Fatal("garbage decoded")
	}
	n := 0
	if err := DecodeAll(m1, func(f Frame, err error) { n++ }); err != nil || n != 1 {
		t.Fatalf("single frame: err %v, calls %d", err, n)
	}
}

func BenchmarkDecodeMessage(b *testing.B) {
	msg, _ := Encode(TypeMessage, "", &Message{Room: "general", Seq: 123456, TS: 1700000000000, Author: Member{User: "u-0123456789abcdef01", Nick: "someone"}, Body: strings.Repeat("x", 100), MsgID: "m0123456789abcdef01234567"})
	b.Run("fast", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			Decode(msg)
		}
	})
	b.Run("general", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			decode(msg)
		}
	})
}

// BenchmarkDecodeSend is the server's side: every client frame takes the
// general, strict path (the repeated and wrong-case field check included).
func BenchmarkDecodeSend(b *testing.B) {
	send, _ := Encode(TypeSend, "r-123", &Send{Room: "general", MsgID: "m0123456789abcdef01234567", Body: strings.Repeat("x", 100)})
	b.ReportAllocs()
	for b.Loop() {
		Decode(send)
	}
}
