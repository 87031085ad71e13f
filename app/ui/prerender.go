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

var historySource HistorySource

// SetHistorySource makes prerendered room pages carry their latest
// messages, so history shows before app.wasm has loaded.
func SetHistorySource(h HistorySource) { historySource = h }

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
	msgs = fitPrerender(msgs, prerenderBudget) // prerender_budget.go
	if err != nil {
		app.Log("prerender history:", err)
		return
	}
	if msgs == nil {
		msgs = []shared.Message{}
	}
	c.pre = msgs
}

// seed holds the messages the server prerendered from the moment the
// wasm starts until the client exists: then they move into the client
// (client.Seed), which owns the room's messages from there on. Before the
// person signs in there is no client, and the page shows these.
var seed *prerendered

// SeedFromPrerender takes the messages the server prerendered before
// go-app replaces the prerendered DOM, so the first wasm render shows the
// same rows: no flash of an empty list; the client then resumes the room
// after them instead of replaying them again.
func SeedFromPrerender() {
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
	theModel.mu.Lock()
	defer theModel.mu.Unlock()
	if theModel.cl != nil {
		theModel.cl.Seed(p.Room, msgs)
		return
	}
	seed = &p
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
