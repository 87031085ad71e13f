package client

import (
	"context"
	"encoding/json"
	"sync/atomic"
	"time"

	"github.com/duplex-chat/duplex/shared"
)

// Sign-out (issue #15): the person's data leaves the Storage and is not
// written again, the server revokes the credential, and a nickname
// changed in another session is adopted here.

// StoragePrefix starts every key Duplex keeps in a Storage: the client's
// (identity, outbox, cursors and cached messages, read state) and the
// browser app's (joined rooms, nickname, drafts, preferences). Sign-out
// deletes every key under it.
const StoragePrefix = "duplex."

// gatedStorage is the Storage a Client writes through: once closed (the
// person signed out) every write is dropped, so nothing a late timer or
// Close saves brings the person's data back.
type gatedStorage struct {
	Storage
	closed atomic.Bool
}

func (g *gatedStorage) Set(key, value string) {
	if !g.closed.Load() {
		g.Storage.Set(key, value)
	}
}

func (g *gatedStorage) Delete(key string) {
	if !g.closed.Load() {
		g.Storage.Delete(key)
	}
}

func (c *Client) gate() *gatedStorage { return c.opts.Storage.(*gatedStorage) }

// ClearStorage deletes every key under StoragePrefix from st.
func ClearStorage(st Storage) {
	for _, k := range st.Keys(StoragePrefix) {
		st.Delete(k)
	}
}

// SignedOut reports that the server ended the session because its
// credential was revoked (the person signed out in another tab, or
// everywhere from another device): the client stopped, as after SignOut.
type SignedOut struct{}

// NickChanged reports that the user's nickname changed in another of
// their sessions; Nick returns it from now on.
type NickChanged struct{ Nick string }

func (SignedOut) isEvent()   {}
func (NickChanged) isEvent() {}

// Forget erases everything of this person from Storage (every key under
// StoragePrefix, other tabs' included: they share the browser's storage)
// and stops this Client from writing to Storage again; it forgets the
// identity and the unsent messages in memory too. It returns at once and
// does not close the connection: SignOut does both.
func (c *Client) Forget() {
	g := c.gate()
	c.mu.Lock()
	defer c.mu.Unlock()
	if g.closed.Load() {
		return // once: a second call could erase the next person's keys
	}
	c.clearOutboxLocked() // the outbox's own forgetting (persist.go), before the gate shuts
	g.closed.Store(true)
	if c.dirty != nil {
		c.dirty.Stop()
		c.dirty = nil
	}
	c.token, c.user = "", ""
	ClearStorage(g.Storage)
}

// SignOut signs the person out: Forget, then the server revokes the
// session's credential (every other session on it is closed with
// shared.CloseSignedOut), then Close. The next Client on this Storage
// starts as someone new. It returns ErrOffline when the server could not
// be told (the credential then stays valid until it expires), or the
// server's error; the local sign-out happened either way.
func (c *Client) SignOut() error { return c.signOut(false) }

// SignOutEverywhere is SignOut that also revokes every other credential
// of the user and closes all of their sessions, on every device.
func (c *Client) SignOutEverywhere() error { return c.signOut(true) }

func (c *Client) signOut(all bool) error {
	c.Forget()
	err := error(ErrOffline)
	if c.State() == StateOnline {
		ctx, cancel := context.WithTimeout(c.ctx, 10*time.Second)
		var f shared.Frame
		if f, err = c.request(ctx, shared.TypeSignOut, &shared.SignOut{All: all}); err == nil {
			_, err = decodeAnswer[shared.SignOutAck](f)
		}
		cancel()
	}
	c.Close()
	return err
}

// signedOutByServer handles a close with shared.CloseSignedOut: the
// credential is revoked, so the client stops writing, and erases the
// Storage unless someone else signed in there meanwhile.
func (c *Client) signedOutByServer() {
	g := c.gate()
	if g.closed.Swap(true) {
		return // SignOut did it
	}
	c.mu.Lock()
	mine := c.token
	if c.dirty != nil {
		c.dirty.Stop()
		c.dirty = nil
	}
	c.mu.Unlock()
	stored := savedIdentity{}
	if raw, ok := g.Storage.Get(identityKey); ok {
		json.Unmarshal([]byte(raw), &stored) // corrupt reads as nobody's: erased
	}
	if stored.Token == "" || stored.Token == mine {
		ClearStorage(g.Storage)
	}
	c.emit(SignedOut{})
}

// nickChanged adopts the nickname another session of the user took, and
// says it on this session's connection so its rooms show it too.
func (c *Client) nickChanged(nick string) {
	c.mu.Lock()
	same := c.nick == nick
	c.nick = nick
	c.mu.Unlock()
	if same {
		return
	}
	c.emit(NickChanged{Nick: nick})
	go func() {
		ctx, cancel := context.WithTimeout(c.ctx, 15*time.Second)
		defer cancel()
		c.request(ctx, shared.TypeNick, &shared.Nick{Nick: nick})
	}()
}
