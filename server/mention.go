package server

import (
	"context"
	"slices"
	"unicode"

	"github.com/duplex-chat/duplex/shared"
)

// Mentions are resolved by the server when a message is sent, never by
// the client: an @ followed by the nickname of a user present in the
// room (or, in a DM, of the other user) names that user, compared by
// shared.NickKey so that a look-alike spelling (other case, Cyrillic
// letters, full-width forms) names the same user the nickname rules say
// it looks like. The longest nickname that fits wins ("@Ann Lee" is Ann
// Lee, not Ann), and it must end at a word boundary ("@Annie" is not
// Ann). An @ inside a word (an e-mail address) mentions nobody. The ids
// are stored with the message and fixed: an edit does not change them.

// maxMentionScans bounds the @ signs one message is scanned at, so a body
// of 4,000 @ costs no more than a handful of lookups each.
const maxMentionScans = 64

// mentions resolves the @nicks of body in r for its author.
func (srv *Server) mentions(ctx context.Context, r *room, body string) []string {
	var at []int // rune offsets just after each @ that starts a word
	runes := []rune(body)
	for i, c := range runes {
		if c == '@' && (i == 0 || !isWordRune(runes[i-1])) && len(at) < maxMentionScans {
			at = append(at, i+1)
		}
	}
	if len(at) == 0 {
		return nil
	}
	peers := srv.dmPeers(ctx, r) // NickKey -> user, for a DM's offline peer
	var out []string
	seen := make(map[string]bool)
	for _, start := range at {
		best := ""
		for n := 1; n <= shared.MaxNickRunes && start+n <= len(runes); n++ {
			if start+n < len(runes) && isWordRune(runes[start+n]) && isWordRune(runes[start+n-1]) {
				continue // not the end of a word
			}
			key := shared.NickKey(string(runes[start : start+n]))
			if key == "" {
				continue
			}
			if u := srv.presentByKey(r, key); u != "" {
				best = u
			} else if u := peers[key]; u != "" {
				best = u
			}
		}
		if best != "" && !seen[best] {
			seen[best] = true
			out = append(out, best)
		}
	}
	slices.Sort(out) // the order stores return them in
	return out
}

// presentByKey returns the user whose nickname has key, if they are
// present in r: online on this node, or reported in r by another node of
// a cluster (peers.go).
func (srv *Server) presentByKey(r *room, key string) string {
	srv.mu.Lock()
	h := srv.nicks[key]
	user := ""
	if h != nil {
		user = h.user
	}
	srv.mu.Unlock()
	if user == "" && srv.opts.Peers == nil {
		return "" // alone: nobody else can be present
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if user == "" {
		user = r.remoteKeys[key]
	}
	if r.users[user] == nil {
		return ""
	}
	return user
}

// dmPeers maps the NickKey of each user of a DM room to their id: the
// other user can be mentioned there even when away.
func (srv *Server) dmPeers(ctx context.Context, r *room) map[string]string {
	r.mu.Lock()
	meta := r.meta
	r.mu.Unlock()
	if meta.Kind != shared.RoomDM {
		return nil
	}
	out := make(map[string]string, len(meta.Users))
	for _, u := range meta.Users {
		if m, err := srv.lookupUser(ctx, u); err == nil && m != nil {
			out[shared.NickKey(m.Nick)] = u
		}
	}
	return out
}

// isWordRune reports whether r continues a word: a nickname mention must
// not end inside one.
func isWordRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_'
}
