//go:build !(js && wasm)

package main

// Browser tests of message formatting (app/ui/format.go) and of hostile
// text in every field people write: bodies with formatting markers,
// edits, replies, reactions.

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/duplex-chat/duplex/app/client"
)

// TestBrowserFormatting: bold, italic, inline code, code blocks and links
// render as elements, in the app and in the prerendered page, and what a
// body reads as (its text) is the body without its markers.
func TestBrowserFormatting(t *testing.T) {
	exe := requireBrowser(t)
	timed(t)
	ta := startApp(t, "", "")
	bob := person(t, ta, "bob", "lobby")
	long := strings.Repeat("x", 400)
	say(t, bob, "lobby", "**bold** *it* _it2_ `co*de*` 2*3*4 snake_case_name")
	say(t, bob, "lobby", "```\nline1\n    line2 "+long+"\n```")
	say(t, bob, "lobby", "**see https://example.com/a_b**. and `https://no.link`")
	say(t, bob, "lobby", "**unclosed and *lone `tick")

	check := func(b *tab, where string) {
		t.Helper()
		type look struct {
			Strong, Em, Code []string
			Pre, PreWS       string
			PreOverflow      string
			PreFont          string
			PreScrolls       bool
			LinkHref         string
			LinkInStrong     bool
			Links            int
		}
		l := eval[look](b, `(() => {
			const m = document.querySelector('[data-test=messages]');
			const all = s => [...m.querySelectorAll(s)].map(e => e.textContent);
			const pre = m.querySelector('pre.codeblock');
			const a = m.querySelector('[data-test=body] a');
			const bold = e => e.closest('strong') || getComputedStyle(e).fontWeight >= 700;
			return {
				Strong: [...m.querySelectorAll('[data-test=body] *')].filter(e => e.tagName !== 'PRE' && getComputedStyle(e).fontWeight >= 700).map(e => e.textContent),
				Em: [...m.querySelectorAll('[data-test=body] *')].filter(e => getComputedStyle(e).fontStyle === 'italic').map(e => e.textContent),
				Code: all('code'),
				Pre: pre ? pre.textContent : '', PreWS: pre ? getComputedStyle(pre).whiteSpace : '',
				PreOverflow: pre ? getComputedStyle(pre).overflowX : '',
				PreFont: pre ? getComputedStyle(pre).fontFamily : '',
				PreScrolls: !!pre && pre.scrollWidth > pre.clientWidth,
				LinkHref: a ? a.getAttribute('href') : '', LinkInStrong: !!a && bold(a),
				Links: m.querySelectorAll('[data-test=body] a').length,
			};
		})()`)
		if strings.Join(l.Strong, "|") != "bold|see |https://example.com/a_b" {
			t.Errorf("%s: <strong> %q", where, l.Strong)
		}
		if strings.Join(l.Em, "|") != "it|it2" {
			t.Errorf("%s: <em> %q", where, l.Em)
		}
		if strings.Join(l.Code, "|") != "co*de*|https://no.link" {
			t.Errorf("%s: <code> %q", where, l.Code)
		}
		if l.Pre != "line1\n    line2 "+long || l.PreWS != "pre" || l.PreOverflow != "auto" || !strings.Contains(l.PreFont, "monospace") || !l.PreScrolls {
			t.Errorf("%s: code block %q white-space %q overflow-x %q font %q scrolls %v", where, l.Pre, l.PreWS, l.PreOverflow, l.PreFont, l.PreScrolls)
		}
		if l.LinkHref != "https://example.com/a_b" || !l.LinkInStrong || l.Links != 1 {
			t.Errorf("%s: link %q in <strong> %v, %d links", where, l.LinkHref, l.LinkInStrong, l.Links)
		}
	}

	// The prerendered page (before the wasm runs) formats the same way.
	p := newTab(t, exe, "prerendered")
	g := holdWasm(p)
	p.do("navigate", chromedp.Navigate(ta.URL+"/r/lobby"))
	g.waitHeld()
	check(p, "prerendered")
	g.Release()

	a := newTab(t, exe, "alice")
	a.open(ta.URL + "/r/lobby")
	a.signIn("alice")
	a.waitRow("bold it it2 co*de* 2*3*4 snake_case_name", "bob", "sent")
	a.waitRow("line1\n    line2 "+long, "bob", "sent")
	a.waitRow("see https://example.com/a_b. and https://no.link", "bob", "sent")
	a.waitRow("**unclosed and *lone `tick", "bob", "sent")
	check(a, "app")
	// Typed in the composer: the markers reach the server untouched.
	a.sendEnter("my *own* `x`")
	a.waitRow("my own x", "alice", "sent")
	if n := eval[int](a, `document.querySelectorAll('[data-test=messages] em').length`); n != 3 {
		t.Errorf("%d <em> after alice's *own*, want 3", n)
	}
}

// hostileBodies try to get markup, script or a script URL into the page
// through a message body, with and around formatting markers. Each sets
// window.__xss if it ever runs.
var hostileBodies = []string{
	`**<img src=x onerror=window.__xss=1>**`,
	"`<script>window.__xss=2</script>`",
	`[x](javascript:window.__xss=3)`,
	`*<svg onload=window.__xss=4>*`,
	`https://example.com/"><script>window.__xss=5</script>`,
	"```\n<img src=x onerror=window.__xss=6>\n```",
	// U+212A KELVIN SIGN once shifted linkify's indices onto this.
	strings.Repeat("\u212a", 10) + "javascript:alert(1) http://x.test",
	`_<iframe src=javascript:window.__xss=8></iframe>_`,
	`**https://x.test/**<img src=x onerror=window.__xss=9>`,
	`javascript:window.__xss=10 data:text/html,<script>window.__xss=10</script> JaVaScRiPt:alert(1)`,
	`HTTPS://x.test/\"onmouseover=window.__xss=11 *x*`,
	"``<b onclick=window.__xss=12>`</b>``",
	`<a href="javascript:window.__xss=13">**click**</a>`,
}

// noInjection fails if anything in the message list or the search results
// is markup from a message, a script URL, or ran. The app's own images (thumbnails, with a
// data-test hook and a same-origin /files/ source) are allowed; any other
// <img>, a src, an on* attribute or a link whose URL is not http(s) is not.
func noInjection(b *tab, where string) {
	b.t.Helper()
	type found struct {
		Tags, Attrs, Hrefs []string
		XSS                any
	}
	f := eval[found](b, `(() => {
		const roots = [...document.querySelectorAll('[data-test=messages], [data-test=search-results]')];
		const els = roots.flatMap(r => [...r.querySelectorAll('*')]);
		const ownImage = e => e.tagName === 'IMG' && !!e.dataset.test && new URL(e.src, location.href).origin === location.origin &&
			new URL(e.src, location.href).pathname.startsWith('/files/');
		// The app's own icons (issue #17): an <svg class=icon> in a control, never in a body.
		const ownIcon = e => e.tagName.toLowerCase() === 'svg' && e.classList.contains('icon') && !e.closest('[data-test=body], [data-test=reply], .search-body');
		return {
			Tags: els.filter(e => /^(img|script|svg|iframe|object|embed|frame|b|style|link|math|video|audio|base|meta)$/i.test(e.tagName) && !ownImage(e) && !ownIcon(e)).map(e => e.outerHTML),
			Attrs: els.flatMap(e => [...e.attributes].filter(a => /^on/i.test(a.name) || /^(srcdoc|formaction|xlink:href)$/i.test(a.name) ||
				a.name === 'src' && !ownImage(e)).map(a => e.tagName + ' ' + a.name + '=' + a.value)),
			Hrefs: els.filter(e => e.hasAttribute('href')).map(e => e.getAttribute('href')).filter(h => !/^https?:$/.test(new URL(h, location.href).protocol)),
			XSS: window.__xss === undefined ? null : String(window.__xss),
		};
	})()`)
	if len(f.Tags) > 0 || len(f.Attrs) > 0 || len(f.Hrefs) > 0 || f.XSS != nil {
		b.t.Errorf("%s: injected elements %q, attributes %q, non-http hrefs %q, window.__xss %v", where, f.Tags, f.Attrs, f.Hrefs, f.XSS)
	}
	if n := b.dialogs.Load(); n > 0 {
		b.t.Errorf("%s: %d JavaScript dialogs opened", where, n)
	}
}

// TestBrowserXSSBodies: hostile text in bodies (sent by another person
// through the client package, and typed by the user), in edits, in reply
// quotes and in reactions never becomes markup or a script URL, in the
// prerendered page or in the app, and every body still reads as its text.
// Bad inputs: hostileBodies; edits to and replies with them; reactions
// with markup instead of an emoji (refused); an image whose file name and
// caption are markup; @mentions beside markup; all of it again in search
// results.
func TestBrowserXSSBodies(t *testing.T) {
	exe := requireBrowser(t)
	timed(t)
	ta := startApp(t, "", "")
	bob := person(t, ta, "bob", "lobby")
	for _, body := range hostileBodies {
		say(t, bob, "lobby", body)
	}
	seqs := hostileEvents(t, bob)
	seqs += hostileImage(t, bob)

	p := newTab(t, exe, "prerendered")
	g := holdWasm(p)
	p.do("navigate", chromedp.Navigate(ta.URL+"/r/lobby"))
	g.waitHeld()
	noInjection(p, "prerendered page")
	g.Release()

	a := newTab(t, exe, "alice")
	a.open(ta.URL + "/r/lobby")
	a.signIn("alice")
	poll[bool](a, "every hostile message", js(`__rows().filter(r => r.author === 'bob').length >= `+itoa(len(hostileBodies)+seqs)))
	a.sendEnter(`*<img src=x onerror=window.__xss=20>* ` + "`<script>window.__xss=21</script>`")
	a.waitRow(`<img src=x onerror=window.__xss=20> <script>window.__xss=21</script>`, "alice", "sent")
	// The Kelvin body reads as text, with only http://x.test a link.
	poll[bool](a, "the Kelvin body as text", js(`__rows().some(r => r.body.includes('javascript:alert(1) http://x.test'))`))
	// The events' UI shows their hostile text as text: the edited body and
	// its mark, the reply's quote of its hostile parent, the reaction.
	a.waitRow("<img src=x onerror=window.__xss=30> edited <script>window.__xss=31</script>", "bob", "sent")
	poll[bool](a, "the edit mark, the reply quote and the reaction", `(() => {
		const q = document.querySelector('[data-test=messages] [data-test=reply]');
		return !!document.querySelector('[data-test=messages] [data-test=edited]') &&
			!!q && q.textContent.includes('<img src=x onerror=window.__xss=32>') &&
			!!document.querySelector('[data-test=messages] [data-test=reaction][data-emoji="🎉"]');
	})()`)
	// The image's hostile name is its alt text and title, nothing more.
	if alt := poll[string](a, "the thumbnail", `(document.querySelector('[data-test=messages] [data-test=image]') || {}).alt`); alt != hostileFileName {
		t.Errorf("thumbnail alt %q, want %q", alt, hostileFileName)
	}
	// An @mention of alice beside markup.
	say(t, bob, "lobby", "@alice **<img src=x onerror=window.__xss=43>** _@alice_")
	a.waitRow("@alice <img src=x onerror=window.__xss=43> @alice", "bob", "sent")
	noInjection(a, "app")
	// Search results show hostile bodies as text too.
	a.do("search onerror", chromedp.SendKeys(chromedp.CSS(`[data-test=search]`), "onerror"+kb.Enter))
	poll[bool](a, "search results", `document.querySelectorAll('[data-test=search-results] [data-test=search-result]').length >= 3`)
	noInjection(a, "app with search results")
	a.reload()
	a.waitOnline()
	noInjection(a, "app after a reload")
}

// hostileEvents sends an edit, a reply (to a hostile parent, for the
// quote) and reactions through the client package, and returns how many
// more of bob's messages the list will show. A reaction must be an emoji:
// markup as a reaction is refused.
func hostileEvents(t *testing.T, bob *client.Client) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	edited, err := bob.SendWait(ctx, "lobby", "to be edited")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bob.Edit(ctx, "lobby", edited.Seq, `**<img src=x onerror=window.__xss=30>** edited `+"`<script>window.__xss=31</script>`"); err != nil {
		t.Fatalf("edit: %v", err)
	}
	parent, err := bob.SendWait(ctx, "lobby", `<img src=x onerror=window.__xss=32> *parent*`)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bob.Reply("lobby", parent.Seq, `*<svg onload=window.__xss=33>* reply [x](javascript:window.__xss=34)`); err != nil {
		t.Fatalf("reply: %v", err)
	}
	if _, err := bob.React(ctx, "lobby", parent.Seq, "🎉", true); err != nil {
		t.Fatalf("react: %v", err)
	}
	for _, bad := range []string{`<img src=x onerror=window.__xss=35>`, `"><script>`, "javascript:alert(1)"} {
		if _, err := bob.React(ctx, "lobby", parent.Seq, bad, true); err == nil {
			t.Errorf("reaction %q was accepted", bad)
		}
	}
	return 3
}

// hostileFileName is markup as an image's file name (names may not hold
// slashes, so no closing tags).
const hostileFileName = `"><img src=x onerror=window.__xss=40> x" onmouseover="window.__xss=41.png`

// hostileImage uploads an image with a hostile name and sends it with a
// hostile caption; it returns the one more message bob's rows will show.
func hostileImage(t *testing.T, bob *client.Client) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	img, err := bob.Upload(ctx, "lobby", hostileFileName, testPNG(t, 40, 30))
	if err != nil {
		t.Fatalf("upload: %v", err)
	}
	if img.Name != hostileFileName {
		t.Errorf("the server renamed the image to %q", img.Name)
	}
	if _, err := bob.SendImage("lobby", img, `**<svg onload=window.__xss=42>** caption`); err != nil {
		t.Fatalf("send image: %v", err)
	}
	return 1
}
