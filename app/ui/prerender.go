package ui

import (
	"context"
	"encoding/base64"
	"encoding/json"
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
	msgs, err := historySource.Recent(qctx, c.room, shared.DefaultRecent)
	if err != nil {
		app.Log("prerender history:", err)
		return
	}
	if msgs == nil {
		msgs = []shared.Message{}
	}
	c.pre = msgs
}

// SeedFromPrerender copies the messages the server prerendered into the
// model before go-app replaces the prerendered DOM, so the first wasm
// render shows the same rows: no flash of an empty list, and the later
// join dedups them by msg_id instead of doubling them.
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
	theModel.mu.Lock()
	defer theModel.mu.Unlock()
	for _, m := range p.Messages {
		if m.Room == p.Room && m.Seq > 0 {
			theModel.viewLocked(p.Room).addLocked(m)
		}
	}
	if n := len(p.Messages); n > 0 { // a messages-only page: its gaps are events
		theModel.viewLocked(p.Room).coverLocked(p.Messages[0].Seq, p.Messages[n-1].Seq)
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
