package server_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/coder/websocket"
	"github.com/duplex-chat/duplex/server"
	"github.com/duplex-chat/duplex/server/files"
	"github.com/duplex-chat/duplex/server/store"
	"github.com/duplex-chat/duplex/shared"
)

// testImage draws a w×h picture with some detail, so that encoders have
// something to compress.
func testImage(w, h int) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.NRGBA{uint8(x * 7), uint8(y * 13), uint8(x ^ y), 255})
		}
	}
	return img
}

func pngBytes(t testing.TB, w, h int) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, testImage(w, h)); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func jpegBytes(t testing.TB, w, h int) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, testImage(w, h), nil); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func gifBytes(t testing.TB, w, h int) []byte {
	t.Helper()
	var b bytes.Buffer
	pal := image.NewPaletted(image.Rect(0, 0, w, h), []color.Color{color.Black, color.White})
	for x := range w {
		pal.SetColorIndex(x, x%h, 1)
	}
	// Two frames: the thumbnail is the first.
	if err := gif.EncodeAll(&b, &gif.GIF{Image: []*image.Paletted{pal, pal}, Delay: []int{10, 10}}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// pngBomb is a valid PNG header declaring a w×h image followed by a few
// bytes of pixel data: the shape of a decompression bomb, which the
// server must refuse from its header alone.
func pngBomb(t testing.TB, w, h uint32) []byte {
	t.Helper()
	b := pngBytes(t, 1, 1)
	ihdr := b[8+8 : 8+8+13] // signature, chunk length and type, then IHDR's data
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	crc := crc32.ChecksumIEEE(b[8+4 : 8+8+13])
	binary.BigEndian.PutUint32(b[8+8+13:], crc)
	return b
}

// upload writes a binary upload message and returns its request id.
func (c *wsClient) upload(t testing.TB, room, name string, data []byte) string {
	t.Helper()
	id := c.newID("up-")
	b, err := shared.EncodeUpload(id, shared.Upload{Room: room, Name: name}, data)
	if err != nil {
		t.Fatal(err)
	}
	c.writeBinary(t, b)
	return id
}

func (c *wsClient) writeBinary(t testing.TB, b []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	if err := c.conn.Write(ctx, websocket.MessageBinary, b); err != nil {
		t.Fatalf("%s: write binary: %v", c.name, err)
	}
}

// uploadOK uploads and waits for the ack.
func (c *wsClient) uploadOK(t testing.TB, room, name string, data []byte) shared.Image {
	t.Helper()
	f, _ := c.await(t, c.upload(t, room, name, data))
	if e, ok := f.Payload.(*shared.ErrorFrame); ok {
		t.Fatalf("%s: upload %s refused: %s: %s", c.name, name, e.Code, e.Message)
	}
	return ackOf[shared.UploadAck](t, f).Image
}

func (c *wsClient) sendImage(t testing.TB, room, msgID, body, image string) shared.SendAck {
	t.Helper()
	f, _ := c.call(t, shared.TypeSend, &shared.Send{Room: room, MsgID: msgID, Body: body, Image: image})
	return ackOf[shared.SendAck](t, f)
}

func startFileServer(t testing.TB, opts server.Options) (*testServer, *files.Dir) {
	t.Helper()
	dir, err := files.OpenDir(filepath.Join(t.TempDir(), "files"))
	if err != nil {
		t.Fatal(err)
	}
	opts.Files = dir
	return startServer(t, opts), dir
}

// blobs lists the files stored under dir's blobs (the uploaded bytes).
func blobs(t testing.TB, dir *files.Dir) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(filepath.Join(dir.Root(), "blobs"), func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			out = append(out, path)
		}
		return nil
	})
	return out
}

// TestUploadSendAndReplay uploads real PNG, JPEG and GIF bytes, sends
// them as messages, and checks that the other member gets each image's
// metadata live, in history and in a resume, with both stores; that the
// bytes are stored once per content with mode 0600; and that a retried
// upload names the same image.
func TestUploadSendAndReplay(t *testing.T) {
	forEachStore(t, func(t *testing.T, open func(testing.TB) store.Store) {
		ts, dir := startFileServer(t, server.Options{Store: open(t)})
		ann, bob := lobbyPair(t, ts.url)
		cases := []struct {
			name, typ string
			data      []byte
			w, h      int
		}{
			{"photo.jpg", "image/jpeg", jpegBytes(t, 800, 600), 800, 600},
			{"diagram ☺.png", "image/png", pngBytes(t, 300, 1000), 300, 1000},
			{"anim.gif", "image/gif", gifBytes(t, 40, 30), 40, 30},
			{"misnamed.txt", "image/png", pngBytes(t, 2, 3), 2, 3}, // the name says nothing about the type
		}
		var sent []shared.Image
		for i, tc := range cases {
			img := ann.uploadOK(t, "lobby", tc.name, tc.data)
			want := shared.Image{ID: img.ID, Name: tc.name, Type: tc.typ, Size: int64(len(tc.data)), Width: tc.w, Height: tc.h}
			if img != want || !files.ValidImageID(img.ID) {
				t.Fatalf("upload %s: ack %+v, want %+v", tc.name, img, want)
			}
			sent = append(sent, img)
			ack := ann.sendImage(t, "lobby", "img-"+string(rune('a'+i)), "caption "+tc.name, img.ID)
			msgs := bob.waitSeq(t, "lobby", ack.Seq)
			if got := msgs[len(msgs)-1]; got.Image == nil || *got.Image != img || got.Body != "caption "+tc.name {
				t.Fatalf("bob got %+v, want image %+v", got, img)
			}
		}
		// An image alone, without a caption.
		alone := ann.sendImage(t, "lobby", "img-alone", "", sent[0].ID)
		bob.waitSeq(t, "lobby", alone.Seq)

		// A retried upload (same user, room, name and bytes) is the same
		// image, and its bytes are not stored twice.
		if again := ann.uploadOK(t, "lobby", cases[0].name, cases[0].data); again != sent[0] {
			t.Fatalf("retried upload: %+v, want %+v", again, sent[0])
		}
		// The same bytes under another name: another id, one blob.
		renamed := ann.uploadOK(t, "lobby", "copy.jpg", cases[0].data)
		if renamed.ID == sent[0].ID {
			t.Fatal("the same bytes under another name got the same id")
		}
		// Four distinct contents were uploaded (and one of them twice more).
		stored := blobs(t, dir)
		if len(stored) != 4 {
			t.Fatalf("blobs stored: %d (%v), want 4 (one per distinct content)", len(stored), stored)
		}
		for _, p := range stored {
			st, err := os.Stat(p)
			if err != nil || st.Mode().Perm() != 0o600 {
				t.Fatalf("%s: mode %v, %v; want 0600", p, st.Mode().Perm(), err)
			}
		}

		// History and a resume carry the images.
		f, _ := bob.call(t, shared.TypeHistory, &shared.History{Room: "lobby", Limit: 50})
		hist := ackOf[shared.HistoryAck](t, f).Messages
		carol := dial(t, ts.url, "carol")
		carol.hello(t, "Carol")
		_, replay := carol.join(t, "lobby", ptr(int64(0)))
		for what, msgs := range map[string][]shared.Message{"history": hist, "resume": replay} {
			var got []shared.Image
			for _, m := range msgs {
				if m.Image != nil {
					got = append(got, *m.Image)
				}
			}
			want := append(append([]shared.Image(nil), sent...), sent[0])
			if len(got) != len(want) {
				t.Fatalf("%s: %d images, want %d", what, len(got), len(want))
			}
			for i := range want {
				if got[i] != want[i] {
					t.Fatalf("%s: image %d = %+v, want %+v", what, i, got[i], want[i])
				}
			}
		}
	})
}

// TestUploadRejects tries the bad uploads: bytes that are not an image
// (HTML named .png, SVG, text), a PNG header followed by garbage, a
// truncated PNG, a 30000×30000 header (a decompression bomb), an upload
// over the size limit, to a room not joined, before hello, a binary
// message that is not an upload; and the bad sends: an image of another
// user, one uploaded for another room, a missing id. Each gets its error,
// nothing is stored, and the connection keeps working.
func TestUploadRejects(t *testing.T) {
	ts, dir := startFileServer(t, server.Options{})
	ann, bob := lobbyPair(t, ts.url)
	good := pngBytes(t, 10, 10)
	truncated := pngBytes(t, 200, 200)
	truncated = truncated[:len(truncated)/2]
	garbage := append(append([]byte(nil), good[:33]...), bytes.Repeat([]byte("garbage!"), 100)...)

	bad := []struct {
		name string
		data []byte
		code shared.Code
		says string
	}{
		{"page.png", []byte("<!DOCTYPE html><html><script>alert(1)</script></html>"), shared.CodeInvalid, "text/html"},
		{"logo.png", []byte(`<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"></svg>`), shared.CodeInvalid, "not an image"},
		{"notes.png", []byte("just some text"), shared.CodeInvalid, "text/plain"},
		{"garbage.png", garbage, shared.CodeInvalid, "PNG"},
		{"truncated.png", truncated, shared.CodeInvalid, "not a valid PNG"},
		{"bomb.png", pngBomb(t, 30000, 30000), shared.CodeTooLarge, "30000×30000"},
		{"wide.png", pngBomb(t, 1<<31-1, 1), shared.CodeTooLarge, "megapixels"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			e := ann.expectError(t, ann.upload(t, "lobby", tc.name, tc.data), tc.code)
			if !strings.Contains(e.Message, tc.says) {
				t.Fatalf("error %q does not say %q", e.Message, tc.says)
			}
		})
	}
	t.Run("over the size limit", func(t *testing.T) {
		big := append(append([]byte(nil), good...), make([]byte, shared.MaxImageBytes)...)
		// EncodeUpload does not check the size; the server does, and the
		// connection survives (the extra bytes are read and dropped).
		e := ann.expectError(t, ann.upload(t, "lobby", "big.png", big), shared.CodeTooLarge)
		if !strings.Contains(e.Message, "5242880") {
			t.Fatalf("error %q does not give the limit", e.Message)
		}
	})
	t.Run("room not joined", func(t *testing.T) {
		ann.expectError(t, ann.upload(t, "elsewhere", "a.png", good), shared.CodeNotJoined)
	})
	t.Run("before hello", func(t *testing.T) {
		c := dial(t, ts.url, "early")
		c.expectError(t, c.upload(t, "lobby", "a.png", good), shared.CodeHelloRequired)
	})
	t.Run("a text frame sent as binary", func(t *testing.T) {
		ann.writeBinary(t, []byte(`{"type":"rooms","id":"b1"}`))
		ann.expectAnonError(t, shared.CodeBadFrame)
	})
	t.Run("a send frame in a binary message", func(t *testing.T) {
		head := []byte(`{"type":"send","id":"s-bin","data":{"room":"lobby","msg_id":"m-bin","body":"x"}}`)
		ann.writeBinary(t, append(binary.BigEndian.AppendUint32(nil, uint32(len(head))), append(head, 'x')...))
		ann.expectError(t, "s-bin", shared.CodeBadFrame)
	})
	if n := len(blobs(t, dir)); n != 0 {
		t.Fatalf("%d blobs stored by refused uploads", n)
	}

	mine := ann.uploadOK(t, "lobby", "mine.png", good)
	bob.join(t, "other", nil)
	ann.join(t, "other", nil)
	theirs := bob.uploadOK(t, "other", "theirs.png", good)
	for _, tc := range []struct {
		name  string
		who   *wsClient
		room  string
		image string
		code  shared.Code
	}{
		{"another user's image", ann, "other", theirs.ID, shared.CodeNotFound},
		{"an image uploaded for another room", ann, "other", mine.ID, shared.CodeForbidden},
		{"a missing image", ann, "lobby", "i" + strings.Repeat("0", 40), shared.CodeNotFound},
		{"an id of another shape", ann, "lobby", "../../etc/passwd", shared.CodeInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id := tc.who.request(t, shared.TypeSend, &shared.Send{Room: tc.room, MsgID: "m-" + tc.who.newID("x"), Body: "look", Image: tc.image})
			tc.who.expectError(t, id, tc.code)
		})
	}
	// No oracle (issue #15): another user's image id is answered exactly
	// as an id nobody uploaded, code and message (the id aside).
	answer := func(image string) string {
		id := ann.request(t, shared.TypeSend, &shared.Send{Room: "other", MsgID: "m-" + ann.newID("x"), Body: "look", Image: image})
		e := ann.expectError(t, id, shared.CodeNotFound)
		return strings.ReplaceAll(e.Message, image, "ID")
	}
	if theirsAns, unknownAns := answer(theirs.ID), answer("i"+strings.Repeat("7", 40)); theirsAns != unknownAns {
		t.Fatalf("another user's image answers %q, an unknown one %q: the difference confirms a guessed id", theirsAns, unknownAns)
	}
	// Nothing was sent; the connections still work.
	a := ann.sendMsg(t, "lobby", "still-here", "still chatting")
	if msgs := bob.waitSeq(t, "lobby", a.Seq); len(msgs) != 1 {
		t.Fatalf("bob got %d messages in lobby, want only the last one", len(msgs))
	}
}

// TestUploadOversizedMessageCloses: a binary message beyond what the
// server reads and drops (over 3×MaxImageBytes) closes the connection
// with 1009, after a too_large error naming the upload; others go on.
func TestUploadOversizedMessageCloses(t *testing.T) {
	ts, _ := startFileServer(t, server.Options{})
	ann, bob := lobbyPair(t, ts.url)
	huge := make([]byte, 4*shared.MaxImageBytes)
	id := ann.newID("up-")
	b, _ := shared.EncodeUpload(id, shared.Upload{Room: "lobby", Name: "huge.png"}, huge)
	ctx, cancel := contextWithTimeout()
	defer cancel()
	ann.conn.Write(ctx, websocket.MessageBinary, b) // the server may close before it has read it all
	ann.expectError(t, id, shared.CodeTooLarge)
	var ce websocket.CloseError
	if err := ann.closeErr(t); !asCloseError(err, &ce) || ce.Code != websocket.StatusMessageTooBig {
		t.Fatalf("close: %v, want 1009", err)
	}
	a := bob.sendMsg(t, "lobby", "b-1", "still here")
	bob.waitSeq(t, "lobby", a.Seq)
}

// TestUploadRateLimit: uploads count their bytes against the upload
// rate: past the burst the next one is refused with rate_limited and a
// retry_after, and nothing of it is stored.
func TestUploadRateLimit(t *testing.T) {
	lim := server.NoLimits()
	lim.Conn.Upload = server.Rate{PerSecond: 1000, Burst: shared.MaxImageBytes}
	lim.Refusals = server.Rate{PerSecond: 50, Burst: 1000}
	ts, dir := startFileServer(t, server.Options{Limits: lim})
	ann, _ := lobbyPair(t, ts.url)
	// Three quarters of the burst: two of them do not fit. (Bytes after
	// a PNG's IEND chunk are ignored by decoders.)
	big := pngBytes(t, 100, 100)
	big = append(big, make([]byte, shared.MaxImageBytes*3/4-len(big))...)
	ann.uploadOK(t, "lobby", "first.png", big)
	e := ann.expectError(t, ann.upload(t, "lobby", "second.png", big), shared.CodeRateLimited)
	if e.RetryAfter <= 0 {
		t.Fatalf("rate_limited without retry_after: %+v", e)
	}
	if n := len(blobs(t, dir)); n != 1 {
		t.Fatalf("%d blobs, want 1", n)
	}
}
