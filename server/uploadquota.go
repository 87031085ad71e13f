package server

import (
	"context"
	"sync"
	"time"

	"github.com/duplex-chat/duplex/server/files"
)

// Uploads that belong to something (issue #14): a per-user and
// per-address quota of uploaded bytes over a window, and a sweep that
// removes images no message used within Options.UnusedUploadTTL.

// quotaWindow is what one user or address uploaded in the current window.
type quotaWindow struct {
	start time.Time
	bytes int64
}

// uploadQuota counts uploaded bytes per user and per address in fixed
// windows of Options.UploadQuotaWindow.
type uploadQuota struct {
	perUser, perAddr int64 // negative: no quota
	window           time.Duration

	mu    sync.Mutex
	users map[string]*quotaWindow
	addrs map[string]*quotaWindow
}

func newUploadQuota(o Options) *uploadQuota {
	return &uploadQuota{
		perUser: o.UploadQuota, perAddr: o.UploadQuotaPerAddr, window: o.UploadQuotaWindow,
		users: map[string]*quotaWindow{}, addrs: map[string]*quotaWindow{},
	}
}

// current returns key's window in m, starting a new one when the last ended.
func (q *uploadQuota) current(m map[string]*quotaWindow, key string, now time.Time) *quotaWindow {
	w := m[key]
	if w == nil || now.Sub(w.start) >= q.window {
		w = &quotaWindow{start: now}
		m[key] = w
	}
	return w
}

// take counts n bytes for user and addr, or nothing when either quota
// would be exceeded; then it says how long until that window ends, and
// which quota it is.
func (q *uploadQuota) take(user, addr string, n int64, now time.Time) (ok bool, wait time.Duration, which string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	var u, a *quotaWindow
	if q.perUser >= 0 {
		if u = q.current(q.users, user, now); u.bytes+n > q.perUser {
			return false, u.start.Add(q.window).Sub(now), "your"
		}
	}
	if q.perAddr >= 0 {
		if a = q.current(q.addrs, addr, now); a.bytes+n > q.perAddr {
			return false, a.start.Add(q.window).Sub(now), "your address's"
		}
	}
	for _, w := range []*quotaWindow{u, a} {
		if w != nil {
			w.bytes += n
		}
	}
	return true, 0, ""
}

// refund gives back n bytes of an upload that was not stored.
func (q *uploadQuota) refund(user, addr string, n int64) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, w := range []*quotaWindow{q.users[user], q.addrs[addr]} {
		if w != nil {
			w.bytes = max(0, w.bytes-n)
		}
	}
}

// forget drops the windows that ended: they cost memory and say nothing.
func (q *uploadQuota) forget(now time.Time) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, m := range []map[string]*quotaWindow{q.users, q.addrs} {
		for k, w := range m {
			if now.Sub(w.start) >= q.window {
				delete(m, k)
			}
		}
	}
}

// takeUploadQuota counts an upload of n bytes against its user's and
// address's quotas, or answers request id with rate_limited and
// retry_after and reports false.
func (s *session) takeUploadQuota(id string, n int64) bool {
	q := s.srv.uploads.quota
	ok, wait, which := q.take(s.member.User, s.addr, n, time.Now())
	if !ok {
		limit := q.perUser
		if which != "your" {
			limit = q.perAddr
		}
		s.refuse(id, wait, "upload quota: %s uploads may total %d MiB per %v; retry after %v",
			which, limit>>20, q.window, wait.Round(time.Second))
	}
	return ok
}

// sweepUploads removes unused uploads (Options.UnusedUploadTTL) from a
// Files that is a files.Sweeper, and forgets ended quota windows, until
// the server stops.
func (srv *Server) sweepUploads() {
	defer close(srv.uploads.sweeperEnd)
	ttl := srv.opts.UnusedUploadTTL
	sw, ok := srv.opts.Files.(files.Sweeper)
	if !ok || ttl < 0 {
		ttl = time.Minute // the quota windows still need forgetting
	}
	t := time.NewTicker(min(max(ttl/4, 100*time.Millisecond), time.Minute))
	defer t.Stop()
	for {
		select {
		case <-srv.quit:
			return
		case now := <-t.C:
			srv.uploads.quota.forget(now)
			if sw == nil || srv.opts.UnusedUploadTTL < 0 {
				continue
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			removed, freed, err := sw.RemoveUnused(ctx, now.Add(-ttl))
			cancel()
			if err != nil {
				srv.log.Warn("removing unused uploads", "err", err)
			} else if removed > 0 {
				srv.log.Info("removed unused uploads", "images", removed, "bytes", freed)
			}
		}
	}
}
