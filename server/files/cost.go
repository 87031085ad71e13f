package files

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/color"

	"github.com/duplex-chat/duplex/shared"
)

// DecodeCost is what decoding data (and making its thumbnail) costs in
// memory, in bytes, read from the image's header alone: nothing is
// decoded. It runs Inspect first and returns its errors.
//
// The pixel count is not enough: a decoder's cost per pixel depends on
// the format, the colour model, the bit depth and the coding. What Go
// 1.26's decoders allocate, measured by TestDecodeCostMatchesDecoders
// (runtime.MemStats.TotalAlloc around one Thumbnail of a 2000×1500 image,
// per pixel, a fixed ~1.2 B/px of thumbnail and tables included; run it
// with -v for the table), and what DecodeCost charges:
//
//	format                        measured B/px  charged        what is kept
//	PNG gray 1/8-bit, paletted        1.95       1 + fixed      the image
//	PNG gray 16-bit                   2.95       2 + fixed
//	PNG gray 8-bit + tRNS             4.74       4 + fixed      NRGBA
//	PNG RGB(A) 8-bit                  4.96       4 + fixed      RGBA / NRGBA
//	PNG RGB(A) 16-bit (+ tRNS)        8.75       8 + fixed      RGBA64 / NRGBA64
//	PNG RGBA 8-bit interlaced         8.77       ×2             each pass, then the image
//	PNG RGBA 16-bit interlaced       16.78       ×2
//	JPEG gray baseline                1.63       1 (8×8 padded)
//	JPEG YCbCr 4:2:0 baseline         2.13       1.5 (MCU padded)
//	JPEG YCbCr 4:4:4 baseline         3.63       3
//	JPEG CMYK baseline                8.64       3 + K 1 + 4    planes, K, the CMYK copy
//	JPEG gray progressive             5.64       +4             coefficients: 256 B per
//	JPEG YCbCr 4:2:0 progressive      8.15       +6             8×8 block of every
//	JPEG YCbCr 4:4:4 progressive     15.67       +12            component, kept across
//	JPEG CMYK progressive            24.68       +16            scans (the bomb of #14)
//	GIF (first frame)                 1.94       1 + fixed      paletted
//	WebP lossy                        —          1.5 (16×16)    YCbCr 4:2:0
//	WebP lossy + alpha                —          2.5 + 8        A plane, alpha as VP8L
//	WebP lossless                     —          8              ARGB words, then NRGBA
//
// (WebP has no encoder in Go; its test images are 400×301, too small for
// a per-pixel figure: their totals, 3.1–3.4 MB, are within the charge.)
//
// JPEG's figures come from its frame header (SOF): the components, their
// sampling factors and whether it is progressive, over the dimensions
// padded to whole MCUs (a 1-pixel-high JPEG with 2×2 sampling decodes 16
// rows). A PNG's two row buffers (up to 8 bytes a pixel of one row each)
// count too: a very wide PNG costs more than its pixels. A fixed 3.5 MiB
// covers the thumbnail (320×320 NRGBA and the scaler's reads) and the
// decoders' tables.
func DecodeCost(data []byte) (int64, error) {
	typ, w, h, err := Inspect(data)
	if err != nil {
		return 0, err
	}
	cfg, _ := formats[typ].config(bytes.NewReader(data)) // Inspect read it already
	var c int64
	switch typ {
	case "image/png":
		c = pngCost(data, cfg, w, h)
	case "image/jpeg":
		c = jpegCost(data, w, h)
	case "image/gif":
		c = int64(w) * int64(h)
	case "image/webp":
		c = webpCost(cfg, w, h)
	}
	return c + thumbOverhead, nil
}

// thumbOverhead is the decode's fixed part: the thumbnail (320×320 NRGBA,
// the scaler's per-pixel reads of the source, the encoder) and the
// decoders' own tables.
const thumbOverhead = 7 << 19 // 3.5 MiB

// pngCost: the image at the bytes a pixel of its model takes, doubled
// when interlaced, and two rows.
func pngCost(data []byte, cfg image.Config, w, h int) int64 {
	px := int64(w) * int64(h)
	bpp := int64(4)
	switch cfg.ColorModel {
	case color.GrayModel:
		bpp = 1
	case color.Gray16Model:
		bpp = 2
	case color.RGBA64Model, color.NRGBA64Model:
		bpp = 8
	default:
		if _, ok := cfg.ColorModel.(color.Palette); ok {
			bpp = 1
		}
	}
	// A tRNS chunk turns gray and truecolour into NRGBA(64): read the
	// chunks before the pixel data.
	if bpp <= 2 && pngHasTRNS(data) {
		if _, ok := cfg.ColorModel.(color.Palette); !ok {
			bpp *= 4
		}
	}
	c := px * bpp
	if len(data) > 28 && data[28] == 1 { // IHDR's interlace method: Adam7
		c *= 2
	}
	return c + 2*(int64(w)*8+1)
}

// pngHasTRNS reports whether a tRNS chunk comes before the first IDAT.
func pngHasTRNS(data []byte) bool {
	for i := 8; i+8 <= len(data); {
		n := int(binary.BigEndian.Uint32(data[i:]))
		switch string(data[i+4 : i+8]) {
		case "tRNS":
			return true
		case "IDAT", "IEND":
			return false
		}
		if n < 0 || n > len(data) {
			return false
		}
		i += 12 + n
	}
	return false
}

// jpegCost reads the frame header and adds up what image/jpeg allocates:
// the component planes over whole MCUs, a converted copy for RGB, CMYK and
// YCCK, and the coefficients of every block when progressive. A header it
// cannot read is charged as the worst case of its size (progressive, four
// components, 4×4 padding).
func jpegCost(data []byte, w, h int) int64 {
	sof, ok := jpegFrame(data)
	if !ok {
		px := int64(w+31) * int64(h+31)
		return 24 * px
	}
	if len(sof.comps) == 1 {
		mxx, myy := int64(w+7)/8, int64(h+7)/8
		c := 64 * mxx * myy // the gray plane
		if sof.progressive {
			c += 256 * mxx * myy
		}
		return c
	}
	hmax, vmax := 1, 1
	for _, c := range sof.comps {
		hmax, vmax = max(hmax, c.h), max(vmax, c.v)
	}
	mxx, myy := int64((w+8*hmax-1)/(8*hmax)), int64((h+8*vmax-1)/(8*vmax))
	h0, v0 := int64(sof.comps[0].h), int64(sof.comps[0].v)
	h1, v1 := int64(max(sof.comps[1].h, 1)), int64(max(sof.comps[1].v, 1))
	luma := 64 * h0 * mxx * v0 * myy
	chroma := luma / max(1, (h0/h1)*(v0/v1))
	c := luma + 2*chroma // the YCbCr (or C, M, Y) planes
	if len(sof.comps) == 4 {
		c += 64 * int64(sof.comps[3].h) * mxx * int64(sof.comps[3].v) * myy // K
	}
	if len(sof.comps) == 4 || sof.adobeRGB {
		c += 4 * int64(w) * int64(h) // the CMYK or RGBA it is converted to
	}
	if sof.progressive {
		for _, comp := range sof.comps {
			c += 256 * mxx * myy * int64(comp.h) * int64(comp.v)
		}
	}
	return c
}

type jpegComp struct{ h, v int }

type jpegSOF struct {
	progressive bool
	adobeRGB    bool // an Adobe APP14 with transform 0 before the frame: decoded as RGB
	comps       []jpegComp
}

// jpegFrame walks a JPEG's marker segments to its frame header.
func jpegFrame(data []byte) (sof jpegSOF, ok bool) {
	adobe := -1
	for i := 2; i+4 <= len(data); {
		if data[i] != 0xff {
			return sof, false
		}
		m := data[i+1]
		if m == 0xff { // fill byte
			i++
			continue
		}
		n := int(binary.BigEndian.Uint16(data[i+2:]))
		if n < 2 || i+2+n > len(data) {
			return sof, false
		}
		seg := data[i+4 : i+2+n]
		switch {
		case m == 0xee && len(seg) >= 12 && string(seg[:5]) == "Adobe":
			adobe = int(seg[11])
		case m >= 0xc0 && m <= 0xcf && m != 0xc4 && m != 0xc8 && m != 0xcc:
			if len(seg) < 6 {
				return sof, false
			}
			nc := int(seg[5])
			if nc != 1 && nc != 3 && nc != 4 || len(seg) < 6+3*nc {
				return sof, false
			}
			sof.progressive = m == 0xc2
			for k := range nc {
				hv := seg[6+3*k+1]
				sof.comps = append(sof.comps, jpegComp{max(int(hv>>4), 1), max(int(hv&15), 1)})
			}
			sof.adobeRGB = nc == 3 && adobe == 0
			return sof, true
		}
		i += 2 + n
	}
	return sof, false
}

// webpCost: lossy is YCbCr 4:2:0 over 16×16 macroblocks; alpha adds its
// plane and, compressed, a lossless decode of it; lossless decodes ARGB
// words and converts them to NRGBA.
func webpCost(cfg image.Config, w, h int) int64 {
	px := int64(w) * int64(h)
	padded := int64((w+15)/16*16) * int64((h+15)/16*16)
	switch cfg.ColorModel {
	case color.YCbCrModel:
		return padded * 3 / 2
	case color.NYCbCrAModel:
		return padded*3/2 + px + 8*px
	default: // lossless
		return 8 * px
	}
}

// MaxDecodeCost is what an image of shared.MaxImagePixels can cost at the
// worst (a progressive CMYK JPEG): the most a caller ever needs to grant.
const MaxDecodeCost = 24*int64(shared.MaxImagePixels) + thumbOverhead
