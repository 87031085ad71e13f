//go:build !(js && wasm)

package main

// The bomb workload (issue #14): connections upload images that are small
// on the wire and huge to decode, beside a bystander; it reports the
// server's peak RSS and what became of each upload.

import (
	"bytes"
	"compress/zlib"
	"context"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"sync"
	"time"

	"github.com/coder/websocket"
	"github.com/duplex-chat/duplex/shared"
)

// bombConfig: conns connections each upload per bombs, one after another.
type bombConfig struct {
	abuseConfig
	conns, per int
	kind       string // "jpeg": the 6324×6324 progressive CMYK JPEG; "png16": a 4900×4900 16-bit RGBA PNG (~192 MB, under the server's default per-image cap)
}

// bombJPEG is a progressive CMYK JPEG of w×h whose every block is flat
// (one DC scan of zeros, one bit a block): 313 KB for 6324×6324, which Go's
// decoder holds as ~24 bytes a pixel (~960 MB). The same generator is in
// server/files' tests (the load tool may not import server code).
func bombJPEG(w, h int) []byte {
	var b bytes.Buffer
	seg := func(marker byte, body []byte) {
		b.Write([]byte{0xff, marker})
		binary.Write(&b, binary.BigEndian, uint16(len(body)+2))
		b.Write(body)
	}
	b.Write([]byte{0xff, 0xd8})
	seg(0xee, []byte("Adobe\x00\x64\x00\x00\x00\x00\x00")) // transform 0: CMYK
	seg(0xdb, append([]byte{0}, bytes.Repeat([]byte{1}, 64)...))
	sof := []byte{8, byte(h >> 8), byte(h), byte(w >> 8), byte(w), 4}
	for i := range 4 {
		sof = append(sof, byte(i+1), 0x11, 0)
	}
	seg(0xc2, sof)                                                     // progressive
	seg(0xc4, append(append([]byte{0x00, 1}, make([]byte, 15)...), 0)) // DC: one code, "0" → 0
	seg(0xda, []byte{4, 1, 0, 2, 0, 3, 0, 4, 0, 0, 0, 0})              // DC scan of all four
	b.Write(make([]byte, ((w+7)/8*((h+7)/8)*4+7)/8))                   // every block: DC diff 0
	b.Write([]byte{0xff, 0xd9})
	return b.Bytes()
}

// bombPNG16 is an all-zero 16-bit RGBA PNG of w×h: 8 bytes a pixel
// decoded, a thousandth of that on the wire.
func bombPNG16(w, h int) []byte {
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
	ihdr := binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint32(nil, uint32(w)), uint32(h))
	chunk("IHDR", append(ihdr, 16, 6, 0, 0, 0))
	var z bytes.Buffer
	zw, _ := zlib.NewWriterLevel(&z, zlib.BestCompression)
	row := make([]byte, 1+8*w)
	for range h {
		zw.Write(row)
	}
	zw.Close()
	chunk("IDAT", z.Bytes())
	chunk("IEND", nil)
	return b.Bytes()
}

// bombStats adds up the answers the bombers got.
type bombStats struct {
	mu       sync.Mutex
	answers  map[string]int // "ack" or the error code
	closes   map[int]int
	maxWait  time.Duration // longest upload→answer
	uploaded int
}

func (cfg *bombConfig) run(out io.Writer) error {
	bomb, what := bombJPEG(6324, 6324), "progressive CMYK JPEG of 6324×6324 (~960 MB to decode)"
	if cfg.kind == "png16" {
		bomb, what = bombPNG16(4900, 4900), "16-bit RGBA PNG of 4900×4900 (~192 MB to decode)"
	}
	st := bombStats{answers: map[string]int{}, closes: map[int]int{}}
	s, u, err := withBystanderWatched(cfg.abuseConfig, func(ctx context.Context) error {
		inParallel(cfg.conns, func(i int) { bomber(ctx, cfg, i, bomb, &st) })
		// Let the bystander see the aftermath (a decode still running, GC).
		select {
		case <-time.After(cfg.duration):
		case <-ctx.Done():
		}
		return nil
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "workload            bomb: %d connections × %d uploads of a %d-byte %s, then %v more\n",
		cfg.conns, cfg.per, len(bomb), what, cfg.duration)
	st.mu.Lock()
	fmt.Fprintf(out, "bombers             %d uploads answered %v, longest answer %v; closed by code %v\n", st.uploaded, st.answers, st.maxWait.Round(time.Millisecond), st.closes)
	st.mu.Unlock()
	u.print(out, u.cpu.Round(time.Millisecond).String())
	s.print(out)
	return nil
}

// bomber uploads cfg.per bombs on one connection, each after the answer
// to the last (or 60s without one).
func bomber(ctx context.Context, cfg *bombConfig, i int, bomb []byte, st *bombStats) {
	room := randomRoom(fmt.Sprintf("bomb%d", i))
	c, err := dialAbuser(ctx, cfg.url, 22000+i, fmt.Sprintf("bomb-%d", i), room)
	if err != nil {
		st.mu.Lock()
		st.answers["dial: "+err.Error()]++
		st.mu.Unlock()
		return
	}
	defer c.conn.CloseNow()
	for k := range cfg.per {
		id := fmt.Sprintf("bomb-%d-%d", i, k)
		// Two bytes after the end marker, which decoders ignore: distinct
		// bytes, so the server cannot answer from a blob it stored already.
		data := append(bytes.Clone(bomb), byte(i), byte(k))
		msg, err := shared.EncodeUpload(id, shared.Upload{Room: room, Name: fmt.Sprintf("bomb%d", k)}, data)
		if err != nil {
			return
		}
		t0 := time.Now()
		if err := c.conn.Write(ctx, websocket.MessageBinary, msg); err != nil {
			return
		}
		answer, code := awaitAnswer(ctx, c, id, 60*time.Second)
		st.mu.Lock()
		st.uploaded++
		st.maxWait = max(st.maxWait, time.Since(t0))
		if code != 0 {
			st.closes[code]++
		} else {
			st.answers[answer]++
		}
		st.mu.Unlock()
		if code != 0 {
			return
		}
	}
}

// awaitAnswer reads until the answer to id: "ack", an error code, or
// "timeout"; code is the close code when the connection ended first.
func awaitAnswer(ctx context.Context, c *rawConn, id string, timeout time.Duration) (answer string, code int) {
	rctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		_, b, err := c.conn.Read(rctx)
		if err != nil {
			if code := closeCode(err); code >= 0 {
				return "", code
			}
			if rctx.Err() != nil {
				return "timeout", 0
			}
			return "", int(websocket.StatusAbnormalClosure)
		}
		shared.DecodeAll(b, func(f shared.Frame, err error) {
			if err != nil || f.ID != id {
				return
			}
			answer = "ack"
			if e, ok := f.Payload.(*shared.ErrorFrame); ok {
				answer = string(e.Code)
			}
		})
		if answer != "" {
			return answer, 0
		}
	}
}
