package client

import (
	"reflect"
	"testing"
)

// TestOutboxSnapshotNeverChanges: Outbox shares the client's array, so
// nothing the client does afterwards may write into what it returned:
// appends past it, removals at the front and in the middle, and a merge
// of another tab's older entries that reorders the outbox (it sorts).
func TestOutboxSnapshotNeverChanges(t *testing.T) {
	c := &Client{outbox: make([]Pending, 0, 16)} // room to grow in place
	for i, id := range []string{"m1", "m2", "m3"} {
		c.outbox = append(c.outbox, Pending{Room: "r", MsgID: id, TS: int64(10 + i), N: int64(i + 1)})
	}
	snap := c.Outbox()
	want := append([]Pending(nil), snap...)
	c.outbox = append(c.outbox, Pending{Room: "r", MsgID: "m4", TS: 20, N: 4})
	c.mergeOutboxLocked([]Pending{{Room: "r", MsgID: "other", TS: 1, N: 1}}) // sorts to the front
	if c.outbox[0].MsgID != "other" {
		t.Fatalf("merge did not sort: %+v", c.outbox)
	}
	c.outbox = c.outbox[:2:2] // a removal in the middle appends onto a cut array
	c.outbox = append(c.outbox, Pending{MsgID: "x"})
	if !reflect.DeepEqual(snap, want) {
		t.Fatalf("snapshot changed:\n got %+v\nwant %+v", snap, want)
	}
}
