package client

import (
	"context"
	"time"

	"github.com/coder/websocket"
	"github.com/duplex-chat/duplex/shared"
)

// helloID is the request id of every hello, so its answer is recognised.
const helloID = "hello"

// hello builds the hello of a new connection: the application's
// credential (TokenSource, Options.Token) or the one the server issued to
// this Storage; none asks for a new anonymous identity.
func (c *Client) hello() (*shared.Hello, error) {
	c.mu.Lock()
	h := &shared.Hello{Nick: c.nick, Token: c.token}
	c.mu.Unlock()
	if c.opts.Token != "" {
		h.Token = c.opts.Token
	}
	if c.opts.TokenSource != nil {
		ctx, cancel := context.WithTimeout(c.ctx, c.opts.DialTimeout)
		defer cancel()
		tok, err := c.opts.TokenSource(ctx)
		if err != nil {
			return nil, err
		}
		h.Token = tok
	}
	return h, nil
}

// helloRefused handles an error answering hello and reports whether to
// say hello again. A server-issued token that is no longer valid (the
// server rotated its key, or it expired) is dropped and the client starts
// again as a new anonymous user; anything else (nick_taken, an application
// credential refused) would fail again on every reconnect, so the client
// stops and reports it: the caller picks another nickname or credential
// and makes a new Client.
func (c *Client) helloRefused(conn *websocket.Conn, err *shared.Error) (again bool) {
	c.mu.Lock()
	retry := err.Code == shared.CodeUnauthorized && c.token != "" && c.opts.Token == "" && c.opts.TokenSource == nil
	if retry {
		c.token, c.user = "", ""
		c.saveIdentityLocked()
	} else {
		c.fatal = err
	}
	c.mu.Unlock()
	if err.Code == shared.CodeSignedOut {
		c.signedOutByServer() // signout.go: revoked while this client was away
	}
	c.emit(ErrorReceived{Err: err})
	if !retry {
		conn.Close(websocket.StatusNormalClosure, "hello refused: "+string(err.Code))
	}
	return retry
}

// scheduleRefreshLocked arms a refresh of the credential before it
// expires (at four fifths of its remaining life) when a TokenSource can
// provide a fresh one.
func (c *Client) scheduleRefreshLocked(expires int64) {
	if c.refresh != nil {
		c.refresh.Stop()
		c.refresh = nil
	}
	if expires == 0 || c.opts.TokenSource == nil {
		return
	}
	left := time.Until(time.UnixMilli(expires))
	c.refresh = time.AfterFunc(left*4/5, func() {
		ctx, cancel := context.WithTimeout(c.ctx, 30*time.Second)
		defer cancel()
		tok, err := c.opts.TokenSource(ctx)
		if err == nil {
			_, err = c.Refresh(ctx, tok)
		}
		if err != nil {
			c.emit(ErrorReceived{Err: shared.Errorf(shared.CodeUnauthorized, "refreshing the credential failed: %v", err)})
		}
	})
}

// Refresh presents a fresh credential for the same user on the open
// session (a renewed JWT) and returns when it expires.
func (c *Client) Refresh(ctx context.Context, token string) (time.Time, error) {
	ack, err := ask[shared.AuthAck](ctx, c, shared.TypeAuth, &shared.Auth{Token: token})
	if err != nil {
		return time.Time{}, err
	}
	c.mu.Lock()
	c.scheduleRefreshLocked(ack.Expires)
	c.mu.Unlock()
	if ack.Expires == 0 {
		return time.Time{}, nil
	}
	return time.UnixMilli(ack.Expires), nil
}

// Token returns the credential the server issued to this client (empty
// when the identity comes from the application): a browser also keeps it
// in a cookie so prerendered private pages know who asks.
func (c *Client) Token() string { return locked(&c.mu, func() string { return c.token }) }

// Nick returns the nickname the server accepted.
func (c *Client) Nick() string { return locked(&c.mu, func() string { return c.nick }) }

// SetNick changes the nickname; the members of every joined room see the
// new one. A nickname another online user holds fails with nick_taken.
func (c *Client) SetNick(ctx context.Context, nick string) error {
	if err := shared.ValidNick(nick); err != nil {
		return err
	}
	ack, err := ask[shared.Nick](ctx, c, shared.TypeNick, &shared.Nick{Nick: nick})
	if err != nil {
		return err
	}
	c.mu.Lock()
	c.nick = ack.Nick
	c.mu.Unlock()
	return nil
}

// CreateRoom creates a public or private room (kind shared.RoomPublic or
// shared.RoomPrivate). Join it afterwards.
func (c *Client) CreateRoom(ctx context.Context, room string, kind shared.RoomKind) (shared.RoomInfo, error) {
	return ask[shared.RoomInfo](ctx, c, shared.TypeCreate, &shared.Create{Room: room, Kind: kind})
}

// DirectMessage opens the direct conversation with user and returns its
// room (kind shared.RoomDM). Join it afterwards.
func (c *Client) DirectMessage(ctx context.Context, user string) (shared.RoomInfo, error) {
	return ask[shared.RoomInfo](ctx, c, shared.TypeDM, &shared.DM{User: user})
}

// Invite gives user access to a private room.
func (c *Client) Invite(ctx context.Context, room, user string) error {
	_, err := ask[shared.Invite](ctx, c, shared.TypeInvite, &shared.Invite{Room: room, User: user})
	return err
}

// Remove takes user's access to a private room away (owner only).
func (c *Client) Remove(ctx context.Context, room, user string) error {
	_, err := ask[shared.Invite](ctx, c, shared.TypeRemove, &shared.Remove{Room: room, User: user})
	return err
}

// removed forgets a room this user lost access to.
func (c *Client) removed(room string) {
	c.mu.Lock()
	if rs := c.rooms[room]; rs != nil {
		rs.wanted, rs.live, rs.members = false, false, nil
	}
	evs := c.dropRoomLocked(room, shared.Errorf(shared.CodeForbidden, "access to room %q was taken away", room))
	c.mu.Unlock()
	c.emit(RoomRemoved{Room: room})
	c.emitAll(evs)
}
