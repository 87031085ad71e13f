//go:build !(js && wasm)

package main

// The trickle workload (issue #14): connections start an upload and send
// one byte of it every few seconds, reconnecting when closed, while a
// victim uploads small images and sends text on one connection, beside a
// bystander.

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"net"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/coder/websocket"
	"github.com/duplex-chat/duplex/shared"
)

// trickleConfig: tricklers connections trickle one byte every interval.
type trickleConfig struct {
	abuseConfig
	tricklers int
	interval  time.Duration
}

// trickleStats is what the tricklers and the victim saw.
type trickleStats struct {
	mu             sync.Mutex
	connects       int
	closes         map[int]int
	closedAfter    []time.Duration // from a trickler's first byte to its close
	victimUpload   []time.Duration // upload → ack
	victimText     []time.Duration // send → ack, on the uploading connection
	victimFailures map[string]int
}

func (cfg *trickleConfig) run(out io.Writer) error {
	st := trickleStats{closes: map[int]int{}, victimFailures: map[string]int{}}
	s, u, err := withBystanderWatched(cfg.abuseConfig, func(ctx context.Context) error {
		actx, cancel := context.WithTimeout(ctx, cfg.duration)
		defer cancel()
		var wg sync.WaitGroup
		for i := range cfg.tricklers {
			wg.Go(func() { trickler(actx, cfg, i, &st) })
		}
		time.Sleep(time.Second) // the tricklers first: the victim comes to a server they hold
		victim(actx, cfg, &st)
		wg.Wait()
		return nil
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "workload            trickle: %d connections start an upload and send a byte every %v, reconnecting when closed; a victim uploads a small image every second and sends text every 500ms on the same connection, for %v\n",
		cfg.tricklers, cfg.interval, cfg.duration)
	st.mu.Lock()
	slices.Sort(st.closedAfter)
	slices.Sort(st.victimUpload)
	slices.Sort(st.victimText)
	r := func(d time.Duration) time.Duration { return d.Round(time.Millisecond) }
	fmt.Fprintf(out, "tricklers           %d connections, closed by code %v, closed after p50 %v max %v\n",
		st.connects, st.closes, r(pct(st.closedAfter, .5)), r(pct(st.closedAfter, 1)))
	fmt.Fprintf(out, "victim              %d uploads acked: p50 %v max %v; %d text sends acked: p50 %v max %v; failures %v\n",
		len(st.victimUpload), r(pct(st.victimUpload, .5)), r(pct(st.victimUpload, 1)),
		len(st.victimText), r(pct(st.victimText, .5)), r(pct(st.victimText, 1)), st.victimFailures)
	st.mu.Unlock()
	u.print(out, "")
	s.print(out)
	return nil
}

// trickler connects, starts an upload and writes one byte of it in a
// WebSocket frame of its own every interval, on the raw TCP connection (a
// WebSocket library would buffer the frames of an unfinished message),
// reconnecting whenever the server closes it, until ctx ends.
func trickler(ctx context.Context, cfg *trickleConfig, i int, st *trickleStats) {
	room := randomRoom(fmt.Sprintf("trickle%d", i))
	hdr, _ := shared.EncodeUpload("up", shared.Upload{Room: room, Name: "slow.png"}, []byte{0})
	for ctx.Err() == nil {
		raw, c, err := dialTCPCapture(ctx, cfg.url, 23000+i, fmt.Sprintf("trickle-%d", i), room)
		if err != nil {
			time.Sleep(100 * time.Millisecond)
			continue
		}
		st.mu.Lock()
		st.connects++
		st.mu.Unlock()
		closed := make(chan int, 1)
		go func() {
			for {
				if _, _, err := c.conn.Read(context.Background()); err != nil {
					closed <- closeCode(err)
					return
				}
			}
		}()
		t0 := time.Now()
		code := -2
	trickling:
		for k := 0; ; k++ {
			op := byte(0x00) // continuation, not final
			if k == 0 {
				op = 0x02 // binary, not final
			}
			raw.SetWriteDeadline(time.Now().Add(5 * time.Second))
			raw.Write(maskedFrame(op, hdr[k%len(hdr):k%len(hdr)+1]))
			select {
			case code = <-closed:
				break trickling
			case <-ctx.Done():
				break trickling
			case <-time.After(cfg.interval):
			}
		}
		raw.Close()
		if code != -2 {
			st.mu.Lock()
			st.closes[code]++
			st.closedAfter = append(st.closedAfter, time.Since(t0))
			st.mu.Unlock()
		}
	}
}

// dialTCPCapture is dialAbuser that also returns the TCP connection beneath.
func dialTCPCapture(ctx context.Context, url string, i int, nick, room string) (net.Conn, *rawConn, error) {
	var mu sync.Mutex
	var raw net.Conn
	d := net.Dialer{Timeout: 30 * time.Second}
	if host, _, _ := net.SplitHostPort(hostOf(url)); net.ParseIP(host).IsLoopback() {
		d.LocalAddr = &net.TCPAddr{IP: net.IPv4(127, 0, byte(i/20000/250), byte(1+i/20000%250))} // as httpClientFor
	}
	hc := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := d.DialContext(ctx, network, addr)
		mu.Lock()
		raw = c
		mu.Unlock()
		return c, err
	}}}
	conn, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{Subprotocols: []string{shared.Protocol}, HTTPClient: hc})
	if err != nil {
		return nil, nil, err
	}
	c := &rawConn{conn: conn}
	if _, err := c.call(ctx, shared.TypeHello, &shared.Hello{Nick: nick}); err != nil {
		conn.CloseNow()
		return nil, nil, err
	}
	if _, err := c.call(ctx, shared.TypeJoin, &shared.Join{Room: room}); err != nil {
		conn.CloseNow()
		return nil, nil, err
	}
	mu.Lock()
	defer mu.Unlock()
	return raw, c, nil
}

// maskedFrame builds one client frame (masked, as clients must) with
// first byte b0 (FIN, opcode) and payload p of under 126 bytes.
func maskedFrame(b0 byte, p []byte) []byte {
	key := [4]byte{0x12, 0x34, 0x56, 0x78}
	out := append([]byte{b0, 0x80 | byte(len(p))}, key[:]...)
	for i, c := range p {
		out = append(out, c^key[i%4])
	}
	return out
}

// victim uploads a small image every second and, on the same
// connection, sends a text every 500ms, until ctx ends, timing each
// answer (waiting up to 20s for it).
func victim(ctx context.Context, cfg *trickleConfig, st *trickleStats) {
	room := randomRoom("victim")
	fail := func(what string) {
		st.mu.Lock()
		st.victimFailures[what]++
		st.mu.Unlock()
	}
	c, err := dialAbuser(context.Background(), cfg.url, 24000, "victim", room)
	if err != nil {
		fail("dial: " + err.Error())
		return
	}
	defer c.conn.CloseNow()
	// One reader hands each answer to whoever waits for its id.
	var mu sync.Mutex
	waiting := map[string]chan string{}
	ended := make(chan struct{})
	go func() {
		defer close(ended)
		for {
			_, b, err := c.conn.Read(context.Background())
			if err != nil {
				if code := closeCode(err); code >= 0 && ctx.Err() == nil {
					fail(fmt.Sprintf("closed %d", code))
				}
				return
			}
			shared.DecodeAll(b, func(f shared.Frame, err error) {
				if err != nil || f.ID == "" {
					return
				}
				answer := "ack"
				if e, ok := f.Payload.(*shared.ErrorFrame); ok {
					answer = string(e.Code)
				}
				mu.Lock()
				ch := waiting[f.ID]
				delete(waiting, f.ID)
				mu.Unlock()
				if ch != nil {
					ch <- answer
				}
			})
		}
	}()
	request := func(id string, write func() error, what string, into *[]time.Duration) {
		ch := make(chan string, 1)
		mu.Lock()
		waiting[id] = ch
		mu.Unlock()
		t0 := time.Now()
		if err := write(); err != nil {
			fail(what + " write")
			return
		}
		select {
		case a := <-ch:
			if a != "ack" {
				fail(what + " " + a)
				return
			}
			st.mu.Lock()
			*into = append(*into, time.Since(t0))
			st.mu.Unlock()
		case <-time.After(20 * time.Second):
			fail(what + " unanswered in 20s")
		case <-ended:
			fail(what + " unanswered: connection ended")
		}
	}
	img := image.NewNRGBA(image.Rect(0, 0, 200, 150))
	for k := range img.Pix {
		img.Pix[k] = uint8(k * 13)
	}
	img.Set(0, 0, color.Black)
	var pngBuf bytes.Buffer
	png.Encode(&pngBuf, img)
	var wg sync.WaitGroup
	wg.Go(func() { // the texts
		for k := 0; ctx.Err() == nil; k++ {
			id := fmt.Sprintf("v-send-%d", k)
			b, _ := shared.Encode(shared.TypeSend, id, &shared.Send{Room: room, MsgID: id, Body: "hello"})
			wg.Go(func() {
				request(id, func() error { return c.conn.Write(context.Background(), websocket.MessageText, b) }, "send", &st.victimText)
			})
			select {
			case <-ctx.Done():
			case <-time.After(500 * time.Millisecond):
			}
		}
	})
	for k := 0; ctx.Err() == nil; k++ {
		t0 := time.Now()
		id := fmt.Sprintf("v-up-%d", k)
		data := append(bytes.Clone(pngBuf.Bytes()), byte(k), byte(k>>8)) // distinct bytes: each upload is stored
		msg, _ := shared.EncodeUpload(id, shared.Upload{Room: room, Name: fmt.Sprintf("v%d.png", k)}, data)
		request(id, func() error { return c.conn.Write(context.Background(), websocket.MessageBinary, msg) }, "upload", &st.victimUpload)
		select {
		case <-ctx.Done():
		case <-time.After(time.Second - time.Since(t0)):
		}
	}
	wg.Wait()
}
