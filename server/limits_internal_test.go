package server

import (
	"testing"
	"time"
)

// TestIdleUserLimitersForgotten: per-user limiters live in a map on the
// Server; the janitor drops those idle for UserIdle (when their buckets
// are full again, so dropping them loses nothing) and keeps busy ones.
func TestIdleUserLimitersForgotten(t *testing.T) {
	srv, err := New(&Options{Limits: Limits{UserIdle: time.Minute}})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { close(srv.quit); <-srv.prunerEnd }()
	now := time.Now()
	idle := srv.userLimiters("u-idle", now)
	srv.userLimiters("u-busy", now)
	srv.userLimiters("u-busy", now.Add(50*time.Second))
	if srv.userLimiters("u-idle", now) != idle {
		t.Fatal("a user's connections must share one set of limiters")
	}
	srv.forgetIdleUsers(now.Add(61 * time.Second))
	srv.limMu.Lock()
	_, idleKept := srv.limUsers["u-idle"]
	_, busyKept := srv.limUsers["u-busy"]
	srv.limMu.Unlock()
	if idleKept || !busyKept {
		t.Fatalf("after a minute: idle user kept %v (want false), busy user kept %v (want true)", idleKept, busyKept)
	}
}

// TestUserIdleCoversRefill: the default UserIdle is at least the time
// the slowest user bucket takes to refill, so a dropped limiter is never
// fuller than the one it replaces would have been.
func TestUserIdleCoversRefill(t *testing.T) {
	l := Limits{User: RequestRates{History: Rate{PerSecond: 0.01, Burst: 10}}}.withDefaults()
	if l.UserIdle < 1000*time.Second {
		t.Fatalf("UserIdle %v, want at least 1000s (10 tokens at 0.01/s)", l.UserIdle)
	}
}
