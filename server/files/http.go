package files

import (
	"errors"
	"io/fs"
	"net/http"
	"strings"
	"time"
)

// Handler serves a Store's images at {prefix}{id} and their thumbnails
// at {prefix}{id}/thumb, for GET and HEAD. Mount it at the prefix
// (the duplex binary: "GET /files/").
//
// Only ids of the exact shape ImageID gives are looked up, so no path a
// client sends (.., encoded slashes, other files of the directory) ever
// reaches the file system; anything else is 404. allow decides who may
// fetch an image (the duplex binary: anyone for public rooms, members for
// private rooms and DMs); a refusal is also 404, so that the existence of
// a private image is not revealed.
//
// Every answer carries the sniffed Content-Type (never one derived from
// the name), X-Content-Type-Options: nosniff, a Content-Security-Policy
// that forbids everything and sandboxes the document (an image opened
// directly cannot run script even if a browser took it for a page), a
// Content-Disposition with the file name RFC 5987-encoded, a strong
// ETag and, since an id names fixed bytes, a year of immutable caching.
func Handler(prefix string, st Store, allow func(r *http.Request, info Info) bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		// The escaped path: %2F stays three characters and fails the id check.
		rest, ok := strings.CutPrefix(r.URL.EscapedPath(), prefix)
		id, thumb := rest, false
		if i := strings.IndexByte(rest, '/'); i >= 0 {
			id, thumb = rest[:i], true
			ok = ok && rest[i:] == "/thumb"
		}
		if !ok || !ValidImageID(id) {
			notFound(w)
			return
		}
		f, info, err := st.Open(r.Context(), id, thumb)
		if errors.Is(err, fs.ErrNotExist) {
			notFound(w)
			return
		}
		if err != nil {
			http.Error(w, "the file could not be read", http.StatusInternalServerError)
			return
		}
		defer f.Close()
		if allow != nil && !allow(r, info) {
			notFound(w)
			return
		}
		h := w.Header()
		typ, etag := info.Type, `"`+info.SHA256+`"`
		if thumb {
			typ, etag = info.Thumb, `"`+info.SHA256+`-thumb"`
		}
		h.Set("Content-Type", typ)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
		h.Set("Cross-Origin-Resource-Policy", "same-origin")
		h.Set("Content-Disposition", ContentDisposition(typ, info.Name))
		h.Set("ETag", etag)
		if allow == nil || allow(anonymous(r), info) {
			h.Set("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			h.Set("Cache-Control", "private, max-age=31536000, immutable")
		}
		http.ServeContent(w, r, "", time.Time{}, f)
	})
}

// anonymous is r without its cookies and credentials: if it may fetch an
// image, shared caches may keep it.
func anonymous(r *http.Request) *http.Request {
	r2 := r.Clone(r.Context())
	r2.Header.Del("Cookie")
	r2.Header.Del("Authorization")
	return r2
}

func notFound(w http.ResponseWriter) {
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "no-store")
	http.Error(w, "no such file", http.StatusNotFound)
}

// ContentDisposition is the Content-Disposition of a file of type typ
// called name: inline for the image types an upload may have, attachment
// for anything else, with the name in RFC 5987's UTF-8 encoding (every
// byte outside its attr-char set percent-encoded, so no quote, semicolon
// or line break of a hostile name can end the header value).
func ContentDisposition(typ, name string) string {
	disp := "attachment"
	if _, ok := formats[typ]; ok {
		disp = "inline"
	}
	return disp + "; filename*=UTF-8''" + encodeRFC5987(name)
}

func encodeRFC5987(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$&+-.^_`|~", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}
