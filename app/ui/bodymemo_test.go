package ui

import (
	"strconv"
	"testing"

	"github.com/duplex-chat/duplex/shared"
)

// TestBodyMemo: a memoized body is the body as formatted now: an edit
// (same msg_id and seq, a new edited time and body), a pending edit (the
// same version stamp, another body) and a change of the nicknames
// highlighted each give new parts, while an unchanged message gives the
// memo's own; and the memo stays bounded however many messages pass
// through it. Bad input tried: 3× the bound of distinct messages.
func TestBodyMemo(t *testing.T) {
	var b bodyMemo
	nicks := nickSet{"ann": false}
	b.use(nicks)
	m := shared.Message{MsgID: "m1", Seq: 1, Body: "hi **@ann**"}
	first := b.parts(m)
	if got := b.parts(m); &got[0] != &first[0] {
		t.Fatal("an unchanged message was formatted again")
	}
	text := func(p []bodyPart) string {
		s := ""
		for _, x := range p {
			s += x.Text
		}
		return s
	}
	m2 := m
	m2.Body, m2.Edited = "edited `code`", 5
	if got := text(b.parts(m2)); got != "edited code" {
		t.Fatalf("edited message shows %q", got)
	}
	m3 := m2
	m3.Body = "pending edit"
	if got := text(b.parts(m3)); got != "pending edit" {
		t.Fatalf("same version, new body shows %q", got)
	}
	plain := shared.Message{MsgID: "m2", Seq: 2, Body: "hello @bob"}
	if p := b.parts(plain); len(p) != 1 || len(p[0].segs) != 1 {
		t.Fatalf("@bob highlighted before bob is known: %+v", p)
	}
	b.use(nickSet{"ann": false, "bob": true})
	if p := b.parts(plain); len(p[0].segs) != 2 || !p[0].segs[1].Mention || !p[0].segs[1].Me {
		t.Fatalf("@bob not highlighted after the nicknames changed: %+v", p)
	}
	for i := 0; i < 3*bodyMemoSize; i++ {
		b.parts(shared.Message{MsgID: "x" + strconv.Itoa(i), Seq: int64(i + 10), Body: "b" + strconv.Itoa(i)})
	}
	if n := len(b.cur) + len(b.old); n > 2*bodyMemoSize {
		t.Fatalf("memo holds %d bodies, bound %d", n, 2*bodyMemoSize)
	}
}
