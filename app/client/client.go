package client

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"github.com/duplex-chat/duplex/shared"
)

// ErrClosed is returned by calls on a closed Client.
var ErrClosed = errors.New("duplex client: closed")

// ErrOffline is returned by requests that need a live connection.
var ErrOffline = errors.New("duplex client: offline")

// Options configure a Client. Zero values pick the documented defaults.
type Options struct {
	// Nick is the display name sent in hello. Required.
	Nick string
	// Token is a credential to present in hello, e.g. a JWT from the
	// application's backend. Empty means the token the server issued to
	// this Storage before, or, the first time, a new anonymous identity.
	Token string
	// TokenSource, when set, is asked for a fresh credential before each
	// connection and shortly before the current one expires (the server
	// says when in welcome); the client then refreshes it over the open
	// socket with an auth request, without reconnecting.
	TokenSource func(ctx context.Context) (string, error)
	// Storage keeps the outbox, cursors, cached messages and user id.
	// Nil means in-memory.
	Storage Storage
	// MinBackoff and MaxBackoff bound the reconnect delay, which doubles
	// after each failed attempt, with full jitter, and resets once a
	// session is welcomed. Zero means 250ms and 10s.
	MinBackoff, MaxBackoff time.Duration
	// DialTimeout bounds one connection attempt. Zero means 10s.
	DialTimeout time.Duration
	// CacheSize is how many recent messages per room are kept in Storage
	// for an instant display after a reload. Zero means 200; negative
	// keeps none, in Storage or in memory (bots and load generators): only
	// the cursors, and Messages stays empty.
	CacheSize int
	// KeepMessages bounds the messages of one room held in memory (the
	// live tail and the pages History loaded); beyond it the oldest are
	// dropped (History loads them again). Zero means 10,000.
	KeepMessages int
	// HTTPHeader is sent with the handshake (native only; browsers ignore it).
	HTTPHeader Header
	// OnEvent, when set, receives every event synchronously on the
	// client's own goroutine instead of through Events (which then stays
	// empty): one goroutine hand-off less per message, for bots and load
	// generators. It must return quickly and must not wait on the client
	// (Send is fine; SendWait, Join and History are not).
	OnEvent func(Event)
	// Compression offers permessage-deflate (native only; browsers
	// negotiate it themselves). Zero means off.
	Compression websocket.CompressionMode
	// HTTPClient makes the handshake request (native only), e.g. to pick
	// a source address. Nil means http.DefaultClient.
	HTTPClient *HTTPClient
}

// Client is a connection to a Duplex server that survives disconnects.
type Client struct {
	url    string
	opts   Options
	events chan Event
	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}

	mu        sync.Mutex
	conn      *websocket.Conn // nil while offline
	wq        *writeQueue     // conn's ordered queue for joins and sends
	state     State
	user      string
	token     string // the server-issued credential, kept in Storage
	nick      string // the nickname the server accepted
	fatal     error  // a hello refusal that reconnecting would not cure
	refresh   *time.Timer
	rooms     map[string]*roomState
	outbox    []Pending
	outboxN   int64                        // orders this client's entries; see Pending.N
	outboxTS  int64                        // the TS of this client's newest entry
	waits     map[string]*waiter           // this connection's requests by id; see requests.go
	sendWaits map[string]chan shared.Frame // SendWait callers by msg_id; see outbox.go
	nextID    uint64
	heard     atomic.Int64 // when a frame was last read, Unix ns; see heartbeat
	dirty     *time.Timer  // debounced save of cursors and cache
	retry     retryWait    // the pause before the next connection attempt
	drop      func()       // ends the current session's reads; see Reconnect
	pace      pacer        // the outbox's flow on this connection: pace.go
	// undelivered is set when a MessageReceived could not be emitted
	// (closed with a full buffer): later messages are dropped, not counted.
	undelivered bool

	reads readBook // read markers and unread counts: read.go
}

type roomState struct {
	Last int64 `json:"last"` // newest seq delivered to the app
	// Cache is the newest CacheSize messages, written only while saving
	// (persist.go): in memory the room's messages are msgs.
	Cache []shared.Message `json:"cache,omitempty"`
	// Synced is set once a join succeeded: from then on Last is a cursor
	// to resume from even when it is 0 (the room was empty), so a rejoin
	// sends since 0 and gets every message, not only the latest 50.
	Synced bool `json:"synced,omitempty"`

	// msgs is the one copy of the room's messages the client holds (see
	// messages.go): ascending seq, copy-on-write.
	msgs []shared.Message

	wanted  bool
	live    bool
	resumed bool          // the join under way named a since
	liveCh  chan struct{} // closed when the current join completes
	joinErr error
	members map[string]shared.Member // nil in a large room: see count
	count   int                      // members, as the server last said
	typists []shared.Member          // who the server says types here, without this user
	typed   time.Time                // when this client last said it types here
}

// New returns a Client that connects to url (ws:// or wss://) in the
// background and keeps reconnecting until Close. Read Events: the client
// blocks when nobody drains them.
func New(url string, opts *Options) (*Client, error) {
	o := Options{}
	if opts != nil {
		o = *opts
	}
	if err := shared.ValidNick(o.Nick); err != nil {
		return nil, err
	}
	if o.Storage == nil {
		o.Storage = &Memory{}
	}
	o.Storage = &gatedStorage{Storage: o.Storage} // signout.go
	if o.MinBackoff <= 0 {
		o.MinBackoff = 250 * time.Millisecond
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = 10 * time.Second
	}
	if o.DialTimeout <= 0 {
		o.DialTimeout = 10 * time.Second
	}
	if o.CacheSize == 0 {
		o.CacheSize = 200
	}
	if o.KeepMessages <= 0 {
		o.KeepMessages = 10000
	}
	ctx, cancel := context.WithCancel(context.Background())
	c := &Client{
		url: url, opts: o, ctx: ctx, cancel: cancel,
		events:    make(chan Event, 1024),
		done:      make(chan struct{}),
		state:     StateConnecting,
		nick:      o.Nick,
		rooms:     make(map[string]*roomState),
		waits:     make(map[string]*waiter),
		sendWaits: make(map[string]chan shared.Frame),
	}
	c.load()
	go c.loop()
	return c, nil
}

// Dial is New followed by waiting until the first session is welcomed.
func Dial(ctx context.Context, url string, opts *Options) (*Client, error) {
	c, err := New(url, opts)
	if err != nil {
		return nil, err
	}
	for {
		c.mu.Lock()
		online := c.state == StateOnline
		c.mu.Unlock()
		if online {
			return c, nil
		}
		select {
		case <-ctx.Done():
			c.Close()
			return nil, fmt.Errorf("duplex client: dial %s: %w", url, ctx.Err())
		case <-c.done:
			c.mu.Lock()
			err := c.fatal
			c.mu.Unlock()
			if err != nil {
				return nil, err
			}
			return nil, ErrClosed
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// locked returns what get reads under mu.
func locked[T any](mu *sync.Mutex, get func() T) T {
	mu.Lock()
	defer mu.Unlock()
	return get()
}

// Events delivers every event in order, unless Options.OnEvent is set. It
// is closed after Close.
func (c *Client) Events() <-chan Event { return c.events }

// User returns the user id the server assigned (empty before the first
// welcome). It is kept in Storage, so a reload keeps the same identity.
func (c *Client) User() string { return locked(&c.mu, func() string { return c.user }) }

// State returns the connection state.
func (c *Client) State() State { return locked(&c.mu, func() State { return c.state }) }

// Close ends the connection and stops reconnecting. Unacknowledged sends
// stay in Storage for the next Client.
func (c *Client) Close() error {
	c.cancel()
	c.mu.Lock()
	conn := c.conn
	c.mu.Unlock()
	if conn != nil {
		conn.Close(websocket.StatusNormalClosure, "client closed")
	}
	<-c.done
	c.mu.Lock()
	c.saveRoomsLocked()
	c.mu.Unlock()
	return nil
}

// Members returns the current members of a joined room, sorted by nick.
// It is empty for a room larger than the server's presence threshold,
// which sends only its MemberCount: page such a room with MembersPage.
func (c *Client) Members(room string) []shared.Member {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.membersLocked(room)
}

func (c *Client) membersLocked(room string) []shared.Member {
	rs := c.rooms[room]
	if rs == nil {
		return nil
	}
	out := make([]shared.Member, 0, len(rs.members))
	for _, m := range rs.members {
		out = append(out, m)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Nick < out[j].Nick })
	return out
}

// MemberCount returns the number of members of a joined room, as the
// server last said (0 before the join completes).
func (c *Client) MemberCount(room string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.memberCountLocked(room)
}

func (c *Client) memberCountLocked(room string) int {
	if rs := c.rooms[room]; rs != nil {
		return rs.count
	}
	return 0
}

// MembersPage asks the server for up to limit members of a joined room
// whose user id sorts after after ("" for the first page), in user id
// order, and whether more follow: the member list of a large room.
func (c *Client) MembersPage(ctx context.Context, room, after string, limit int) ([]shared.Member, bool, error) {
	ack, err := ask[shared.MembersAck](ctx, c, shared.TypeMembers, &shared.Members{Room: room, After: after, Limit: limit})
	return ack.Members, ack.More, err
}

// Join subscribes to room and waits until its replay is complete. The
// room stays joined across reconnects; if ctx ends first the join still
// completes in the background.
func (c *Client) Join(ctx context.Context, room string) error {
	if err := shared.ValidRoom(room); err != nil {
		return err
	}
	c.mu.Lock()
	rs := c.roomLocked(room)
	if !rs.wanted {
		rs.wanted = true
		rs.live = false
		rs.joinErr = nil
		rs.liveCh = make(chan struct{})
		if c.conn != nil && c.state == StateOnline {
			c.sendJoinLocked(room, rs)
		}
	}
	ch := rs.liveCh
	c.mu.Unlock()
	select {
	case <-ch:
		c.mu.Lock()
		err := rs.joinErr
		c.mu.Unlock()
		return err
	case <-ctx.Done():
		return ctx.Err()
	case <-c.done:
		return ErrClosed
	}
}

// Leave unsubscribes from room.
func (c *Client) Leave(ctx context.Context, room string) error {
	c.mu.Lock()
	if rs := c.rooms[room]; rs != nil {
		rs.wanted, rs.live = false, false
		rs.members, rs.count = nil, 0
	}
	evs := c.dropRoomLocked(room, shared.Errorf(shared.CodeNotJoined, "left room %q before this was sent", room))
	c.mu.Unlock()
	c.emitAll(evs)
	_, err := c.request(ctx, shared.TypeLeave, &shared.Leave{Room: room})
	return err
}

// Rooms asks the server for its room list.
func (c *Client) Rooms(ctx context.Context) ([]shared.RoomInfo, error) {
	f, err := c.request(ctx, shared.TypeRooms, &shared.Rooms{})
	if err != nil {
		return nil, err
	}
	if l, ok := f.Payload.(*shared.RoomList); ok {
		return l.Rooms, nil
	}
	_, err = decodeAnswer[struct{}](f)
	return nil, err
}

func (c *Client) roomLocked(room string) *roomState {
	rs := c.rooms[room]
	if rs == nil {
		rs = &roomState{}
		c.rooms[room] = rs
	}
	if rs.liveCh == nil {
		rs.liveCh = make(chan struct{})
	}
	return rs
}

// emit delivers ev, blocking while the buffer is full; it reports false
// when the client closed first. While the buffer has room ev is delivered
// even after Close: a state change (cursor, outbox) is never made without
// the event that reports it just because Close raced with it.
func (c *Client) emit(ev Event) bool {
	if c.opts.OnEvent != nil {
		c.opts.OnEvent(ev)
		return true
	}
	select {
	case c.events <- ev:
		return true
	default:
	}
	select {
	case c.events <- ev:
		return true
	case <-c.ctx.Done():
		return false
	}
}
