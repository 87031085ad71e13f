package ui

import (
	"context"
	"encoding/base64"
	"strconv"
	"strings"
	"time"

	"github.com/duplex-chat/duplex/shared"
	"github.com/maxence-charriere/go-app/v10/pkg/app"
)

// Images in the UI: a person attaches one image to the next message of a
// room by the attach button (a file input), by pasting it into the
// composer or by dropping it on the room; it shows as a preview with a
// remove button until sent. Sending uploads it (client.Upload, a binary
// frame), then sends the message naming it with the composer's text as
// its caption (client.SendImage, through the outbox). The message list
// shows each image as a thumbnail of known size linking to the full image.
// The bytes are read through the browser (Blob.arrayBuffer); no image
// decoder is linked into the wasm bundle: the server checks the bytes.

// actionAttach asks the composer to attach a file. Value: a JS File.
const actionAttach = "duplex.attach"

// imageTypes are the types the server accepts, for the file picker and a
// first check of what the browser says a file is (the server sniffs).
const imageTypes = "image/png,image/jpeg,image/gif,image/webp"

const fileInputID = "attach-input"

// attachment is an image chosen for the next message of a room.
type attachment struct {
	name    string
	data    []byte
	url     string // data: URL of the preview
	sending bool
}

// sentImageLocked is an image this tab sent (model.sentImages), so that a
// message still in the outbox shows its thumbnail (the outbox keeps the
// id only).
func (m *model) sentImageLocked(id string) *shared.Image {
	if img, ok := m.sentImages[id]; ok {
		return &img
	}
	return nil
}

// onAttach checks a chosen file and reads it into the room's attachment.
func (c *Composer) onAttach(ctx app.Context, a app.Action) {
	file, ok := a.Value.(app.Value)
	if !ok || !file.Truthy() || c.Room == "" {
		return
	}
	name, typ, size := file.Get("name").String(), file.Get("type").String(), file.Get("size").Int()
	if shared.ValidFileName(name) != nil {
		name = "image." + strings.TrimPrefix(typ, "image/") // a pasted image may have no usable name
	}
	switch {
	case !strings.Contains(imageTypes, typ) || !strings.HasPrefix(typ, "image/"):
		ctx.NewActionWithValue(actionToast, name+" is not a PNG, JPEG, GIF or WebP image")
		return
	case size > shared.MaxImageBytes:
		ctx.NewActionWithValue(actionToast, name+" is "+megabytes(size)+"; images may be at most "+megabytes(shared.MaxImageBytes))
		return
	case size == 0:
		ctx.NewActionWithValue(actionToast, name+" is empty")
		return
	}
	room := c.Room
	var then app.Func
	then = app.FuncOf(func(this app.Value, args []app.Value) any {
		then.Release()
		data := make([]byte, size)
		app.CopyBytesToGo(data, app.Window().Get("Uint8Array").New(args[0]))
		ctx.Dispatch(func(ctx app.Context) {
			c.m.attachments[room] = &attachment{name: name, data: data, url: "data:" + typ + ";base64," + base64.StdEncoding.EncodeToString(data)}
			if el := app.Window().GetElementByID(composerID); el.Truthy() {
				el.Call("focus")
			}
		})
		return nil
	})
	file.Call("arrayBuffer").Call("then", then)
}

// megabytes formats n bytes for people: "5 MB", "7.2 MB".
func megabytes(n int) string {
	tenths := (n*10 + (1<<20)/2) >> 20
	s := strconv.Itoa(tenths / 10)
	if tenths%10 != 0 {
		s += "." + strconv.Itoa(tenths%10)
	}
	return s + " MB"
}

// sendAttachment sends the room's attachment with caption, if it has one,
// and reports whether it had.
func (c *Composer) sendAttachment(ctx app.Context, caption string) bool {
	a, room := c.m.attachments[c.Room], c.Room
	if a == nil {
		return false
	}
	if a.sending {
		return true
	}
	if strings.TrimSpace(caption) == "" {
		caption = ""
	} else if err := shared.ValidBody(caption); err != nil {
		ctx.NewActionWithValue(actionToast, "Not sent: "+errText(err))
		return true
	}
	a.sending = true
	ctx.Async(func() {
		err := c.m.sendImage(room, a.name, a.data, caption)
		ctx.Dispatch(func(ctx app.Context) {
			a.sending = false
			if err != nil {
				ctx.NewActionWithValue(actionToast, "Image not sent: "+errText(err))
				return
			}
			if c.m.attachments[room] == a {
				delete(c.m.attachments, room)
			}
			if c.Room == room {
				app.Window().Get("localStorage").Call("removeItem", draftKey(room))
				c.setText(ctx, "")
			}
		})
	})
	return true
}

// sendImage uploads data and sends a message carrying it.
func (m *model) sendImage(room, name string, data []byte, caption string) error {
	cl := m.client()
	if cl == nil {
		return shared.Errorf(shared.CodeNotJoined, "not signed in")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	img, err := cl.Upload(ctx, room, name, data)
	if err != nil {
		return err
	}
	m.mu.Lock()
	m.sentImages[img.ID] = img
	m.mu.Unlock()
	if _, err := cl.SendImage(room, img, caption); err != nil {
		return err
	}
	m.changed() // show it as pending now
	return nil
}

func (c *Composer) onRemoveAttachment(ctx app.Context, e app.Event) {
	delete(c.m.attachments, c.Room)
	if el := app.Window().GetElementByID(composerID); el.Truthy() {
		el.Call("focus")
	}
}

func (c *Composer) onPickFile(ctx app.Context, e app.Event) {
	if el := app.Window().GetElementByID(fileInputID); el.Truthy() {
		el.Call("click")
	}
}

func (c *Composer) onFileChosen(ctx app.Context, e app.Event) {
	el := ctx.JSSrc()
	if files := el.Get("files"); files.Truthy() && files.Length() > 0 {
		ctx.NewActionWithValue(actionAttach, files.Index(0))
	}
	el.Set("value", "") // choosing the same file again is a change too
}

// onPaste attaches the first image on the clipboard; text pastes as usual.
func (c *Composer) onPaste(ctx app.Context, e app.Event) {
	items := e.Get("clipboardData").Get("items")
	if !items.Truthy() {
		return
	}
	for i := range items.Length() {
		it := items.Index(i)
		if it.Get("kind").String() == "file" && strings.HasPrefix(it.Get("type").String(), "image/") {
			e.PreventDefault()
			ctx.NewActionWithValue(actionAttach, it.Call("getAsFile"))
			return
		}
	}
	ctx.PreventUpdate()
}

// onDragOver lets the room take drops; onDrop attaches a dropped file.
func onDragOver(ctx app.Context, e app.Event) {
	if types := e.Get("dataTransfer").Get("types"); types.Truthy() && types.Call("includes", "Files").Bool() {
		e.PreventDefault()
	}
	ctx.PreventUpdate()
}

func onDrop(ctx app.Context, e app.Event) {
	files := e.Get("dataTransfer").Get("files")
	if !files.Truthy() || files.Length() == 0 {
		return
	}
	e.PreventDefault() // or the browser opens the file in place of the app
	ctx.NewActionWithValue(actionAttach, files.Index(0))
}

// renderAttach draws the attach button, its file input and the preview
// of the room's attachment.
func (c *Composer) renderAttach() app.UI {
	a := c.m.attachments[c.Room]
	return app.Div().Class("attach-bar").Body(
		app.Input().Type("file").ID(fileInputID).Class("sr-only").Accept(imageTypes).TabIndex(-1).
			Attr("aria-hidden", "true").DataSet("test", "file-input").OnChange(c.onFileChosen),
		app.Button().Type("button").Class("attach").DataSet("test", "attach").
			Attr("aria-label", "Attach an image").Title("Attach an image (or paste or drop one here)").
			OnClick(c.onPickFile).Body(icon("clip")),
		app.If(a != nil, func() app.UI {
			label := a.name + " · " + megabytes(len(a.data))
			if a.sending {
				label = "Sending " + a.name + "…"
			}
			return app.Div().Class("attachment").DataSet("test", "attachment").Body(
				app.Img().Class("attachment-img").Src(a.url).Alt(a.name).DataSet("test", "attachment-preview"),
				app.Span().Class("attachment-name").Attr("aria-live", "polite").Text(label),
				app.Button().Type("button").Class("remove").DataSet("test", "attachment-remove").
					Attr("aria-label", "Remove "+a.name).Title("Remove").OnClick(c.onRemoveAttachment).Body(icon("close")),
			)
		}),
	)
}

// renderImage draws a message's image: a thumbnail, sized before it loads
// (no layout shift), linking to the full image in a new tab. A deleted
// message shows none, nor does an image whose id a server could not have
// given.
func renderImage(m shared.Message) app.UI {
	img := m.Image
	if img == nil || m.Deleted || !imageID(img.ID) {
		return nil
	}
	w, h := shared.ThumbSize(img.Width, img.Height)
	return app.A().Class("image").Href("/files/"+img.ID).Attr("target", "_blank").Attr("rel", "noopener noreferrer").
		Title("%s", attrText(img.Name)).Body(
		app.Img().Src("/files/"+img.ID+"/thumb").Width(w).Height(h).Alt(attrText(img.Name)).Attr("loading", "lazy").
			DataSet("test", "image").DataSet("id", img.ID),
	)
}

// imageID reports whether id is safe in a /files URL: letters and digits.
func imageID(id string) bool {
	if id == "" || len(id) > shared.MaxImageID {
		return false
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}
