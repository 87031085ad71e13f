package shared_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"testing"

	"github.com/duplex-chat/duplex/shared"
)

var knownCodes = map[shared.Code]bool{
	shared.CodeBadFrame: true, shared.CodeUnknownType: true, shared.CodeInvalid: true,
	shared.CodeTooLarge: true, shared.CodeHelloRequired: true, shared.CodeNotJoined: true,
	shared.CodeConflict: true, shared.CodeRateLimited: true, shared.CodeUnavailable: true,
	shared.CodeInternal: true, shared.CodeUnauthorized: true, shared.CodeForbidden: true,
	shared.CodeNickTaken: true, shared.CodeNotFound: true, shared.CodeSignedOut: true,
}

// FuzzDecode checks that Decode never panics, that it fails only with a
// known *shared.Error whose message echoes little of the input, that what
// it accepts survives Encode and a second Decode unchanged, and that the
// lenient DecodeServerFrame accepts it too, with the same payload.
func FuzzDecode(f *testing.F) {
	var valid [][]byte
	for _, tc := range roundTrip {
		b := mustEncode(f, tc.typ, tc.id, tc.payload)
		if len(b) > 1024 {
			continue // small seeds mutate (and minimize) faster
		}
		valid = append(valid, b)
		f.Add(b)
	}
	f.Add(shared.EncodeBatch(valid[:4]))
	for _, s := range []string{
		``, `{}`, `null`, `[]`, `{"type":"rooms","id":"r1"} `, `{"type":"rooms","id":"r1"}x`,
		`{"type":"join","id":"r1","data":{"room":"a","since":-1}}`,
		`{"type":"send","id":"r1","data":{"room":"a","msg_id":"m","body":"\ud800"}}`,
		`{"type":"ack","id":"r1","data":[1, 2 ,"x"]}`,
		`{"type":"batch","data":{"frames":[ {"type" : "ack"} , null, 1 ]}}`,
		"{\"type\":\"hello\",\"id\":\"h\",\"data\":{\"nick\":\"\u2028\"}}",
		`{"type":"hello","type":"join","id":"r1","data":{"room":"a"}}`,
		`{"Type":"rooms","ID":"r1"}`,
		`{"type":"send","id":"r1","data":{"room":"a","msg_id":"m","body":"b","Body":"c"}}`,
		`{"type":"message","data":{"room":"a","seq":1,"author":{"user":"u","nick":"n","nick":"m"},"edited_at":1}}`,
		`{"type":"typing","data":{"room":"a"}}`,
	} {
		f.Add([]byte(s))
	}

	f.Fuzz(func(t *testing.T, b []byte) {
		in := bytes.Clone(b)
		fr, err := shared.Decode(b)
		if !bytes.Equal(in, b) {
			t.Fatal("Decode modified its input")
		}
		if err != nil {
			var e *shared.Error
			if !errors.As(err, &e) || !knownCodes[e.Code] || e.Message == "" {
				t.Fatalf("Decode error %#v is not a known *shared.Error", err)
			}
			if len(e.Message) > maxErrorMessage {
				t.Fatalf("error message of %d bytes: %q", len(e.Message), e.Message)
			}
			if fr.Payload != nil {
				t.Fatalf("payload %#v with error %v", fr.Payload, err)
			}
			return
		}
		if fr.Payload == nil {
			t.Fatal("Decode succeeded without a payload")
		}
		if lenient, err := shared.DecodeServerFrame(b); err != nil || !reflect.DeepEqual(lenient, fr) {
			t.Fatalf("Decode accepted %q, DecodeServerFrame gave %+v, %v", b, lenient, err)
		}
		if batch, ok := fr.Payload.(*shared.Batch); ok {
			for _, inner := range batch.Frames {
				shared.Decode(inner) // must not panic
			}
		}
		if raw, ok := fr.Payload.(*json.RawMessage); ok {
			var v shared.HistoryAck
			shared.DecodeAck(fr, &v) // must not panic
			if !json.Valid(*raw) {
				t.Fatalf("ack payload %q is not JSON", *raw)
			}
		}

		enc, err := shared.Encode(fr.Type, fr.ID, fr.Payload)
		if err != nil {
			t.Fatalf("Encode of decoded %q: %v", b, err)
		}
		fr2, err := shared.Decode(enc)
		if err != nil {
			t.Fatalf("Decode(Encode(Decode(%q))) = %v; re-encoded %q", b, err, enc)
		}
		if fr2.Type != fr.Type || fr2.ID != fr.ID {
			t.Fatalf("envelope changed: %q %q -> %q %q", fr.Type, fr.ID, fr2.Type, fr2.ID)
		}
		if got, want := normalized(t, fr2.Payload), normalized(t, fr.Payload); !reflect.DeepEqual(got, want) {
			t.Fatalf("payload changed:\n in  %q\n got %#v\nwant %#v", b, got, want)
		}
	})
}

// normalized returns p in a form that reflect.DeepEqual can compare after
// a re-encode: raw JSON (an ack payload, the frames of a batch) is
// compacted, since Encode drops insignificant whitespace.
func normalized(t *testing.T, p any) any {
	compact := func(raw []byte) string {
		var buf bytes.Buffer
		if err := json.Compact(&buf, raw); err != nil {
			t.Fatalf("raw JSON %q does not compact: %v", raw, err)
		}
		return buf.String()
	}
	switch v := p.(type) {
	case *json.RawMessage:
		return compact(*v)
	case *shared.Batch:
		if v.Frames == nil {
			return []string(nil)
		}
		out := []string{}
		for _, raw := range v.Frames {
			out = append(out, compact(raw))
		}
		return out
	}
	return p
}
