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
// trailing punctuation that usually ends a sentence. Nothing else becomes
// a link: javascript:, data: and bare domains stay text. The UI renders
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
		for end > i && strings.IndexByte(".,;:!?)]}", body[end-1]) >= 0 && !balancedParen(body[i:end]) {
			end--
		}
		link := body[i:end]
		if rest := strings.TrimPrefix(strings.TrimPrefix(link, "https://"), "http://"); rest == "" || rest[0] == '/' {
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
// that starts a word, or -1.
func linkStart(s string) int {
	lower := strings.ToLower(s)
	from := 0
	for {
		i := strings.Index(lower[from:], "http")
		if i < 0 {
			return -1
		}
		i += from
		rest := lower[i:]
		word := i == 0 || linkStop(lower[i-1]) || strings.IndexByte("([{", lower[i-1]) >= 0
		if word && (strings.HasPrefix(rest, "http://") || strings.HasPrefix(rest, "https://")) {
			return i
		}
		from = i + 4
	}
}

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
