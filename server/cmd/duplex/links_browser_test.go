//go:build !(js && wasm)

package main

import (
	"fmt"
	"regexp"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// TestBrowserLinksSearchEmpty (issue #17): every message has a link
// (/r/room?m=seq) that, opened in a fresh page, shows the room at that
// message, paging history back to it; pressing it copies it and says so;
// search results mark the matched words; an empty room and a search with
// no results say so. Bad inputs: a link to a message 75 messages back (not
// in the first page), a query that matches nothing, a mixed-case query.
func TestBrowserLinksSearchEmpty(t *testing.T) {
	exe := requireBrowser(t)
	timed(t)
	ta := startApp(t, "", "")
	bob := person(t, ta, "bob", "links")
	for i := range 80 {
		body := fmt.Sprintf("filler message %d", i)
		if i == 4 {
			body = "the Needle in the haystack"
		}
		say(t, bob, "links", body)
	}
	a := newTab(t, exe, "alice")
	a.setViewport(1280, 800)
	a.open(ta.URL + "/r/quiet-room")
	a.signIn("alice")
	poll[bool](a, "the empty room says so", `/No messages here yet/.test(document.querySelector('[data-test=empty-room]')?.textContent || '')`)
	a.axeCheck("an empty room")

	a.open(ta.URL + "/r/links")
	a.waitOnline()
	a.waitRow("filler message 79", "bob", "sent")
	href := eval[string](a, `document.querySelector('[data-test=messages] [data-test=message][data-seq="80"] [data-test=copy-link]').getAttribute('href')`)
	if !regexp.MustCompile(`^/r/links\?m=80$`).MatchString(href) {
		t.Errorf("the last message's link is %q, want /r/links?m=80", href)
	}
	a.do("copy the link", chromedp.Click(chromedp.CSS(`[data-test=messages] [data-test=message][data-seq="80"] [data-test=copy-link]`)))
	poll[bool](a, "the link copied", `/Link copied|\/r\/links\?m=80/.test(document.querySelector('[data-test=notice]')?.textContent || '')`)

	// A fresh page opened at the link of message 5 shows it.
	b := newTab(t, exe, "alice2")
	b.setViewport(1280, 800)
	b.open(ta.URL + "/r/links?m=5")
	b.signIn("carol")
	poll[bool](b, "message 5 shown and marked", `(() => {
		const m = document.querySelector('[data-test=messages] [data-test=message][data-seq="5"]');
		if (!m || !m.classList.contains('target')) return false;
		const l = document.querySelector('[data-test=messages]').getBoundingClientRect(), r = m.getBoundingClientRect();
		return r.top >= l.top && r.bottom <= l.bottom;
	})()`)

	// Search: matches marked; nothing found says so.
	a.do("search needle", chromedp.SendKeys(chromedp.CSS(`[data-test=search]`), "needle"+kb.Enter))
	poll[bool](a, "the match marked", `[...document.querySelectorAll('[data-test=search-result] [data-test=search-hit]')].map(h => h.textContent).join() === 'Needle'`)
	a.axeCheck("search results with highlights")
	eval[bool](a, `(document.querySelector('[data-test=search]').value = '', true)`)
	a.do("search nothing", chromedp.SendKeys(chromedp.CSS(`[data-test=search]`), "zzzznothing"+kb.Enter))
	poll[bool](a, "no results said", `/No messages match/.test(document.querySelector('[data-test=search-status]')?.textContent || '')`)

	// A result of a later search opens that result (not one the same
	// element showed in an earlier search).
	eval[bool](a, `(document.querySelector('[data-test=search]').value = '', true)`)
	a.do("search filler message 70", chromedp.SendKeys(chromedp.CSS(`[data-test=search]`), `"filler message 70"`+kb.Enter))
	poll[bool](a, "the result for 70", `document.querySelector('[data-test=search-result]')?.dataset.seq === '71'`)
	a.do("open it", chromedp.Click(chromedp.CSS(`[data-test=search-result]`)))
	poll[bool](a, "message 71 marked", `document.querySelector('[data-test=message].target')?.dataset.seq === '71'`)
}
