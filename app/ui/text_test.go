package ui

import (
	"reflect"
	"strings"
	"testing"

	"github.com/duplex-chat/duplex/shared"
)

// TestLinkify: http and https links become links and nothing else does.
// Bad inputs tried: javascript: and data: URLs, markup and quotes glued to
// a URL (which must end the link so no attribute or tag can be formed),
// "http://" with no host, "http" inside a word, trailing punctuation.
func TestLinkify(t *testing.T) {
	L := func(s string) segment { return segment{Text: s, Link: true} }
	T := func(s string) segment { return segment{Text: s} }
	cases := []struct {
		in   string
		want []segment
	}{
		{"no links here", []segment{T("no links here")}},
		{"see https://example.com/a?b=1&c=2.", []segment{T("see "), L("https://example.com/a?b=1&c=2"), T(".")}},
		{"HTTP://EXAMPLE.COM x", []segment{L("HTTP://EXAMPLE.COM"), T(" x")}},
		{"(http://a.b/c_(d))", []segment{T("("), L("http://a.b/c_(d)"), T(")")}},
		{`http://a.b/"><img src=x onerror=alert(1)>`, []segment{L("http://a.b/"), T(`"><img src=x onerror=alert(1)>`)}},
		{"http://a.b/'onmouseover='x", []segment{L("http://a.b/"), T("'onmouseover='x")}},
		{"javascript:alert(1) data:text/html,<b>x</b>", []segment{T("javascript:alert(1) data:text/html,<b>x</b>")}},
		{"xhttp://a.b not a link", []segment{T("xhttp://a.b not a link")}},
		{"http:// alone", []segment{T("http://"), T(" alone")}},
		{"https:///path", []segment{T("https:///path")}},
		{"two http://a.b\nhttps://c.d", []segment{T("two "), L("http://a.b"), T("\n"), L("https://c.d")}},
		{"", nil},
		// U+212A KELVIN SIGN lowers to the 1-byte "k": a lowered copy's
		// indices once made "javascript:alert(1)" the link here.
		{strings.Repeat("\u212a", 10) + "javascript:alert(1) http://x.y", []segment{T(strings.Repeat("\u212a", 10) + "javascript:alert(1) "), L("http://x.y")}},
		{"\x95 https://", []segment{T("\x95 https://")}},
		{"HTTPS://A.B/x hTtP://c.d", []segment{L("HTTPS://A.B/x"), T(" "), L("hTtP://c.d")}},
		{"**https://a.b/c_d**", []segment{T("**"), L("https://a.b/c_d"), T("**")}},
	}
	for _, c := range cases {
		if got := linkify(c.in); !reflect.DeepEqual(got, c.want) {
			t.Errorf("linkify(%q) = %#v, want %#v", c.in, got, c.want)
		}
	}
}

// TestColorClass: one user id, one colour; the colours spread.
func TestColorClass(t *testing.T) {
	if userColor("u1") != userColor("u1") {
		t.Fatal("colour not stable")
	}
	seen := map[string]bool{}
	for _, u := range []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j"} {
		seen[userColor(u)] = true
	}
	if len(seen) < 4 {
		t.Errorf("10 users got %d colours", len(seen))
	}
}

// TestTypingText: the typing line's wording for one, two and more typists.
func TestTypingText(t *testing.T) {
	m := func(nicks ...string) []shared.Member {
		var out []shared.Member
		for _, n := range nicks {
			out = append(out, shared.Member{User: "u-" + n, Nick: n})
		}
		return out
	}
	for _, c := range []struct {
		users []shared.Member
		want  string
	}{
		{nil, ""},
		{m("Ana"), "Ana is typing…"},
		{m("Ana", "Bo"), "Ana and Bo are typing…"},
		{m("Ana", "Bo", "Cy"), "3 people are typing…"},
		{m("<b>x</b>"), "<b>x</b> is typing…"}, // text, never markup: Render uses Text
	} {
		if got := typingText(c.users); got != c.want {
			t.Errorf("typingText(%v) = %q, want %q", c.users, got, c.want)
		}
	}
}
