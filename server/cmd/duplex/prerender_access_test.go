package main

import (
	"context"
	"encoding/base64"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/duplex-chat/duplex/app/ui"
	"github.com/duplex-chat/duplex/server/store"
	"github.com/duplex-chat/duplex/shared"
)

// prerenderedPage GETs a room page as a browser without credentials would
// and returns its HTML with the base64 hand-over data decoded and appended.
func prerenderedPage(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d, %v", url, resp.StatusCode, err)
	}
	page := string(b)
	for _, m := range regexp.MustCompile(`data-messages="([^"]*)"`).FindAllStringSubmatch(page, -1) {
		if raw, err := base64.StdEncoding.DecodeString(m[1]); err == nil {
			page += "\n" + string(raw)
		}
	}
	return page
}

// TestPrerenderPrivateRooms (#7): a GET without a credential cookie of a
// private room's or a DM's page, by its plain, escaped or query-laden path,
// or of "/" when the default room is private, prerenders none of its
// messages (neither as rows nor in the base64 hand-over); a public room's
// page still does.
func TestPrerenderPrivateRooms(t *testing.T) {
	ta := startApp(t, "", "")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st := ta.app.store
	for _, meta := range []store.RoomMeta{
		{Name: "design", Kind: shared.RoomPrivate, Owner: "u-ann"},
		{Name: "dm-0123abcd", Kind: shared.RoomDM, Users: []string{"u-ann", "u-bob"}},
		{Name: "open", Kind: shared.RoomPublic},
		{Name: ui.DefaultRoom, Kind: shared.RoomPrivate, Owner: "u-ann"}, // taken private before anyone joined it
	} {
		if _, _, err := st.CreateRoom(ctx, meta); err != nil {
			t.Fatal(err)
		}
	}
	ann := shared.Member{User: "u-ann", Nick: "ann"}
	now := time.Now().UnixMilli()
	if _, err := st.Append(ctx, []store.NewMessage{
		{Room: "design", MsgID: "p-1", Author: ann, Body: "privatesecretwords", TS: now},
		{Room: "dm-0123abcd", MsgID: "d-1", Author: ann, Body: "directsecretwords", TS: now},
		{Room: "open", MsgID: "o-1", Author: ann, Body: "publicwordshere", TS: now},
		{Room: ui.DefaultRoom, MsgID: "g-1", Author: ann, Body: "defaultroomsecret", TS: now},
	}); err != nil {
		t.Fatal(err)
	}
	if page := prerenderedPage(t, ta.URL+"/r/open"); !strings.Contains(page, "publicwordshere") {
		t.Fatalf("the public room's page does not prerender its message (so this test could not see a leak)")
	}
	for path, secret := range map[string]string{
		"/r/design":            "privatesecretwords",
		"/r/%64esign":          "privatesecretwords", // escaped
		"/r/design?private=0":  "privatesecretwords",
		"/r/dm-0123abcd":       "directsecretwords",
		"/":                    "defaultroomsecret", // the default room's page
		"/r/" + ui.DefaultRoom: "defaultroomsecret",
	} {
		page := prerenderedPage(t, ta.URL+path)
		if strings.Contains(page, secret) || strings.Contains(page, "u-ann") {
			t.Errorf("GET %s prerenders the private room's messages", path)
		}
	}
}
