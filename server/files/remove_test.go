package files_test

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/duplex-chat/duplex/server/files"
)

// countFiles counts the regular files under dir/sub.
func countFiles(t *testing.T, dir, sub string) int {
	t.Helper()
	n := 0
	filepath.WalkDir(filepath.Join(dir, sub), func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			n++
		}
		return nil
	})
	return n
}

// TestDirRemove: the same bytes uploaded twice (two ids) are stored
// once; removing one id keeps the bytes for the other, removing the
// second removes bytes and thumbnail. An unknown or malformed id is no
// error. An upload stored before refs/ existed (its reference removed
// by hand) is removed by the metadata scan.
func TestDirRemove(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	d, err := files.OpenDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	data := pngOf(t, 40, 30)
	a, err := d.Put(ctx, files.Upload{User: "u1", Room: "r", Name: "a.png", Data: data})
	if err != nil {
		t.Fatal(err)
	}
	b, err := d.Put(ctx, files.Upload{User: "u2", Room: "r", Name: "b.png", Data: data})
	if err != nil {
		t.Fatal(err)
	}
	if countFiles(t, dir, "blobs") != 1 || countFiles(t, dir, "thumbs") != 1 {
		t.Fatal("one content stored more than once")
	}
	for _, id := range []string{"i" + "0000000000000000000000000000000000000000", "../meta", ""} {
		if err := d.Remove(ctx, id); err != nil {
			t.Fatalf("Remove(%q): %v", id, err)
		}
	}
	if err := d.Remove(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := d.Info(ctx, a.ID); ok {
		t.Fatal("removed id still known")
	}
	if _, _, err := d.Open(ctx, b.ID, false); err != nil {
		t.Fatalf("the other upload of the same bytes: %v", err)
	}
	if err := d.Remove(ctx, b.ID); err != nil {
		t.Fatal(err)
	}
	if n := countFiles(t, dir, "blobs") + countFiles(t, dir, "thumbs") + countFiles(t, dir, "meta") + countFiles(t, dir, "refs"); n != 0 {
		t.Fatalf("%d files left after removing both uploads", n)
	}

	// Legacy: no refs/ for this content.
	c, err := d.Put(ctx, files.Upload{User: "u1", Room: "r", Name: "c.png", Data: data})
	if err != nil {
		t.Fatal(err)
	}
	e, err := d.Put(ctx, files.Upload{User: "u3", Room: "r", Name: "e.png", Data: data})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(filepath.Join(dir, "refs")); err != nil {
		t.Fatal(err)
	}
	if err := d.Remove(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := d.Open(ctx, e.ID, false); err != nil {
		t.Fatalf("legacy upload of the same bytes lost: %v", err)
	}
	if err := d.Remove(ctx, e.ID); err != nil {
		t.Fatal(err)
	}
	if n := countFiles(t, dir, "blobs") + countFiles(t, dir, "thumbs"); n != 0 {
		t.Fatalf("%d legacy files left", n)
	}
}

// TestDirRemoveRacesPut: uploads of the same bytes under new ids racing
// the removal of earlier ids never leave an id whose bytes are gone.
func TestDirRemoveRacesPut(t *testing.T) {
	ctx := context.Background()
	d, err := files.OpenDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	data := pngOf(t, 20, 20)
	var wg sync.WaitGroup
	ids := make(chan string, 64)
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 30 {
				info, err := d.Put(ctx, files.Upload{User: "u", Room: "r", Name: string(rune('a'+i)) + string(rune('a'+j)) + ".png", Data: data})
				if err != nil {
					t.Error(err)
					return
				}
				ids <- info.ID
			}
		}()
	}
	go func() { wg.Wait(); close(ids) }()
	var keep []string
	n := 0
	for id := range ids {
		if n++; n%2 == 0 {
			if err := d.Remove(ctx, id); err != nil {
				t.Fatal(err)
			}
		} else {
			keep = append(keep, id)
		}
	}
	for _, id := range keep {
		f, _, err := d.Open(ctx, id, false)
		if err != nil {
			t.Fatalf("kept %s: %v", id, err)
		}
		f.Close()
		if f, _, err := d.Open(ctx, id, true); err != nil || errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("kept %s thumbnail: %v", id, err)
		} else {
			f.Close()
		}
	}
}
