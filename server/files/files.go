// Package files keeps the images people upload: it checks that the bytes
// are an image of an allowed type by their content (never by their name),
// refuses decompression bombs before decoding, stores each distinct
// content once (addressed by its SHA-256) with a thumbnail, and serves
// both over HTTP with headers that keep a browser from treating them as
// anything but an image.
//
// The server library takes a Store in server.Options.Files; Dir is the
// directory-backed implementation the duplex binary uses (DATA_DIR/files)
// and tests use on a temporary directory.
package files

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"

	"github.com/duplex-chat/duplex/shared"
)

// Upload is one image a user sent: the raw bytes of a binary upload frame
// and who sent it where.
type Upload struct {
	User string // the uploader's user id
	Room string
	Name string // the file name the user chose; shown, never trusted
	Data []byte
}

// Info is what is kept about one upload. The embedded shared.Image is
// what messages carry; the rest decides who may fetch it and where its
// bytes are.
type Info struct {
	shared.Image
	User    string `json:"user"`    // the uploader
	Room    string `json:"room"`    // the room it was uploaded for
	SHA256  string `json:"sha256"`  // hex digest of the bytes: the blob's name and ETag
	Created int64  `json:"created"` // Unix ms of the first upload
	// Thumb is the thumbnail's content type (image/png or image/jpeg).
	Thumb string `json:"thumb"`
	// Used is the Unix ms at which a message first used the image (see
	// Sweeper); 0 while none has.
	Used int64 `json:"used,omitempty"`
}

// Store keeps uploaded images. Implementations are safe for concurrent use.
type Store interface {
	// Put checks u.Data (see Inspect), stores it with its thumbnail and
	// returns its Info. The same user uploading the same bytes under the
	// same name to the same room gets the same id back (a retried upload
	// stores nothing new). Errors the user caused are *shared.Error.
	Put(ctx context.Context, u Upload) (Info, error)
	// Info returns what is kept about id; ok is false for an unknown id.
	Info(ctx context.Context, id string) (info Info, ok bool, err error)
	// Open opens the bytes of id, or of its thumbnail.
	Open(ctx context.Context, id string, thumb bool) (io.ReadSeekCloser, Info, error)
}

// ImageID is the id of an upload: derived from who uploaded what, where,
// under which name, so that a retried upload names the same image, while
// the same bytes uploaded by another user or to another room get an id
// (and access rules) of their own.
func ImageID(user, room, name, sum string) string {
	h := sha256.New()
	for _, s := range []string{user, room, name, sum} {
		io.WriteString(h, s)
		h.Write([]byte{0})
	}
	return "i" + hex.EncodeToString(h.Sum(nil))[:idHexLen]
}

// idHexLen is the hex digits of an image id after its "i": 160 bits.
const idHexLen = 40

// ValidImageID reports whether id has the shape ImageID gives: the only
// ids that reach the file system.
func ValidImageID(id string) bool {
	if len(id) != 1+idHexLen || id[0] != 'i' {
		return false
	}
	for i := 1; i < len(id); i++ {
		if c := id[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}
