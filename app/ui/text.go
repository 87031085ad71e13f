package ui

import (
	"strings"
	"time"
)

// segment is a run of a message body: plain text, or an http(s) link.
type segment struct {
	Text string
	Link bool
}

// linkify splits body into text and http/https links. A link ends at
// whitespace or at a character that may not appear unescaped in a URL
// and could close an HTML attribute or start a tag (" ' < > `), and loses
// trailing punctuation that usually ends a sentence or closes emphasis
// (in **https://example.com** the link ends before the "**"). Nothing
// else becomes a link: javascript:, data: and bare domains stay text. The UI renders
// segments as text nodes and as an href set through the DOM, so a body
// never becomes markup.
func linkify(body string) []segment {
	var out []segment
	for body != "" {
		i := linkStart(body)
		if i < 0 {
			out = append(out, segment{Text: body})
			break
		}
		end := i
		for end < len(body) && !linkStop(body[end]) {
			end++
		}
		for end > i && strings.IndexByte(".,;:!?)]}*_", body[end-1]) >= 0 && !balancedParen(body[i:end]) {
			end--
		}
		link := body[i:end]
		if rest := link[strings.IndexByte(link, ':')+3:]; rest == "" || rest[0] == '/' {
			out = append(out, segment{Text: body[:end]}) // "http://" alone or no host
			body = body[end:]
			continue
		}
		if i > 0 {
			out = append(out, segment{Text: body[:i]})
		}
		out = append(out, segment{Text: link, Link: true})
		body = body[end:]
	}
	return out
}

// linkStart is the index of the first "http://" or "https://" (any case)
// that starts a word, or -1. It compares ASCII case-insensitively in place:
// strings.ToLower may change a string's length (U+212A KELVIN SIGN becomes
// "k", invalid bytes become U+FFFD), and indices found in a lowered copy
// once pointed a link at "javascript:" text before the URL.
func linkStart(s string) int {
	for i := 0; i+7 <= len(s); i++ {
		if s[i]|0x20 != 'h' || !hasPrefixFold(s[i:], "http://") && !hasPrefixFold(s[i:], "https://") {
			continue
		}
		if i == 0 || linkStop(s[i-1]) || strings.IndexByte("([{*_", s[i-1]) >= 0 {
			return i
		}
	}
	return -1
}

// hasPrefixFold is strings.HasPrefix for an ASCII lower-case prefix,
// ignoring the case of s's ASCII letters.
func hasPrefixFold(s, prefix string) bool {
	if len(s) < len(prefix) {
		return false
	}
	for i := 0; i < len(prefix); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != prefix[i] {
			return false
		}
	}
	return true
}

// isHTTPURL reports whether a link may become an href: only http and https.
func isHTTPURL(s string) bool { return hasPrefixFold(s, "http://") || hasPrefixFold(s, "https://") }

func linkStop(c byte) bool {
	return c <= ' ' || c == '"' || c == '\'' || c == '<' || c == '>' || c == '`' || c == 0x7f
}

// balancedParen keeps a closing parenthesis that closes one opened inside
// the link (Wikipedia-style URLs).
func balancedParen(link string) bool {
	return strings.HasSuffix(link, ")") && strings.Count(link, "(") >= strings.Count(link, ")")
}

// groupGap is how close in time two messages of one author must be to
// share a header.
const groupGap = 5 * time.Minute

// sameDay reports whether a and b fall on the same local calendar day.
func sameDay(a, b time.Time) bool {
	ay, am, ad := a.Date()
	by, bm, bd := b.Date()
	return ay == by && am == bm && ad == bd
}

// dayLabel names the local day of t relative to now.
func dayLabel(t, now time.Time) string {
	switch {
	case sameDay(t, now):
		return "Today"
	case sameDay(t, now.AddDate(0, 0, -1)):
		return "Yesterday"
	case t.Year() == now.Year():
		return t.Format("Monday, 2 January")
	}
	return t.Format("Monday, 2 January 2006")
}

// fullTime is the tooltip of a message time: the full local date.
func fullTime(t time.Time) string { return t.Format("Monday, 2 January 2006 at 15:04:05 MST") }
