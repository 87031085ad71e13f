package ui

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/duplex-chat/duplex/app/client"
	"github.com/duplex-chat/duplex/shared"
	"github.com/maxence-charriere/go-app/v10/pkg/app"
)

// nickKey is where the chosen nickname is kept in localStorage.
const nickKey = "duplex.nick"

// Chat is the whole chat page: sign-in, room list, the open room's
// messages and composer, and its members. The data-test attributes are a
// contract with external UI tests; keep them through redesigns.
type Chat struct {
	app.Compo

	room   string
	pre    []shared.Message // prerendered messages (server side only)
	signed bool
	nick   string
	err    string
	// editNick shows the nickname box in the top bar.
	editNick bool
}

// OnInit runs before the first render, which in the browser comes before
// OnMount: without the room and the nickname that render would be an
// empty sign-in page for DefaultRoom, and the prerendered rows (seeded
// into the model) would flash away until OnMount re-renders.
func (c *Chat) OnInit() {
	if !app.IsClient {
		return
	}
	c.room = roomFromPath(app.Window().URL().Path)
	if nick := storedNick(); nick != "" {
		c.nick, c.signed = nick, true
	}
}

// storedNick is the valid nickname kept in localStorage, or "".
func storedNick() string {
	var nick string
	raw := app.Window().Get("localStorage").Call("getItem", nickKey)
	if !raw.Truthy() || json.Unmarshal([]byte(raw.String()), &nick) != nil || shared.ValidNick(nick) != nil {
		return ""
	}
	return nick
}

// OnMount restores the nickname and, if there is one, connects.
func (c *Chat) OnMount(ctx app.Context) {
	theModel.attach(ctx)
	c.room = roomFromPath(ctx.Page().URL().Path)
	var nick string
	if ctx.LocalStorage().Get(nickKey, &nick) == nil && shared.ValidNick(nick) == nil {
		c.signIn(nick)
	}
}

// OnNav follows in-app navigation between rooms.
func (c *Chat) OnNav(ctx app.Context) {
	c.room = roomFromPath(ctx.Page().URL().Path)
	if c.signed && c.room != "" {
		theModel.open(c.room)
		ctx.Defer(scrollToBottom)
	}
}

// OnDismount stops re-render requests to this component.
func (c *Chat) OnDismount() { theModel.detach() }

func (c *Chat) signIn(nick string) {
	c.nick, c.signed = nick, true
	theModel.start(wsURL(), nick)
	if c.room != "" {
		theModel.open(c.room)
	}
}

// wsURL is the socket on the page's own origin.
func wsURL() string {
	loc := app.Window().Get("location")
	scheme := "ws://"
	if loc.Get("protocol").String() == "https:" {
		scheme = "wss://"
	}
	return scheme + loc.Get("host").String() + "/ws"
}

func (c *Chat) onSignIn(ctx app.Context, e app.Event) {
	e.PreventDefault()
	nick := strings.TrimSpace(app.Window().GetElementByID("nickname").Get("value").String())
	if err := shared.ValidNick(nick); err != nil {
		c.err = "Nickname: " + err.(*shared.Error).Message
		return
	}
	c.err = ""
	ctx.LocalStorage().Set(nickKey, nick)
	theModel.mu.Lock()
	refused := theModel.signinErr != ""
	theModel.mu.Unlock()
	if refused { // the last client stopped on a refused hello: start anew
		c.nick, c.signed = nick, true
		theModel.restart(wsURL(), nick)
		if c.room != "" {
			theModel.open(c.room)
		}
		return
	}
	c.signIn(nick)
}

func (c *Chat) onSend(ctx app.Context, e app.Event) {
	e.PreventDefault()
	input := app.Window().GetElementByID("composer")
	body := input.Get("value").String()
	if strings.TrimSpace(body) == "" || c.room == "" {
		return
	}
	theModel.mu.Lock()
	cl := theModel.cl
	theModel.mu.Unlock()
	if cl == nil {
		return
	}
	if _, err := cl.Send(c.room, body); err != nil {
		c.err = err.Error()
		if pe, ok := err.(*shared.Error); ok {
			c.err = pe.Message
		}
		return
	}
	c.err = ""
	input.Set("value", "")
	ctx.Defer(scrollToBottom)
}

func (c *Chat) onComposerKey(ctx app.Context, e app.Event) {
	if e.Get("key").String() == "Enter" && !e.Get("shiftKey").Bool() && !e.Get("isComposing").Bool() {
		c.onSend(ctx, e)
	}
}

func (c *Chat) onNewRoom(ctx app.Context, e app.Event) {
	if e.Get("key").String() != "Enter" {
		return
	}
	e.PreventDefault()
	input := ctx.JSSrc()
	name := strings.ToLower(strings.TrimSpace(input.Get("value").String()))
	if err := shared.ValidRoom(name); err != nil {
		c.err = err.(*shared.Error).Message
		return
	}
	c.err = ""
	input.Set("value", "")
	if box := app.Window().GetElementByID("new-room-private"); box.Truthy() && box.Get("checked").Bool() {
		box.Set("checked", false)
		c.createPrivate(ctx, name)
		return
	}
	ctx.Navigate(RoomPath(name))
}

func (c *Chat) onScroll(ctx app.Context, e app.Event) {
	if ctx.JSSrc().Get("scrollTop").Int() < 40 {
		theModel.loadOlder(c.room)
	}
}

func (c *Chat) onLoadOlder(ctx app.Context, e app.Event) { theModel.loadOlder(c.room) }

// Render draws the page from the model.
func (c *Chat) Render() app.UI {
	theModel.mu.Lock()
	state, notice, refused := theModel.state, theModel.notice, theModel.signinErr
	theModel.mu.Unlock()
	signed := c.signed && refused == ""
	if !signed {
		state = client.StateOffline
	}
	return app.Div().Class("shell").Body(
		app.Div().Class("top").Attr("role", "banner").Body(
			heading(1, "brand", "Duplex"),
			app.Span().Class("conn").DataSet("test", "connection").DataSet("state", string(state)).Text(stateLabel(state)),
			app.If(signed, c.renderMe),
		),
		app.If(c.err != "" || notice != "" || refused != "", func() app.UI {
			return app.Div().Class("notice").Attr("role", "status").DataSet("test", "notice").Text(strings.TrimSpace(c.err + " " + notice + " " + refused))
		}),
		app.If(!signed, c.renderSignIn).Else(c.renderChat),
	)
}

// renderMe is the signed-in person's corner: the nickname (a box to change
// it) and sign-out.
func (c *Chat) renderMe() app.UI {
	return app.Div().Class("me").Body(
		app.If(c.editNick, func() app.UI {
			return app.Input().ID("nick-input").Type("text").Class("nick-input").DataSet("test", "nick-input").
				MaxLength(shared.MaxNickRunes).Value(c.nick).Attr("aria-label", "New nickname").OnKeyDown(c.onNickKey)
		}).Else(func() app.UI {
			return app.Span().Class("my-nick").DataSet("test", "my-nick").Text(c.nick)
		}),
		app.Button().Type("button").Class("ghost").DataSet("test", "change-nick").OnClick(c.onEditNick).Text("Change nickname"),
		app.Button().Type("button").Class("ghost").DataSet("test", "signout").OnClick(c.onSignOut).Text("Sign out"),
	)
}

func stateLabel(s client.State) string {
	switch s {
	case client.StateOnline:
		return "online"
	case client.StateConnecting:
		return "connecting…"
	}
	return "offline"
}

func (c *Chat) renderSignIn() app.UI {
	room := c.room
	if room == "" {
		room = DefaultRoom
	}
	rows := c.previewRows()
	return app.Div().Class("preview").Body(
		app.If(len(rows) > 0, func() app.UI { return c.renderMessages(rows, false, false) }),
		app.If(c.pre != nil, c.prerenderData),
		c.renderSignInForm(room),
	)
}

// previewRows are the messages shown behind the sign-in form: on the
// server those prerendered, in the browser those seeded from them.
func (c *Chat) previewRows() []row {
	if c.pre != nil {
		rows := make([]row, len(c.pre))
		for i, m := range c.pre {
			rows[i] = row{msg: m, status: "sent"}
		}
		return rows
	}
	if c.room == "" {
		return nil
	}
	return theModel.rows(c.room)
}

func (c *Chat) renderSignInForm(room string) app.UI {
	return app.Form().Class("signin").OnSubmit(c.onSignIn).Body(
		heading(2, "", "Join #"+room),
		app.Input().ID("nickname").Type("text").DataSet("test", "nickname").
			MaxLength(shared.MaxNickRunes).AutoFocus(true).Placeholder("Nickname").Attr("aria-label", "Nickname").
			Attr("autocomplete", "nickname").Required(true),
		app.Button().Type("submit").DataSet("test", "join").Text("Join"),
	)
}

func (c *Chat) renderChat() app.UI {
	if c.room == "" {
		return app.Div().Class("room").Attr("role", "main").Body(app.Div().Text("No such room. Room names use a-z, 0-9, '-' and '_'."))
	}
	theModel.mu.Lock()
	rooms := theModel.rooms
	var members []shared.Member
	more, loading := false, false
	if v := theModel.views[c.room]; v != nil {
		members, more, loading = v.members, v.more && len(v.msgs) > 0, v.loading
	}
	theModel.mu.Unlock()
	rows := theModel.rows(c.room)
	info := theModel.roomInfo(c.room)
	cl := theModel.client()
	me := ""
	if cl != nil {
		me = cl.User()
	}
	owner := info.Kind == shared.RoomPrivate && info.Owner == me
	return app.Div().Class("layout").Body(
		c.renderRooms(rooms),
		app.Div().Class("room").Attr("role", "main").Body(
			heading(2, "room-title", roomLabel(info)),
			app.If(info.Kind == shared.RoomPrivate, func() app.UI {
				return app.Input().Type("text").Class("invite").DataSet("test", "invite").
					Placeholder("Invite by nickname").Attr("aria-label", "Invite someone to this private room by nickname").
					AutoComplete(false).OnKeyDown(c.onInvite)
			}),
			c.renderMessages(rows, more, loading),
			app.Form().Class("composer-bar").OnSubmit(c.onSend).Body(
				app.Input().ID("composer").Type("text").Class("composer").DataSet("test", "composer").
					Placeholder("Message #"+c.room).Attr("aria-label", "Message").AutoComplete(false).AutoFocus(true).
					OnKeyDown(c.onComposerKey),
				app.Button().Type("submit").DataSet("test", "send").Text("Send"),
			),
		),
		app.Div().Class("members").Attr("role", "complementary").Body(
			heading(3, "", "Members ("+strconv.Itoa(len(members))+")"),
			app.Ul().DataSet("test", "members").Body(
				app.Range(members).Slice(func(i int) app.UI {
					m := members[i]
					return app.Li().DataSet("test", "member").DataSet("user", m.User).Title("%s · %s", m.Nick, shortUser(m.User)).Body(
						app.Span().Text(m.Nick),
						app.If(m.User != me && me != "", func() app.UI {
							// No text: the item's text stays the nickname
							// (tests and screen readers read it); the
							// label is CSS and aria-label.
							return app.Button().Type("button").Class("ghost small act-dm").DataSet("test", "dm").DataSet("user", m.User).
								Attr("aria-label", "Message "+m.Nick).Title("Message %s", m.Nick).OnClick(c.onDM)
						}),
						app.If(owner && m.User != me, func() app.UI {
							return app.Button().Type("button").Class("ghost small act-remove").DataSet("test", "remove").DataSet("user", m.User).
								Attr("aria-label", "Remove "+m.Nick+" from this room").Title("Remove %s", m.Nick).OnClick(c.onRemove)
						}),
					)
				}),
			),
		),
	)
}

func (c *Chat) renderMessages(rows []row, more, loading bool) app.UI {
	return app.Div().ID("messages").Class("messages").DataSet("test", "messages").OnScroll(c.onScroll).Body(
		app.If(more, func() app.UI {
			label := "Load older messages"
			if loading {
				label = "Loading…"
			}
			return app.Button().Class("older").DataSet("test", "load-older").OnClick(c.onLoadOlder).Text(label)
		}),
		app.Range(rows).Slice(func(i int) app.UI { return renderRow(rows[i]) }),
	)
}

func (c *Chat) renderRooms(rooms []shared.RoomInfo) app.UI {
	listed := false
	for _, r := range rooms {
		listed = listed || r.Name == c.room
	}
	if !listed && !strings.HasPrefix(c.room, "dm-") {
		rooms = append([]shared.RoomInfo{{Name: c.room}}, rooms...)
	}
	private, dms := roomsOf(rooms, shared.RoomPrivate), roomsOf(rooms, shared.RoomDM)
	return app.Div().Class("rooms").Attr("role", "navigation").Body(
		c.renderRoomSection("Rooms", "room-list", roomsOf(rooms, shared.RoomPublic)),
		app.If(len(private) > 0, func() app.UI { return c.renderRoomSection("Private", "private-list", private) }),
		app.If(len(dms) > 0, func() app.UI { return c.renderRoomSection("Direct messages", "dm-list", dms) }),
		app.Input().Type("text").Class("new-room").DataSet("test", "new-room").
			Placeholder("join or create room").Attr("aria-label", "Join or create a room").AutoComplete(false).OnKeyDown(c.onNewRoom),
		app.Div().Class("private-toggle").Body(
			app.Input().Type("checkbox").ID("new-room-private").DataSet("test", "new-room-private").Attr("aria-label", "Create it as a private room"),
			app.Span().Text(" private"),
		),
	)
}

func renderRow(r row) app.UI {
	t := time.UnixMilli(r.msg.TS)
	li := app.Li().Class("msg "+r.status).DataSet("test", "message").
		DataSet("seq", r.msg.Seq).DataSet("status", r.status).DataSet("msg-id", r.msg.MsgID)
	if r.reason != "" {
		li = li.Title("%s", "Not sent: "+r.reason)
	}
	return li.Body(
		app.Span().Class("author "+userColor(r.msg.Author.User)).DataSet("test", "author").DataSet("user", r.msg.Author.User).
			Title("%s · %s", r.msg.Author.Nick, shortUser(r.msg.Author.User)).Text(r.msg.Author.Nick),
		app.Span().Class("time").DataSet("test", "time").Title("%s", t.UTC().Format(time.RFC3339)).Text(t.Format("15:04")),
		app.Div().Class("body").DataSet("test", "body").Text(r.msg.Body),
	)
}

// heading is a div with the heading role: each distinct go-app element
// type adds tens of kilobytes to the wasm bundle, so the UI sticks to a
// handful of them and keeps the semantics through ARIA.
func heading(level int, class, text string) app.UI {
	return app.Div().Class(strings.TrimSpace("heading "+class)).Attr("role", "heading").Attr("aria-level", level).Text(text)
}
