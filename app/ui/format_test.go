package ui

import (
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

// TestFormatBody: the formatting people expect from Slack and Discord,
// and the edge cases where they expect none. Bad inputs tried: markup
// inside markers, markers inside code, unbalanced and stray markers,
// markers inside words and URLs, javascript:/data: links in Markdown link
// syntax, quotes glued to URLs, empty markers, and runs of too many
// markers.
func TestFormatBody(t *testing.T) {
	T := func(s string) span { return span{Kind: spanText, Text: s} }
	B := func(s span) span { s.Bold = true; return s }
	I := func(s span) span { s.Italic = true; return s }
	L := func(s string) span { return span{Kind: spanLink, Text: s} }
	C := func(s string) span { return span{Kind: spanCode, Text: s} }
	CB := func(s string) span { return span{Kind: spanCodeBlock, Text: s} }
	cases := []struct {
		in   string
		want []span
	}{
		{"", nil},
		{"plain words", []span{T("plain words")}},
		{"**bold** and *it* and _it_", []span{B(T("bold")), T(" and "), I(T("it")), T(" and "), I(T("it"))}},
		{"***both***", []span{B(I(T("both")))}},
		{"*a **b** c*", []span{I(T("a ")), B(I(T("b"))), I(T(" c"))}},
		{"**a _b_ c**", []span{B(T("a ")), B(I(T("b"))), B(T(" c"))}},
		{"(**x**).", []span{T("("), B(T("x")), T(").")}},
		{"héllo **wörld**", []span{T("héllo "), B(T("wörld"))}},
		// Markers inside words, around spaces, or without a match.
		{"2*3*4", []span{T("2*3*4")}},
		{"snake_case_name and __init__", []span{T("snake_case_name and __init__")}},
		{"a * b * c", []span{T("a * b * c")}},
		{"** not bold **", []span{T("** not bold **")}},
		{"**unclosed", []span{T("**unclosed")}},
		{"*unclosed **bold**", []span{T("*unclosed "), B(T("bold"))}},
		{"**a*", []span{T("**a*")}},
		{"****", []span{T("****")}},
		{"****x****", []span{T("****x****")}},
		{"**", []span{T("**")}},
		{"_", []span{T("_")}},
		// Code: nothing inside is formatted.
		{"run `go **test**` now", []span{T("run "), C("go **test**"), T(" now")}},
		{"``a`b``", []span{C("a`b")}},
		{"`unclosed code", []span{T("`unclosed code")}},
		{"``", []span{T("``")}},
		{"```\nfunc f() {\n\treturn *p\n}\n```", []span{CB("func f() {\n\treturn *p\n}")}},
		{"see ```x``` and", []span{T("see "), CB("x"), T(" and")}},
		{"```never closed *a*", []span{T("```never closed "), I(T("a"))}},
		{"`https://example.com`", []span{C("https://example.com")}},
		// Links.
		{"see https://example.com.", []span{T("see "), L("https://example.com"), T(".")}},
		{"**see https://example.com/a_b_c**", []span{B(T("see ")), B(L("https://example.com/a_b_c"))}},
		{"_https://example.com/x_", []span{I(L("https://example.com/x"))}},
		{"https://example.com/*x*", []span{L("https://example.com/*x"), T("*")}},
		{"[x](javascript:alert(1))", []span{T("[x](javascript:alert(1))")}},
		{"[x](data:text/html,<script>alert(1)</script>)", []span{T("[x](data:text/html,<script>alert(1)</script>)")}},
		{`https://a.b/"><script>alert(1)</script>`, []span{L("https://a.b/"), T(`"><script>alert(1)</script>`)}},
		// Markup is text.
		{"**<img src=x onerror=alert(1)>**", []span{B(T("<img src=x onerror=alert(1)>"))}},
		{"*<svg onload=alert(1)>*", []span{I(T("<svg onload=alert(1)>"))}},
		{"`<script>`", []span{C("<script>")}},
	}
	for _, c := range cases {
		got := formatBody(c.in)
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("formatBody(%q)\n got %+v\nwant %+v", c.in, got, c.want)
		}
	}
}

// TestFormatCodeInBold: code is found before emphasis (as in Slack), so
// markers cannot reach into code; a bold marker pair split by code stays
// literal rather than styling half a code span.
func TestFormatCodeInBold(t *testing.T) {
	got := formatBody("**`code` in bold**")
	if flatten(got) != "**code in bold**" {
		t.Fatalf("flatten = %q", flatten(got))
	}
	for _, s := range got {
		if s.Kind == spanCode && s.Text != "code" {
			t.Errorf("code span %q", s.Text)
		}
	}
}

// TestMapText: the mention hook sees plain text only (not code, not
// links), and what it returns keeps the text's style.
func TestMapText(t *testing.T) {
	spans := formatBody("**hi @ann** `@bob` https://x.y/@carl @dan")
	var seen []string
	got := mapText(spans, func(s span) []span {
		seen = append(seen, s.Text)
		i := strings.IndexByte(s.Text, '@')
		if i < 0 {
			return []span{s}
		}
		j := i + 1
		for j < len(s.Text) && s.Text[j] != ' ' {
			j++
		}
		return []span{{Kind: spanText, Text: s.Text[:i]}, {Kind: spanMention, Text: s.Text[i:j], Target: "u-" + s.Text[i+1:j]}, {Kind: spanText, Text: s.Text[j:]}}
	})
	if want := []string{"hi @ann", " ", " ", " @dan"}; !reflect.DeepEqual(seen, want) {
		t.Errorf("split saw %q, want %q", seen, want)
	}
	var mentions []span
	for _, s := range got {
		if s.Kind == spanMention {
			mentions = append(mentions, s)
		}
	}
	want := []span{{Kind: spanMention, Text: "@ann", Target: "u-ann", Bold: true}, {Kind: spanMention, Text: "@dan", Target: "u-dan"}}
	if !reflect.DeepEqual(mentions, want) {
		t.Errorf("mentions %+v, want %+v", mentions, want)
	}
	if flatten(got) != flatten(spans) {
		t.Errorf("mapText changed the text: %q", flatten(got))
	}
}

// TestFormatLinear: a body of lone markers (the worst case for closer
// searches) parses without quadratic blow-up: each marker kind is searched
// for at most once per range. Counted, not timed.
func TestFormatLinear(t *testing.T) {
	body := strings.Repeat("*a _b **c ***d ", 400)
	spans := formatBody(body)
	if flatten(spans) != body {
		t.Fatal("lone markers were consumed")
	}
}

// checkFormat is the property FuzzFormatBody checks: no panic, links are
// http(s) only, and flattening loses only formatting markers (*, _, `
// and the newline just inside a code fence), never another character.
func checkFormat(t *testing.T, body string) {
	t.Helper()
	spans := formatBody(body)
	_ = renderSpans(spans, nil)
	for _, s := range spans {
		if s.Text == "" {
			t.Fatalf("empty span in %q: %+v", body, spans)
		}
		if s.Kind == spanLink {
			l := strings.ToLower(s.Text)
			if !strings.HasPrefix(l, "http://") && !strings.HasPrefix(l, "https://") {
				t.Fatalf("link %q from %q", s.Text, body)
			}
		}
	}
	flat := flatten(spans)
	j := 0
	for i := 0; i < len(body); i++ {
		if j < len(flat) && body[i] == flat[j] {
			j++
			continue
		}
		if !strings.ContainsRune("*_`\n", rune(body[i])) {
			t.Fatalf("formatBody(%q) lost %q at %d; flattened %q", body, body[i], i, flat)
		}
	}
	if j != len(flat) {
		t.Fatalf("formatBody(%q) flattened to %q, not a subsequence", body, flat)
	}
	if utf8.ValidString(body) && !utf8.ValidString(flat) {
		t.Fatalf("formatBody(%q) split a rune: %q", body, flat)
	}
}

func FuzzFormatBody(f *testing.F) {
	for _, s := range []string{
		"**bold** *it* _it_ `code` ```\nblock\n``` https://example.com/a_b",
		"2*3*4 snake_case ***x*** ``a`b`` **see https://x.y/**",
		"*<svg onload=alert(1)>* [x](javascript:alert(1)) `<script>`",
		"**a *b **c** d* e**", "```", "`` ` ``", "_*_*_*", "é*ü*",
	} {
		f.Add(s)
	}
	f.Fuzz(checkFormat)
}
