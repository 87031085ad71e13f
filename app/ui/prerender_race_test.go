//go:build !js

// The server prerenders pages natively; the bundle has no app.Handler.

package ui

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/duplex-chat/duplex/shared"
	"github.com/maxence-charriere/go-app/v10/pkg/app"
)

// roomsHistory serves every room's latest messages from memory: the
// server binary's HistorySource reads the store, which app/ may not import.
type roomsHistory struct{}

func (roomsHistory) Recent(ctx context.Context, room string, n int) ([]shared.Message, error) {
	msgs := make([]shared.Message, 30)
	for i := range msgs {
		msgs[i] = shared.Message{Room: room, Seq: int64(i + 1), MsgID: room + strconv.Itoa(i), Kind: shared.KindMessage,
			TS: 1_700_000_000_000 + int64(i)*1000, Author: shared.Member{User: "u" + strconv.Itoa(i%3), Nick: "n" + strconv.Itoa(i%3)},
			Body: "in " + room + " **bold** `code` https://example.com/" + strconv.Itoa(i) + " @n1"}
	}
	return msgs, nil
}

// TestPrerenderConcurrentPages: go-app prerenders each page on the
// server on the goroutine of its request, so pages render concurrently.
// Run under -race (go test -race -run TestPrerenderConcurrentPages
// ./app/ui/) it fails on any state two renders share: with the model and
// the mention set of the message list in package variables (before issue
// #18) the detector reported the race on the second concurrent GET. It
// also checks each page shows its own room's messages and none of the
// other's (bad input: two rooms whose bodies differ only by the room name,
// fetched 8 at a time).
func TestPrerenderConcurrentPages(t *testing.T) {
	Routes()
	SetHistorySource(roomsHistory{})
	srv := httptest.NewServer(&app.Handler{Name: "Duplex", Title: "Duplex chat"})
	defer srv.Close()
	rooms := []string{"alpha", "beta"}
	var wg sync.WaitGroup
	errs := make(chan string, 16)
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func(room, other string) {
			defer wg.Done()
			res, err := http.Get(srv.URL + RoomPath(room))
			if err != nil {
				errs <- err.Error()
				return
			}
			defer res.Body.Close()
			b, _ := io.ReadAll(res.Body)
			page := string(b)
			if res.StatusCode != http.StatusOK || !strings.Contains(page, "in "+room+" ") || strings.Contains(page, "in "+other+" ") {
				errs <- room + ": status " + res.Status + ", page does not show its own room alone"
			}
		}(rooms[i%2], rooms[(i+1)%2])
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}
