package main

import (
	"testing"
	"time"

	"github.com/duplex-chat/duplex/server"
)

// TestAbuseFlags: issue #14's flags reach server.Options: the search
// budget, and each rate per connection and twice per user; a negative
// rate is unlimited, none given leaves the defaults (zero), and
// -no-limits keeps every rate off but still bounds searches.
func TestAbuseFlags(t *testing.T) {
	noEnv := func(string) string { return "" }
	c, err := parseConfig([]string{"-search-timeout", "500ms", "-max-searches", "3", "-search-max-terms", "5", "-search-min-prefix", "3",
		"-rate-invite", "4", "-rate-typing", "-1", "-rate-members", "7"}, noEnv)
	if err != nil {
		t.Fatal(err)
	}
	var o server.Options
	c.abuse.apply(&o, c.limits.off)
	if o.SearchTimeout != 500*time.Millisecond || o.MaxSearches != 3 || o.SearchMaxTerms != 5 || o.SearchMinPrefix != 3 {
		t.Errorf("search budget: %v %d %d %d", o.SearchTimeout, o.MaxSearches, o.SearchMaxTerms, o.SearchMinPrefix)
	}
	l := o.Limits
	if l.Conn.Invite.PerSecond != 4 || l.User.Invite.PerSecond != 8 || l.Conn.Members.PerSecond != 7 || l.User.Members.PerSecond != 14 {
		t.Errorf("rates: invite %+v/%+v members %+v/%+v", l.Conn.Invite, l.User.Invite, l.Conn.Members, l.User.Members)
	}
	if l.Conn.Typing != server.Unlimited || l.User.Typing != server.Unlimited {
		t.Errorf("-rate-typing -1: %+v/%+v, want unlimited", l.Conn.Typing, l.User.Typing)
	}
	if l.Conn.Nick != (server.Rate{}) || l.Conn.Auth != (server.Rate{}) || l.Conn.Remove != (server.Rate{}) {
		t.Errorf("rates not given are not the defaults: %+v %+v %+v", l.Conn.Nick, l.Conn.Auth, l.Conn.Remove)
	}
	c, err = parseConfig([]string{"-no-limits", "-rate-nick", "3", "-search-timeout", "1s"}, noEnv)
	if err != nil {
		t.Fatal(err)
	}
	o = server.Options{Limits: c.limits.server()}
	c.abuse.apply(&o, c.limits.off)
	if o.Limits.Conn.Nick != server.Unlimited || o.SearchTimeout != time.Second {
		t.Errorf("-no-limits: nick %+v, search timeout %v", o.Limits.Conn.Nick, o.SearchTimeout)
	}
}
