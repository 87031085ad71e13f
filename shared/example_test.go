package shared_test

import (
	"errors"
	"fmt"

	"github.com/duplex-chat/duplex/shared"
)

func ExampleEncode() {
	b, err := shared.Encode(shared.TypeSend, "r7", shared.Send{
		Room:  "lobby",
		MsgID: "m-42",
		Body:  "hi <all> & welcome",
	})
	if err != nil {
		panic(err)
	}
	fmt.Println(string(b))
	// Output:
	// {"type":"send","id":"r7","data":{"room":"lobby","msg_id":"m-42","body":"hi <all> & welcome"}}
}

func ExampleDecode() {
	f, err := shared.Decode([]byte(`{"type":"join","id":"r1","data":{"room":"lobby","since":41}}`))
	if err != nil {
		panic(err)
	}
	join := f.Payload.(*shared.Join)
	fmt.Println(f.Type, f.ID, join.Room, *join.Since)

	// A frame that fails validation still names its request, so the error
	// frame can answer it.
	f, err = shared.Decode([]byte(`{"type":"join","id":"r2","data":{"room":"Lobby"}}`))
	var e *shared.Error
	if errors.As(err, &e) {
		fmt.Println(f.ID, e.Code)
	}
	// Output:
	// join r1 lobby 41
	// r2 invalid
}

func ExampleDecodeAck() {
	f, err := shared.Decode([]byte(`{"type":"ack","id":"r7","data":{"room":"lobby","msg_id":"m-42","seq":43,"ts":1700000000123}}`))
	if err != nil {
		panic(err)
	}
	var ack shared.SendAck
	if err := shared.DecodeAck(f, &ack); err != nil {
		panic(err)
	}
	fmt.Println(f.ID, ack.MsgID, ack.Seq)
	// Output:
	// r7 m-42 43
}

func ExampleEncodeBatch() {
	a, _ := shared.Encode(shared.TypeMemberJoined, "", shared.MemberEvent{Room: "lobby", Member: shared.Member{User: "u-2", Nick: "Bob"}})
	b, _ := shared.Encode(shared.TypeMemberLeft, "", shared.MemberEvent{Room: "lobby", Member: shared.Member{User: "u-3", Nick: "Cy"}})
	batch := shared.EncodeBatch([][]byte{a, b})
	fmt.Println(string(batch))

	f, _ := shared.Decode(batch)
	for _, raw := range f.Payload.(*shared.Batch).Frames {
		inner, _ := shared.Decode(raw)
		fmt.Println(inner.Type, inner.Payload.(*shared.MemberEvent).Member.Nick)
	}
	// Output:
	// {"type":"batch","data":{"frames":[{"type":"member_joined","data":{"room":"lobby","member":{"user":"u-2","nick":"Bob"}}},{"type":"member_left","data":{"room":"lobby","member":{"user":"u-3","nick":"Cy"}}}]}}
	// member_joined Bob
	// member_left Cy
}

func ExampleCloseCode_ShouldReconnect() {
	for _, c := range []shared.CloseCode{shared.CloseSlowClient, shared.CloseBadProtocol, 1006} {
		fmt.Println(int(c), c.ShouldReconnect(), c.Reason())
	}
	// Output:
	// 4001 true client too slow; resume to catch up
	// 4000 false unsupported protocol version
	// 1006 true unknown close code
}

// ExampleEncodeUpload builds the binary message of PROTOCOL.md 7.16's
// example: a 4-byte big-endian header length, the header, the bytes.
func ExampleEncodeUpload() {
	png := make([]byte, 4711)
	b, _ := shared.EncodeUpload("u1", shared.Upload{Room: "lobby", Name: "cat.png"}, png)
	fmt.Printf("% x\n%s\n%d bytes\n", b[:4], b[4:4+0x44], len(b))
	// Output:
	// 00 00 00 44
	// {"type":"upload","id":"u1","data":{"room":"lobby","name":"cat.png"}}
	// 4783 bytes
}
