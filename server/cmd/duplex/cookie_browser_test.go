//go:build !(js && wasm)

package main

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// tokenCookieOf polls the browser's cookie jar for url until it holds
// duplex_token.
func tokenCookieOf(b *tab, url string) *network.Cookie {
	b.t.Helper()
	deadline := time.Now().Add(pollTimeout)
	for {
		res, err := chromedp.Call(b.ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{url}})
		cookies := res.Cookies
		if err != nil {
			b.t.Fatalf("%s: read cookies: %v", b.name, err)
		}
		for _, c := range cookies {
			if c.Name == tokenCookie && c.Value != "" {
				return c
			}
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("%s: no %s cookie for %s within %s (cookies: %+v)", b.name, tokenCookie, url, pollTimeout, cookies)
		}
		time.Sleep(pollEvery)
	}
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
