package ui

import (
	"strconv"

	"github.com/maxence-charriere/go-app/v10/pkg/app"
)

// ConnStatus is the connection pill: nothing before sign-in (there is no
// connection to speak of), then connecting…, online, or offline with the
// seconds until the next attempt and a "retry now" button.
type ConnStatus struct {
	app.Compo
	m *model // the page's model, passed down by Chat (never a global: prerendered pages run concurrently)

	Signed  bool
	State   string // a client.State
	RetryIn int    // seconds until the next attempt; 0 when not waiting
}

func (s *ConnStatus) retry(ctx app.Context, e app.Event) { s.m.retryNow() }

// Render draws the pill.
func (s *ConnStatus) Render() app.UI {
	state, label := s.State, ""
	switch {
	case !s.Signed:
		state = "signed-out"
	case state == "online":
		label = "online"
	case state == "offline":
		label = "offline"
		if s.RetryIn > 0 {
			label += " · retrying in " + strconv.Itoa(s.RetryIn) + " s"
		}
	default:
		state, label = "connecting", "connecting…"
	}
	return app.Div().Class("conn-box").Body(
		app.Span().Class("conn").DataSet("test", "connection").DataSet("state", state).Text(label),
		// Only while a retry is scheduled: a refused hello (a nickname
		// taken) is not cured by retrying.
		app.If(state == "offline" && s.RetryIn > 0, func() app.UI {
			return app.Button().Class("retry").DataSet("test", "retry").OnClick(s.retry).Text("Retry now")
		}),
	)
}
