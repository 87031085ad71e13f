// Package server is the Duplex server library: an http.Handler that accepts
// WebSocket connections speaking the shared protocol, keeps rooms and
// presence, commits messages to a store.Store and fans them out through a
// broker.Broker.
//
// Mount it on any mux:
//
//	srv, _ := server.New(&server.Options{Store: st})
//	mux.Handle("/ws", srv)
//	defer srv.Shutdown(ctx)
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/duplex-chat/duplex/server/store"
	"github.com/duplex-chat/duplex/shared"
)

// storeErrorLogInterval is the most often a failing store is logged.
const storeErrorLogInterval = 10 * time.Second

// ErrClosed is returned by Shutdown when called twice.
var ErrClosed = errors.New("duplex server: closed")

// Server serves the Duplex protocol. Create it with New.
type Server struct {
	opts    Options
	log     *slog.Logger
	metrics *metrics
	conns   connCounter // open connections, for the caps
	// storeErrs summarises failed commits in the log; see errlog.go.
	storeErrs *errorSummary

	commits      chan *sendRequest
	quit         chan struct{} // closed when the committer should stop
	committerEnd chan struct{}
	unsubscribe  func()

	mu            sync.Mutex
	closing       bool
	roomListTimer *time.Timer // pending pushRoomList
	rooms         map[string]*room
	sessions      map[*session]struct{}
	users         map[string]*online   // by user id: who is online on this node
	nicks         map[string]*nickHold // by shared.NickKey: nicknames in use
	wg            sync.WaitGroup       // one per live session

	limMu    sync.Mutex             // guards limUsers; never held with mu
	limUsers map[string]*userLimits // per-user limiters; see limits.go

	prunerEnd chan struct{} // closed when the retention loop stopped

	uploads *uploadState // budgets, quotas and the unused-upload sweep; see upload.go

	searches chan struct{} // one token per search running; see search.go

	// credMem keeps revocations and reserved nicknames when the store
	// does not (signout.go).
	credMem store.MemoryCredentials
}

// New returns a Server ready to be mounted as an http.Handler.
func New(opts *Options) (*Server, error) {
	o := opts.withDefaults()
	srv := &Server{
		opts:         o,
		log:          o.Logger,
		commits:      make(chan *sendRequest, 4096),
		quit:         make(chan struct{}),
		committerEnd: make(chan struct{}),
		rooms:        make(map[string]*room),
		sessions:     make(map[*session]struct{}),
		users:        make(map[string]*online),
		nicks:        make(map[string]*nickHold),
		limUsers:     make(map[string]*userLimits),
		prunerEnd:    make(chan struct{}),
		uploads:      newUploadState(o),
		searches:     make(chan struct{}, o.MaxSearches),
	}
	m, err := newMetrics(srv, o.Metrics)
	if err != nil {
		return nil, fmt.Errorf("duplex server: register metrics: %w", err)
	}
	srv.metrics = m
	srv.storeErrs = &errorSummary{log: o.Logger, what: "store append", interval: storeErrorLogInterval}
	srv.unsubscribe = o.Broker.Subscribe(srv.deliver)
	go srv.commitLoop()
	go srv.pingLoop()
	go srv.userJanitor()
	if o.Peers != nil {
		go srv.peerBeat() // peers.go
	}
	go srv.pruneLoop()
	go srv.sweepUploads() // upload.go
	return srv, nil
}

// Store returns the history store the server writes to.
func (srv *Server) Store() store.Store { return srv.opts.Store }

// Shutdown stops accepting connections, flushes every connection's queued
// frames, closes each with 1012 (service restart: clients reconnect and
// resume), and waits for pending commits. It does not close the store.
func (srv *Server) Shutdown(ctx context.Context) error {
	srv.mu.Lock()
	if srv.closing {
		srv.mu.Unlock()
		return ErrClosed
	}
	srv.closing = true
	if srv.roomListTimer != nil {
		srv.roomListTimer.Stop()
	}
	for sess := range srv.sessions {
		sess.close(shared.CloseServiceRestart, "", drainQueue)
	}
	srv.mu.Unlock()

	done := make(chan struct{})
	go func() { srv.wg.Wait(); close(done) }()
	var err error
	select {
	case <-done:
	case <-ctx.Done():
		err = ctx.Err()
		srv.mu.Lock()
		for sess := range srv.sessions {
			sess.close(0, "", abrupt)
		}
		srv.mu.Unlock()
	}
	close(srv.quit)
	<-srv.committerEnd
	<-srv.prunerEnd
	<-srv.uploads.sweeperEnd
	srv.unsubscribe()
	return err
}

// deliver is the broker callback: encode the message once and hand the same
// bytes to every member of its room on this node.
func (srv *Server) deliver(msg shared.Message) {
	srv.mu.Lock()
	r := srv.rooms[msg.Room]
	srv.mu.Unlock()
	if r == nil {
		return
	}
	frame, err := shared.Encode(shared.FrameTypeOf(&msg), "", &msg) // a reaction change goes as a reaction frame
	if err != nil {
		srv.log.Error("encode message", "err", err)
		return
	}
	r.deliver(msg.Seq, frame)
}

// room returns the room called name, creating its in-memory state on first
// use, and holds it for a join: the caller calls release(r, true) once the
// session is a member or gave up, so that the room is not dropped in
// between. created reports whether this call created it.
func (srv *Server) room(ctx context.Context, name string) (r *room, created bool, err error) {
	if r = srv.heldRoom(name); r != nil {
		return r, false, nil
	}
	// Store reads happen outside the server-wide lock, which every join,
	// leave and delivery takes; a second reader of the same room may race
	// this one, and the first to insert wins.
	head, err := srv.opts.Store.Head(ctx, name)
	if err != nil {
		return nil, false, err
	}
	meta, exists, err := srv.opts.Store.Room(ctx, name)
	if err != nil {
		return nil, false, err
	}
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if r = srv.rooms[name]; r != nil {
		r.refs++
		return r, false, nil
	}
	r = newRoom(srv, name, head)
	r.refs++
	if exists {
		r.setMeta(meta)
	}
	srv.rooms[name] = r
	r.peerStart() // peers.go
	return r, true, nil
}

// heldRoom returns the room in memory called name, holding it, or nil.
func (srv *Server) heldRoom(name string) *room {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	r := srv.rooms[name]
	if r != nil {
		r.refs++
	}
	return r
}

// release ends a hold taken by room (held) or reports that r lost its last
// member, and drops r from the server when it has neither members nor
// joins under way: an empty room costs no memory. Its head is in the store.
func (srv *Server) release(r *room, held bool) {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if held {
		r.refs--
	}
	if r.refs > 0 || srv.rooms[r.name] != r {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.members) == 0 {
		r.stopPresenceLocked()
		r.stopTypingLocked()
		delete(srv.rooms, r.name)
		r.peerStop()
		srv.publishPeer("room."+r.name, peerMsg{Kind: peerMembers}) // none left here
	}
}

// RoomsInMemory returns how many rooms have live state on this node: those
// with members or joins under way.
func (srv *Server) RoomsInMemory() int {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	return len(srv.rooms)
}

// roomList builds the page of the room list id may see, with live member
// counts and the nicknames of DM peers.
func (srv *Server) roomList(ctx context.Context, id Identity, q *shared.Rooms) (*shared.RoomList, error) {
	limit := q.Limit
	if limit == 0 {
		limit = shared.DefaultRooms
	}
	infos, err := srv.opts.Store.Rooms(ctx, store.RoomQuery{User: id.User, Before: q.Before, Limit: limit})
	if err != nil {
		return nil, err
	}
	list := &shared.RoomList{Rooms: make([]shared.RoomInfo, 0, len(infos))}
	if len(infos) == limit {
		list.Next = infos[len(infos)-1].Active
	}
	for _, info := range infos {
		acc := RoomAccess{Name: info.Name, Kind: info.Kind.OrPublic(), Owner: info.Owner, Exists: true, Member: info.Kind != ""}
		if srv.opts.Authorize(ctx, id, ActionList, acc) != nil {
			continue
		}
		if info.Peer != nil {
			info.Peer = srv.member(ctx, info.Peer.User)
		}
		list.Rooms = append(list.Rooms, info)
	}
	srv.fillRoomReads(ctx, id.User, list.Rooms) // read.go
	srv.mu.Lock()
	defer srv.mu.Unlock()
	for i := range list.Rooms {
		if r := srv.rooms[list.Rooms[i].Name]; r != nil {
			list.Rooms[i].Members = r.memberCount()
			list.Rooms[i].Head = max(list.Rooms[i].Head, r.headSeq())
		}
	}
	return list, nil
}

// member returns what is known of a user: online first, then the store.
func (srv *Server) member(ctx context.Context, user string) *shared.Member {
	srv.mu.Lock()
	o := srv.users[user]
	srv.mu.Unlock()
	if o != nil {
		m := o.member
		return &m
	}
	if m, ok, err := srv.opts.Store.User(ctx, user); err == nil && ok {
		return &m
	}
	return &shared.Member{User: user}
}

// roomListDelay coalesces room-list pushes: a storm of joins produces one
// push per delay, not one per join.
const roomListDelay = 500 * time.Millisecond

// roomsChanged schedules a push of the room list (new rooms, member
// counts) to the sessions that asked for it with a rooms request.
func (srv *Server) roomsChanged() {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if srv.roomListTimer != nil || srv.closing {
		return
	}
	srv.roomListTimer = time.AfterFunc(roomListDelay, srv.pushRoomList)
}

func (srv *Server) pushRoomList() {
	srv.mu.Lock()
	srv.roomListTimer = nil
	srv.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// Each user sees a list of their own (their private rooms and DMs):
	// one query per user online who asked for the list, not per session.
	byUser := make(map[string][]*session)
	srv.mu.Lock()
	for sess := range srv.sessions {
		if sess.wantsRooms.Load() {
			byUser[sess.member.User] = append(byUser[sess.member.User], sess)
		}
	}
	srv.mu.Unlock()
	for _, sessions := range byUser {
		list, err := srv.roomList(ctx, sessions[0].ident, &shared.Rooms{})
		if err != nil {
			srv.log.Warn("room list", "err", err)
			return
		}
		frame, err := shared.Encode(shared.TypeRoomList, "", list)
		if err != nil {
			return
		}
		for _, sess := range sessions {
			sess.q.enqueue(frame)
		}
	}
}
