package files

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// Dir is a Store in a directory:
//
//	blobs/ab/abcd…   the uploaded bytes, named by their SHA-256
//	thumbs/ab/abcd…  their thumbnail
//	meta/i….json     one Info per upload id
//
// Every file is written to a temporary file first and renamed into
// place, with mode 0600: a crash leaves either the old state or the new,
// and nothing half-written is ever served.
type Dir struct {
	root     string
	decoding Decoders
	// mu orders writes against RemoveUnused and Remove: Put and MarkUsed
	// hold it for reading while they write files (never while decoding),
	// a sweep and Remove (remove.go) for writing, so neither removes a
	// blob a new record is about to name, nor a record being marked used.
	mu sync.RWMutex
}

var _ Store = (*Dir)(nil)

// DefaultDecoders is how many images a Dir decodes at once.
const DefaultDecoders = 2

// OpenDir returns a Dir rooted at root, creating it.
func OpenDir(root string) (*Dir, error) {
	for _, sub := range []string{"blobs", "thumbs", "meta"} {
		if err := os.MkdirAll(filepath.Join(root, sub), 0o700); err != nil {
			return nil, fmt.Errorf("files: create %s: %w", root, err)
		}
	}
	return &Dir{root: root, decoding: NewDecoders(DefaultDecoders)}, nil
}

// Root returns the directory d keeps its files in.
func (d *Dir) Root() string { return d.root }

func (d *Dir) blobPath(sum string, thumb bool) string {
	kind := "blobs"
	if thumb {
		kind = "thumbs"
	}
	return filepath.Join(d.root, kind, sum[:2], sum)
}

func (d *Dir) metaPath(id string) string { return filepath.Join(d.root, "meta", id+".json") }

// Put implements Store.
func (d *Dir) Put(ctx context.Context, u Upload) (Info, error) {
	info, err := Check(u)
	if err != nil {
		return Info{}, err
	}
	sum, id, typ := info.SHA256, info.ID, info.Type
	d.mu.RLock()
	old, ok, err := d.Info(ctx, id)
	stored := exists(d.blobPath(sum, true)) && exists(d.blobPath(sum, false))
	d.mu.RUnlock()
	if err != nil || ok {
		return old, err // a retry: stored already
	}
	var thumb []byte
	if !stored {
		// New content: decode it (the proof that it is an image), with
		// no lock held: a sweep need not wait for a decode.
		if thumb, err = d.decoding.Thumbnail(ctx, u.Data, typ); err != nil {
			return Info{}, err
		}
	}
	d.mu.RLock()
	defer d.mu.RUnlock()
	if !exists(d.blobPath(sum, true)) || !exists(d.blobPath(sum, false)) {
		if thumb == nil { // a sweep removed the blob meanwhile
			if thumb, err = Thumbnail(u.Data, typ); err != nil {
				return Info{}, err
			}
		}
		// The thumbnail before the bytes, so a blob never exists
		// without its thumbnail.
		if err := writeFile(d.blobPath(sum, true), thumb); err != nil {
			return Info{}, err
		}
		if err := writeFile(d.blobPath(sum, false), u.Data); err != nil {
			return Info{}, err
		}
	}
	info.Created = time.Now().UnixMilli()
	b, err := json.Marshal(info)
	if err != nil {
		return Info{}, err
	}
	if err := d.addRef(sum, id); err != nil {
		return Info{}, err
	}
	if err := writeFile(d.metaPath(id), b); err != nil {
		return Info{}, err
	}
	return info, nil
}

// Info implements Store.
func (d *Dir) Info(_ context.Context, id string) (Info, bool, error) {
	if !ValidImageID(id) {
		return Info{}, false, nil
	}
	b, err := os.ReadFile(d.metaPath(id))
	if errors.Is(err, fs.ErrNotExist) {
		return Info{}, false, nil
	}
	if err != nil {
		return Info{}, false, fmt.Errorf("files: read %s: %w", id, err)
	}
	var info Info
	if err := json.Unmarshal(b, &info); err != nil || info.ID != id || len(info.SHA256) != 64 {
		return Info{}, false, fmt.Errorf("files: %s: corrupt metadata", id)
	}
	return info, true, nil
}

// Open implements Store.
func (d *Dir) Open(ctx context.Context, id string, thumb bool) (io.ReadSeekCloser, Info, error) {
	info, ok, err := d.Info(ctx, id)
	if err != nil {
		return nil, Info{}, err
	}
	if !ok {
		return nil, Info{}, fs.ErrNotExist
	}
	f, err := os.Open(d.blobPath(info.SHA256, thumb))
	if err != nil {
		return nil, Info{}, err
	}
	return f, info, nil
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// removeFiles removes the files (or empty directories) at paths in
// order and stops at the first error; one that is not there is no error.
func removeFiles(paths ...string) error {
	for _, p := range paths {
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	return nil
}

// writeFile writes b to path through a synced temporary file in the same
// directory and a rename, with mode 0600.
func writeFile(path string, b []byte) (err error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("files: %w", err)
	}
	f, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return fmt.Errorf("files: %w", err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if err := f.Chmod(0o600); err != nil {
		return fmt.Errorf("files: %w", err)
	}
	if _, err := f.Write(b); err != nil {
		return fmt.Errorf("files: write %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("files: sync %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("files: %w", err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("files: %w", err)
	}
	return nil
}
