package server

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"

	"github.com/coder/websocket"
	"github.com/duplex-chat/duplex/server/internal/wsconn"
	"github.com/duplex-chat/duplex/shared"
)

// ServeHTTP upgrades the request to a WebSocket and runs the session until
// the connection ends. The origin must be the page's own or match
// Options.OriginPatterns; a client that does not offer the duplex.v1
// subprotocol is closed with CloseBadProtocol and a reason saying so.
func (srv *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	srv.mu.Lock()
	closing := srv.closing
	srv.mu.Unlock()
	if closing {
		http.Error(w, "duplex server is shutting down", http.StatusServiceUnavailable)
		return
	}
	release, refused := srv.admitConn(r)
	if refused != "" {
		srv.refuseConn(w, r, refused)
		return
	}
	handedOver := false
	defer func() {
		if !handedOver {
			release()
		}
	}()
	pre, err := srv.authenticateRequest(r)
	if err != nil {
		srv.log.Info("websocket upgrade not authenticated", "remote", r.RemoteAddr, "err", err)
		http.Error(w, "not authenticated: "+err.Error(), http.StatusUnauthorized)
		return
	}
	out := &wsconn.FrameWriter{}
	hj := wsconn.Hijacker{ResponseWriter: w, Out: out, FrameTimeout: srv.opts.FrameTimeout, OnTimeout: srv.metrics.frameTimeout.Inc}
	conn, err := websocket.Accept(hj, r, &websocket.AcceptOptions{
		Subprotocols:    []string{shared.Protocol},
		OriginPatterns:  srv.opts.OriginPatterns,
		CompressionMode: srv.opts.Compression,
	})
	if err != nil {
		srv.log.Info("websocket accept refused", "remote", r.RemoteAddr, "err", err)
		return // Accept has written the HTTP error
	}
	if conn.Subprotocol() != shared.Protocol {
		conn.Close(websocket.StatusCode(shared.CloseBadProtocol),
			"unsupported protocol: offer the WebSocket subprotocol "+shared.Protocol)
		return
	}
	conn.SetReadLimit(readLimit) // text frames: MaxFrameBytes (see readText)

	sess := newSession(srv, conn, out, pre)
	sess.addr = remoteIP(r)
	srv.mu.Lock()
	if srv.closing {
		srv.mu.Unlock()
		sess.close(shared.CloseServiceRestart, "", dropQueue) // nothing queued yet, in no room
		return
	}
	srv.sessions[sess] = struct{}{}
	srv.wg.Add(1)
	srv.mu.Unlock()
	handedOver = true

	// The session reads on a goroutine of its own so that net/http's
	// connection goroutine, with its stack and buffers, ends here.
	go func() {
		defer srv.wg.Done()
		defer release()
		sess.run()
		srv.mu.Lock()
		delete(srv.sessions, sess)
		srv.mu.Unlock()
	}()
}

// newID returns a random identifier with a prefix, valid as a protocol id.
func newID(prefix string) string {
	var b [9]byte
	rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}
