package main

import (
	"net/http"

	"github.com/duplex-chat/duplex/server"
)

// reserveGate answers only health checks over a connection accepted in
// the reserve beyond -max-conns (server.Server.InReserve); everything
// else there gets 503 with Retry-After, and an upgrade to /ws is refused
// by the server itself. The reserve is what keeps /healthz answering when
// the cap is full.
func reserveGate(srv *server.Server, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/healthz", "/readyz", "/metrics", "/ws":
		default:
			if srv.InReserve(r) {
				srv.RefuseHTTP(w, r)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// gate is reserveGate for another listener's handler.
func (a *duplexApp) gate(h http.Handler) http.Handler { return reserveGate(a.srv, h) }
