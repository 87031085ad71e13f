package client

import (
	"slices"
	"time"

	"github.com/duplex-chat/duplex/shared"
)

// TypingThrottle is the least time between two typing frames for one
// room: well inside the server's expiry (shared.TypingTTL), so a person
// who keeps typing stays listed, at one small frame every few seconds.
const TypingThrottle = 3 * time.Second

// Typing tells the other members of a live room that this user is typing.
// Call it on every keystroke: at most one frame per TypingThrottle per room
// goes out. Typing frames are never stored; offline they are dropped.
func (c *Client) Typing(room string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	rs := c.rooms[room]
	if rs == nil || !rs.live || c.conn == nil || time.Since(rs.typed) < TypingThrottle {
		return
	}
	rs.typed = time.Now()
	c.startLocked(shared.TypeTyping, "", &shared.Typing{Room: room}, nil)
}

// StopTyping says that this user stopped typing in room (the composer was
// emptied), if Typing said otherwise lately. Sending a message stops it by
// itself.
func (c *Client) StopTyping(room string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stopTypingLocked(room, true)
}

// stopTypingLocked forgets that this client types in room, and tells the
// server when tell is set (a send tells it by itself).
func (c *Client) stopTypingLocked(room string, tell bool) {
	rs := c.rooms[room]
	if rs == nil || rs.typed.IsZero() {
		return
	}
	recent := time.Since(rs.typed) < time.Duration(shared.TypingTTL)*time.Millisecond
	rs.typed = time.Time{}
	if tell && recent && rs.live {
		c.startLocked(shared.TypeTyping, "", &shared.Typing{Room: room, Stop: true}, nil)
	}
}

// Typists returns who is typing in room now, as the server last said,
// without this user.
func (c *Client) Typists(room string) []shared.Member {
	c.mu.Lock()
	defer c.mu.Unlock()
	if rs := c.rooms[room]; rs != nil {
		return slices.Clone(rs.typists)
	}
	return nil
}

// typing handles the server's list of who is typing in a room.
func (c *Client) typing(t *shared.Typing) {
	c.mu.Lock()
	rs := c.rooms[t.Room]
	if rs == nil || !rs.wanted {
		c.mu.Unlock()
		return
	}
	users := make([]shared.Member, 0, len(t.Users))
	for _, u := range t.Users {
		if u.User != c.user {
			users = append(users, u)
		}
	}
	if slices.Equal(users, rs.typists) || len(users) == 0 && len(rs.typists) == 0 {
		c.mu.Unlock()
		return
	}
	rs.typists = users
	c.mu.Unlock()
	c.emit(TypingChanged{Room: t.Room, Users: slices.Clone(users)})
}
