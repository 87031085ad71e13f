package ui

import (
	"strconv"

	"github.com/duplex-chat/duplex/shared"
	"github.com/maxence-charriere/go-app/v10/pkg/app"
)

// MemberList is who is in the room. While the connection is down the
// list is the last one known, shown greyed (Stale) rather than as present.
type MemberList struct {
	app.Compo
	m *model // the page's model, passed down by Chat (never a global: prerendered pages run concurrently)

	Room    string
	Members []shared.Member
	Stale   bool
	Me      string // the person's user id
	Owner   bool   // the person owns this private room: may remove members
	DM      bool   // a direct conversation: no "Message" for the other person
}

// Render draws the list. Each member's row holds only the nickname as
// text ([data-test=member]'s textContent is the nick); its "message" and
// "remove" buttons are labelled by aria-label and CSS.
func (l *MemberList) Render() app.UI {
	title := "Members (" + strconv.Itoa(len(l.Members)) + ")"
	if l.Stale {
		title = "Members (last seen)"
	}
	return app.Div().ID("members").Class("members").Attr("role", "complementary").Attr("aria-label", "Members").Body(
		heading(2, "", title),
		app.Ul().DataSet("test", "members").DataSet("stale", l.Stale).Body(
			app.Range(l.Members).Slice(func(i int) app.UI {
				m := l.Members[i]
				cls := "member " + userColor(m.User)
				if m.User == l.Me {
					cls += " own"
				}
				return app.Li().Class(cls).DataSet("test", "member").DataSet("user", m.User).Title("%s", m.Nick+" · "+shortUser(m.User)).Body(
					app.Span().Text(m.Nick),
					app.If(m.User != l.Me && l.Me != "" && !l.DM, func() app.UI {
						// No text: the item's text stays the nickname (tests
						// and screen readers read it); the label is CSS and
						// aria-label.
						return app.Button().Type("button").Class("ghost small act-dm").DataSet("test", "dm").DataSet("user", m.User).
							Attr("aria-label", "Message "+m.Nick).Title("Message %s", m.Nick).OnClick(l.onDM)
					}),
					app.If(l.Owner && m.User != l.Me, func() app.UI {
						return app.Button().Type("button").Class("ghost small act-remove").DataSet("test", "remove").DataSet("user", m.User).
							Attr("aria-label", "Remove "+m.Nick+" from this room").Title("Remove %s", m.Nick).OnClick(l.onRemove)
					}),
				)
			}),
		),
	)
}
