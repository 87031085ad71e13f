package main

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/png"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/duplex-chat/duplex/app/client"
	"github.com/duplex-chat/duplex/shared"
	"github.com/duplex-chat/duplex/shared/testpoll"
)

// testPNG encodes a w×h picture with some detail.
func testPNG(t testing.TB, w, h int) []byte {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.NRGBA{uint8(x), uint8(y), uint8(x ^ y), 255})
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// fetchFile requests url with method and an optional credential cookie.
func fetchFile(t *testing.T, method, url, token string, header ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.AddCookie(&http.Cookie{Name: tokenCookie, Value: token})
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := noRedirect.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

// imageClient dials a client that records the messages it receives.
func imageClient(t *testing.T, ctx context.Context, ws, nick string) (*client.Client, *eventLog) {
	t.Helper()
	log := &eventLog{}
	c, err := client.Dial(ctx, ws, &client.Options{Nick: nick, OnEvent: log.add})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c, log
}

// privateRoomMember dials a client called nick that creates the private
// room and joins it.
func privateRoomMember(t *testing.T, ctx context.Context, ws, nick, room string) *client.Client {
	t.Helper()
	c, _ := imageClient(t, ctx, ws, nick)
	if _, err := c.CreateRoom(ctx, room, shared.RoomPrivate); err != nil {
		t.Fatal(err)
	}
	if err := c.Join(ctx, room); err != nil {
		t.Fatal(err)
	}
	return c
}

func receivedImage(log *eventLog, id string) bool {
	return log.has(func(ev client.Event) bool {
		m, ok := ev.(client.MessageReceived)
		return ok && m.Message.Image != nil && m.Message.Image.ID == id
	})
}

// TestImagesServed: the client package uploads a PNG and sends it; the
// other member receives the image; /files serves the bytes and the
// thumbnail with the sniffed type, nosniff, a sandboxing CSP, an
// RFC 5987 Content-Disposition, a strong ETag (304 on a match) and
// immutable caching, for GET and HEAD; the blob lives in DATA_DIR/files.
// Bad paths tried: unknown ids, "..", encoded dots and slashes, a suffix
// other than /thumb, an upper-case id, the meta file's name: none serves
// a file.
func TestImagesServed(t *testing.T) {
	ta := startApp(t, "", "")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	ann, _ := imageClient(t, ctx, ta.WS, "Ann")
	bob, bobLog := imageClient(t, ctx, ta.WS, "Bob")
	for _, c := range []*client.Client{ann, bob} {
		if err := c.Join(ctx, "lobby"); err != nil {
			t.Fatal(err)
		}
	}
	data := testPNG(t, 640, 480)
	name := `a "b";c ☺.png`
	img, err := ann.Upload(ctx, "lobby", name, data)
	if err != nil {
		t.Fatal(err)
	}
	if img.Type != "image/png" || img.Width != 640 || img.Height != 480 || img.Size != int64(len(data)) || img.Name != name {
		t.Fatalf("upload ack %+v", img)
	}
	if _, err := ann.SendImage("lobby", img, "a picture"); err != nil {
		t.Fatal(err)
	}
	testpoll.Until(t, "bob receiving the image", func() bool { return receivedImage(bobLog, img.ID) })

	base := ta.URL + "/files/" + img.ID
	resp, body := fetchFile(t, "GET", base, "")
	want := map[string]string{
		"Content-Type":            "image/png",
		"X-Content-Type-Options":  "nosniff",
		"Content-Security-Policy": "default-src 'none'; sandbox",
		"Content-Disposition":     `inline; filename*=UTF-8''a%20%22b%22%3Bc%20%E2%98%BA.png`,
		"Cache-Control":           "public, max-age=31536000, immutable",
	}
	if resp.StatusCode != 200 || !bytes.Equal(body, data) {
		t.Fatalf("GET %s: %d, %d bytes (want the %d uploaded)", base, resp.StatusCode, len(body), len(data))
	}
	for k, v := range want {
		if got := resp.Header.Get(k); got != v {
			t.Errorf("%s: %q, want %q", k, got, v)
		}
	}
	etag := resp.Header.Get("ETag")
	if len(etag) != 66 || etag[0] != '"' {
		t.Errorf("ETag %q, want the quoted SHA-256", etag)
	}
	if r, b := fetchFile(t, "GET", base, "", "If-None-Match", etag); r.StatusCode != http.StatusNotModified || len(b) != 0 {
		t.Errorf("If-None-Match: %d, %d bytes; want 304", r.StatusCode, len(b))
	}
	if r, b := fetchFile(t, "HEAD", base, ""); r.StatusCode != 200 || len(b) != 0 || r.Header.Get("Content-Length") != "" && r.Header.Get("Content-Length") != itoa(len(data)) || r.Header.Get("Content-Type") != "image/png" {
		t.Errorf("HEAD: %d, %d bytes, %v", r.StatusCode, len(b), r.Header)
	}

	resp, body = fetchFile(t, "GET", base+"/thumb", "")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/png" || resp.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Fatalf("thumb: %d %v", resp.StatusCode, resp.Header)
	}
	cfg, err := png.DecodeConfig(bytes.NewReader(body))
	if err != nil || cfg.Width != 320 || cfg.Height != 240 {
		t.Fatalf("thumb is %d×%d (%v), want 320×240", cfg.Width, cfg.Height, err)
	}

	// The bytes live in DATA_DIR/files, once.
	var blobs int
	filepath.Walk(filepath.Join(ta.Data, "files", "blobs"), func(_ string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			blobs++
		}
		return nil
	})
	if blobs != 1 {
		t.Errorf("%d blobs in %s/files, want 1", blobs, ta.Data)
	}

	for _, path := range []string{
		"/files/i" + strings.Repeat("0", 40),
		"/files/i" + strings.Repeat("0", 40) + "/thumb",
		"/files/" + strings.ToUpper(img.ID),
		"/files/" + img.ID + ".json",
		"/files/" + img.ID + "/thumb/x",
		"/files/" + img.ID + "/meta",
		"/files/" + img.ID + "%2Fthumb",
		"/files/" + img.ID + "/%2e%2e/" + img.ID,
		"/files/..%2F..%2Fduplex.db",
		"/files/%2e%2e/duplex.db",
		"/files/../duplex.db",
		"/files/meta/" + img.ID + ".json",
		"/files/",
	} {
		resp, body := fetchFile(t, "GET", ta.URL+path, "")
		if bytes.Contains(body, []byte("SQLite format")) || bytes.Contains(body, []byte("\x89PNG")) || bytes.Contains(body, []byte(`"sha256"`)) {
			t.Errorf("GET %s served a file (%d)", path, resp.StatusCode)
		}
		loc := resp.Header.Get("Location")
		if resp.StatusCode != 404 && !(resp.StatusCode/100 == 3 && !strings.HasPrefix(loc, "/files/")) {
			t.Errorf("GET %s: %d (Location %q), want 404", path, resp.StatusCode, loc)
		}
	}
}

// TestPrivateImages: an image of a private room is served only to a
// request whose credential cookie names a member: 404 (as if it did not
// exist) without a cookie, with a forged one, and with an outsider's;
// a member gets it, marked for private caches only.
func TestPrivateImages(t *testing.T) {
	ta := startApp(t, "", "")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	ann := privateRoomMember(t, ctx, ta.WS, "Ann", "secret")
	bob, _ := imageClient(t, ctx, ta.WS, "Bob")
	img, err := ann.Upload(ctx, "secret", "plan.png", testPNG(t, 50, 40))
	if err != nil {
		t.Fatal(err)
	}
	// Bob may not join, so he cannot upload there or see it.
	if err := bob.Join(ctx, "secret"); err == nil {
		t.Fatal("an outsider joined a private room")
	}
	for who, token := range map[string]string{"no cookie": "", "a forged cookie": "s.forged", "an outsider's cookie": bob.Token()} {
		for _, suffix := range []string{"", "/thumb"} {
			if resp, body := fetchFile(t, "GET", ta.URL+"/files/"+img.ID+suffix, token); resp.StatusCode != 404 || bytes.Contains(body, []byte("\x89PNG")) {
				t.Errorf("%s%s with %s: %d", img.ID, suffix, who, resp.StatusCode)
			}
		}
	}
	resp, body := fetchFile(t, "GET", ta.URL+"/files/"+img.ID, ann.Token())
	if resp.StatusCode != 200 || !bytes.HasPrefix(body, []byte("\x89PNG")) {
		t.Fatalf("the member's GET: %d", resp.StatusCode)
	}
	if cc := resp.Header.Get("Cache-Control"); cc != "private, max-age=31536000, immutable" {
		t.Errorf("Cache-Control %q, want private", cc)
	}
}
