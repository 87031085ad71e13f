package cluster_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/png"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/duplex-chat/duplex/server/cluster"
	"github.com/duplex-chat/duplex/server/cluster/natsrun"
	"github.com/duplex-chat/duplex/server/files"
	"github.com/duplex-chat/duplex/shared"
	"github.com/duplex-chat/duplex/shared/testpoll"
)

// testPNG encodes a w×h picture; seed makes it differ from another's.
func testPNG(t *testing.T, w, h int, seed uint8) []byte {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.NRGBA{uint8(x) + seed, uint8(y), uint8(x^y) ^ seed, 255})
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// nodeFiles opens a node called name (closed when the test ends) and
// its image store.
func nodeFiles(t *testing.T, nc *natsrun.Cluster, name string) *cluster.Files {
	t.Helper()
	n := openNode(t, nc, "", cluster.Config{Name: name})
	t.Cleanup(func() { n.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	f, err := n.Files(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// readAll reads id (or its thumbnail) through st, or returns the error.
func readAll(st files.Store, id string, thumb bool) ([]byte, files.Info, error) {
	r, info, err := st.Open(context.Background(), id, thumb)
	if err != nil {
		return nil, info, err
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	return b, info, err
}

// twoNodesFiles starts a NATS cluster and two nodes on it, and returns
// their image stores and a view of the bucket.
func twoNodesFiles(t *testing.T) (a, b *cluster.Files, bk bucket) {
	t.Helper()
	nc := natsCluster(t)
	return nodeFiles(t, nc, "a"), nodeFiles(t, nc, "b"), openBucket(t, nc)
}

// bucket is the test's own view of the files bucket's streams, to see
// what JetStream holds.
type bucket struct {
	objs   jetstream.ObjectStore
	stream jetstream.Stream // the object store's
}

func openBucket(t *testing.T, nc *natsrun.Cluster) bucket {
	t.Helper()
	conn, err := nats.Connect(nc.URL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(conn.Close)
	js, err := jetstream.New(conn)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	objs, err := js.ObjectStore(ctx, "DUPLEX_FILES")
	if err != nil {
		t.Fatal(err)
	}
	stream, err := js.Stream(ctx, "OBJ_DUPLEX_FILES")
	if err != nil {
		t.Fatal(err)
	}
	return bucket{objs, stream}
}

// holds waits until the bucket holds the objects of the ids in want,
// their bytes and thumbnails, and nothing else: no other object, and no
// chunk of bytes beyond theirs (what erasure must leave none of). A
// listing may come from a replica a moment behind, hence the wait.
func (b bucket) holds(t *testing.T, what string, want ...string) {
	t.Helper()
	seen := ""
	testpoll.Until(t, "the bucket to hold "+what, func() bool {
		list, err := b.objs.List(context.Background())
		if err != nil && !errors.Is(err, jetstream.ErrNoObjectsFound) {
			t.Fatal(err)
		}
		var names []string
		chunks := uint64(0)
		for _, o := range list {
			names = append(names, o.Name)
			chunks += uint64(o.Chunks)
		}
		info, err := b.stream.Info(context.Background(), jetstream.WithSubjectFilter("$O.DUPLEX_FILES.C.>"))
		if err != nil {
			t.Fatal(err)
		}
		stored := uint64(0)
		for _, c := range info.State.Subjects {
			stored += c
		}
		seen = fmt.Sprintf("objects %v, %d chunks stored for %d listed", names, stored, chunks)
		if len(names) != 2*len(want) || stored != chunks {
			return false
		}
		for _, id := range want {
			n := 0
			for _, name := range names {
				if strings.HasPrefix(name, id+".") {
					n++
				}
			}
			if n != 2 {
				return false
			}
		}
		return true
	}, func() string { return seen })
}

// TestFilesAcrossNodes: a PNG stored through node A's store is served by
// node B's with the same bytes, thumbnail and Info as files.Dir gives it
// (a Range request included); a retried upload through B names the same
// image and stores nothing new; Remove through B erases it: A no longer
// finds it, and no chunk of its bytes is left in JetStream.
func TestFilesAcrossNodes(t *testing.T) {
	fa, fb, bk := twoNodesFiles(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	data := testPNG(t, 640, 480, 0)
	up := files.Upload{User: "u-ann", Room: "secret", Name: "plan.png", Data: data}
	info, err := fa.Put(ctx, up)
	if err != nil {
		t.Fatal(err)
	}
	dir, err := files.OpenDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	want, err := dir.Put(ctx, up)
	if err != nil {
		t.Fatal(err)
	}
	wantThumb, _, err := readAll(dir, want.ID, true)
	if err != nil {
		t.Fatal(err)
	}
	info.Created, want.Created = 0, 0
	if info != want {
		t.Fatalf("Info through A\n%+v\nfiles.Dir gives\n%+v", info, want)
	}

	var got, thumb []byte
	var infoB files.Info
	testpoll.Until(t, "node B to serve the image A stored", func() bool {
		got, infoB, err = readAll(fb, info.ID, false)
		return err == nil
	}, func() string { return fmt.Sprint(err) })
	if !bytes.Equal(got, data) {
		t.Errorf("B served %d bytes, not the %d uploaded", len(got), len(data))
	}
	if infoB.Room != "secret" || infoB.User != "u-ann" || infoB.ID != info.ID || infoB.SHA256 != info.SHA256 {
		t.Errorf("B's Info %+v, A's %+v", infoB, info)
	}
	if thumb, _, err = readAll(fb, info.ID, true); err != nil || !bytes.Equal(thumb, wantThumb) {
		t.Errorf("B's thumbnail (%d bytes, %v) is not files.Dir's (%d bytes)", len(thumb), err, len(wantThumb))
	}
	if i, ok, err := fb.Info(ctx, info.ID); err != nil || !ok || i.Room != "secret" {
		t.Errorf("B's Info: %+v %v %v", i, ok, err)
	}

	// A Range request through the HTTP handler seeks before reading.
	srv := httptest.NewServer(files.Handler("/files/", fb, nil))
	defer srv.Close()
	req, _ := http.NewRequest("GET", srv.URL+"/files/"+info.ID, nil)
	req.Header.Set("Range", "bytes=100-199")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	part, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusPartialContent || !bytes.Equal(part, data[100:200]) {
		t.Errorf("a Range request: %d, %d bytes, want 206 and bytes 100-199", resp.StatusCode, len(part))
	}

	bk.holds(t, "the upload", info.ID)
	again, err := fb.Put(ctx, up)
	if err != nil {
		t.Fatal(err)
	}
	if again.ID != info.ID || again.Created == 0 {
		t.Errorf("a retried upload through B: %+v, want id %s", again, info.ID)
	}
	bk.holds(t, "the upload, once, after its retry", info.ID)

	if err := fb.Remove(ctx, info.ID); err != nil {
		t.Fatal(err)
	}
	testpoll.Until(t, "node A to find the removed image no more", func() bool {
		_, _, err = readAll(fa, info.ID, false)
		return errors.Is(err, fs.ErrNotExist)
	}, func() string { return fmt.Sprint(err) })
	if _, ok, err := fa.Info(ctx, info.ID); ok || err != nil {
		t.Errorf("A's Info after Remove: %v %v", ok, err)
	}
	bk.holds(t, "nothing after Remove")
	if err := fa.Remove(ctx, info.ID); err != nil {
		t.Errorf("removing a removed image: %v", err)
	}
}

// TestFilesRefuseAsDir: what files.Dir refuses (not an image, too many
// bytes, too many pixels, a broken body) the cluster's store refuses with
// the same *shared.Error, and stores nothing.
func TestFilesRefuseAsDir(t *testing.T) {
	nc := natsCluster(t)
	f := nodeFiles(t, nc, "a")
	bk := openBucket(t, nc)
	dir, err := files.OpenDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	good := testPNG(t, 40, 30, 0)
	huge := bytes.Clone(good) // its IHDR rewritten to 10000×10000 pixels
	binary.BigEndian.PutUint32(huge[16:], 10000)
	binary.BigEndian.PutUint32(huge[20:], 10000)
	binary.BigEndian.PutUint32(huge[29:], crc32.ChecksumIEEE(huge[12:29]))
	for name, tc := range map[string]struct {
		data []byte
		code shared.Code
	}{
		"text":      {[]byte("<html><script>alert(1)</script></html>"), shared.CodeInvalid},
		"oversized": {append(bytes.Clone(good), make([]byte, shared.MaxImageBytes)...), shared.CodeTooLarge},
		"pixels":    {huge, shared.CodeTooLarge},
		"truncated": {good[:len(good)/2], shared.CodeInvalid},
		"empty":     {nil, shared.CodeInvalid},
	} {
		up := files.Upload{User: "u", Room: "r", Name: name, Data: tc.data}
		_, derr := dir.Put(context.Background(), up)
		_, ferr := f.Put(context.Background(), up)
		var dse, fse *shared.Error
		if !errors.As(derr, &dse) || !errors.As(ferr, &fse) || *dse != *fse || fse.Code != tc.code {
			t.Errorf("%s: files.Dir says %v, the cluster's store %v; want code %s", name, derr, ferr, tc.code)
		}
	}
	bk.holds(t, "nothing after refusals")
}

// TestFilesSweep: RemoveUnused through node A removes the uploads no
// message used, their objects with them, and keeps those B marked used.
// Then MarkUsed on B races sweeps on A: every image MarkUsed reported
// used is still served.
func TestFilesSweep(t *testing.T) {
	fa, fb, bk := twoNodesFiles(t)
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()

	put := func(name string, seed uint8) files.Info {
		t.Helper()
		info, err := fa.Put(ctx, files.Upload{User: "u", Room: "r", Name: name, Data: testPNG(t, 60, 40, seed)})
		if err != nil {
			t.Fatal(err)
		}
		return info
	}
	unused, used := put("unused.png", 1), put("used.png", 2)
	testpoll.Until(t, "B to mark the image used", func() bool {
		_, ok, err := fb.MarkUsed(ctx, used.ID)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	})
	// A cutoff in the past removes nothing.
	if removed, freed, err := fa.RemoveUnused(ctx, time.Now().Add(-time.Hour)); removed != 0 || freed != 0 || err != nil {
		t.Fatalf("a sweep of nothing old: %d %d %v", removed, freed, err)
	}
	total, freedAll := 0, int64(0)
	testpoll.Until(t, "a sweep through A to remove the unused upload", func() bool {
		removed, freed, err := fa.RemoveUnused(ctx, time.Now().Add(time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		total, freedAll = total+removed, freedAll+freed
		return total == 1
	})
	if freedAll < unused.Size {
		t.Errorf("the sweep freed %d bytes, less than the upload's %d", freedAll, unused.Size)
	}
	testpoll.Until(t, "B to find the swept upload no more", func() bool {
		_, ok, err := fb.Info(ctx, unused.ID)
		return err == nil && !ok
	})
	if _, _, err := readAll(fb, used.ID, false); err != nil {
		t.Errorf("the used image after the sweep: %v", err)
	}
	bk.holds(t, "the used image only, after the sweep", used.ID)

	// MarkUsed on B against sweeps on A.
	var imgs []files.Info
	for i := range 12 {
		imgs = append(imgs, put(fmt.Sprintf("race%d.png", i), uint8(10+i)))
	}
	var marked sync.Map
	done := make(chan struct{})
	go func() {
		defer close(done)
		for _, img := range imgs {
			if _, ok, err := fb.MarkUsed(ctx, img.ID); err == nil && ok {
				marked.Store(img.ID, true)
			}
		}
	}()
	for sweeping := true; sweeping; {
		select {
		case <-done:
			sweeping = false
		default:
		}
		if _, _, err := fa.RemoveUnused(ctx, time.Now().Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	marked.Range(func(id, _ any) bool {
		if _, _, err := readAll(fa, id.(string), true); err != nil {
			t.Errorf("%s was marked used, then: %v", id, err)
		}
		return true
	})
}
