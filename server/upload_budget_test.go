package server_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/duplex-chat/duplex/server"
	"github.com/duplex-chat/duplex/server/files"
	"github.com/duplex-chat/duplex/shared"
	"github.com/duplex-chat/duplex/shared/testpoll"
)

// gatedDir is a real files.Dir whose Put waits at a gate once it has
// started: it holds an upload inside the decode budget for as long as a
// test needs.
type gatedDir struct {
	*files.Dir
	entered chan struct{} // one value per Put that reached the gate
	open    chan struct{} // closed to let every Put through
}

func (g *gatedDir) Put(ctx context.Context, u files.Upload) (files.Info, error) {
	g.entered <- struct{}{}
	select {
	case <-g.open:
	case <-ctx.Done():
		return files.Info{}, ctx.Err()
	}
	return g.Dir.Put(ctx, u)
}

// TestUploadDecodeBudget: an image whose decode would cost more than
// MaxDecodeBytes is refused with too_large from its header alone (the
// shapes tried: a PNG header declaring 6000×6000 RGBA, 144 MB, with no
// pixel data behind it, and the same at 16 bits per channel); one that
// fits waits for the server-wide DecodeMemory another upload holds, and
// is refused with unavailable (retryable) after DecodeWait; meanwhile the
// waiting uploader's text sends are answered (its reader is not blocked);
// once the budget is free the same upload is accepted.
func TestUploadDecodeBudget(t *testing.T) {
	small := pngBytes(t, 64, 64)
	cost, err := files.DecodeCost(small)
	if err != nil {
		t.Fatal(err)
	}
	dir, err := files.OpenDir(filepath.Join(t.TempDir(), "files"))
	if err != nil {
		t.Fatal(err)
	}
	g := &gatedDir{Dir: dir, entered: make(chan struct{}, 4), open: make(chan struct{})}
	ts := startServer(t, server.Options{
		Files: g, DecodeMemory: cost, MaxDecodeBytes: 16 << 20, DecodeWait: 2 * time.Second,
		Limits: server.NoLimits(),
	})
	ann, bob := lobbyPair(t, ts.url)

	for _, bomb := range [][]byte{pngBomb(t, 6000, 6000), png16Bomb(t, 3000, 3000)} {
		e := ann.expectError(t, ann.upload(t, "lobby", "bomb.png", bomb), shared.CodeTooLarge)
		if !strings.Contains(e.Message, "MiB of memory to decode") {
			t.Fatalf("too_large says %q", e.Message)
		}
	}
	if n := len(blobs(t, dir)); n != 0 {
		t.Fatalf("%d blobs after refusals", n)
	}

	// Ann's upload takes the whole budget and waits at the gate.
	first := ann.upload(t, "lobby", "a.png", small)
	<-g.entered
	// Bob's waits for the budget; his reader goes on meanwhile: the
	// send's ack comes before the upload's answer (await would skip and
	// drop an earlier error, and expectError below would fail).
	second := bob.upload(t, "lobby", "b.png", pngBytes(t, 64, 63))
	ack := bob.sendMsg(t, "lobby", "b-text", "while my upload waits")
	if ack.Seq == 0 {
		t.Fatalf("send ack %+v", ack)
	}
	e := bob.expectError(t, second, shared.CodeUnavailable)
	if !shared.Code(e.Code).Retryable() {
		t.Fatalf("%s is not retryable", e.Code)
	}
	close(g.open)
	f, _ := ann.await(t, first)
	if _, ok := f.Payload.(*shared.ErrorFrame); ok {
		t.Fatalf("first upload refused: %+v", f.Payload)
	}
	img := bob.uploadOK(t, "lobby", "b.png", pngBytes(t, 64, 63)) // the retry
	bob.sendImage(t, "lobby", "b-img", "", img.ID)
}

// png16Bomb is a PNG header declaring a w×h 16-bit RGBA image (8 bytes a
// pixel decoded) followed by a few bytes of pixel data.
func png16Bomb(t testing.TB, w, h uint32) []byte {
	b := pngBomb(t, w, h)
	b[8+8+8] = 16 // bit depth
	fixIHDR(b)
	return b
}

// trickler is a connection whose raw TCP socket the test writes frames
// to: a WebSocket library buffers a message's frames until its end.
type trickler struct {
	*wsClient
	raw net.Conn
}

func dialTrickler(t *testing.T, url, nick string) trickler {
	raw, conn := dialCapture(t, url)
	c := newClient(t, conn, nick)
	c.hello(t, nick)
	c.join(t, "lobby", nil)
	return trickler{c, raw}
}

// trickle starts a binary message and sends one byte of it in a frame of
// its own every interval, until the connection fails or stop is closed.
func (tr trickler) trickle(interval time.Duration, stop <-chan struct{}) {
	hdr, _ := shared.EncodeUpload("up-trickle", shared.Upload{Room: "lobby", Name: "slow.png"}, []byte{0})
	for i := 0; ; i++ {
		op := byte(0x00) // continuation, not final
		if i == 0 {
			op = 0x02 // binary, not final
		}
		tr.raw.SetWriteDeadline(time.Now().Add(waitTimeout))
		if _, err := tr.raw.Write(maskedFrame(op, hdr[i%len(hdr):i%len(hdr)+1])); err != nil {
			return
		}
		select {
		case <-stop:
			return
		case <-time.After(interval):
		}
	}
}

// TestUploadTrickleDoesNotBlockOthers: eight connections start uploads
// and send a byte every 500ms (the attack of issue #14 held all eight
// upload slots of the server this way); meanwhile another user uploads a
// small image, which is accepted, and sends text, which is answered; the
// tricklers are closed with 4001 once they fall under UploadMinRate after
// its grace. A trickler under UploadTimeout alone (no minimum rate) is
// closed too.
func TestUploadTrickleDoesNotBlockOthers(t *testing.T) {
	ts, _ := startFileServer(t, server.Options{Limits: server.NoLimits()})
	stop := make(chan struct{})
	defer close(stop)
	var tricklers []trickler
	for i := range 8 {
		tr := dialTrickler(t, ts.url, fmt.Sprintf("T%d", i))
		tricklers = append(tricklers, tr)
		go tr.trickle(500*time.Millisecond, stop)
	}
	victim := dial(t, ts.url, "victim")
	victim.hello(t, "Victim")
	victim.join(t, "lobby", nil)
	img := victim.uploadOK(t, "lobby", "v.png", pngBytes(t, 50, 40))
	victim.sendImage(t, "lobby", "v-1", "a picture", img.ID)
	victim.sendMsg(t, "lobby", "v-2", "and text")
	for _, c := range tricklers {
		var ce websocket.CloseError
		if err := c.closeErr(t); !asCloseError(err, &ce) || ce.Code != websocket.StatusCode(shared.CloseSlowClient) || !strings.Contains(ce.Reason, "upload too slow") {
			t.Fatalf("trickler: %v, want 4001 upload too slow", err)
		}
	}
	victim.sendMsg(t, "lobby", "v-3", "still here")

	ts2, _ := startFileServer(t, server.Options{Limits: server.NoLimits(), UploadTimeout: 2 * time.Second, UploadMinRate: -1})
	slow := dialTrickler(t, ts2.url, "Slow")
	go slow.trickle(100*time.Millisecond, stop)
	var ce websocket.CloseError
	if err := slow.closeErr(t); !asCloseError(err, &ce) || ce.Code != websocket.StatusCode(shared.CloseSlowClient) || !strings.Contains(ce.Reason, "not complete within 2s") {
		t.Fatalf("slow uploader: %v, want 4001 not complete within 2s", err)
	}
}

// TestUploadMemoryBudget: uploads being received share UploadMemory (at
// least two of the largest): three connections each send all but the
// last bytes of a 5 MiB upload, so none completes and frees its share;
// the upload that finds the budget spent is refused at once with
// unavailable (retryable) instead of waiting. Once the three messages are
// complete, the others are accepted, every connection still answers, and
// the refused upload's retry is accepted.
func TestUploadMemoryBudget(t *testing.T) {
	ts, _ := startFileServer(t, server.Options{Limits: server.NoLimits(), UploadMemory: 1, UploadMinRate: -1, FrameTimeout: -1})
	big := pngBytes(t, 100, 100)
	big = append(big, make([]byte, shared.MaxImageBytes-len(big))...) // decoders ignore bytes after IEND
	type holder struct {
		c    *wsClient
		id   string
		w    io.WriteCloser
		rest []byte
	}
	var hs []holder
	for i := range 3 {
		c := dial(t, ts.url, fmt.Sprintf("holder%d", i))
		c.hello(t, fmt.Sprintf("H%d", i))
		c.join(t, "lobby", nil)
		id := c.newID("up-")
		msg, _ := shared.EncodeUpload(id, shared.Upload{Room: "lobby", Name: fmt.Sprintf("big%d.png", i)}, big)
		ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
		defer cancel()
		w, err := c.conn.Writer(ctx, websocket.MessageBinary)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(msg[:len(msg)-10]); err != nil {
			t.Fatal(err)
		}
		hs = append(hs, holder{c, id, w, msg[len(msg)-10:]})
	}
	// One of them is refused while all three are incomplete.
	refused := -1
	testpoll.Until(t, "an upload refused while three 5 MiB uploads share memory for two", func() bool {
		for i, h := range hs {
			err := h.c.waitUntil(50*time.Millisecond, "refusal", func() bool {
				for _, f := range h.c.queue {
					if e, ok := f.Payload.(*shared.ErrorFrame); ok && f.ID == h.id && e.Code == shared.CodeUnavailable {
						return true
					}
				}
				return false
			})
			if err == nil {
				refused = i
				return true
			}
		}
		return false
	})
	for i, h := range hs {
		if _, err := h.w.Write(h.rest); err != nil {
			t.Fatal(err)
		}
		if err := h.w.Close(); err != nil {
			t.Fatal(err)
		}
		if i != refused {
			f, _ := h.c.await(t, h.id)
			if _, isErr := f.Payload.(*shared.ErrorFrame); isErr {
				t.Fatalf("upload %d: %+v", i, f.Payload)
			}
		}
		h.c.sendMsg(t, "lobby", fmt.Sprintf("h%d", i), "my connection still works")
	}
	hs[refused].c.uploadOK(t, "lobby", "retry.png", big)
}

// fixIHDR recomputes the CRC of a PNG's IHDR chunk after an edit.
func fixIHDR(b []byte) {
	binary.BigEndian.PutUint32(b[29:], crc32.ChecksumIEEE(b[12:29]))
}

// TestUploadUnusedRemoved: an image no message used within
// UnusedUploadTTL is removed (its record, its bytes and its thumbnail), a
// used one stays, and bytes another user's used image shares stay too;
// the removed image can no longer be sent. The test polls the files
// directory for the removal.
func TestUploadUnusedRemoved(t *testing.T) {
	ts, dir := startFileServer(t, server.Options{UnusedUploadTTL: 3 * time.Second})
	ann, bob := lobbyPair(t, ts.url)
	ctx := context.Background()
	used := ann.uploadOK(t, "lobby", "used.png", pngBytes(t, 40, 30))
	ann.sendImage(t, "lobby", "a-1", "", used.ID)
	sharedBytes := pngBytes(t, 41, 30)
	annShared := ann.uploadOK(t, "lobby", "shared.png", sharedBytes)
	ann.sendImage(t, "lobby", "a-2", "", annShared.ID)
	bobShared := bob.uploadOK(t, "lobby", "shared.png", sharedBytes) // same bytes, never used
	unused := ann.uploadOK(t, "lobby", "unused.png", pngBytes(t, 42, 30))
	info, _, _ := dir.Info(ctx, unused.ID)
	if n := len(blobs(t, dir)); n != 3 {
		t.Fatalf("%d blobs before the sweep, want 3", n)
	}
	gone := func(p string) bool { _, err := os.Stat(p); return os.IsNotExist(err) }
	blob := filepath.Join(dir.Root(), "blobs", info.SHA256[:2], info.SHA256)
	thumb := filepath.Join(dir.Root(), "thumbs", info.SHA256[:2], info.SHA256)
	testpoll.Until(t, "the unused upload removed", func() bool {
		_, ok, _ := dir.Info(ctx, unused.ID)
		return !ok && gone(blob) && gone(thumb)
	})
	if _, ok, _ := dir.Info(ctx, bobShared.ID); ok {
		t.Fatal("Bob's unused record of shared bytes is still there")
	}
	for _, id := range []string{used.ID, annShared.ID} {
		f, _, err := dir.Open(ctx, id, false)
		if err != nil {
			t.Fatalf("used image %s: %v", id, err)
		}
		f.Close()
	}
	if n := len(blobs(t, dir)); n != 2 {
		t.Fatalf("%d blobs after the sweep, want 2", n)
	}
	ann.expectError(t, ann.request(t, shared.TypeSend, &shared.Send{Room: "lobby", MsgID: "a-3", Image: unused.ID}), shared.CodeNotFound)
}

// TestUploadQuota: a user's uploads are counted against UploadQuota per
// window, and all the users of one address against UploadQuotaPerAddr:
// over either, rate_limited with a retry_after of about the rest of the
// window, and nothing stored. Uploads refused for another reason (a
// decode too costly) do not count.
func TestUploadQuota(t *testing.T) {
	img := pngBytes(t, 100, 100)
	img = append(img, make([]byte, 1<<20-len(img))...) // 1 MiB; decoders ignore bytes after IEND
	other := append(bytes.Clone(img[:len(img)-1]), 1)
	ts, dir := startFileServer(t, server.Options{UploadQuota: 5 << 19, UploadQuotaPerAddr: 7 << 19, UploadQuotaWindow: time.Hour, MaxDecodeBytes: 8 << 20})
	ann, bob := lobbyPair(t, ts.url)
	ann.expectError(t, ann.upload(t, "lobby", "bomb.png", pngBomb(t, 6000, 6000)), shared.CodeTooLarge)
	ann.uploadOK(t, "lobby", "1.png", img)
	ann.uploadOK(t, "lobby", "2.png", other)
	e := ann.expectError(t, ann.upload(t, "lobby", "3.png", img), shared.CodeRateLimited)
	if e.RetryAfter < int64(59*time.Minute/time.Millisecond) || !strings.Contains(e.Message, "your uploads may total 2 MiB per 1h0m0s") {
		t.Fatalf("user quota refusal: %+v", e)
	}
	// Bob has a quota of his own but shares Ann's address: 3.5 MiB.
	bob.uploadOK(t, "lobby", "b1.png", img)
	e = bob.expectError(t, bob.upload(t, "lobby", "b2.png", other), shared.CodeRateLimited)
	if e.RetryAfter <= 0 || !strings.Contains(e.Message, "your address's uploads") {
		t.Fatalf("address quota refusal: %+v", e)
	}
	if n := len(blobs(t, dir)); n != 2 {
		t.Fatalf("%d blobs, want 2", n)
	}
}
