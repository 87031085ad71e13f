package ui

import (
	"encoding/json"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/duplex-chat/duplex/app/client"
	"github.com/duplex-chat/duplex/shared"
	"github.com/maxence-charriere/go-app/v10/pkg/app"
)

// nickKey is where the chosen nickname is kept in localStorage.
const nickKey = "duplex.nick"

// Where web/duplex.js keeps what was typed into the prerendered sign-in
// form before app.wasm ran (sessionStorage, plain strings).
const (
	earlyDraftKey = "duplex.early.draft" // the nickname box's text
	earlyNickKey  = "duplex.early.nick"  // a nickname submitted with Enter or Join
)

// Actions the page's components send it.
const (
	actionToast  = "duplex.toast"  // value: the message to show
	actionSignIn = "duplex.signin" // value: the nickname
)

// Chat is the page: a top bar (brand, connection status, the person), a
// fixed toast slot, and either the sign-in form over the room's latest
// messages, the chat (room list, messages and composer, members) or the
// not-found page. It holds the view state; the model holds the data.
type Chat struct {
	app.Compo
	m *model // the page's model, passed down by Chat (never a global: prerendered pages run concurrently)

	room   string           // "" on the not-found page
	path   string           // the URL path shown
	pre    []shared.Message // prerendered messages (server side only)
	nick   string           // signed in as
	snap   snapshot
	toast  string // an error from this page's own actions
	drawer string // on a phone: "rooms", "members" or ""
	update bool   // a new app.wasm is installed: offer a reload
	// editNick shows the nickname box in the top bar.
	editNick bool
	// noRoom: the person left their last room; the room browser shows.
	noRoom bool
	// meOpen: on a phone, the account menu (change nickname, sign out).
	meOpen bool
	// switcher: the Ctrl/Cmd+K quick switcher is open (keyboard.go).
	switcher bool
	// signoutAsk: the warning before signing out shows (explain.go).
	signoutAsk bool
	// signoutAll: the sign-out asked for is "everywhere".
	signoutAll bool

	queued  atomic.Bool // a refresh is dispatched and has not run yet
	ticking bool        // a countdown refresh is scheduled
	keys    app.Func

	reads  readWatch // marking read, the new-messages line: unread.go
	jumped string    // the search target already scrolled to: search.go
}

// OnInit runs before the first render, which in the browser comes before
// OnMount: without the room and the nickname that render would be an
// empty sign-in page, and the prerendered rows (seeded into the model)
// would flash away until OnMount re-renders.
func (c *Chat) OnInit() {
	if !app.IsClient {
		return
	}
	c.path = app.Window().URL().Path
	c.room = roomFromPath(c.path)
	c.nick = storedNick()
	c.snap = c.m.snapshot(c.room)
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

// OnMount connects the page to the model, listens for the keyboard
// shortcuts and signs in: with the stored nickname, or with one typed
// into the prerendered form before the wasm started.
func (c *Chat) OnMount(ctx app.Context) {
	app.Window().Set("duplexReady", true) // web/duplex.js stands down
	c.m.setNotify(func() {
		if c.queued.CompareAndSwap(false, true) {
			ctx.Dispatch(func(ctx app.Context) { c.queued.Store(false); c.refresh(ctx) })
		}
	})
	ctx.Handle(actionSwitcher, func(ctx app.Context, a app.Action) { // keyboard.go
		c.switcher = false
		ctx.Defer(func(app.Context) { focus(composerID) })
	})
	ctx.Handle(actionToast, func(ctx app.Context, a app.Action) {
		c.toast, _ = a.Value.(string)
	})
	ctx.Handle(actionNoRoom, func(ctx app.Context, a app.Action) {
		c.noRoom = true
		ctx.Page().SetTitle("Rooms · Duplex")
		ctx.Defer(func(app.Context) { focusFirst("[data-test=no-room] a, [data-test=new-room]") })
	})
	ctx.Handle(actionSignIn, func(ctx app.Context, a app.Action) {
		if nick, _ := a.Value.(string); nick != "" {
			ctx.LocalStorage().Set(nickKey, nick)
			c.toast = ""
			if c.m.snapshot("").SigninErr != "" {
				// The last client stopped on a refused hello: start anew.
				c.nick = nick
				c.m.restart(ctx, wsURL(), nick)
				c.enter(ctx)
				return
			}
			c.signIn(ctx, nick)
		}
	})
	c.listenKeys(ctx)
	c.listenRead(ctx) // unread.go
	if c.nick != "" {
		c.signIn(ctx, c.nick)
		return
	}
	session := app.Window().Get("sessionStorage")
	if v := session.Call("getItem", earlyNickKey); v.Truthy() {
		session.Call("removeItem", earlyNickKey)
		nick := strings.TrimSpace(v.String())
		err := shared.ValidNick(nick)
		if err == nil {
			ctx.LocalStorage().Set(nickKey, nick)
			c.signIn(ctx, nick)
			return
		}
		c.toast = "Nickname: " + errText(err) // the box still holds it, to correct
	}
	c.enter(ctx)
}

// OnDismount stops the model's updates and the keyboard listener.
func (c *Chat) OnDismount() {
	c.m.setNotify(nil)
	c.stopRead()
	if c.keys != nil {
		app.Window().Call("removeEventListener", "keydown", c.keys)
		c.keys.Release()
		c.keys = nil
	}
}

// OnNav follows in-app navigation between rooms.
func (c *Chat) OnNav(ctx app.Context) {
	c.path = ctx.Page().URL().Path
	c.room = roomFromPath(c.path)
	c.drawer, c.noRoom = "", false
	c.enter(ctx)
}

// OnAppUpdate is go-app's signal that a new app.wasm is installed.
func (c *Chat) OnAppUpdate(ctx app.Context) { c.update = ctx.AppUpdateAvailable() }

func (c *Chat) signIn(ctx app.Context, nick string) {
	c.nick = nick
	c.m.start(ctx, wsURL(), nick)
	session := app.Window().Get("sessionStorage")
	session.Call("removeItem", earlyDraftKey)
	c.enter(ctx)
}

// enter shows the room the path names: the canonical path, the title,
// the join, a fresh snapshot, and the focus where typing is expected.
func (c *Chat) enter(ctx app.Context) {
	if canonical, ok := CanonicalPath(c.path); ok && canonical != c.path {
		app.Window().Get("history").Call("replaceState", nil, "", canonical)
		c.path = canonical
	}
	ctx.Page().SetTitle(titleWithUnread(c.snap.TotalUnread, pageTitle(c.room)))
	if c.nick != "" && c.room != "" {
		c.m.open(ctx, c.room)
		c.m.seen(c.room)                  // manage.go: an invitation, once opened, is not new
		if seq := linkTarget(); seq > 0 { // links.go: a message link
			c.m.jumpTo(c.room, seq)
		}
	}
	c.refresh(ctx)
	ctx.Defer(func(ctx app.Context) {
		if !c.signedIn() {
			restoreEarlyDraft()
			focus("nickname")
		} else if c.room != "" {
			focus("composer")
		}
	})
}

// pageTitle names the room, so tabs and history tell rooms apart.
func pageTitle(room string) string {
	if room == "" {
		return "Not found · Duplex"
	}
	return roomLabel(shared.RoomInfo{Name: room}) + " · Duplex"
}

// refresh re-reads the model; while offline it ticks once a second for
// the reconnect countdown.
func (c *Chat) refresh(ctx app.Context) {
	c.snap = c.m.snapshot(c.room)
	c.adoptNick() // identity.go
	if c.room != "" && c.snap.Info.Name == c.room {
		ctx.Page().SetTitle(titleWithUnread(c.snap.TotalUnread, roomLabel(c.snap.Info)+" · Duplex")) // a DM by the other person's name
	} else if c.room != "" {
		ctx.Page().SetTitle(titleWithUnread(c.snap.TotalUnread, pageTitle(c.room)))
	}
	c.placeLine()          // unread.go
	ctx.Defer(c.checkRead) // unread.go: after the list rendered
	c.seek(ctx)            // search.go
	if c.snap.Signed && c.snap.State == client.StateOffline && !c.ticking {
		c.ticking = true
		ctx.After(time.Second, func(ctx app.Context) { c.ticking = false; c.refresh(ctx) })
	}
}

// restoreEarlyDraft puts back what was typed into the prerendered
// nickname box before go-app replaced it.
func restoreEarlyDraft() {
	v := app.Window().Get("sessionStorage").Call("getItem", earlyDraftKey)
	el := app.Window().GetElementByID("nickname")
	if v.Truthy() && el.Truthy() && el.Get("value").String() == "" {
		el.Set("value", v.String())
	}
}

// toggleFocus flips *open and, when that opens something, calls
// focusIt once the page shows it.
func toggleFocus(ctx app.Context, open *bool, focusIt func()) {
	*open = !*open
	if *open {
		ctx.Defer(func(app.Context) { focusIt() })
	}
}

func focus(id string) {
	if el := app.Window().GetElementByID(id); el.Truthy() {
		el.Call("focus")
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

// listenKeys handles the page-wide keys: Alt+↑/↓ switch to the previous
// or next joined room, Escape closes a drawer or moves focus to the room
// list (where Tab and Enter pick a room).
func (c *Chat) listenKeys(ctx app.Context) {
	c.keys = app.FuncOf(func(this app.Value, args []app.Value) any {
		e := args[0]
		key := e.Get("key").String()
		switch {
		case e.Get("altKey").Bool() && (key == "ArrowUp" || key == "ArrowDown"):
			e.Call("preventDefault")
			step := 1
			if key == "ArrowUp" {
				step = -1
			}
			ctx.Dispatch(func(ctx app.Context) { c.stepRoom(ctx, step) })
		case (e.Get("ctrlKey").Bool() || e.Get("metaKey").Bool()) && (key == "k" || key == "K"):
			e.Call("preventDefault")
			ctx.Dispatch(func(ctx app.Context) {
				if c.signedIn() {
					c.switcher = !c.switcher
				}
			})
		case key == "Escape":
			ctx.Dispatch(c.escape)
		}
		return nil
	})
	app.Window().Call("addEventListener", "keydown", c.keys)
}

func (c *Chat) stepRoom(ctx app.Context, step int) {
	rooms := c.snap.Joined
	if !c.signedIn() || len(rooms) == 0 {
		return
	}
	// The room on screen is the one in the address bar: a quick second
	// Alt+↑/↓ may come before OnNav of the first has updated c.room.
	cur := c.room
	if app.IsClient {
		cur = roomFromPath(app.Window().URL().Path)
	}
	i := 0
	for j, r := range rooms {
		if r == cur {
			i = j + step
		}
	}
	i = (i + len(rooms)) % len(rooms)
	if rooms[i] != cur {
		ctx.Navigate(RoomPath(rooms[i]))
	}
}

func (c *Chat) escape(ctx app.Context) {
	if c.drawer != "" {
		c.drawer = ""
		ctx.Defer(func(app.Context) { focus("composer") })
		return
	}
	if !c.signedIn() {
		return
	}
	if app.Window().Get("innerWidth").Int() < 800 {
		c.drawer = "rooms"
	}
	ctx.Defer(func(app.Context) {
		if el := app.Window().Get("document").Call("querySelector", "#rooms [aria-current=page]"); el.Truthy() {
			el.Call("focus")
		}
	})
}

func (c *Chat) toggle(drawer string) app.EventHandler {
	return func(ctx app.Context, e app.Event) {
		if c.drawer == drawer {
			c.drawer = ""
			return
		}
		c.drawer = drawer
	}
}

func (c *Chat) closeDrawer(ctx app.Context, e app.Event) { c.drawer = "" }

func (c *Chat) dismiss(ctx app.Context, e app.Event) {
	c.toast = ""
	c.m.dismiss()
	c.snap.Notice, c.snap.Confirm = "", ""
}

func (c *Chat) reload(ctx app.Context, e app.Event) { ctx.Reload() }

// Render draws the page. The top bar, with the toast slot, keeps the same
// shape on every page, so a message appearing never rebuilds the layout.
func (c *Chat) Render() app.UI {
	signed := c.signedIn()
	return app.Div().Class("shell").Body(
		c.renderTop(signed),
		app.If(c.room == "", c.renderNotFound).
			ElseIf(!signed, c.renderSignIn).
			ElseIf(c.noRoom, c.renderNoRoom).
			ElseIf(c.snap.Denied != "", c.renderDenied).
			Else(c.renderChat),
		app.If(c.switcher && signed, func() app.UI { return &Switcher{m: c.m, Snap: c.snap} }),
	)
}

// signedIn reports whether the chat shows: a nickname the server has
// not refused.
func (c *Chat) signedIn() bool { return c.nick != "" && c.snap.SigninErr == "" }

func (c *Chat) renderTop(signed bool) app.UI {
	s := c.snap
	inRoom := signed && c.room != ""
	notice := c.toast
	for _, n := range []string{s.SigninErr, s.Notice} {
		if notice == "" {
			notice = n
		}
	}
	retryIn := 0
	if !s.NextRetry.IsZero() {
		retryIn = int(time.Until(s.NextRetry).Round(time.Second) / time.Second)
	}
	return app.Div().Class("top").Attr("role", "banner").Body(
		app.Button().Class("bar-btn icon-btn phone-only").DataSet("test", "open-rooms").Hidden(!inRoom).
			Attr("aria-expanded", c.drawer == "rooms").Attr("aria-controls", "rooms").Attr("aria-label", "Rooms").Title("Rooms").
			OnClick(c.toggle("rooms")).Body(icon("menu")),
		heading(1, "brand", "Duplex"),
		&ConnStatus{m: c.m, Signed: signed, State: string(s.State), RetryIn: retryIn},
		app.If(signed, c.renderMe).Else(func() app.UI { return app.Div().Class("me") }),
		app.Button().Class("bar-btn icon-btn narrow-only").DataSet("test", "open-members").Hidden(!inRoom).
			Attr("aria-expanded", c.drawer == "members").Attr("aria-controls", "members").
			Attr("aria-label", "Members "+strconv.Itoa(len(s.Members))).Title("Members").
			OnClick(c.toggle("members")).Body(icon("users"), app.Span().Attr("aria-hidden", "true").Text(strconv.Itoa(len(s.Members)))),
		app.Div().Class("toasts").Attr("role", "status").Body(
			app.If(c.update, func() app.UI {
				return app.Div().Class("toast update").DataSet("test", "update").Body(
					app.Span().Text("A new version is available."),
					app.Button().DataSet("test", "update-reload").OnClick(c.reload).Text("Reload"),
				)
			}),
			app.If(notice == "" && s.Confirm != "", func() app.UI {
				return app.Div().Class("toast info").DataSet("test", "notice").DataSet("kind", "info").Body(
					app.Span().Class("toast-text").Text(s.Confirm),
					app.Button().Class("toast-close").DataSet("test", "dismiss").Attr("aria-label", "Dismiss").OnClick(c.dismiss).Body(icon("close")),
				)
			}),
			app.If(notice != "", func() app.UI {
				return app.Div().Class("toast").DataSet("test", "notice").DataSet("kind", "error").Body(
					app.Span().Class("toast-text").Text(notice),
					app.Button().Class("toast-close").DataSet("test", "dismiss").Attr("aria-label", "Dismiss").OnClick(c.dismiss).Body(icon("close")),
				)
			}),
		),
	)
}

func (c *Chat) renderSignIn() app.UI {
	return app.Div().Class("preview").Attr("role", "main").Body(
		&MessageList{m: c.m, Room: c.room, Rows: c.previewRows(), Preview: true},
		app.If(c.pre != nil, c.prerenderData),
		&SignIn{Room: c.room},
	)
}

// previewRows are the messages shown behind the sign-in form: on the
// server those prerendered, in the browser those seeded from them.
func (c *Chat) previewRows() []row {
	if c.pre != nil {
		rows := make([]row, len(c.pre))
		for i := range c.pre {
			rows[i] = row{Msg: &c.pre[i], Status: "sent"}
		}
		return rows
	}
	return c.snap.Rows
}

func (c *Chat) renderChat() app.UI {
	s := c.snap
	owner := s.Info.Kind == shared.RoomPrivate && s.Info.Owner == s.User && s.User != ""
	return app.Div().Class("layout").DataSet("drawer", c.drawer).Body(
		&RoomList{m: c.m, Current: c.room, Joined: s.Joined, Rooms: s.Rooms, Unread: s.Reads, Invited: s.Invited},
		app.Div().Class("room").Attr("role", "main").OnDragOver(onDragOver).OnDrop(onDrop).Body(
			app.Div().Class("room-head").Body(
				heading(2, "room-title", roomLabel(s.Info)),
				&SearchBox{m: c.m, Snap: s.Search, Rooms: s.Rooms},
				&NotifyToggle{},
			),
			app.If(s.Info.Kind == shared.RoomPrivate, func() app.UI {
				return app.Input().Type("text").Class("invite").DataSet("test", "invite").
					Placeholder("Invite by nickname").Attr("aria-label", "Invite someone to this private room by nickname").
					AutoComplete(false).OnKeyDown(c.onInvite)
			}),
			&MessageList{m: c.m, Room: c.room, Rows: s.Rows, More: s.More, Loading: s.Loading, Me: s.User,
				Nicks: newNickSet(s.Members, shared.Member{User: s.User, Nick: s.Nick}), Line: c.lineAt(), Target: s.Search.Target, Names: s.Names, Ready: s.Joined != nil && contains(s.Joined, c.room)},
			&TypingLine{Users: s.Typing},
			&Composer{m: c.m, Room: c.room, Label: roomLabel(s.Info), RefusedID: s.Refused.MsgID, RefusedBody: s.Refused.Body},
			&MentionSuggest{Room: c.room, Members: s.Members, Me: s.User},
		),
		&MemberList{m: c.m, Room: c.room, Members: s.Members, Stale: s.State != client.StateOnline, Me: s.User, Owner: owner, DM: s.Info.Kind == shared.RoomDM || shared.IsDMRoom(c.room)},
		app.Div().Class("scrim").DataSet("test", "scrim").OnClick(c.closeDrawer),
	)
}

func (c *Chat) renderNotFound() app.UI {
	return app.Div().Class("layout notfound-layout").Body(
		app.Div().Class("room notfound").Attr("role", "main").DataSet("test", "not-found").Body(
			heading(2, "", "Page not found"),
			app.Div().Class("notfound-text").Text("There is no room at "+c.path+". Room names use a–z, 0–9, '-' and '_'."),
			app.A().Class("back").Href("/").DataSet("test", "back").Text("Go to #"+DefaultRoom),
		),
	)
}

// heading is a div with the heading role: each distinct go-app element
// type adds tens of kilobytes to the wasm bundle, so the UI sticks to a
// handful of them and keeps the semantics through ARIA.
func heading(level int, class, text string) app.UI {
	return app.Div().Class(strings.TrimSpace("heading "+class)).Attr("role", "heading").Attr("aria-level", level).Text(text)
}
