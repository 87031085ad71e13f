package server

import (
	"cmp"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/duplex-chat/duplex/server/files"
	"github.com/duplex-chat/duplex/shared"
	"golang.org/x/sync/semaphore"
)

// Binary WebSocket messages are image uploads (PROTOCOL.md 7.16): a
// 4-byte header length, an upload frame's JSON header, the image bytes.
//
// An upload is read at the pace its sender sends it, holding nothing
// that another connection waits for (issue #14): its bytes take their
// share of Options.UploadMemory as they arrive, without waiting (a full
// budget refuses the upload, retryably); it must arrive within
// UploadTimeout and at UploadMinRate, or the connection is closed with
// 4001; once all its bytes are in, it is checked and stored on a
// goroutine of its own, so the connection's reader goes on with its other
// requests, and only then is the decode budget (DecodeMemory) taken, for
// the image's cost read from its header. A connection handles one upload
// at a time: the next binary message is read once the previous upload
// was answered.

// maxUploadMessage is the largest binary message read in full: a header
// of MaxFrameBytes and MaxImageBytes of image.
const maxUploadMessage = 4 + shared.MaxFrameBytes + shared.MaxImageBytes

// maxUploadDiscard is how much more of an oversized upload is read and
// thrown away, so that its sender gets a too_large error and keeps its
// connection; a message longer still closes the connection with 1009.
const maxUploadDiscard = 2 * shared.MaxImageBytes

// readLimit is the connection's read limit in coder/websocket: a backstop
// above the limits applied per message type (readText, upload).
const readLimit = maxUploadMessage + maxUploadDiscard + 1

// uploadRateGrace is the start of an upload not held to UploadMinRate:
// a connection's first round trips and TCP's slow start.
const uploadRateGrace = 5 * time.Second

// uploadFirstChunk is the memory an upload takes for its first bytes; it
// doubles as they arrive, so a trickle holds almost nothing.
const uploadFirstChunk = 4 << 10

// collectAfterDecode is the decode cost from which the server collects
// garbage as soon as the decode is done (a GC of the server's live heap
// costs milliseconds; such a decode, hundreds).
const collectAfterDecode = 32 << 20

// uploadDefaults fills in the upload options; see Options.
func (o *Options) uploadDefaults() {
	o.UploadMemory = positiveOr(o.UploadMemory, 64<<20)
	o.UploadMemory = max(o.UploadMemory, 2*(maxUploadMessage+1)) // room for two of the largest uploads
	o.UploadTimeout = positiveOr(o.UploadTimeout, time.Minute)
	o.UploadMinRate = cmp.Or(o.UploadMinRate, 16<<10)
	o.DecodeMemory = positiveOr(o.DecodeMemory, 256<<20)
	o.MaxDecodeBytes = positiveOr(o.MaxDecodeBytes, 192<<20)
	o.MaxDecodeBytes = min(o.MaxDecodeBytes, o.DecodeMemory)
	o.DecodeWait = positiveOr(o.DecodeWait, 10*time.Second)
	o.UploadQuota = cmp.Or(o.UploadQuota, 50<<20)
	o.UploadQuotaPerAddr = cmp.Or(o.UploadQuotaPerAddr, 50<<20)
	o.UploadQuotaWindow = positiveOr(o.UploadQuotaWindow, time.Hour)
	o.UnusedUploadTTL = cmp.Or(o.UnusedUploadTTL, 10*time.Minute)
}

// uploadState is the server's share of the upload machinery.
type uploadState struct {
	mem        *semaphore.Weighted // Options.UploadMemory
	decode     *semaphore.Weighted // Options.DecodeMemory
	quota      *uploadQuota        // uploadquota.go
	sweeperEnd chan struct{}       // closed when sweepUploads returned
}

func newUploadState(o Options) *uploadState {
	return &uploadState{
		mem:        semaphore.NewWeighted(o.UploadMemory),
		decode:     semaphore.NewWeighted(o.DecodeMemory),
		quota:      newUploadQuota(o),
		sweeperEnd: make(chan struct{}),
	}
}

// readText reads a text message, closing the connection with 1009 when it
// is longer than MaxFrameBytes. It reports false when the session is over.
func (s *session) readText(r io.Reader) ([]byte, bool) {
	data, err := io.ReadAll(io.LimitReader(r, shared.MaxFrameBytes+1))
	if err != nil {
		s.srv.metrics.disconnected(err)
		return nil, false
	}
	if len(data) > shared.MaxFrameBytes {
		s.srv.metrics.closed(shared.CloseTooBig)
		s.close(shared.CloseTooBig, "a text frame may be at most 65536 bytes", dropQueue)
		return nil, false
	}
	return data, true
}

// upload reads one binary message and hands it to handleUpload on a
// goroutine of its own. It reports false when the session is over.
func (s *session) upload(ctx context.Context, r io.Reader) bool {
	if s.uploadDone != nil { // one upload at a time per connection
		select {
		case <-s.uploadDone:
		case <-ctx.Done():
			return false
		}
	}
	var got atomic.Int64
	stop := make(chan struct{})
	defer close(stop)
	go s.watchUpload(time.Now(), &got, stop)
	cr := &countingReader{r: r, n: &got}

	data, held, err := s.readUpload(cr)
	if err != nil {
		s.srv.uploads.mem.Release(held)
		s.srv.metrics.disconnected(err)
		return false
	}
	over := len(data) > maxUploadMessage
	if busy := held < 0; busy || over {
		s.srv.uploads.mem.Release(max(held, 0))
		if busy {
			if data, err = withHeader(cr, data); err != nil {
				s.srv.metrics.disconnected(err)
				return false
			}
		}
		f, _, _ := shared.DecodeUpload(data[:min(len(data), maxUploadMessage)]) // for the request id
		if over {
			s.fail(f.ID, shared.Errorf(shared.CodeTooLarge, "the upload is larger than %d bytes", shared.MaxImageBytes))
		} else {
			s.fail(f.ID, shared.Errorf(shared.CodeUnavailable, "the server is receiving too many uploads; retry"))
		}
		rest := int64(maxUploadMessage + maxUploadDiscard - len(data))
		data = nil
		n, err := io.Copy(io.Discard, io.LimitReader(cr, rest+1))
		if err != nil {
			s.srv.metrics.disconnected(err)
			return false
		}
		if n > rest {
			s.srv.metrics.closed(shared.CloseTooBig)
			s.close(shared.CloseTooBig, "a binary message may be at most 5 MiB of image and its header", dropQueue)
			return false
		}
		return true
	}
	done := make(chan struct{})
	s.uploadDone = done
	go func() {
		defer close(done)
		defer s.srv.uploads.mem.Release(held)
		s.handleUpload(ctx, data)
	}()
	return true
}

// readUpload reads a binary message, up to one byte more than
// maxUploadMessage, taking UploadMemory for its buffer as it grows. held
// is the memory taken, to release; -1 when the budget was spent (the
// buffer then holds what was read so far, its memory already released).
func (s *session) readUpload(r io.Reader) (data []byte, held int64, err error) {
	mem := s.srv.uploads.mem
	for {
		if len(data) == cap(data) {
			if len(data) > maxUploadMessage {
				return data, held, nil
			}
			grow := min(max(2*cap(data), uploadFirstChunk), maxUploadMessage+1)
			need := int64(grow - cap(data))
			if !mem.TryAcquire(need) {
				mem.Release(held)
				return data, -1, nil
			}
			held += need
			data = append(make([]byte, 0, grow), data...)
		}
		n, err := r.Read(data[len(data):cap(data)])
		data = data[:len(data)+n]
		if err == io.EOF {
			return data, held, nil
		}
		if err != nil {
			return nil, held, err
		}
	}
}

// withHeader reads the rest of an upload's header (its length and JSON)
// into data, for the request id of a refusal: at most MaxFrameBytes+4
// bytes, held only until the refusal is sent.
func withHeader(r io.Reader, data []byte) ([]byte, error) {
	if len(data) < 4 {
		b := make([]byte, 4-len(data))
		n, err := io.ReadFull(r, b)
		data = append(data, b[:n]...)
		if err != nil {
			return data, ignoreEOF(err)
		}
	}
	n := int(binary.BigEndian.Uint32(data))
	if n <= 0 || n > shared.MaxFrameBytes || len(data) >= 4+n {
		return data, nil
	}
	b := make([]byte, 4+n-len(data))
	k, err := io.ReadFull(r, b)
	return append(data, b[:k]...), ignoreEOF(err)
}

// ignoreEOF: a message that ends early is answered, not a broken connection.
func ignoreEOF(err error) error {
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return nil
	}
	return err
}

// watchUpload closes the connection with 4001 when the upload being read
// takes longer than UploadTimeout or falls under UploadMinRate.
func (s *session) watchUpload(start time.Time, got *atomic.Int64, stop <-chan struct{}) {
	o := &s.srv.opts
	t := time.NewTicker(min(time.Second, o.UploadTimeout/4))
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-s.ctx.Done():
			return
		case now := <-t.C:
			el := now.Sub(start)
			reason := ""
			if el > o.UploadTimeout {
				reason = fmt.Sprintf("upload too slow: not complete within %v", o.UploadTimeout)
			} else if o.UploadMinRate > 0 && el > uploadRateGrace &&
				float64(got.Load()) < float64(o.UploadMinRate)*(el-uploadRateGrace).Seconds() {
				reason = fmt.Sprintf("upload too slow: %d bytes in %v, under %d bytes a second", got.Load(), el.Round(time.Second), o.UploadMinRate)
			}
			if reason != "" {
				s.srv.metrics.closed(shared.CloseSlowClient)
				s.srv.log.Info("closing a connection whose upload is too slow", "session", s.id, "bytes", got.Load(), "after", el)
				s.close(shared.CloseSlowClient, reason, dropQueue) // the reader's Read fails once the socket closes
				return
			}
		}
	}
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n *atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// handleUpload checks and stores one upload and answers it.
func (s *session) handleUpload(ctx context.Context, data []byte) {
	f, img, err := shared.DecodeUpload(data)
	if err != nil {
		s.fail(f.ID, err)
		return
	}
	if !s.ready.Load() {
		s.fail(f.ID, shared.Errorf(shared.CodeHelloRequired, "send hello before upload"))
		return
	}
	if !s.allowN(f.ID, kindUpload, len(img)) {
		return
	}
	u := f.Payload.(*shared.Upload)
	r := s.joined(u.Room)
	if r == nil {
		s.fail(f.ID, shared.Errorf(shared.CodeNotJoined, "join room %q before uploading to it", u.Room))
		return
	}
	if err := s.srv.authorizeMember(ctx, s.ident, ActionSend, r); err != nil {
		s.fail(f.ID, err)
		return
	}
	fs := s.srv.opts.Files
	if fs == nil {
		s.fail(f.ID, shared.Errorf(shared.CodeUnavailable, "this server does not accept uploads"))
		return
	}
	cost, err := files.DecodeCost(img) // from the header: nothing decoded yet
	if err != nil {
		s.fail(f.ID, err)
		return
	}
	o := &s.srv.opts
	if cost > o.MaxDecodeBytes {
		s.fail(f.ID, shared.Errorf(shared.CodeTooLarge, "the image would take %d MiB of memory to decode (its format, size and coding); the limit is %d MiB",
			(cost+1<<20-1)>>20, o.MaxDecodeBytes>>20))
		return
	}
	if !s.takeUploadQuota(f.ID, int64(len(img))) { // uploadquota.go
		return
	}
	wctx, cancel := context.WithTimeout(ctx, o.DecodeWait)
	err = s.srv.uploads.decode.Acquire(wctx, cost)
	cancel()
	if err != nil {
		s.srv.uploads.quota.refund(s.member.User, s.addr, int64(len(img)))
		if ctx.Err() == nil {
			s.fail(f.ID, shared.Errorf(shared.CodeUnavailable, "the server is busy decoding other images; retry"))
		}
		return
	}
	info, err := fs.Put(ctx, files.Upload{User: s.member.User, Room: u.Room, Name: u.Name, Data: img})
	if cost >= collectAfterDecode {
		// The decoded image is garbage now, but the heap's next GC is
		// set by its peak: the next decode would come on top of it and
		// the process would grow to twice the budget. Collecting before
		// the budget is handed on lets the next decode reuse the memory.
		runtime.GC()
	}
	s.srv.uploads.decode.Release(cost)
	if err != nil {
		s.srv.uploads.quota.refund(s.member.User, s.addr, int64(len(img)))
		s.fail(f.ID, err)
		return
	}
	s.reply(shared.TypeAck, f.ID, &shared.UploadAck{Image: info.Image})
}

// attachedImage resolves the image a send names: it must be one this user
// uploaded for this room.
func (s *session) attachedImage(ctx context.Context, p *shared.Send) (*shared.Image, error) {
	fs := s.srv.opts.Files
	if fs == nil {
		return nil, shared.Errorf(shared.CodeNotFound, "no image %q: this server does not accept uploads", p.Image)
	}
	info, ok, err := fs.Info(ctx, p.Image)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, shared.Errorf(shared.CodeNotFound, "no image %q: upload it first", p.Image)
	}
	if info.User != s.member.User {
		// Exactly the unknown id's answer: a different one would confirm
		// that a guessed id exists (issue #15).
		return nil, shared.Errorf(shared.CodeNotFound, "no image %q: upload it first", p.Image)
	}
	if info.Room != p.Room {
		return nil, shared.Errorf(shared.CodeForbidden, "image %q was uploaded for room %q, not %q", p.Image, info.Room, p.Room)
	}
	if sw, isSweeper := fs.(files.Sweeper); isSweeper {
		// Used from now on: the sweep of unused uploads keeps it. (A
		// sweep that came first removed it: upload it again.)
		if info, ok, err = sw.MarkUsed(ctx, p.Image); err != nil {
			return nil, err
		} else if !ok {
			return nil, shared.Errorf(shared.CodeNotFound, "no image %q: it was not used in time and was removed; upload it again", p.Image)
		}
	}
	img := info.Image
	return &img, nil
}
