//go:build !(js && wasm)

package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/duplex-chat/duplex/shared"
)

// The reactions workload (issue #14, point 4): R connections react to one
// message at a steady rate each: every other reaction with a new emoji
// (real ones, skin-tone and ZWJ sequences, and private-use code points),
// the others toggling one of a few common emoji on and off (traffic a cap
// on kinds of emoji does not stop), while a reading member of the room
// records the largest frame it gets and whether the server closed it. Afterwards a fresh join and the room's
// unauthenticated page show what the reactions cost a newcomer.

// reactionsConfig: reactors at rate reactions a second each.
type reactionsConfig struct {
	abuseConfig
	reactors int
	rate     float64
}

// reactStats adds up what the reactors saw.
type reactStats struct {
	abuserCounts
	acked   atomic.Int64
	mu      sync.Mutex
	refused map[shared.Code]int
}

// observerResult is what the reading member saw.
type observerResult struct {
	largest, bytes int64
	frames         int64
	code           int           // close code; 0 while still open
	after          time.Duration // when it was closed
}

// reactEmoji is reactor i's k-th emoji: one of three kinds in turn, each
// new to the message as long as the sets last.
func reactEmoji(i, k int) string {
	n := i*100_000 + k
	switch k % 3 {
	case 0: // private use: no emoji at all
		return string(rune(0xE000 + n%6400))
	case 1: // pictographs of the Miscellaneous Symbols and Pictographs block and on
		return string(rune(0x1F300 + n%0x300))
	default: // a hand with a skin tone, or a person at a laptop with one
		hands := []rune{0x1F44D, 0x1F44E, 0x1F44B, 0x1F44F, 0x1F64F, 0x1F590}
		tone := rune(0x1F3FB + n%5)
		if n%2 == 0 {
			return string([]rune{hands[n%len(hands)], tone})
		}
		return string([]rune{0x1F469, tone, 0x200D, 0x1F4BB})
	}
}

// commonEmoji are the emoji the reactors toggle.
var commonEmoji = []string{"👍", "❤️", "😂", "🎉", "🙏"}

func (cfg *reactionsConfig) run(out io.Writer) error {
	ctx, cancel := context.WithTimeout(context.Background(), cfg.timeout)
	defer cancel()
	room := randomRoom("react")
	author, err := dialAbuser(ctx, cfg.url, 22999, "react-author", room)
	if err != nil {
		return err
	}
	target, err := postOne(ctx, author, room)
	if err == nil { // the common emoji are in place before the attack: toggling them is never refused
		for i, e := range commonEmoji {
			if _, err = author.call(ctx, shared.TypeSend, &shared.Send{Room: room, MsgID: fmt.Sprintf("seed-%d", i), Kind: shared.KindReact, Target: target, Emoji: e}); err != nil {
				break
			}
		}
	}
	author.conn.CloseNow()
	if err != nil {
		return fmt.Errorf("reactions: post the target: %w", err)
	}
	st := reactStats{refused: map[shared.Code]int{}}
	var obs observerResult
	s, u, err := withBystanderWatched(cfg.abuseConfig, func(ctx context.Context) error {
		ctx, cancel := context.WithTimeout(ctx, cfg.duration)
		defer cancel()
		oc, err := dialAbuser(ctx, cfg.url, 22998, "react-observer", room)
		if err != nil {
			return fmt.Errorf("observer: %w", err)
		}
		odone := make(chan struct{})
		go func() { defer close(odone); obs = observe(oc, time.Now()) }()
		inParallel(cfg.reactors, func(i int) { reactor(ctx, cfg, i, room, target, &st) })
		<-ctx.Done()
		oc.conn.CloseNow()
		<-odone
		return nil
	})
	if err != nil {
		return err
	}
	fresh, ferr := freshJoinBytes(ctx, cfg.url, room)
	page, perr := pageBytes(ctx, cfg.url, room)

	fmt.Fprintf(out, "workload            reactions: %d connections each reacting %.0f/s to one message (every other one a new emoji: real, skin-tone/ZWJ or private-use; the rest toggling 5 common ones), beside a reading member, for %v\n",
		cfg.reactors, cfg.rate, cfg.duration)
	st.mu.Lock()
	fmt.Fprintf(out, "reactors            %d reacts written, %d acked, refused by code %v; %s\n",
		st.written.Load(), st.acked.Load(), st.refused, st.connections())
	st.mu.Unlock()
	state := "stayed connected"
	if obs.code != 0 {
		state = fmt.Sprintf("CLOSED with %d after %v", obs.code, obs.after.Round(100*time.Millisecond))
	}
	fmt.Fprintf(out, "reading member      largest frame %.1f KiB, %d frames, %.1f MiB in all; %s\n",
		float64(obs.largest)/1024, obs.frames, mib(obs.bytes), state)
	if ferr == nil && perr == nil {
		fmt.Fprintf(out, "newcomer            a fresh join reads %.1f KiB until its ack; the room's page /r/{room} is %.1f KiB\n", float64(fresh)/1024, float64(page)/1024)
	} else {
		fmt.Fprintf(out, "newcomer            fresh join: %v; page: %v\n", ferr, perr)
	}
	u.print(out, cpuShare(u.cpu, cfg.duration))
	s.print(out)
	return nil
}

// postOne sends one message and returns its seq from the ack.
func postOne(ctx context.Context, c *rawConn, room string) (int64, error) {
	id, err := c.write(ctx, shared.TypeSend, &shared.Send{Room: room, MsgID: "target", Body: "react to this"})
	if err != nil {
		return 0, err
	}
	for {
		_, b, err := c.conn.Read(ctx)
		if err != nil {
			return 0, err
		}
		var seq int64
		var ferr error
		shared.DecodeAll(b, func(f shared.Frame, err error) {
			if err != nil || f.ID != id {
				return
			}
			if e, ok := f.Payload.(*shared.ErrorFrame); ok {
				ferr = &shared.Error{Code: e.Code, Message: e.Message}
				return
			}
			var ack shared.SendAck
			if ferr = shared.DecodeAck(f, &ack); ferr == nil {
				seq = ack.Seq
			}
		})
		if seq > 0 || ferr != nil {
			return seq, ferr
		}
	}
}

// observe reads everything until the connection ends.
func observe(c *rawConn, start time.Time) observerResult {
	var r observerResult
	for {
		_, b, err := c.conn.Read(context.Background())
		if err != nil {
			if code := closeCode(err); code > 0 {
				r.code, r.after = code, time.Since(start)
			}
			return r
		}
		r.frames++
		r.bytes += int64(len(b))
		r.largest = max(r.largest, int64(len(b)))
	}
}

// reactor reacts at cfg.rate until ctx ends, reconnecting when closed.
func reactor(ctx context.Context, cfg *reactionsConfig, i int, room string, target int64, st *reactStats) {
	k := 0
	redial(ctx, cfg.url, 23000+i, fmt.Sprintf("react-%d", i), room, func(c *rawConn, _ int) {
		st.connects.Add(1)
		done := c.readUntilClosed(st.countAnswers)
		tick := time.NewTicker(time.Duration(float64(time.Second) / cfg.rate))
		defer tick.Stop()
		for ctx.Err() == nil {
			select {
			case <-tick.C:
			case <-ctx.Done():
				continue
			case code := <-done:
				st.closes.add(code)
				return
			}
			send := &shared.Send{Room: room, MsgID: fmt.Sprintf("rx-%d-%d", i, k), Kind: shared.KindReact, Target: target, Emoji: reactEmoji(i, k/2)}
			if k%2 == 1 { // toggle a common emoji: on, then off again
				send.Emoji = commonEmoji[(k/2)%len(commonEmoji)]
				if (k/2/len(commonEmoji))%2 == 1 {
					send.Kind = shared.KindUnreact
				}
			}
			k++
			if _, err := c.write(ctx, shared.TypeSend, send); err != nil {
				continue
			}
			st.written.Add(1)
		}
		c.conn.CloseNow()
		<-done
	})
}

// countAnswers counts the acks and refusals in a message to a reactor.
func (st *reactStats) countAnswers(b []byte) {
	shared.DecodeAll(b, func(f shared.Frame, err error) {
		if e, ok := f.Payload.(*shared.ErrorFrame); ok {
			st.mu.Lock()
			st.refused[e.Code]++
			st.mu.Unlock()
		} else if f.Type == shared.TypeAck {
			st.acked.Add(1)
		}
	})
}

// freshJoinBytes is what a new member reads from its join until the ack.
func freshJoinBytes(ctx context.Context, wsURL, room string) (int64, error) {
	c, err := dialAbuser(ctx, wsURL, 22997, "react-fresh", "")
	if err != nil {
		return 0, err
	}
	defer c.conn.CloseNow()
	return c.call(ctx, shared.TypeJoin, &shared.Join{Room: room})
}

// pageBytes is the size of the room's prerendered page, fetched without
// any credential.
func pageBytes(ctx context.Context, wsURL, room string) (int64, error) {
	u, err := url.Parse(wsURL)
	if err != nil {
		return 0, err
	}
	u.Scheme = strings.Replace(u.Scheme, "ws", "http", 1)
	u.Path = "/r/" + url.PathEscape(room)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return 0, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("GET %s: %s", u, resp.Status)
	}
	return io.Copy(io.Discard, resp.Body)
}
