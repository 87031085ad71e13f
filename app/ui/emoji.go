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

// emojiSet is every emoji the picker offers, each with the words its
// search matches (a common set: faces, hands, hearts, symbols, things).
var emojiSet = [][2]string{
	{"👍", "thumbs up yes ok +1 like"}, {"❤️", "heart love red"}, {"😂", "joy laugh tears lol"}, {"🎉", "tada party celebrate hooray"},
	{"😮", "open mouth wow surprised"}, {"🙏", "pray thanks please folded hands"}, {"👎", "thumbs down no -1 dislike"}, {"😀", "grin smile happy"},
	{"😃", "smiley happy"}, {"😄", "smile happy laugh"}, {"😁", "beaming grin"}, {"😆", "laughing satisfied"}, {"😅", "sweat smile phew"},
	{"🤣", "rofl rolling laugh"}, {"🙂", "slight smile"}, {"🙃", "upside down"}, {"😉", "wink"}, {"😊", "blush smile"}, {"😇", "innocent halo"},
	{"🥰", "love hearts smiling"}, {"😍", "heart eyes love"}, {"🤩", "star struck excited"}, {"😘", "kiss blow"}, {"😋", "yum tasty"},
	{"😛", "tongue"}, {"😜", "wink tongue crazy"}, {"🤪", "zany crazy"}, {"🤔", "thinking hmm"}, {"🤨", "raised eyebrow skeptical"},
	{"😐", "neutral meh"}, {"😑", "expressionless"}, {"😶", "no mouth speechless"}, {"🙄", "eye roll"}, {"😏", "smirk"},
	{"😬", "grimace awkward"}, {"😌", "relieved"}, {"😔", "pensive sad"}, {"😴", "sleeping tired zzz"}, {"😷", "mask sick"},
	{"🤒", "thermometer ill sick"}, {"🤯", "mind blown exploding"}, {"🥳", "party face celebrate"}, {"😎", "cool sunglasses"},
	{"🤓", "nerd glasses"}, {"😕", "confused"}, {"😟", "worried"}, {"🙁", "frown sad"}, {"😯", "hushed"}, {"😲", "astonished shocked"},
	{"😳", "flushed embarrassed"}, {"🥺", "pleading puppy eyes"}, {"😢", "cry sad tear"}, {"😭", "sob crying"}, {"😱", "scream fear"},
	{"😤", "triumph huff"}, {"😡", "angry rage mad"}, {"🤬", "cursing swearing"}, {"💀", "skull dead"}, {"💩", "poop"},
	{"🤡", "clown"}, {"👻", "ghost boo"}, {"👽", "alien"}, {"🤖", "robot bot"}, {"😺", "cat smile"}, {"🙈", "see no evil monkey"},
	{"🙉", "hear no evil monkey"}, {"🙊", "speak no evil monkey"}, {"👋", "wave hello bye hand"}, {"🤚", "raised back hand"},
	{"✋", "raised hand high five stop"}, {"👌", "ok hand perfect"}, {"🤌", "pinched fingers"}, {"✌️", "victory peace"},
	{"🤞", "crossed fingers luck"}, {"🤟", "love you gesture"}, {"🤘", "rock horns"}, {"🤙", "call me shaka"}, {"👈", "point left"},
	{"👉", "point right"}, {"👆", "point up"}, {"👇", "point down"}, {"☝️", "index up"}, {"👏", "clap applause"}, {"🙌", "raised hands hooray"},
	{"👐", "open hands"}, {"🤝", "handshake deal"}, {"💪", "muscle strong flex"}, {"🧠", "brain smart"}, {"👀", "eyes look watching"},
	{"🧡", "orange heart"}, {"💛", "yellow heart"}, {"💚", "green heart"}, {"💙", "blue heart"}, {"💜", "purple heart"}, {"🖤", "black heart"},
	{"💔", "broken heart"}, {"💯", "hundred perfect score"}, {"💥", "boom collision"}, {"💫", "dizzy"}, {"💬", "speech bubble comment"},
	{"🔥", "fire lit hot"}, {"✨", "sparkles shiny"}, {"⭐", "star"}, {"🌟", "glowing star"}, {"⚡", "zap lightning"}, {"☀️", "sun"},
	{"🌈", "rainbow"}, {"☔", "umbrella rain"}, {"❄️", "snow cold"}, {"🎂", "cake birthday"}, {"🍕", "pizza"}, {"🍔", "burger"},
	{"☕", "coffee tea hot"}, {"🍺", "beer"}, {"🍻", "cheers beers"}, {"🥂", "clink champagne toast"}, {"🍿", "popcorn"},
	{"🎁", "gift present"}, {"🎈", "balloon"}, {"🏆", "trophy win"}, {"🥇", "gold medal first"}, {"⚽", "soccer football"},
	{"🎮", "video game"}, {"🎵", "music note"}, {"🎶", "notes music"}, {"📌", "pin pushpin"}, {"📎", "paperclip"}, {"🔗", "link"},
	{"📝", "memo note write"}, {"📅", "calendar date"}, {"📈", "chart up growth"}, {"📉", "chart down"}, {"💡", "bulb idea"},
	{"🔒", "lock secure"}, {"🔑", "key"}, {"🛠️", "tools fix"}, {"🐛", "bug"}, {"🚀", "rocket launch ship"}, {"✈️", "plane travel"},
	{"🚗", "car"}, {"⏰", "alarm clock"}, {"⌛", "hourglass time"}, {"✅", "check yes done"}, {"❌", "cross no wrong"},
	{"⚠️", "warning caution"}, {"❓", "question"}, {"❗", "exclamation"}, {"➕", "plus add"}, {"➖", "minus"}, {"🆗", "ok button"},
	{"🆒", "cool button"}, {"🆕", "new"}, {"🐶", "dog puppy"}, {"🐱", "cat kitten"}, {"🦊", "fox"}, {"🐻", "bear"}, {"🐼", "panda"},
	{"🐸", "frog"}, {"🐧", "penguin"}, {"🦄", "unicorn"}, {"🐢", "turtle slow"}, {"🐙", "octopus"}, {"🌻", "sunflower"}, {"🌹", "rose"},
	{"🌱", "seedling grow"}, {"🍀", "clover luck"}, {"🌍", "earth world globe"},
}

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

// pickerEmoji is what the picker shows for query: the matches, or, with
// no query, the recent ones then all.
func pickerEmoji(query string) (recent, all []string) {
	q := strings.ToLower(strings.TrimSpace(query))
	for _, e := range emojiSet {
		if q == "" || strings.Contains(e[1], q) || e[0] == q {
			all = append(all, e[0])
		}
	}
	if q == "" {
		recent = recentEmoji()
		if len(recent) == 0 {
			recent = quickEmoji
		}
	}
	return recent, all
}

// emojiName is an emoji's first word, for its button's label.
func emojiName(e string) string {
	for _, x := range emojiSet {
		if x[0] == e {
			return strings.Fields(x[1])[0]
		}
	}
	return "emoji"
}

// renderPicker is the emoji picker of message m, under its controls.
func (l *MessageList) renderPicker(m shared.Message) app.UI {
	recent, all := pickerEmoji(l.m.pickerQuery)
	button := func(e string) app.UI {
		return app.Button().Type("button").Class("pick").DataSet("test", "pick-emoji").DataSet("emoji", e).
			Attr("aria-label", "React with "+e+" "+emojiName(e)).Title("%s", emojiName(e)).OnClick(l.onPickEmoji).Text(e)
	}
	return app.Div().Class("picker").DataSet("test", "emoji-picker").Attr("role", "dialog").Attr("aria-label", "Pick a reaction").
		OnKeyDown(l.onPickerKey).Body(
		app.Input().Type("search").Class("emoji-search").DataSet("test", "emoji-search").Placeholder("Search emoji").
			Attr("aria-label", "Search emoji").AutoComplete(false).OnInput(l.onEmojiSearch), // no Value: a render between keystrokes would drop one
		app.If(len(recent) > 0, func() app.UI {
			return app.Div().Class("pick-section").Body(
				app.Div().Class("pick-title").ID("pick-recent").Text("Recent and frequent"),
				app.Div().Class("pick-grid").DataSet("test", "recent-emoji").Attr("role", "group").Attr("aria-labelledby", "pick-recent").Body(
					app.Range(recent).Slice(func(i int) app.UI { return button(recent[i]) }),
				),
			)
		}),
		app.Div().Class("pick-section").Body(
			app.Div().Class("pick-title").ID("pick-all").Text(pickTitle(l.m.pickerQuery, len(all))),
			app.Div().Class("pick-grid").Attr("role", "group").Attr("aria-labelledby", "pick-all").Body(
				app.Range(all).Slice(func(i int) app.UI { return button(all[i]) }),
			),
		),
	)
}

func pickTitle(query string, n int) string {
	switch {
	case query == "":
		return "All"
	case n == 0:
		return "No emoji match"
	}
	return strconv.Itoa(n) + " matching"
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

// onPickerKey moves between emoji with the arrow keys (8 to a row), from
// the search box down into them, and closes on Escape.
func (l *MessageList) onPickerKey(ctx app.Context, e app.Event) {
	key := e.Get("key").String()
	if key == "Escape" {
		l.m.pickerQuery = ""
		l.onControlKey(ctx, e)
		return
	}
	step := map[string]int{"ArrowRight": 1, "ArrowLeft": -1, "ArrowDown": 8, "ArrowUp": -8}[key]
	if step == 0 {
		if key != "Enter" {
			ctx.PreventUpdate()
		}
		return
	}
	e.Call("stopPropagation") // the list's own arrows move between messages
	picker := ctx.JSSrc()
	buttons := picker.Call("querySelectorAll", "[data-test=pick-emoji]")
	n := buttons.Length()
	active := app.Window().Get("document").Get("activeElement")
	at := -1
	for i := 0; i < n; i++ {
		if buttons.Index(i).Equal(active) {
			at = i
		}
	}
	e.PreventDefault()
	ctx.PreventUpdate()
	switch {
	case at < 0 && key == "ArrowDown" && n > 0: // from the search box
		buttons.Index(0).Call("focus")
	case at < 0:
	case at+step < 0 && key == "ArrowUp":
		focusFirst("[data-test=emoji-search]")
	case at+step >= 0 && at+step < n:
		buttons.Index(at + step).Call("focus")
	}
}

// reactorNames names who reacted, by their current nicknames.
func (l *MessageList) reactorNames(rc shared.Reaction) string {
	var names []string
	for _, u := range rc.Users {
		if u == l.Me {
			names = append(names, "you")
			continue
		}
		names = append(names, l.nick(shared.Member{User: u, Nick: "someone"}))
	}
	switch len(names) {
	case 0:
		return ""
	case 1:
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}

// reactedBy is the end of a reaction's label: who reacted.
func (l *MessageList) reactedBy(rc shared.Reaction) string {
	if n := l.reactorNames(rc); n != "" {
		return ": " + n
	}
	return ""
}
