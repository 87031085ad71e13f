package main

import (
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// staticHandler serves /web/ from dir. app.wasm is served from its brotli
// or gzip twin when the browser accepts it and the twin is not older than
// the wasm, with the wasm content type and an ETag of the content hash, so
// browsers revalidate cheaply and refetch only when the version changes.
func staticHandler(dir string, wasm wasmFiles) http.Handler {
	files := http.StripPrefix("/web/", http.FileServer(filesOnly{http.Dir(dir)}))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-cache")
		if path.Clean(r.URL.Path) != "/web/app.wasm" {
			files.ServeHTTP(w, r)
			return
		}
		serveWasm(w, r, filepath.Join(dir, "app.wasm"), wasm.version)
	})
}

func serveWasm(w http.ResponseWriter, r *http.Request, raw, version string) {
	h := w.Header()
	h.Set("Content-Type", "application/wasm")
	h.Set("Vary", "Accept-Encoding")
	rawInfo, err := os.Stat(raw)
	if err != nil {
		http.Error(w, "app.wasm is not built: run `make wasm`", http.StatusNotFound)
		return
	}
	name, encoding := raw, ""
	accept := r.Header.Get("Accept-Encoding")
	for _, c := range []struct{ ext, enc string }{{".br", "br"}, {".gz", "gzip"}} {
		if !acceptsEncoding(accept, c.enc) {
			continue
		}
		if info, err := os.Stat(raw + c.ext); err == nil && !info.ModTime().Before(rawInfo.ModTime()) {
			name, encoding = raw+c.ext, c.enc
			break
		}
	}
	f, err := os.Open(name)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	defer f.Close()
	info, _ := f.Stat()
	if encoding != "" {
		h.Set("Content-Encoding", encoding)
	}
	h.Set("ETag", `"`+version+"-"+encoding+`"`)
	http.ServeContent(w, r, "app.wasm", info.ModTime(), f)
}

// acceptsEncoding reports whether an Accept-Encoding header allows enc.
func acceptsEncoding(header, enc string) bool {
	for _, part := range strings.Split(header, ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(name), enc) {
			return !strings.Contains(strings.ReplaceAll(params, " ", ""), "q=0") || strings.Contains(params, "q=0.")
		}
	}
	return false
}

// filesOnly hides directories, so /web/ and its folders answer 404
// instead of listing what they hold.
type filesOnly struct{ fs http.FileSystem }

func (f filesOnly) Open(name string) (http.File, error) {
	file, err := f.fs.Open(name)
	if err != nil {
		return nil, err
	}
	if info, err := file.Stat(); err != nil || info.IsDir() {
		file.Close()
		return nil, os.ErrNotExist
	}
	return file, nil
}
