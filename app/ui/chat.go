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
	state, notice := theModel.state, theModel.notice
	theModel.mu.Unlock()
	if !c.signed {
		state = client.StateOffline
	}
	return app.Div().Class("shell").Body(
		app.Div().Class("top").Attr("role", "banner").Body(
			heading(1, "brand", "Duplex"),
			app.Span().Class("conn").DataSet("test", "connection").DataSet("state", string(state)).Text(stateLabel(state)),
			app.If(c.signed, func() app.UI { return app.Span().Class("me").Text(c.nick) }),
		),
		app.If(c.err != "" || notice != "", func() app.UI {
			return app.Div().Class("notice").Attr("role", "status").DataSet("test", "notice").Text(strings.TrimSpace(c.err + " " + notice))
		}),
		app.If(!c.signed, c.renderSignIn).Else(c.renderChat),
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
	return app.Div().Class("layout").Body(
		c.renderRooms(rooms),
		app.Div().Class("room").Attr("role", "main").Body(
			heading(2, "room-title", "#"+c.room),
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
					return app.Li().DataSet("test", "member").DataSet("user", members[i].User).Text(members[i].Nick)
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
	if !listed {
		rooms = append([]shared.RoomInfo{{Name: c.room}}, rooms...)
	}
	return app.Div().Class("rooms").Attr("role", "navigation").Body(
		heading(3, "", "Rooms"),
		app.Ul().DataSet("test", "room-list").Body(
			app.Range(rooms).Slice(func(i int) app.UI {
				r := rooms[i]
				cls := "room-item"
				if r.Name == c.room {
					cls += " active"
				}
				return app.Li().Class(cls).DataSet("test", "room").DataSet("room", r.Name).Body(
					app.A().Href("%s", RoomPath(r.Name)).Text("#"+r.Name),
					app.If(r.Members > 0, func() app.UI { return app.Span().Class("count").Text(strconv.Itoa(r.Members)) }),
				)
			}),
		),
		app.Input().Type("text").Class("new-room").DataSet("test", "new-room").
			Placeholder("join or create room").Attr("aria-label", "Join or create a room").AutoComplete(false).OnKeyDown(c.onNewRoom),
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
		app.Span().Class("author").DataSet("test", "author").Text(r.msg.Author.Nick),
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
