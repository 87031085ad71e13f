package ui

import (
	"context"
	"errors"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/duplex-chat/duplex/app/client"
	"github.com/duplex-chat/duplex/shared"
	"github.com/maxence-charriere/go-app/v10/pkg/app"
)

// The identity side of the UI: what happens when the server refuses a
// nickname, signing out, changing nickname, direct messages and private
// rooms. The client package does the protocol; this file turns it into
// page changes.

// refusedLocked records a hello the server refused for good (nick_taken,
// a credential refused): the page goes back to the sign-in form with the
// reason, and a new client starts once the person picks again.
func (m *model) refusedLocked(err *shared.Error) {
	m.signinErr = err.Message
	if err.Code == shared.CodeNickTaken {
		m.signinErr = "That nickname is in use by someone online (or one that looks the same). Pick another."
	}
}

// restart replaces a client that stopped (a refused hello, a sign-out)
// with a new one for nick.
func (m *model) restart(wsURL, nick string) {
	m.mu.Lock()
	old := m.cl
	m.cl, m.signinErr = nil, ""
	for _, v := range m.views {
		v.joined = false
	}
	m.mu.Unlock()
	if old != nil {
		old.Close()
	}
	m.start(wsURL, nick)
}

// signOut forgets this browser's identity and nickname.
func (m *model) signOut() {
	m.mu.Lock()
	cl := m.cl
	m.cl = nil
	m.views = make(map[string]*roomView)
	m.rooms = nil
	m.mu.Unlock()
	if cl != nil {
		// Off the UI goroutine: closing waits for the socket, whose
		// events the browser delivers to this same wasm instance.
		go cl.SignOut()
	}
	setTokenCookie("")
}

// client returns the running client, or nil.
func (m *model) client() *client.Client {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.cl
}

// do runs a request of the client off the UI goroutine and reports its
// error in the notice slot.
func (m *model) do(what string, fn func(ctx context.Context, cl *client.Client) error) {
	cl := m.client()
	if cl == nil {
		return
	}
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		if err := fn(ctx, cl); err != nil {
			m.mu.Lock()
			m.notice = what + ": " + errText(err)
			m.mu.Unlock()
			m.changed(nil)
		}
	}()
}

func errText(err error) string {
	var pe *shared.Error
	if errors.As(err, &pe) {
		return pe.Message
	}
	return err.Error()
}

// knownNick finds the user id of a nickname among the members of the
// rooms this browser has joined.
func (m *model) knownNick(nick string) (shared.Member, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	key := shared.NickKey(nick)
	for _, v := range m.views {
		for _, mem := range v.members {
			if shared.NickKey(mem.Nick) == key {
				return mem, true
			}
		}
	}
	return shared.Member{}, false
}

// roomsOf splits the room list into public rooms, private rooms and
// direct conversations, each most recently active first.
func roomsOf(rooms []shared.RoomInfo, kind shared.RoomKind) []shared.RoomInfo {
	var out []shared.RoomInfo
	for _, r := range rooms {
		k := r.Kind
		if k == "" {
			k = shared.RoomPublic
		}
		if k == kind {
			out = append(out, r)
		}
	}
	return out
}

// roomLabel is how a room is named in the sidebar and its heading: a DM by
// the other person's nickname.
func roomLabel(r shared.RoomInfo) string {
	if r.Kind == shared.RoomDM && r.Peer != nil && r.Peer.Nick != "" {
		return "@" + r.Peer.Nick
	}
	return "#" + r.Name
}

// userColor is one of twelve author colour classes, derived from the
// user id: two people who used the same nickname get different colours.
func userColor(user string) string {
	h := uint32(2166136261)
	for i := 0; i < len(user); i++ {
		h = (h ^ uint32(user[i])) * 16777619
	}
	return "c" + strconv.Itoa(int(h%12))
}

// shortUser is the part of a user id shown on hover, to tell apart two
// authors who used the same nickname at different times.
func shortUser(user string) string {
	if len(user) > 8 {
		return user[:8]
	}
	return user
}

func (c *Chat) onSignOut(ctx app.Context, e app.Event) {
	theModel.signOut()
	ctx.LocalStorage().Del(nickKey)
	c.signed, c.nick, c.editNick = false, "", false
}

func (c *Chat) onEditNick(ctx app.Context, e app.Event) {
	c.editNick = !c.editNick
	if c.editNick {
		ctx.Defer(func(app.Context) {
			if el := app.Window().GetElementByID("nick-input"); el.Truthy() {
				el.Call("focus")
			}
		})
	}
}

func (c *Chat) onNickKey(ctx app.Context, e app.Event) {
	switch e.Get("key").String() {
	case "Escape":
		c.editNick = false
		return
	case "Enter":
	default:
		return
	}
	e.PreventDefault()
	nick := strings.TrimSpace(ctx.JSSrc().Get("value").String())
	if err := shared.ValidNick(nick); err != nil {
		c.err = "Nickname: " + errText(err)
		return
	}
	c.editNick = false
	theModel.do("Nickname", func(rctx context.Context, cl *client.Client) error {
		if err := cl.SetNick(rctx, nick); err != nil {
			return err
		}
		ctx.Dispatch(func(ctx app.Context) {
			c.nick = nick
			ctx.LocalStorage().Set(nickKey, nick)
		})
		return nil
	})
}

// onDM opens (creating) the direct conversation with a member.
func (c *Chat) onDM(ctx app.Context, e app.Event) {
	user := ctx.JSSrc().Get("dataset").Get("user").String()
	theModel.do("Direct message", func(rctx context.Context, cl *client.Client) error {
		info, err := cl.DirectMessage(rctx, user)
		if err != nil {
			return err
		}
		ctx.Dispatch(func(ctx app.Context) { ctx.Navigate(RoomPath(info.Name)) })
		go theModel.refreshRooms()
		return nil
	})
}

// onRemove takes a member's access to the open private room away.
func (c *Chat) onRemove(ctx app.Context, e app.Event) {
	user, room := ctx.JSSrc().Get("dataset").Get("user").String(), c.room
	theModel.do("Remove", func(rctx context.Context, cl *client.Client) error {
		return cl.Remove(rctx, room, user)
	})
}

// onInvite gives access to the open private room to someone found by
// nickname among the members of the rooms this browser has joined.
func (c *Chat) onInvite(ctx app.Context, e app.Event) {
	if e.Get("key").String() != "Enter" {
		return
	}
	e.PreventDefault()
	input := ctx.JSSrc()
	nick := strings.TrimPrefix(strings.TrimSpace(input.Get("value").String()), "@")
	mem, ok := theModel.knownNick(nick)
	if !ok {
		c.err = "Invite: nobody called " + nick + " is in your rooms right now"
		return
	}
	c.err = ""
	input.Set("value", "")
	room := c.room
	theModel.do("Invite", func(rctx context.Context, cl *client.Client) error {
		return cl.Invite(rctx, room, mem.User)
	})
}

// createPrivate creates a private room, then opens it.
func (c *Chat) createPrivate(ctx app.Context, name string) {
	theModel.do("Private room", func(rctx context.Context, cl *client.Client) error {
		if _, err := cl.CreateRoom(rctx, name, shared.RoomPrivate); err != nil {
			return err
		}
		ctx.Dispatch(func(ctx app.Context) { ctx.Navigate(RoomPath(name)) })
		go theModel.refreshRooms()
		return nil
	})
}

// roomInfo is what the room list says of the open room.
func (m *model) roomInfo(room string) shared.RoomInfo {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, r := range m.rooms {
		if r.Name == room {
			return r
		}
	}
	return shared.RoomInfo{Name: room}
}

// renderRoomSection is one sidebar list: public rooms, private rooms or
// direct conversations.
func (c *Chat) renderRoomSection(title, test string, rooms []shared.RoomInfo) app.UI {
	sort.SliceStable(rooms, func(i, j int) bool { return rooms[i].Active > rooms[j].Active })
	return app.Div().Class("room-section").Body(
		heading(3, "", title),
		app.Ul().DataSet("test", test).Body(
			app.Range(rooms).Slice(func(i int) app.UI {
				r := rooms[i]
				cls := "room-item"
				a := app.A().Href("%s", RoomPath(r.Name)).Text(roomLabel(r))
				if r.Name == c.room {
					cls += " active"
					a = a.Attr("aria-current", "page")
				}
				kind := string(r.Kind)
				if kind == "" {
					kind = string(shared.RoomPublic)
				}
				return app.Li().Class(cls).DataSet("test", "room").DataSet("room", r.Name).DataSet("kind", kind).Body(
					a,
					app.If(r.Members > 0, func() app.UI {
						return app.Span().Class("count").Title("%d here now", r.Members).Text(r.Members)
					}),
				)
			}),
		),
	)
}
