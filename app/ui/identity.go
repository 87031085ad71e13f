package ui

import (
	"context"
	"encoding/json"
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
func (m *model) restart(ctx app.Context, wsURL, nick string) {
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
	m.start(ctx, wsURL, nick)
}

// signOut leaves nothing of the person in the browser: the client's
// keys and the page's (joined rooms, nickname, drafts, unread state,
// cached history, outbox) go from localStorage and sessionStorage, the
// cookie goes, and the client writes nothing more; the server revokes the
// token (everywhere: every token of the user, all their sessions).
func (m *model) signOut(everywhere bool) {
	m.mu.Lock()
	cl := m.cl
	m.cl = nil
	m.forgetLocked()
	m.signinErr = ""
	m.mu.Unlock()
	if cl != nil {
		cl.Forget() // now, before anyone can sign in again in this page
	}
	forgetBrowser()
	if cl != nil {
		// Off the UI goroutine: closing waits for the socket, whose
		// events the browser delivers to this same wasm instance.
		go func() {
			if everywhere {
				cl.SignOutEverywhere()
			} else {
				cl.SignOut()
			}
		}()
	}
}

// forgetLocked drops what the page shows of the person.
func (m *model) forgetLocked() {
	m.views = make(map[string]*roomView)
	m.rooms, m.joined, m.notice, m.nick = nil, nil, "", ""
	m.reads = readsState{}
	m.find = searchState{}
}

// forgetBrowser deletes every Duplex key from localStorage and
// sessionStorage, and the credential cookie.
func forgetBrowser() {
	client.ClearStorage(newStorage())
	if app.IsClient {
		ss := app.Window().Get("sessionStorage")
		var keys []string
		for i, n := 0, ss.Get("length").Int(); i < n; i++ {
			if k := ss.Call("key", i); k.Truthy() && strings.HasPrefix(k.String(), client.StoragePrefix) {
				keys = append(keys, k.String())
			}
		}
		for _, k := range keys {
			ss.Call("removeItem", k)
		}
		// The server answers with Clear-Site-Data "cache": the HTTP cache
		// forgets the person's images.
		app.Window().Call("fetch", "/signed-out", map[string]any{"cache": "no-store", "credentials": "same-origin"})
	}
	setTokenCookie("")
}

// signedOutLocked handles the server closing the session because its
// token was revoked elsewhere (another tab signed out, or the person
// signed out everywhere): the page forgets the person and asks for a
// nickname again; the client already erased its storage.
func (m *model) signedOutLocked() {
	m.cl = nil
	m.forgetLocked()
	m.signinErr = "You were signed out (in another tab or on another device). Pick a nickname to start again."
	setTokenCookie("")
}

// nickChangedLocked adopts a nickname changed in another tab or device.
func (m *model) nickChangedLocked(nick string) {
	m.nick = nick
	if b, err := json.Marshal(nick); err == nil && app.IsClient {
		app.Window().Get("localStorage").Call("setItem", nickKey, string(b))
	}
}

// setNick records the nickname this page changed to.
func (m *model) setNick(nick string) {
	m.mu.Lock()
	m.nick = nick
	m.mu.Unlock()
}

// client returns the running client, or nil.
func (m *model) client() *client.Client {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.cl
}

// What model.do runs: a change queued in the outbox, or a request.
const (
	// queued: an edit, deletion or reaction goes to the outbox, in order
	// with everything else the person does. It shows at once (rowsLocked
	// applies the outbox), survives a reload and an outage, and a refusal
	// for good comes back as MessageFailed (failedLocked); an invalid one
	// becomes the notice now.
	queued time.Duration = 0
	// requestTimeout bounds a request that waits for the server's answer.
	requestTimeout = 15 * time.Second
)

// do runs fn with the running client and makes its error the notice
// ("what: why"). A queued change (timeout queued) runs now and the page
// re-reads at once; a request runs in ctx.Async bounded by timeout, and
// an unanswered one tells delivery.go the socket may be dead.
func (m *model) do(ctx app.Context, what string, timeout time.Duration, fn func(ctx context.Context, cl *client.Client) error) {
	cl := m.client()
	if cl == nil {
		return
	}
	run := func() {
		rctx, cancel := context.Background(), func() {}
		if timeout != queued {
			rctx, cancel = context.WithTimeout(rctx, timeout)
		}
		defer cancel()
		err := fn(rctx, cl)
		if err != nil && timeout != queued {
			m.requestFailed(err) // delivery.go: an unanswered request means a dead socket
		}
		if err != nil {
			m.mu.Lock()
			m.notice = what + ": " + errText(err)
			m.mu.Unlock()
		}
		if err != nil || timeout == queued {
			m.changed()
		}
	}
	if timeout == queued {
		run()
		return
	}
	ctx.Async(run)
}

// errText is an error as a person reads it.
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

// roomsOf picks the rooms of one kind, most recently active first.
func roomsOf(rooms []shared.RoomInfo, kind shared.RoomKind) []shared.RoomInfo {
	var out []shared.RoomInfo
	for _, r := range rooms {
		if r.Kind.OrPublic() == kind {
			out = append(out, r)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Active > out[j].Active })
	return out
}

// roomLabel is how a room is named in the sidebar and its heading: a DM by
// the other person's nickname.
func roomLabel(r shared.RoomInfo) string {
	if r.Kind == shared.RoomDM && r.Peer != nil && r.Peer.Nick != "" {
		return "@" + r.Peer.Nick
	}
	if shared.IsDMRoom(r.Name) {
		return "Direct message" // its name is a hash, never shown
	}
	return "#" + r.Name
}

// userColor is one of twelve author colour classes (.c0 to .c11 in
// duplex.css), FNV-1a of the user id: the same person keeps a colour
// everywhere, and two people who used one nickname look different.
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

func (c *Chat) onSignOut(ctx app.Context, e app.Event) { c.askSignOut(ctx, false) }

func (c *Chat) onSignOutAll(ctx app.Context, e app.Event) { c.askSignOut(ctx, true) }

// askSignOut signs out (everywhere: every token of the user), first
// warning (explain.go) when the identity is anonymous: it cannot come
// back once signed out, so the warning's confirm button signs out.
func (c *Chat) askSignOut(ctx app.Context, everywhere bool) {
	c.signoutAll = everywhere
	if !strings.HasPrefix(c.snap.User, shared.AnonymousPrefix) {
		c.signOut(ctx)
		return
	}
	c.signoutAsk = true
	ctx.Defer(func(app.Context) { focusFirst("[data-test=signout-cancel]") })
}

func (c *Chat) doSignOut(ctx app.Context, e app.Event) { c.signOut(ctx) }

func (c *Chat) signOut(ctx app.Context) {
	c.signoutAsk = false
	c.m.signOut(c.signoutAll)
	ctx.LocalStorage().Del(nickKey)
	c.nick, c.editNick, c.toast = "", false, ""
	c.enter(ctx)
}

// adoptNick follows the nickname the model holds when another tab or
// device changed it (the server pushed nick_changed).
func (c *Chat) adoptNick() {
	if s := c.snap; s.Signed && s.SigninErr == "" && s.Nick != "" && s.Nick != c.nick && !c.editNick {
		c.nick = s.Nick
	}
}

func (c *Chat) onEditNick(ctx app.Context, e app.Event) {
	toggleFocus(ctx, &c.editNick, func() { focus("nick-input") })
}

func (c *Chat) onNickKey(ctx app.Context, e app.Event) {
	switch e.Get("key").String() {
	case "Escape":
		c.editNick = false
		return
	case "Enter":
	default:
		ctx.PreventUpdate()
		return
	}
	e.PreventDefault()
	nick := strings.TrimSpace(ctx.JSSrc().Get("value").String())
	if err := shared.ValidNick(nick); err != nil {
		c.toast = "Nickname: " + errText(err)
		return
	}
	c.editNick = false
	c.m.do(ctx, "Nickname", requestTimeout, func(rctx context.Context, cl *client.Client) error {
		if err := cl.SetNick(rctx, nick); err != nil {
			return err
		}
		c.m.setNick(nick)
		ctx.Dispatch(func(ctx app.Context) {
			c.nick = nick
			ctx.LocalStorage().Set(nickKey, nick)
		})
		return nil
	})
}

// onInvite gives access to the open private room to someone found by
// nickname among the members of the rooms this browser has joined.
func (c *Chat) onInvite(ctx app.Context, e app.Event) {
	if e.Get("key").String() != "Enter" {
		ctx.PreventUpdate()
		return
	}
	e.PreventDefault()
	input := ctx.JSSrc()
	nick := strings.TrimPrefix(strings.TrimSpace(input.Get("value").String()), "@")
	mem, ok := c.m.knownNick(nick)
	if !ok {
		c.toast = "Invite: nobody called " + nick + " is in your rooms right now"
		return
	}
	input.Set("value", "")
	room := c.room
	c.m.do(ctx, "Invite", requestTimeout, func(rctx context.Context, cl *client.Client) error {
		if err := cl.Invite(rctx, room, mem.User); err != nil {
			return err
		}
		c.m.confirmed("Invited " + mem.Nick + " to #" + room) // manage.go
		return nil
	})
}

// renderMe is the signed-in person's corner: the nickname (a box to change
// it) and sign-out.
func (c *Chat) renderMe() app.UI {
	cls := "me"
	if c.meOpen {
		cls += " open"
	}
	return app.Div().Class(cls).Body(
		app.If(c.editNick, func() app.UI {
			return app.Input().ID("nick-input").Type("text").Class("nick-input").DataSet("test", "nick-input").
				MaxLength(shared.MaxNickRunes).Value(c.nick).Attr("aria-label", "New nickname").OnKeyDown(c.onNickKey)
		}).Else(func() app.UI {
			return app.Span().Class("my-nick").DataSet("test", "my-nick").Title("%s", "Signed in as "+c.nick).Text(c.nick)
		}),
		// On a phone the buttons hide behind a menu button (phone.go).
		app.Button().Type("button").Class("bar-btn icon-btn me-toggle").DataSet("test", "me-menu").
			Attr("aria-expanded", c.meOpen).Attr("aria-label", "Account").Title("Account").OnClick(c.onMeMenu).Body(icon("more")),
		app.Span().Class("me-items").Body(
			app.Button().Type("button").Class("ghost").DataSet("test", "change-nick").OnClick(c.onEditNick).Text("Change nickname"),
			app.Button().Type("button").Class("ghost").DataSet("test", "signout").OnClick(c.onSignOut).Text("Sign out"),
			app.Button().Type("button").Class("ghost").DataSet("test", "signout-all").Title("Sign out in every tab and on every device").
				OnClick(c.onSignOutAll).Text("Sign out everywhere"),
		),
		app.If(c.signoutAsk, c.renderSignOutWarning), // explain.go
	)
}

// onDM opens (creating) the direct conversation with a member.
func (l *MemberList) onDM(ctx app.Context, e app.Event) {
	user := ctx.JSSrc().Get("dataset").Get("user").String()
	l.m.do(ctx, "Direct message", requestTimeout, func(rctx context.Context, cl *client.Client) error {
		info, err := cl.DirectMessage(rctx, user)
		if err != nil {
			return err
		}
		ctx.Dispatch(func(ctx app.Context) { ctx.Navigate(RoomPath(info.Name)) })
		l.m.refreshRooms()
		return nil
	})
}

// onRemove takes a member's access to the open private room away.
func (l *MemberList) onRemove(ctx app.Context, e app.Event) {
	user, room := ctx.JSSrc().Get("dataset").Get("user").String(), l.Room
	l.m.do(ctx, "Remove", requestTimeout, func(rctx context.Context, cl *client.Client) error {
		return cl.Remove(rctx, room, user)
	})
}

// createPrivate creates a private room, then opens it.
func (l *RoomList) createPrivate(ctx app.Context, name string) {
	l.m.do(ctx, "Private room", requestTimeout, func(rctx context.Context, cl *client.Client) error {
		if _, err := cl.CreateRoom(rctx, name, shared.RoomPrivate); err != nil {
			return err
		}
		ctx.Dispatch(func(ctx app.Context) { ctx.Navigate(RoomPath(name)) })
		l.m.refreshRooms()
		return nil
	})
}

func (c *Chat) onMeMenu(ctx app.Context, e app.Event) { c.meOpen = !c.meOpen }
