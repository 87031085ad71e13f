package client

import (
	"encoding/json"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/duplex-chat/duplex/shared"
)

// Storage keeps small string values across restarts of the client: the
// identity, the outbox (one key per unsent message), and the per-room
// cursors and recent messages. In the browser use LocalStorage, which two
// tabs of one origin share; Memory forgets everything when the process
// ends.
type Storage interface {
	Get(key string) (string, bool)
	Set(key, value string)
	// Delete removes key (a missing key is not an error).
	Delete(key string)
	// Keys lists the keys that start with prefix, in any order.
	Keys(prefix string) []string
}

// Memory is a Storage in process memory. The zero value is ready, and one
// Memory may be shared by several clients (as tabs share localStorage).
type Memory struct {
	mu sync.Mutex
	m  map[string]string
}

// Get implements Storage.
func (s *Memory) Get(key string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.m[key]
	return v, ok
}

// Set implements Storage.
func (s *Memory) Set(key, value string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = make(map[string]string)
	}
	s.m[key] = value
}

// Delete implements Storage.
func (s *Memory) Delete(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, key)
}

// Keys implements Storage; the keys come sorted.
func (s *Memory) Keys(prefix string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for k := range s.m {
		if strings.HasPrefix(k, prefix) {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// Storage keys. The identity changes rarely; each unsent message has a key
// of its own, written once by Send and deleted by its ack, so clients
// sharing a Storage (two tabs) never rewrite each other's messages; rooms
// (cursors and recent messages) change with every message received, so
// they are saved apart and debounced.
const (
	identityKey  = "duplex.identity.v1"
	outboxPrefix = "duplex.outbox.v3."
	roomsKey     = "duplex.rooms.v1"
	// v2OutboxPrefix held sends only, one key each (clients before the
	// one ordered outbox, whose entries are also edits, reactions and
	// read markers: a v2 client must not take those for messages); load
	// moves them over.
	v2OutboxPrefix = "duplex.outbox.v2."
	// legacyOutboxKey held the identity and the whole outbox in one value
	// (clients before the per-message keys); load moves it over.
	legacyOutboxKey = "duplex.outbox.v1"
)

// savedIdentity is what Storage keeps under identityKey.
type savedIdentity struct {
	User  string `json:"user"`
	Token string `json:"token,omitempty"`
}

// load restores the saved state from Storage. A corrupt entry is
// dropped, not fatal.
func (c *Client) load() {
	st := c.opts.Storage
	if raw, ok := st.Get(legacyOutboxKey); ok {
		var old struct {
			User   string    `json:"user"`
			Token  string    `json:"token,omitempty"`
			Outbox []Pending `json:"outbox"`
		}
		if json.Unmarshal([]byte(raw), &old) == nil {
			c.user, c.token = old.User, old.Token
			c.saveIdentityLocked()
			for _, p := range old.Outbox {
				c.addPendingLocked(p)
			}
		}
		st.Delete(legacyOutboxKey)
	}
	if raw, ok := st.Get(identityKey); ok {
		var id savedIdentity
		if json.Unmarshal([]byte(raw), &id) == nil {
			c.user, c.token = id.User, id.Token
		}
	}
	c.mergeOutboxLocked(c.storedOutbox())
	if raw, ok := st.Get(roomsKey); ok {
		var rooms map[string]*roomState
		if json.Unmarshal([]byte(raw), &rooms) == nil {
			for name, rs := range rooms {
				if rs != nil && shared.ValidRoom(name) == nil {
					rs.msgs, rs.Cache = rs.Cache, nil
					c.rooms[name] = rs
				}
			}
		}
	}
}

// storedOutbox reads every outbox entry in Storage, this client's and
// other tabs', moving those of v2 clients (sends) to v3 keys.
func (c *Client) storedOutbox() []Pending {
	var out []Pending
	seen := make(map[string]bool)
	for _, prefix := range []string{v2OutboxPrefix, outboxPrefix} {
		for _, k := range c.opts.Storage.Keys(prefix) {
			raw, ok := c.opts.Storage.Get(k)
			if !ok || seen[strings.TrimPrefix(k, prefix)] {
				continue // deleted by another tab meanwhile, or just moved from v2
			}
			var p Pending
			if json.Unmarshal([]byte(raw), &p) != nil || prefix+p.MsgID != k || !p.valid() ||
				prefix == v2OutboxPrefix && p.Kind != shared.KindMessage {
				c.opts.Storage.Delete(k) // corrupt: it could never be sent
				continue
			}
			if prefix == v2OutboxPrefix {
				c.savePendingLocked(p)
				c.opts.Storage.Delete(k)
			}
			seen[p.MsgID] = true
			out = append(out, p)
		}
	}
	return out
}

// saveIdentityLocked writes the user id and token to Storage now.
func (c *Client) saveIdentityLocked() {
	if c.user == "" && c.token == "" {
		c.opts.Storage.Delete(identityKey)
		return
	}
	if b, err := json.Marshal(savedIdentity{User: c.user, Token: c.token}); err == nil {
		c.opts.Storage.Set(identityKey, string(b))
	}
}

// savePendingLocked writes one outbox entry to Storage now: an entry must
// survive a reload from the moment Send (or Edit, MarkRead...) returns.
func (c *Client) savePendingLocked(p Pending) {
	if b, err := json.Marshal(p); err == nil {
		c.opts.Storage.Set(outboxPrefix+p.MsgID, string(b))
	}
}

// deletePendingLocked removes an answered entry from Storage.
func (c *Client) deletePendingLocked(msgID string) {
	c.opts.Storage.Delete(outboxPrefix + msgID)
}

// clearOutboxLocked forgets every outbox entry, in Storage too (other
// tabs' included: signing out signs the browser out).
func (c *Client) clearOutboxLocked() {
	c.outbox = nil
	c.pace.inflight = nil
	for _, prefix := range []string{outboxPrefix, v2OutboxPrefix} {
		for _, k := range c.opts.Storage.Keys(prefix) {
			c.opts.Storage.Delete(k)
		}
	}
}

// saveRoomsLocked writes the cursors and the newest CacheSize messages of
// each room now.
func (c *Client) saveRoomsLocked() {
	if c.dirty != nil {
		c.dirty.Stop()
		c.dirty = nil
	}
	for _, rs := range c.rooms {
		rs.Cache = nil
		if n := c.opts.CacheSize; n > 0 {
			rs.Cache = rs.msgs[max(len(rs.msgs)-n, 0):]
		}
	}
	b, err := json.Marshal(c.rooms)
	for _, rs := range c.rooms {
		rs.Cache = nil
	}
	if err == nil {
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
