package ui

import (
	"strings"

	"github.com/duplex-chat/duplex/shared"
	"github.com/maxence-charriere/go-app/v10/pkg/app"
)

// SignIn is the nickname form. It is prerendered, so it shows before
// app.wasm runs; web/duplex.js keeps what is typed and submitted until
// then, and the page completes that sign-in when it mounts.
type SignIn struct {
	app.Compo

	Room string
}

func (s *SignIn) onSubmit(ctx app.Context, e app.Event) {
	e.PreventDefault()
	nick := strings.TrimSpace(app.Window().GetElementByID("nickname").Get("value").String())
	if err := shared.ValidNick(nick); err != nil {
		ctx.NewActionWithValue(actionToast, "Nickname: "+errText(err))
		return
	}
	ctx.NewActionWithValue(actionSignIn, nick)
}

// Render draws the form. The form has no action: before the wasm runs,
// web/duplex.js cancels its submission instead of letting it reload.
func (s *SignIn) Render() app.UI {
	return app.Form().Class("signin").DataSet("test", "signin").OnSubmit(s.onSubmit).Body(
		heading(2, "", "Join #"+s.Room),
		app.Input().ID("nickname").Type("text").DataSet("test", "nickname").
			MaxLength(shared.MaxNickRunes).AutoFocus(true).Placeholder("Nickname").Attr("aria-label", "Nickname").
			Attr("autocomplete", "nickname").Required(true),
		app.Button().Type("submit").DataSet("test", "join").Text("Join"),
	)
}
