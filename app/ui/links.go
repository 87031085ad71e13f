package ui

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/duplex-chat/duplex/shared"
	"github.com/maxence-charriere/go-app/v10/pkg/app"
)

// Message links, search highlights and empty states (issue #17): every
// message has a link (/r/room?m=seq) that opens its room at it; search
// results mark the words that matched; an empty room says so.

// messageParam is the query parameter of a message link.
const messageParam = "m"

// MessageLink is the path of message seq of room.
func MessageLink(room string, seq int64) string {
	return RoomPath(room) + "?" + messageParam + "=" + strconv.FormatInt(seq, 10)
}

// linkTarget is the message a page URL points at (0: none).
func linkTarget() int64 {
	raw := app.Window().URL().Query().Get(messageParam)
	seq, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || seq <= 0 {
		return 0
	}
	return seq
}

// renderCopyLink is a message's link: an <a> to the message (so the
// browser's own "copy link" works too) that copies itself when pressed.
func (l *MessageList) renderCopyLink(m shared.Message) app.UI {
	return app.A().Class("act copy-link").DataSet("test", "copy-link").Href("%s", MessageLink(m.Room, m.Seq)).
		Attr("aria-label", "Copy a link to this message").Title("Copy a link to this message").
		OnClick(l.onCopyLink).Body(icon("link"))
}

// onCopyLink copies the link's full URL to the clipboard and says so.
func (l *MessageList) onCopyLink(ctx app.Context, e app.Event) {
	e.PreventDefault()
	url := ctx.JSSrc().Get("href").String()
	clip := app.Window().Get("navigator").Get("clipboard")
	if !clip.Truthy() {
		l.m.confirmed("Link to this message: " + url)
		return
	}
	var done, failed app.Func
	release := func() { done.Release(); failed.Release() }
	done = app.FuncOf(func(app.Value, []app.Value) any {
		l.m.confirmed("Link copied")
		release()
		return nil
	})
	failed = app.FuncOf(func(app.Value, []app.Value) any {
		l.m.confirmed("Link to this message: " + url)
		release()
		return nil
	})
	clip.Call("writeText", url).Call("then", done, failed)
}

// renderEmpty is what an empty room shows in place of messages.
func (l *MessageList) renderEmpty() app.UI {
	return app.Div().Class("empty-room").DataSet("test", "empty-room").
		Text("No messages here yet. Write the first one below.")
}

// highlight splits text into spans, the words of query marked.
func highlight(text, query string) []app.UI {
	var words []string
	for _, w := range strings.Fields(strings.ToLower(query)) {
		w = strings.Trim(w, `"*`)
		if w != "" {
			words = append(words, w)
		}
	}
	lower := strings.ToLower(text)
	if len(lower) != len(text) || len(words) == 0 { // case folding changed byte offsets: no marks
		return []app.UI{app.Span().Text(text)}
	}
	var out []app.UI
	start := 0
	for i := 0; i < len(text); {
		hit := 0
		for _, w := range words {
			if strings.HasPrefix(lower[i:], w) && len(w) > hit {
				hit = len(w)
			}
		}
		if hit == 0 {
			_, n := utf8.DecodeRuneInString(text[i:])
			i += n
			continue
		}
		if start < i {
			out = append(out, app.Span().Text(text[start:i]))
		}
		out = append(out, app.Span().Class("hit").DataSet("test", "search-hit").Text(text[i:i+hit]))
		i += hit
		start = i
	}
	if start < len(text) {
		out = append(out, app.Span().Text(text[start:]))
	}
	return out
}

// snippet is the part of body a result shows: its start, or, when the
// first match lies further in, the words around it.
func snippet(body, query string) string {
	lower := strings.ToLower(body)
	at := -1
	for _, w := range strings.Fields(strings.ToLower(query)) {
		if i := strings.Index(lower, w); i >= 0 && (at < 0 || i < at) {
			at = i
		}
	}
	if len(lower) == len(body) && at > 80 {
		cut := at - 40
		for cut > 0 && !utf8.RuneStart(body[cut]) {
			cut--
		}
		return "…" + shared.Excerpt(body[cut:])
	}
	return shared.Excerpt(body)
}
