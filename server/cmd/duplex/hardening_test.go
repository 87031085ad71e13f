package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

// noRedirect is an HTTP client that reports redirects instead of
// following them.
var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func doRequest(t testing.TB, c *http.Client, method, url string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// TestMethodsNotServedAre405: the page routes, static files and probes
// answer GET and HEAD; TRACE, PUT, DELETE, POST, PATCH and OPTIONS get 405
// with an Allow header, never the page.
func TestMethodsNotServedAre405(t *testing.T) {
	ta := startApp(t, "", "")
	for _, path := range []string{"/", "/r/x", "/web/duplex.css", "/healthz", "/readyz", "/metrics", "/ws"} {
		for _, m := range []string{"TRACE", "PUT", "DELETE", "POST", "PATCH", "OPTIONS"} {
			resp, _ := doRequest(t, noRedirect, m, ta.URL+path)
			if resp.StatusCode != http.StatusMethodNotAllowed {
				t.Errorf("%s %s: %d, want 405", m, path, resp.StatusCode)
				continue
			}
			if allow := resp.Header.Get("Allow"); !strings.Contains(allow, "GET") || !strings.Contains(allow, "HEAD") {
				t.Errorf("%s %s: Allow %q, want GET, HEAD", m, path, allow)
			}
		}
		if path == "/ws" {
			continue // a plain GET is not an upgrade
		}
		for _, m := range []string{"GET", "HEAD"} {
			if resp, _ := doRequest(t, noRedirect, m, ta.URL+path); resp.StatusCode != http.StatusOK {
				t.Errorf("%s %s: %d, want 200", m, path, resp.StatusCode)
			}
		}
	}
}

// TestWebDirectoriesAreNotListed: /web/ and /web (and a dot path into it)
// answer 404 instead of a file listing; files are still served.
func TestWebDirectoriesAreNotListed(t *testing.T) {
	ta := startApp(t, "", "")
	for _, path := range []string{"/web/", "/web/.", "/web/./"} {
		resp, body := doRequest(t, noRedirect, "GET", ta.URL+path)
		if resp.StatusCode != http.StatusNotFound && resp.StatusCode/100 != 3 { // the mux redirects unclean paths
			t.Errorf("GET %s: %d, want 404", path, resp.StatusCode)
		}
		if strings.Contains(body, "duplex.css") {
			t.Errorf("GET %s lists the directory:\n%s", path, body)
		}
	}
	for _, path := range []string{"/web", "/web/.", "/web/./"} {
		if resp, body := doRequest(t, http.DefaultClient, "GET", ta.URL+path); resp.StatusCode != http.StatusNotFound || strings.Contains(body, "duplex.css") {
			t.Errorf("GET %s (following redirects): %d %q, want 404", path, resp.StatusCode, body)
		}
	}
	if resp, _ := doRequest(t, noRedirect, "GET", ta.URL+"/web/duplex.css"); resp.StatusCode != http.StatusOK {
		t.Errorf("GET /web/duplex.css: %d", resp.StatusCode)
	}
}

// TestSecurityHeaders: every response carries the CSP (with the wasm
// allowance and no 'unsafe-inline'); HSTS only over TLS.
func TestSecurityHeaders(t *testing.T) {
	ta := startApp(t, "", "")
	resp, _ := doRequest(t, noRedirect, "GET", ta.URL+"/")
	csp := resp.Header.Get("Content-Security-Policy")
	for _, want := range []string{"script-src 'self' 'wasm-unsafe-eval'", "default-src 'self'", "frame-ancestors 'none'", "object-src 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "'unsafe-eval'") {
		t.Errorf("CSP %q allows inline code or eval", csp)
	}
	if h := resp.Header.Get("Strict-Transport-Security"); h != "" {
		t.Errorf("HSTS over plain HTTP: %q", h)
	}

	tlsSrv := httptest.NewTLSServer(ta.app.handler)
	defer tlsSrv.Close()
	for _, path := range []string{"/", "/healthz", "/web/duplex.css"} {
		resp, _ := doRequest(t, tlsSrv.Client(), "GET", tlsSrv.URL+path)
		if h := resp.Header.Get("Strict-Transport-Security"); !strings.HasPrefix(h, "max-age=") {
			t.Errorf("GET %s over TLS: Strict-Transport-Security %q", path, h)
		}
		if resp.Header.Get("Content-Security-Policy") == "" {
			t.Errorf("GET %s over TLS: no CSP", path)
		}
	}
}

// inlineCode finds what a CSP without 'unsafe-inline' would block: a
// <script> without src, a <style> element, a style="" attribute, an
// on*="" event handler, a javascript: URL.
func inlineCode(page string) string {
	for _, tag := range scriptTag.FindAllString(page, -1) {
		if !strings.Contains(tag, " src=") {
			return tag
		}
	}
	return inlineAttr.FindString(page)
}

var (
	scriptTag  = regexp.MustCompile(`(?i)<script[^>]*>`)
	inlineAttr = regexp.MustCompile(`(?i)<style[\s>]|\sstyle\s*=|\son[a-z]+\s*=|javascript:`)
)

// TestPageHasNothingInline: the prerendered pages hold nothing inline,
// which is why the CSP needs no hashes. When go-app starts inlining a
// script, this fails before the browser tests do.
func TestPageHasNothingInline(t *testing.T) {
	ta := startApp(t, "", "")
	for _, path := range []string{"/", "/r/general", "/r/x"} {
		_, page := doRequest(t, noRedirect, "GET", ta.URL+path)
		if !strings.Contains(page, `src="/app.js"`) {
			t.Fatalf("GET %s: not the app page:\n%s", path, page)
		}
		if m := inlineCode(page); m != "" {
			t.Errorf("GET %s: inline code %q would need a hash or 'unsafe-inline':\n%s", path, m, page)
		}
	}
	// The check itself finds what it is meant to.
	for _, bad := range []string{`<script>go()</script>`, `<script></script>`, `<div style="x">`, `<img onerror="x">`, `<style>p{}</style>`, `<a href="javascript:x">`} {
		if inlineCode(bad) == "" {
			t.Errorf("the inline check misses %s", bad)
		}
	}
}

// TestRedirectToHTTPS: the -redirect-addr handler sends every path and
// query to the same host on the TLS listener's port, with 308.
func TestRedirectToHTTPS(t *testing.T) {
	for _, tc := range []struct{ main, host, path, want string }{
		{":8443", "chat.example.com", "/r/x?since=3", "https://chat.example.com:8443/r/x?since=3"},
		{":443", "chat.example.com:80", "/", "https://chat.example.com/"},
		{"0.0.0.0:443", "[::1]:8080", "/web/duplex.css", "https://[::1]/web/duplex.css"},
	} {
		srv := httptest.NewServer(redirectToHTTPS(tc.main))
		req, _ := http.NewRequest("GET", srv.URL+tc.path, nil)
		req.Host = tc.host
		resp, err := noRedirect.Do(req)
		srv.Close()
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusPermanentRedirect || resp.Header.Get("Location") != tc.want {
			t.Errorf("main %s, Host %s, %s: %d %q, want 308 %q", tc.main, tc.host, tc.path, resp.StatusCode, resp.Header.Get("Location"), tc.want)
		}
	}
}

// TestParseConfigOps: the operations flags and their refusals. Bad inputs
// tried: a debug address on every interface (":6060", "0.0.0.0:6060",
// "[::]:6060", a LAN address), a redirect listener without TLS, a
// non-numeric MAX_CONNS.
func TestParseConfigOps(t *testing.T) {
	noEnv := func(string) string { return "" }
	for _, addr := range []string{":6060", "0.0.0.0:6060", "[::]:6060", "192.168.1.2:6060", "example.com:6060", "6060"} {
		if _, err := parseConfig([]string{"-debug-addr", addr}, noEnv); err == nil || !strings.Contains(err.Error(), "loopback") && !strings.Contains(err.Error(), "missing port") {
			t.Errorf("-debug-addr %s: %v, want a refusal", addr, err)
		}
	}
	for _, addr := range []string{"127.0.0.1:6060", "localhost:6060", "[::1]:6060", "127.0.0.2:0"} {
		if _, err := parseConfig([]string{"-debug-addr", addr}, noEnv); err != nil {
			t.Errorf("-debug-addr %s: %v", addr, err)
		}
	}
	if _, err := parseConfig([]string{"-redirect-addr", ":80"}, noEnv); err == nil {
		t.Error("-redirect-addr without TLS accepted")
	}
	env := map[string]string{"MAX_CONNS": "700", "MAX_CONNS_PER_ADDR": "20", "METRICS_ADDR": "127.0.0.1:9100"}
	c, err := parseConfig(nil, func(k string) string { return env[k] })
	if err != nil || c.maxConns != 700 || c.maxConnsPerAddr != 20 || c.metricsAddr != "127.0.0.1:9100" {
		t.Errorf("from env: %+v, %v", c, err)
	}
	c, err = parseConfig([]string{"-max-conns", "5", "-frame-timeout", "3s", "-idle-timeout", "1m"}, func(k string) string { return env[k] })
	if err != nil || c.maxConns != 5 || c.frameTimeout.String() != "3s" || c.http.idle.String() != "1m0s" {
		t.Errorf("flags over env: %+v, %v", c, err)
	}
	env["MAX_CONNS"] = "lots"
	if _, err := parseConfig(nil, func(k string) string { return env[k] }); err == nil || !strings.Contains(err.Error(), "MAX_CONNS") {
		t.Errorf("MAX_CONNS=lots: %v, want an error naming it", err)
	}
	if c, _ := parseConfig(nil, noEnv); c.http != defaultHTTPLimits {
		t.Errorf("default HTTP limits %+v, want %+v", c.http, defaultHTTPLimits)
	}
}
