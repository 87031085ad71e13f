package ui

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/maxence-charriere/go-app/v10/pkg/app"
)

// spanKind says what a run of a formatted message body is.
type spanKind uint8

const (
	spanText      spanKind = iota // plain text
	spanCode                      // `inline code`: monospace, no formatting inside
	spanCodeBlock                 // ```code block```: monospace, line breaks kept
	spanLink                      // an http(s) link; Text is the URL
	spanMention                   // an @mention (see mapText); Target names who
)

// span is a run of a message body with one kind and style. A body parses
// into a flat list of spans: concatenating their Text gives the body
// without its formatting markers (FuzzFormatBody checks it), and a style
// is a flag rather than a tree so that later passes (mentions, search
// highlights) can split a span without knowing about nesting.
type span struct {
	Kind   spanKind
	Text   string
	Bold   bool
	Italic bool
	// Target is free for a kind that points somewhere, e.g. the user id
	// of a mention; the renderer does not read it.
	Target string
}

// formatBody parses a message body into spans, the way people expect from
// Slack and Discord:
//
//   - ```block``` is a code block and `code` (or “co`de“) inline code;
//     nothing inside code is formatted or linked.
//   - **bold**, *italic* and _italic_ (***both***) mark runs that start
//     after a space, punctuation or the start and end before one, so
//     2*3*4 and snake_case_names stay literal; a marker without its match
//     stays literal text.
//   - http and https URLs are links (see linkify: never javascript: or
//     data:, trailing punctuation left out), also inside bold or italic.
//
// The result is data, never markup: renderSpans turns it into text nodes
// and elements, and nothing in a body is ever parsed as HTML.
func formatBody(body string) []span {
	var out []span
	for body != "" {
		i, j, k, next, kind := nextCode(body)
		if i < 0 {
			return appendInline(out, body)
		}
		out = appendInline(out, body[:i])
		out = append(out, span{Kind: kind, Text: body[j:k]})
		body = body[next:]
	}
	return out
}

// nextCode finds the first code span in s: it starts at i, its text is
// s[j:k], it ends before next, and it is a spanCode or a spanCodeBlock. i
// is -1 when s has none.
// A run of three or more backticks opens a block that the next ``` closes;
// a run of one or two opens inline code that the next run of exactly as
// many closes. A run without its match is literal text.
func nextCode(s string) (i, j, k, next int, kind spanKind) {
	for from := 0; ; {
		at := strings.IndexByte(s[from:], '`')
		if at < 0 {
			return -1, 0, 0, 0, spanText
		}
		at += from
		n := runLen(s, at, '`')
		if n >= 3 {
			if end := strings.Index(s[at+3:], "```"); end >= 0 {
				j, k = at+3, at+3+end
				next = k + 3
				if j < k && s[j] == '\n' { // ```\ncode\n```: the fence lines
					j++
				}
				if j < k && s[k-1] == '\n' {
					k--
				}
				if j < k { // an empty block (``````) is literal
					return at, j, k, next, spanCodeBlock
				}
			}
		} else if end := closingRun(s, at+n, n); end > at+n {
			return at, at + n, end, end + n, spanCode
		}
		from = at + n
	}
}

// closingRun is the index of the first run of exactly n backticks at or
// after from, or -1.
func closingRun(s string, from, n int) int {
	for from < len(s) {
		at := strings.IndexByte(s[from:], '`')
		if at < 0 {
			return -1
		}
		at += from
		r := runLen(s, at, '`')
		if r == n {
			return at
		}
		from = at + r
	}
	return -1
}

func runLen(s string, i int, c byte) int {
	n := 0
	for i+n < len(s) && s[i+n] == c {
		n++
	}
	return n
}

// appendInline parses text outside code: links, then emphasis around
// them.
func appendInline(out []span, text string) []span {
	if text == "" {
		return out
	}
	p := inlineParser{s: text, out: out}
	pos := 0
	for _, seg := range linkify(text) {
		if seg.Link {
			if p.links == nil {
				p.links = map[int]int{}
			}
			p.links[pos] = pos + len(seg.Text)
		}
		pos += len(seg.Text)
	}
	p.parse(0, len(text), false, false)
	return p.out
}

// inlineParser finds emphasis in s, treating the byte ranges in links
// as opaque (a URL's underscores are not markers).
type inlineParser struct {
	s     string
	links map[int]int // start -> end of each link in s
	out   []span
}

// parse appends the spans of s[start:end], which is bold and/or italic.
// A marker whose closer was not found in this range is not searched for
// again in it, so a body full of lone markers parses in linear time.
func (p *inlineParser) parse(start, end int, bold, italic bool) {
	var noCloser [3]bool  // "*", "**", "***" have no closer here
	var noUnderscore bool // "_" has none
	text := start
	flush := func(to int) {
		if to > text {
			p.out = append(p.out, span{Kind: spanText, Text: p.s[text:to], Bold: bold, Italic: italic})
		}
	}
	for i := start; i < end; {
		if l, ok := p.linkAt(i); ok {
			flush(i)
			p.out = append(p.out, span{Kind: spanLink, Text: p.s[i:l], Bold: bold, Italic: italic})
			i, text = l, l
			continue
		}
		c := p.s[i]
		if c != '*' && c != '_' {
			i++
			continue
		}
		n := runLen(p.s[:end], i, c)
		m, b, it := marker(c, n)
		known := c == '_' && noUnderscore || c == '*' && m > 0 && noCloser[m-1]
		if m == 0 || known || (b && bold) || (it && italic) || !p.opens(i, i+n, start, end) {
			i += n
			continue
		}
		closer := p.closerFor(c, m, i+n, end)
		if closer < 0 {
			if c == '_' {
				noUnderscore = true
			} else {
				noCloser[m-1] = true
			}
			i += n
			continue
		}
		flush(i)
		p.parse(i+n, closer, bold || b, italic || it)
		i = closer + m
		text = i
	}
	flush(end)
}

// marker says what a run of n markers c means: its length m (0 when it is
// no marker) and the style it sets. Runs of underscores longer than one
// (__init__) and of asterisks longer than three are literal.
func marker(c byte, n int) (m int, bold, italic bool) {
	switch {
	case c == '_' && n == 1:
		return 1, false, true
	case c == '*' && n == 1:
		return 1, false, true
	case c == '*' && n == 2:
		return 2, true, false
	case c == '*' && n == 3:
		return 3, true, true
	}
	return 0, false, false
}

// closerFor finds the run of exactly m markers c in [from, end) that can
// close an emphasis opened just before from, skipping links; -1 if none.
func (p *inlineParser) closerFor(c byte, m, from, end int) int {
	for j := from; j < end; {
		if l, ok := p.linkAt(j); ok {
			j = l
			continue
		}
		if p.s[j] != c {
			j++
			continue
		}
		n := runLen(p.s[:end], j, c)
		if n == m && j > from && p.closes(j, j+n, end) {
			return j
		}
		j += n
	}
	return -1
}

// opens reports whether the marker run s[i:e] can open: it follows the
// range start, a space or punctuation, and text follows it.
func (p *inlineParser) opens(i, e, start, end int) bool {
	if e >= end || isSpaceAt(p.s, e) {
		return false
	}
	if i == start {
		return true
	}
	r, _ := utf8.DecodeLastRuneInString(p.s[:i])
	return !isWordRune(r)
}

// closes reports whether the marker run s[j:e] can close: text precedes
// it, and the range end, a space or punctuation follows it.
func (p *inlineParser) closes(j, e, end int) bool {
	r, _ := utf8.DecodeLastRuneInString(p.s[:j])
	if unicode.IsSpace(r) {
		return false
	}
	if e >= end {
		return true
	}
	next, _ := utf8.DecodeRuneInString(p.s[e:])
	return !isWordRune(next)
}

func isSpaceAt(s string, i int) bool {
	r, _ := utf8.DecodeRuneInString(s[i:])
	return unicode.IsSpace(r)
}

func isWordRune(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }

// linkAt reports whether a link starts at i, and where it ends.
func (p *inlineParser) linkAt(i int) (end int, ok bool) {
	end, ok = p.links[i]
	return end, ok
}

// mapText replaces every plain-text span (not code, not links) by the
// spans split returns for it, keeping its style. It is the hook for
// passes over the words of a body, such as @mention highlighting:
//
//	spans = mapText(spans, func(s span) []span { ... cut "@nick" into a spanMention ... })
//
// split must return spans whose Text concatenates to s.Text.
func mapText(spans []span, split func(span) []span) []span {
	out := make([]span, 0, len(spans))
	for _, s := range spans {
		if s.Kind != spanText {
			out = append(out, s)
			continue
		}
		for _, x := range split(s) {
			x.Bold, x.Italic = s.Bold, s.Italic
			out = append(out, x)
		}
	}
	return out
}

// flatten is the text of spans without formatting: what a body reads as.
func flatten(spans []span) string {
	var b strings.Builder
	for _, s := range spans {
		b.WriteString(s.Text)
	}
	return b.String()
}

// renderSpans turns spans into go-app elements: text nodes, <strong>,
// <em>, <code>, <pre> and links whose href is set through the DOM. Nothing
// is ever parsed as HTML, so a body can hold any markup as text.
//
// Each span is one element with one text child, never nested elements:
// go-app indents nested elements when it prerenders a page, and in a body
// (white-space: pre-wrap) or a <pre> that indentation would show. A bold
// link is an <a class="strong">, bold italic a <strong class="em">.
func renderSpans(spans []span, nicks nickSet) []app.UI {
	return renderParts(bodyParts(spans, nicks))
}

// bodyPart is a span and, for a span that shows as plain text, its runs
// with the @nicks of the page highlighted (mention.go): what a body's
// rendering needs, computed once per message version (bodymemo.go).
type bodyPart struct {
	span
	segs []mentionSeg
}

// bodyParts resolves the @mentions of spans against nicks.
func bodyParts(spans []span, nicks nickSet) []bodyPart {
	out := make([]bodyPart, len(spans))
	for i, s := range spans {
		out[i].span = s
		if !s.Bold && !s.Italic && (s.Kind == spanText || s.Kind == spanLink && !isHTTPURL(s.Text)) {
			out[i].segs = mentionify(s.Text, nicks)
		}
	}
	return out
}

func renderParts(parts []bodyPart) []app.UI {
	out := make([]app.UI, len(parts))
	for i, p := range parts {
		out[i] = renderSpan(p)
	}
	return out
}

func renderSpan(p bodyPart) app.UI {
	s := p.span
	switch s.Kind {
	case spanCode:
		return app.Code().Class("code").Text(s.Text)
	case spanCodeBlock:
		return app.Pre().Class("codeblock").Attr("dir", "ltr").Text(s.Text)
	case spanLink:
		if !isHTTPURL(s.Text) { // linkify makes none; a later pass might
			break
		}
		a := app.A().Href("%s", s.Text).Attr("rel", "noopener noreferrer nofollow").Attr("target", "_blank")
		if c := styleClasses(s, ""); c != nil {
			a = a.Class(c...)
		}
		return a.Text(s.Text)
	case spanMention:
		return app.Span().Class(styleClasses(s, "mention")...).Text(s.Text)
	}
	switch {
	case s.Bold && s.Italic:
		return app.Strong().Class("em").Text(s.Text)
	case s.Bold:
		return app.Strong().Text(s.Text)
	case s.Italic:
		return app.Em().Text(s.Text)
	}
	return renderMentions(s.Text, p.segs) // mention.go: @nicks highlighted
}

// styleClasses are the classes that give an element s's style (see
// duplex.css), after base.
func styleClasses(s span, base string) []string {
	var c []string
	if base != "" {
		c = append(c, base)
	}
	if s.Bold {
		c = append(c, "strong")
	}
	if s.Italic {
		c = append(c, "em")
	}
	return c
}
