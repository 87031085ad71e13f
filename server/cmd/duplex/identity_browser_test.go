//go:build !(js && wasm)

package main

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// TestBrowserDirectMessagePrivacy: two browsers hold a direct
// conversation that a third browser can neither see in its room list nor
// open by its URL, and whose page the server prerenders only for them. A
// nickname another online user holds (or a look-alike of it) sends the
// third browser back to the sign-in form; signing out starts a new
// identity.
func TestBrowserDirectMessagePrivacy(t *testing.T) {
	exe := requireBrowser(t)
	timed(t)
	ta := startApp(t, "", "")
	alice := newTab(t, exe, "alice")
	bob := newTab(t, exe, "bob")
	eve := newTab(t, exe, "eve")

	for _, b := range []struct {
		tab  *tab
		nick string
	}{{alice, "alice"}, {bob, "bob"}} {
		b.tab.open(ta.URL + "/r/lobby")
		b.tab.signIn(b.nick)
	}
	poll[bool](alice, "bob in the member list", js(`JSON.stringify(__members()) === '["alice","bob"]'`))

	// eve first tries bob's nickname with a Cyrillic "о": refused, back to
	// the sign-in form with the reason; then she picks her own.
	eve.open(ta.URL + "/r/lobby")
	poll[bool](eve, "the sign-in form", js(`!!document.querySelector('[data-test=nickname]')`))
	eve.do("sign in as a look-alike of bob",
		chromedp.SendKeys(chromedp.CSS(`[data-test=nickname]`), "bоb"),
		chromedp.Click(chromedp.CSS(`[data-test=join]`)),
	)
	poll[bool](eve, "the nickname refused", js(`!!document.querySelector('[data-test=nickname]') &&
		/in use/.test(document.querySelector('[data-test=notice]')?.textContent || '')`))
	eval[chromedp.Void](eve, `document.querySelector('[data-test=nickname]').value = ''`)
	eve.do("sign in as eve",
		chromedp.SendKeys(chromedp.CSS(`[data-test=nickname]`), "eve"),
		chromedp.Click(chromedp.CSS(`[data-test=join]`)),
	)
	eve.waitOnline()
	poll[bool](alice, "eve in the member list", js(`JSON.stringify(__members()) === '["alice","bob","eve"]'`))

	// alice opens a DM with bob from the member list and writes in it.
	alice.do("message bob", chromedp.Click(chromedp.CSS(`[data-test=member] [data-test=dm][aria-label="Message bob"]`)))
	dmPath := poll[string](alice, "the DM page", js(`location.pathname.startsWith('/r/dm-') && !!document.querySelector('[data-test=composer]') && location.pathname`))
	alice.waitOnline()
	const secret = "the launch code is 0000"
	alice.sendEnter(secret)
	alice.waitRow(secret, "alice", "sent")
	poll[bool](alice, "the DM listed under direct messages as @bob", js(`[...document.querySelectorAll('[data-test=dm-list] [data-test=room]')].some(r => r.textContent.includes('@bob'))`))

	// bob finds it in his sidebar and reads it.
	poll[bool](bob, "the DM in bob's sidebar", js(`!!document.querySelector('[data-test=dm-list] [data-test=room] a')`))
	bob.do("open the DM", chromedp.Click(chromedp.CSS(`[data-test=dm-list] [data-test=room] a`)))
	poll[bool](bob, "bob on the DM page", js(`location.pathname === `+quote(dmPath)))
	bob.waitRow(secret, "alice", "sent")
	// Searching finds it, named by the other person, never by the DM's
	// internal name (issue #17).
	bob.setViewport(1280, 800)
	bob.do("search the DM", chromedp.SendKeys(chromedp.CSS(`[data-test=search]`), "launch"+kb.Enter))
	poll[bool](bob, "the DM's result named @alice", js(`(() => { const r = document.querySelector('[data-test=search-result][data-room^="dm-"] .search-where');
		return !!r && r.textContent.startsWith('@alice · alice') && !r.textContent.includes('dm-'); })()`))

	// eve: not in her room list, and its URL shows nothing of it.
	poll[bool](eve, "eve's room list loaded", js(`!!document.querySelector('[data-test=room-list] [data-test=room][data-room=lobby]')`))
	if n := eval[int](eve, `document.querySelectorAll('[data-test=dm-list] [data-test=room], [data-test=room][data-kind=dm]').length`); n != 0 {
		t.Errorf("eve's sidebar lists %d DM rooms", n)
	}
	eve.open(ta.URL + dmPath)
	// The page says why (issue #17: no ghost room, no composer).
	poll[bool](eve, "the join refused", js(`/direct conversation/.test(document.querySelector('[data-test=no-access]')?.textContent || '') &&
		!document.querySelector('[data-test=composer]')`))
	if html := eval[string](eve, `document.body.innerHTML`); strings.Contains(html, secret) {
		t.Errorf("eve's page shows the DM's message")
	}
	if n := eval[int](eve, `__rows().length`); n != 0 {
		t.Errorf("eve's page shows %d messages of the DM", n)
	}

	// The prerendered page: nothing without a credential, nothing with
	// eve's, the message with bob's.
	get := func(who, cookie string) string {
		req, _ := http.NewRequest("GET", ta.URL+dmPath, nil)
		if cookie != "" {
			req.Header.Set("Cookie", "duplex_token="+cookie)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	cookieOf := func(b *tab) string {
		return poll[string](b, "the credential cookie", `(document.cookie.split('; ').find(c => c.startsWith('duplex_token=')) || '').slice(13)`)
	}
	for who, cookie := range map[string]string{"nobody": "", "a forged cookie": "dx1.e30.AAAA", "eve": cookieOf(eve)} {
		if page := get(who, cookie); strings.Contains(page, secret) || len(prerenderedBodies(t, page)) != 0 {
			t.Errorf("the DM page prerendered its messages for %s", who)
		}
	}
	if bodies := prerenderedBodies(t, get("bob", cookieOf(bob))); len(bodies) != 1 || bodies[0] != secret {
		t.Errorf("the DM page prerendered %q for bob, want the message", bodies)
	}

	// Signing out returns to the sign-in form; the next sign-in is a new
	// user (the old identity's token is gone), even with the same name.
	eve.open(ta.URL + "/r/lobby")
	eve.waitOnline()
	alice.open(ta.URL + "/r/lobby")
	alice.waitOnline()
	userOf := func(nick string) string {
		return poll[string](alice, nick+" in the member list", js(`[...document.querySelectorAll('[data-test=members] [data-test=member]')].find(m => m.textContent === `+quote(nick)+`)?.dataset.user`))
	}
	eveID := userOf("eve")
	eve.do("sign out", chromedp.Click(chromedp.CSS(`[data-test=signout]`)))
	poll[bool](eve, "the warning that the identity cannot come back", `/cannot come back/.test(document.querySelector("[data-test=signout-warning]")?.textContent || "")`)
	eve.do("sign out for good", chromedp.Click(chromedp.CSS(`[data-test=signout-confirm]`)))
	poll[bool](eve, "the sign-in form after sign-out", js(`!!document.querySelector('[data-test=nickname]') && !localStorage.getItem('duplex.nick')`))
	eve.do("sign in again as mallory",
		chromedp.SendKeys(chromedp.CSS(`[data-test=nickname]`), "mallory"),
		chromedp.SendKeys(chromedp.CSS(`[data-test=nickname]`), kb.Enter),
	)
	eve.waitOnline()
	if id := userOf("mallory"); id == eveID {
		t.Errorf("after signing out, the next sign-in kept the user id %s", id)
	}
}

var prerenderAttr = regexp.MustCompile(`data-messages="([A-Za-z0-9+/=]*)"`)

// prerenderedBodies decodes the messages a prerendered page hands to the
// wasm (base64 JSON in data-messages) and returns their bodies.
func prerenderedBodies(t *testing.T, page string) []string {
	t.Helper()
	m := prerenderAttr.FindStringSubmatch(page)
	if m == nil {
		return nil
	}
	raw, err := base64.StdEncoding.DecodeString(m[1])
	if err != nil {
		t.Fatalf("data-messages is not base64: %v", err)
	}
	var p struct {
		Messages []struct {
			Body string `json:"body"`
		} `json:"messages"`
	}
	if err := json.Unmarshal(raw, &p); err != nil {
		t.Fatalf("data-messages is not JSON: %v", err)
	}
	var out []string
	for _, msg := range p.Messages {
		out = append(out, msg.Body)
	}
	return out
}
