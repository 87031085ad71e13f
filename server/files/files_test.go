package files_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/png"
	"os"
	"strings"
	"testing"

	"github.com/duplex-chat/duplex/server/files"
	"github.com/duplex-chat/duplex/shared"
)

func pngOf(t *testing.T, w, h int) []byte {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = uint8(i * 31)
	}
	img.Set(0, 0, color.NRGBA{1, 2, 3, 4})
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// withSize rewrites a PNG's IHDR to declare w×h (and fixes its CRC).
func withSize(b []byte, w, h uint32) []byte {
	b = bytes.Clone(b)
	binary.BigEndian.PutUint32(b[16:], w)
	binary.BigEndian.PutUint32(b[20:], h)
	binary.BigEndian.PutUint32(b[29:], crc32.ChecksumIEEE(b[12:29]))
	return b
}

func code(err error) shared.Code {
	var se *shared.Error
	if errors.As(err, &se) {
		return se.Code
	}
	return ""
}

// TestInspect: the type comes from the bytes; only the four image types
// pass; dimensions come from the header, and more than MaxImagePixels is
// refused there.
func TestInspect(t *testing.T) {
	webp, err := os.ReadFile("testdata/gopher.webp") // from golang.org/x/image's test data
	if err != nil {
		t.Fatal(err)
	}
	good := pngOf(t, 30, 20)
	for _, tc := range []struct {
		name string
		data []byte
		typ  string
		w, h int
		code shared.Code
	}{
		{"png", good, "image/png", 30, 20, ""},
		{"webp", webp, "image/webp", 0, 0, ""},
		{"empty", nil, "", 0, 0, shared.CodeInvalid},
		{"html", []byte("<html><body>hi</body></html>"), "", 0, 0, shared.CodeInvalid},
		{"svg", []byte(`<svg xmlns="http://www.w3.org/2000/svg"/>`), "", 0, 0, shared.CodeInvalid},
		{"pdf", []byte("%PDF-1.4 ..."), "", 0, 0, shared.CodeInvalid},
		{"bmp", append([]byte("BM"), make([]byte, 60)...), "", 0, 0, shared.CodeInvalid},
		{"png signature then garbage", append([]byte("\x89PNG\r\n\x1a\n"), "garbage garbage"...), "", 0, 0, shared.CodeInvalid},
		{"zero width", withSize(good, 0, 20), "", 0, 0, shared.CodeInvalid},
		{"40 megapixels exactly", withSize(good, 8000, 5000), "image/png", 8000, 5000, ""},
		{"one pixel more", withSize(good, 40_000_001, 1), "", 0, 0, shared.CodeTooLarge},
		{"30000×30000", withSize(good, 30000, 30000), "", 0, 0, shared.CodeTooLarge},
		{"over MaxImageBytes", append(bytes.Clone(good), make([]byte, shared.MaxImageBytes)...), "", 0, 0, shared.CodeTooLarge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			typ, w, h, err := files.Inspect(tc.data)
			if code(err) != tc.code || (tc.code != "") != (err != nil) {
				t.Fatalf("Inspect: %v, want code %q", err, tc.code)
			}
			if err == nil && (typ != tc.typ || tc.w != 0 && (w != tc.w || h != tc.h)) {
				t.Fatalf("Inspect = %s %d×%d, want %s %d×%d", typ, w, h, tc.typ, tc.w, tc.h)
			}
		})
	}
}

// TestThumbnail: a thumbnail is a re-encoded PNG of the right size; a
// header whose pixels are missing (a truncated file) fails at decoding.
func TestThumbnail(t *testing.T) {
	b, err := files.Thumbnail(pngOf(t, 1000, 500), "image/png")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := png.DecodeConfig(bytes.NewReader(b))
	if err != nil || cfg.Width != 320 || cfg.Height != 160 {
		t.Fatalf("thumbnail %d×%d, %v", cfg.Width, cfg.Height, err)
	}
	full := pngOf(t, 300, 300)
	if _, err := files.Thumbnail(full[:len(full)/2], "image/png"); code(err) != shared.CodeInvalid {
		t.Fatalf("truncated PNG: %v, want invalid", err)
	}
}

// TestDirPut: blobs are content-addressed (two uploads of the same bytes
// store one blob), written 0600, the id is stable for a retry and
// differs per user, room and name; Open serves the bytes and thumbnail;
// ids of any other shape are unknown.
func TestDirPut(t *testing.T) {
	ctx := context.Background()
	d, err := files.OpenDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	data := pngOf(t, 400, 100)
	a, err := d.Put(ctx, files.Upload{User: "u-a", Room: "r", Name: "x.png", Data: data})
	if err != nil {
		t.Fatal(err)
	}
	again, _ := d.Put(ctx, files.Upload{User: "u-a", Room: "r", Name: "x.png", Data: data})
	other, _ := d.Put(ctx, files.Upload{User: "u-b", Room: "r", Name: "x.png", Data: data})
	if again.ID != a.ID || other.ID == a.ID || other.SHA256 != a.SHA256 {
		t.Fatalf("ids: %s, retry %s, other user %s", a.ID, again.ID, other.ID)
	}
	if a.Width != 400 || a.Height != 100 || a.Type != "image/png" || a.Thumb != "image/png" || a.User != "u-a" || a.Room != "r" {
		t.Fatalf("info %+v", a)
	}
	n := 0
	for _, sub := range []string{"blobs", "thumbs"} {
		entries, _ := os.ReadDir(d.Root() + "/" + sub + "/" + a.SHA256[:2])
		for _, e := range entries {
			n++
			fi, _ := e.Info()
			if fi.Mode().Perm() != 0o600 || strings.HasPrefix(e.Name(), ".tmp") {
				t.Errorf("%s/%s: mode %v", sub, e.Name(), fi.Mode().Perm())
			}
		}
	}
	if n != 2 {
		t.Fatalf("%d files for one content, want a blob and a thumbnail", n)
	}
	f, info, err := d.Open(ctx, a.ID, false)
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	if info.ID != a.ID {
		t.Fatalf("Open: %+v", info)
	}
	for _, id := range []string{"", "../meta/" + a.ID, strings.ToUpper(a.ID), a.ID + "0", "i" + strings.Repeat("0", 40)} {
		if _, ok, err := d.Info(ctx, id); ok || err != nil {
			t.Errorf("Info(%q) = %v, %v; want unknown", id, ok, err)
		}
	}
}

func TestContentDisposition(t *testing.T) {
	for _, tc := range []struct{ typ, name, want string }{
		{"image/png", "cat.png", "inline; filename*=UTF-8''cat.png"},
		{"image/png", "a \"b\";c\r\nX: y ☺.png", "inline; filename*=UTF-8''a%20%22b%22%3Bc%0D%0AX%3A%20y%20%E2%98%BA.png"},
		{"text/html", "page.html", "attachment; filename*=UTF-8''page.html"},
	} {
		if got := files.ContentDisposition(tc.typ, tc.name); got != tc.want {
			t.Errorf("ContentDisposition(%q, %q) = %q, want %q", tc.typ, tc.name, got, tc.want)
		}
	}
}
