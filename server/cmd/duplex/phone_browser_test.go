//go:build !(js && wasm)

package main

import (
	"testing"

	"github.com/chromedp/chromedp"
)

// phoneChrome is the page's chrome as laid out.
type phoneChrome struct {
	TopHeight, ListTop, TitleOverflow float64
	SearchShown, SearchIcon           bool
	MembersInFlow, MembersButton      bool
}

const phoneChromeJS = `(() => {
	const q = s => document.querySelector(s);
	const vis = el => !!el && getComputedStyle(el).display !== 'none' && el.getBoundingClientRect().width > 0;
	const m = q('#members'), t = q('.room-title');
	return {
		TopHeight: q('.top').getBoundingClientRect().height,
		ListTop: q('[data-test=messages]').getBoundingClientRect().top,
		TitleOverflow: t.scrollWidth - t.clientWidth,
		SearchShown: vis(q('[data-test=search]')), SearchIcon: vis(q('[data-test=open-search]')),
		MembersInFlow: getComputedStyle(m).position !== 'fixed' && getComputedStyle(m).visibility !== 'hidden',
		MembersButton: vis(q('[data-test=open-members]')),
	};
})()`

// TestBrowserPhoneLayout (issue #17): on a 390×844 phone the top bar is
// one row and the chrome above the messages at most 110 px, with the
// search behind an icon (pressing it shows the box, focused; Escape hides
// it) and the account actions behind a menu; at 820 px the members are a
// sheet, so the room's title is whole; a room's name stays readable next
// to its unread badges in the sidebar. Bad inputs: a long room name with
// two badges, the 820 px width that kept three columns.
func TestBrowserPhoneLayout(t *testing.T) {
	exe := requireBrowser(t)
	timed(t)
	ta := startApp(t, "", "")
	bob := person(t, ta, "bob", "design-review-q3", "review-notes")
	a := newTab(t, exe, "alice")
	a.setViewport(1280, 800)
	a.open(ta.URL + "/r/design-review-q3")
	a.signIn("alice")
	a.open(ta.URL + "/r/review-notes")
	a.waitOnline()
	for _, body := range []string{"one", "two", "@alice three"} {
		say(t, bob, "design-review-q3", body)
	}
	sel := `[data-test=room-list] [data-room=design-review-q3]`
	poll[bool](a, "two badges on design-review-q3", `!!document.querySelector('`+sel+` [data-test=unread-mentions]') && !!document.querySelector('`+sel+` [data-test=unread]')`)
	if cut := eval[float64](a, `(() => { const l = document.querySelector('`+sel+` a'); return l.scrollWidth - l.clientWidth; })()`); cut > 0 {
		t.Errorf("the room name beside its badges is cut by %v px", cut)
	}
	if title := eval[string](a, `document.querySelector('`+sel+` a').title`); title != "#design-review-q3" {
		t.Errorf("the room link's title is %q, want the full name", title)
	}

	a.setViewport(820, 900)
	c := poll[phoneChrome](a, "the 820 px layout", phoneChromeJS)
	if c.MembersInFlow || !c.MembersButton || c.TitleOverflow > 0 {
		t.Errorf("at 820 px: %+v: want the members as a sheet behind a button and the title whole", c)
	}

	a.setViewport(390, 844)
	c = poll[phoneChrome](a, "the phone layout", phoneChromeJS)
	t.Logf("phone: top bar %v px, chrome above the messages %v px", c.TopHeight, c.ListTop)
	if c.TopHeight > 56 || c.ListTop > 110 || c.SearchShown || !c.SearchIcon || c.MembersInFlow {
		t.Errorf("on a phone: %+v: want one top row, at most 110 px of chrome, the search behind an icon", c)
	}
	a.do("open the search", chromedp.Click(chromedp.CSS(`[data-test=open-search]`)))
	poll[bool](a, "the search box, focused", `document.activeElement?.dataset.test === 'search'`)
	a.axeCheck("the phone's open search")
	a.do("Escape", chromedp.KeyEvent("\x1b"))
	poll[bool](a, "the search box hidden again", `getComputedStyle(document.querySelector('[data-test=search]')).display === 'none'`)
	a.do("open the account menu", chromedp.Click(chromedp.CSS(`[data-test=me-menu]`)))
	poll[bool](a, "sign out in the menu", `document.querySelector('[data-test=signout]').getBoundingClientRect().width > 0`)
	a.axeCheck("the phone's account menu")
}
