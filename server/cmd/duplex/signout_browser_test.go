//go:build !(js && wasm)

package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/duplex-chat/duplex/app/client"
	"github.com/duplex-chat/duplex/shared"
	"github.com/duplex-chat/duplex/shared/testpoll"
)

// storageDump is every key and value of localStorage and sessionStorage,
// and the cookie, as one page sees them.
const storageDump = `(() => {
	const dump = s => Object.fromEntries([...Array(s.length).keys()].map(i => [s.key(i), s.getItem(s.key(i))]));
	return {local: dump(localStorage), session: dump(sessionStorage), cookie: document.cookie};
})()`

// cached reports whether the browser's HTTP cache answers url without
// the network (fetch with cache "only-if-cached").
func cached(b *tab, url string) bool {
	b.t.Helper()
	key := "__cached" + strings.NewReplacer("/", "_", "-", "_").Replace(url)
	return poll[struct{ V bool }](b, "the cache lookup of "+url, `(() => {
		if (window[`+quote(key)+`] === undefined) {
			window[`+quote(key)+`] = null;
			fetch(`+quote(url)+`, {cache: 'only-if-cached', mode: 'same-origin'}).then(r => window[`+quote(key)+`] = r.ok, () => window[`+quote(key)+`] = false);
		}
		const v = window[`+quote(key)+`];
		if (v === null) return false;
		delete window[`+quote(key)+`];
		return {v};
	})()`).V
}

// waitUncached polls until the HTTP cache no longer answers url.
func waitUncached(b *tab, url string) {
	b.t.Helper()
	testpoll.Until(b.t, url+" to leave the browser's HTTP cache after sign-out", func() bool { return !cached(b, url) })
}

type storedState struct {
	Local   map[string]string `json:"local"`
	Session map[string]string `json:"session"`
	Cookie  string            `json:"cookie"`
}

// holding returns the places in s that hold any of secrets.
func (s storedState) holding(secrets ...string) []string {
	var out []string
	for where, m := range map[string]map[string]string{"localStorage": s.Local, "sessionStorage": s.Session} {
		for k, v := range m {
			for _, secret := range secrets {
				if strings.Contains(k, secret) || strings.Contains(v, secret) {
					out = append(out, where+"["+k+"] holds "+secret)
				}
			}
		}
	}
	for _, secret := range secrets {
		if strings.Contains(s.Cookie, secret) {
			out = append(out, "the cookie holds "+secret)
		}
	}
	return out
}

// TestBrowserSignOutLeavesNothing (issue #15 point 5): Anna, in a private
// room with a message, an image and an unsent draft, signs out; Bruno
// signs in in the same browser profile. Bruno sees none of Anna's rooms,
// messages or image (the list, the room's page, its URL), and no storage
// of the browser (localStorage, sessionStorage, the cookie) holds
// anything of Anna's: her user id, token, room, words, draft or image id.
// Anna's token is refused by the server afterwards.
func TestBrowserSignOutLeavesNothing(t *testing.T) {
	exe := requireBrowser(t)
	timed(t)
	ta := startApp(t, "", "")
	b := newTab(t, exe, "shared-browser")
	b.open(ta.URL + "/r/lobby")
	b.signIn("anna")

	const room, words, draft = "anna-hideout", "anna-private-words-7781", "anna-draft-words-5519"
	b.do("create a private room",
		chromedp.Click(chromedp.CSS(`[data-test=new-room-private]`)),
		chromedp.SendKeys(chromedp.CSS(`[data-test=new-room]`), room),
		chromedp.SendKeys(chromedp.CSS(`[data-test=new-room]`), kb.Enter),
	)
	poll[bool](b, "the private room's page", js(`location.pathname === '/r/`+room+`' && !!document.querySelector('[data-test=composer]')`))
	b.waitOnline()
	// Joined (the composer of a page that is still being replaced would
	// lose what is typed into it).
	poll[bool](b, "the private room joined", js(`JSON.stringify(__members()) === '["anna"]' &&
		!!document.querySelector('[data-test=private-list] [data-test=room][data-room=`+room+`]')`))
	b.sendEnter(words)
	b.waitRow(words, "anna", "sent")
	file := filepath.Join(t.TempDir(), "anna-photo.png")
	if err := os.WriteFile(file, testPNG(t, 64, 48), 0o600); err != nil {
		t.Fatal(err)
	}
	b.do("attach an image", chromedp.SetUploadFiles(chromedp.CSS(`[data-test=file-input]`), []string{file}))
	poll[bool](b, "the preview", `!!document.querySelector('[data-test=attachment] [data-test=attachment-preview]')`)
	b.sendEnter("anna-caption")
	img := b.waitImage("anna-photo.png")
	b.do("type a draft", chromedp.SendKeys(chromedp.CSS(`[data-test=composer]`), draft))

	// What Anna left in the browser before signing out: the test can tell.
	type who struct{ User, Token string }
	anna := poll[who](b, "anna's identity and cached history in localStorage", `(() => {
		const id = JSON.parse(localStorage.getItem('duplex.identity.v1') || 'null');
		const cached = Object.values(Object.fromEntries(Object.entries(localStorage))).some(v => v.includes(`+quote(words)+`));
		return id && id.user && id.token && cached && localStorage.getItem('duplex.draft.`+room+`') && {user: id.user, token: id.token};
	})()`)
	secrets := []string{anna.User, anna.Token, room, words, draft, img.ID, "anna-caption", "anna-photo"}
	if held := eval[storedState](b, storageDump).holding(secrets...); len(held) == 0 {
		t.Fatal("before sign-out the storage holds nothing of anna's: the test would prove nothing")
	}

	// The private image's thumbnail is in the browser's HTTP cache
	// ("private, max-age=1y"): the next person could open it from there.
	if !cached(b, "/files/"+img.ID+"/thumb") {
		t.Fatal("the thumbnail is not in the HTTP cache before sign-out: the test would prove nothing")
	}

	b.do("sign out", chromedp.Click(chromedp.CSS(`[data-test=signout]`)))
	// An anonymous identity is warned that it cannot come back.
	b.do("sign out for good", chromedp.Click(chromedp.CSS(`[data-test=signout-confirm]`)))
	poll[bool](b, "the sign-in form", js(`!!document.querySelector('[data-test=nickname]')`))
	waitUncached(b, "/files/"+img.ID+"/thumb")
	if held := eval[storedState](b, storageDump).holding(secrets...); len(held) > 0 {
		t.Fatalf("after sign-out the browser still holds: %v", held)
	}

	// Bruno signs in where Anna was (her private room's URL).
	b.do("sign in as bruno",
		chromedp.SendKeys(chromedp.CSS(`[data-test=nickname]`), "bruno"),
		chromedp.Click(chromedp.CSS(`[data-test=join]`)),
	)
	poll[bool](b, "bruno signed in and refused the private room", js(`__conn() === 'online' &&
		/private/.test(document.querySelector('[data-test=notice]')?.textContent || '')`))
	if n := eval[int](b, js(`__rows().length`)); n != 0 {
		t.Errorf("bruno sees %d messages in anna's private room", n)
	}
	b.open(ta.URL + "/r/lobby") // a reload: whatever is in storage now is what Bruno's page starts from
	b.waitOnline()
	bruno := poll[who](b, "bruno's identity", `(() => { const id = JSON.parse(localStorage.getItem('duplex.identity.v1') || 'null');
		return id && id.user && {user: id.user, token: id.token}; })()`)
	if bruno.User == anna.User {
		t.Fatalf("bruno signed in as anna's user %s", anna.User)
	}
	// Bruno's client writes its own history to storage as usual.
	b.sendEnter("bruno-hello")
	b.waitRow("bruno-hello", "bruno", "sent")
	poll[bool](b, "bruno's history cached", `(localStorage.getItem('duplex.rooms.v1') || '').includes('bruno-hello')`)
	for _, page := range []string{"/r/lobby", "/r/" + room} {
		b.open(ta.URL + page)
		poll[bool](b, "online on "+page, js(`__conn() === 'online'`))
		html := eval[string](b, `document.body.innerHTML`)
		for _, s := range []string{words, "anna-caption", img.ID, "anna-photo", draft} {
			if strings.Contains(html, s) {
				t.Errorf("bruno's page %s shows %q of anna's", page, s)
			}
		}
		if page == "/r/lobby" && strings.Contains(eval[string](b, `document.querySelector('[data-test=room-list]')?.textContent || ''`), room) {
			t.Errorf("bruno's room list shows anna's private room")
		}
		if n := eval[int](b, `document.querySelectorAll('[data-test=image]').length`); n != 0 {
			t.Errorf("bruno's page %s shows %d images", page, n)
		}
	}
	if held := eval[storedState](b, storageDump).holding(secrets...); len(held) > 0 {
		t.Fatalf("with bruno signed in the browser holds anna's: %v", held)
	}

	// The server: anna's token was revoked by her sign-out.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err := dialAs(t, ctx, ta.WS, "anna", anna.Token, nil, nil)
	wantCode(t, "anna's token after her sign-out", err, shared.CodeSignedOut)
}

// TestBrowserNickPushAndSignOutEverywhere: a nickname changed on another
// device (a client on the same credential) shows in the page's my-nick at
// once; the page's "Sign out everywhere" (signout-all) closes that other
// device's session with 4006 and the server refuses its token.
func TestBrowserNickPushAndSignOutEverywhere(t *testing.T) {
	exe := requireBrowser(t)
	timed(t)
	ta := startApp(t, "", "")
	b := newTab(t, exe, "cleo")
	b.open(ta.URL + "/r/lobby")
	b.signIn("cleo")
	token := poll[string](b, "cleo's token", `(JSON.parse(localStorage.getItem('duplex.identity.v1') || 'null') || {}).token`)

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	signedOut := make(chan struct{}, 1)
	phone, err := dialAs(t, ctx, ta.WS, "cleo", token, nil, func(ev client.Event) {
		if _, ok := ev.(client.SignedOut); ok {
			signedOut <- struct{}{}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	defer phone.Close()
	if err := phone.SetNick(ctx, "cleopatra"); err != nil {
		t.Fatal(err)
	}
	poll[bool](b, "my-nick to follow the other device", `document.querySelector('[data-test=my-nick]')?.textContent === 'cleopatra' &&
		JSON.parse(localStorage.getItem('duplex.nick')) === 'cleopatra'`)

	b.do("sign out everywhere", chromedp.Click(chromedp.CSS(`[data-test=signout-all]`)))
	b.do("sign out for good", chromedp.Click(chromedp.CSS(`[data-test=signout-confirm]`)))
	poll[bool](b, "the sign-in form", js(`!!document.querySelector('[data-test=nickname]')`))
	select {
	case <-signedOut:
	case <-ctx.Done():
		t.Fatal("the other device's session was not signed out")
	}
	_, err = dialAs(t, ctx, ta.WS, "cleo", token, nil, nil)
	wantCode(t, "cleo's token after signing out everywhere", err, shared.CodeSignedOut)
	if held := eval[storedState](b, storageDump).holding(token, "cleopatra"); len(held) > 0 {
		t.Fatalf("after sign-out everywhere the browser holds: %v", held)
	}

	// The other way round: signed out everywhere from another device, the
	// page goes back to the sign-in form, says why, and keeps nothing.
	b.do("sign in as dora",
		chromedp.SendKeys(chromedp.CSS(`[data-test=nickname]`), "dora"),
		chromedp.Click(chromedp.CSS(`[data-test=join]`)),
	)
	b.waitOnline()
	b.sendEnter("dora-words-3321")
	b.waitRow("dora-words-3321", "dora", "sent")
	dora := poll[string](b, "dora's token", `(JSON.parse(localStorage.getItem('duplex.identity.v1') || 'null') || {}).token`)
	if dora == token {
		t.Fatal("dora signed in with cleo's token")
	}
	poll[bool](b, "dora's history cached", `(localStorage.getItem('duplex.rooms.v1') || '').includes('dora-words-3321')`)
	laptop := mustDial(t, ctx, ta.WS, "dora", dora)
	if err := laptop.SignOutEverywhere(); err != nil {
		t.Fatal(err)
	}
	poll[bool](b, "the page signed out by the other device", js(`!!document.querySelector('[data-test=nickname]') &&
		/signed out/.test(document.body.textContent)`))
	poll[bool](b, "nothing of dora's left in storage", `!Object.values(Object.fromEntries(Object.entries(localStorage))).some(v => v.includes('dora-words-3321') || v.includes(`+quote(dora)+`))`)
	if held := eval[storedState](b, storageDump).holding(dora, "dora-words-3321"); len(held) > 0 {
		t.Fatalf("after being signed out from another device the browser holds: %v", held)
	}
}
