package cluster

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/duplex-chat/duplex/server/store"
	"github.com/duplex-chat/duplex/shared"
)

// The state of users that is in no room's log lives in one replicated
// JetStream key-value bucket, shared by every node:
//
//	read.<room>.<user>  a read marker (a seq); every node mirrors these
//	                    into its projection, where unread counts are made
//	user.<user>         the user directory: the member record last stored
//	rt.<token id>       a revoked credential (until: Unix ms)
//	ru.<user>           a sign-out everywhere (revokeUser)
//	nick.<hex key>      a verified user's kept nickname (nickHold)
//	nickof.<user>       that user's reservation key, to replace it
//
// Revocations and kept nicknames are read from the bucket when a node's
// own copy has nothing (a hello, a nickname claim: rare), so a sign-out
// on one node holds on every node at once.

type revokeUser struct {
	Before int64 `json:"before"`
	Keep   int64 `json:"keep"`
}

type nickHold struct {
	User string `json:"user"`
	Nick string `json:"nick"`
}

// state is the bucket and what the node keeps of it.
type state struct {
	kv     jetstream.KeyValue
	watch  jetstream.ConsumeContext
	mu     sync.Mutex
	users  map[string]shared.Member // last user record written by this node
	closed chan struct{}
}

func (n *Node) openState(ctx context.Context) error {
	kv, err := ensure(ctx, n, n.cfg.Stream+"_STATE", func(ctx context.Context) (jetstream.KeyValue, error) {
		return n.js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
			Bucket:   n.cfg.Stream + "_STATE",
			Replicas: n.cfg.Replicas,
			History:  1,
			Storage:  jetstream.FileStorage,
		})
	})
	if err != nil {
		return fmt.Errorf("cluster: state bucket: %w", err)
	}
	n.state = &state{kv: kv, users: map[string]shared.Member{}, closed: make(chan struct{})}
	// Read markers are mirrored into the projection: an ordered consumer
	// of the bucket's stream (it survives NATS restarts, as the room
	// follower does) gives every current one, then each change.
	bucket := "KV_" + n.cfg.Stream + "_STATE"
	str, err := n.js.Stream(ctx, bucket)
	if err == nil {
		var cons jetstream.Consumer
		cons, err = str.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{
			FilterSubjects: []string{"$KV." + n.cfg.Stream + "_STATE.read.>"},
			DeliverPolicy:  jetstream.DeliverLastPerSubjectPolicy,
		})
		if err == nil {
			n.state.watch, err = cons.Consume(n.mirrorRead)
		}
	}
	if err != nil {
		return fmt.Errorf("cluster: follow read markers: %w", err)
	}
	return nil
}

func (n *Node) closeState() {
	if n.state != nil && n.state.watch != nil {
		n.state.watch.Stop()
	}
}

// mirrorRead applies a read marker of the bucket to the projection.
func (n *Node) mirrorRead(msg jetstream.Msg) {
	if op := msg.Headers().Get("KV-Operation"); op != "" {
		return // a deletion or a purge: markers only move forward
	}
	_, key, _ := strings.Cut(msg.Subject(), ".read.")
	room, user, ok := strings.Cut(key, ".")
	seq, err := strconv.ParseInt(string(msg.Data()), 10, 64)
	if !ok || err != nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := n.Store.MarkRead(ctx, room, user, seq); err != nil {
		n.cfg.Log.Warn("cluster: mirroring a read marker", "room", room, "err", err)
	}
}

// MarkRead implements store.Reads: the marker goes to the bucket, which
// every node mirrors, and to this node's projection at once.
func (n *Node) MarkRead(ctx context.Context, room, user string, seq int64) (store.ReadState, error) {
	st, err := n.Store.MarkRead(ctx, room, user, seq)
	if err != nil {
		return st, err
	}
	if _, err := n.state.kv.Put(ctx, "read."+room+"."+user, []byte(strconv.FormatInt(st.Read, 10))); err != nil {
		return st, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	return st, nil
}

// InitRead implements store.Reads: a first marker is created in the
// bucket unless another node made one first.
func (n *Node) InitRead(ctx context.Context, room, user string, seq int64) error {
	if err := n.Store.InitRead(ctx, room, user, seq); err != nil {
		return err
	}
	_, err := n.state.kv.Create(ctx, "read."+room+"."+user, []byte(strconv.FormatInt(seq, 10)))
	if err != nil && !errors.Is(err, jetstream.ErrKeyExists) {
		return fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	return nil
}

// AddMember implements store.Store: the user's record also goes to the
// bucket (when this node has not written the same one), so that every
// node can find the user (a DM, a mention, an invite).
func (n *Node) AddMember(ctx context.Context, room string, m shared.Member) error {
	if err := n.Store.AddMember(ctx, room, m); err != nil {
		return err
	}
	n.state.mu.Lock()
	same := n.state.users[m.User] == m
	n.state.mu.Unlock()
	if same {
		return nil
	}
	b, _ := json.Marshal(m)
	if _, err := n.state.kv.Put(ctx, "user."+m.User, b); err != nil {
		return fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	n.state.mu.Lock()
	n.state.users[m.User] = m
	n.state.mu.Unlock()
	return nil
}

// User implements store.Store: this node's record, else the bucket's.
func (n *Node) User(ctx context.Context, id string) (shared.Member, bool, error) {
	m, ok, err := n.Store.User(ctx, id)
	if err != nil || ok {
		return m, ok, err
	}
	e, err := n.state.kv.Get(ctx, "user."+id)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return shared.Member{}, false, nil
	}
	if err != nil {
		return shared.Member{}, false, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	if json.Unmarshal(e.Value(), &m) != nil || m.User != id {
		return shared.Member{}, false, nil
	}
	return m, true, nil
}

// RevokeToken implements store.Credentials on the bucket (and this
// node's copy).
func (n *Node) RevokeToken(ctx context.Context, tokenID string, expires int64) error {
	if _, err := n.state.kv.Put(ctx, "rt."+tokenID, []byte(strconv.FormatInt(expires, 10))); err != nil {
		return fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	return n.Store.RevokeToken(ctx, tokenID, expires)
}

// RevokeUser implements store.Credentials: the latest cutoff wins, also
// when two nodes race.
func (n *Node) RevokeUser(ctx context.Context, user string, before, keep int64) error {
	key := "ru." + user
	for range 10 {
		e, err := n.state.kv.Get(ctx, key)
		var rev uint64
		switch {
		case errors.Is(err, jetstream.ErrKeyNotFound):
		case err != nil:
			return fmt.Errorf("%w: %v", ErrUnavailable, err)
		default:
			var cur revokeUser
			if json.Unmarshal(e.Value(), &cur) == nil && cur.Before >= before {
				return n.Store.RevokeUser(ctx, user, cur.Before, cur.Keep)
			}
			rev = e.Revision()
		}
		b, _ := json.Marshal(revokeUser{Before: before, Keep: keep})
		if rev == 0 {
			_, err = n.state.kv.Create(ctx, key, b)
		} else {
			_, err = n.state.kv.Update(ctx, key, b, rev)
		}
		if err == nil {
			return n.Store.RevokeUser(ctx, user, before, keep)
		}
		if !errors.Is(err, jetstream.ErrKeyExists) && !errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
			return fmt.Errorf("%w: %v", ErrUnavailable, err)
		}
	}
	return fmt.Errorf("%w: the sign-out raced too long", ErrUnavailable)
}

// Revoked implements store.Credentials: this node's copy, and when it
// says nothing, the bucket's (copied here for next time).
func (n *Node) Revoked(ctx context.Context, tokenID, user string, now int64) (bool, int64, error) {
	revoked, before, err := n.Store.Revoked(ctx, tokenID, user, now)
	if err != nil || revoked {
		return revoked, before, err
	}
	if e, err := n.state.kv.Get(ctx, "rt."+tokenID); err == nil {
		if until, _ := strconv.ParseInt(string(e.Value()), 10, 64); until >= now {
			n.Store.RevokeToken(ctx, tokenID, until)
			return true, before, nil
		}
	} else if !errors.Is(err, jetstream.ErrKeyNotFound) {
		return false, 0, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	if e, err := n.state.kv.Get(ctx, "ru."+user); err == nil {
		var ru revokeUser
		if json.Unmarshal(e.Value(), &ru) == nil && ru.Before > before && (ru.Keep == 0 || ru.Keep >= now) {
			n.Store.RevokeUser(ctx, user, ru.Before, ru.Keep)
			before = ru.Before
		}
	} else if !errors.Is(err, jetstream.ErrKeyNotFound) {
		return false, 0, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	return false, before, nil
}

// NickOwner implements store.Credentials on the bucket.
func (n *Node) NickOwner(ctx context.Context, key string) (string, error) {
	e, err := n.state.kv.Get(ctx, nickKey(key))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	var h nickHold
	json.Unmarshal(e.Value(), &h)
	return h.User, nil
}

// ReserveNick implements store.Credentials on the bucket: the first
// verified user to create a key holds it, whichever node they are on.
func (n *Node) ReserveNick(ctx context.Context, key, user, nick string) (string, error) {
	b, _ := json.Marshal(nickHold{User: user, Nick: nick})
	if _, err := n.state.kv.Create(ctx, nickKey(key), b); err != nil {
		if !errors.Is(err, jetstream.ErrKeyExists) {
			return "", fmt.Errorf("%w: %v", ErrUnavailable, err)
		}
		owner, err := n.NickOwner(ctx, key)
		if err != nil || owner != user {
			return owner, err
		}
	}
	// In place of the user's earlier reservation.
	if e, err := n.state.kv.Get(ctx, "nickof."+user); err == nil && string(e.Value()) != key {
		n.state.kv.Delete(ctx, nickKey(string(e.Value())))
	}
	if _, err := n.state.kv.Put(ctx, "nickof."+user, []byte(key)); err != nil {
		return "", fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	return "", nil
}

func nickKey(key string) string { return "nick." + hex.EncodeToString([]byte(key)) }
