package wsconn

import (
	"bytes"
	"testing"
)

// frameBytes builds a masked client frame header for a payload of n bytes,
// followed by the payload, the way RFC 6455 section 5.2 lays it out.
func frameBytes(n int) []byte {
	h := []byte{0x81}
	switch {
	case n < 126:
		h = append(h, 0x80|byte(n))
	case n < 1<<16:
		h = append(h, 0x80|126, byte(n>>8), byte(n))
	default:
		h = append(h, 0x80|127, 0, 0, 0, 0, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	}
	h = append(h, 9, 9, 9, 9) // mask key
	return append(h, bytes.Repeat([]byte{'x'}, n)...)
}

// TestFrameTracking: the frame boundaries are found for each length
// encoding (7-bit, 16-bit, 64-bit, and empty frames), whether the bytes
// come all at once or one by one; in the middle of a frame, inside its
// header or its payload, the tracker says so.
func TestFrameTracking(t *testing.T) {
	var stream []byte
	var ends []int // offsets just past each frame
	for _, n := range []int{0, 5, 125, 126, 300, 65535, 70000, 0} {
		stream = append(stream, frameBytes(n)...)
		ends = append(ends, len(stream))
	}
	all := &frameDeadlineConn{}
	all.feed(stream)
	if all.inFrame() {
		t.Fatal("after whole frames fed at once: still inside a frame")
	}
	one := &frameDeadlineConn{}
	for i := range stream {
		one.feed(stream[i : i+1])
		atEnd := len(ends) > 0 && i+1 == ends[0]
		if atEnd {
			ends = ends[1:]
		}
		if one.inFrame() == atEnd {
			t.Fatalf("after byte %d: inFrame %v, want %v", i, one.inFrame(), !atEnd)
		}
	}
}
