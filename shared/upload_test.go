package shared_test

import (
	"bytes"
	"encoding/binary"
	"strings"
	"testing"

	"github.com/duplex-chat/duplex/shared"
)

// binaryUpload builds a binary upload message by hand: the header length
// as given (it may lie), the header, then the bytes.
func binaryUpload(n uint32, head string, data []byte) []byte {
	b := binary.BigEndian.AppendUint32(nil, n)
	b = append(b, head...)
	return append(b, data...)
}

func TestUploadRoundTrip(t *testing.T) {
	data := []byte("\x89PNG\r\n\x1a\n not really a png, the codec does not look")
	b, err := shared.EncodeUpload("u1", shared.Upload{Room: "lobby", Name: "cat ☺.png"}, data)
	if err != nil {
		t.Fatal(err)
	}
	n := binary.BigEndian.Uint32(b)
	assertEqual(t, "header", string(b[4:4+n]), `{"type":"upload","id":"u1","data":{"room":"lobby","name":"cat ☺.png"}}`)
	f, got, err := shared.DecodeUpload(b)
	if err != nil {
		t.Fatal(err)
	}
	assertEqual(t, "type", f.Type, shared.TypeUpload)
	assertEqual(t, "id", f.ID, "u1")
	assertEqual(t, "upload", f.Payload, &shared.Upload{Room: "lobby", Name: "cat ☺.png"})
	if !bytes.Equal(got, data) {
		t.Errorf("bytes: got %q, want %q", got, data)
	}

	// The largest upload allowed passes.
	big := make([]byte, shared.MaxImageBytes)
	b, err = shared.EncodeUpload("u2", shared.Upload{Room: "lobby", Name: "big.png"}, big)
	if err != nil {
		t.Fatal(err)
	}
	if _, got, err := shared.DecodeUpload(b); err != nil || len(got) != shared.MaxImageBytes {
		t.Fatalf("upload of exactly MaxImageBytes: %d bytes, %v", len(got), err)
	}
}

// TestDecodeUploadRejects tries each kind of malformed binary message: a
// frame too short for its length, header lengths of 0, beyond the frame
// and over MaxFrameBytes, a header that is not JSON, not an upload, has
// unknown fields or a bad name, no bytes, and too many bytes. Each is an
// *Error naming the request when the header could be read.
func TestDecodeUploadRejects(t *testing.T) {
	head := `{"type":"upload","id":"u1","data":{"room":"lobby","name":"a.png"}}`
	img := []byte("bytes")
	cases := []struct {
		name string
		in   []byte
		code shared.Code
		id   string
	}{
		{"empty", nil, shared.CodeBadFrame, ""},
		{"shorter than the length", []byte{0, 0, 1}, shared.CodeBadFrame, ""},
		{"header length 0", binaryUpload(0, head, img), shared.CodeBadFrame, ""},
		{"header length beyond the frame", binaryUpload(uint32(len(head)+len(img)+1), head, img), shared.CodeBadFrame, ""},
		{"header length over MaxFrameBytes", binaryUpload(shared.MaxFrameBytes+1, head+strings.Repeat(" ", shared.MaxFrameBytes+1-len(head)), img), shared.CodeBadFrame, ""},
		{"header length 2^32-1", binaryUpload(1<<32-1, head, img), shared.CodeBadFrame, ""},
		{"text frame sent as binary", []byte(`{"type":"rooms","id":"b1"}`), shared.CodeBadFrame, ""},
		{"header not JSON", binaryUpload(5, "hello", img), shared.CodeBadFrame, ""},
		{"header cut short", binaryUpload(10, head, img), shared.CodeBadFrame, ""},
		{"not an upload", binaryUpload(uint32(len(`{"type":"rooms","id":"r1"}`)), `{"type":"rooms","id":"r1"}`, img), shared.CodeBadFrame, "r1"},
		{"send in a binary frame", binaryUpload(uint32(len(`{"type":"send","id":"s1","data":{"room":"a","msg_id":"m","body":"x"}}`)), `{"type":"send","id":"s1","data":{"room":"a","msg_id":"m","body":"x"}}`, img), shared.CodeBadFrame, "s1"},
		{"unknown field", binaryUpload(uint32(len(`{"type":"upload","id":"u1","data":{"room":"a","name":"a.png","size":3}}`)), `{"type":"upload","id":"u1","data":{"room":"a","name":"a.png","size":3}}`, img), shared.CodeBadFrame, "u1"},
		{"no id", binaryUpload(uint32(len(`{"type":"upload","data":{"room":"a","name":"a.png"}}`)), `{"type":"upload","data":{"room":"a","name":"a.png"}}`, img), shared.CodeBadFrame, ""},
		{"bad room", binaryUpload(uint32(len(`{"type":"upload","id":"u1","data":{"room":"A B","name":"a.png"}}`)), `{"type":"upload","id":"u1","data":{"room":"A B","name":"a.png"}}`, img), shared.CodeInvalid, "u1"},
		{"name with a slash", binaryUpload(uint32(len(`{"type":"upload","id":"u1","data":{"room":"a","name":"../a.png"}}`)), `{"type":"upload","id":"u1","data":{"room":"a","name":"../a.png"}}`, img), shared.CodeInvalid, "u1"},
		{"empty name", binaryUpload(uint32(len(`{"type":"upload","id":"u1","data":{"room":"a","name":" "}}`)), `{"type":"upload","id":"u1","data":{"room":"a","name":" "}}`, img), shared.CodeInvalid, "u1"},
		{"no bytes", binaryUpload(uint32(len(head)), head, nil), shared.CodeInvalid, "u1"},
		{"over MaxImageBytes", binaryUpload(uint32(len(head)), head, make([]byte, shared.MaxImageBytes+1)), shared.CodeTooLarge, "u1"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f, data, err := shared.DecodeUpload(tc.in)
			assertCode(t, err, tc.code)
			assertEqual(t, "id", f.ID, tc.id)
			if data != nil {
				t.Errorf("bytes returned with an error: %d", len(data))
			}
		})
	}
}

// TestUploadWithoutIDRefused: EncodeUpload does not validate (as Encode
// does not), so an upload without a request id must be refused when read.
func TestUploadWithoutIDRefused(t *testing.T) {
	b, err := shared.EncodeUpload("", shared.Upload{Room: "lobby", Name: "a.png"}, []byte("x"))
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = shared.DecodeUpload(b)
	assertCode(t, err, shared.CodeBadFrame)
}

func TestThumbSize(t *testing.T) {
	for _, tc := range []struct{ w, h, tw, th int }{
		{10, 10, 10, 10}, {320, 100, 320, 100}, {640, 480, 320, 240}, {480, 640, 240, 320},
		{10000, 1, 320, 1}, {1, 10000, 1, 320}, {321, 321, 320, 320}, {0, 0, 0, 0},
	} {
		if w, h := shared.ThumbSize(tc.w, tc.h); w != tc.tw || h != tc.th {
			t.Errorf("ThumbSize(%d, %d) = %d×%d, want %d×%d", tc.w, tc.h, w, h, tc.tw, tc.th)
		}
	}
}
