package server

import (
	"context"
	"io"
	"time"

	"github.com/duplex-chat/duplex/server/files"
	"github.com/duplex-chat/duplex/shared"
)

// Binary WebSocket messages are image uploads (PROTOCOL.md 7.16): a
// 4-byte header length, an upload frame's JSON header, the image bytes.
// The reader handles one at a time, so a connection holds at most one
// upload in memory; Options.MaxUploads bounds how many the server holds
// at once, and the upload byte rate (Limits) how much one user may push.

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

// uploadReadTimeout bounds the reading of one binary message. An upload
// holds one of the server's MaxUploads slots while it is read, and the
// frame timeout alone would let a client that sends it in many small
// frames, each just in time, hold a slot for many minutes. A connection
// that takes longer (5 MiB at less than about 85 KiB/s) is closed with
// 4001, as a client too slow to keep up, and may reconnect.
const uploadReadTimeout = time.Minute

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
		s.closeWithReason(shared.CloseTooBig, "a text frame may be at most 65536 bytes")
		return nil, false
	}
	return data, true
}

// upload reads and handles one binary message. It reports false when the
// session is over.
func (s *session) upload(ctx context.Context, r io.Reader) bool {
	select {
	case s.srv.uploads <- struct{}{}:
	case <-ctx.Done():
		return false
	}
	defer func() { <-s.srv.uploads }()
	slow := time.AfterFunc(uploadReadTimeout, func() {
		s.srv.metrics.closed(shared.CloseSlowClient)
		s.kill(shared.CloseSlowClient) // its close handshake times out and closes the socket under the reader
	})
	defer slow.Stop()
	data, err := io.ReadAll(io.LimitReader(r, maxUploadMessage+1))
	if err != nil {
		s.srv.metrics.disconnected(err)
		return false
	}
	if len(data) > maxUploadMessage {
		f, _, _ := shared.DecodeUpload(data[:maxUploadMessage]) // for the request id
		s.fail(f.ID, shared.Errorf(shared.CodeTooLarge, "the upload is larger than %d bytes", shared.MaxImageBytes))
		data = nil
		n, err := io.Copy(io.Discard, io.LimitReader(r, maxUploadDiscard+1))
		if err != nil {
			s.srv.metrics.disconnected(err)
			return false
		}
		if n > maxUploadDiscard {
			s.srv.metrics.closed(shared.CloseTooBig)
			s.closeWithReason(shared.CloseTooBig, "a binary message may be at most 5 MiB of image and its header")
			return false
		}
		return true
	}
	offStack(func() { s.handleUpload(ctx, data) })
	return true
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
	info, err := fs.Put(ctx, files.Upload{User: s.member.User, Room: u.Room, Name: u.Name, Data: img})
	if err != nil {
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
	img := info.Image
	return &img, nil
}
