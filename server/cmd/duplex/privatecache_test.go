package main

import (
	"context"
	"encoding/base64"
	"strings"
	"testing"
	"time"
)

// TestPrivatePagesNotSharedCached (issue #15): the prerendered page of a
// private room is sent with "Cache-Control: private, no-store", "Vary:
// Cookie" and no ETag, whoever asks (no cookie, a forged one, an
// outsider's, the member's), for GET and HEAD. "/" (the public default
// room) and a public room keep go-app's headers (an ETag, no no-store).
// The member's page carries the room's message (in the rows or the
// base64 hand-over) and the others' do not, so the headers guard a real
// difference.
func TestPrivatePagesNotSharedCached(t *testing.T) {
	ta := startApp(t, "", "")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	ann, _ := imageClient(t, ctx, ta.WS, "Ann")
	bob, _ := imageClient(t, ctx, ta.WS, "Bob")
	if _, err := ann.CreateRoom(ctx, "design", "private"); err != nil {
		t.Fatal(err)
	}
	if err := ann.Join(ctx, "design"); err != nil {
		t.Fatal(err)
	}
	if _, err := ann.SendWait(ctx, "design", "privateplanxyz"); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ who, token string }{{"no cookie", ""}, {"a forged cookie", "s.forged"}, {"an outsider", bob.Token()}, {"the member", ann.Token()}} {
		for _, method := range []string{"GET", "HEAD"} {
			resp, body := fetchFile(t, method, ta.URL+"/r/design", c.token)
			h := resp.Header
			if resp.StatusCode != 200 || h.Get("Cache-Control") != "private, no-store" || !strings.Contains(strings.Join(h.Values("Vary"), ","), "Cookie") || h.Get("ETag") != "" {
				t.Errorf("%s /r/design with %s: %d, Cache-Control %q, Vary %q, ETag %q; want private, no-store, Vary Cookie, no ETag",
					method, c.who, resp.StatusCode, h.Get("Cache-Control"), h.Values("Vary"), h.Get("ETag"))
			}
			if method == "GET" {
				page := string(body)
				for _, m := range prerenderAttr.FindAllStringSubmatch(page, -1) {
					raw, _ := base64.StdEncoding.DecodeString(m[1])
					page += string(raw)
				}
				member := strings.Contains(page, "privateplanxyz")
				if member != (c.who == "the member") {
					t.Errorf("GET /r/design with %s: message prerendered = %v", c.who, member)
				}
			}
		}
	}
	for _, path := range []string{"/", "/r/lobby"} {
		resp, _ := fetchFile(t, "GET", ta.URL+path, ann.Token())
		if cc := resp.Header.Get("Cache-Control"); resp.StatusCode != 200 || strings.Contains(cc, "no-store") || resp.Header.Get("ETag") == "" {
			t.Errorf("public %s: %d, Cache-Control %q, ETag %q; want go-app's headers", path, resp.StatusCode, cc, resp.Header.Get("ETag"))
		}
	}
}
