package client

import (
	"context"
	cryptorand "crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"sync"
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
	// keeps none (bots and load generators), only the cursors.
	CacheSize int
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

	mu      sync.Mutex
	conn    *websocket.Conn // nil while offline
	wq      *writeQueue     // conn's ordered queue for joins and sends
	state   State
	user    string
	token   string // the server-issued credential, kept in Storage
	nick    string // the nickname the server accepted
	fatal   error  // a hello refusal that reconnecting would not cure
	refresh *time.Timer
	rooms   map[string]*roomState
	outbox  []Pending
	waits   map[string]*waiter // pending requests by id
	nextID  uint64
	dirty   *time.Timer // debounced save of cursors and cache
	retry   retryWait   // the pause before the next connection attempt
	pace    pacer       // sends refused with rate_limited; see pace.go
	// undelivered is set when a MessageReceived could not be emitted
	// (closed with a full buffer): later messages are dropped, not counted.
	undelivered bool

	reads readBook // read markers and unread counts: read.go
}

// Pending is an unacknowledged send held in the outbox.
type Pending struct {
	Room  string `json:"room"`
	MsgID string `json:"msg_id"`
	Body  string `json:"body"`
	TS    int64  `json:"ts"` // client time it was written, Unix ms
	// ReplyTo is the seq of the message this one replies to (Reply).
	ReplyTo int64 `json:"reply_to,omitempty"`
	// Image is the id of an uploaded image the message carries (SendImage).
	Image string `json:"image,omitempty"`
}

type roomState struct {
	Last  int64            `json:"last"`  // newest seq delivered to the app
	Cache []shared.Message `json:"cache"` // most recent messages, ascending
	// Synced is set once a join succeeded: from then on Last is a cursor
	// to resume from even when it is 0 (the room was empty), so a rejoin
	// sends since 0 and gets every message, not only the latest 50.
	Synced bool `json:"synced,omitempty"`

	wanted  bool
	live    bool
	liveCh  chan struct{} // closed when the current join completes
	joinErr error
	members map[string]shared.Member // nil in a large room: see count
	count   int                      // members, as the server last said
}

type waiter struct {
	kind  shared.Type
	room  string
	msgID string
	ch    chan shared.Frame
}

// savedOutbox is what Storage keeps under outboxKey, written at once on
// every change: a send must survive a reload from the moment Send returns.
type savedOutbox struct {
	User   string    `json:"user"`
	Token  string    `json:"token,omitempty"`
	Outbox []Pending `json:"outbox"`
}

// Storage keys. Rooms (cursors and cached messages) are larger and change
// with every message received, so they are saved apart and debounced.
const (
	outboxKey = "duplex.outbox.v1"
	roomsKey  = "duplex.rooms.v1"
)

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
	ctx, cancel := context.WithCancel(context.Background())
	c := &Client{
		url: url, opts: o, ctx: ctx, cancel: cancel,
		events: make(chan Event, 1024),
		done:   make(chan struct{}),
		state:  StateConnecting,
		nick:   o.Nick,
		rooms:  make(map[string]*roomState),
		waits:  make(map[string]*waiter),
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

// Events delivers every event in order, unless Options.OnEvent is set. It
// is closed after Close.
func (c *Client) Events() <-chan Event { return c.events }

// User returns the user id the server assigned (empty before the first
// welcome). It is kept in Storage, so a reload keeps the same identity.
func (c *Client) User() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.user
}

// State returns the connection state.
func (c *Client) State() State {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.state
}

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

// Cached returns the messages of room held from earlier sessions or this
// one, oldest first: what a UI shows before the server has answered.
func (c *Client) Cached(room string) []shared.Message {
	c.mu.Lock()
	defer c.mu.Unlock()
	if rs := c.rooms[room]; rs != nil {
		return append([]shared.Message(nil), rs.Cache...)
	}
	return nil
}

// Outbox returns the sends not yet acknowledged, oldest first.
func (c *Client) Outbox() []Pending {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Pending(nil), c.outbox...)
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
	f, err := c.request(ctx, shared.TypeMembers, &shared.Members{Room: room, After: after, Limit: limit})
	if err != nil {
		return nil, false, err
	}
	ack, err := decodeAnswer[shared.MembersAck](f)
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
	c.mu.Unlock()
	_, err := c.request(ctx, shared.TypeLeave, &shared.Leave{Room: room})
	return err
}

// Send validates body, puts the message in the outbox (and Storage) and
// sends it when the room is live. It returns the msg_id at once; the
// outcome arrives as MessageAcked or MessageFailed. The room must have been
// joined.
func (c *Client) Send(room, body string) (string, error) {
	return c.send(room, body, 0, nil)
}

// SendWait is Send followed by waiting for the ack. If ctx ends first the
// message stays in the outbox and is still delivered later.
func (c *Client) SendWait(ctx context.Context, room, body string) (shared.SendAck, error) {
	ch := make(chan shared.Frame, 1)
	id, err := c.send(room, body, 0, ch)
	if err != nil {
		return shared.SendAck{}, err
	}
	defer func() {
		c.mu.Lock()
		delete(c.waits, "w:"+id)
		c.mu.Unlock()
	}()
	select {
	case f := <-ch:
		return decodeAnswer[shared.SendAck](f)
	case <-ctx.Done():
		return shared.SendAck{}, ctx.Err()
	case <-c.done:
		return shared.SendAck{}, ErrClosed
	}
}

// send queues a message (a reply when replyTo is not 0); a non-nil done
// receives its final answer.
func (c *Client) send(room, body string, replyTo int64, done chan shared.Frame) (string, error) {
	if err := shared.ValidBody(body); err != nil {
		return "", err
	}
	return c.queue(Pending{Room: room, MsgID: newMsgID(), Body: body, TS: time.Now().UnixMilli(), ReplyTo: replyTo}, done)
}

// queue puts p in the outbox and sends it when its room is live.
func (c *Client) queue(p Pending, done chan shared.Frame) (string, error) {
	room := p.Room
	if err := shared.ValidRoom(room); err != nil {
		return "", err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	rs := c.rooms[room]
	if rs == nil || !rs.wanted {
		return "", shared.Errorf(shared.CodeNotJoined, "join room %q before sending to it", room)
	}
	if done != nil {
		c.waits["w:"+p.MsgID] = &waiter{kind: shared.TypeSend, ch: done}
	}
	c.outbox = append(c.outbox, p)
	c.saveLocked()
	switch {
	case rs.live && c.pace.active():
		c.pace.held[p.MsgID] = true // behind the refused ones, in order
		c.paceNextLocked()
	case rs.live:
		c.sendPendingLocked(p)
	}
	return p.MsgID, nil
}

// History returns up to limit messages of a joined room older than before
// (0: the newest), oldest first, and whether older ones exist.
func (c *Client) History(ctx context.Context, room string, before int64, limit int) (shared.HistoryAck, error) {
	f, err := c.request(ctx, shared.TypeHistory, &shared.History{Room: room, Before: before, Limit: limit})
	if err != nil {
		return shared.HistoryAck{}, err
	}
	return decodeAnswer[shared.HistoryAck](f)
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

// request sends a request on the live connection and waits for its answer.
func (c *Client) request(ctx context.Context, t shared.Type, payload any) (shared.Frame, error) {
	return c.requestAs(ctx, t, t, payload)
}

// requestAs is request with the waiter's kind given apart: a send that is
// not an outbox entry (an event) must not be answered as one.
func (c *Client) requestAs(ctx context.Context, kind, t shared.Type, payload any) (shared.Frame, error) {
	return c.requestMessage(ctx, kind, func(conn *websocket.Conn, id string) error { return c.write(conn, t, id, payload) })
}

// requestMessage is requestAs with a writer of its own: write sends the
// request with id on conn (a binary upload, see upload.go).
func (c *Client) requestMessage(ctx context.Context, kind shared.Type, write func(conn *websocket.Conn, id string) error) (shared.Frame, error) {
	c.mu.Lock()
	conn := c.conn
	if conn == nil || c.state != StateOnline {
		c.mu.Unlock()
		return shared.Frame{}, ErrOffline
	}
	c.nextID++
	id := "r" + strconv.FormatUint(c.nextID, 10)
	w := &waiter{kind: kind, ch: make(chan shared.Frame, 1)}
	c.waits[id] = w
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		delete(c.waits, id)
		c.mu.Unlock()
	}()
	if err := write(conn, id); err != nil {
		return shared.Frame{}, err
	}
	select {
	case f, ok := <-w.ch:
		if !ok {
			return shared.Frame{}, ErrOffline
		}
		return f, nil
	case <-ctx.Done():
		return shared.Frame{}, ctx.Err()
	case <-c.done:
		return shared.Frame{}, ErrClosed
	}
}

// decodeAnswer turns an ack into T, or an error frame into *shared.Error.
func decodeAnswer[T any](f shared.Frame) (T, error) {
	var v T
	if e, ok := f.Payload.(*shared.ErrorFrame); ok {
		return v, &shared.Error{Code: e.Code, Message: e.Message, RetryAfter: time.Duration(e.RetryAfter) * time.Millisecond}
	}
	err := shared.DecodeAck(f, &v)
	return v, err
}

func (c *Client) write(conn *websocket.Conn, t shared.Type, id string, payload any) error {
	b, err := shared.Encode(t, id, payload)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(c.ctx, 10*time.Second)
	defer cancel()
	return conn.Write(ctx, websocket.MessageText, b)
}

// writeQueue is one connection's outgoing queue for joins and sends. A
// single goroutine writes it in order, so the outbox (resent after every
// reconnect) reaches the server, and is stored, in the order it was sent.
type writeQueue struct {
	conn   *websocket.Conn
	frames [][]byte      // guarded by Client.mu
	wake   chan struct{} // capacity 1
}

// writeAsync queues a frame for conn without blocking; c.mu must be held.
// Write errors surface as a disconnect.
func (c *Client) writeAsync(conn *websocket.Conn, t shared.Type, id string, payload any) {
	q := c.wq
	if q == nil || q.conn != conn {
		return // that connection is gone: the next session resends
	}
	b, err := shared.Encode(t, id, payload)
	if err != nil {
		return
	}
	q.frames = append(q.frames, b)
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// writeLoop writes q's frames in order until ctx ends or a write fails.
func (c *Client) writeLoop(ctx context.Context, q *writeQueue) {
	for {
		select {
		case <-q.wake:
		case <-ctx.Done():
			return
		}
		c.mu.Lock()
		frames := q.frames
		q.frames = nil
		c.mu.Unlock()
		for _, b := range frames {
			wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			err := q.conn.Write(wctx, websocket.MessageText, b)
			cancel()
			if err != nil {
				q.conn.CloseNow()
				return
			}
		}
	}
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
	defer c.trackRead(ev) // unread counts follow what the app is told: read.go
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

// newMsgID returns a random msg_id: 96 bits make collisions negligible.
func newMsgID() string {
	var b [12]byte
	cryptorand.Read(b[:])
	return "m" + hex.EncodeToString(b[:])
}

// load restores the saved state from Storage. A corrupt entry is
// dropped, not fatal.
func (c *Client) load() {
	if raw, ok := c.opts.Storage.Get(outboxKey); ok {
		var s savedOutbox
		if json.Unmarshal([]byte(raw), &s) == nil {
			c.user, c.token, c.outbox = s.User, s.Token, s.Outbox
		}
	}
	if raw, ok := c.opts.Storage.Get(roomsKey); ok {
		var rooms map[string]*roomState
		if json.Unmarshal([]byte(raw), &rooms) == nil {
			for name, rs := range rooms {
				if rs != nil && shared.ValidRoom(name) == nil {
					c.rooms[name] = rs
				}
			}
		}
	}
}

// saveLocked writes the outbox and user id to Storage now.
func (c *Client) saveLocked() {
	if b, err := json.Marshal(savedOutbox{User: c.user, Token: c.token, Outbox: c.outbox}); err == nil {
		c.opts.Storage.Set(outboxKey, string(b))
	}
}

// saveRoomsLocked writes the cursors and cached messages now.
func (c *Client) saveRoomsLocked() {
	if c.dirty != nil {
		c.dirty.Stop()
		c.dirty = nil
	}
	if b, err := json.Marshal(c.rooms); err == nil {
		c.opts.Storage.Set(roomsKey, string(b))
	}
}

// saveSoonLocked coalesces the saves that received messages cause.
func (c *Client) saveSoonLocked() {
	if c.dirty != nil {
		return
	}
	c.dirty = time.AfterFunc(200*time.Millisecond, func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		c.saveRoomsLocked()
	})
}
