//go:build !(js && wasm)

package main

// First paint: a room page is prerendered with its latest messages, and
// app.wasm seeds its model from them (ui.Routes, in the browser) before go-app
// replaces the DOM. These tests watch the [data-test=message] rows from
// the first parsed byte to the online chat, in real headless Chromium.
//
// TestFirstPaintNoFlashNoDoubles always runs (with the browser tests'
// skip rules). BenchmarkFirstPaint measures (make bench-firstpaint): it
// reports medians as benchmark metrics and prints a small table.

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/duplex-chat/duplex/server/store"
	"github.com/duplex-chat/duplex/shared"
)

// fpSeed appends n messages to room through the real store and returns
// their msg_ids, oldest first.
func fpSeed(t testing.TB, ta *testApp, room string, n int) []string {
	t.Helper()
	author := shared.Member{User: "fp-seed-user", Nick: "seeder"}
	msgs := make([]store.NewMessage, n)
	ids := make([]string, n)
	now := time.Now().UnixMilli()
	for i := range msgs {
		ids[i] = fmt.Sprintf("fp-%s-%03d", room, i+1)
		msgs[i] = store.NewMessage{Room: room, MsgID: ids[i], Author: author,
			Body: fmt.Sprintf("seeded message %d of %d", i+1, n), TS: now - int64(n-i)*1000}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := ta.app.store.Append(ctx, msgs)
	if err != nil {
		t.Fatalf("seed %s: %v", room, err)
	}
	for i, r := range res {
		if r.Err != nil || r.Duplicate || r.Message.Seq != int64(i+1) {
			t.Fatalf("seed %s: result %d: %+v", room, i, r)
		}
	}
	return ids
}

// fpRecorderJS runs in every new document of the tab, before the page's
// own scripts. From the first parsed node on it records, after every
// mutation batch, the number of [data-test=message] rows and any
// data-msg-id shown twice, plus a few timestamps (performance.now(), so
// relative to the navigation start):
//
//	dcl:         rows and wasm state at DOMContentLoaded
//	firstFrame:  rows and wasm state in the first animation frame after DCL
//	rowsFrame:   the first animation frame after rows appeared
//	fcp:         the first-contentful-paint entry
//	wasmAt:      go-app removed its loader (the wasm runs)
//	usableAt:    a composer exists and the connection is online
const fpRecorderJS = `(() => {
	const fp = window.__fp = {
		counts: [], frames: [], dups: [], batches: 0,
		dcl: null, firstFrame: null, rowsAt: -1, rowsFrame: -1, fcp: -1, fp: -1,
		wasmAt: -1, wasmRows: -1, usableAt: -1,
	};
	const loaded = () => !document.getElementById('app-wasm-loader') && !!window.Go;
	const snap = () => {
		const rows = document.querySelectorAll('[data-test=message]');
		const seen = new Set(), dup = [];
		for (const r of rows) {
			const id = r.dataset.msgId || '(none)';
			if (seen.has(id)) dup.push(id);
			seen.add(id);
		}
		return { n: rows.length, dup, wasm: loaded(), t: performance.now() };
	};
	const record = (why) => {
		const s = snap();
		fp.batches++;
		if (fp.counts.length === 0 || fp.counts[fp.counts.length - 1] !== s.n || why !== 'mutation') {
			fp.counts.push(s.n);
		}
		if (s.dup.length) fp.dups.push({ why, t: s.t, ids: s.dup, n: s.n });
		if (s.n > 0 && fp.rowsAt < 0) {
			fp.rowsAt = s.t;
			requestAnimationFrame(() => { fp.rowsFrame = performance.now(); });
		}
		if (s.wasm && fp.wasmAt < 0) { fp.wasmAt = s.t; fp.wasmRows = s.n; }
		if (fp.usableAt < 0 && document.querySelector('[data-test=composer]') &&
			document.querySelector('[data-test=connection][data-state=online]')) fp.usableAt = s.t;
		return s;
	};
	try {
		new PerformanceObserver((list) => {
			for (const e of list.getEntries()) {
				if (e.name === 'first-contentful-paint') fp.fcp = e.startTime;
				if (e.name === 'first-paint') fp.fp = e.startTime;
			}
		}).observe({ type: 'paint', buffered: true });
	} catch (e) {}
	// The document node exists before any parsing: parser-inserted rows
	// are mutations too, so nothing before DOMContentLoaded is missed.
	new MutationObserver(() => record('mutation')).observe(document, {
		subtree: true, childList: true, attributes: true,
		attributeFilter: ['data-msg-id', 'data-state', 'id'],
	});
	// Every animation frame for 30s: the row counts the page painted.
	const frame = () => {
		const n = document.querySelectorAll('[data-test=message]').length;
		const last = fp.frames[fp.frames.length - 1];
		if (!last || last.n !== n) fp.frames.push({ n, t: Math.round(performance.now()), wasm: loaded() });
		if (performance.now() < 30000) requestAnimationFrame(frame);
	};
	document.addEventListener('DOMContentLoaded', () => {
		fp.dcl = record('dcl');
		requestAnimationFrame(() => { fp.firstFrame = record('frame'); frame(); });
	});
})()`

// fpFrame is a change of the painted row count.
type fpFrame struct {
	N    int     `json:"n"`
	T    float64 `json:"t"`
	Wasm bool    `json:"wasm"`
}

// fpState is window.__fp as Go reads it.
type fpState struct {
	Counts  []int     `json:"counts"`
	Frames  []fpFrame `json:"frames"` // the painted row counts, from the first frame after DCL
	Dups    []any     `json:"dups"`
	Batches int       `json:"batches"`
	DCL     *struct {
		N    int     `json:"n"`
		Wasm bool    `json:"wasm"`
		T    float64 `json:"t"`
	} `json:"dcl"`
	FirstFrame *struct {
		N    int     `json:"n"`
		Wasm bool    `json:"wasm"`
		T    float64 `json:"t"`
	} `json:"firstFrame"`
	RowsAt    float64 `json:"rowsAt"`
	RowsFrame float64 `json:"rowsFrame"`
	FCP       float64 `json:"fcp"`
	FP        float64 `json:"fp"`
	WasmAt    float64 `json:"wasmAt"`
	WasmRows  int     `json:"wasmRows"`
	UsableAt  float64 `json:"usableAt"`
}

// fpInstall makes every later document of the tab run fpRecorderJS.
func fpInstall(b *tab) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 15*time.Second)
	defer cancel()
	if _, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument,
		page.AddScriptToEvaluateOnNewDocumentParams{Source: fpRecorderJS}); err != nil {
		b.t.Fatalf("%s: add the recorder script: %v", b.name, err)
	}
}

func fpRead(b *tab) fpState {
	b.t.Helper()
	return eval[fpState](b, `window.__fp`)
}

// fpSetNick stores the nickname the way ui.Chat does (go-app JSON-encodes
// localStorage values) on the server's origin, without loading the app:
// the next page load signs in by itself.
func fpSetNick(b *tab, origin, nick string) {
	b.t.Helper()
	b.do("open "+origin+"/healthz", chromedp.Navigate(origin+"/healthz"))
	eval[chromedp.Void](b, `localStorage.setItem('duplex.nick', JSON.stringify(`+quote(nick)+`)), undefined`)
}

// fpCheckLoad checks one page load of a room seeded with the msg_ids
// want: the rows were in the page before the wasm ran, the wasm took over
// showing all of them, and from the first row on the list never emptied,
// never lost a row and never showed a msg_id twice.
func fpCheckLoad(t *testing.T, b *tab, what string, want []string, online bool) fpState {
	t.Helper()
	n := len(want)
	// Wait for the wasm and, signed in, the joined room: the reader is in
	// the member list once the join (which replays the history) is done.
	cond := `__loaded() && !!document.querySelector('[data-test=nickname]')`
	if online {
		cond = `__loaded() && __conn() === 'online' && !!document.querySelector('[data-test=composer]') &&
			__members().includes('reader')`
	}
	poll[bool](b, what+": the wasm to take over", js(cond))
	// Let late renders (join replay, room list, presence) land.
	time.Sleep(500 * time.Millisecond)
	ids := eval[[]string](b, `[...document.querySelectorAll('[data-test=messages] [data-test=message]')].map(r => r.dataset.msgId)`)
	if !slices.Equal(ids, want) {
		t.Errorf("%s: after the wasm took over the rows' msg_ids are\n  %v\nwant\n  %v\n%s", what, ids, want, b.state())
	}
	if st := eval[[]string](b, `[...document.querySelectorAll('[data-test=messages] [data-test=message]')].map(r => r.dataset.status)`); slices.ContainsFunc(st, func(s string) bool { return s != "sent" }) {
		t.Errorf("%s: row statuses %v, want all sent", what, st)
	}
	fp := fpRead(b)
	t.Logf("%s: dcl %+v firstFrame %+v wasm at %.0fms (%d rows) usable at %.0fms, %d mutation batches, counts %v, painted %+v",
		what, fp.DCL, fp.FirstFrame, fp.WasmAt, fp.WasmRows, fp.UsableAt, fp.Batches, fp.Counts, fp.Frames)
	switch {
	case fp.DCL == nil:
		t.Errorf("%s: the recorder saw no DOMContentLoaded", what)
	case fp.DCL.Wasm:
		t.Errorf("%s: the wasm already ran at DOMContentLoaded: cannot tell the prerendered paint", what)
	case fp.DCL.N != n:
		t.Errorf("%s: %d rows in the prerendered page at DOMContentLoaded, want %d", what, fp.DCL.N, n)
	}
	if fp.FirstFrame == nil {
		t.Errorf("%s: no animation frame recorded", what)
	} else if fp.FirstFrame.N != n {
		t.Errorf("%s: %d rows in the first frame (wasm running: %v), want %d", what, fp.FirstFrame.N, fp.FirstFrame.Wasm, n)
	} else if fp.FirstFrame.Wasm {
		t.Logf("%s: note: the wasm already ran in the first frame", what)
	}
	if fp.WasmAt < 0 {
		t.Errorf("%s: the recorder never saw the wasm take over", what)
	} else if fp.WasmRows != n {
		t.Errorf("%s: %d rows when the wasm took over, want %d", what, fp.WasmRows, n)
	}
	// Batches before the rows were parsed count 0 (the head, the top
	// bar), and a slow parse may show part of them; once all n are in,
	// the count must stay n.
	full := slices.Index(fp.Counts, n)
	switch {
	case full < 0:
		t.Errorf("%s: never %d rows: row counts %v", what, n, fp.Counts)
	case !slices.IsSorted(fp.Counts[:full]):
		t.Errorf("%s: rows vanished while the page was parsed: row counts %v", what, fp.Counts)
	default:
		for _, c := range fp.Counts[full:] {
			if c == 0 {
				t.Errorf("%s: the list flashed empty: row counts %v", what, fp.Counts)
				break
			}
			if c != n {
				t.Errorf("%s: the row count left %d: row counts %v", what, n, fp.Counts)
				break
			}
		}
	}
	if i := slices.IndexFunc(fp.Frames, func(f fpFrame) bool { return f.N != n }); i >= 0 {
		t.Errorf("%s: a frame painted %d rows at %.0fms: painted row counts %+v", what, fp.Frames[i].N, fp.Frames[i].T, fp.Frames)
	}
	if len(fp.Dups) > 0 {
		t.Errorf("%s: a msg_id was shown twice: %v", what, fp.Dups)
	}
	return fp
}

// TestFirstPaintNoFlashNoDoubles: a room with 30 messages shows them in
// the prerendered page, and through the wasm's take-over and the join
// (which replays the same messages) the list never empties, never
// shrinks and never shows a message twice. Three loads in one profile:
// signed out; signed in (nickname in localStorage) with nothing cached;
// signed in again with the client's history cache and the service worker.
func TestFirstPaintNoFlashNoDoubles(t *testing.T) {
	exe := requireBrowser(t)
	timed(t)
	ta := startApp(t, "", "")
	const room = "firstpaint"
	want := fpSeed(t, ta, room, 30)
	url := ta.URL + "/r/" + room

	b := newTab(t, exe, "reader")
	fpInstall(b)

	// 1. Signed out: the rows stay behind the sign-in form.
	b.do("navigate "+url, chromedp.Navigate(url))
	fpCheckLoad(t, b, "signed out", want, false)

	// 2. Signed in through localStorage, no history cached: the wasm's
	// rows come from the prerender alone until the join.
	eval[chromedp.Void](b, `localStorage.setItem('duplex.nick', JSON.stringify('reader')), undefined`)
	b.do("reload", chromedp.Reload())
	fpCheckLoad(t, b, "signed in, cold client cache", want, true)

	// 3. Reload: now the client's localStorage cache holds the same
	// messages too, and the service worker may serve app.wasm.
	b.do("reload", chromedp.Reload())
	fpCheckLoad(t, b, "signed in, reload", want, true)
}

// fpRun is one measured page load.
type fpRun struct {
	firstMsg, fcp, usable float64 // ms after the navigation start
	wasm                  fpWasmEntry
}

type fpWasmEntry struct {
	Found    bool    `json:"found"`
	Transfer float64 `json:"transferSize"`
	Encoded  float64 `json:"encodedBodySize"`
	Decoded  float64 `json:"decodedBodySize"`
	Duration float64 `json:"duration"`
	SW       bool    `json:"sw"`
}

// fpMeasure loads url in b (the recorder installed, the nickname set) and
// waits until the composer is usable.
func fpMeasure(t testing.TB, b *tab, url, what string, rows int) fpRun {
	t.Helper()
	b.do(what+": navigate", chromedp.Navigate(url))
	poll[bool](b, what+": the composer to be usable", `window.__fp && window.__fp.usableAt >= 0 &&
		window.__fp.rowsFrame >= 0 && window.__fp.fcp >= 0`)
	fp := fpRead(b)
	if fp.DCL == nil || fp.DCL.N != rows {
		t.Errorf("%s: prerendered rows at DOMContentLoaded: %+v, want %d", what, fp.DCL, rows)
	}
	w := eval[fpWasmEntry](b, `(() => {
		const e = performance.getEntriesByType('resource').find(e => new URL(e.name).pathname === '/web/app.wasm');
		if (!e) return { found: false };
		return { found: true, transferSize: e.transferSize, encodedBodySize: e.encodedBodySize,
			decodedBodySize: e.decodedBodySize, duration: e.duration, sw: e.workerStart > 0 };
	})()`)
	// The first message is visible in the first paint that has rows: the
	// first contentful paint if the rows were parsed by then, else the
	// frame after they appeared.
	return fpRun{firstMsg: max(fp.FCP, fp.RowsFrame), fcp: fp.FCP, usable: fp.UsableAt, wasm: w}
}

func fpMedian(runs []fpRun, f func(fpRun) float64) float64 {
	v := make([]float64, len(runs))
	for i, r := range runs {
		v[i] = f(r)
	}
	slices.Sort(v)
	return v[len(v)/2]
}

// BenchmarkFirstPaint (make bench-firstpaint, part of make bench): how
// soon a room with 50 messages shows them, and how soon the composer is
// usable, cold (fresh profile) and warm (second load in the same profile,
// with go-app's service worker cache). One iteration is one new browser
// loading the room twice; the medians over the iterations (-benchtime 3x:
// of 3) are reported as metrics in ms, and as a table on stdout. ns/op is
// the whole iteration, browser start included: read the metrics.
func BenchmarkFirstPaint(bench *testing.B) {
	exe := requireBrowser(bench)
	ta := startApp(bench, "", "")
	const room, n = "bench", shared.DefaultRecent
	fpSeed(bench, ta, room, n)
	url := ta.URL + "/r/" + room

	var cold, warm []fpRun
	for i := 0; bench.Loop(); i++ {
		b := newTab(bench, exe, fmt.Sprintf("bench-%d", i))
		// One nickname per browser: a nickname is held by one identity.
		fpSetNick(b, ta.URL, fmt.Sprintf("reader-%d", i))
		fpInstall(b)
		c := fpMeasure(bench, b, url, fmt.Sprintf("cold %d", i+1), n)
		// The warm load should find app.wasm in the service worker cache.
		poll[bool](b, "the service worker cache", `(async () => {
			await navigator.serviceWorker.ready;
			for (const k of await caches.keys()) {
				if (await (await caches.open(k)).match('/web/app.wasm')) return true;
			}
			return false;
		})()`)
		w := fpMeasure(bench, b, url, fmt.Sprintf("warm %d", i+1), n)
		cold, warm = append(cold, c), append(warm, w)
		bench.Logf("run %d: cold first-message %.0fms (fcp %.0fms) usable %.0fms wasm %+v; warm first-message %.0fms (fcp %.0fms) usable %.0fms wasm %+v",
			i+1, c.firstMsg, c.fcp, c.usable, c.wasm, w.firstMsg, w.fcp, w.usable, w.wasm)
	}

	bench.StopTimer()
	runs := len(cold)
	for _, m := range []struct {
		unit string
		runs []fpRun
		f    func(fpRun) float64
	}{
		{"cold-first-msg-ms", cold, func(r fpRun) float64 { return r.firstMsg }},
		{"cold-usable-ms", cold, func(r fpRun) float64 { return r.usable }},
		{"warm-first-msg-ms", warm, func(r fpRun) float64 { return r.firstMsg }},
		{"warm-usable-ms", warm, func(r fpRun) float64 { return r.usable }},
	} {
		bench.ReportMetric(fpMedian(m.runs, m.f), m.unit)
	}
	var out strings.Builder
	fmt.Fprintf(&out, "first paint (room with %d messages, headless Chromium, median of %d):\n", n, runs)
	fmt.Fprintf(&out, "  %-5s %14s %8s %16s\n", "load", "first-message", "(fcp)", "composer-usable")
	for _, l := range []struct {
		name string
		runs []fpRun
	}{{"cold", cold}, {"warm", warm}} {
		fmt.Fprintf(&out, "  %-5s %12.0fms %6.0fms %14.0fms\n", l.name,
			fpMedian(l.runs, func(r fpRun) float64 { return r.firstMsg }),
			fpMedian(l.runs, func(r fpRun) float64 { return r.fcp }),
			fpMedian(l.runs, func(r fpRun) float64 { return r.usable }))
	}
	w := cold[0].wasm
	fmt.Fprintf(&out, "  app.wasm, cold: transferred %s, encoded body %s, decoded %s (%.1fx), fetched in %.0fms (median %.0fms)\n",
		fpBytes(w.Transfer), fpBytes(w.Encoded), fpBytes(w.Decoded), w.Decoded/max(w.Encoded, 1), w.Duration,
		fpMedian(cold, func(r fpRun) float64 { return r.wasm.Duration }))
	if w.Encoded > 0 && w.Encoded == w.Decoded {
		fmt.Fprintf(&out, "  app.wasm was served uncompressed: web/app.wasm.br and .gz are missing or older than app.wasm (make wasm)\n")
	}
	fmt.Fprintf(&out, "  app.wasm, warm: transferred %s (service worker: %v)\n", fpBytes(warm[0].wasm.Transfer), warm[0].wasm.SW)
	fmt.Fprintf(&out, "  first paint: cold first-message %.0fms composer-usable %.0fms; warm first-message %.0fms composer-usable %.0fms\n",
		fpMedian(cold, func(r fpRun) float64 { return r.firstMsg }), fpMedian(cold, func(r fpRun) float64 { return r.usable }),
		fpMedian(warm, func(r fpRun) float64 { return r.firstMsg }), fpMedian(warm, func(r fpRun) float64 { return r.usable }))
	fmt.Print(out.String())
}

func fpBytes(b float64) string {
	switch {
	case b >= 1<<20:
		return fmt.Sprintf("%.2f MiB (%.0f B)", b/(1<<20), b)
	case b >= 1<<10:
		return fmt.Sprintf("%.1f KiB (%.0f B)", b/(1<<10), b)
	}
	return fmt.Sprintf("%.0f B", b)
}
