//go:build !(js && wasm)

package main

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/duplex-chat/duplex/app/client"
	"github.com/duplex-chat/duplex/shared"
)

// searchAbuseConfig: seeders fill private rooms with long bodies of
// distinct words (a large full-text vocabulary), then S connections
// search it pathologically (one-letter prefix terms, as many as a query
// holds; when refused, the broadest query the server still takes),
// reconnecting when closed, while /readyz is polled.
type searchAbuseConfig struct {
	abuseConfig
	searchers, seeders, seedMsgs, seedSize int
}

// searchQueries are what a searcher cycles through: the pathological one
// first, then what an attacker falls back to when it is refused.
var searchQueries = []string{
	strings.TrimSpace(strings.Repeat("a ", 100)), // 100 one-letter prefixes
	"ab ac ad ae af ag ah ai aj ak al am",        // 12 two-letter prefixes
	"ab ac ad ae af ag",                          // 6
	"ab ac",
	"ab",
}

// searchStats adds up the searchers' answers.
type searchStats struct {
	abuserCounts
	ok      atomic.Int64
	mu      sync.Mutex
	codes   map[string]int // error code -> count
	slowest time.Duration  // longest search answered (ok or error)
}

func (cfg *searchAbuseConfig) run(out io.Writer) error {
	ctx, cancel := context.WithTimeout(context.Background(), cfg.timeout)
	defer cancel()
	t0 := time.Now()
	words, err := seedSearch(ctx, cfg)
	if err != nil {
		return err
	}
	seedTime := time.Since(t0)
	st := searchStats{codes: map[string]int{}}
	var ready readyzStats
	s, u, err := withBystanderWatched(cfg.abuseConfig, func(ctx context.Context) error {
		ctx, cancel := context.WithTimeout(ctx, cfg.duration)
		defer cancel()
		var wg sync.WaitGroup
		wg.Go(func() { ready.poll(ctx, readyzURL(cfg.url)) })
		for i := range cfg.searchers {
			wg.Go(func() { searcher(ctx, cfg, i, &st) })
		}
		wg.Wait()
		return nil
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "workload            search: %d connections searching pathologically (100 one-letter prefixes, falling back to broad two-letter ones), reconnecting when closed, for %v\n", cfg.searchers, cfg.duration)
	fmt.Fprintf(out, "seed                %d private rooms × %d messages of %d characters (~%d distinct words) in %v\n", cfg.seeders, cfg.seedMsgs, cfg.seedSize, words, seedTime.Round(time.Second))
	s.print(out)
	within := 0
	for _, l := range s.load {
		if l <= time.Second {
			within++
		}
	}
	fmt.Fprintf(out, "bystander           %d of %d sends acked within 1s under load (%.1f%%)\n", within, len(s.load)+s.lostL, 100*float64(within)/float64(max(len(s.load)+s.lostL, 1)))
	st.mu.Lock()
	fmt.Fprintf(out, "searchers           %d searches written, %d answered with results, errors by code %v; slowest answer %v; %s\n",
		st.written.Load(), st.ok.Load(), st.codes, st.slowest.Round(time.Millisecond), st.connections())
	st.mu.Unlock()
	ready.print(out)
	u.print(out, cpuShare(u.cpu, cfg.duration))
	return nil
}

// seedSearch fills cfg.seeders private rooms through real clients (which
// honour the send limit) and returns about how many distinct words went in.
func seedSearch(ctx context.Context, cfg *searchAbuseConfig) (int, error) {
	errs := make(chan error, cfg.seeders)
	for f := range cfg.seeders {
		go func() { errs <- seedPart(ctx, cfg, f) }()
	}
	var first error
	for range cfg.seeders {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	return cfg.seeders * cfg.seedMsgs * (cfg.seedSize / 8), first
}

func seedPart(ctx context.Context, cfg *searchAbuseConfig, f int) error {
	c, err := client.New(cfg.url, &client.Options{Nick: randomRoom(fmt.Sprintf("seeder%d", f)), CacheSize: -1, OnEvent: func(client.Event) {},
		HTTPClient: httpClientFor(22000+f, hostOf(cfg.url))})
	if err != nil {
		return err
	}
	defer c.Close()
	room := randomRoom("seed")
	for c.State() != client.StateOnline && ctx.Err() == nil {
		time.Sleep(20 * time.Millisecond)
	}
	if _, err := c.CreateRoom(ctx, room, shared.RoomPrivate); err != nil {
		return fmt.Errorf("seed: create: %w", err)
	}
	if err := c.Join(ctx, room); err != nil {
		return fmt.Errorf("seed: join: %w", err)
	}
	rng := rand.New(rand.NewPCG(uint64(f), uint64(time.Now().UnixNano())))
	for range cfg.seedMsgs {
		if _, err := c.Send(room, distinctWords(rng, cfg.seedSize)); err != nil {
			return fmt.Errorf("seed: %w", err)
		}
		// Keep the outbox short: the client paces itself by the acks.
		for len(c.Outbox()) > 60 && ctx.Err() == nil {
			time.Sleep(20 * time.Millisecond)
		}
	}
	for len(c.Outbox()) > 0 {
		if ctx.Err() != nil {
			return fmt.Errorf("seed: %d messages not acked", len(c.Outbox()))
		}
		time.Sleep(50 * time.Millisecond)
	}
	return nil
}

// distinctWords is n characters of random lower-case words of 5 to 9
// letters: nearly every word is new to the index.
func distinctWords(rng *rand.Rand, n int) string {
	b := make([]byte, 0, n)
	for len(b) < n-10 {
		for range 5 + rng.IntN(5) {
			b = append(b, byte('a'+rng.IntN(26)))
		}
		b = append(b, ' ')
	}
	return strings.TrimSpace(string(b))
}

// searcher is one abusive connection: it searches (one at a time, each
// query in turn, waiting 500ms when rate-limited) until ctx ends,
// reconnecting whenever it is closed.
func searcher(ctx context.Context, cfg *searchAbuseConfig, i int, st *searchStats) {
	redial(ctx, cfg.url, 23000+i, fmt.Sprintf("search-%d", i), "", func(c *rawConn, _ int) {
		st.connects.Add(1)
		for n := 0; ctx.Err() == nil; n++ {
			t0 := time.Now()
			_, err := c.call(ctx, shared.TypeSearch, &shared.Search{Query: searchQueries[n%len(searchQueries)], Limit: shared.MaxSearch})
			st.written.Add(1)
			if code := closeCode(err); code >= 0 {
				st.closes.add(code)
				return
			}
			if ctx.Err() != nil {
				return
			}
			st.mu.Lock()
			st.slowest = max(st.slowest, time.Since(t0))
			st.mu.Unlock()
			if err == nil {
				st.ok.Add(1)
				continue
			}
			pe, isProto := err.(*shared.Error)
			if !isProto {
				st.closes.add(-1)
				return
			}
			st.mu.Lock()
			st.codes[string(pe.Code)]++
			st.mu.Unlock()
			if pe.Code == shared.CodeRateLimited {
				// Wait out the limit (2/s): what reaches the store is then
				// as much as the limit lets through, and the connection is
				// never closed for ignoring it.
				select {
				case <-time.After(500 * time.Millisecond):
				case <-ctx.Done():
				}
			}
		}
	})
}

// readyzStats is what polling /readyz every 100ms saw.
type readyzStats struct {
	polls, notOK int
	slowest      time.Duration
}

func readyzURL(ws string) string {
	u := strings.Replace(ws, "ws://", "http://", 1)
	u = strings.Replace(u, "wss://", "https://", 1)
	return strings.TrimSuffix(u, "/ws") + "/readyz"
}

// poll asks url every 100ms until ctx ends; an answer other than 200
// within 2s counts as not ready.
func (r *readyzStats) poll(ctx context.Context, url string) {
	hc := &http.Client{Timeout: 2 * time.Second}
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for ctx.Err() == nil {
		t0 := time.Now()
		resp, err := hc.Get(url)
		if ctx.Err() != nil {
			return
		}
		r.polls++
		r.slowest = max(r.slowest, time.Since(t0))
		if err != nil || resp.StatusCode != http.StatusOK {
			r.notOK++
		}
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		select {
		case <-t.C:
		case <-ctx.Done():
		}
	}
}

func (r *readyzStats) print(w io.Writer) {
	fmt.Fprintf(w, "/readyz             %d polls, %d not 200 within 2s, slowest %v\n", r.polls, r.notOK, r.slowest.Round(time.Millisecond))
}
