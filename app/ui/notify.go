package ui

import (
	"time"

	"github.com/duplex-chat/duplex/shared"
	"github.com/maxence-charriere/go-app/v10/pkg/app"
)

// Browser notifications, through go-app's notification service: when the
// tab is hidden, a message that mentions the person or arrives in a direct
// conversation shows a notification. Permission is asked only when the
// person presses the bell (a user gesture), never on load; the bell also
// turns them off again (kept in localStorage).

// notifyKey keeps the person's choice: "on" or absent.
const notifyKey = "duplex.notify"

// notifyFresh is how old a message may be and still notify: a reload
// replays recent messages, which the person was not waiting for.
const notifyFresh = 2 * time.Minute

func notifyOn() bool {
	v := app.Window().Get("localStorage").Call("getItem", notifyKey)
	return v.Truthy() && v.String() == "on" && app.NotificationService{}.Permission() == app.NotificationGranted
}

// notifyLocked shows a notification for msg when it calls for one.
func (m *model) notifyLocked(msg shared.Message) {
	if !app.IsClient || m.cl == nil || msg.Kind != shared.KindMessage || msg.Deleted {
		return
	}
	me := m.me.User
	if msg.Author.User == me || time.Since(time.UnixMilli(msg.TS)) > notifyFresh {
		return
	}
	if rc, ok := m.reads.rooms[msg.Room]; ok && msg.Seq <= rc.Seq {
		return
	}
	mentioned := false
	for _, u := range msg.Mentions {
		mentioned = mentioned || u == me
	}
	dm := shared.IsDMRoom(msg.Room)
	if !mentioned && !dm {
		return
	}
	if app.Window().Get("document").Get("visibilityState").String() == "visible" || !notifyOn() {
		return
	}
	title := msg.Author.Nick + " mentioned you in #" + msg.Room
	if dm {
		title = msg.Author.Nick + " wrote to you"
	}
	app.NotificationService{}.New(app.Notification{
		Title: title,
		Body:  shared.Excerpt(msg.Body),
		Path:  RoomPath(msg.Room),
		Tag:   msg.Room,
		Icon:  "/web/icon-192.png",
	})
}

// NotifyToggle is the bell: it asks for permission (on a click) and turns
// notifications on and off.
type NotifyToggle struct {
	app.Compo

	on bool
}

// OnMount reads the stored choice.
func (b *NotifyToggle) OnMount(ctx app.Context) { b.on = notifyOn() }

func (b *NotifyToggle) onClick(ctx app.Context, e app.Event) {
	store := app.Window().Get("localStorage")
	if b.on {
		store.Call("removeItem", notifyKey)
		b.on = false
		return
	}
	switch ctx.Notifications().Permission() {
	case app.NotificationGranted:
		store.Call("setItem", notifyKey, "on")
		b.on = true
	case app.NotificationDenied, app.NotificationNotSupported:
		ctx.NewActionWithValue(actionToast, deniedText) // explain.go
	default:
		ctx.Async(func() {
			granted := ctx.Notifications().RequestPermission() == app.NotificationGranted
			ctx.Dispatch(func(ctx app.Context) {
				if granted {
					store.Call("setItem", notifyKey, "on")
				} else {
					ctx.NewActionWithValue(actionToast, deniedText) // the first click says why nothing happened
				}
				b.on = granted
			})
		})
	}
}

// Render draws the bell.
func (b *NotifyToggle) Render() app.UI {
	label := "Turn on notifications of mentions and direct messages"
	if b.on {
		label = "Turn off notifications"
	}
	name := "bell-off"
	if b.on {
		name = "bell"
	}
	return app.Button().Type("button").Class("bar-btn icon-btn notify").DataSet("test", "notify").
		Attr("aria-pressed", b.on).Attr("aria-label", label).Title("%s", label).OnClick(b.onClick).Body(icon(name))
}
