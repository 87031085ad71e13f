package server

import (
	"github.com/duplex-chat/duplex/shared"
)

// closeFlooder closes a connection that floods frames with code, writing
// the close frame but reading nothing more from it. A plain close waits up
// to 5 s for the peer's close frame, reading (and parsing) every frame the
// peer sent before it: a flooder that keeps writing made the server drain
// its flood for the whole wait, which cost more than the flood itself
// (92% of the server's CPU under twenty typing flooders). Here every read
// fails at once, so the handshake gives up and the socket is closed; the
// peer still reads the close frame, which it was sent first.
func (s *session) closeFlooder(code shared.CloseCode, reason string) {
	if s.q.out != nil {
		s.q.out.StopReads()
	}
	s.closeWithReason(code, reason)
}
