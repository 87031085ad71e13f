package store

import (
	"context"
	"strings"
	"unicode"

	"github.com/duplex-chat/duplex/shared"
)

// Reads keeps each user's read marker per room and counts what is unread
// after it. Every Store implements it (Store embeds it).
type Reads interface {
	// ReadState returns user's marker in room and the counts after it;
	// Marked is false (and the counts 0) when the user has no marker.
	ReadState(ctx context.Context, room, user string) (ReadState, error)
	// MarkRead moves user's marker in room up to seq; a seq at or below
	// the stored marker changes nothing. It returns the state after.
	MarkRead(ctx context.Context, room, user string, seq int64) (ReadState, error)
	// InitRead sets user's marker in room to seq unless they have one: the
	// server calls it on a user's first join, so a newcomer does not find
	// the whole history unread. A store may write it lazily (in batches),
	// but ReadState and MarkRead see it as soon as InitRead returns.
	InitRead(ctx context.Context, room, user string, seq int64) error
}

// ReadState is a user's read marker in a room and what is left after it.
type ReadState struct {
	Marked bool  // the user has a marker in the room
	Read   int64 // the seq read up to
	// Unread counts the messages of others (Kind "", not deleted) after
	// Read, Mentioned those of them whose Mentions hold the user. Both
	// stop at MaxUnread.
	Unread    int
	Mentioned int
}

// MaxUnread caps the unread counts, so counting after an old marker in a
// busy room stays cheap; a UI shows it as "9999+".
const MaxUnread = 9999

// Searcher finds messages by their words. Every Store implements it.
type Searcher interface {
	// Search returns up to q.Limit messages (Kind "", not deleted, in their
	// latest state) of the rooms q.User may read (public rooms, and the
	// private and DM rooms whose access list holds q.User), only q.Room
	// when set, matching q.Query (see Terms), newest first. next, when not
	// 0, is the Before of the following page.
	Search(ctx context.Context, q SearchQuery) (msgs []shared.Message, next int64, err error)
}

// SearchQuery selects one page of search results.
type SearchQuery struct {
	User  string
	Query string
	Room  string // empty: every room User may read
	// Before is an opaque cursor: the next of an earlier page, 0 for the
	// newest results.
	Before int64
	Limit  int
}

// Terms splits a search query into the words it matches: runs of letters,
// digits and combining marks, lower-cased. Everything else separates
// words, so quotes, stars, parentheses and operators in user input are
// never query syntax. A message matches when each term starts a word of
// its body (so "hel" finds "Hello"). No terms: nothing matches.
func Terms(query string) []string {
	return strings.FieldsFunc(strings.ToLower(query), func(r rune) bool {
		return !(unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r))
	})
}

// MatchTerms reports whether every term starts a word of body: the search
// of stores without a full-text index.
func MatchTerms(body string, terms []string) bool {
	if len(terms) == 0 {
		return false
	}
	words := Terms(body)
	for _, t := range terms {
		found := false
		for _, w := range words {
			if strings.HasPrefix(w, t) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// Unread reports whether m counts as unread for user: a message (not an
// event) of someone else, not deleted.
func Unread(m *shared.Message, user string) bool {
	return m.Kind == shared.KindMessage && !m.Deleted && m.Author.User != user
}

// Mentions reports whether m mentions user.
func Mentions(m *shared.Message, user string) bool {
	for _, u := range m.Mentions {
		if u == user {
			return true
		}
	}
	return false
}
