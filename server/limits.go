package server

import (
	"context"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/duplex-chat/duplex/shared"
	"golang.org/x/time/rate"
)

// Rate is a token bucket: PerSecond requests per second on average, up to
// Burst at once.
type Rate struct {
	// PerSecond is the sustained rate. Zero means the default of the field
	// it is in; negative means unlimited.
	PerSecond float64
	// Burst is how many requests may come back to back. Zero means
	// max(1, 2×PerSecond).
	Burst int
}

// Unlimited is a Rate that never refuses.
var Unlimited = Rate{PerSecond: -1}

// RequestRates holds one Rate per kind of request a client may repeat.
type RequestRates struct {
	Send    Rate // send
	Join    Rate // join, create and dm (leave is free: it releases resources)
	Create  Rate // a join, create or dm that creates a room
	History Rate // history
	Rooms   Rate // rooms
	Read    Rate // read (moving a read marker writes to the store)
	Search  Rate // search
	// Upload counts bytes, not requests: the image bytes of uploads per
	// second. Its Burst is at least shared.MaxImageBytes.
	Upload Rate
	// Typing limits typing frames; those over it are dropped without an
	// answer (they are not requests).
	Typing Rate
	// Issue #14: every other request kind a client may repeat.
	Invite  Rate // invite
	Remove  Rate // remove
	Nick    Rate // nick
	Auth    Rate // auth (a credential check each)
	Members Rate // members (a page of a room's member list)
}

// Limits bound how fast one connection, and one user over all of its
// connections, may make requests. A request over a limit is answered with
// error rate_limited carrying retry_after; a connection whose requests keep
// being refused is closed with 1008 (shared.ClosePolicy). The zero value
// picks every default below; set a Rate to Unlimited to lift one limit.
type Limits struct {
	// Conn limits each connection. Zero fields mean: send 10/s burst 50,
	// join 20/s burst 100, create 2/s burst 10, history 10/s burst 40,
	// rooms 2/s burst 10, read 5/s burst 20, search 2/s burst 10,
	// upload 1 MiB/s burst 16 MiB,
	// typing 2/s burst 10, invite 5/s burst 20, remove 5/s burst 20,
	// nick 1/s burst 5, auth 1/s burst 5, members 5/s burst 20.
	Conn RequestRates
	// User limits each user (the session's member.User) over all of its
	// connections. Zero fields mean twice the Conn defaults.
	User RequestRates
	// MaxCreated caps the rooms one connection may create. Over the cap a
	// join of a new room is answered with rate_limited without
	// retry_after. Zero means 100; negative means no cap.
	MaxCreated int
	// Refusals is the budget of refused requests a connection may spend
	// before it is closed with 1008: a client that honours retry_after
	// rarely spends any, a flood spends it in milliseconds. Zero means
	// 50/s burst 1000 (so a client that pipelined ~1,000 requests past
	// a limit survives its refusals).
	Refusals Rate
	// TypingExcess is the budget of typing frames over the Typing rate
	// (dropped without an answer) a connection may send before it is
	// closed with 1008: a client that sends one every few seconds never
	// spends any; a flood spends it at once. Zero means 10/s burst 100.
	TypingExcess Rate
	// UserIdle is how long an idle user's limiters are kept in memory.
	// Zero means one minute or the longest time a bucket takes to refill,
	// whichever is longer: a limiter dropped later is as full as a new one.
	UserIdle time.Duration
}

// requestKind indexes the limiters of one connection or user.
type requestKind int

const (
	kindSend requestKind = iota
	kindJoin
	kindCreate
	kindHistory
	kindRooms
	kindRead
	kindSearch
	kindUpload
	kindTyping
	kindInvite
	kindRemove
	kindNick
	kindAuth
	kindMembers
	numKinds
)

var kindNames = [numKinds]string{"send", "join", "room creation", "history", "rooms", "read", "search", "upload", "typing",
	"invite", "remove", "nick", "auth", "members"}

func (r *RequestRates) byKind() [numKinds]*Rate {
	return [numKinds]*Rate{&r.Send, &r.Join, &r.Create, &r.History, &r.Rooms, &r.Read, &r.Search, &r.Upload, &r.Typing,
		&r.Invite, &r.Remove, &r.Nick, &r.Auth, &r.Members}
}

var defaultConnRates = RequestRates{
	Send:    Rate{10, 50},
	Join:    Rate{20, 100},
	Create:  Rate{2, 10},
	History: Rate{10, 40},
	Rooms:   Rate{2, 10},
	Read:    Rate{5, 20},
	Search:  Rate{2, 10},
	Upload:  Rate{1 << 20, 16 << 20},
	Typing:  Rate{2, 10},
	Invite:  Rate{5, 20},
	Remove:  Rate{5, 20},
	Nick:    Rate{1, 5},
	Auth:    Rate{1, 5},
	Members: Rate{5, 20},
}

func (r Rate) withDefault(def Rate) Rate {
	if r.PerSecond == 0 {
		r = def
	}
	if r.Burst <= 0 {
		r.Burst = max(1, int(math.Ceil(2*r.PerSecond)))
	}
	return r
}

func (l Limits) withDefaults() Limits {
	conn, user := l.Conn.byKind(), l.User.byKind()
	def := defaultConnRates.byKind()
	for k := range numKinds {
		*conn[k] = conn[k].withDefault(*def[k])
		*user[k] = user[k].withDefault(Rate{2 * def[k].PerSecond, 2 * def[k].Burst})
	}
	// An upload takes its size in tokens at once: a smaller burst would
	// refuse the largest images forever.
	for _, r := range []*Rate{&l.Conn.Upload, &l.User.Upload} {
		r.Burst = max(r.Burst, shared.MaxImageBytes)
	}
	if l.MaxCreated == 0 {
		l.MaxCreated = 100
	}
	l.Refusals = l.Refusals.withDefault(Rate{50, 1000})
	l.TypingExcess = l.TypingExcess.withDefault(Rate{10, 100})
	if l.UserIdle <= 0 {
		l.UserIdle = time.Minute
		for _, r := range user {
			if r.PerSecond > 0 {
				l.UserIdle = max(l.UserIdle, time.Duration(float64(r.Burst)/r.PerSecond*float64(time.Second)))
			}
		}
	}
	return l
}

// newLimiter returns nil for an unlimited Rate.
func (r Rate) newLimiter() *rate.Limiter {
	if r.PerSecond < 0 {
		return nil
	}
	return rate.NewLimiter(rate.Limit(r.PerSecond), r.Burst)
}

// limiters is one token bucket per request kind; nil ones never refuse.
type limiters [numKinds]*rate.Limiter

func newLimiters(r RequestRates) *limiters {
	var l limiters
	for k, rt := range r.byKind() {
		l[k] = rt.newLimiter()
	}
	return &l
}

// userLimits are the limiters one user's connections share.
type userLimits struct {
	lim      *limiters
	lastUsed time.Time // guarded by Server.limMu
}

// userLimiters returns the shared limiters of user, creating them.
func (srv *Server) userLimiters(user string, now time.Time) *limiters {
	srv.limMu.Lock()
	defer srv.limMu.Unlock()
	u := srv.limUsers[user]
	if u == nil {
		u = &userLimits{lim: newLimiters(srv.opts.Limits.User)}
		srv.limUsers[user] = u
	}
	u.lastUsed = now
	return u.lim
}

// forgetIdleUsers drops the limiters of users idle for UserIdle: by then
// their buckets are full, the same as new ones, so nothing is lost.
func (srv *Server) forgetIdleUsers(now time.Time) {
	srv.limMu.Lock()
	defer srv.limMu.Unlock()
	for user, u := range srv.limUsers {
		if now.Sub(u.lastUsed) >= srv.opts.Limits.UserIdle {
			delete(srv.limUsers, user)
		}
	}
}

// userJanitor runs forgetIdleUsers until the server stops.
func (srv *Server) userJanitor() {
	t := time.NewTicker(max(srv.opts.Limits.UserIdle/4, time.Second))
	defer t.Stop()
	for {
		select {
		case now := <-t.C:
			srv.forgetIdleUsers(now)
		case <-srv.quit:
			return
		}
	}
}

// connLimits is a session's own limiters and counters.
type connLimits struct {
	mu       sync.Mutex
	lim      *limiters
	refusals *rate.Limiter // nil: never close for refusals
	excess   *rate.Limiter // typing frames over the limit; nil: never close for them
	created  int           // rooms this connection created
}

func newConnLimits(l Limits) *connLimits {
	return &connLimits{lim: newLimiters(l.Conn), refusals: l.Refusals.newLimiter(), excess: l.TypingExcess.newLimiter()}
}

// take spends one token of kind from both a and b, or none when either
// has none, and then says how long until both would have one.
func take(now time.Time, n int, a, b *rate.Limiter) (ok bool, wait time.Duration) {
	var rs []*rate.Reservation
	for _, l := range []*rate.Limiter{a, b} {
		if l == nil {
			continue
		}
		r := l.ReserveN(now, n)
		rs = append(rs, r)
		if !r.OK() {
			wait = time.Hour
		} else {
			wait = max(wait, r.DelayFrom(now))
		}
	}
	if wait == 0 {
		return true, 0
	}
	for _, r := range rs {
		r.CancelAt(now)
	}
	return false, wait
}

// allow checks the connection's and its user's limit for a request of
// kind. When refused it answers request id with rate_limited and reports
// false; a connection that spent its refusal budget is closed with 1008.
func (s *session) allow(id string, kind requestKind) bool { return s.allowN(id, kind, 1) }

// allowN is allow for a request that costs n tokens (an upload: its bytes).
func (s *session) allowN(id string, kind requestKind, n int) bool {
	ok, wait := s.take(kind, n)
	if ok {
		return true
	}
	s.refuse(id, wait, "too many %s requests; retry after %v", kindNames[kind], wait.Round(time.Millisecond))
	return false
}

// take spends n tokens of kind from the connection's and the user's
// limiters, or none, and says how long until both would have them.
func (s *session) take(kind requestKind, n int) (bool, time.Duration) {
	if s.limits.lim[kind] == nil && s.srv.opts.Limits.User.byKind()[kind].PerSecond < 0 {
		return true, 0 // unlimited: no clock, no shared map
	}
	now := time.Now()
	user := s.srv.userLimiters(s.member.User, now)
	s.limits.mu.Lock()
	defer s.limits.mu.Unlock()
	return take(now, n, s.limits.lim[kind], user[kind])
}

// allowQuietly spends a token of kind like allow, but refuses without an
// answer and without spending the refusal budget: for frames that are not
// requests (typing), whose excess is simply dropped. Each one dropped
// spends the TypingExcess budget instead; a connection that spent it is
// closed with 1008.
func (s *session) allowQuietly(kind requestKind) bool {
	if s.limits.lim[kind] == nil && s.srv.opts.Limits.User.byKind()[kind].PerSecond < 0 {
		return true
	}
	now := time.Now()
	user := s.srv.userLimiters(s.member.User, now)
	s.limits.mu.Lock()
	ok, _ := take(now, 1, s.limits.lim[kind], user[kind])
	s.limits.mu.Unlock()
	if !ok {
		if e := s.limits.excess; e != nil && !e.AllowN(now, 1) {
			s.srv.log.Info("closing a connection that floods typing frames", "session", s.id, "user", s.member.User)
			s.close(shared.ClosePolicy, "typing frames over the limit", stopReading)
		}
	}
	return ok
}

// allowCreate is allow for a join that creates a room, with the
// per-connection cap on rooms created.
func (s *session) allowCreate(id string) bool {
	s.limits.mu.Lock()
	over := s.srv.opts.Limits.MaxCreated >= 0 && s.limits.created >= s.srv.opts.Limits.MaxCreated
	s.limits.mu.Unlock()
	if over {
		s.refuse(id, 0, "this connection may create at most %d rooms", s.srv.opts.Limits.MaxCreated)
		return false
	}
	if !s.allow(id, kindCreate) {
		return false
	}
	s.limits.mu.Lock()
	s.limits.created++
	s.limits.mu.Unlock()
	return true
}

// refuse answers id with rate_limited, or closes the connection with 1008
// once its refusal budget is spent.
func (s *session) refuse(id string, wait time.Duration, format string, args ...any) {
	s.srv.metrics.rateLimited.Inc()
	if r := s.limits.refusals; r != nil && !r.Allow() {
		s.srv.log.Info("closing a connection that ignores rate limits", "session", s.id, "user", s.member.User)
		s.close(shared.ClosePolicy, "rate limits exceeded repeatedly", stopReading)
		return
	}
	ef := &shared.ErrorFrame{Code: shared.CodeRateLimited, Message: fmt.Sprintf(format, args...)}
	if wait > 0 {
		ef.RetryAfter = max(1, int64((wait+time.Millisecond-1)/time.Millisecond))
	}
	s.reply(shared.TypeError, id, ef)
	// Stop reading this connection for a moment (this runs on its
	// reader): a flood then costs the server at most 1/refusalPause
	// refusals a second, not every cycle it can get, and the other
	// connections keep their share of the CPU.
	pause := refusalPause
	if wait > 0 {
		pause = min(wait, pause)
	}
	select {
	case <-time.After(pause):
	case <-s.ctx.Done():
	}
}

// refusalPause is the longest a refused request stops its connection's
// reader.
const refusalPause = 10 * time.Millisecond

// limitedKinds says which limit a request of each type counts against.
var limitedKinds = map[shared.Type]requestKind{
	shared.TypeSend: kindSend, shared.TypeJoin: kindJoin, shared.TypeCreate: kindJoin, shared.TypeDM: kindJoin,
	shared.TypeHistory: kindHistory, shared.TypeRooms: kindRooms, shared.TypeRead: kindRead, shared.TypeSearch: kindSearch,
	shared.TypeInvite: kindInvite, shared.TypeRemove: kindRemove, shared.TypeNick: kindNick, shared.TypeAuth: kindAuth,
	shared.TypeMembers: kindMembers,
}

// isNewRoom reports whether joining name would create it. (A store error
// reads as "exists": the join reports it.)
func (srv *Server) isNewRoom(ctx context.Context, name string) bool {
	_, ok, err := srv.opts.Store.Room(ctx, name)
	return err == nil && !ok
}

// NoLimits returns Limits that never refuse a request: for benchmarks,
// load tests and tests that flood on purpose.
func NoLimits() Limits {
	all := RequestRates{Send: Unlimited, Join: Unlimited, Create: Unlimited, History: Unlimited, Rooms: Unlimited, Read: Unlimited, Search: Unlimited, Upload: Unlimited, Typing: Unlimited,
		Invite: Unlimited, Remove: Unlimited, Nick: Unlimited, Auth: Unlimited, Members: Unlimited}
	return Limits{Conn: all, User: all, MaxCreated: -1, Refusals: Unlimited, TypingExcess: Unlimited}
}
