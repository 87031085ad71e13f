//go:build !(js && wasm)

package main

import (
	"context"
	"fmt"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/duplex-chat/duplex/shared/testpoll"
)

// tokenCookieOf polls the browser's cookie jar for url until it holds
// duplex_token.
func tokenCookieOf(b *tab, url string) *network.Cookie {
	b.t.Helper()
	var found *network.Cookie
	var cookies []*network.Cookie
	testpoll.Until(b.t, b.name+"'s "+tokenCookie+" cookie for "+url, func() bool {
		res, err := chromedp.Call(b.ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{url}})
		if err != nil {
			b.t.Fatalf("%s: read cookies: %v", b.name, err)
		}
		cookies = res.Cookies
		for _, c := range cookies {
			if c.Name == tokenCookie && c.Value != "" {
				found = c
				return true
			}
		}
		return false
	}, func() string { return fmt.Sprintf("cookies: %+v", cookies) })
	return found
}

// TestTokenCookieSecureUnderTLS (issue #15): the real app served over
// TLS (httptest's TLS server, Chromium told to accept its certificate)
// stores the duplex_token cookie Secure and SameSite=Strict once a person
// signs in; the same app over plain HTTP stores it without Secure (a
// browser would drop a Secure cookie there), so the flag follows the
// scheme. The cookie is not HttpOnly: the page sets it itself with
// document.cookie (app/ui/storage_js.go) from the token it keeps for the
// WebSocket hello in localStorage, so HttpOnly would hide nothing from a
// script on the page (server/IDENTITY.md, "Leaks at the edges").
func TestTokenCookieSecureUnderTLS(t *testing.T) {
	exe := requireBrowser(t)
	timed(t)
	a, err := newApp(config{dataDir: t.TempDir(), webDir: repoWeb(t), limits: limitFlags{off: true}})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewUnstartedServer(a.handler)
	hs.StartTLS()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		a.close(ctx)
		hs.Close()
	})
	plain := startApp(t, "", "")

	b := newTab(t, exe, "ann", chromedp.Flag("ignore-certificate-errors", true))
	b.open(hs.URL + "/")
	b.signIn("Ann")
	c := tokenCookieOf(b, hs.URL+"/")
	if !c.Secure || c.SameSite != network.CookieSameSiteStrict || c.HTTPOnly || c.Path != "/" {
		t.Fatalf("over TLS: cookie %s Secure=%v SameSite=%q HttpOnly=%v Path=%q; want Secure, Strict, not HttpOnly, /", c.Name, c.Secure, c.SameSite, c.HTTPOnly, c.Path)
	}
	b.open(plain.URL + "/")
	b.signIn("Bob")
	c = tokenCookieOf(b, plain.URL+"/")
	if c.Secure || c.SameSite != network.CookieSameSiteStrict {
		t.Fatalf("over plain HTTP: cookie Secure=%v SameSite=%q; want not Secure (the browser would drop it), Strict", c.Secure, c.SameSite)
	}
}
