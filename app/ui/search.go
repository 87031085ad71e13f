package ui

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/duplex-chat/duplex/shared"
	"github.com/maxence-charriere/go-app/v10/pkg/app"
)

// Search in the browser: a box above the messages; Enter asks the server
// (every room the person may read), the results list under it; choosing a
// result opens its room and pages back through history until the message
// is loaded, then scrolls to it and highlights it.

// searchPage is how many results one answer brings.
const searchPage = 20

// searchState is the model's search: the last query and its results, and
// the message being jumped to.
type searchState struct {
	query   string
	results []shared.Message
	next    int64
	busy    bool
	err     string
	open    bool
	room    string // the jump target
	seq     int64
}

// searchSnap is what the page shows of the search.
type searchSnap struct {
	Query   string
	Results []shared.Message
	More    bool
	Busy    bool
	Err     string
	Open    bool
	Target  int64 // the seq to show in the open room, 0: none
}

func (m *model) fillSearchLocked(s *snapshot, room string) {
	f := &m.find
	s.Search = searchSnap{Query: f.query, Results: f.results, More: f.next != 0, Busy: f.busy, Err: f.err, Open: f.open}
	if f.room == room {
		s.Search.Target = f.seq
	}
}

// search runs query from the newest results, or, more, the next page.
func (m *model) search(ctx app.Context, query string, more bool) {
	m.mu.Lock()
	cl, f := m.cl, &m.find
	if cl == nil || f.busy {
		m.mu.Unlock()
		return
	}
	var before int64
	if more {
		query, before = f.query, f.next
	} else {
		f.results, f.next = nil, 0
	}
	f.query, f.busy, f.err, f.open = query, true, "", true
	m.mu.Unlock()
	m.changed()
	ctx.Async(func() {
		sctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		ack, err := cl.Search(sctx, query, "", before, searchPage)
		m.mu.Lock()
		f.busy = false
		if f.query == query {
			if err != nil {
				f.err = errText(err)
			} else {
				f.results = append(append([]shared.Message(nil), f.results...), ack.Results...)
				f.next = ack.Next
			}
		}
		m.mu.Unlock()
		m.changed()
	})
}

// closeSearch hides the results (they stay for the next open).
func (m *model) closeSearch() {
	m.mu.Lock()
	m.find.open = false
	m.mu.Unlock()
}

// jumpTo makes seq of room the message to show; the page then opens the
// room and loads history back to it (seekTarget).
func (m *model) jumpTo(room string, seq int64) {
	m.mu.Lock()
	m.find.room, m.find.seq, m.find.open = room, seq, false
	m.mu.Unlock()
}

// seekTarget brings the search target of room into the loaded messages:
// it pages back through history while the target is older than the
// oldest message held. It reports whether the target is loaded.
func (m *model) seekTarget(ctx app.Context, room string, seq int64) bool {
	msgs := m.messages(room) // the client's copy
	m.mu.Lock()
	v := m.viewLocked(room)
	loaded := len(msgs) > 0 && msgs[0].Seq <= seq
	for _, msg := range msgs {
		if msg.Seq == seq {
			loaded = true
		}
	}
	ready := v.joined && !v.loading && v.more
	m.mu.Unlock()
	if !loaded && ready {
		m.loadOlder(ctx, room)
	}
	return loaded
}

// SearchBox is the search field and its results.
type SearchBox struct {
	app.Compo
	m *model // the page's model, passed down by Chat (never a global: prerendered pages run concurrently)

	Snap  searchSnap
	Rooms []shared.RoomInfo // to name a DM's result by the other person

	open bool // on a phone the box hides behind an icon until pressed
}

func (b *SearchBox) onOpen(ctx app.Context, e app.Event) {
	toggleFocus(ctx, &b.open, func() { focusFirst("[data-test=search]") })
}

func (b *SearchBox) onKey(ctx app.Context, e app.Event) {
	switch e.Get("key").String() {
	case "Enter":
		e.PreventDefault()
		q := strings.TrimSpace(ctx.JSSrc().Get("value").String())
		if q == "" {
			return
		}
		if err := shared.ValidBody(q); err != nil || len([]rune(q)) > shared.MaxQueryRunes {
			ctx.NewActionWithValue(actionToast, "Search: at most "+strconv.Itoa(shared.MaxQueryRunes)+" characters")
			return
		}
		b.m.search(ctx, q, false)
	case "ArrowDown": // keyboard.go: into the results
		if el := app.Window().Get("document").Call("querySelector", "[data-test=search-result]"); el.Truthy() {
			e.PreventDefault()
			el.Call("focus")
		}
	case "Escape":
		e.Call("stopPropagation") // the page's Escape would open the rooms drawer
		b.m.closeSearch()
		b.m.changed()
		b.open = false
	}
}

func (b *SearchBox) onMore(ctx app.Context, e app.Event) { b.m.search(ctx, "", true) }

func (b *SearchBox) onClose(ctx app.Context, e app.Event) {
	b.m.closeSearch()
	b.m.changed()
}

// onPick opens the chosen result. It reads the result from the DOM: go-app
// keeps a reused element's first handler, so a closure would open a result
// of an earlier search.
func (b *SearchBox) onPick(ctx app.Context, e app.Event) {
	e.PreventDefault()
	ds := ctx.JSSrc().Get("dataset")
	room := ds.Get("room").String()
	seq, err := strconv.ParseInt(ds.Get("seq").String(), 10, 64)
	if err != nil || shared.ValidRoom(room) != nil {
		return
	}
	b.m.jumpTo(room, seq)
	ctx.Navigate(RoomPath(room))
	b.m.changed()
}

// Render draws the box and, while open, the results.
func (b *SearchBox) Render() app.UI {
	s := b.Snap
	box := app.Input().Type("search").Class("search-input").DataSet("test", "search").
		Placeholder("Search messages").Attr("aria-label", "Search messages in the rooms you can read").
		AutoComplete(false).OnKeyDown(b.onKey)
	if s.Open {
		box = box.Attr("aria-controls", "search-results")
	}
	cls := "search"
	if b.open {
		cls += " open"
	}
	return app.Div().Class(cls).Body(
		app.Button().Type("button").Class("bar-btn icon-btn narrow-only search-toggle").DataSet("test", "open-search").
			Attr("aria-expanded", b.open).Attr("aria-label", "Search messages").Title("Search messages").OnClick(b.onOpen).Body(icon("search")),
		box,
		app.If(s.Open, func() app.UI {
			return app.Div().ID("search-results").Class("search-results").DataSet("test", "search-results").
				Attr("role", "region").Attr("aria-label", "Search results").Attr("aria-busy", s.Busy).OnKeyDown(b.onResultsKey).Body(
				app.Div().Class("search-head").Body(
					app.Span().DataSet("test", "search-status").Attr("aria-live", "polite").Text(searchStatus(s)),
					app.Button().Type("button").Class("toast-close").DataSet("test", "search-close").
						Attr("aria-label", "Close the search results").OnClick(b.onClose).Body(icon("close")),
				),
				app.Ul().Body(app.Range(s.Results).Slice(func(i int) app.UI {
					m := s.Results[i]
					t := time.UnixMilli(m.TS)
					return app.Li().Body(
						app.A().Href("%s", RoomPath(m.Room)).Class("search-result").DataSet("test", "search-result").
							DataSet("room", m.Room).DataSet("seq", m.Seq).OnClick(b.onPick).Body(
							app.Span().Class("search-where").Text(roomName(m.Room, b.Rooms)+" · "+m.Author.Nick+" · "+t.Format("2 Jan 15:04")),
							app.Span().Class("search-body").Body(highlight(snippet(m.Body, s.Query), s.Query)...), // links.go
						),
					)
				})),
				app.If(s.More, func() app.UI {
					return app.Button().Type("button").Class("older").DataSet("test", "search-more").OnClick(b.onMore).Text("More results")
				}),
			)
		}),
	)
}

func searchStatus(s searchSnap) string {
	switch {
	case s.Busy:
		return "Searching…"
	case s.Err != "":
		return "Search failed: " + s.Err
	case len(s.Results) == 0:
		return "No messages match “" + s.Query + "”"
	case len(s.Results) == 1:
		return "1 message"
	}
	return strconv.Itoa(len(s.Results)) + " messages"
}

// roomName is how a result names its room: as the room list does (a DM
// by the other person), else a DM as a direct message (its name is a
// hash, never shown).
func roomName(room string, rooms []shared.RoomInfo) string {
	for _, r := range rooms {
		if r.Name == room {
			return roomLabel(r)
		}
	}
	if shared.IsDMRoom(room) {
		return "direct message"
	}
	return "#" + room
}

// seek brings the search target of the open room into view: history is
// paged back until it is loaded, then it is scrolled to (once per target,
// after the list has rendered and restored its own scroll position).
func (c *Chat) seek(ctx app.Context) {
	seq := c.snap.Search.Target
	if seq == 0 || c.room == "" {
		return
	}
	key := c.room + "/" + strconv.FormatInt(seq, 10)
	if c.jumped == key || !c.m.seekTarget(ctx, c.room, seq) {
		return
	}
	ctx.Defer(func(ctx app.Context) {
		var frame app.Func
		frame = app.FuncOf(func(app.Value, []app.Value) any {
			frame.Release()
			sel := `#` + listID + ` [data-test=message][data-seq="` + strconv.FormatInt(seq, 10) + `"]`
			if el := app.Window().Get("document").Call("querySelector", sel); el.Truthy() {
				el.Call("scrollIntoView", map[string]any{"block": "center"})
				c.jumped = key
			}
			return nil
		})
		app.Window().Call("requestAnimationFrame", frame)
	})
}
