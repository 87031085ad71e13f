//go:build !(js && wasm)

package main

import (
	"context"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"
)

// TestBrowserExplains (issue #17): with notifications denied for the
// site, the first press of the bell says why nothing happens and how to
// change it; signing out first warns that the anonymous identity cannot
// come back ("Stay signed in" keeps it, Escape too), and only the
// warning's confirm signs out. Bad inputs: the bell pressed twice, the
// warning cancelled by Escape.
func TestBrowserExplains(t *testing.T) {
	exe := requireBrowser(t)
	timed(t)
	ta := startApp(t, "", "")
	a := newTab(t, exe, "alice")
	ctx, cancel := context.WithTimeout(a.ctx, 15*time.Second)
	if _, err := chromedp.Call(ctx, browser.SetPermission, browser.SetPermissionParams{
		Permission: &browser.PermissionDescriptor{Name: "notifications"}, Setting: browser.PermissionSettingDenied, Origin: ta.URL,
	}); err != nil {
		t.Fatalf("deny notifications: %v", err)
	}
	cancel()
	a.setViewport(1280, 800)
	a.open(ta.URL + "/r/explain")
	a.signIn("alice")
	for i := range 2 {
		a.do("press the bell", chromedp.Click(chromedp.CSS(`[data-test=notify]`)))
		poll[bool](a, "why the bell does nothing", `/blocked for this site.*site settings/.test(document.querySelector('[data-test=notice]')?.textContent || '') &&
			document.querySelector('[data-test=notify]').getAttribute('aria-pressed') === 'false'`)
		if i == 0 {
			a.do("dismiss", chromedp.Click(chromedp.CSS(`[data-test=dismiss]`)))
			poll[bool](a, "the notice gone", `!document.querySelector('[data-test=notice]')`)
		}
	}

	a.do("sign out", chromedp.Click(chromedp.CSS(`[data-test=signout]`)))
	poll[bool](a, "the warning", `/cannot come back/.test(document.querySelector('[data-test=signout-warning]')?.textContent || '') &&
		document.activeElement?.dataset.test === 'signout-cancel'`)
	a.axeCheck("the sign-out warning")
	a.do("Escape", chromedp.KeyEvent("\x1b"))
	poll[bool](a, "still signed in", js(`!document.querySelector('[data-test=signout-warning]') && __conn() === 'online' && !!document.querySelector('[data-test=my-nick]')`))
	a.do("sign out", chromedp.Click(chromedp.CSS(`[data-test=signout]`)))
	a.do("stay", chromedp.Click(chromedp.CSS(`[data-test=signout-cancel]`)))
	poll[bool](a, "still signed in", js(`!document.querySelector('[data-test=signout-warning]') && !!document.querySelector('[data-test=composer]')`))
	a.do("sign out", chromedp.Click(chromedp.CSS(`[data-test=signout]`)))
	a.do("sign out for good", chromedp.Click(chromedp.CSS(`[data-test=signout-confirm]`)))
	poll[bool](a, "the sign-in form", js(`!!document.querySelector('[data-test=nickname]')`))
}
