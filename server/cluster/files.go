package cluster

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/duplex-chat/duplex/server/files"
)

// Files is the image store of a cluster: an image uploaded through one
// node is served by every other (issue #16). It is a files.Store,
// files.Remover and files.Sweeper with files.Dir's semantics, and checks
// and thumbnails uploads with Dir's code (files.Check, files.Decoders);
// only where bytes and records are kept differs.
//
// They are kept in JetStream, on the NATS servers the room log already
// lives on, with the log's replication (Config.Replicas): an object store
// bucket holds the bytes and thumbnails, a key-value bucket of the same
// name one record (files.Info) per upload id. So the images are shared
// by every node and survive the loss of a NATS server as the log does,
// with no other service to run (no S3, no shared file system), and the
// record's revision orders what nodes do to one upload at once: a sweep
// removes a record only at the revision it found unused, so an image a
// message on another node just used (MarkUsed, an update of the record)
// is never swept.
//
// Each record owns its objects, named by the upload id and a random
// suffix written into the record: content is not shared between uploads,
// unlike Dir's blobs. Sharing it across nodes would need a lock between
// "these bytes are stored already" and "their last reference is gone";
// owned objects need none, and a retried upload (the same id) still
// stores nothing new. The cost is a copy per id of the same bytes
// uploaded by other users, to other rooms or under other names, which
// the upload quotas bound. Remove deletes the objects (the object store
// purges their chunks from every replica) before the record, so an
// erased image's bytes go first. As with Dir, a node that dies between
// writing an upload's objects and its record leaves the objects behind.
//
// Reads (Info, Open) may be served by any replica (JetStream's direct
// get), so a node may see a record some milliseconds after another
// wrote it; what decides (MarkUsed, a sweep's purge, Remove) compares
// revisions at the stream's leader.
//
// Open fetches an image's bytes from JetStream on the first Read, whole
// (at most shared.MaxImageBytes): a refused, conditional or HEAD request
// moves nothing across the cluster.
type Files struct {
	objs     jetstream.ObjectStore
	recs     jetstream.KeyValue
	decoding files.Decoders
}

var (
	_ files.Sweeper = (*Files)(nil)
	_ files.Remover = (*Files)(nil)
)

// thumbSuffix ends the name of a thumbnail's object.
const thumbSuffix = ".thumb"

// Files opens the cluster's image store on n's connection, creating its
// buckets (Config.Files) with the log's replication.
func (n *Node) Files(ctx context.Context) (*Files, error) {
	name, disk, r := n.cfg.Files, jetstream.FileStorage, n.cfg.Replicas
	objs, err := ensure(ctx, n, name, func(ctx context.Context) (jetstream.ObjectStore, error) {
		return n.js.CreateOrUpdateObjectStore(ctx, jetstream.ObjectStoreConfig{Bucket: name, Storage: disk, Replicas: r,
			Description: "Duplex: the bytes and thumbnails of uploaded images"})
	})
	if err != nil {
		return nil, fmt.Errorf("cluster: object store %s: %w", name, err)
	}
	recs, err := ensure(ctx, n, name, func(ctx context.Context) (jetstream.KeyValue, error) {
		return n.js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: name, Storage: disk, Replicas: r,
			Description: "Duplex: one record per uploaded image"})
	})
	if err != nil {
		return nil, fmt.Errorf("cluster: key-value bucket %s: %w", name, err)
	}
	return &Files{objs: objs, recs: recs, decoding: files.NewDecoders(files.DefaultDecoders)}, nil
}

// fileRecord is what the key-value bucket holds for an upload id.
type fileRecord struct {
	Info files.Info `json:"info"`
	// Object names the upload's bytes; its thumbnail is Object+thumbSuffix.
	Object string `json:"object"`
}

// Put implements files.Store.
func (f *Files) Put(ctx context.Context, u files.Upload) (files.Info, error) {
	info, err := files.Check(u)
	if err != nil {
		return files.Info{}, err
	}
	if old, ok, err := f.Info(ctx, info.ID); err != nil || ok {
		return old, err // a retry: stored already
	}
	thumb, err := f.decoding.Thumbnail(ctx, u.Data, info.Type)
	if err != nil {
		return files.Info{}, err
	}
	rec := fileRecord{Info: info, Object: info.ID + "." + rand.Text()}
	// The thumbnail before the bytes, both before the record: a record
	// never names an object that is not there.
	if _, err := f.objs.PutBytes(ctx, rec.Object+thumbSuffix, thumb); err != nil {
		return files.Info{}, unavailable(err)
	}
	if _, err := f.objs.PutBytes(ctx, rec.Object, u.Data); err != nil {
		f.deleteObjects(ctx, rec.Object) // the thumbnail
		return files.Info{}, unavailable(err)
	}
	rec.Info.Created = time.Now().UnixMilli()
	b, err := json.Marshal(rec)
	if err != nil {
		return files.Info{}, err
	}
	if _, err = f.recs.Create(ctx, info.ID, b); err != nil {
		f.deleteObjects(ctx, rec.Object)
		if errors.Is(err, jetstream.ErrKeyExists) {
			// The same upload, retried through another node, came first.
			if old, ok, err := f.Info(ctx, info.ID); err != nil || ok {
				return old, err
			}
		}
		return files.Info{}, unavailable(err)
	}
	return rec.Info, nil
}

// record returns id's record and its revision; ok is false for an
// unknown id.
func (f *Files) record(ctx context.Context, id string) (rec fileRecord, rev uint64, ok bool, err error) {
	if !files.ValidImageID(id) {
		return fileRecord{}, 0, false, nil
	}
	e, err := f.recs.Get(ctx, id)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return fileRecord{}, 0, false, nil
	}
	if err != nil {
		return fileRecord{}, 0, false, unavailable(err)
	}
	if err := json.Unmarshal(e.Value(), &rec); err != nil || rec.Info.ID != id || len(rec.Info.SHA256) != 64 || !strings.HasPrefix(rec.Object, id+".") {
		return fileRecord{}, 0, false, fmt.Errorf("files: %s: corrupt metadata", id)
	}
	return rec, e.Revision(), true, nil
}

// Info implements files.Store.
func (f *Files) Info(ctx context.Context, id string) (files.Info, bool, error) {
	rec, _, ok, err := f.record(ctx, id)
	return rec.Info, ok, err
}

// Open implements files.Store.
func (f *Files) Open(ctx context.Context, id string, thumb bool) (io.ReadSeekCloser, files.Info, error) {
	rec, _, ok, err := f.record(ctx, id)
	if err != nil {
		return nil, files.Info{}, err
	}
	if !ok {
		return nil, files.Info{}, fs.ErrNotExist
	}
	name := rec.Object
	if thumb {
		name += thumbSuffix
	}
	oi, err := f.objs.GetInfo(ctx, name)
	if errors.Is(err, jetstream.ErrObjectNotFound) {
		return nil, files.Info{}, fs.ErrNotExist // removed meanwhile
	}
	if err != nil {
		return nil, files.Info{}, unavailable(err)
	}
	return &object{size: int64(oi.Size), load: func() ([]byte, error) { return f.objs.GetBytes(ctx, name) }}, rec.Info, nil
}

// object is an object's bytes, fetched whole on the first Read.
type object struct {
	size int64
	off  int64 // the offset Seek set before the first Read
	load func() ([]byte, error)
	r    *bytes.Reader
}

func (o *object) Read(p []byte) (int, error) {
	if o.r == nil {
		b, err := o.load()
		if err != nil {
			return 0, unavailable(err)
		}
		o.r = bytes.NewReader(b)
		if _, err := o.r.Seek(o.off, io.SeekStart); err != nil {
			return 0, err
		}
	}
	return o.r.Read(p)
}

func (o *object) Seek(offset int64, whence int) (int64, error) {
	if o.r != nil {
		return o.r.Seek(offset, whence)
	}
	switch whence {
	case io.SeekCurrent:
		offset += o.off
	case io.SeekEnd:
		offset += o.size
	}
	if offset < 0 {
		return 0, errors.New("cluster: seek before the start of an object")
	}
	o.off = offset
	return offset, nil
}

func (o *object) Close() error {
	o.r = nil
	return nil
}

// MarkUsed implements files.Sweeper: the record is updated once, at the
// revision read, with Used set.
func (f *Files) MarkUsed(ctx context.Context, id string) (files.Info, bool, error) {
	for {
		rec, rev, ok, err := f.record(ctx, id)
		if err != nil || !ok || rec.Info.Used != 0 {
			return rec.Info, ok, err
		}
		rec.Info.Used = time.Now().UnixMilli()
		b, err := json.Marshal(rec)
		if err != nil {
			return files.Info{}, false, err
		}
		_, err = f.recs.Update(ctx, id, b, rev)
		if errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
			continue // changed or removed meanwhile: look again
		}
		if err != nil {
			return files.Info{}, false, unavailable(err)
		}
		return rec.Info, true, nil
	}
}

// Remove implements files.Remover: the objects first, then the record at
// the revision whose objects were deleted.
func (f *Files) Remove(ctx context.Context, id string) error {
	for {
		rec, rev, ok, err := f.record(ctx, id)
		if err != nil || !ok {
			return err
		}
		if _, err := f.deleteObjects(ctx, rec.Object); err != nil {
			return err
		}
		err = f.recs.Purge(ctx, id, jetstream.LastRevision(rev))
		if errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
			continue // marked used, or removed and uploaded again, meanwhile
		}
		if err != nil {
			return unavailable(err)
		}
		return nil
	}
}

// deleteObjects deletes an upload's bytes and thumbnail and returns the
// bytes they held; a missing one is no error.
func (f *Files) deleteObjects(ctx context.Context, object string) (freed int64, err error) {
	for _, name := range []string{object, object + thumbSuffix} {
		oi, err := f.objs.GetInfo(ctx, name)
		if errors.Is(err, jetstream.ErrObjectNotFound) {
			continue
		}
		if err == nil {
			err = f.objs.Delete(ctx, name)
		}
		if err != nil && !errors.Is(err, jetstream.ErrObjectNotFound) {
			return freed, unavailable(err)
		}
		freed += int64(oi.Size)
	}
	return freed, nil
}

// RemoveUnused implements files.Sweeper. Every node's server runs it;
// they agree by the records' revisions: each record never used and
// created before cutoff is purged at the revision read (a MarkUsed in
// between makes the purge fail, and the record stays), then its objects
// are deleted.
func (f *Files) RemoveUnused(ctx context.Context, cutoff time.Time) (removed int, freed int64, err error) {
	w, err := f.recs.WatchAll(ctx, jetstream.IgnoreDeletes())
	if err != nil {
		return 0, 0, unavailable(err)
	}
	defer w.Stop()
	for {
		var e jetstream.KeyValueEntry
		select {
		case e = <-w.Updates():
		case <-ctx.Done():
			return removed, freed, ctx.Err()
		}
		if e == nil {
			return removed, freed, nil // every record is seen
		}
		var rec fileRecord
		if err := json.Unmarshal(e.Value(), &rec); err != nil || rec.Info.Used != 0 || rec.Info.Created >= cutoff.UnixMilli() {
			continue // a corrupt record is left for a person to look at
		}
		err := f.recs.Purge(ctx, e.Key(), jetstream.LastRevision(e.Revision()))
		if errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
			continue // changed meanwhile: the next sweep looks again
		}
		if err != nil {
			return removed, freed, unavailable(err)
		}
		removed++
		n, err := f.deleteObjects(ctx, rec.Object)
		freed += n
		if err != nil {
			return removed, freed, err
		}
	}
}

func unavailable(err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return fmt.Errorf("%w: %v", ErrUnavailable, err)
}
