// Package cluster makes a Duplex node a member of a cluster on NATS
// JetStream (issue #16). The log of every room lives in one JetStream
// stream, one subject per room; each node keeps its SQLite store as a
// projection of that log, which it can rebuild from the log.
//
// A change to a room (a message, an edit, a deletion, a reaction, the
// room's creation, an access grant or revoke) is planned against the
// node's projection with the store's own rules, appended to the room's
// subject with JetStream's expected-last-subject-sequence set to the last
// record of that room the projection has applied, and then applied. When
// another node appended first, JetStream refuses the append; the node
// waits until its follower has applied the room's log up to the record
// JetStream named, and plans again. So the log, not a lock, orders a room:
// every node applies the same records in the same order with the same
// rules and ends in the same state, and a msg_id resent to any node, at
// any later time, finds the original in the projection (idempotency does
// not depend on JetStream's duplicate window).
//
// The follower is one ordered consumer over every room's subject: it
// applies the records other nodes appended, and hands each new message to
// the node's local broker, which fans it out to this node's sessions.
package cluster

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nuid"

	"github.com/duplex-chat/duplex/server"
	"github.com/duplex-chat/duplex/server/broker"
	"github.com/duplex-chat/duplex/server/store"
	"github.com/duplex-chat/duplex/server/store/sqlite"
	"github.com/duplex-chat/duplex/shared"
)

// Config says how a node joins the cluster.
type Config struct {
	// URL is the NATS server list (comma-separated), as nats.Connect takes.
	URL string
	// Stream is the JetStream stream of room logs (default DUPLEX_ROOMS),
	// Subject its subject prefix (default duplex.room): room r's log is
	// Subject + "." + r.
	Stream, Subject string
	// Replicas is the stream's replication factor: 3 on a three-server
	// NATS cluster (an append is acknowledged when a quorum has it), 1 for
	// one NATS server. Default 1.
	Replicas int
	// Duplicates is JetStream's duplicate window. Duplex does not depend
	// on it (see the package comment); default 2 minutes.
	Duplicates time.Duration
	// Files names the object store and the key-value bucket of uploaded
	// images (Node.Files; default DUPLEX_FILES).
	Files string
	// Name names this node in logs and in NATS.
	Name string
	// CatchUp is how long an append waits for the follower to apply what
	// another node appended first (default 10 s).
	CatchUp time.Duration
	Log     *slog.Logger
}

func (c *Config) defaults() {
	if c.Stream == "" {
		c.Stream = "DUPLEX_ROOMS"
	}
	if c.Subject == "" {
		c.Subject = "duplex.room"
	}
	if c.Files == "" {
		c.Files = "DUPLEX_FILES"
	}
	if c.Replicas <= 0 {
		c.Replicas = 1
	}
	if c.Duplicates <= 0 {
		c.Duplicates = 2 * time.Minute
	}
	if c.CatchUp <= 0 {
		c.CatchUp = 10 * time.Second
	}
	if c.Log == nil {
		c.Log = slog.Default()
	}
}

// Node is a cluster member's store: a store.Store whose changes to rooms
// go through the log. Reads (history, search, unread counts) are served by
// the embedded projection.
type Node struct {
	*sqlite.Store // the projection

	cfg     Config
	id      string // this node: Name and a unique suffix
	nc      *nats.Conn
	js      jetstream.JetStream
	stream  jetstream.Stream
	local   *broker.Memory
	follow  jetstream.ConsumeContext
	atOpen  *jetstream.StreamInfo // the log as Open found it
	state   *state                // the users' state outside the room logs: state.go
	metrics *metrics
	// keys holds the keys that seal the texts in the log (seal.go).
	keys jetstream.Stream

	// mu serializes changes to the projection: appends and the follower.
	mu      sync.Mutex
	applied map[string]uint64 // room -> stream seq of its last record applied
	pos     uint64            // every record up to pos is applied
	moved   chan struct{}     // closed and replaced when pos or applied moves
	// followMu makes the follower apply one record at a time.
	followMu sync.Mutex
	dirty    map[string]uint64 // cursors not yet saved
	saving   bool
	closed   bool
}

var (
	_ store.Store  = (*Node)(nil)
	_ store.Pinger = (*Node)(nil)
	_ server.Peers = (*Node)(nil)

	_ store.Credentials = (*Node)(nil)
	_ store.Follower    = (*Node)(nil)
)

// ErrUnavailable wraps every failure to reach the log: the change was not
// acknowledged and may be retried.
var ErrUnavailable = errors.New("cluster: the room log is unavailable")

// Open connects to NATS, creates or updates the stream, and starts
// following the log from where proj left it. It returns once the
// projection has caught up with the log as it stood at Open.
func Open(ctx context.Context, cfg Config, proj *sqlite.Store) (*Node, error) {
	cfg.defaults()
	n := &Node{Store: proj, cfg: cfg, id: cfg.Name + "-" + nuid.Next(), local: broker.NewMemory(), metrics: newMetrics(), applied: map[string]uint64{},
		moved: make(chan struct{}), dirty: map[string]uint64{}}
	cursors, err := proj.LogCursors(ctx)
	if err != nil {
		return nil, err
	}
	for name, seq := range cursors {
		if name == "" {
			n.pos = seq
		} else {
			n.applied[name] = seq
		}
	}
	// No reconnect buffer: an append while NATS is away fails at once
	// (the client keeps it and retries) instead of waiting unacked.
	n.nc, err = nats.Connect(cfg.URL, nats.Name("duplex "+cfg.Name), nats.MaxReconnects(-1),
		nats.ReconnectWait(250*time.Millisecond), nats.RetryOnFailedConnect(true), nats.ReconnectBufSize(-1))
	if err != nil {
		return nil, fmt.Errorf("cluster: connect %s: %w", cfg.URL, err)
	}
	if err := n.setUp(ctx); err != nil {
		n.nc.Close()
		return nil, err
	}
	if err := n.waitApplied(ctx, n.atOpen.State.LastSeq); err != nil {
		n.Close()
		return nil, fmt.Errorf("cluster: catching up with the log: %w", err)
	}
	return n, nil
}

// setUp creates or opens the streams and buckets, and starts following
// the log.
func (n *Node) setUp(ctx context.Context) (err error) {
	if n.js, err = jetstream.New(n.nc); err != nil {
		return err
	}
	if n.stream, err = n.ensureStream(ctx); err != nil {
		return fmt.Errorf("cluster: stream %s: %w", n.cfg.Stream, err)
	}
	if err := n.openState(ctx); err != nil {
		return err
	}
	if err := n.openKeys(ctx); err != nil {
		return err
	}
	if n.atOpen, err = n.stream.Info(ctx); err != nil {
		return fmt.Errorf("cluster: stream %s: %w", n.cfg.Stream, err)
	}
	return n.startFollowing(ctx)
}

// Broker is the node's local fan-out of every new message of the log,
// this node's and the others', in the order the projection applied them:
// the node publishes each under the lock that orders its applies, so a
// room's messages reach the sessions in seq order. Its Publish does
// nothing (the server publishes what it committed; the node already has).
func (n *Node) Broker() broker.Broker { return nodeBroker{n.local} }

type nodeBroker struct{ local *broker.Memory }

func (nodeBroker) Publish(context.Context, shared.Message) error { return nil }

func (b nodeBroker) Subscribe(fn func(shared.Message)) func() { return b.local.Subscribe(fn) }

// ensureStream creates the stream, or updates it to this node's
// settings. Nodes that start together on a fresh NATS cluster race to
// create it, and the loser's request may go unanswered while the
// stream's replicas are being placed (seen with three nodes at once: two
// waited until their deadline), so each try has a deadline of its own and
// an unanswered or lost race is tried again while ctx lasts. Any other
// refusal (e.g. more replicas than NATS servers) is returned at once.
func (n *Node) ensureStream(ctx context.Context) (jetstream.Stream, error) {
	return ensure(ctx, n, n.cfg.Stream, func(ctx context.Context) (jetstream.Stream, error) {
		return n.js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
			Name:       n.cfg.Stream,
			Subjects:   []string{n.cfg.Subject + ".>"},
			Storage:    jetstream.FileStorage,
			Replicas:   n.cfg.Replicas,
			Duplicates: n.cfg.Duplicates,
			// No direct gets: a direct get may be answered by a replica
			// that has not applied the newest record yet; catchUp reads
			// the last record of a room from the leader.
			AllowDirect: false,
		})
	})
}

// ensure runs create (of a stream or a bucket called name) until it
// succeeds, is refused for a reason a retry cannot change, or ctx ends
// (see ensureStream).
func ensure[T any](ctx context.Context, n *Node, name string, create func(context.Context) (T, error)) (T, error) {
	for attempt := 1; ; attempt++ {
		tctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		v, err := create(tctx)
		cancel()
		if err == nil {
			return v, nil
		}
		retry := errors.Is(err, context.DeadlineExceeded) || errors.Is(err, nats.ErrTimeout) ||
			errors.Is(err, nats.ErrNoResponders) || errors.Is(err, jetstream.ErrStreamNameAlreadyInUse)
		if !retry || ctx.Err() != nil {
			return v, err
		}
		n.cfg.Log.Warn("cluster: stream not ready, trying again", "stream", name, "attempt", attempt, "err", err)
		select {
		case <-ctx.Done():
			return v, err
		case <-time.After(min(time.Duration(attempt)*250*time.Millisecond, 2*time.Second)):
		}
	}
}

// Close stops following and closes the connection and the projection.
func (n *Node) Close() error {
	n.mu.Lock()
	n.closed = true
	n.mu.Unlock()
	if n.follow != nil {
		n.follow.Stop()
	}
	n.closeState()
	n.saveCursors()
	n.nc.Close()
	return n.Store.Close()
}

// Ping implements store.Pinger: the node is ready when NATS is connected
// and its projection can write.
func (n *Node) Ping(ctx context.Context) error {
	if !n.nc.IsConnected() {
		return fmt.Errorf("%w: NATS is %s", ErrUnavailable, n.nc.Status())
	}
	return n.Store.Ping(ctx)
}

// record is one change in a room's log.
type record struct {
	Op  string            `json:"op"`            // opMessage, opCreate, opGrant, opRevoke
	Msg *store.NewMessage `json:"msg,omitempty"` // without its Body: see Sealed
	// Sealed is Msg's text, sealed with a key of its own (seal.go).
	Sealed []byte          `json:"sealed,omitempty"`
	Seq    int64           `json:"seq,omitempty"` // the room seq the appender's plan gave Msg
	Meta   *store.RoomMeta `json:"meta,omitempty"`
	User   string          `json:"user,omitempty"`
}

const (
	opMessage = "message"
	opCreate  = "create"
	opGrant   = "grant"
	opRevoke  = "revoke"
)

func (n *Node) subject(room string) string { return n.cfg.Subject + "." + room }

// Append implements store.Store: each room's new messages and events go to
// its log, then to the projection. Results are in the order of msgs.
func (n *Node) Append(ctx context.Context, msgs []store.NewMessage) ([]store.Result, error) {
	byRoom := map[string][]int{}
	var rooms []string
	for i, m := range msgs {
		if byRoom[m.Room] == nil {
			rooms = append(rooms, m.Room)
		}
		byRoom[m.Room] = append(byRoom[m.Room], i)
	}
	out := make([]store.Result, len(msgs))
	for _, room := range rooms {
		idx := byRoom[room]
		batch := make([]store.NewMessage, len(idx))
		for k, i := range idx {
			batch[k] = msgs[i]
		}
		sealed := make([][]byte, len(batch))
		for k := range batch {
			var err error
			if sealed[k], err = n.seal(ctx, batch[k]); err != nil {
				return nil, err
			}
		}
		var res []store.Result
		checked := false
		err := n.change(ctx, room, func() ([]record, error) {
			plan, err := n.Store.Plan(ctx, batch)
			if err != nil {
				return nil, err
			}
			var recs []record
			for k, r := range plan {
				if r.Err != nil && !checked {
					// A refusal (an edit of a message not found) is
					// made on this node's projection: first make sure
					// it is not behind the room's log.
					checked = true
					return nil, errCheckFresh
				}
				if r.Err == nil && !r.Duplicate {
					m := batch[k]
					m.Body = ""
					recs = append(recs, record{Op: opMessage, Msg: &m, Sealed: sealed[k], Seq: r.Message.Seq})
				}
			}
			return recs, nil
		}, func() error {
			var err error
			if res, err = n.Store.Append(ctx, batch); err == nil {
				for k, r := range res {
					if r.Err == nil && !r.Duplicate {
						n.shredAfter(ctx, batch[k]) // seal.go
						n.local.Publish(ctx, r.Message)
					}
				}
			}
			return err
		})
		if err != nil {
			return nil, err
		}
		for k, i := range idx {
			out[i] = res[k]
		}
	}
	return out, nil
}

// CreateRoom implements store.Store through the room's log.
func (n *Node) CreateRoom(ctx context.Context, meta store.RoomMeta) (existing store.RoomMeta, created bool, err error) {
	err = n.change(ctx, meta.Name, func() ([]record, error) {
		if _, ok, err := n.Store.Room(ctx, meta.Name); err != nil || ok {
			return nil, err
		}
		return []record{{Op: opCreate, Meta: &meta}}, nil
	}, func() error {
		existing, created, err = n.Store.CreateRoom(ctx, meta)
		return err
	})
	return existing, created, err
}

// Grant implements store.Store through the room's log.
func (n *Node) Grant(ctx context.Context, room, user string) error {
	return n.access(ctx, opGrant, room, user)
}

// Revoke implements store.Store through the room's log.
func (n *Node) Revoke(ctx context.Context, room, user string) error {
	return n.access(ctx, opRevoke, room, user)
}

func (n *Node) access(ctx context.Context, op, room, user string) error {
	return n.change(ctx, room, func() ([]record, error) {
		has, err := n.Store.HasAccess(ctx, room, user)
		if err != nil || has == (op == opGrant) {
			return nil, err // nothing to change
		}
		return []record{{Op: op, User: user}}, nil
	}, func() error { return n.applyAccess(ctx, op, room, user) })
}

func (n *Node) applyAccess(ctx context.Context, op, room, user string) error {
	if op == opGrant {
		return n.Store.Grant(ctx, room, user)
	}
	return n.Store.Revoke(ctx, room, user)
}

// change appends to room's log what plan says, then runs apply, under the
// projection's lock. When another node appended to the room first, it
// waits for the follower to apply that and plans again. An empty plan
// only runs apply.
func (n *Node) change(ctx context.Context, room string, plan func() ([]record, error), apply func() error) error {
	if !n.nc.IsConnected() {
		return fmt.Errorf("%w: NATS is %s", ErrUnavailable, n.nc.Status())
	}
	ctx, cancel := context.WithTimeout(ctx, n.cfg.CatchUp)
	defer cancel()
	for {
		n.mu.Lock()
		recs, err := plan()
		if errors.Is(err, errCheckFresh) {
			n.mu.Unlock()
			if err := n.catchUp(ctx, room); err != nil {
				return fmt.Errorf("%w: %v", ErrUnavailable, err)
			}
			continue
		}
		if err != nil {
			n.mu.Unlock()
			return err
		}
		last := n.applied[room]
		conflict := uint64(0)
		for _, rec := range recs {
			seq, err := n.publish(ctx, room, rec, last)
			if errors.As(err, new(wrongLast)) {
				conflict = uint64(err.(wrongLast))
				break
			}
			if err != nil {
				n.mu.Unlock()
				// The records before this one are in the log: the
				// follower applies them, and a retry finds them there.
				return fmt.Errorf("%w: %v", ErrUnavailable, err)
			}
			last = seq
		}
		if conflict == 0 {
			err := apply()
			if err == nil && len(recs) > 0 {
				n.appliedLocked(room, last)
			}
			n.mu.Unlock()
			return err
		}
		n.mu.Unlock()
		if err := n.waitRoom(ctx, room, conflict); err != nil {
			return fmt.Errorf("%w: %v", ErrUnavailable, err)
		}
	}
}

// errCheckFresh is what a plan returns to have the room caught up with
// its log before it plans again.
var errCheckFresh = errors.New("cluster: check the projection is fresh")

// CatchUp implements store.Follower.
func (n *Node) CatchUp(ctx context.Context, room string) error {
	ctx, cancel := context.WithTimeout(ctx, n.cfg.CatchUp)
	defer cancel()
	return n.catchUp(ctx, room)
}

// catchUp returns once this node has applied room's log as it stands now.
func (n *Node) catchUp(ctx context.Context, room string) error {
	last, err := n.stream.GetLastMsgForSubject(ctx, n.subject(room))
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return nil // an empty log
	}
	if err != nil {
		return err
	}
	return n.waitRoom(ctx, room, last.Sequence)
}

// appendTimeout bounds one append: a few milliseconds normally, seconds
// while a stream elects a new leader.
const appendTimeout = 5 * time.Second

// wrongLast is JetStream's refusal of an append because the room's log
// has moved on: its value is the log's last sequence for the room.
type wrongLast uint64

func (w wrongLast) Error() string { return fmt.Sprintf("the room's log moved on to %d", uint64(w)) }

// publish appends rec to room's subject if its last record is last.
func (n *Node) publish(ctx context.Context, room string, rec record, last uint64) (uint64, error) {
	data, err := json.Marshal(rec)
	if err != nil {
		return 0, err
	}
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, appendTimeout)
	defer cancel()
	ack, err := n.js.Publish(ctx, n.subject(room), data, jetstream.WithExpectLastSequencePerSubject(last))
	n.metrics.observeAppend(start)
	var apiErr *jetstream.APIError
	if errors.As(err, &apiErr) && (apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence || apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequenceConstant) {
		// "wrong last sequence: N"
		desc := apiErr.Description
		seq, perr := strconv.ParseUint(strings.TrimSpace(desc[strings.LastIndex(desc, ":")+1:]), 10, 64)
		if perr != nil || seq <= last {
			seq = last + 1 // unknown: wait for at least the next one
		}
		n.metrics.conflicts.Inc()
		return 0, wrongLast(seq)
	}
	if err != nil {
		return 0, err
	}
	return ack.Sequence, nil
}

// appliedLocked records that room's log is applied up to seq.
func (n *Node) appliedLocked(room string, seq uint64) {
	if seq > n.applied[room] {
		n.applied[room] = seq
		n.dirty[room] = seq
		n.movedLocked()
		n.saveSoonLocked()
	}
}

// movedLocked wakes whoever waits for pos or applied to move.
func (n *Node) movedLocked() {
	close(n.moved)
	n.moved = make(chan struct{})
}

// waitRoom returns once room's log is applied up to seq (a record of the
// room: the last JetStream said it had).
func (n *Node) waitRoom(ctx context.Context, room string, seq uint64) error {
	return n.waitFor(ctx, seq, func() uint64 { return n.applied[room] }, "room "+room+"'s log")
}

// startFollowing consumes every room's log after pos.
func (n *Node) startFollowing(ctx context.Context) error {
	cfg := jetstream.OrderedConsumerConfig{FilterSubjects: []string{n.cfg.Subject + ".>"}}
	if n.pos > 0 {
		cfg.DeliverPolicy = jetstream.DeliverByStartSequencePolicy
		cfg.OptStartSeq = n.pos + 1
	}
	cons, err := n.stream.OrderedConsumer(ctx, cfg)
	if err != nil {
		return fmt.Errorf("cluster: follow: %w", err)
	}
	n.follow, err = cons.Consume(n.apply)
	if err != nil {
		return fmt.Errorf("cluster: follow: %w", err)
	}
	return nil
}

// apply is the follower: it applies one record of the log, unless this
// node applied it when appending it.
func (n *Node) apply(msg jetstream.Msg) {
	// One record at a time, in the log's order, even when the ordered
	// consumer restarts (after NATS trouble) while a record is still
	// being retried here: it may then deliver the next one on another
	// goroutine.
	n.followMu.Lock()
	defer n.followMu.Unlock()
	meta, err := msg.Metadata()
	if err != nil {
		n.cfg.Log.Error("cluster: a log record without metadata", "err", err)
		return
	}
	seq := meta.Sequence.Stream
	n.metrics.lag.Store(meta.NumPending)
	room := strings.TrimPrefix(msg.Subject(), n.cfg.Subject+".")
	var rec record
	if err := json.Unmarshal(msg.Data(), &rec); err != nil {
		n.cfg.Log.Error("cluster: an unreadable log record", "room", room, "seq", seq, "err", err)
		n.advance(room, seq)
		return
	}
	var published []shared.Message
	for attempt := 0; ; attempt++ {
		n.mu.Lock()
		if n.closed {
			n.mu.Unlock()
			return
		}
		if seq <= n.applied[room] {
			n.advanceLocked(seq)
			n.mu.Unlock()
			return
		}
		published, err = n.applyRecord(room, rec)
		if err == nil {
			for _, m := range published {
				n.local.Publish(context.Background(), m)
			}
			n.appliedLocked(room, seq)
			n.advanceLocked(seq)
			n.mu.Unlock()
			break
		}
		n.mu.Unlock()
		// The projection could not write (a full disk): the log keeps
		// the record; try again until it can.
		n.cfg.Log.Error("cluster: applying a log record", "room", room, "seq", seq, "attempt", attempt, "err", err)
		time.Sleep(min(time.Duration(attempt+1)*100*time.Millisecond, 5*time.Second))
	}
}

// applyRecord applies rec to the projection and returns the new messages
// to fan out locally.
func (n *Node) applyRecord(room string, rec record) ([]shared.Message, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	switch rec.Op {
	case opMessage:
		if rec.Msg == nil || rec.Msg.Room != room {
			return nil, nil
		}
		m := *rec.Msg
		var err error
		if m.Body, err = n.unseal(ctx, m, rec.Sealed); err != nil { // seal.go
			return nil, err
		}
		res, err := n.Store.Append(ctx, []store.NewMessage{m})
		if err != nil {
			return nil, err
		}
		r := res[0]
		if r.Err == nil && !r.Duplicate && r.Message.Seq != rec.Seq {
			n.cfg.Log.Error("cluster: the projection diverged from the log", "room", room, "msg_id", rec.Msg.MsgID, "seq", r.Message.Seq, "planned", rec.Seq)
		}
		if r.Err != nil || r.Duplicate {
			return nil, nil
		}
		n.shredAfter(ctx, m) // if the node that appended it could not
		return []shared.Message{r.Message}, nil
	case opCreate:
		if rec.Meta != nil && rec.Meta.Name == room {
			_, _, err := n.Store.CreateRoom(ctx, *rec.Meta)
			return nil, err
		}
	case opGrant, opRevoke:
		return nil, n.applyAccess(ctx, rec.Op, room, rec.User)
	}
	return nil, nil
}

func (n *Node) advance(room string, seq uint64) {
	n.mu.Lock()
	n.appliedLocked(room, seq)
	n.advanceLocked(seq)
	n.mu.Unlock()
}

// advanceLocked moves pos to seq and wakes whoever waits for it.
func (n *Node) advanceLocked(seq uint64) {
	if seq <= n.pos {
		return
	}
	if seq > n.pos+1 && n.pos > 0 {
		n.cfg.Log.Warn("cluster: the log skipped records", "from", n.pos+1, "to", seq-1)
	}
	n.pos = seq
	n.dirty[""] = seq
	n.movedLocked()
	n.saveSoonLocked()
}

// waitApplied returns once every record up to seq is applied.
func (n *Node) waitApplied(ctx context.Context, seq uint64) error {
	return n.waitFor(ctx, seq, func() uint64 { return n.pos }, "the log")
}

// waitFor returns once at (read under n.mu) reaches seq.
func (n *Node) waitFor(ctx context.Context, seq uint64, at func() uint64, what string) error {
	for {
		n.mu.Lock()
		now, moved := at(), n.moved
		n.mu.Unlock()
		if now >= seq {
			return nil
		}
		select {
		case <-moved:
		case <-ctx.Done():
			return fmt.Errorf("%s is applied up to %d, waiting for %d: %w", what, now, seq, ctx.Err())
		}
	}
}

// saveSoonLocked writes the cursors within a second: they only save work
// at a restart (a record applied twice is a duplicate by its msg_id).
func (n *Node) saveSoonLocked() {
	if n.saving || n.closed {
		return
	}
	n.saving = true
	time.AfterFunc(time.Second, func() {
		n.mu.Lock()
		closed := n.closed
		n.mu.Unlock()
		if !closed { // else Close saves them
			n.saveCursors()
		}
	})
}

func (n *Node) saveCursors() {
	n.mu.Lock()
	dirty := n.dirty
	n.dirty = map[string]uint64{}
	n.saving = false
	n.mu.Unlock()
	if err := n.Store.SetLogCursors(context.Background(), dirty); err != nil {
		n.cfg.Log.Warn("cluster: saving log cursors", "err", err)
	}
}

// Node implements server.Peers on core NATS: subject s of the server is
// Subject + ".bus." + s, each token of s that NATS would read as a
// wildcard or separator hex-encoded.
func (n *Node) Node() string { return n.id }

// Publish implements server.Peers.
func (n *Node) Publish(subject string, data []byte) error {
	return n.nc.Publish(n.busSubject(subject), data)
}

// Subscribe implements server.Peers.
func (n *Node) Subscribe(subject string, fn func([]byte)) (func(), error) {
	sub, err := n.nc.Subscribe(n.busSubject(subject), func(m *nats.Msg) { fn(m.Data) })
	if err != nil {
		return nil, err
	}
	return func() { sub.Unsubscribe() }, nil
}

func (n *Node) busSubject(s string) string {
	kind, name, _ := strings.Cut(s, ".")
	if strings.ContainsAny(name, ".*> \t\r\n") || name == "" {
		name = "x" + hex.EncodeToString([]byte(name))
	}
	return n.cfg.Subject + ".bus." + kind + "." + name
}

// Room implements store.Store: a room this node does not know may exist
// in the log already (created on another node a moment ago): the node
// catches up with its log before it says no, so that a private room is
// never taken for a new public one.
func (n *Node) Room(ctx context.Context, name string) (store.RoomMeta, bool, error) {
	meta, ok, err := n.Store.Room(ctx, name)
	if err != nil || ok {
		return meta, ok, err
	}
	if err := n.catchUp(ctx, name); err != nil {
		return meta, false, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	return n.Store.Room(ctx, name)
}
