package server_test

// Protocol tests: a real server on a loopback listener, raw WebSocket
// clients, and both history stores (memory and a SQLite file).

import (
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/duplex-chat/duplex/server"
	"github.com/duplex-chat/duplex/server/store"
	"github.com/duplex-chat/duplex/shared"
)

func TestHelloWelcome(t *testing.T) {
	forEachStore(t, func(t *testing.T, open func(testing.TB) store.Store) {
		ts := startServer(t, server.Options{Store: open(t)})
		ann := dial(t, ts.url, "ann")
		w := ann.hello(t, "Ann")
		if w.Protocol != shared.Protocol {
			t.Errorf("welcome protocol %q, want %q", w.Protocol, shared.Protocol)
		}
		if !strings.HasPrefix(w.Session, "s-") || shared.ValidID("session", w.Session) != nil {
			t.Errorf("welcome session %q is not a valid s- id", w.Session)
		}
		if !strings.HasPrefix(w.User, "u-") || shared.ValidID("user", w.User) != nil {
			t.Errorf("welcome user %q is not a valid u- id", w.User)
		}
		if w.Nick != "Ann" || w.MaxBody != shared.MaxBodyRunes {
			t.Errorf("welcome %+v, want nick Ann and max_body %d", w, shared.MaxBodyRunes)
		}

		// A second hello on the same connection is refused, naming its id.
		ann.send(t, shared.TypeHello, "hello-again", &shared.Hello{Nick: "Ann"})
		ann.expectError(t, "hello-again", shared.CodeInvalid)

		// The saved user id makes a later connection the same user, in a
		// new session.
		tab2 := dial(t, ts.url, "ann-tab2")
		w2 := tab2.helloAs(t, "Ann 🚀", w.Token)
		if w2.User != w.User || w2.Session == w.Session || w2.Nick != "Ann 🚀" {
			t.Errorf("hello with user %q: welcome %+v", w.User, w2)
		}
		// Without one, a new user.
		other := dial(t, ts.url, "other")
		if w3 := other.hello(t, "Otto"); w3.User == w.User || w3.Session == w.Session {
			t.Errorf("a hello without user reused identity: %+v", w3)
		}
	})
}

func TestRequestBeforeHello(t *testing.T) {
	ts := startServer(t, server.Options{})
	c := dial(t, ts.url, "early")
	early := []struct {
		id      string
		typ     shared.Type
		payload any
	}{
		{"early-join", shared.TypeJoin, &shared.Join{Room: "lobby"}},
		{"early-send", shared.TypeSend, &shared.Send{Room: "lobby", MsgID: "m-1", Body: "hi"}},
		{"early-history", shared.TypeHistory, &shared.History{Room: "lobby", Limit: 10}},
		{"early-leave", shared.TypeLeave, &shared.Leave{Room: "lobby"}},
		{"early-rooms", shared.TypeRooms, &shared.Rooms{}},
	}
	for _, r := range early {
		c.send(t, r.typ, r.id, r.payload)
		e := c.expectError(t, r.id, shared.CodeHelloRequired)
		if !strings.Contains(e.Message, "hello") {
			t.Errorf("%s: message %q does not mention hello", r.id, e.Message)
		}
	}
	// The connection still works, and the early requests had no effect.
	c.hello(t, "Late")
	f, _ := c.call(t, shared.TypeRooms, &shared.Rooms{})
	if list := f.Payload.(*shared.RoomList); len(list.Rooms) != 0 {
		t.Errorf("rooms after refused requests: %+v", list.Rooms)
	}
}

// presenceOf waits for the next presence frame of room.
func presenceOf(t testing.TB, c *wsClient, room string) []shared.Member {
	t.Helper()
	f, _ := c.waitFrame(t, "presence of "+room, func(f shared.Frame) bool {
		p, ok := f.Payload.(*shared.Presence)
		return ok && p.Room == room
	})
	return f.Payload.(*shared.Presence).Members
}

// memberEvent waits for the next presence_diff of room that reports a
// member joining (typ TypeMemberJoined) or leaving (TypeMemberLeft), and
// returns that member and the frames skipped before it. Presence is
// coalesced, so one diff may report several members: the first is returned.
func memberEvent(t testing.TB, c *wsClient, typ shared.Type, room string) (shared.Member, []shared.Frame) {
	t.Helper()
	f, skipped := c.waitFrame(t, string(typ)+" in "+room, func(f shared.Frame) bool {
		return len(diffMembers(f, typ, room)) > 0
	})
	return diffMembers(f, typ, room)[0], skipped
}

// diffMembers returns the members a presence_diff of room reports as
// joined (typ TypeMemberJoined) or left.
func diffMembers(f shared.Frame, typ shared.Type, room string) []shared.Member {
	d, ok := f.Payload.(*shared.PresenceDiff)
	if !ok || d.Room != room {
		return nil
	}
	if typ == shared.TypeMemberJoined {
		return d.Joined
	}
	return d.Left
}

func roomInfo(t testing.TB, c *wsClient, room string) (shared.RoomInfo, bool) {
	t.Helper()
	id := c.request(t, shared.TypeRooms, &shared.Rooms{})
	f, _ := c.await(t, id)
	list, ok := f.Payload.(*shared.RoomList)
	if !ok || f.Type != shared.TypeRoomList || f.ID != id {
		t.Fatalf("rooms answered with %s id %q %+v", f.Type, f.ID, f.Payload)
	}
	for _, r := range list.Rooms {
		if r.Name == room {
			return r, true
		}
	}
	return shared.RoomInfo{}, false
}

func hasFrame(frames []shared.Frame, typ shared.Type) bool {
	for _, f := range frames {
		if f.Type == typ {
			return true
		}
	}
	return false
}

func TestJoinPresenceLeaveRoomList(t *testing.T) {
	forEachStore(t, func(t *testing.T, open func(testing.TB) store.Store) {
		ts := startServer(t, server.Options{Store: open(t)})
		ann, bob := dial(t, ts.url, "ann"), dial(t, ts.url, "bob")
		wa, wb := ann.hello(t, "Ann"), bob.hello(t, "Bob")
		annM, bobM := shared.Member{User: wa.User, Nick: "Ann"}, shared.Member{User: wb.User, Nick: "Bob"}

		// Joining creates the room: an empty replay, an ack, a presence
		// snapshot with the joiner alone.
		ack, replay := ann.join(t, "lobby", nil)
		if ack != (shared.JoinAck{Room: "lobby"}) || len(replay) != 0 {
			t.Fatalf("first join: ack %+v, replay %v", ack, replay)
		}
		if got := presenceOf(t, ann, "lobby"); !reflect.DeepEqual(got, []shared.Member{annM}) {
			t.Fatalf("presence after first join: %+v", got)
		}

		bob.join(t, "lobby", nil)
		if got := presenceOf(t, bob, "lobby"); !reflect.DeepEqual(got, []shared.Member{annM, bobM}) {
			t.Fatalf("presence after second join: %+v", got)
		}
		if m, _ := memberEvent(t, ann, shared.TypeMemberJoined, "lobby"); m != bobM {
			t.Fatalf("member_joined %+v, want %+v", m, bobM)
		}

		// The room list answers the request id and counts both members.
		if info, ok := roomInfo(t, ann, "lobby"); !ok || info.Members != 2 || info.Head != 0 {
			t.Fatalf("room list: lobby %+v (listed %v), want 2 members, head 0", info, ok)
		}

		// Leave acks; the other member gets member_left; the count drops.
		f, _ := bob.call(t, shared.TypeLeave, &shared.Leave{Room: "lobby"})
		if f.Type != shared.TypeAck {
			t.Fatalf("leave answered with %s", f.Type)
		}
		if m, _ := memberEvent(t, ann, shared.TypeMemberLeft, "lobby"); m != bobM {
			t.Fatalf("member_left %+v, want %+v", m, bobM)
		}
		if info, _ := roomInfo(t, ann, "lobby"); info.Members != 1 {
			t.Fatalf("room list after leave: %+v, want 1 member", info)
		}
		// Leaving again: not_joined.
		id := bob.request(t, shared.TypeLeave, &shared.Leave{Room: "lobby"})
		bob.expectError(t, id, shared.CodeNotJoined)

		// After the leave Bob gets no live message of lobby: rejoining
		// with since 0 shows the message once, from the replay.
		ann.sendMsg(t, "lobby", "a-1", "while Bob is away")
		_, replay = bob.join(t, "lobby", ptr[int64](0))
		checkSeqs(t, "bob replay", replay, 1, 1)
		checkSeqs(t, "bob log", bob.messages("lobby"), 1, 1)
		if m, _ := memberEvent(t, ann, shared.TypeMemberJoined, "lobby"); m != bobM {
			t.Fatalf("member_joined on rejoin %+v", m)
		}

		// A second tab of Ann is not a new member, and its leave does not
		// make Ann leave.
		tab2 := dial(t, ts.url, "ann-tab2")
		tab2.helloAs(t, "Ann", wa.Token)
		tab2.join(t, "lobby", nil)
		tab2.call(t, shared.TypeLeave, &shared.Leave{Room: "lobby"})
		ann.sendMsg(t, "lobby", "a-2", "still here")
		_, skipped := bob.waitFrame(t, "message a-2", func(f shared.Frame) bool {
			m, ok := f.Payload.(*shared.Message)
			return ok && m.MsgID == "a-2"
		})
		if hasFrame(skipped, shared.TypePresenceDiff) {
			t.Fatalf("a second tab of the same user changed presence: %+v", skipped)
		}
		if info, _ := roomInfo(t, bob, "lobby"); info.Members != 2 || info.Head != 2 {
			t.Fatalf("room list: %+v, want 2 members, head 2", info)
		}

		// Closing the connection leaves every room.
		ann.conn.CloseNow()
		if m, _ := memberEvent(t, bob, shared.TypeMemberLeft, "lobby"); m != annM {
			t.Fatalf("member_left on disconnect %+v, want %+v", m, annM)
		}
	})
}

func TestSendAckAndOrder(t *testing.T) {
	forEachStore(t, func(t *testing.T, open func(testing.TB) store.Store) {
		ts := startServer(t, server.Options{Store: open(t)})
		ann, bob := dial(t, ts.url, "ann"), dial(t, ts.url, "bob")
		wa := ann.hello(t, "Ann")
		bob.hello(t, "Bob")
		ann.join(t, "lobby", nil)
		bob.join(t, "lobby", nil)

		// 20 sends in flight at once: acked in order with seq 1..20.
		const n = 20
		start := time.Now().UnixMilli()
		ids := make([]string, n)
		for i := range n {
			ids[i] = ann.request(t, shared.TypeSend, &shared.Send{Room: "lobby", MsgID: fmt.Sprintf("m-%d", i+1), Body: fmt.Sprintf("body <%d> & \"x\"", i+1)})
		}
		for i, id := range ids {
			f, _ := ann.await(t, id)
			a := ackOf[shared.SendAck](t, f)
			want := shared.SendAck{Room: "lobby", MsgID: fmt.Sprintf("m-%d", i+1), Seq: int64(i + 1), TS: a.TS}
			if a != want || a.TS < start-1000 || a.TS > time.Now().UnixMilli()+1000 {
				t.Fatalf("ack %d: %+v, want %+v with a current ts", i, a, want)
			}
		}
		for _, c := range []*wsClient{ann, bob} {
			msgs := c.waitMessages(t, "lobby", n)
			checkSeqs(t, c.name, msgs, 1, n)
			for i, m := range msgs {
				want := shared.Message{Room: "lobby", Seq: int64(i + 1), TS: m.TS, Author: shared.Member{User: wa.User, Nick: "Ann"},
					Body: fmt.Sprintf("body <%d> & \"x\"", i+1), MsgID: fmt.Sprintf("m-%d", i+1)}
				if !reflect.DeepEqual(m, want) {
					t.Fatalf("%s: message %d: %+v, want %+v", c.name, i, m, want)
				}
			}
		}

		// Two rooms over one socket: seqs are per room, and a room's
		// messages go to its members only.
		ann.join(t, "dev", nil)
		for i := 1; i <= 10; i++ {
			ann.request(t, shared.TypeSend, &shared.Send{Room: "lobby", MsgID: fmt.Sprintf("l-%d", i), Body: "to lobby"})
			ann.request(t, shared.TypeSend, &shared.Send{Room: "dev", MsgID: fmt.Sprintf("d-%d", i), Body: "to dev"})
		}
		ann.sendMsg(t, "lobby", "l-last", "last")
		checkSeqs(t, "ann lobby", ann.waitSeq(t, "lobby", n+11), 1, n+11)
		checkSeqs(t, "ann dev", ann.waitSeq(t, "dev", 10), 1, 10)
		checkSeqs(t, "bob lobby", bob.waitSeq(t, "lobby", n+11), 1, n+11)
		if got := bob.messages("dev"); len(got) != 0 {
			t.Fatalf("bob, not in dev, got %d dev messages", len(got))
		}
		// Bob joins dev from the start and gets its history replayed.
		_, replay := bob.join(t, "dev", ptr[int64](0))
		checkSeqs(t, "bob dev replay", replay, 1, 10)
	})
}

// TestBadInput sends each kind of bad frame and checks the documented error
// answers it, and that the connection, the server and the room keep working
// for everyone afterwards.
func TestBadInput(t *testing.T) {
	forEachStore(t, func(t *testing.T, open func(testing.TB) store.Store) {
		ts := startServer(t, server.Options{Store: open(t)})
		ann, bob := lobbyPair(t, ts.url)
		ann.sendMsg(t, "lobby", "first", "before the bad input")

		cases := []struct {
			name  string
			frame string
			id    string // the id the error must name; "" when none can be read
			code  shared.Code
		}{
			{"not JSON", `hello`, "", shared.CodeBadFrame},
			{"empty message", ``, "", shared.CodeBadFrame},
			{"JSON array", `[{"type":"rooms","id":"r"}]`, "", shared.CodeBadFrame},
			{"truncated JSON", `{"type":"rooms","id":"t0"`, "", shared.CodeBadFrame},
			{"trailing garbage", `{"type":"rooms","id":"t1"} {}`, "", shared.CodeBadFrame},
			{"unknown envelope field", `{"type":"rooms","id":"e1","extra":true}`, "", shared.CodeBadFrame},
			{"id not a string", `{"type":"rooms","id":7}`, "", shared.CodeBadFrame},
			{"invalid request id", `{"type":"rooms","id":"has space"}`, "", shared.CodeInvalid},
			{"request without id", `{"type":"rooms"}`, "", shared.CodeBadFrame},
			{"missing type", `{"id":"nt1","data":{}}`, "nt1", shared.CodeBadFrame},
			{"unknown type", `{"type":"shout","id":"u1","data":{"room":"lobby"}}`, "u1", shared.CodeUnknownType},
			{"server frame type from a client", `{"type":"welcome","id":"w1","data":{"protocol":"duplex.v1","session":"s-1","user":"u-1","nick":"x","max_body":1}}`, "w1", shared.CodeUnknownType},
			{"send without body", `{"type":"send","id":"s1","data":{"room":"lobby","msg_id":"m-x"}}`, "s1", shared.CodeInvalid},
			{"send without msg_id", `{"type":"send","id":"s2","data":{"room":"lobby","body":"hi"}}`, "s2", shared.CodeInvalid},
			{"join without data", `{"type":"join","id":"j0"}`, "j0", shared.CodeInvalid},
			{"wrong field type room 5", `{"type":"join","id":"j1","data":{"room":5}}`, "j1", shared.CodeBadFrame},
			{"wrong field type since string", `{"type":"join","id":"j2","data":{"room":"lobby","since":"3"}}`, "j2", shared.CodeBadFrame},
			{"fractional since", `{"type":"join","id":"j3","data":{"room":"lobby","since":1.5}}`, "j3", shared.CodeBadFrame},
			{"data not an object", `{"type":"send","id":"s3","data":"hi"}`, "s3", shared.CodeBadFrame},
			{"unknown field in data", `{"type":"send","id":"s4","data":{"room":"lobby","msg_id":"m-y","body":"hi","color":"red"}}`, "s4", shared.CodeBadFrame},
			{"body of 4001 runes", `{"type":"send","id":"s5","data":{"room":"lobby","msg_id":"m-z","body":"` + strings.Repeat("é", shared.MaxBodyRunes+1) + `"}}`, "s5", shared.CodeTooLarge},
			{"blank body", `{"type":"send","id":"s6","data":{"room":"lobby","msg_id":"m-w","body":" \n\t "}}`, "s6", shared.CodeInvalid},
			{"invalid UTF-8 in body", "{\"type\":\"send\",\"id\":\"s7\",\"data\":{\"room\":\"lobby\",\"msg_id\":\"m-v\",\"body\":\"bad \xff\xfe\"}}", "", shared.CodeBadFrame},
			{"invalid msg_id", `{"type":"send","id":"s8","data":{"room":"lobby","msg_id":"m/1","body":"hi"}}`, "s8", shared.CodeInvalid},
			{"join invalid room name Lobby", `{"type":"join","id":"j4","data":{"room":"Lobby"}}`, "j4", shared.CodeInvalid},
			{"join room name with space", `{"type":"join","id":"j5","data":{"room":"my room"}}`, "j5", shared.CodeInvalid},
			{"join room name of 65 chars", `{"type":"join","id":"j6","data":{"room":"` + strings.Repeat("r", shared.MaxRoomLen+1) + `"}}`, "j6", shared.CodeInvalid},
			{"send to a room not joined", `{"type":"send","id":"s9","data":{"room":"elsewhere","msg_id":"m-u","body":"hi"}}`, "s9", shared.CodeNotJoined},
			{"history of a room not joined", `{"type":"history","id":"h0","data":{"room":"elsewhere","limit":10}}`, "h0", shared.CodeNotJoined},
			{"leave a room not joined", `{"type":"leave","id":"l0","data":{"room":"elsewhere"}}`, "l0", shared.CodeNotJoined},
			{"negative since", `{"type":"join","id":"j7","data":{"room":"lobby","since":-1}}`, "j7", shared.CodeInvalid},
			{"since beyond head", `{"type":"join","id":"j8","data":{"room":"lobby","since":1000000}}`, "j8", shared.CodeInvalid},
			{"history limit 0", `{"type":"history","id":"h1","data":{"room":"lobby","limit":0}}`, "h1", shared.CodeInvalid},
			{"history limit 1000", `{"type":"history","id":"h2","data":{"room":"lobby","limit":1000}}`, "h2", shared.CodeInvalid},
			{"history without limit", `{"type":"history","id":"h3","data":{"room":"lobby"}}`, "h3", shared.CodeInvalid},
			{"history negative before", `{"type":"history","id":"h4","data":{"room":"lobby","before":-5,"limit":10}}`, "h4", shared.CodeInvalid},
			{"second hello", `{"type":"hello","id":"hi1","data":{"nick":"Ann"}}`, "hi1", shared.CodeInvalid},
			{"hello nick of 33 runes", `{"type":"hello","id":"hi2","data":{"nick":"` + strings.Repeat("n", shared.MaxNickRunes+1) + `"}}`, "hi2", shared.CodeTooLarge},
		}
		for i, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				ann.writeRaw(t, []byte(tc.frame))
				if tc.id == "" {
					ann.expectAnonError(t, tc.code)
				} else {
					ann.expectError(t, tc.id, tc.code)
				}
				// Ann's connection still works, and Bob still chats with her.
				a := ann.sendMsg(t, "lobby", fmt.Sprintf("after-%d", i), "still alive after "+tc.name)
				bob.waitSeq(t, "lobby", a.Seq)
			})
		}
		b := bob.sendMsg(t, "lobby", "bob-last", "and Bob keeps chatting")
		msgs := ann.waitSeq(t, "lobby", b.Seq)
		checkSeqs(t, "ann", msgs, 1, b.Seq)
		checkSeqs(t, "bob", bob.messages("lobby"), 1, b.Seq)
		// Nothing refused was stored.
		if b.Seq != int64(len(cases)+2) {
			t.Fatalf("head %d after %d good sends", b.Seq, len(cases)+2)
		}
		for _, m := range msgs[1 : len(msgs)-1] {
			if !strings.HasPrefix(m.MsgID, "after-") {
				t.Fatalf("a refused frame was stored: %+v", m)
			}
		}
	})
}

func TestDuplicateMsgID(t *testing.T) {
	forEachStore(t, func(t *testing.T, open func(testing.TB) store.Store) {
		ts := startServer(t, server.Options{Store: open(t)})
		ann, bob := lobbyPair(t, ts.url)

		first := ann.sendMsg(t, "lobby", "m-1", "original")

		// Same msg_id, different body: conflict, nothing stored.
		id := ann.request(t, shared.TypeSend, &shared.Send{Room: "lobby", MsgID: "m-1", Body: "changed"})
		ann.expectError(t, id, shared.CodeConflict)
		// Same msg_id from another user: conflict too.
		id = bob.request(t, shared.TypeSend, &shared.Send{Room: "lobby", MsgID: "m-1", Body: "original"})
		bob.expectError(t, id, shared.CodeConflict)

		// Same msg_id, same body (a retry after a lost ack): the original
		// ack, same seq and ts, and no second delivery.
		if again := ann.sendMsg(t, "lobby", "m-1", "original"); again != first {
			t.Fatalf("retry ack %+v, want the original %+v", again, first)
		}
		// Two identical sends in flight together: one message.
		id1 := ann.request(t, shared.TypeSend, &shared.Send{Room: "lobby", MsgID: "m-2", Body: "twice"})
		id2 := ann.request(t, shared.TypeSend, &shared.Send{Room: "lobby", MsgID: "m-2", Body: "twice"})
		f1, _ := ann.await(t, id1)
		f2, _ := ann.await(t, id2)
		if a1, a2 := ackOf[shared.SendAck](t, f1), ackOf[shared.SendAck](t, f2); a1 != a2 || a1.Seq != 2 {
			t.Fatalf("acks of one msg_id in flight twice: %+v and %+v", a1, a2)
		}
		last := ann.sendMsg(t, "lobby", "m-3", "third")
		if last.Seq != 3 {
			t.Fatalf("seq after duplicates %d, want 3", last.Seq)
		}
		for _, c := range []*wsClient{ann, bob} {
			checkSeqs(t, c.name, c.waitSeq(t, "lobby", 3), 1, 3)
		}

		// The original message is unchanged in history.
		f, _ := ann.call(t, shared.TypeHistory, &shared.History{Room: "lobby", Limit: 10})
		h := ackOf[shared.HistoryAck](t, f)
		if len(h.Messages) != 3 || h.Messages[0].Body != "original" || h.Messages[0].TS != first.TS || h.Messages[1].Body != "twice" || h.More {
			t.Fatalf("history after duplicates: %+v", h)
		}
	})
}

// TestJoinReplay covers the replay of a join without since (the latest 50),
// with since at the head (nothing) and with since 0 (everything).
func TestJoinReplay(t *testing.T) {
	forEachStore(t, func(t *testing.T, open func(testing.TB) store.Store) {
		ts := startServer(t, server.Options{Store: open(t), Limits: server.NoLimits()}) // 60 sends pipelined
		ann := dial(t, ts.url, "ann")
		ann.hello(t, "Ann")
		ann.join(t, "lobby", nil)
		const n = 60
		sendMany(t, ann, "lobby", "m", 1, n)

		bob := dial(t, ts.url, "bob")
		bob.hello(t, "Bob")
		ack, replay := bob.join(t, "lobby", nil)
		checkSeqs(t, "join without since", replay, n-shared.DefaultRecent+1, n)
		ack.Read, ack.Unread, ack.Mentioned = 0, 0, 0 // read markers are tested in read_test.go
		if ack != (shared.JoinAck{Room: "lobby", Head: n, First: n - shared.DefaultRecent + 1}) {
			t.Fatalf("join ack %+v", ack)
		}
		cy := dial(t, ts.url, "cy")
		cy.hello(t, "Cy")
		if ack, replay := cy.join(t, "lobby", ptr[int64](n)); len(replay) != 0 || ack != (shared.JoinAck{Room: "lobby", Head: n, Read: n}) { // a first join: the marker starts at the head
			t.Fatalf("join since head: ack %+v, %d replayed", ack, len(replay))
		}
		dee := dial(t, ts.url, "dee")
		dee.hello(t, "Dee")
		ack, replay = dee.join(t, "lobby", ptr[int64](0))
		checkSeqs(t, "join since 0", replay, 1, n)
		if ack != (shared.JoinAck{Room: "lobby", Head: n, First: 1, Read: n}) {
			t.Fatalf("join since 0 ack %+v", ack)
		}
	})
}

// sendMany sends messages from..to with msg_ids prefix-i, many in flight,
// and waits for every ack.
func sendMany(t testing.TB, c *wsClient, room, prefix string, from, to int) []shared.SendAck {
	t.Helper()
	var acks []shared.SendAck
	const window = 64
	var pending []string
	flush := func(keep int) {
		for len(pending) > keep {
			f, _ := c.await(t, pending[0])
			acks = append(acks, ackOf[shared.SendAck](t, f))
			pending = pending[1:]
		}
	}
	for i := from; i <= to; i++ {
		pending = append(pending, c.request(t, shared.TypeSend, &shared.Send{Room: room, MsgID: fmt.Sprintf("%s-%d", prefix, i), Body: fmt.Sprintf("message %d", i)}))
		flush(window)
	}
	flush(0)
	return acks
}

func TestHistoryPaging(t *testing.T) {
	forEachStore(t, func(t *testing.T, open func(testing.TB) store.Store) {
		ts := startServer(t, server.Options{Store: open(t), Limits: server.NoLimits()}) // 60 sends pipelined
		ann := dial(t, ts.url, "ann")
		ann.hello(t, "Ann")
		ann.join(t, "lobby", nil)

		history := func(before int64, limit int) shared.HistoryAck {
			t.Helper()
			f, _ := ann.call(t, shared.TypeHistory, &shared.History{Room: "lobby", Before: before, Limit: limit})
			h := ackOf[shared.HistoryAck](t, f)
			if h.Room != "lobby" || h.Messages == nil {
				t.Fatalf("history ack %+v (messages must be an array, never null)", h)
			}
			return h
		}
		if h := history(0, 50); len(h.Messages) != 0 || h.More {
			t.Fatalf("history of an empty room: %+v", h)
		}

		const n = 120
		sendMany(t, ann, "lobby", "m", 1, n)

		// Page backwards from the newest, 50 at a time, ascending within
		// each page, until more is false.
		h := history(0, 50)
		checkSeqs(t, "before=0", h.Messages, n-49, n)
		if !h.More {
			t.Fatal("before=0: more=false with older messages left")
		}
		h = history(h.Messages[0].Seq, 50)
		checkSeqs(t, "second page", h.Messages, n-99, n-50)
		if !h.More {
			t.Fatal("second page: more=false with older messages left")
		}
		h = history(h.Messages[0].Seq, 50)
		checkSeqs(t, "last page", h.Messages, 1, n-100)
		if h.More {
			t.Fatal("last page: more=true at the start of the room")
		}
		if h := history(1, 50); len(h.Messages) != 0 || h.More {
			t.Fatalf("before=1: %+v", h)
		}
		if h := history(2, 50); len(h.Messages) != 1 || h.Messages[0].Seq != 1 || h.More {
			t.Fatalf("before=2: %+v", h)
		}
		if h := history(0, shared.MaxHistory); len(h.Messages) != n || h.More {
			t.Fatalf("limit %d: %d messages, more=%v", shared.MaxHistory, len(h.Messages), h.More)
		}
		if h := history(n+1000, 10); len(h.Messages) != 10 || h.Messages[9].Seq != n {
			t.Fatalf("before beyond head: %+v", h)
		}
		// Message content survives the round trip through the store.
		if m := history(0, 1).Messages[0]; m.Body != fmt.Sprintf("message %d", n) || m.MsgID != fmt.Sprintf("m-%d", n) || m.Author.Nick != "Ann" || m.TS <= 0 {
			t.Fatalf("stored message %+v", m)
		}
	})
}

// --- bad input that closes the connection -------------------------------

func closeStatus(t testing.TB, c *wsClient) (websocket.StatusCode, string) {
	t.Helper()
	err := c.closeErr(t)
	var ce websocket.CloseError
	if !asCloseError(err, &ce) {
		t.Fatalf("%s: connection ended with %v, want a close frame", c.name, err)
	}
	return ce.Code, ce.Reason
}

// TestBadInputCloses covers input that closes the connection: each kind is
// closed with its documented code, and the server keeps serving the others.
func TestBadInputCloses(t *testing.T) {
	ts := startServer(t, server.Options{HelloTimeout: 300 * time.Millisecond})
	bob := dial(t, ts.url, "bob")
	bob.hello(t, "Bob")
	bob.join(t, "lobby", nil)
	witnesses := 0
	stillChatting := func(t *testing.T) {
		t.Helper()
		witnesses++
		c := dial(t, ts.url, "witness")
		// A nick of its own: the last subtest's witness closes at its
		// cleanup, but the server may not have released its nick yet.
		c.hello(t, fmt.Sprintf("Witness%d", witnesses))
		c.join(t, "lobby", nil)
		a := c.sendMsg(t, "lobby", fmt.Sprintf("w-%d", witnesses), "the server still works")
		bob.waitSeq(t, "lobby", a.Seq)
	}

	// Binary messages are uploads (upload_test.go): one that is not an
	// upload is answered with bad_frame, and the connection stays open.
	t.Run("binary frame that is not an upload gets bad_frame", func(t *testing.T) {
		c := dial(t, ts.url, "binary")
		c.hello(t, "Bin")
		c.join(t, "lobby", nil)
		ctx, cancel := contextWithTimeout()
		defer cancel()
		if err := c.conn.Write(ctx, websocket.MessageBinary, []byte(`{"type":"rooms","id":"b1"}`)); err != nil {
			t.Fatal(err)
		}
		c.expectAnonError(t, shared.CodeBadFrame)
		c.call(t, shared.TypeRooms, &shared.Rooms{})
		stillChatting(t)
	})

	t.Run("frame over 64 KiB closes with 1009", func(t *testing.T) {
		c := dial(t, ts.url, "big")
		c.hello(t, "Big")
		c.join(t, "lobby", nil)
		big := `{"type":"send","id":"big","data":{"room":"lobby","msg_id":"m-big","body":"` + strings.Repeat("x", shared.MaxFrameBytes) + `"}}`
		c.write([]byte(big)) // the server may close before it has read it all
		if code, _ := closeStatus(t, c); code != websocket.StatusMessageTooBig {
			t.Fatalf("close %d, want %d", code, websocket.StatusMessageTooBig)
		}
		stillChatting(t)
	})

	t.Run("a frame of exactly 64 KiB is read", func(t *testing.T) {
		c := dial(t, ts.url, "max")
		c.hello(t, "Max")
		prefix, suffix := `{"type":"rooms","id":"max","data":{}}`, ""
		frame := prefix + strings.Repeat(" ", shared.MaxFrameBytes-len(prefix)-len(suffix)) + suffix
		c.writeRaw(t, []byte(frame))
		if f, _ := c.await(t, "max"); f.Type != shared.TypeRoomList {
			t.Fatalf("answer to a 64 KiB frame: %s %+v", f.Type, f.Payload)
		}
	})

	for _, offer := range [][]string{nil, {"duplex.v2"}, {"chat", "superchat"}} {
		t.Run(fmt.Sprintf("subprotocol %q closes with 4000", offer), func(t *testing.T) {
			ctx, cancel := contextWithTimeout()
			defer cancel()
			conn, _, err := websocket.Dial(ctx, ts.url, &websocket.DialOptions{Subprotocols: offer})
			if err != nil {
				t.Fatalf("dial: %v", err)
			}
			c := newClient(t, conn, "noproto")
			code, reason := closeStatus(t, c)
			if code != websocket.StatusCode(shared.CloseBadProtocol) || !strings.Contains(reason, shared.Protocol) {
				t.Fatalf("close %d %q, want %d naming %s", code, reason, shared.CloseBadProtocol, shared.Protocol)
			}
		})
	}

	t.Run("origin of another host is refused with 403", func(t *testing.T) {
		opts := dialOpts()
		opts.HTTPHeader = http.Header{"Origin": {"https://evil.example.com"}}
		if status := httpStatusOfDial(t, ts.url, opts); status != http.StatusForbidden {
			t.Fatalf("handshake status %d, want 403", status)
		}
		// The page's own origin is fine.
		opts.HTTPHeader = http.Header{"Origin": {ts.url}}
		if status := httpStatusOfDial(t, ts.url, opts); status != 0 {
			t.Fatalf("same-origin handshake refused with %d", status)
		}
	})

	t.Run("no hello within HelloTimeout closes with 4002", func(t *testing.T) {
		silent := dial(t, ts.url, "silent")
		// A client that says hello in time outlives the timeout.
		prompt := dial(t, ts.url, "prompt")
		prompt.hello(t, "Prompt")
		if code, _ := closeStatus(t, silent); code != websocket.StatusCode(shared.CloseHelloTimeout) {
			t.Fatalf("close %d, want %d", code, shared.CloseHelloTimeout)
		}
		prompt.call(t, shared.TypeRooms, &shared.Rooms{})
		stillChatting(t)
	})
}

func TestOriginPatterns(t *testing.T) {
	ts := startServer(t, server.Options{OriginPatterns: []string{"chat.example.com"}})
	opts := dialOpts()
	opts.HTTPHeader = http.Header{"Origin": {"https://chat.example.com"}}
	if status := httpStatusOfDial(t, ts.url, opts); status != 0 {
		t.Fatalf("allowed origin refused with %d", status)
	}
	opts.HTTPHeader = http.Header{"Origin": {"https://chat.example.com.evil.net"}}
	if status := httpStatusOfDial(t, ts.url, opts); status != http.StatusForbidden {
		t.Fatalf("look-alike origin: status %d, want 403", status)
	}
}
