package server

import (
	"fmt"
	"testing"

	"github.com/duplex-chat/duplex/shared"
)

// BenchmarkRoomDeliver measures the fan-out hot path: one encoded frame
// handed to every member of a 1,000-member room. The sessions pretend a
// writer is running, so the benchmark sees enqueueing only, not sockets.
func BenchmarkRoomDeliver(b *testing.B) {
	srv := &Server{opts: (&Options{QueueSize: 1 << 30, QueueBytes: 1 << 40}).withDefaults()}
	r := newRoom(srv, "bench", 0)
	sessions := make([]*session, 1000)
	for i := range sessions {
		s := &session{srv: srv, member: shared.Member{User: fmt.Sprint("u", i), Nick: "n"}}
		s.q.sess, s.q.writing = s, true
		sessions[i] = s
		r.members[s] = &cursor{live: true}
	}
	frame, _ := shared.Encode(shared.TypeMessage, "", &shared.Message{Room: "bench", Seq: 1, TS: 1, Author: shared.Member{User: "u", Nick: "n"}, Body: "hello", MsgID: "m"})
	b.ReportAllocs()
	seq := int64(0)
	for b.Loop() {
		seq++
		r.deliver(seq, frame)
		if seq%64 == 0 {
			for _, s := range sessions {
				s.q.frames, s.q.bytes = s.q.frames[:0], 0
			}
		}
	}
	b.ReportMetric(float64(b.N)*1000/b.Elapsed().Seconds(), "deliveries/s")
}

// BenchmarkEncodeMessage is the once-per-message encode of the fan-out.
func BenchmarkEncodeMessage(b *testing.B) {
	m := &shared.Message{Room: "general", Seq: 123456, TS: 1700000000000, Author: shared.Member{User: "u-0123456789abcdef01", Nick: "someone"}, Body: "a message of about a hundred bytes, the size the load tool sends in its fan-out workload....", MsgID: "m0123456789abcdef01234567"}
	b.ReportAllocs()
	for b.Loop() {
		shared.Encode(shared.TypeMessage, "", m)
	}
}
