package ui

import (
	"strconv"
	"time"

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

// typedGrace is how long after a typist's message arrives a typing list
// that still names them is taken as older than the message (the server
// sends the two on their own schedules).
const typedGrace = 1500 * time.Millisecond

// sentLocked takes the author of a message that arrived off the room's
// typing line at once: their typing ended with it (issue #17).
func (m *model) sentLocked(msg shared.Message) {
	v := m.viewLocked(msg.Room)
	if v.sent == nil {
		v.sent = make(map[string]time.Time)
	}
	v.sent[msg.Author.User] = time.Now()
	v.typing = without(v.typing, msg.Author.User)
	// The line shows again whoever the server still says types, once
	// the grace is over.
	time.AfterFunc(typedGrace+50*time.Millisecond, m.changed)
}

// typistsLocked is who types in room now: the server's list without those
// whose message arrived in the last typedGrace.
func (m *model) typistsLocked(room string, users []shared.Member) []shared.Member {
	v := m.viewLocked(room)
	out := users
	for _, u := range users {
		if t, ok := v.sent[u.User]; ok && time.Since(t) < typedGrace {
			out = without(out, u.User)
		}
	}
	return out
}

func without(users []shared.Member, user string) []shared.Member {
	for i, u := range users {
		if u.User == user {
			return append(append([]shared.Member(nil), users[:i]...), users[i+1:]...)
		}
	}
	return users
}
