package files

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Sweeper is a Store that knows which images messages use and removes
// the others once they are old enough: an upload that no message ever
// names costs nothing for long (issue #14). The server calls MarkUsed
// when a send attaches an image, and RemoveUnused periodically.
type Sweeper interface {
	Store
	// MarkUsed records that a message uses id and returns its Info, as
	// Info does. An image marked used is never removed by RemoveUnused.
	MarkUsed(ctx context.Context, id string) (info Info, ok bool, err error)
	// RemoveUnused removes every image never marked used and uploaded
	// before cutoff: its record and, unless another record shares them,
	// its bytes and thumbnail. It reports how many records it removed
	// and the bytes of blobs and thumbnails freed.
	RemoveUnused(ctx context.Context, cutoff time.Time) (removed int, freed int64, err error)
}

var _ Sweeper = (*Dir)(nil)

// MarkUsed implements Sweeper: the record is rewritten once, with Used set.
func (d *Dir) MarkUsed(ctx context.Context, id string) (Info, bool, error) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	info, ok, err := d.Info(ctx, id)
	if err != nil || !ok || info.Used != 0 {
		return info, ok, err
	}
	info.Used = time.Now().UnixMilli()
	b, err := json.Marshal(info)
	if err != nil {
		return Info{}, false, err
	}
	if err := writeFile(d.metaPath(id), b); err != nil {
		return Info{}, false, err
	}
	return info, true, nil
}

// RemoveUnused implements Sweeper. It holds the Dir's lock for writing
// while it lists and removes (file system work only, no decoding), so
// no Put or MarkUsed runs in between.
func (d *Dir) RemoveUnused(ctx context.Context, cutoff time.Time) (removed int, freed int64, err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	entries, err := os.ReadDir(filepath.Join(d.root, "meta"))
	if err != nil {
		return 0, 0, fmt.Errorf("files: %w", err)
	}
	kept := map[string]bool{}   // blobs some remaining record names
	orphans := map[string]int{} // blobs of removed records
	for _, e := range entries {
		if ctx.Err() != nil {
			return removed, freed, ctx.Err()
		}
		id, ok := strings.CutSuffix(e.Name(), ".json")
		if !ok || !ValidImageID(id) {
			continue // temporary files of writeFile, or foreign ones
		}
		info, ok, err := d.Info(ctx, id)
		if err != nil || !ok {
			continue // a corrupt record is left for a person to look at
		}
		if info.Used != 0 || info.Created >= cutoff.UnixMilli() {
			kept[info.SHA256] = true
			continue
		}
		if err := removeFiles(d.metaPath(id), d.refPath(info.SHA256, id)); err != nil {
			return removed, freed, fmt.Errorf("files: %w", err)
		}
		removed++
		orphans[info.SHA256]++
	}
	for sum := range orphans {
		if kept[sum] {
			continue
		}
		os.Remove(filepath.Dir(d.refPath(sum, "x"))) // the content's refs, empty now
		for _, thumb := range []bool{false, true} {
			p := d.blobPath(sum, thumb)
			if fi, err := os.Stat(p); err == nil {
				freed += fi.Size()
			}
			if err := removeFiles(p); err != nil {
				return removed, freed, fmt.Errorf("files: %w", err)
			}
		}
	}
	return removed, freed, nil
}
