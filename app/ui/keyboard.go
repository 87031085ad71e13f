package ui

import (
	"context"
	"sort"
	"strconv"
	"strings"

	"github.com/duplex-chat/duplex/app/client"
	"github.com/duplex-chat/duplex/shared"
	"github.com/maxence-charriere/go-app/v10/pkg/app"
)

// Fast by keyboard (issue #17): the message list is one Tab stop (a
// roving tabindex: one message is tabbable, ↑/↓/Home/End move between
// messages, Tab goes on to that message's controls, Escape comes back);
// ↓ in the search box enters the results, Escape closes them; Ctrl/Cmd+K
// opens a quick switcher over rooms, DMs and people.

// rove makes one message of the list tabbable (the one with msg_id
// active, else the newest) and every other message, and every control in
// a message, reachable by arrows only (→ or Enter from a message enters
// its controls). It runs after each render of the list.
func rove(active string) {
	list := app.Window().GetElementByID(listID)
	if !list.Truthy() {
		return
	}
	rows := list.Call("querySelectorAll", "[data-test=message]")
	n := rows.Length()
	if n == 0 {
		return
	}
	pick := rows.Index(n - 1)
	for i := 0; i < n; i++ {
		if r := rows.Index(i); r.Get("dataset").Get("msgId").String() == active {
			pick = r
		}
	}
	for i := 0; i < n; i++ {
		r := rows.Index(i)
		on := r.Equal(pick)
		tab := -1
		if on {
			tab = 0
		}
		r.Set("tabIndex", tab)
		ctl := r.Call("querySelectorAll", "button, a, [tabindex]")
		for j := 0; j < ctl.Length(); j++ {
			ctl.Index(j).Set("tabIndex", -1)
		}
	}
}

// onListKey moves between messages with the arrow keys.
func (l *MessageList) onListKey(ctx app.Context, e app.Event) {
	key := e.Get("key").String()
	target := e.Get("target")
	row := target.Call("closest", "[data-test=message]")
	if !row.Truthy() {
		return
	}
	onRow := target.Equal(row)
	rows := app.Window().GetElementByID(listID).Call("querySelectorAll", "[data-test=message]")
	n, at := rows.Length(), -1
	for i := 0; i < n; i++ {
		if rows.Index(i).Equal(row) {
			at = i
		}
	}
	next := at
	ctls := row.Call("querySelectorAll", "button:not([disabled]), a[href]")
	switch {
	case e.Get("altKey").Bool() || e.Get("ctrlKey").Bool() || e.Get("metaKey").Bool():
		return
	case key == "Escape" && !onRow:
		e.Call("stopPropagation")
		row.Call("focus")
		return
	case !onRow && (key == "ArrowRight" || key == "ArrowLeft"):
		e.PreventDefault()
		for i := 0; i < ctls.Length(); i++ {
			if ctls.Index(i).Equal(target) {
				j := i + 1
				if key == "ArrowLeft" {
					j = i - 1
				}
				if j >= 0 && j < ctls.Length() {
					ctls.Index(j).Call("focus")
				}
			}
		}
		return
	case onRow && (key == "ArrowRight" || key == "Enter"):
		if ctls.Length() > 0 {
			e.PreventDefault()
			ctls.Index(0).Call("focus")
		}
		return
	case !onRow:
		return
	case key == "ArrowUp":
		next = max(at-1, 0)
	case key == "ArrowDown":
		next = min(at+1, n-1)
	case key == "Home":
		next = 0
	case key == "End":
		next = n - 1
	default:
		return
	}
	e.PreventDefault()
	if next == at || next < 0 {
		if key == "ArrowUp" && at == 0 {
			l.m.loadOlder(ctx, l.Room)
		}
		return
	}
	el := rows.Index(next)
	l.active = el.Get("dataset").Get("msgId").String()
	rove(l.active)
	el.Call("focus", map[string]any{"preventScroll": true})
	el.Call("scrollIntoView", map[string]any{"block": "nearest"})
}

// onListFocus makes the message that got the focus the tabbable one.
func (l *MessageList) onListFocus(ctx app.Context, e app.Event) {
	row := e.Get("target").Call("closest", "[data-test=message]")
	if !row.Truthy() {
		return
	}
	if id := row.Get("dataset").Get("msgId").String(); id != l.active {
		l.active = id
		rove(id)
	}
	ctx.PreventUpdate()
}

// onResultsKey moves between search results with the arrow keys; Escape
// closes them and goes back to the box.
func (b *SearchBox) onResultsKey(ctx app.Context, e app.Event) {
	key := e.Get("key").String()
	doc := app.Window().Get("document")
	results := doc.Call("querySelectorAll", "[data-test=search-result]")
	n, at := results.Length(), -1
	for i := 0; i < n; i++ {
		if results.Index(i).Equal(doc.Get("activeElement")) {
			at = i
		}
	}
	switch key {
	case "Escape":
		e.Call("stopPropagation")
		e.PreventDefault()
		b.m.closeSearch()
		b.m.changed()
		focusFirst("[data-test=search]")
	case "ArrowDown", "ArrowUp":
		e.PreventDefault()
		next := at + 1
		if key == "ArrowUp" {
			next = at - 1
		}
		if next < 0 {
			focusFirst("[data-test=search]")
			return
		}
		if next < n {
			results.Index(next).Call("focus")
		}
	}
	ctx.PreventUpdate()
}

// switchItem is one choice of the quick switcher.
type switchItem struct {
	Label string // what is shown and matched: "#design", "@bob"
	Room  string // a room to open, or
	User  string // a person to message
}

// switchItems are the rooms, DMs and people the switcher offers,
// matching query, best first.
func switchItems(s snapshot, query string) []switchItem {
	seen := map[string]bool{}
	var items []switchItem
	add := func(it switchItem) {
		key := it.Room + "|" + it.User
		if !seen[key] {
			seen[key] = true
			items = append(items, it)
		}
	}
	for _, r := range s.Joined {
		add(switchItem{Label: roomLabel(shared.RoomInfo{Name: r}), Room: r})
	}
	peers := map[string]bool{}
	for _, r := range s.Rooms {
		if r.Peer != nil {
			peers[r.Peer.User] = true
		}
		if shared.IsDMRoom(r.Name) && r.Peer == nil {
			continue
		}
		add(switchItem{Label: roomLabel(r), Room: r.Name})
	}
	var people []string
	for user := range s.Names {
		if user != s.User && !peers[user] {
			people = append(people, user)
		}
	}
	sort.Slice(people, func(i, j int) bool { return s.Names[people[i]] < s.Names[people[j]] })
	for _, u := range people {
		add(switchItem{Label: "@" + s.Names[u], User: u})
	}
	// Labels of joined rooms came without the room list: fix DMs.
	for i, it := range items {
		for _, r := range s.Rooms {
			if it.Room != "" && r.Name == it.Room {
				items[i].Label = roomLabel(r)
			}
		}
	}
	q := strings.ToLower(strings.TrimLeft(strings.TrimSpace(query), "#@"))
	var prefix, inside []switchItem
	for _, it := range items {
		name := strings.ToLower(strings.TrimLeft(it.Label, "#@"))
		switch {
		case strings.HasPrefix(name, q):
			prefix = append(prefix, it)
		case strings.Contains(name, q):
			inside = append(inside, it)
		}
	}
	out := append(prefix, inside...)
	if len(out) > 12 {
		out = out[:12]
	}
	return out
}

// Switcher is the Ctrl/Cmd+K quick switcher: a dialog with a box and the
// matching rooms, DMs and people; ↑/↓ choose, Enter opens, Escape closes.
type Switcher struct {
	app.Compo
	m *model // the page's model, passed down by Chat (never a global: prerendered pages run concurrently)

	Snap snapshot

	query string
	sel   int
}

// OnMount focuses the box.
func (w *Switcher) OnMount(ctx app.Context) {
	ctx.Defer(func(app.Context) { focusFirst("[data-test=switcher-input]") })
}

func (w *Switcher) onInput(ctx app.Context, e app.Event) {
	w.query, w.sel = ctx.JSSrc().Get("value").String(), 0
}

func (w *Switcher) onKey(ctx app.Context, e app.Event) {
	items := switchItems(w.Snap, w.query)
	switch e.Get("key").String() {
	case "ArrowDown":
		e.PreventDefault()
		if w.sel < len(items)-1 {
			w.sel++
		}
	case "ArrowUp":
		e.PreventDefault()
		if w.sel > 0 {
			w.sel--
		}
	case "Enter":
		e.PreventDefault()
		if w.sel < len(items) {
			w.choose(ctx, items[w.sel])
		}
	case "Escape":
		e.Call("stopPropagation")
		ctx.NewAction(actionSwitcher)
	default:
		ctx.PreventUpdate()
	}
}

func (w *Switcher) onPick(ctx app.Context, e app.Event) {
	i := ctx.JSSrc().Get("dataset").Get("index").Int()
	if items := switchItems(w.Snap, w.query); i < len(items) {
		w.choose(ctx, items[i])
	}
}

func (w *Switcher) choose(ctx app.Context, it switchItem) {
	if it.Room != "" {
		ctx.NewAction(actionSwitcher) // closes
		ctx.Navigate(RoomPath(it.Room))
		return
	}
	user := it.User
	// The switcher stays until the DM is known: a Dispatch through the
	// ctx of a component already gone would be dropped.
	w.m.do(ctx, "Direct message", requestTimeout, func(rctx context.Context, cl *client.Client) error {
		info, err := cl.DirectMessage(rctx, user)
		if err != nil {
			return err
		}
		ctx.Dispatch(func(ctx app.Context) {
			ctx.NewAction(actionSwitcher)
			ctx.Navigate(RoomPath(info.Name))
		})
		w.m.refreshRooms()
		return nil
	})
}

func (w *Switcher) onClose(ctx app.Context, e app.Event) { ctx.NewAction(actionSwitcher) }

// Render draws the dialog.
func (w *Switcher) Render() app.UI {
	items := switchItems(w.Snap, w.query)
	active := ""
	if w.sel < len(items) {
		active = "sw-" + itoa(w.sel)
	}
	return app.Div().Class("switcher-wrap").Body(
		app.Div().Class("scrim switcher-scrim").OnClick(w.onClose),
		app.Div().Class("switcher").DataSet("test", "switcher").Attr("role", "dialog").Attr("aria-modal", "true").
			Attr("aria-label", "Switch to a room or person").Body(
			app.Input().Type("text").Class("switcher-input").DataSet("test", "switcher-input").
				Placeholder("Go to a room or person…").Attr("aria-label", "Go to a room or person").
				Attr("role", "combobox").Attr("aria-expanded", true).Attr("aria-controls", "switcher-list").
				Attr("aria-activedescendant", active).AutoComplete(false).
				OnInput(w.onInput).OnKeyDown(w.onKey),
			app.Ul().ID("switcher-list").Class("switcher-list").Attr("role", "listbox").Attr("aria-label", "Matches").Body(
				app.If(len(items) == 0, func() app.UI {
					return app.Li().Class("empty").Attr("role", "option").Attr("aria-disabled", "true").Text("Nothing matches")
				}),
				app.Range(items).Slice(func(i int) app.UI {
					it := items[i]
					cls := "switcher-option"
					if i == w.sel {
						cls += " selected"
					}
					return app.Li().ID("sw-"+itoa(i)).Class(cls).DataSet("test", "switcher-option").DataSet("index", i).
						DataSet("room", it.Room).DataSet("user", it.User).Attr("role", "option").Attr("aria-selected", i == w.sel).
						OnClick(w.onPick).Text(it.Label)
				}),
			),
		),
	)
}

// actionSwitcher toggles the quick switcher.
const actionSwitcher = "duplex.switcher"

func itoa(i int) string { return strconv.Itoa(i) }
