package ui

import "github.com/maxence-charriere/go-app/v10/pkg/app"

// Icons of the chrome (issue #17): inline SVG, so they never depend on
// an emoji font (without one, emoji buttons were empty boxes). Strokes
// follow the text colour. Each is decorative (aria-hidden): the button
// around it carries the label. Paths drawn after Feather's 24-unit grid
// (MIT).
var iconPaths = map[string]string{
	"bell":     `<path d="M18 8a6 6 0 0 0-12 0c0 7-3 9-3 9h18s-3-2-3-9"/><path d="M13.7 21a2 2 0 0 1-3.4 0"/>`,
	"bell-off": `<path d="M13.7 21a2 2 0 0 1-3.4 0"/><path d="M18.6 13A17.9 17.9 0 0 1 18 8"/><path d="M6.3 6.3A5.9 5.9 0 0 0 6 8c0 7-3 9-3 9h14"/><path d="M18 8a6 6 0 0 0-9.3-5"/><path d="M1 1l22 22"/>`,
	"smile":    `<circle cx="12" cy="12" r="10"/><path d="M8 14s1.5 2 4 2 4-2 4-2"/><path d="M9 9h.01M15 9h.01"/>`,
	"clip":     `<path d="M21.4 11.1l-9.2 9.2a6 6 0 0 1-8.5-8.5l9.2-9.2a4 4 0 0 1 5.7 5.7l-9.2 9.2a2 2 0 0 1-2.8-2.8l8.5-8.5"/>`,
	"close":    `<path d="M18 6L6 18M6 6l12 12"/>`,
	"menu":     `<path d="M3 12h18M3 6h18M3 18h18"/>`,
	"search":   `<circle cx="11" cy="11" r="8"/><path d="M21 21l-4.4-4.4"/>`,
	"users":    `<path d="M17 21v-2a4 4 0 0 0-4-4H5a4 4 0 0 0-4 4v2"/><circle cx="9" cy="7" r="4"/><path d="M23 21v-2a4 4 0 0 0-3-3.9M16 3.1a4 4 0 0 1 0 7.8"/>`,
	"more":     `<circle cx="12" cy="12" r="1"/><circle cx="19" cy="12" r="1"/><circle cx="5" cy="12" r="1"/>`,
	"link":     `<path d="M10 13a5 5 0 0 0 7.5.5l3-3a5 5 0 0 0-7-7l-1.7 1.7"/><path d="M14 11a5 5 0 0 0-7.5-.5l-3 3a5 5 0 0 0 7 7l1.7-1.7"/>`,
}

// icon is the named icon, 1em square.
func icon(name string) app.UI {
	return app.Raw(`<svg class="icon" viewBox="0 0 24 24" width="18" height="18" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true" focusable="false">` + iconPaths[name] + `</svg>`)
}
