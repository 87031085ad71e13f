package ui

import (
	"strconv"
	"strings"

	"github.com/duplex-chat/duplex/app/client"
	"github.com/duplex-chat/duplex/shared"
	"github.com/maxence-charriere/go-app/v10/pkg/app"
)

// RoomList is the sidebar (a drawer on a phone): the public rooms the
// person joined, their private rooms and direct conversations, a way to
// browse the other public rooms, and a box to join or create one by name
// (public, or private with the checkbox).
type RoomList struct {
	app.Compo
	m *model // the page's model, passed down by Chat (never a global: prerendered pages run concurrently)

	Current string
	Joined  []string
	Rooms   []shared.RoomInfo             // every public room, with its member count
	Unread  map[string]client.ReadChanged // unread counts by room: unread.go
	Invited map[string]bool               // invitations not opened: manage.go

	browsing bool
}

func (l *RoomList) toggleBrowse(ctx app.Context, e app.Event) { l.browsing = !l.browsing }

func (l *RoomList) onNewRoom(ctx app.Context, e app.Event) {
	if e.Get("key").String() != "Enter" {
		return
	}
	e.PreventDefault()
	input := ctx.JSSrc()
	name := strings.ToLower(strings.TrimSpace(input.Get("value").String()))
	if err := shared.ValidRoom(name); err != nil {
		// The text stays in the box to be corrected.
		ctx.NewActionWithValue(actionToast, errText(err))
		return
	}
	input.Set("value", "")
	l.browsing = false
	if box := app.Window().GetElementByID("new-room-private"); box.Truthy() && box.Get("checked").Bool() {
		box.Set("checked", false)
		l.createPrivate(ctx, name)
		return
	}
	ctx.Navigate(RoomPath(name))
}

// Render draws the sidebar.
func (l *RoomList) Render() app.UI {
	counts := make(map[string]int, len(l.Rooms))
	kinds := make(map[string]shared.RoomKind, len(l.Rooms))
	for _, r := range l.Rooms {
		counts[r.Name], kinds[r.Name] = r.Members, r.Kind.OrPublic()
	}
	public := func(name string) bool {
		k, ok := kinds[name]
		return ok && k == shared.RoomPublic || !ok && !shared.IsDMRoom(name)
	}
	var joined []string
	for _, name := range append(append([]string(nil), l.Joined...), l.Current) {
		if name != "" && public(name) && !contains(joined, name) {
			joined = append(joined, name)
		}
	}
	var others []shared.RoomInfo
	for _, r := range roomsOf(l.Rooms, shared.RoomPublic) {
		if !contains(joined, r.Name) {
			others = append(others, r)
		}
	}
	private, dms := roomsOf(l.Rooms, shared.RoomPrivate), roomsOf(l.Rooms, shared.RoomDM)
	return app.Div().ID("rooms").Class("rooms").Attr("role", "navigation").Attr("aria-label", "Rooms").Body(
		heading(2, "", "Rooms"),
		app.Ul().Class("room-items").DataSet("test", "room-list").Body(
			app.Range(joined).Slice(func(i int) app.UI {
				name := joined[i]
				return app.Li().Class(roomClass(name == l.Current)).DataSet("test", "room").DataSet("room", name).DataSet("kind", "public").Body(
					roomLink(name, "#"+name, name == l.Current),
					unreadBadges(l.Unread[name]),
					memberCount(counts[name]),
					leaveButton(name, l.onLeave),
				)
			}),
		),
		app.If(len(private) > 0, func() app.UI { return l.renderSection("Private", "private-list", private) }),
		app.If(len(dms) > 0, func() app.UI { return l.renderSection("Direct messages", "dm-list", dms) }),
		app.Button().Class("browse").DataSet("test", "browse").Attr("aria-expanded", l.browsing).
			OnClick(l.toggleBrowse).Text("Browse rooms"),
		app.If(l.browsing, func() app.UI {
			return app.Ul().Class("room-items browse-list").DataSet("test", "browse-list").Attr("aria-label", "Other rooms").Body(
				app.If(len(others) == 0, func() app.UI { return app.Li().Class("empty").Text("No other rooms yet") }),
				app.Range(others).Slice(func(i int) app.UI {
					r := others[i]
					return app.Li().Class("room-item").DataSet("test", "browse-room").DataSet("room", r.Name).Body(
						roomLink(r.Name, "#"+r.Name, false),
						memberCount(r.Members),
					)
				}),
			)
		}),
		app.Input().Type("text").Class("new-room").DataSet("test", "new-room").
			Placeholder("Join or create a room").Attr("aria-label", "Join or create a room").AutoComplete(false).OnKeyDown(l.onNewRoom),
		app.Div().Class("private-toggle").Body(
			app.Input().Type("checkbox").ID("new-room-private").DataSet("test", "new-room-private").Attr("aria-label", "Create it as a private room"),
			app.Span().Attr("aria-hidden", "true").Text(" private"),
		),
	)
}

// renderSection is the private rooms or the direct conversations.
func (l *RoomList) renderSection(title, test string, rooms []shared.RoomInfo) app.UI {
	return app.Div().Class("room-section").Body(
		heading(3, "", title),
		app.Ul().Class("room-items").DataSet("test", test).Body(
			app.Range(rooms).Slice(func(i int) app.UI {
				r := rooms[i]
				return app.Li().Class(roomClass(r.Name == l.Current)).DataSet("test", "room").DataSet("room", r.Name).DataSet("kind", string(r.Kind.OrPublic())).Body(
					roomLink(r.Name, roomLabel(r), r.Name == l.Current),
					app.If(l.Invited[r.Name], func() app.UI {
						return app.Span().Class("badge unread").DataSet("test", "invited").Title("You were invited").Text("new")
					}),
					unreadBadges(l.Unread[r.Name]),
					memberCount(r.Members),
					app.If(contains(l.Joined, r.Name) || r.Name == l.Current, func() app.UI {
						return app.Button().Class("leave").DataSet("test", "leave-room").DataSet("room", r.Name).
							Attr("aria-label", leaveLabel(r)).Title("%s", leaveLabel(r)).OnClick(l.onLeave).
							Body(icon("close"))
					}),
				)
			}),
		),
	)
}

func roomClass(active bool) string {
	if active {
		return "room-item active"
	}
	return "room-item"
}

func roomLink(name, label string, current bool) app.UI {
	a := app.A().Href("%s", RoomPath(name)).Title("%s", label).Text(label)
	if current {
		a = a.Attr("aria-current", "page")
	}
	return a
}

// memberCount is how many people are in a room: a presence dot and a
// plain number, so it never reads as an unread badge.
func memberCount(n int) app.UI {
	if n <= 0 {
		return nil
	}
	label := strconv.Itoa(n) + " members"
	if n == 1 {
		label = "1 member"
	}
	return app.Span().Class("people").DataSet("test", "room-members").Title("%s", label+" online").Body(
		app.Span().Attr("aria-hidden", "true").Text(strconv.Itoa(n)),
		app.Span().Class("sr-only").Text(label),
	)
}
