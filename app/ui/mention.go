package ui

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/duplex-chat/duplex/shared"
	"github.com/maxence-charriere/go-app/v10/pkg/app"
)

// Mentions in the browser: the server decides whom a message mentions
// (Message.Mentions); the UI only highlights the @nick text of the room's
// members, and the person's own nick distinctly, matching nicknames the
// way the server does (shared.NickKey, longest first, at word ends).

// mentionSeg is a run of body text: plain, or an @nick.
type mentionSeg struct {
	Text    string
	Mention bool
	Me      bool
}

// nickSet maps the NickKey of each nickname to highlight to whether it is
// the person's own.
type nickSet map[string]bool

// newNickSet is the set of the members' nicknames, me marking the
// person's own.
func newNickSet(members []shared.Member, me shared.Member) nickSet {
	s := make(nickSet, len(members)+1)
	for _, m := range members {
		s[shared.NickKey(m.Nick)] = m.User == me.User
	}
	if me.Nick != "" {
		s[shared.NickKey(me.Nick)] = true
	}
	return s
}

// mentionify splits text into plain runs and @nick runs of nicks in set.
func mentionify(text string, set nickSet) []mentionSeg {
	if len(set) == 0 || !strings.Contains(text, "@") {
		return []mentionSeg{{Text: text}}
	}
	runes := []rune(text)
	var out []mentionSeg
	plain := 0 // start of the pending plain run
	for i := 0; i < len(runes); i++ {
		if runes[i] != '@' || i > 0 && wordRune(runes[i-1]) {
			continue
		}
		end, me := 0, false
		for n := 1; n <= shared.MaxNickRunes && i+1+n <= len(runes); n++ {
			j := i + 1 + n
			if j < len(runes) && wordRune(runes[j]) && wordRune(runes[j-1]) {
				continue
			}
			key := shared.NickKey(string(runes[i+1 : j]))
			if own, ok := set[key]; ok && key != "" && !unicode.IsSpace(runes[j-1]) {
				end, me = j, own
			}
		}
		if end == 0 {
			continue
		}
		if plain < i {
			out = append(out, mentionSeg{Text: string(runes[plain:i])})
		}
		out = append(out, mentionSeg{Text: string(runes[i:end]), Mention: true, Me: me})
		plain, i = end, end-1
	}
	if plain < len(runes) {
		out = append(out, mentionSeg{Text: string(runes[plain:])})
	}
	return out
}

func wordRune(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' }

// renderMentions draws a run of body text with its @nicks highlighted;
// plain text stays a bare text node.
func renderMentions(text string, segs []mentionSeg) app.UI {
	if len(segs) == 1 && !segs[0].Mention {
		return app.Text(text)
	}
	return app.Span().Body(app.Range(segs).Slice(func(i int) app.UI {
		s := segs[i]
		if !s.Mention {
			return app.Text(s.Text)
		}
		cls := "mention"
		if s.Me {
			cls += " mine" // not "me": that is the header's identity box
		}
		return app.Span().Class(cls).DataSet("test", "mention").DataSet("me", s.Me).Text(s.Text)
	}))
}

// maxSuggestions bounds the autocomplete list.
const maxSuggestions = 8

// MentionSuggest is the @nick autocomplete of the composer: typing @ and
// the start of a nickname lists the room's members that match (a
// listbox, the composer pointing at it with aria-activedescendant); ↑/↓
// move, Enter or Tab picks, Escape closes. It listens on the document in
// the capture phase, so while it is open those keys never reach the
// composer (Enter does not send) or the page (Escape).
type MentionSuggest struct {
	app.Compo

	Room    string
	Members []shared.Member
	Me      string

	items   []shared.Member
	sel     int
	at      int  // byte offset of the @ in the composer's text
	shown   bool // mirrors len(items) > 0 for the key listener
	keys    app.Func
	changed app.Func
}

// OnMount listens to the composer's keys and input.
func (s *MentionSuggest) OnMount(ctx app.Context) {
	doc := app.Window().Get("document")
	s.keys = app.FuncOf(func(this app.Value, args []app.Value) any {
		e := args[0]
		if !s.shown || e.Get("target").Get("id").String() != composerID {
			return nil
		}
		key := e.Get("key").String()
		switch key {
		case "ArrowDown", "ArrowUp", "Enter", "Tab", "Escape":
			if key == "Enter" && e.Get("shiftKey").Bool() {
				return nil
			}
			e.Call("preventDefault")
			e.Call("stopPropagation")
			ctx.Dispatch(func(ctx app.Context) { s.onKey(ctx, key) })
		}
		return nil
	})
	s.changed = app.FuncOf(func(this app.Value, args []app.Value) any {
		t := args[0].Get("target")
		if t.Get("id").String() == composerID || args[0].Get("type").String() == "focusout" && s.shown {
			ctx.Dispatch(func(ctx app.Context) { s.update(ctx) })
		}
		return nil
	})
	doc.Call("addEventListener", "keydown", s.keys, true)
	for _, ev := range []string{"input", "click", "focusout"} {
		doc.Call("addEventListener", ev, s.changed, true)
	}
}

// OnDismount removes the listeners.
func (s *MentionSuggest) OnDismount() {
	doc := app.Window().Get("document")
	doc.Call("removeEventListener", "keydown", s.keys, true)
	for _, ev := range []string{"input", "click", "focusout"} {
		doc.Call("removeEventListener", ev, s.changed, true)
	}
	s.keys.Release()
	s.changed.Release()
}

// update reads the word being typed before the caret and lists the
// members whose nickname starts with it.
func (s *MentionSuggest) update(ctx app.Context) {
	el := app.Window().GetElementByID(composerID)
	s.items = nil
	if el.Truthy() && app.Window().Get("document").Get("activeElement").Equal(el) {
		value := el.Get("value").String()
		before := value[:utf16Byte(value, el.Get("selectionStart").Int())]
		if at := strings.LastIndex(before, "@"); at >= 0 {
			word := before[at+1:]
			prev, _ := utf8.DecodeLastRuneInString(before[:at])
			if (at == 0 || !wordRune(prev)) && !strings.ContainsAny(word, "\n@") && !strings.HasSuffix(word, " ") && utf8.RuneCountInString(word) <= shared.MaxNickRunes {
				s.at = at
				s.items = suggest(s.Members, s.Me, word)
			}
		}
	}
	s.sel = min(s.sel, max(len(s.items)-1, 0))
	s.shown = len(s.items) > 0
	s.aria()
}

// suggest lists the members (not me) whose nickname starts with word,
// compared as nicknames are.
func suggest(members []shared.Member, me, word string) []shared.Member {
	key := shared.NickKey(word)
	var out []shared.Member
	for _, m := range members {
		if m.User != me && strings.HasPrefix(shared.NickKey(m.Nick), key) {
			out = append(out, m)
			if len(out) == maxSuggestions {
				break
			}
		}
	}
	return out
}

func (s *MentionSuggest) onKey(ctx app.Context, key string) {
	if len(s.items) == 0 {
		return
	}
	switch key {
	case "ArrowDown":
		s.sel = (s.sel + 1) % len(s.items)
	case "ArrowUp":
		s.sel = (s.sel + len(s.items) - 1) % len(s.items)
	case "Enter", "Tab":
		s.pick(s.items[s.sel])
	case "Escape":
		s.items, s.shown = nil, false
	}
	s.aria()
}

// pick replaces the @word before the caret with the member's @nick and a
// space, and tells the composer (an input event: it saves the draft).
func (s *MentionSuggest) pick(m shared.Member) {
	el := app.Window().GetElementByID(composerID)
	if !el.Truthy() {
		return
	}
	value := el.Get("value").String()
	caret := utf16Byte(value, el.Get("selectionStart").Int())
	if s.at > caret {
		return
	}
	head := value[:s.at] + "@" + m.Nick + " "
	el.Set("value", head+value[caret:])
	n := utf16Len(head)
	el.Call("setSelectionRange", n, n)
	s.items, s.shown, s.sel = nil, false, 0
	el.Call("dispatchEvent", app.Window().Get("Event").New("input", map[string]any{"bubbles": true}))
	el.Call("focus")
}

func (s *MentionSuggest) onChoose(m shared.Member) app.EventHandler {
	return func(ctx app.Context, e app.Event) {
		e.PreventDefault() // keep the focus in the composer
		s.pick(m)
		s.aria()
	}
}

// aria points the composer at the list and its selected option.
func (s *MentionSuggest) aria() {
	el := app.Window().GetElementByID(composerID)
	if !el.Truthy() {
		return
	}
	el.Call("setAttribute", "aria-autocomplete", "list")
	el.Call("setAttribute", "aria-controls", "mention-suggestions")
	if s.shown {
		el.Call("setAttribute", "aria-activedescendant", "mention-opt-"+strconv.Itoa(s.sel))
	} else {
		el.Call("removeAttribute", "aria-activedescendant")
	}
}

// Render draws the list, or an empty listbox the composer can name.
func (s *MentionSuggest) Render() app.UI {
	return app.Ul().ID("mention-suggestions").Class("mention-suggestions").DataSet("test", "mention-suggestions").
		Attr("role", "listbox").Attr("aria-label", "Members to mention").Hidden(len(s.items) == 0).Body(
		app.Range(s.items).Slice(func(i int) app.UI {
			m := s.items[i]
			cls := "mention-option " + userColor(m.User)
			if i == s.sel {
				cls += " selected"
			}
			return app.Li().ID("mention-opt-"+strconv.Itoa(i)).Class(cls).DataSet("test", "mention-option").DataSet("user", m.User).
				Attr("role", "option").Attr("aria-selected", i == s.sel).OnMouseDown(s.onChoose(m)).Text("@" + m.Nick)
		}),
	)
}

// utf16Byte is the byte offset in s of the UTF-16 offset units (a DOM
// selection offset).
func utf16Byte(s string, units int) int {
	for i, r := range s {
		if units <= 0 {
			return i
		}
		units--
		if r >= 0x10000 {
			units--
		}
	}
	return len(s)
}

// utf16Len is the length of s in UTF-16 units.
func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n++
		if r >= 0x10000 {
			n++
		}
	}
	return n
}
