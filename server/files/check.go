package files

import (
	"context"
	"crypto/sha256"
	"encoding/hex"

	"github.com/duplex-chat/duplex/shared"
)

// Check runs Inspect on u.Data and returns the Info an upload of it gets:
// its id, type, size, dimensions, digest and thumbnail type, Created not
// set yet. Every Store's Put starts here (Dir, and the cluster's store in
// server/cluster), so uploads are checked and named alike whatever keeps
// them. Its errors are Inspect's.
func Check(u Upload) (Info, error) {
	typ, w, h, err := Inspect(u.Data)
	if err != nil {
		return Info{}, err
	}
	digest := sha256.Sum256(u.Data)
	sum := hex.EncodeToString(digest[:])
	id := ImageID(u.User, u.Room, u.Name, sum)
	return Info{
		Image:  shared.Image{ID: id, Name: u.Name, Type: typ, Size: int64(len(u.Data)), Width: w, Height: h},
		User:   u.User,
		Room:   u.Room,
		SHA256: sum,
		Thumb:  thumbType(typ),
	}, nil
}

// Decoders bounds the uploads a Store decodes at once, across all
// connections (CPU). Memory is the caller's to bound: a decode costs
// DecodeCost, up to 24 bytes a pixel (the server takes it from its
// DecodeMemory budget first).
type Decoders chan struct{}

// NewDecoders returns Decoders that let n decodes run at once.
func NewDecoders(n int) Decoders { return make(Decoders, n) }

// Thumbnail is Thumbnail(data, typ) once a decoder is free, or ctx's
// error if it ends first.
func (d Decoders) Thumbnail(ctx context.Context, data []byte, typ string) ([]byte, error) {
	select {
	case d <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-d }()
	return Thumbnail(data, typ)
}
