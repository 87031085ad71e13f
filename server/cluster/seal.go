package cluster

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/duplex-chat/duplex/server/store"
	"github.com/duplex-chat/duplex/shared"
)

// Erasure in the log (issue #16 point 7). A room's log is replayed to
// rebuild a node, so its records are never removed: removing a deleted
// message's record would shift every later seq and orphan the reactions
// and edits that name it. Instead every text is sealed in the log with a
// key of its own (AES-256-GCM), kept in a replicated stream beside the
// log; deleting a message erases the keys of its text and of
// its edits (JetStream's secure delete overwrites the stored key), and an
// edit erases the keys of the texts it replaced (an edit keeps no
// history, as on one node). A record whose key is gone replays with an
// empty body, and the deletion or edit that follows it sets the final
// state, as it did on every node the first time.

// openKeys creates or opens the stream of text keys: one subject per
// text, holding one message (a key-value bucket would do, but JetStream
// refuses deletes of single messages in one).
func (n *Node) openKeys(ctx context.Context) error {
	var err error
	n.keys, err = ensure(ctx, n, n.cfg.Stream+"_KEYS", func(ctx context.Context) (jetstream.Stream, error) {
		return n.js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
			Name:              n.cfg.Stream + "_KEYS",
			Subjects:          []string{n.cfg.Subject + "-keys.>"},
			Storage:           jetstream.FileStorage,
			Replicas:          n.cfg.Replicas,
			MaxMsgsPerSubject: 1,
			// Reads from the leader only: a replica answering a direct
			// get may not have a key yet, and a missing key means erased
			// text.
			AllowDirect: false,
		})
	})
	if err != nil {
		return fmt.Errorf("cluster: key stream: %w", err)
	}
	return nil
}

// keySubject is the subject of the key of msgID's text in room.
func (n *Node) keySubject(room, msgID string) string {
	sum := sha256.Sum256([]byte(msgID))
	return n.cfg.Subject + "-keys." + room + "." + hex.EncodeToString(sum[:16])
}

// getKey returns the key stored on subj and its stream sequence.
func (n *Node) getKey(ctx context.Context, subj string) ([]byte, uint64, error) {
	m, err := n.keys.GetLastMsgForSubject(ctx, subj)
	if err != nil {
		return nil, 0, err
	}
	return m.Data, m.Sequence, nil
}

// textKey returns the key of msgID's text, creating it on first use: a
// retried send seals with the same key. The first try creates it (one
// append, refused if the key exists); only a retry reads it.
func (n *Node) textKey(ctx context.Context, room, msgID string) ([]byte, error) {
	subj := n.keySubject(room, msgID)
	for range 3 {
		key := make([]byte, 32)
		rand.Read(key)
		_, err := n.js.Publish(ctx, subj, key, jetstream.WithExpectLastSequencePerSubject(0))
		if err == nil {
			return key, nil
		}
		var apiErr *jetstream.APIError
		if !errors.As(err, &apiErr) || apiErr.ErrorCode != jetstream.JSErrCodeStreamWrongLastSequence && apiErr.ErrorCode != jetstream.JSErrCodeStreamWrongLastSequenceConstant {
			return nil, err
		}
		key, _, err = n.getKey(ctx, subj) // the key exists: a retry
		if err == nil {
			return key, nil
		}
		if !errors.Is(err, jetstream.ErrMsgNotFound) {
			return nil, err
		}
		// Erased meanwhile (its message was deleted): make another.
	}
	return nil, errors.New("cluster: the text key raced too long")
}

// seal returns m's text sealed with its key (nil for no text).
func (n *Node) seal(ctx context.Context, m store.NewMessage) ([]byte, error) {
	if m.Body == "" {
		return nil, nil
	}
	key, err := n.textKey(ctx, m.Room, m.MsgID)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	aead, err := newAEAD(key)
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(m.Body)+aead.Overhead())
	rand.Read(nonce)
	return aead.Seal(nonce, nonce, []byte(m.Body), []byte(m.Room+"/"+m.MsgID)), nil
}

// unseal returns the text of a record: empty when its key was erased.
func (n *Node) unseal(ctx context.Context, m store.NewMessage, sealed []byte) (string, error) {
	if len(sealed) == 0 {
		return "", nil
	}
	key, _, err := n.getKey(ctx, n.keySubject(m.Room, m.MsgID))
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return "", nil // erased
	}
	if err != nil {
		return "", err
	}
	aead, err := newAEAD(key)
	if err != nil {
		return "", err
	}
	ns := aead.NonceSize()
	if len(sealed) < ns {
		return "", errors.New("cluster: a sealed text too short")
	}
	plain, err := aead.Open(nil, sealed[:ns], sealed[ns:], []byte(m.Room+"/"+m.MsgID))
	if err != nil {
		return "", fmt.Errorf("cluster: unsealing %s: %w", m.MsgID, err)
	}
	return string(plain), nil
}

func newAEAD(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// shredAfter erases the keys of the texts an applied deletion or edit
// made obsolete: for a deletion, the message's and its edits'; for an
// edit, every earlier text of the message.
func (n *Node) shredAfter(ctx context.Context, m store.NewMessage) {
	if m.Kind != shared.KindDelete && m.Kind != shared.KindEdit {
		return
	}
	ids, err := n.Store.TextIDs(ctx, m.Room, m.Target)
	if err != nil {
		n.cfg.Log.Error("cluster: finding the texts to erase", "room", m.Room, "target", m.Target, "err", err)
		return
	}
	for _, id := range ids {
		if id != m.MsgID {
			n.shred(ctx, m.Room, id)
		}
	}
}

// shred erases the key of msgID's text in room: JetStream overwrites the
// stored key, and the text sealed with it in the log can never be read.
func (n *Node) shred(ctx context.Context, room, msgID string) {
	_, seq, err := n.getKey(ctx, n.keySubject(room, msgID))
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return
	}
	if err == nil {
		err = n.keys.SecureDeleteMsg(ctx, seq)
	}
	// nats.go wraps the API error into a message of its own: "sequence N
	// not found" or "no message found" means another node erased it first.
	if err != nil && (strings.Contains(err.Error(), "not found") || strings.Contains(err.Error(), "no message found")) {
		return
	}
	if err != nil {
		n.cfg.Log.Error("cluster: erasing a text key", "room", room, "msg_id", msgID, "err", err)
	}
}
