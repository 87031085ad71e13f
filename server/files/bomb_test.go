package files_test

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"hash/crc32"
	"io"
)

// Hand-written images whose pixels cost far more to decode than their
// bytes: what image/jpeg and image/png cannot be asked to encode.

// jpegComp is one component of a hand-written JPEG: its sampling factors.
type jpegComp struct{ h, v int }

// zeroJPEG writes a JPEG of w×h whose every block is flat (DC 0, no AC):
// one bit a block progressive (a DC scan alone), two baseline. With four
// components and an Adobe marker of transform 0 it is CMYK; three with
// 2×2 luma sampling is YCbCr 4:2:0. 6324×6324 progressive CMYK is the
// 313 KB bomb of issue #14.
func zeroJPEG(w, h int, comps []jpegComp, progressive bool) []byte {
	var b bytes.Buffer
	seg := func(marker byte, body []byte) {
		b.Write([]byte{0xff, marker})
		binary.Write(&b, binary.BigEndian, uint16(len(body)+2))
		b.Write(body)
	}
	b.Write([]byte{0xff, 0xd8})
	if len(comps) == 4 {
		seg(0xee, []byte("Adobe\x00\x64\x00\x00\x00\x00\x00")) // transform 0: CMYK
	}
	seg(0xdb, append([]byte{0}, bytes.Repeat([]byte{1}, 64)...))
	sof := []byte{8, byte(h >> 8), byte(h), byte(w >> 8), byte(w), byte(len(comps))}
	hmax, vmax := 1, 1
	for i, c := range comps {
		sof = append(sof, byte(i+1), byte(c.h<<4|c.v), 0)
		hmax, vmax = max(hmax, c.h), max(vmax, c.v)
	}
	marker := byte(0xc0)
	if progressive {
		marker = 0xc2
	}
	seg(marker, sof)
	one := append([]byte{1}, make([]byte, 15)...) // one code of length 1: symbol 0
	seg(0xc4, append(append([]byte{0x00}, one...), 0))
	if !progressive {
		seg(0xc4, append(append([]byte{0x10}, one...), 0)) // AC: EOB only
	}
	sos := []byte{byte(len(comps))}
	for i := range comps {
		sos = append(sos, byte(i+1), 0)
	}
	if progressive {
		sos = append(sos, 0, 0, 0) // Ss=0 Se=0: DC only
	} else {
		sos = append(sos, 0, 63, 0)
	}
	seg(0xda, sos)
	var blocks int
	if len(comps) == 1 {
		blocks = (w + 7) / 8 * ((h + 7) / 8)
	} else {
		mcus := (w + 8*hmax - 1) / (8 * hmax) * ((h + 8*vmax - 1) / (8 * vmax))
		for _, c := range comps {
			blocks += mcus * c.h * c.v
		}
	}
	bits := blocks
	if !progressive {
		bits *= 2
	}
	b.Write(make([]byte, (bits+7)/8)) // every code is the bit 0
	b.Write([]byte{0xff, 0xd9})
	return b.Bytes()
}

// zeroPNG writes a PNG of w×h of the given bit depth and colour type, all
// zero: the 16-bit RGBA one of 6324×6324 is 311 KB and decodes to 320 MB.
func zeroPNG(w, h, depth, colorType int, interlaced, trns bool) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	chunk := func(typ string, data []byte) {
		binary.Write(&b, binary.BigEndian, uint32(len(data)))
		crc := crc32.NewIEEE()
		io.WriteString(crc, typ)
		crc.Write(data)
		b.WriteString(typ)
		b.Write(data)
		binary.Write(&b, binary.BigEndian, crc.Sum32())
	}
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr, uint32(w))
	binary.BigEndian.PutUint32(ihdr[4:], uint32(h))
	ihdr[8], ihdr[9] = byte(depth), byte(colorType)
	if interlaced {
		ihdr[12] = 1
	}
	chunk("IHDR", ihdr)
	channels := map[int]int{0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[colorType]
	if colorType == 3 {
		chunk("PLTE", []byte{0, 0, 0, 255, 255, 255})
	}
	if trns {
		chunk("tRNS", make([]byte, map[int]int{0: 2, 2: 6, 3: 1}[colorType]))
	}
	rowBytes := func(pw int) int { return 1 + (pw*channels*depth+7)/8 }
	var z bytes.Buffer
	zw, _ := zlib.NewWriterLevel(&z, zlib.BestCompression)
	zero := make([]byte, 64<<10)
	write := func(n int) {
		for n > 0 {
			k := min(n, len(zero))
			zw.Write(zero[:k])
			n -= k
		}
	}
	if interlaced {
		for _, p := range [7][4]int{{0, 0, 8, 8}, {4, 0, 8, 8}, {0, 4, 4, 8}, {2, 0, 4, 4}, {0, 2, 2, 4}, {1, 0, 2, 2}, {0, 1, 1, 2}} {
			pw, ph := (w-p[0]+p[2]-1)/p[2], (h-p[1]+p[3]-1)/p[3]
			if pw > 0 && ph > 0 {
				write(ph * rowBytes(pw))
			}
		}
	} else {
		write(h * rowBytes(w))
	}
	zw.Close()
	chunk("IDAT", z.Bytes())
	chunk("IEND", nil)
	return b.Bytes()
}
