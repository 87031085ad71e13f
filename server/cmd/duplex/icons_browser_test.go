//go:build !(js && wasm)

package main

import (
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// TestBrowserChromeIcons (issue #17): the chrome's icons (bell, add
// reaction, attach, close, menu, search, members) are inline SVG drawn
// in the text colour, not emoji or "×" that a system without the right
// font shows as empty boxes; each button keeps its accessible name. Bad
// inputs: a refused room name (a toast with its close button), a search
// with results (their close button), the phone's menu.
func TestBrowserChromeIcons(t *testing.T) {
	exe := requireBrowser(t)
	timed(t)
	ta := startApp(t, "", "")
	bob := person(t, ta, "bob", "icons")
	say(t, bob, "icons", "an icon test message")
	a := newTab(t, exe, "alice")
	a.setViewport(1280, 800)
	a.open(ta.URL + "/r/icons")
	a.signIn("alice")
	a.waitRow("an icon test message", "bob", "sent")
	a.do("a refused room name", chromedp.SendKeys(chromedp.CSS(`[data-test=new-room]`), "Bad Name!"+kb.Enter))
	poll[bool](a, "the toast", `!!document.querySelector('[data-test=dismiss]')`)
	a.do("search", chromedp.SendKeys(chromedp.CSS(`[data-test=search]`), "icon"+kb.Enter))
	poll[bool](a, "the results", `!!document.querySelector('[data-test=search-close]')`)
	check := func(hooks ...string) {
		t.Helper()
		for _, h := range hooks {
			got := eval[string](a, `(() => { const b = document.querySelector('[data-test=`+h+`]');
				if (!b) return 'missing';
				const svg = b.querySelector('svg');
				if (!svg) return 'no svg';
				const r = svg.getBoundingClientRect();
				if (r.width < 8 || r.height < 8) return 'svg ' + r.width + 'x' + r.height;
				if (/[\u00d7\u263a\u{1F514}\u{1F515}+]/u.test(b.textContent)) return 'text ' + b.textContent;
				const name = b.getAttribute('aria-label') || '';
				return name ? 'ok' : 'no name'; })()`)
			if got != "ok" {
				t.Errorf("the %s button: %s", h, got)
			}
		}
	}
	eval[bool](a, `(document.querySelector('[data-test=messages] [data-test=message] [data-test=reply-button]').focus(), true)`)
	check("notify", "add-reaction", "attach", "dismiss", "search-close")
	a.setViewport(390, 844)
	check("open-rooms", "open-members", "open-search", "me-menu")
}
