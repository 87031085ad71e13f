package main

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/duplex-chat/duplex/shared/testpoll"
)

// grepData returns "path: word" for every word found in the raw bytes of
// any file under dir, and the files it read.
func grepData(t *testing.T, dir string, words [][]byte, names []string) (hits, files []string) {
	t.Helper()
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		files = append(files, rel)
		for i, w := range words {
			if bytes.Contains(b, w) {
				hits = append(hits, rel+": "+names[i])
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return hits, files
}

// TestDeletionErasesFromDataDir (issue #15): on the real binary's app
// with its SQLite store and files directory, Ann sends a message, edits
// it twice and deletes it, and sends an image with a caption and deletes
// that; another message and another image stay. After a graceful stop,
// the raw bytes of every file of the data directory (duplex.db, any -wal
// and -shm, files/**) hold none of the deleted or edited-away words, nor
// the deleted image's file name or bytes, while the words, name and bytes
// of what was kept are found by the same grep (so it can fail). Before
// the stop, while the server runs, no file (the WAL included) holds the
// erased words either. The deleted image is no longer served.
func TestDeletionErasesFromDataDir(t *testing.T) {
	ta := startApp(t, "", "")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	ann, _ := imageClient(t, ctx, ta.WS, "Ann")
	if err := ann.Join(ctx, "lobby"); err != nil {
		t.Fatal(err)
	}
	send := func(body string) int64 {
		ack, err := ann.SendWait(ctx, "lobby", body)
		if err != nil {
			t.Fatal(err)
		}
		return ack.Seq
	}
	imageSeq := func(id string) int64 {
		var seq int64
		testpoll.Until(t, "the image message in the cache", func() bool {
			for _, m := range ann.Cached("lobby") {
				if m.Image != nil && m.Image.ID == id && m.Seq > 0 {
					seq = m.Seq
					return true
				}
			}
			return false
		})
		return seq
	}
	send("keptwordalpha keptwordbravo")
	seq := send("deletedsecret zebraquokka1 my password is hunter2xyz")
	for _, body := range []string{"firsteditsecret wombatqq", "secondeditsecret platypusqq"} {
		if _, err := ann.Edit(ctx, "lobby", seq, body); err != nil {
			t.Fatal(err)
		}
	}
	keptPNG, gonePNG := testPNG(t, 64, 48), testPNG(t, 80, 60)
	kept, err := ann.Upload(ctx, "lobby", "keptphoto.png", keptPNG)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ann.SendImage("lobby", kept, "keptcaption"); err != nil {
		t.Fatal(err)
	}
	gone, err := ann.Upload(ctx, "lobby", "secretphoto.png", gonePNG)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ann.SendImage("lobby", gone, "secretcaption"); err != nil {
		t.Fatal(err)
	}
	goneSeq := imageSeq(gone.ID)
	imageSeq(kept.ID)
	for _, s := range []int64{seq, goneSeq} {
		if _, err := ann.Delete(ctx, "lobby", s); err != nil {
			t.Fatal(err)
		}
	}
	testpoll.Until(t, "the deleted image no longer served", func() bool {
		resp, _ := fetchFile(t, "GET", ta.URL+"/files/"+gone.ID, "")
		return resp.StatusCode == 404
	})
	if resp, body := fetchFile(t, "GET", ta.URL+"/files/"+kept.ID, ""); resp.StatusCode != 200 || !bytes.Equal(body, keptPNG) {
		t.Fatalf("kept image: %d, %d bytes", resp.StatusCode, len(body))
	}
	erased := []string{"deletedsecret", "zebraquokka1", "hunter2xyz", "firsteditsecret", "wombatqq", "secondeditsecret", "platypusqq", "secretcaption", "secretphoto", gone.ID}
	// While the server runs, the background checkpoint empties the WAL:
	// no file (duplex.db-wal and -shm included) holds an erased word.
	var running []string
	testpoll.Until(t, "the erased words gone from every file of the running server", func() bool {
		var words [][]byte
		for _, w := range erased {
			words = append(words, []byte(w))
		}
		hits, files := grepData(t, ta.Data, words, erased)
		running = files
		return len(hits) == 0
	})
	t.Logf("files grepped while running: %s", strings.Join(running, ", "))
	ann.Close()
	ta.Stop()

	keptWords := []string{"keptwordalpha", "keptwordbravo", "keptcaption", "keptphoto", kept.ID}
	var words [][]byte
	var names []string
	for _, w := range append(append([]string{}, erased...), keptWords...) {
		words, names = append(words, []byte(w)), append(names, w)
	}
	// The image bytes: a run from the middle of each PNG (its pixel data).
	words = append(words, gonePNG[len(gonePNG)/2:len(gonePNG)/2+64], keptPNG[len(keptPNG)/2:len(keptPNG)/2+64])
	names = append(names, "bytes of secretphoto.png", "bytes of keptphoto.png")
	hits, files := grepData(t, ta.Data, words, names)
	t.Logf("files grepped under %s: %s", ta.Data, strings.Join(files, ", "))
	t.Logf("erased words: %q", erased)
	t.Logf("found: %s", strings.Join(hits, ", "))
	found := map[string]bool{}
	for _, h := range hits {
		found[h[strings.Index(h, ": ")+2:]] = true
	}
	for _, w := range append(erased, "bytes of secretphoto.png") {
		if found[w] {
			t.Errorf("erased %q still in the data directory: %v", w, hits)
		}
	}
	for _, w := range append(keptWords, "bytes of keptphoto.png") {
		if !found[w] {
			t.Errorf("kept %q not found in any file: the grep cannot be trusted (%v)", w, hits)
		}
	}
}

// TestRetentionErasesImages: a message with an image that -retain-count
// prunes takes its file along: after a restart with retention the image
// is no longer served and no file of the data directory holds its bytes,
// name or id, while the image of a message retention keeps stays.
func TestRetentionErasesImages(t *testing.T) {
	data := t.TempDir()
	ta := startApp(t, "", data)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	ann, _ := imageClient(t, ctx, ta.WS, "Ann")
	if err := ann.Join(ctx, "lobby"); err != nil {
		t.Fatal(err)
	}
	gonePNG, keptPNG := testPNG(t, 72, 40), testPNG(t, 40, 72)
	gone, err := ann.Upload(ctx, "lobby", "prunedphoto.png", gonePNG)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ann.SendImage("lobby", gone, ""); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if _, err := ann.SendWait(ctx, "lobby", fmt.Sprintf("filler %d", i)); err != nil {
			t.Fatal(err)
		}
	}
	kept, err := ann.Upload(ctx, "lobby", "keptphoto.png", keptPNG)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ann.SendImage("lobby", kept, ""); err != nil {
		t.Fatal(err)
	}
	testpoll.Until(t, "the kept image's message stored", func() bool {
		h, err := ta.app.store.Head(ctx, "lobby")
		return err == nil && h == 5
	})
	ann.Close()
	ta.Stop()

	ta = startAppWith(t, config{dataDir: data, limits: limitFlags{retainCount: 2}})
	testpoll.Until(t, "the pruned image no longer served", func() bool {
		resp, _ := fetchFile(t, "GET", ta.URL+"/files/"+gone.ID, "")
		return resp.StatusCode == 404
	})
	if resp, body := fetchFile(t, "GET", ta.URL+"/files/"+kept.ID, ""); resp.StatusCode != 200 || !bytes.Equal(body, keptPNG) {
		t.Fatalf("kept image: %d, %d bytes", resp.StatusCode, len(body))
	}
	ta.Stop()
	names := []string{"prunedphoto", gone.ID, "bytes of prunedphoto.png", "keptphoto", kept.ID, "bytes of keptphoto.png"}
	words := [][]byte{[]byte("prunedphoto"), []byte(gone.ID), gonePNG[len(gonePNG)/2 : len(gonePNG)/2+64],
		[]byte("keptphoto"), []byte(kept.ID), keptPNG[len(keptPNG)/2 : len(keptPNG)/2+64]}
	hits, files := grepData(t, data, words, names)
	t.Logf("files grepped: %s; found: %s", strings.Join(files, ", "), strings.Join(hits, ", "))
	found := map[string]bool{}
	for _, h := range hits {
		found[h[strings.Index(h, ": ")+2:]] = true
	}
	for _, w := range names[:3] {
		if found[w] {
			t.Errorf("pruned %q still in the data directory: %v", w, hits)
		}
	}
	for _, w := range names[3:] {
		if !found[w] {
			t.Errorf("kept %q not found: the grep cannot be trusted (%v)", w, hits)
		}
	}
}
