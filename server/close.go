package server

import (
	"github.com/coder/websocket"
	"github.com/duplex-chat/duplex/shared"
)

// closeHow is how a session closes: whether what is queued is written
// first, whether rooms are left at once, whether anything more is read.
type closeHow uint8

const (
	// dropQueue discards what is queued, leaves every room at once (the
	// close handshake with a stuck peer takes seconds) and closes with
	// the handshake: a slow client, a failed write or ping, an expired
	// credential, a sign-out elsewhere, an oversized frame, a stalled
	// upload.
	dropQueue closeHow = iota
	// stopReading is dropQueue reading nothing more from the peer, not
	// even during the handshake: for flooders. A plain close waits up to
	// 5 s for the peer's close frame, reading (and parsing) every frame
	// the peer sent before it: a flooder that keeps writing made the
	// server drain its flood for the whole wait, which cost more than the
	// flood itself (92% of the server's CPU under twenty typing
	// flooders). Here every read fails at once, so the handshake gives up
	// and the socket is closed; the peer still reads the close frame,
	// which it was sent first.
	stopReading
	// drainQueue writes what is queued first, then closes with the
	// handshake (the writer comes back with drained); the session leaves
	// its rooms when its reader ends. Sign-out and Shutdown.
	drainQueue
	// drained is the writer's, once the queue drainQueue asked for is
	// written.
	drained
	// abrupt closes the socket with no close frame: the reader's end,
	// and Shutdown once its context is done.
	abrupt
)

// close ends the session with code and reason ("": the code's own): every
// way a session ends comes through here. Once the handshake is under way,
// later closes wait for it and change nothing, except abrupt, which cuts
// the socket at once.
func (s *session) close(code shared.CloseCode, reason string, how closeHow) {
	switch how {
	case drainQueue:
		s.q.drain(code)
		return
	case stopReading:
		if s.q.out != nil {
			s.q.out.StopReads()
		}
	}
	s.q.drop()
	switch how {
	case abrupt:
		s.conn.CloseNow()
		s.cancel()
		return
	case dropQueue, stopReading:
		s.leaveAll()
	}
	s.closeOnce.Do(func() {
		if reason == "" {
			reason = code.Reason()
		}
		s.conn.Close(websocket.StatusCode(code), reason)
		s.cancel()
	})
}

// kill is close with dropQueue on a goroutine of its own, for callers
// that must not wait for the handshake (the fan-out, timers, the writer).
func (s *session) kill(code shared.CloseCode) {
	go s.close(code, "", dropQueue)
}
