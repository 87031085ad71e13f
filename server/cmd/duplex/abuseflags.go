package main

import (
	"flag"
	"time"

	"github.com/duplex-chat/duplex/server"
)

// abuseFlags are issue #14's flags: the search budget and the rate limits
// of the request kinds that had none as flags (see server.Options and
// server.Limits).
type abuseFlags struct {
	searchTimeout                                time.Duration
	maxSearches, searchMaxTerms, searchMinPrefix int
	// per connection, twice per user; 0: default, negative: unlimited
	read, search, typing, invite, remove, nick, auth, members float64
}

func (f *abuseFlags) register(fs *flag.FlagSet) {
	fs.DurationVar(&f.searchTimeout, "search-timeout", 0, "longest a search may take, its wait for a turn included; past it, search_timeout (0: 2s)")
	fs.IntVar(&f.maxSearches, "max-searches", 0, "searches running at once over the server; more wait for a turn (0: 2)")
	fs.IntVar(&f.searchMaxTerms, "search-max-terms", 0, "most words a search may look up; more is search_too_broad (0: 8)")
	fs.IntVar(&f.searchMinPrefix, "search-min-prefix", 0, "fewest characters a search word needs; shorter ones are ignored, a search of only such words is search_too_broad (0: 2)")
	for _, r := range []struct {
		v                     *float64
		name, what, note, def string
	}{
		{&f.read, "read", "read-marker requests", "", "5/s burst 20"},
		{&f.search, "search", "searches", "", "2/s burst 10"},
		{&f.typing, "typing", "typing frames", "; more are dropped, a flood is closed with 1008", "2/s burst 10"},
		{&f.invite, "invite", "invites", "", "5/s burst 20"},
		{&f.remove, "remove", "removals", "", "5/s burst 20"},
		{&f.nick, "nick", "nickname changes", "", "1/s burst 5"},
		{&f.auth, "auth", "auth (credential refresh) requests", "", "1/s burst 5"},
		{&f.members, "members", "member-list pages", "", "5/s burst 20"},
	} {
		fs.Float64Var(r.v, "rate-"+r.name, 0, r.what+" per second per connection"+r.note+" (0: default "+r.def+"; negative: unlimited)")
	}
}

// apply sets the search budget in o, and the rates unless every limit is
// off (-no-limits).
func (f abuseFlags) apply(o *server.Options, limitsOff bool) {
	o.SearchTimeout, o.MaxSearches, o.SearchMaxTerms, o.SearchMinPrefix = f.searchTimeout, f.maxSearches, f.searchMaxTerms, f.searchMinPrefix
	if limitsOff {
		return
	}
	l := &o.Limits
	conn := []*server.Rate{&l.Conn.Read, &l.Conn.Search, &l.Conn.Typing, &l.Conn.Invite, &l.Conn.Remove, &l.Conn.Nick, &l.Conn.Auth, &l.Conn.Members}
	user := []*server.Rate{&l.User.Read, &l.User.Search, &l.User.Typing, &l.User.Invite, &l.User.Remove, &l.User.Nick, &l.User.Auth, &l.User.Members}
	for i, v := range []float64{f.read, f.search, f.typing, f.invite, f.remove, f.nick, f.auth, f.members} {
		switch {
		case v < 0:
			*conn[i], *user[i] = server.Unlimited, server.Unlimited
		case v > 0:
			*conn[i] = server.Rate{PerSecond: v}
			*user[i] = server.Rate{PerSecond: 2 * v}
		}
	}
}
