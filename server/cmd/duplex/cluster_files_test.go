package main

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/duplex-chat/duplex/server/cluster/natsrun"
	"github.com/duplex-chat/duplex/shared/testpoll"
)

// TestClusterImagesOnAnyNode: two duplex processes on one NATS server
// (-nats-url, a shared -session-key). An image uploaded through A to a
// private room is served by B, bytes and thumbnail, to the room's member,
// and to no one else: 404 for an outsider and without a cookie, as on a
// single node.
func TestClusterImagesOnAnyNode(t *testing.T) {
	nc, err := natsrun.Start(t.TempDir(), 1)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Shutdown)
	node := func(name string) *testApp {
		return startAppWith(t, config{sessionKey: "one key for every node of the test", limits: limitFlags{off: true},
			cluster: clusterFlags{natsURL: nc.URL(), replicas: 1, name: name}})
	}
	a, b := node("a"), node("b")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	ann := privateRoomMember(t, ctx, a.WS, "Ann", "secret")
	bob, _ := imageClient(t, ctx, b.WS, "Bob")
	data := testPNG(t, 300, 200)
	img, err := ann.Upload(ctx, "secret", "plan.png", data)
	if err != nil {
		t.Fatal(err)
	}

	for _, suffix := range []string{"", "/thumb"} {
		url := b.URL + "/files/" + img.ID + suffix
		var status int
		var body []byte
		testpoll.Until(t, "node B to serve "+img.ID+suffix+" to the member", func() bool {
			resp, b := fetchFile(t, "GET", url, ann.Token())
			status, body = resp.StatusCode, b
			return status == 200
		}, func() string { return fmt.Sprintf("%d %q", status, body) })
		if suffix == "" && !bytes.Equal(body, data) {
			t.Errorf("B served %d bytes, not the %d uploaded through A", len(body), len(data))
		}
		if suffix != "" && !bytes.HasPrefix(body, []byte("\x89PNG")) {
			t.Errorf("B's thumbnail is not a PNG: %q", body[:min(len(body), 16)])
		}
		for who, token := range map[string]string{"no cookie": "", "the outsider's cookie": bob.Token()} {
			if resp, body := fetchFile(t, "GET", url, token); resp.StatusCode != 404 || bytes.Contains(body, []byte("\x89PNG")) {
				t.Errorf("%s with %s from B: %d", img.ID+suffix, who, resp.StatusCode)
			}
		}
	}
}
