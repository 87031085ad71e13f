package ui

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"sort"
	"time"

	"github.com/duplex-chat/duplex/shared"
	"github.com/maxence-charriere/go-app/v10/pkg/app"
)

// HistorySource gives the server's prerenderer a room's latest messages,
// oldest first. The server binary fills it from its store, so app/ never
// imports server/.
type HistorySource interface {
	Recent(ctx context.Context, room string, n int) ([]shared.Message, error)
}

// SetHistorySource makes prerendered room pages carry their latest
// messages, so history shows before app.wasm has loaded. Call it before
// serving pages; it is configuration (pageConfig), read by every page.
func SetHistorySource(h HistorySource) {
	c := *loadPageConfig()
	c.history = h
	pageCfg.Store(&c)
}

// prerenderID is the element whose data-messages attribute (base64 JSON) hands the
// prerendered messages to the wasm, which seeds its model from it.
const prerenderID = "prerender"

// prerendered is the JSON in that attribute.
type prerendered struct {
	Room     string           `json:"room"`
	Messages []shared.Message `json:"messages"`
}

// OnPreRender loads the room's latest messages on the server.
func (c *Chat) OnPreRender(ctx app.Context) {
	c.path = ctx.Page().URL().Path
	c.room = roomFromPath(c.path)
	ctx.Page().SetTitle(pageTitle(c.room))
	// The server marks the page of a private room or DM whose reader it
	// could not verify: it shows nothing of the room.
	cfg := loadPageConfig()
	historySource := cfg.history
	if historySource == nil || c.room == "" || ctx.Page().URL().Query().Has("private") {
		return
	}
	qctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	var msgs []shared.Message
	var err error
	vs, ok := historySource.(ViewerHistorySource)
	if viewer := ctx.Page().URL().Query().Get(ViewerParam); ok && viewer != "" {
		msgs, err = vs.RecentFor(qctx, c.room, shared.DefaultRecent, viewer)
	} else {
		msgs, err = historySource.Recent(qctx, c.room, shared.DefaultRecent)
	}
	msgs = fitPrerender(msgs, cfg.budget) // prerender_budget.go
	if err != nil {
		app.Log("prerender history:", err)
		return
	}
	if msgs == nil {
		msgs = []shared.Message{}
	}
	c.pre = msgs
}

// seedFromPrerender takes the messages the server prerendered before
// go-app replaces the prerendered DOM (Routes calls it in the browser,
// before app.RunWhenOnBrowser), so the first wasm render shows the same
// rows: no flash of an empty list; the client then resumes the room after
// them instead of replaying them again.
func (m *model) seedFromPrerender() {
	el := app.Window().GetElementByID(prerenderID)
	if !el.Truthy() {
		return
	}
	var p prerendered
	raw, err := base64.StdEncoding.DecodeString(el.Get("dataset").Get("messages").String())
	if err != nil || json.Unmarshal(raw, &p) != nil || shared.ValidRoom(p.Room) != nil {
		return
	}
	msgs := p.Messages[:0]
	for _, m := range p.Messages {
		if m.Room == p.Room && m.Seq > 0 && m.Kind == shared.KindMessage {
			msgs = append(msgs, m)
		}
	}
	sort.Slice(msgs, func(i, j int) bool { return msgs[i].Seq < msgs[j].Seq })
	p.Messages = msgs
	m.mu.Lock()
	cl := m.cl
	if cl == nil {
		m.seed = &p
	}
	m.mu.Unlock()
	if cl != nil {
		cl.Seed(p.Room, msgs)
	}
}

// prerenderData renders the hand-over element for the wasm.
func (c *Chat) prerenderData() app.UI {
	b, err := json.Marshal(prerendered{Room: c.room, Messages: c.pre})
	if err != nil {
		return app.Div()
	}
	// Base64, because go-app writes attribute values with strconv.Quote,
	// which does not escape for HTML: a '"' in JSON would end the attribute.
	return app.Div().ID(prerenderID).Hidden(true).DataSet("messages", base64.StdEncoding.EncodeToString(b))
}
