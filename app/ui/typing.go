package ui

import (
	"strconv"

	"github.com/duplex-chat/duplex/shared"
	"github.com/maxence-charriere/go-app/v10/pkg/app"
)

// TypingLine says who else is typing in the room: "Ana is typing…",
// "Ana and Bo are typing…", "3 people are typing…". It sits in a slot of
// fixed height under the message list, so it appearing or going never
// moves the messages or the composer, and it is a polite live region:
// screen readers mention it without interrupting.
type TypingLine struct {
	app.Compo

	Users []shared.Member
}

// Render draws the slot, empty when nobody types.
func (t *TypingLine) Render() app.UI {
	return app.Div().Class("typing").DataSet("test", "typing").DataSet("count", len(t.Users)).
		Attr("aria-live", "polite").Text(typingText(t.Users))
}

// typingText words the typists for the slot.
func typingText(users []shared.Member) string {
	switch len(users) {
	case 0:
		return ""
	case 1:
		return users[0].Nick + " is typing…"
	case 2:
		return users[0].Nick + " and " + users[1].Nick + " are typing…"
	}
	return strconv.Itoa(len(users)) + " people are typing…"
}
