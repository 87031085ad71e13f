package server

import (
	"log/slog"
	"sync"
	"time"
)

// errorSummary logs a failing operation once, then a count at most every
// interval while it keeps failing, and a line when it works again: a full
// disk fails every commit, and one log line per failed commit would bury
// the log (and fill what is left of the disk).
type errorSummary struct {
	log      *slog.Logger
	what     string
	interval time.Duration

	mu       sync.Mutex
	failing  bool
	since    time.Time // first failure of this run of failures
	lastLog  time.Time
	failures int // since the last line logged
	items    int // messages or requests those failures covered
	total    int // failures in this run
}

// report records one failure covering n items.
func (e *errorSummary) report(err error, n int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	now := time.Now()
	e.total++
	if !e.failing {
		e.failing, e.since, e.lastLog = true, now, now
		e.log.Error(e.what+" failed; further failures are summarised", "items", n, "err", err)
		return
	}
	e.failures++
	e.items += n
	if now.Sub(e.lastLog) >= e.interval {
		e.log.Error(e.what+" still failing", "failures", e.failures, "items", e.items,
			"failing_for", now.Sub(e.since).Round(time.Second), "err", err)
		e.lastLog, e.failures, e.items = now, 0, 0
	}
}

// recovered records a success, logging once if failures preceded it.
func (e *errorSummary) recovered() {
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.failing {
		return
	}
	e.log.Warn(e.what+" works again", "failures", e.total, "failed_for", time.Since(e.since).Round(time.Second))
	e.failing, e.failures, e.items, e.total = false, 0, 0, 0
}
