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
	"log/slog"
	"sync"
	"time"

	"github.com/coder/websocket"
	"github.com/duplex-chat/duplex/server/broker"
	"github.com/duplex-chat/duplex/server/store"
	"github.com/duplex-chat/duplex/shared"
)

// Options configure a Server. The zero value of every field picks the
// documented default.
type Options struct {
	// Store keeps history. Nil means an in-memory store (nothing survives a
	// restart); the duplex binary passes the SQLite store.
	Store store.Store
	// Broker fans committed messages out. Nil means in-process.
	Broker broker.Broker
	// OriginPatterns lists extra host patterns (path.Match syntax, e.g.
	// "*.example.com" or "localhost:*") allowed to open a socket besides the
	// page's own origin. Nil allows the same origin only.
	OriginPatterns []string
	// QueueSize bounds each connection's outgoing queue, in frames. A live
	// frame that finds it full disconnects the client with CloseSlowClient.
	// Zero means 1024.
	QueueSize int
	// PingInterval is how often idle connections are pinged. Zero means 20s.
	PingInterval time.Duration
	// HelloTimeout is how long a connection may stay without hello. Zero
	// means 10s.
	HelloTimeout time.Duration
	// WriteTimeout bounds one write to a client. Zero means 10s.
	WriteTimeout time.Duration
	// CoalesceDelay is the shortest time between two writes to one
	// connection while frames keep coming: frames queued meanwhile go out
	// as one batch. It bounds the latency it adds; quiet connections are
	// written at once. Zero means 10ms; negative disables coalescing.
	CoalesceDelay time.Duration
	// Compression enables permessage-deflate when the client offers it.
	// Zero means websocket.CompressionDisabled.
	Compression websocket.CompressionMode
	// Logger receives connection-level events. Nil means slog.Default().
	Logger *slog.Logger
}

func (o *Options) withDefaults() Options {
	var c Options
	if o != nil {
		c = *o
	}
	if c.Store == nil {
		c.Store = store.NewMemory()
	}
	if c.Broker == nil {
		c.Broker = broker.NewMemory()
	}
	if c.QueueSize <= 0 {
		c.QueueSize = 1024
	}
	if c.PingInterval <= 0 {
		c.PingInterval = 20 * time.Second
	}
	if c.HelloTimeout <= 0 {
		c.HelloTimeout = 10 * time.Second
	}
	if c.WriteTimeout <= 0 {
		c.WriteTimeout = 10 * time.Second
	}
	if c.CoalesceDelay == 0 {
		c.CoalesceDelay = 10 * time.Millisecond
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

// ErrClosed is returned by Shutdown when called twice.
var ErrClosed = errors.New("duplex server: closed")

// Server serves the Duplex protocol. Create it with New.
type Server struct {
	opts Options
	log  *slog.Logger

	commits      chan *sendRequest
	quit         chan struct{} // closed when the committer should stop
	committerEnd chan struct{}
	unsubscribe  func()

	mu            sync.Mutex
	closing       bool
	roomListTimer *time.Timer // pending pushRoomList
	rooms         map[string]*room
	sessions      map[*session]struct{}
	wg            sync.WaitGroup // one per live session
}

// New returns a Server ready to be mounted as an http.Handler.
func New(opts *Options) (*Server, error) {
	o := opts.withDefaults()
	s := &Server{
		opts:         o,
		log:          o.Logger,
		commits:      make(chan *sendRequest, 4096),
		quit:         make(chan struct{}),
		committerEnd: make(chan struct{}),
		rooms:        make(map[string]*room),
		sessions:     make(map[*session]struct{}),
	}
	s.unsubscribe = o.Broker.Subscribe(s.deliver)
	go s.commitLoop()
	go s.pingLoop()
	return s, nil
}

// Store returns the history store the server writes to.
func (s *Server) Store() store.Store { return s.opts.Store }

// Shutdown stops accepting connections, flushes every connection's queued
// frames, closes each with 1012 (service restart: clients reconnect and
// resume), and waits for pending commits. It does not close the store.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		return ErrClosed
	}
	s.closing = true
	if s.roomListTimer != nil {
		s.roomListTimer.Stop()
	}
	for sess := range s.sessions {
		sess.drainAndClose(shared.CloseServiceRestart)
	}
	s.mu.Unlock()

	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	var err error
	select {
	case <-done:
	case <-ctx.Done():
		err = ctx.Err()
		s.mu.Lock()
		for sess := range s.sessions {
			sess.conn.CloseNow()
		}
		s.mu.Unlock()
	}
	close(s.quit)
	<-s.committerEnd
	s.unsubscribe()
	return err
}

// deliver is the broker callback: encode the message once and hand the same
// bytes to every member of its room on this node.
func (s *Server) deliver(msg shared.Message) {
	s.mu.Lock()
	r := s.rooms[msg.Room]
	s.mu.Unlock()
	if r == nil {
		return
	}
	frame, err := shared.Encode(shared.TypeMessage, "", &msg)
	if err != nil {
		s.log.Error("encode message", "err", err)
		return
	}
	r.deliver(msg.Seq, frame)
}

// room returns the room called name, creating its in-memory state on first
// use. created reports whether this call created it.
func (s *Server) room(ctx context.Context, name string) (r *room, created bool, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r = s.rooms[name]; r != nil {
		return r, false, nil
	}
	head, err := s.opts.Store.Head(ctx, name)
	if err != nil {
		return nil, false, err
	}
	r = newRoom(name, head, s.roomsChanged)
	s.rooms[name] = r
	return r, true, nil
}

// roomList builds the room list with live member counts.
func (s *Server) roomList(ctx context.Context) (*shared.RoomList, error) {
	infos, err := s.opts.Store.Rooms(ctx, 100)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range infos {
		if r := s.rooms[infos[i].Name]; r != nil {
			infos[i].Members = r.memberCount()
			infos[i].Head = max(infos[i].Head, r.headSeq())
		}
	}
	if infos == nil {
		infos = []shared.RoomInfo{}
	}
	return &shared.RoomList{Rooms: infos}, nil
}

// roomListDelay coalesces room-list pushes: a storm of joins produces one
// push per delay, not one per join.
const roomListDelay = 500 * time.Millisecond

// roomsChanged schedules a push of the room list (new rooms, member
// counts) to the sessions that asked for it with a rooms request.
func (s *Server) roomsChanged() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.roomListTimer != nil || s.closing {
		return
	}
	s.roomListTimer = time.AfterFunc(roomListDelay, s.pushRoomList)
}

func (s *Server) pushRoomList() {
	s.mu.Lock()
	s.roomListTimer = nil
	s.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	list, err := s.roomList(ctx)
	if err != nil {
		s.log.Warn("room list", "err", err)
		return
	}
	frame, err := shared.Encode(shared.TypeRoomList, "", list)
	if err != nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for sess := range s.sessions {
		if sess.wantsRooms.Load() {
			sess.enqueue(frame)
		}
	}
}
