package ui

import (
	"math"
	"strconv"

	"github.com/maxence-charriere/go-app/v10/pkg/app"
)

// The reaction picker's categories and its up/down moves (issue #17): the
// picker shows one category at a time (the largest holds ~370 emoji), or
// at most pickerMax search results, never the ~1,900 emoji at once.

// emojiGroupIcons are the categories' buttons (Unicode's group names).
var emojiGroupIcons = map[string]string{
	"Smileys & Emotion": "😀", "People & Body": "👋", "Animals & Nature": "🐻", "Food & Drink": "🍔",
	"Travel & Places": "✈️", "Activities": "⚽", "Objects": "💡", "Symbols": "🔣", "Flags": "🏁",
}

// renderCategories is the row of category buttons above the emoji.
func (l *MessageList) renderCategories() app.UI {
	db := emojis()
	return app.Div().Class("pick-cats").Attr("role", "group").Attr("aria-label", "Emoji categories").Body(
		app.Range(db.groups).Slice(func(i int) app.UI {
			name := db.groups[i]
			icon := emojiGroupIcons[name]
			if icon == "" {
				icon = db.group(i)[0].char
			}
			return app.Button().Type("button").Class("pick-cat").DataSet("test", "emoji-category").
				DataSet("category", name).DataSet("index", i).Attr("aria-pressed", i == l.m.pickerCategory).
				Attr("aria-label", name).Title("%s", name).OnClick(l.onPickCategory).Text(icon)
		}),
	)
}

// onPickCategory shows the pressed category (read from the DOM: go-app
// keeps a reused button's first handler).
func (l *MessageList) onPickCategory(ctx app.Context, e app.Event) {
	i, err := strconv.Atoi(ctx.JSSrc().Get("dataset").Get("index").String())
	if err != nil || i < 0 || i >= len(emojis().groups) {
		return
	}
	l.m.pickerCategory = i
}

// pickerCategoryKey moves among the category buttons: ←/→ to the
// neighbour (pressing it), ↓ to the first emoji, ↑ to the search box.
func pickerCategoryKey(picker, active app.Value, key string) {
	cats := picker.Call("querySelectorAll", "[data-test=emoji-category]")
	n, at := cats.Length(), -1
	for i := 0; i < n; i++ {
		if cats.Index(i).Equal(active) {
			at = i
		}
	}
	switch key {
	case "ArrowRight", "ArrowLeft":
		to := at + 1
		if key == "ArrowLeft" {
			to = at - 1
		}
		if at >= 0 && to >= 0 && to < n {
			cats.Index(to).Call("focus")
			cats.Index(to).Call("click")
		}
	case "ArrowDown":
		if b := picker.Call("querySelector", "[data-test=pick-emoji]"); b.Truthy() {
			b.Call("focus")
		}
	case "ArrowUp":
		focusFirst("[data-test=emoji-search]")
	}
}

// pickerVertical is the button of the row below (down) or above button
// at, nearest to it sideways, or -1 when it is on the last (first) row.
// It reads the laid-out positions, so the recent row and the grid, of any
// width, line up as they look.
func pickerVertical(buttons app.Value, at int, down bool) int {
	n := buttons.Length()
	top := make([]float64, n)
	left := make([]float64, n)
	for i := 0; i < n; i++ {
		r := buttons.Index(i).Call("getBoundingClientRect")
		top[i], left[i] = r.Get("top").Float(), r.Get("left").Float()
	}
	row := math.Inf(1)
	if !down {
		row = math.Inf(-1)
	}
	for i := range n { // the nearest row beyond this one
		switch {
		case down && top[i] > top[at]+2 && top[i] < row:
			row = top[i]
		case !down && top[i] < top[at]-2 && top[i] > row:
			row = top[i]
		}
	}
	best, dist := -1, math.Inf(1)
	for i := range n {
		if math.Abs(top[i]-row) <= 2 {
			if d := math.Abs(left[i] - left[at]); d < dist {
				best, dist = i, d
			}
		}
	}
	return best
}
