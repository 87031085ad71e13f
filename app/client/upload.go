package client

import (
	"context"
	"time"

	"github.com/duplex-chat/duplex/shared"
)

// uploadChunk is how much of an upload goes into one WebSocket frame
// (natively; a browser sends the message as it likes): the server gives a
// client a few seconds to finish each frame it starts, so a large image
// on a slow link must come in pieces.
const uploadChunk = 64 << 10

// uploadTimeout bounds the write of one upload.
const uploadTimeout = 2 * time.Minute

// Upload sends an image to a joined room as a binary upload frame and
// waits for the server to store it. The returned Image names it: send it
// with SendImage. The server checks the bytes (PNG, JPEG, GIF or WebP by
// content, at most shared.MaxImageBytes and shared.MaxImagePixels) and
// answers a bad one with a *shared.Error. Uploading the same bytes under
// the same name again returns the same image, so a failed Upload may
// simply be retried.
func (c *Client) Upload(ctx context.Context, room, name string, data []byte) (shared.Image, error) {
	u := shared.Upload{Room: room, Name: name}
	if err := shared.ValidRoom(room); err != nil {
		return shared.Image{}, err
	}
	if err := shared.ValidFileName(name); err != nil {
		return shared.Image{}, err
	}
	if len(data) == 0 {
		return shared.Image{}, shared.Errorf(shared.CodeInvalid, "the file is empty")
	}
	if len(data) > shared.MaxImageBytes {
		return shared.Image{}, shared.Errorf(shared.CodeTooLarge, "the image is %d bytes, the limit is %d", len(data), shared.MaxImageBytes)
	}
	// The write queue writes it in chunks (writeFrame), in order with
	// every other frame.
	f, err := c.requestBinary(ctx, func(id string) ([]byte, error) { return shared.EncodeUpload(id, u, data) })
	if err != nil {
		return shared.Image{}, err
	}
	ack, err := decodeAnswer[shared.UploadAck](f)
	return ack.Image, err
}

// SendImage sends a message carrying img (from Upload) with an optional
// caption, through the outbox like Send: idempotent, kept across
// reconnects and reloads, reported by MessageAcked or MessageFailed.
func (c *Client) SendImage(room string, img shared.Image, caption string) (string, error) {
	if err := shared.ValidID("image", img.ID); err != nil {
		return "", err
	}
	if caption != "" {
		if err := shared.ValidBody(caption); err != nil {
			return "", err
		}
	}
	return c.queue(Pending{Room: room, MsgID: newMsgID(), Body: caption, TS: time.Now().UnixMilli(), Image: img.ID}, nil)
}
