package ui

import (
	"encoding/json"
	"strconv"
	"strings"

	"github.com/duplex-chat/duplex/shared"
	"github.com/maxence-charriere/go-app/v10/pkg/app"
)

// The reaction picker (issue #17): a search box, the person's recent
// emoji, and the full set below, all reachable by the arrow keys; and the
// names of who reacted, on hover and to screen readers.

// recentKey keeps the person's recent reactions, newest first.
const recentKey = "duplex.emoji.recent"

func recentEmoji() []string {
	var out []string
	raw := app.Window().Get("localStorage").Call("getItem", recentKey)
	if raw.Truthy() {
		json.Unmarshal([]byte(raw.String()), &out)
	}
	return out
}

func rememberEmoji(e string) {
	list := []string{e}
	for _, r := range recentEmoji() {
		if r != e && len(list) < 8 {
			list = append(list, r)
		}
	}
	if b, err := json.Marshal(list); err == nil {
		app.Window().Get("localStorage").Call("setItem", recentKey, string(b))
	}
}

// pickerMax is the most search results the picker shows at once: the
// page stays fast with ~1,900 emoji, and a longer search narrows them.
const pickerMax = 120

// pickerEmoji is what the picker shows for query: the matches (at most
// pickerMax of total), or, with no query, the recent ones then the emoji
// of the chosen category.
func pickerEmoji(query string, category int) (recent, all []string, total int) {
	db := emojis()
	q := strings.ToLower(strings.TrimSpace(query))
	var list []emojiInfo
	if q == "" {
		list = db.group(category)
		recent = recentEmoji()
		if len(recent) == 0 {
			recent = quickEmoji
		}
	} else {
		list, total = db.search(q, pickerMax)
	}
	for _, e := range list {
		all = append(all, e.char)
	}
	if q == "" {
		total = len(all)
	}
	return recent, all, total
}

// emojiName is an emoji's Unicode name, for its button's label.
func emojiName(e string) string {
	if x, ok := emojis().lookup(e); ok {
		return x.name
	}
	return "emoji"
}

// renderPicker is the emoji picker of message m, under its controls.
func (l *MessageList) renderPicker(m shared.Message) app.UI {
	recent, all, total := pickerEmoji(l.m.pickerQuery, l.m.pickerCategory)
	button := func(e string) app.UI {
		return app.Button().Type("button").Class("pick").DataSet("test", "pick-emoji").DataSet("emoji", e).
			Attr("aria-label", "React with "+e+" "+emojiName(e)).Title("%s", emojiName(e)).OnClick(l.onPickEmoji).Text(e)
	}
	searching := strings.TrimSpace(l.m.pickerQuery) != ""
	return app.Div().Class("picker").DataSet("test", "emoji-picker").Attr("role", "dialog").Attr("aria-label", "Pick a reaction").
		OnKeyDown(l.onPickerKey).Body(
		app.Input().Type("search").Class("emoji-search").DataSet("test", "emoji-search").Placeholder("Search emoji").
			Attr("aria-label", "Search emoji").AutoComplete(false).OnInput(l.onEmojiSearch), // no Value: a render between keystrokes would drop one
		app.If(!searching, func() app.UI { return l.renderCategories() }),
		app.If(len(recent) > 0, func() app.UI {
			return app.Div().Class("pick-section").Body(
				app.Div().Class("pick-title").ID("pick-recent").Text("Recent and frequent"),
				app.Div().Class("pick-grid").DataSet("test", "recent-emoji").Attr("role", "group").Attr("aria-labelledby", "pick-recent").Body(
					app.Range(recent).Slice(func(i int) app.UI { return button(recent[i]) }),
				),
			)
		}),
		app.Div().Class("pick-section").Body(
			app.Div().Class("pick-title").ID("pick-all").Text(pickTitle(l.m.pickerQuery, l.m.pickerCategory, len(all), total)),
			app.Div().Class("pick-grid").DataSet("test", "emoji-results").Attr("role", "group").Attr("aria-labelledby", "pick-all").Body(
				app.Range(all).Slice(func(i int) app.UI { return button(all[i]) }),
			),
		),
	)
}

func pickTitle(query string, category, shown, total int) string {
	switch {
	case query == "":
		db := emojis()
		if category >= 0 && category < len(db.groups) {
			return db.groups[category]
		}
		return db.groups[0]
	case total == 0:
		return "No emoji match"
	case shown < total:
		return strconv.Itoa(total) + " matching, first " + strconv.Itoa(shown) + " shown"
	}
	return strconv.Itoa(total) + " matching"
}

func (l *MessageList) onEmojiSearch(ctx app.Context, e app.Event) {
	l.m.pickerQuery = ctx.JSSrc().Get("value").String()
}

// onPickEmoji reacts with the pressed emoji (read from the DOM: go-app
// keeps a reused button's first handler) to the message whose picker is
// open; picking one's own reaction again takes it back.
func (l *MessageList) onPickEmoji(ctx app.Context, e app.Event) {
	emoji := ctx.JSSrc().Get("dataset").Get("emoji").String()
	seq := l.m.msgUI.picker
	on := true
	for _, r := range l.Rows {
		if r.Msg.Seq == seq {
			for _, rc := range r.Msg.Reactions {
				if rc.Emoji == emoji && contains(rc.Users, l.Me) {
					on = false
				}
			}
		}
	}
	l.m.msgUI.picker, l.m.pickerQuery = 0, ""
	rememberEmoji(emoji)
	l.m.react(ctx, l.Room, seq, emoji, on)
	focusSoon(ctx, `[data-test=message][data-seq="`+strconv.FormatInt(seq, 10)+`"] [data-test=add-reaction]`)
}

// onPickerKey moves between emoji with the arrow keys (←/→ along the
// list, ↑/↓ to the emoji above or below, across the recent row and the
// grid), from the search box down into them, among the categories, and
// closes on Escape.
func (l *MessageList) onPickerKey(ctx app.Context, e app.Event) {
	key := e.Get("key").String()
	if key == "Escape" {
		l.m.pickerQuery = ""
		l.onControlKey(ctx, e)
		return
	}
	switch key {
	case "ArrowRight", "ArrowLeft", "ArrowDown", "ArrowUp":
	default:
		if key != "Enter" {
			ctx.PreventUpdate()
		}
		return
	}
	e.Call("stopPropagation") // the list's own arrows move between messages
	e.PreventDefault()
	ctx.PreventUpdate()
	picker := ctx.JSSrc()
	active := app.Window().Get("document").Get("activeElement")
	if active.Get("dataset").Get("test").String() == "emoji-category" {
		pickerCategoryKey(picker, active, key)
		return
	}
	buttons := picker.Call("querySelectorAll", "[data-test=pick-emoji]")
	n := buttons.Length()
	at := -1
	for i := 0; i < n; i++ {
		if buttons.Index(i).Equal(active) {
			at = i
		}
	}
	switch {
	case at < 0 && key == "ArrowDown" && n > 0: // from the search box
		buttons.Index(0).Call("focus")
	case at < 0:
	case key == "ArrowRight" && at+1 < n:
		buttons.Index(at + 1).Call("focus")
	case key == "ArrowLeft" && at > 0:
		buttons.Index(at - 1).Call("focus")
	case key == "ArrowDown" || key == "ArrowUp":
		if to := pickerVertical(buttons, at, key == "ArrowDown"); to >= 0 {
			buttons.Index(to).Call("focus")
		} else if key == "ArrowUp" {
			focusFirst("[data-test=emoji-search]")
		}
	}
}

// reactorNames names who reacted, by their current nicknames: the first
// few the summary names (shared.ReactionSample), you among them when you
// reacted, and how many others.
func (l *MessageList) reactorNames(rc shared.Reaction) string {
	var names []string
	you := false
	for _, u := range rc.Users {
		if u == l.Me {
			you = true
			continue
		}
		names = append(names, l.nick(shared.Member{User: u, Nick: "someone"}))
	}
	if you || rc.Me {
		names = append([]string{"you"}, names...)
	}
	if others := rc.Count - len(names); others == 1 {
		names = append(names, "1 other")
	} else if others > 1 {
		names = append(names, strconv.Itoa(others)+" others")
	}
	switch len(names) {
	case 0:
		return ""
	case 1:
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}

// reactedTitle is a reaction's title: who reacted with it (the first few
// by name, then how many others), or how many when nobody is named.
func (l *MessageList) reactedTitle(rc shared.Reaction) string {
	if n := l.reactorNames(rc); n != "" {
		return n + " reacted with " + rc.Emoji
	}
	if rc.Count == 1 {
		return "1 reaction with " + rc.Emoji
	}
	return strconv.Itoa(rc.Count) + " reactions with " + rc.Emoji
}

// reactedBy is the end of a reaction's label: who reacted.
func (l *MessageList) reactedBy(rc shared.Reaction) string {
	if n := l.reactorNames(rc); n != "" {
		return ": " + n
	}
	return ""
}
