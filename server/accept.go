package server

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"

	"github.com/coder/websocket"
	"github.com/duplex-chat/duplex/shared"
)

// ServeHTTP upgrades the request to a WebSocket and runs the session until
// the connection ends. The origin must be the page's own or match
// Options.OriginPatterns; a client that does not offer the duplex.v1
// subprotocol is closed with CloseBadProtocol and a reason saying so.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	closing := s.closing
	s.mu.Unlock()
	if closing {
		http.Error(w, "duplex server is shutting down", http.StatusServiceUnavailable)
		return
	}
	conn, err := websocket.Accept(w, r, &websocket.AcceptOptions{
		Subprotocols:    []string{shared.Protocol},
		OriginPatterns:  s.opts.OriginPatterns,
		CompressionMode: s.opts.Compression,
	})
	if err != nil {
		s.log.Info("websocket accept refused", "remote", r.RemoteAddr, "err", err)
		return // Accept has written the HTTP error
	}
	if conn.Subprotocol() != shared.Protocol {
		conn.Close(websocket.StatusCode(shared.CloseBadProtocol),
			"unsupported protocol: offer the WebSocket subprotocol "+shared.Protocol)
		return
	}
	conn.SetReadLimit(shared.MaxFrameBytes)

	sess := newSession(s, conn)
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		conn.Close(websocket.StatusCode(shared.CloseServiceRestart), shared.CloseServiceRestart.Reason())
		return
	}
	s.sessions[sess] = struct{}{}
	s.wg.Add(1)
	s.mu.Unlock()
	defer s.wg.Done()

	sess.run(r.Context())

	s.mu.Lock()
	delete(s.sessions, sess)
	s.mu.Unlock()
}

// newID returns a random identifier with a prefix, valid as a protocol id.
func newID(prefix string) string {
	var b [9]byte
	rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}
