package server

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"github.com/duplex-chat/duplex/server/internal/wsconn"
	"github.com/duplex-chat/duplex/server/store"
	"github.com/duplex-chat/duplex/shared"
)

// session is one WebSocket connection: one reader (run), and a bounded
// queue with its writer (outQueue) between the server and the socket. It
// ends through close (close.go), whoever ends it.
type session struct {
	srv       *Server
	conn      *websocket.Conn
	id        string
	ctx       context.Context    // ends when the session ends
	cancel    context.CancelFunc // close's
	closeOnce sync.Once          // close's: one close handshake
	q         outQueue           // what waits to be written, and the writer: write.go

	ready      atomic.Bool   // hello done; member and ident are set
	wantsRooms atomic.Bool   // asked for the room list: gets pushed updates
	member     shared.Member // User is immutable once ready; Nick changes only on the reader
	ident      Identity      // who the credential says this is
	pre        *Identity     // the upgrade request's identity (Options.Authenticate)
	expiry     *time.Timer   // closes with CloseAuthExpired when the credential expires
	verified   bool          // the credential is the application's: its nickname is kept (signout.go)
	creds      []credential  // guarded by mu: what a sign-out revokes (signout.go)

	mu    sync.Mutex
	rooms map[string]*room
	done  bool

	limits *connLimits // see limits.go
	chain  sendChain   // a sender's order: order.go

	addr       string        // the peer's IP address, for the upload quota (upload.go)
	uploadDone chan struct{} // closed when the last upload was answered; reader only

	helloTimer *time.Timer
}

func newSession(srv *Server, conn *websocket.Conn, out *wsconn.FrameWriter, pre *Identity) *session {
	s := &session{
		pre:   pre,
		srv:   srv,
		conn:  conn,
		id:    newID("s-"),
		rooms: make(map[string]*room),
	}
	s.q.init(s, out)
	s.limits = newConnLimits(srv.opts.Limits)
	s.ctx, s.cancel = context.WithCancel(context.Background())
	return s
}

// run reads frames until the connection ends, then leaves every room.
func (s *session) run() {
	ctx := s.ctx
	// After a read error (the peer left, or broke the protocol and
	// coder/websocket answered with a close frame) the socket is done:
	// release it even if the peer never closes its end.
	defer s.close(0, "", abrupt)
	s.helloTimer = time.AfterFunc(s.srv.opts.HelloTimeout, func() {
		if !s.ready.Load() {
			s.kill(shared.CloseHelloTimeout)
		}
	})
	defer s.helloTimer.Stop()
	defer s.signOff()
	defer s.leaveAll()
	for s.q.readGate() {
		// No deadline or cancel on Read: with either, coder/websocket
		// keeps a watcher per blocked Read; closing the conn unblocks it.
		typ, r, err := s.conn.Reader(context.Background())
		if err != nil {
			s.srv.metrics.disconnected(err)
			return
		}
		if typ == websocket.MessageBinary { // an upload: see upload.go
			if !s.upload(ctx, r) {
				return
			}
			continue
		}
		data, ok := s.readText(r)
		if !ok {
			return
		}
		offStack(func() { s.handle(ctx, data) })
	}
}

func (s *session) leaveAll() {
	s.mu.Lock()
	rooms := s.rooms
	s.rooms = map[string]*room{}
	s.done = true
	s.mu.Unlock()
	for _, r := range rooms {
		r.remove(s)
	}
}

// reply queues a frame answering request id.
func (s *session) reply(t shared.Type, id string, payload any) {
	frame, err := shared.Encode(t, id, payload)
	if err != nil {
		s.srv.log.Error("encode reply", "type", t, "err", err)
		return
	}
	s.q.enqueueReply(frame)
	s.q.hurryWriter()
}

// fail answers request id with an error frame built from err.
func (s *session) fail(id string, err error) {
	var pe *shared.Error
	if !errors.As(err, &pe) {
		s.srv.log.Error("request failed", "session", s.id, "err", err)
		pe = shared.Errorf(shared.CodeUnavailable, "the server could not complete the request; retry")
	}
	s.reply(shared.TypeError, id, &shared.ErrorFrame{Code: pe.Code, Message: pe.Message})
}

func (s *session) handle(ctx context.Context, data []byte) {
	f, err := shared.Decode(data)
	if err != nil {
		s.fail(f.ID, err)
		return
	}
	if f.Type == shared.TypePing { // the client's heartbeat; see Options.Heartbeat
		s.reply(shared.TypePong, f.ID, &shared.Pong{})
		return
	}
	if !s.ready.Load() && f.Type != shared.TypeHello {
		s.fail(f.ID, shared.Errorf(shared.CodeHelloRequired, "send hello before %s", f.Type))
		return
	}
	if sp, ok := f.Payload.(*shared.Send); ok {
		if !s.admitSend(f.ID, sp) { // order.go: in order, then the limit
			return
		}
	} else if kind, limited := limitedKinds[f.Type]; limited && !s.allow(f.ID, kind) {
		return
	}
	switch p := f.Payload.(type) {
	case *shared.Hello:
		s.hello(ctx, f.ID, p)
	case *shared.Join:
		s.join(ctx, f.ID, p)
	case *shared.Leave:
		s.leave(f.ID, p)
	case *shared.Send:
		s.send(f.ID, p)
	case *shared.History:
		s.history(ctx, f.ID, p)
	case *shared.Members:
		s.members(f.ID, p)
	case *shared.Rooms:
		s.wantsRooms.Store(true) // from now on, pushed when rooms change
		list, err := s.srv.roomList(ctx, s.ident, p)
		if err != nil {
			s.fail(f.ID, err)
			return
		}
		s.reply(shared.TypeRoomList, f.ID, list)
	case *shared.Auth:
		s.auth(ctx, f.ID, p)
	case *shared.Nick:
		s.nick(ctx, f.ID, p)
	case *shared.Create:
		s.create(ctx, f.ID, p)
	case *shared.DM:
		s.dm(ctx, f.ID, p)
	case *shared.Invite:
		s.invite(ctx, f.ID, p)
	case *shared.Remove:
		s.remove(ctx, f.ID, p)
	case *shared.Read:
		s.read(ctx, f.ID, p) // read.go
	case *shared.Search:
		s.search(ctx, f.ID, p) // search.go
	case *shared.Typing:
		s.typing(p)
	case *shared.SignOut:
		s.signOut(ctx, f.ID, p) // signout.go
	default:
		s.fail(f.ID, shared.Errorf(shared.CodeUnknownType, "%s is not a request a client may send", f.Type))
	}
}

// offStack runs fn on a short-lived goroutine and waits for it. Decoding,
// handling and store queries (SQLite in pure Go) need deep stacks; run on
// the reader they would leave every idle connection holding a grown stack,
// while the reader itself only ever needs a small one.
func offStack(fn func()) {
	done := make(chan struct{})
	go func() { defer close(done); fn() }()
	<-done
}

func (s *session) hello(ctx context.Context, id string, h *shared.Hello) {
	if s.ready.Load() {
		s.fail(id, shared.Errorf(shared.CodeInvalid, "hello was already received on this connection"))
		return
	}
	ident, token, creds, err := s.srv.identify(ctx, s.pre, h)
	if err != nil {
		s.fail(id, err) // the session stays without identity: hello again
		return
	}
	verified := token == "" // the application's credential, not an anonymous user
	nick := h.Nick
	if ident.Nick != "" {
		nick = ident.Nick
	}
	err = s.srv.claimNick(ctx, ident.User, nick, verified)
	if err != nil && nick != h.Nick {
		// The credential's name is held by another online user: without
		// this the verified user could not sign in at all while it is, as
		// hello's nickname would never be used. Hello's stands in.
		nick = h.Nick
		err = s.srv.claimNick(ctx, ident.User, nick, verified)
	}
	if err != nil {
		s.fail(id, err)
		return
	}
	s.member = shared.Member{User: ident.User, Nick: nick}
	s.ident = ident
	s.verified = verified
	for _, c := range creds {
		s.remember(c.id, c.expires)
	}
	s.srv.setOnline(s.member, 1)
	s.ready.Store(true)
	defer s.recheckRevoked() // signout.go: after the welcome, a sign-out that raced this hello
	s.helloTimer.Stop()
	w := &shared.Welcome{
		Protocol: shared.Protocol, Session: s.id, User: ident.User, Nick: nick, MaxBody: shared.MaxBodyRunes, Token: token,
	}
	if hb := s.srv.opts.Heartbeat; hb > 0 {
		w.Heartbeat = hb.Milliseconds()
	}
	if token == "" { // an embedder's credential: it expires, and the client refreshes it
		w.Expires = s.expireAt(ident.Expires)
	}
	s.reply(shared.TypeWelcome, id, w)
}

// expireAt arms the close of the session when its credential expires and
// returns that time in Unix ms (0: never).
func (s *session) expireAt(t time.Time) int64 {
	if s.expiry != nil {
		s.expiry.Stop()
	}
	if t.IsZero() {
		return 0
	}
	s.expiry = time.AfterFunc(time.Until(t), func() { s.kill(shared.CloseAuthExpired) })
	return t.UnixMilli()
}

// signOff releases what hello claimed: the nickname and the online mark.
func (s *session) signOff() {
	if !s.ready.Load() {
		return
	}
	if s.expiry != nil {
		s.expiry.Stop()
	}
	s.srv.releaseNick(s.member.Nick)
	s.srv.setOnline(s.member, -1)
}

// auth replaces the session's credential with a fresh one for the same
// user, without reconnecting.
func (s *session) auth(ctx context.Context, id string, a *shared.Auth) {
	ident, _, err := s.srv.identifyToken(ctx, a.Token, time.Now(), false)
	if err != nil {
		s.fail(id, err)
		return
	}
	if ident.User != s.ident.User {
		s.fail(id, shared.Errorf(shared.CodeUnauthorized, "the token is for another user"))
		return
	}
	s.remember(ident.TokenID, ident.Expires)
	ack := &shared.AuthAck{User: ident.User}
	if !strings.HasPrefix(a.Token, TokenPrefix) {
		s.ident.Expires = ident.Expires
		ack.Expires = s.expireAt(ident.Expires)
	}
	s.reply(shared.TypeAck, id, ack)
}

// nick changes the session's nickname and shows it in its rooms.
func (s *session) nick(ctx context.Context, id string, n *shared.Nick) {
	old := s.member
	if n.Nick != old.Nick {
		if err := s.srv.claimNick(ctx, old.User, n.Nick, s.verified); err != nil {
			s.fail(id, err)
			return
		}
		s.srv.releaseNick(old.Nick)
		s.mu.Lock()
		s.member.Nick = n.Nick
		rooms := make([]*room, 0, len(s.rooms))
		for _, r := range s.rooms {
			rooms = append(rooms, r)
		}
		s.mu.Unlock()
		s.srv.setOnline(s.member, 0)
		for _, r := range rooms {
			r.rename(s.member)
		}
		s.srv.pushNick(s, n.Nick) // signout.go: the user's other tabs and devices
	}
	s.reply(shared.TypeAck, id, &shared.Nick{Nick: n.Nick})
}

// joined returns the room if this session has joined it.
func (s *session) joined(name string) *room {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rooms[name]
}

// join subscribes to a room and replays what the client missed, page by
// page, before it goes live; see room.replayed for the hand-over.
func (s *session) join(ctx context.Context, id string, j *shared.Join) {
	st := s.srv.opts.Store
	if s.srv.isNewRoom(ctx, j.Room) && !s.allowCreate(id) {
		return
	}
	r, created, err := s.srv.room(ctx, j.Room)
	if err != nil {
		s.fail(id, err)
		return
	}
	defer s.srv.release(r, true)
	if err := s.srv.admit(ctx, s.ident, r); err != nil {
		s.fail(id, err)
		return
	}
	head, err := st.Head(ctx, j.Room)
	if err != nil {
		s.fail(id, err)
		return
	}
	head = max(head, r.headSeq())
	if f, ok := st.(store.Follower); ok && j.Since != nil && *j.Since > head {
		// The client saw newer messages through another node of the
		// cluster: catch up with the room's log before answering.
		if err := f.CatchUp(ctx, j.Room); err != nil {
			s.fail(id, shared.Errorf(shared.CodeUnavailable, "the room's log is not reachable; retry"))
			return
		}
		if head, err = st.Head(ctx, j.Room); err != nil {
			s.fail(id, err)
			return
		}
	}
	since := max(head-shared.DefaultRecent, 0)
	if j.Since != nil {
		if *j.Since > head {
			s.fail(id, shared.Errorf(shared.CodeInvalid, "since %d is beyond the newest message of room %q (seq %d)", *j.Since, j.Room, head))
			return
		}
		since = *j.Since
	}
	if err := st.AddMember(ctx, j.Room, s.member); err != nil {
		s.fail(id, err)
		return
	}
	s.mu.Lock()
	if s.done {
		s.mu.Unlock()
		return
	}
	s.rooms[j.Room] = r
	s.mu.Unlock()
	r.add(s, since)
	if created {
		s.srv.roomsChanged()
	}
	if r.access().Kind != shared.RoomPublic {
		// A remove between admit and the subscription above came too
		// early for its evict to see this session: check again, now that
		// a later evict would.
		if err := s.srv.admit(ctx, s.ident, r); err != nil {
			s.mu.Lock()
			if s.rooms[j.Room] == r {
				delete(s.rooms, j.Room)
			}
			s.mu.Unlock()
			r.remove(s)
			s.fail(id, err)
			return
		}
	}

	ack := &shared.JoinAck{Room: j.Room}
	s.fillJoinRead(ctx, ack, head) // read.go
	cursor := since
	const page = 100
	for {
		msgs, err := st.After(store.WithViewer(ctx, s.member.User), j.Room, cursor, page) // Me for this user
		if err != nil {
			s.fail(id, err)
			return
		}
		for i := range msgs {
			frame, err := shared.Encode(shared.FrameTypeOf(&msgs[i]), "", &msgs[i])
			if err != nil {
				continue
			}
			if err := s.q.enqueueWait(ctx, frame); err != nil {
				return
			}
			cursor = msgs[i].Seq
			if ack.First == 0 {
				ack.First = cursor
			}
		}
		if len(msgs) == page {
			continue
		}
		// After the reads: pruning only grows, so nothing removed before
		// them goes unsignalled; and the replay skips what is gone (age
		// retention may remove every message up to the head).
		if ack.PrunedBefore = s.srv.prunedBefore(ctx, j.Room, since+1); ack.PrunedBefore > 0 {
			cursor = max(cursor, ack.PrunedBefore-1)
		}
		acked := false
		live := r.replayed(s, cursor, func() []byte {
			acked = true
			ack.Head = max(cursor, r.head)
			b, _ := shared.Encode(shared.TypeAck, id, ack)
			return b
		})
		if live {
			if !acked { // removed from the room meanwhile (evict)
				s.fail(id, shared.Errorf(shared.CodeForbidden, "access to room %q was taken away", j.Room))
			}
			return
		}
	}
}

func (s *session) leave(id string, l *shared.Leave) {
	s.mu.Lock()
	r := s.rooms[l.Room]
	delete(s.rooms, l.Room)
	s.mu.Unlock()
	if r == nil {
		s.fail(id, shared.Errorf(shared.CodeNotJoined, "not a member of room %q", l.Room))
		return
	}
	r.remove(s)
	s.reply(shared.TypeAck, id, &shared.Leave{Room: l.Room})
}

func (s *session) history(ctx context.Context, id string, h *shared.History) {
	r := s.joined(h.Room)
	if r == nil {
		s.fail(id, shared.Errorf(shared.CodeNotJoined, "join room %q before reading its history", h.Room))
		return
	}
	if err := s.srv.authorizeMember(ctx, s.ident, ActionRead, r); err != nil {
		s.fail(id, err)
		return
	}
	msgs, err := s.srv.opts.Store.Before(store.WithViewer(ctx, s.member.User), h.Room, h.Before, h.Limit) // Me for this user
	if err != nil {
		s.fail(id, err)
		return
	}
	if msgs == nil {
		msgs = []shared.Message{}
	}
	oldest := int64(1) // the oldest seq the request could reach
	if len(msgs) > 0 {
		oldest = msgs[0].Seq
	}
	ack := &shared.HistoryAck{Room: h.Room, Messages: msgs, PrunedBefore: s.srv.prunedBefore(ctx, h.Room, oldest-1)}
	ack.More = oldest > max(1, ack.PrunedBefore)
	s.reply(shared.TypeAck, id, ack)
}
