package main

import (
	"bytes"
	"net/http"
	"strconv"
	"strings"

	"github.com/duplex-chat/duplex/app/ui"
)

// goAppFiles are the paths go-app's handler serves itself; every other
// path it answers is a page.
var goAppFiles = map[string]bool{
	"/app.js": true, "/goapp.js": true, "/app.css": true, "/wasm_exec.js": true, "/app-worker.js": true,
	"/manifest.webmanifest": true, "/manifest.json": true, "/app.wasm": true, "/goapp.wasm": true,
	"/robots.txt": true, "/sitemap.xml": true, "/ads.txt": true,
}

// pages puts the finishing touches on go-app's pages:
//   - a room path with upper case redirects (308) to the lower-case room,
//     so /r/Design-Review opens #design-review;
//   - a path that names no room gets the not-found page with status 404
//     (go-app would answer 200, or a plain-text 404 for an unrouted path);
//   - og:url and og:image name this server's own origin: go-app writes
//     "https://" + Handler.Domain, which without a domain points nowhere.
func pages(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if goAppFiles[r.URL.Path] || r.Method != http.MethodGet && r.Method != http.MethodHead {
			next.ServeHTTP(w, r)
			return
		}
		canonical, found := ui.CanonicalPath(r.URL.Path)
		if found && canonical != r.URL.Path {
			u := *r.URL
			u.Path, u.RawPath = canonical, ""
			http.Redirect(w, r, u.String(), http.StatusPermanentRedirect)
			return
		}
		rec := &pageRecorder{header: w.Header(), status: http.StatusOK}
		next.ServeHTTP(rec, r)
		body := rec.body.Bytes()
		if rec.status == http.StatusOK {
			body = bytes.ReplaceAll(body, []byte(`"https:///`), []byte(`"`+origin(r)+`/`))
			if !found {
				rec.status = http.StatusNotFound
			}
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(rec.status)
		if r.Method != http.MethodHead {
			w.Write(body)
		}
	})
}

// origin is the scheme and host the request came to.
func origin(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + strings.TrimSuffix(r.Host, "/")
}

// pageRecorder holds a page (a few kilobytes) so pages can edit it.
type pageRecorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (p *pageRecorder) Header() http.Header         { return p.header }
func (p *pageRecorder) WriteHeader(status int)      { p.status = status }
func (p *pageRecorder) Write(b []byte) (int, error) { return p.body.Write(b) }
