package ui

import "github.com/maxence-charriere/go-app/v10/pkg/app"

// Notifications and sign-out that explain themselves (issue #17).

// deniedText says why the bell does nothing and how to change it.
const deniedText = "Notifications are blocked for this site. To get them, allow notifications in your browser's site settings (the icon left of the address), then press the bell again."

// renderSignOutWarning warns before signing out: the identity is
// anonymous (a credential the server issued to this browser), so once
// gone, nobody can sign back in as it, and its private rooms and direct
// conversations go with it.
func (c *Chat) renderSignOutWarning() app.UI {
	return app.Div().Class("signout-warning").DataSet("test", "signout-warning").Attr("role", "alertdialog").
		Attr("aria-labelledby", "signout-warning-text").OnKeyDown(c.onWarningKey).Body(
		app.Div().ID("signout-warning-text").Text("You have no account: this identity lives only in this browser. Once you sign out it cannot come back, and neither can its private rooms and direct messages."),
		app.Div().Class("signout-buttons").Body(
			app.Button().Type("button").Class("ghost").DataSet("test", "signout-cancel").OnClick(c.onCancelSignOut).Text("Stay signed in"),
			app.Button().Type("button").Class("danger-btn").DataSet("test", "signout-confirm").OnClick(c.doSignOut).Text("Sign out for good"),
		),
	)
}

func (c *Chat) onCancelSignOut(ctx app.Context, e app.Event) {
	c.signoutAsk = false
	ctx.Defer(func(app.Context) { focusFirst("[data-test=signout]") })
}

func (c *Chat) onWarningKey(ctx app.Context, e app.Event) {
	if e.Get("key").String() == "Escape" {
		e.Call("stopPropagation")
		c.onCancelSignOut(ctx, e)
		return
	}
	ctx.PreventUpdate()
}
