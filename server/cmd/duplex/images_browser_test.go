//go:build !(js && wasm)

package main

import (
	"bytes"
	"encoding/base64"
	"image"
	"image/color"
	"image/gif"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// shownImage is an [data-test=image] as the page shows it.
type shownImage struct {
	ID     string `json:"id"`
	Src    string `json:"src"`
	Alt    string `json:"alt"`
	Width  string `json:"width"`
	Height string `json:"height"`
	Href   string `json:"href"`
	Target string `json:"target"`
	Rel    string `json:"rel"`
	Loaded int    `json:"loaded"` // naturalWidth once the thumbnail loaded
}

// waitImage waits until the image with alt text alt is shown and loaded.
func (b *tab) waitImage(alt string) shownImage {
	b.t.Helper()
	return poll[shownImage](b, "the image "+alt, `(() => {
		const img = [...document.querySelectorAll('[data-test=messages] [data-test=image]')].find(i => i.alt === `+quote(alt)+`);
		if (!img || !img.complete || !img.naturalWidth) return false;
		const a = img.closest('a');
		return {id: img.dataset.id, src: img.getAttribute('src'), alt: img.alt, width: img.getAttribute('width'),
			height: img.getAttribute('height'), href: a && a.getAttribute('href'), target: a && a.target, rel: a && a.rel,
			loaded: img.naturalWidth};
	})()`)
}

// fileJS builds a File in the page from bytes, for paste and drop.
func fileJS(name, typ string, data []byte) string {
	return `new File([Uint8Array.from(atob(` + quote(base64.StdEncoding.EncodeToString(data)) + `), c => c.charCodeAt(0))], ` +
		quote(name) + `, {type: ` + quote(typ) + `})`
}

// dropJS drops a file on the message list as a drag and drop would.
func dropJS(file string) string {
	return `(() => { const dt = new DataTransfer(); dt.items.add(` + file + `);
		const target = document.querySelector('[data-test=messages]');
		target.dispatchEvent(new DragEvent('dragover', {dataTransfer: dt, bubbles: true, cancelable: true}));
		return !target.dispatchEvent(new DragEvent('drop', {dataTransfer: dt, bubbles: true, cancelable: true})); })()`
}

// TestBrowserImages (#10 point 9): Ann attaches a PNG through the attach
// button's file input, sees its preview, adds a caption and sends; Bob's
// browser shows the thumbnail at its final size (width and height set
// before it loads), alt text the file name, linking to the full image in a
// new tab; the thumbnail URL serves image/png with nosniff. Then a paste
// (a ClipboardEvent carrying a DataTransfer) attaches an image, the remove
// button drops it, and a drop on the message list attaches a GIF that is
// sent without a caption. Bad input tried: a file over 5 MB (refused in
// the page before any upload), HTML bytes called .png (refused by the
// server, whose reason the page shows; the attachment stays), a file name
// made of markup (text everywhere it shows).
func TestBrowserImages(t *testing.T) {
	exe := requireBrowser(t)
	timed(t)
	ta := startApp(t, "", "")
	a := newTab(t, exe, "ann")
	b := newTab(t, exe, "bob")
	for nick, p := range map[string]*tab{"Ann": a, "Bob": b} {
		p.open(ta.URL + "/r/pics")
		p.signIn(nick)
	}

	// 1. The file input (what the attach button opens).
	file := filepath.Join(t.TempDir(), "sunset.png")
	if err := os.WriteFile(file, testPNG(t, 640, 480), 0o600); err != nil {
		t.Fatal(err)
	}
	if got := eval[string](a, `document.querySelector('[data-test=attach]').getAttribute('aria-label')`); got == "" {
		t.Fatal("the attach button has no label")
	}
	a.do("choose a file", chromedp.SetUploadFiles(chromedp.CSS(`[data-test=file-input]`), []string{file}))
	poll[bool](a, "the preview", `(() => { const p = document.querySelector('[data-test=attachment] [data-test=attachment-preview]');
		return !!p && p.alt === 'sunset.png' && p.complete && p.naturalWidth === 640; })()`)
	a.axeCheck("the composer with an attachment")
	a.sendEnter("the view from here")
	img := b.waitImage("sunset.png")
	if img.Width != "320" || img.Height != "240" || img.Loaded != 320 || img.Src != "/files/"+img.ID+"/thumb" ||
		img.Href != "/files/"+img.ID || img.Target != "_blank" || img.Rel != "noopener noreferrer" {
		t.Fatalf("bob's thumbnail: %+v", img)
	}
	b.waitRow("the view from here", "Ann", "sent")
	poll[bool](a, "the attachment to go once sent", `!document.querySelector('[data-test=attachment]') && document.querySelector('[data-test=composer]').value === ''`)
	resp, err := http.Get(ta.URL + img.Src)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/png" || resp.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Fatalf("GET %s: %d %v", img.Src, resp.StatusCode, resp.Header)
	}

	// 2. Paste, then remove.
	pasted := fileJS("clip.png", "image/png", testPNG(t, 30, 20))
	a.do("focus the composer", chromedp.Focus(chromedp.CSS(`[data-test=composer]`)))
	if !eval[bool](a, `(() => { const dt = new DataTransfer(); dt.items.add(`+pasted+`);
		return !document.querySelector('[data-test=composer]').dispatchEvent(new ClipboardEvent('paste', {clipboardData: dt, bubbles: true, cancelable: true})); })()`) {
		t.Fatal("the paste of an image was not taken by the page")
	}
	poll[bool](a, "the pasted image's preview", `(() => { const p = document.querySelector('[data-test=attachment-preview]'); return !!p && p.alt === 'clip.png'; })()`)
	a.do("remove the attachment", chromedp.Click(chromedp.CSS(`[data-test=attachment-remove]`)))
	poll[bool](a, "the attachment to go", `!document.querySelector('[data-test=attachment]')`)

	// 3. Bad input: too large (checked in the page), not an image (the
	// server's answer shown).
	if !eval[bool](a, dropJS(`new File([new Uint8Array(6 << 20)], 'huge.png', {type: 'image/png'})`)) {
		t.Fatal("the drop was not taken by the page")
	}
	poll[bool](a, "the size refusal", `(() => { const n = document.querySelector('[data-test=notice]');
		return !!n && n.textContent.includes('huge.png is 6 MB') && !document.querySelector('[data-test=attachment]'); })()`)
	a.do("dismiss", chromedp.Click(chromedp.CSS(`[data-test=dismiss]`)))
	eval[bool](a, dropJS(fileJS("page.png", "image/png", []byte("<!DOCTYPE html><script>alert(1)</script>"))))
	poll[bool](a, "the fake image attached", `!!document.querySelector('[data-test=attachment]')`)
	a.do("send it", chromedp.SendKeys(chromedp.CSS(`[data-test=composer]`), kb.Enter))
	poll[bool](a, "the server's refusal", `(() => { const n = document.querySelector('[data-test=notice]');
		return !!n && n.textContent.includes('not an image') && !!document.querySelector('[data-test=attachment]'); })()`)
	a.do("remove it", chromedp.Click(chromedp.CSS(`[data-test=attachment-remove]`)), chromedp.Click(chromedp.CSS(`[data-test=dismiss]`)))

	// 4. Drop a GIF and send it alone.
	var g bytes.Buffer
	pal := image.NewPaletted(image.Rect(0, 0, 90, 60), []color.Color{color.White, color.Black})
	pal.SetColorIndex(5, 5, 1)
	if err := gif.Encode(&g, pal, nil); err != nil {
		t.Fatal(err)
	}
	// Its name is hostile: it must stay text in the preview, the alt and the title.
	hostile := `dance "><b id=x onmouseover=alert(2)>bold<b>.gif` // no slash: names may not hold one
	eval[bool](a, dropJS(fileJS(hostile, "image/gif", g.Bytes())))
	poll[bool](a, "the dropped image's preview", `(() => { const p = document.querySelector('[data-test=attachment-preview]'); return !!p && p.alt === `+quote(hostile)+`; })()`)
	a.do("send without a caption", chromedp.SendKeys(chromedp.CSS(`[data-test=composer]`), kb.Enter))
	gi := b.waitImage(hostile)
	if gi.Width != "90" || gi.Height != "60" {
		t.Fatalf("the GIF's thumbnail: %+v", gi)
	}
	for _, p := range []*tab{a, b} {
		if n := eval[int](p, `document.querySelectorAll('b#x, [onmouseover]').length`); n != 0 {
			t.Fatalf("%s: the file name became %d elements", p.name, n)
		}
	}
	if n := eval[int](b, `document.querySelectorAll('[data-test=messages] [data-test=image]').length`); n != 2 {
		t.Fatalf("bob sees %d images, want 2 (nothing of the refused ones)", n)
	}
	if strings.Contains(eval[string](b, `document.body.innerHTML`), "alert(1)") {
		t.Fatal("the refused HTML reached the other browser")
	}
	a.noCSPViolations()
	b.noCSPViolations()
}
