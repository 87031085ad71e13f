package files_test

import (
	"bytes"
	"image"
	"image/color"
	"image/color/palette"
	"image/gif"
	"image/jpeg"
	"image/png"
	"net/http"
	"os"
	"runtime"
	"testing"

	"github.com/duplex-chat/duplex/server/files"
	"github.com/duplex-chat/duplex/shared"
)

// decodeAlloc is what decoding data and making its thumbnail allocates.
func decodeAlloc(t *testing.T, data []byte) uint64 {
	t.Helper()
	typ := http.DetectContentType(data)
	runtime.GC()
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	if _, err := files.Thumbnail(data, typ); err != nil {
		t.Fatalf("%s: %v", typ, err)
	}
	runtime.ReadMemStats(&m1)
	return m1.TotalAlloc - m0.TotalAlloc
}

func encoded(t *testing.T, enc func(*bytes.Buffer) error) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := enc(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestDecodeCostMatchesDecoders measures what each decoder really
// allocates per pixel (runtime.MemStats.TotalAlloc around Thumbnail) for
// every format, colour model, bit depth and coding an upload may have,
// and checks DecodeCost against it: never below what was measured (an
// estimate under the cost would let a bomb past the budget), and not far
// above it (an estimate far over would refuse honest images). The table
// in cost.go's comment is this test's output (go test -v -run
// TestDecodeCostMatchesDecoders ./server/files/).
//
// The images are hand-written where Go has no encoder for them (CMYK and
// progressive JPEG, 16-bit, interlaced and tRNS PNG) and include the
// shapes of the bombs: a DC-only progressive CMYK JPEG and an all-zero
// 16-bit PNG.
func TestDecodeCostMatchesDecoders(t *testing.T) {
	const w, h = 2000, 1500
	rgba := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := range rgba.Pix {
		rgba.Pix[i] = uint8(i * 7)
	}
	gray := image.NewGray(rgba.Rect)
	pal := image.NewPaletted(rgba.Rect, palette.Plan9)
	webp := func(name string) []byte {
		b, err := os.ReadFile("testdata/" + name)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	yuv420 := []jpegComp{{2, 2}, {1, 1}, {1, 1}}
	yuv444 := []jpegComp{{1, 1}, {1, 1}, {1, 1}}
	cmyk := []jpegComp{{1, 1}, {1, 1}, {1, 1}, {1, 1}}
	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"PNG gray 8", zeroPNG(w, h, 8, 0, false, false)},
		{"PNG gray 8 + tRNS", zeroPNG(w, h, 8, 0, false, true)},
		{"PNG gray 1", zeroPNG(w, h, 1, 0, false, false)},
		{"PNG gray 16", zeroPNG(w, h, 16, 0, false, false)},
		{"PNG paletted 8", zeroPNG(w, h, 8, 3, false, false)},
		{"PNG paletted (encoder)", encoded(t, func(b *bytes.Buffer) error { return png.Encode(b, pal) })},
		{"PNG RGB 8", zeroPNG(w, h, 8, 2, false, false)},
		{"PNG RGBA 8 (encoder)", encoded(t, func(b *bytes.Buffer) error { return png.Encode(b, rgba) })},
		{"PNG RGBA 16", zeroPNG(w, h, 16, 6, false, false)},
		{"PNG RGB 16 + tRNS", zeroPNG(w, h, 16, 2, false, true)},
		{"PNG RGBA 8 interlaced", zeroPNG(w, h, 8, 6, true, false)},
		{"PNG RGBA 16 interlaced", zeroPNG(w, h, 16, 6, true, false)},
		{"PNG RGBA 8 10000×60", zeroPNG(10000, 60, 8, 6, false, false)},
		{"JPEG gray (encoder)", encoded(t, func(b *bytes.Buffer) error { return jpeg.Encode(b, gray, nil) })},
		{"JPEG YCbCr 4:2:0 (encoder)", encoded(t, func(b *bytes.Buffer) error { return jpeg.Encode(b, rgba, nil) })},
		{"JPEG YCbCr 4:2:0 baseline", zeroJPEG(w, h, yuv420, false)},
		{"JPEG YCbCr 4:4:4 baseline", zeroJPEG(w, h, yuv444, false)},
		{"JPEG CMYK baseline", zeroJPEG(w, h, cmyk, false)},
		{"JPEG gray progressive", zeroJPEG(w, h, []jpegComp{{1, 1}}, true)},
		{"JPEG YCbCr 4:2:0 progressive", zeroJPEG(w, h, yuv420, true)},
		{"JPEG YCbCr 4:4:4 progressive", zeroJPEG(w, h, yuv444, true)},
		{"JPEG CMYK progressive (the bomb)", zeroJPEG(w, h, cmyk, true)},
		{"JPEG 4:2:0 progressive 2000×1", zeroJPEG(2000, 1, yuv420, true)},
		{"GIF", encoded(t, func(b *bytes.Buffer) error { return gif.Encode(b, pal, nil) })},
		{"WebP lossy", webp("yellow_rose.lossy.webp")},
		{"WebP lossy + alpha", webp("yellow_rose.lossy-with-alpha.webp")},
		{"WebP lossless", webp("yellow_rose.lossless.webp")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			typ, iw, ih, err := files.Inspect(tc.data)
			if err != nil {
				t.Fatal(err)
			}
			est, err := files.DecodeCost(tc.data)
			if err != nil {
				t.Fatal(err)
			}
			got := decodeAlloc(t, tc.data)
			px := float64(iw * ih)
			t.Logf("%-34s %-10s %5d×%-4d %6d B  decode %6.2f B/px  estimate %6.2f B/px (%.2f×)",
				tc.name, typ, iw, ih, len(tc.data), float64(got)/px, float64(est)/px, float64(est)/float64(got))
			if raceEnabled {
				return // TotalAlloc counts the race detector's own allocations
			}
			if uint64(est) < got {
				t.Errorf("DecodeCost %d < %d allocated: an image that costs more than its estimate", est, got)
			}
			// Not far over: the fixed overhead dominates small images.
			if float64(est) > 1.6*float64(got)+4<<20 {
				t.Errorf("DecodeCost %d, far over the %d allocated", est, got)
			}
		})
	}
	_ = color.Gray{}
}

// TestDecodeCostBombs: the two bombs of issue #14 at full size are
// priced from their headers, without decoding: the 313 KB progressive
// CMYK JPEG at ~24 bytes a pixel (~960 MB), the 311 KB 16-bit PNG at 8
// (~320 MB). Bad inputs tried: the two bombs, a PNG over the pixel cap.
func TestDecodeCostBombs(t *testing.T) {
	bomb := zeroJPEG(6324, 6324, []jpegComp{{1, 1}, {1, 1}, {1, 1}, {1, 1}}, true)
	if len(bomb) > 320_000 {
		t.Fatalf("the bomb is %d bytes", len(bomb))
	}
	c, err := files.DecodeCost(bomb)
	if err != nil || c < 900_000_000 {
		t.Fatalf("bomb JPEG: cost %d, %v; want ~960 MB", c, err)
	}
	png16 := zeroPNG(6324, 6324, 16, 6, false, false)
	c, err = files.DecodeCost(png16)
	if err != nil || c < 319_000_000 {
		t.Fatalf("16-bit PNG (%d bytes): cost %d, %v; want ~320 MB", len(png16), c, err)
	}
	if c > files.MaxDecodeCost {
		t.Fatalf("cost %d over MaxDecodeCost", c)
	}
	_, err = files.DecodeCost(zeroPNG(8000, 5001, 8, 0, false, false))
	if code(err) != shared.CodeTooLarge {
		t.Fatalf("over 40 MP: %v", err)
	}
}
