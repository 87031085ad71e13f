package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/duplex-chat/duplex/app/ui"
	"github.com/duplex-chat/duplex/server"
	"github.com/duplex-chat/duplex/server/jwtauth"
	"github.com/duplex-chat/duplex/server/store"
	"github.com/duplex-chat/duplex/shared"
)

// sessionKeyFile holds the key that signs anonymous users' session tokens,
// generated on first run; delete it (or pass -session-key) to sign
// everyone out.
const sessionKeyFile = "session.key"

// tokenCookie is the cookie the browser app keeps its credential in, so a
// prerendered page of a private room knows who asks.
const tokenCookie = "duplex_token"

// identities is how the binary verifies credentials: its own session
// tokens, and JWTs when -jwt-key is set.
type identities struct {
	key       []byte
	verifyJWT func(string) (server.Identity, error)
	// srv, once set, verifies and checks revocation (sign-out).
	srv *server.Server
}

func newIdentities(cfg config) (*identities, error) {
	ids := &identities{}
	switch {
	case cfg.sessionKey != "":
		if len(cfg.sessionKey) < 16 {
			return nil, errors.New("-session-key: use at least 16 characters")
		}
		ids.key = []byte(cfg.sessionKey)
	case cfg.memory:
		ids.key = server.NewSessionKey() // nothing else survives a restart either
	default:
		key, err := loadOrCreateKey(filepath.Join(cfg.dataDir, sessionKeyFile))
		if err != nil {
			return nil, err
		}
		ids.key = key
	}
	if cfg.jwtKey != "" {
		material := []byte(cfg.jwtKey)
		if b, err := os.ReadFile(cfg.jwtKey); err == nil {
			material = b
		}
		verify, err := jwtauth.New(material)
		if err != nil {
			return nil, fmt.Errorf("-jwt-key: %w", err)
		}
		ids.verifyJWT = verify
	}
	return ids, nil
}

// loadOrCreateKey reads the key file, creating it with a random key and
// mode 0600 on first run.
func loadOrCreateKey(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err == nil {
		key, derr := hex.DecodeString(strings.TrimSpace(string(b)))
		if derr != nil || len(key) < 16 {
			return nil, fmt.Errorf("session key file %s is not 16+ hex-encoded bytes; delete it to make a new one (this signs everyone out)", path)
		}
		return key, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("read session key %s: %w", path, err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("create data directory %s: %w", filepath.Dir(path), err)
	}
	key := make([]byte, 32)
	rand.Read(key)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		if errors.Is(err, fs.ErrExist) { // another process made it first
			return loadOrCreateKey(path)
		}
		return nil, fmt.Errorf("create session key %s: %w", path, err)
	}
	_, werr := f.WriteString(hex.EncodeToString(key) + "\n")
	if err := errors.Join(werr, f.Sync(), f.Close()); err != nil {
		return nil, fmt.Errorf("write session key %s: %w", path, err)
	}
	return key, nil
}

// verify returns the user a credential names, or "" when it is not valid
// or was revoked.
func (ids *identities) verify(ctx context.Context, token string) string {
	if ids.srv != nil {
		id, err := ids.srv.CheckCredential(ctx, token)
		if err != nil {
			return ""
		}
		return id.User
	}
	if strings.HasPrefix(token, server.TokenPrefix) {
		if id, err := server.VerifySessionToken(ids.key, token, time.Now()); err == nil {
			return id.User
		}
		return ""
	}
	if ids.verifyJWT != nil {
		if id, err := ids.verifyJWT(token); err == nil {
			return id.User
		}
	}
	return ""
}

// privatePages keeps the contents of private rooms and DMs out of the
// prerendered page unless the request's credential cookie names a user
// with access: such a page is rendered as if it had no history.
func privatePages(st store.Store, ids *identities, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name, ok := strings.CutPrefix(r.URL.Path, "/r/")
		if r.URL.Path == "/" { // the UI shows the default room there
			name, ok = ui.DefaultRoom, true
		}
		if n, err := url.PathUnescape(name); err == nil {
			name = n
		}
		if ok && shared.ValidRoom(name) == nil && !publicRoom(r, st, name) {
			w = &noSharedCache{ResponseWriter: w} // privatecache.go
		}
		if ok && shared.ValidRoom(name) == nil && !allowedToRead(r, st, ids, name) {
			r2 := r.Clone(r.Context())
			r2.URL.RawQuery = "private"
			r = r2
		} else if ok {
			r = withViewer(r, ids) // prerender_viewer.go
		}
		next.ServeHTTP(w, r)
	})
}

func allowedToRead(r *http.Request, st store.Store, ids *identities, room string) bool {
	meta, exists, err := st.Room(r.Context(), room)
	if err != nil {
		return false
	}
	if !exists || meta.Kind == "" || meta.Kind == shared.RoomPublic {
		return true
	}
	c, err := r.Cookie(tokenCookie)
	if err != nil {
		return false
	}
	user := ids.verify(r.Context(), c.Value)
	if user == "" {
		return false
	}
	ok, err := st.HasAccess(r.Context(), room, user)
	return err == nil && ok
}

// authorize is the server's default policy, except that the room "/"
// opens stays public: whoever came first could otherwise make it private
// and shut everyone else out of the front page.
func authorize(ctx context.Context, id server.Identity, action server.Action, room server.RoomAccess) error {
	if action == server.ActionCreate && room.Name == ui.DefaultRoom && room.Kind != shared.RoomPublic {
		return shared.Errorf(shared.CodeForbidden, "room %q is the front page and stays public", room.Name)
	}
	return server.DefaultAuthorize(ctx, id, action, room)
}

// clearSiteCache answers the page's request on sign-out with
// Clear-Site-Data "cache": the browser drops what its HTTP cache holds of
// this origin, such as a private room's images (served "private,
// max-age=1y" to their members), which the next person in that browser
// could otherwise open from the cache by a URL in the history. The
// service worker's app files (Cache API) and the storage stay: the page
// deletes its keys itself.
func clearSiteCache(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Clear-Site-Data", `"cache"`)
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusNoContent)
}
