package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/duplex-chat/duplex/app/ui"
	"github.com/duplex-chat/duplex/server"
	"github.com/duplex-chat/duplex/server/store"
	"github.com/duplex-chat/duplex/shared"
)

// handOver GETs a room page, with a credential cookie when token is not
// empty, and returns the page's size and the messages of its base64
// hand-over data.
func handOver(t *testing.T, url, token string) (int, []shared.Message) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if token != "" {
		req.AddCookie(&http.Cookie{Name: tokenCookie, Value: token})
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d, %v", url, resp.StatusCode, err)
	}
	m := regexp.MustCompile(`data-messages="([^"]*)"`).FindSubmatch(b)
	if m == nil {
		t.Fatalf("GET %s: no hand-over data", url)
	}
	raw, err := base64.StdEncoding.DecodeString(string(m[1]))
	var p struct{ Messages []shared.Message }
	if err != nil || json.Unmarshal(raw, &p) != nil {
		t.Fatalf("GET %s: hand-over data %q: %v", url, raw, err)
	}
	return len(b), p.Messages
}

// TestPrerenderReactions (#14): a room page carries each message's
// reactions as counts, marks the reader's own (the user of the credential
// cookie; a duplex_viewer parameter in the URL is ignored), and holds
// the newest messages that fit its byte budget, not all of them.
func TestPrerenderReactions(t *testing.T) {
	const key = "prerender-reactions-key"
	ta := startAppWith(t, config{sessionKey: key, limits: limitFlags{off: true}})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st := ta.app.store
	ann := shared.Member{User: "u-ann", Nick: "ann"}
	now := time.Now().UnixMilli()
	batch := []store.NewMessage{{Room: "open", MsgID: "m-1", Author: ann, Body: "react to me", TS: now}}
	for i := range 30 {
		batch = append(batch, store.NewMessage{Room: "open", MsgID: fmt.Sprintf("r-%d", i), Author: shared.Member{User: fmt.Sprintf("u-%02d", i), Nick: "x"},
			TS: now, Kind: shared.KindReact, Target: 1, Emoji: "👍"})
	}
	batch = append(batch, store.NewMessage{Room: "open", MsgID: "r-ann", Author: ann, TS: now, Kind: shared.KindReact, Target: 1, Emoji: "🎉"})
	if _, err := st.Append(ctx, batch); err != nil {
		t.Fatal(err)
	}
	token, _ := server.IssueSessionToken([]byte(key), ann.User, time.Now(), time.Hour)
	// The page names only the first three of the thirty who reacted.
	thumbs, party := []string{"u-00", "u-01", "u-02"}, []string{ann.User}
	for _, c := range []struct {
		what, path, token string
		want              []shared.Reaction
	}{
		{"without a cookie", "/r/open", "", []shared.Reaction{{Emoji: "👍", Count: 30, Users: thumbs}, {Emoji: "🎉", Count: 1, Users: party}}},
		{"as Ann", "/r/open", token, []shared.Reaction{{Emoji: "👍", Count: 30, Users: thumbs}, {Emoji: "🎉", Count: 1, Me: true, Users: party}}},
		{"claiming to be Ann in the URL", "/r/open?" + ui.ViewerParam + "=u-ann", "", []shared.Reaction{{Emoji: "👍", Count: 30, Users: thumbs}, {Emoji: "🎉", Count: 1, Users: party}}},
		{"as Ann with a forged token", "/r/open", token + "x", []shared.Reaction{{Emoji: "👍", Count: 30, Users: thumbs}, {Emoji: "🎉", Count: 1, Users: party}}},
		{"as u-00, with u-ann in the URL", "/r/open?" + ui.ViewerParam + "=u-ann", mustToken(key, "u-00"), []shared.Reaction{{Emoji: "👍", Count: 30, Me: true, Users: thumbs}, {Emoji: "🎉", Count: 1, Users: party}}},
	} {
		_, msgs := handOver(t, ta.URL+c.path, c.token)
		if len(msgs) != 1 || !reflect.DeepEqual(msgs[0].Reactions, c.want) {
			t.Errorf("%s: %+v, want one message with %+v", c.what, msgs, c.want)
		}
	}

	// 200 messages of 4,000 runes: the page holds the newest that fit
	// 64 KiB (as JSON), not 50 of them (~600 KiB twice over).
	var long []store.NewMessage
	for i := range 200 {
		long = append(long, store.NewMessage{Room: "long", MsgID: fmt.Sprintf("l-%d", i), Author: ann, TS: now,
			Body: fmt.Sprintf("%03d ", i) + strings.Repeat("é", shared.MaxBodyRunes-4)})
	}
	if _, err := st.Append(ctx, long); err != nil {
		t.Fatal(err)
	}
	size, msgs := handOver(t, ta.URL+"/r/long", "")
	if len(msgs) == 0 || len(msgs) >= shared.DefaultRecent || msgs[len(msgs)-1].Seq != 200 {
		t.Fatalf("the page prerenders %d messages, want the newest few (the last seq 200)", len(msgs))
	}
	b, _ := json.Marshal(msgs)
	if len(b) > ui.DefaultPrerenderBytes || size > 4*ui.DefaultPrerenderBytes {
		t.Fatalf("the page is %d bytes with %d bytes of messages; the budget is %d", size, len(b), ui.DefaultPrerenderBytes)
	}
	t.Logf("page of 200 long messages: %d bytes, %d messages prerendered", size, len(msgs))
}

func mustToken(key, user string) string {
	token, _ := server.IssueSessionToken([]byte(key), user, time.Now(), time.Hour)
	return token
}
