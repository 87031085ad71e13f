package files

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Remover is a Store that can forget an upload. The server calls Remove
// when the last message carrying an image is deleted (store.Result's
// Orphaned), so a deleted image leaves the data directory like a deleted
// text does (issue #15).
type Remover interface {
	// Remove forgets id: its metadata, and its bytes and thumbnail once
	// no other upload has the same content. An unknown id is no error.
	Remove(ctx context.Context, id string) error
}

var _ Remover = (*Dir)(nil)

// refPath is the reference of upload id to content sum: the bytes are
// removed with the last reference.
func (d *Dir) refPath(sum, id string) string { return filepath.Join(d.root, "refs", sum, id) }

// addRef records that upload id names content sum. Called under d.mu
// (read-locked by Put).
func (d *Dir) addRef(sum, id string) error {
	if err := os.MkdirAll(filepath.Dir(d.refPath(sum, id)), 0o700); err != nil {
		return fmt.Errorf("files: %w", err)
	}
	f, err := os.OpenFile(d.refPath(sum, id), os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("files: %w", err)
	}
	return f.Close()
}

// Remove implements Remover.
func (d *Dir) Remove(ctx context.Context, id string) error {
	info, ok, err := d.Info(ctx, id)
	if err != nil || !ok {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	sum := info.SHA256
	if err := removeFiles(d.metaPath(id), d.refPath(sum, id)); err != nil {
		return fmt.Errorf("files: remove %s: %w", id, err)
	}
	refs, err := os.ReadDir(filepath.Dir(d.refPath(sum, id)))
	switch {
	case errors.Is(err, fs.ErrNotExist):
		// Content uploaded before references were kept: look for
		// another upload of it among the metadata.
		if other, err := d.metaOf(sum); err != nil || other {
			return err
		}
	case err != nil:
		return fmt.Errorf("files: %w", err)
	case len(refs) > 0:
		return nil // another upload has the same bytes
	}
	if err := removeFiles(d.blobPath(sum, false), d.blobPath(sum, true), filepath.Dir(d.refPath(sum, id))); err != nil {
		return fmt.Errorf("files: remove %s: %w", id, err)
	}
	return nil
}

// metaOf reports whether any upload's metadata names content sum: a scan
// of meta/, needed only for uploads stored before refs/ existed.
func (d *Dir) metaOf(sum string) (bool, error) {
	ents, err := os.ReadDir(filepath.Join(d.root, "meta"))
	if err != nil {
		return false, fmt.Errorf("files: %w", err)
	}
	for _, e := range ents {
		if !strings.HasSuffix(e.Name(), ".json") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(d.root, "meta", e.Name()))
		if err != nil {
			continue
		}
		var info Info
		if json.Unmarshal(b, &info) == nil && info.SHA256 == sum {
			return true, nil
		}
	}
	return false, nil
}
