package server

import (
	"strconv"
	"time"

	"github.com/coder/websocket"
	"github.com/duplex-chat/duplex/shared"
	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the server's Prometheus collectors, registered on
// Options.Metrics. Counters and histograms are updated on the paths they
// measure; gauges of live state (connections, users, rooms, subscriptions,
// queued bytes) are computed when scraped, so the hot paths pay nothing.
type metrics struct {
	messagesIn   prometheus.Counter
	framesOut    prometheus.Counter
	fanout       prometheus.Histogram
	disconnects  *prometheus.CounterVec
	refused      *prometheus.CounterVec
	commitBatch  prometheus.Histogram
	commitTime   prometheus.Histogram
	storeErrors  prometheus.Counter
	frameTimeout prometheus.Counter
	// rateLimited counts requests refused with rate_limited; the rate
	// limiter calls srv.metrics.rateLimited.Inc().
	rateLimited prometheus.Counter
}

func newMetrics(srv *Server, reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		messagesIn: counter("duplex_messages_in_total",
			"Sends accepted: committed to the store (or found as duplicates) and acked."),
		framesOut: counter("duplex_frames_out_total",
			"Server frames written to clients (messages, acks, presence...), each frame of a batch counted."),
		fanout: histogram("duplex_fanout_seconds",
			"Time from the end of a commit to the message being queued for every member on this node.",
			prometheus.ExponentialBuckets(5e-6, 4, 11)), // 5µs .. 5s
		disconnects: counterVec("duplex_disconnects_total",
			"Closed WebSocket connections by the close code first sent or received (1006: no close frame).", "code"),
		refused: counterVec("duplex_connections_refused_total",
			"WebSocket upgrades refused with 503 by a connection cap (reason: max_conns or max_conns_per_addr), and connections refused by Server.Listener over the cap (max_conns_accept: closed at once; reserve: a request other than a health check got 503).", "reason"),
		commitBatch: histogram("duplex_commit_batch_size",
			"Messages per store transaction (group commit).",
			prometheus.ExponentialBuckets(1, 2, 10)), // 1 .. 512
		commitTime: histogram("duplex_commit_seconds",
			"Time of one store Append (one transaction, one fsync).",
			prometheus.ExponentialBuckets(1e-4, 2.5, 12)), // 100µs .. 2.4s
		storeErrors: counter("duplex_store_errors_total",
			"Failed store commits (each failed the sends of its batch with unavailable)."),
		frameTimeout: counter("duplex_frame_timeouts_total",
			"Connections closed because a started WebSocket frame was not finished within Options.FrameTimeout."),
		rateLimited: counter("duplex_rate_limited_total",
			"Requests refused with the rate_limited error."),
	}
	gauges := []prometheus.Collector{
		gauge("duplex_connections",
			"Open WebSocket connections (sessions), including those not past hello yet.",
			func() float64 { return float64(srv.conns.sockets.Load()) }),
		gauge("duplex_conns_counted",
			"What MaxConns counts: connections accepted through Server.Listener (HTTP, the WebSockets among them), WebSockets that came another way, and responses in flight through Server.WriteDeadlines (each may hold an open file).",
			func() float64 { return float64(srv.conns.total.Load()) }),
		gauge("duplex_users_online",
			"Distinct users with at least one connection past hello.",
			srv.usersOnline),
		gauge("duplex_rooms",
			"Rooms with live state in memory on this node.",
			func() float64 { return locked(&srv.mu, func() float64 { return float64(len(srv.rooms)) }) }),
		gauge("duplex_subscriptions",
			"Room memberships of connections (one connection in three rooms counts three).",
			srv.subscriptions),
		gauge("duplex_queue_bytes",
			"Bytes of frames queued for writing, summed over all connections.",
			srv.queuedBytes),
	}
	for _, c := range append(gauges, m.messagesIn, m.framesOut, m.fanout, m.disconnects, m.refused,
		m.commitBatch, m.commitTime, m.storeErrors, m.frameTimeout, m.rateLimited) {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// disconnected counts a connection that ended with the read error err:
// its close status is the close frame sent or received first.
func (m *metrics) disconnected(err error) {
	code := websocket.CloseStatus(err)
	if code == -1 {
		code = 1006 // abnormal closure: no close frame either way
	}
	m.disconnects.WithLabelValues(strconv.Itoa(int(code))).Inc()
}

// closed counts a connection the server closed with code.
func (m *metrics) closed(code shared.CloseCode) {
	m.disconnects.WithLabelValues(strconv.Itoa(int(code))).Inc()
}

// committed records one store Append of n messages that started at start.
func (m *metrics) committed(n int, start time.Time, err error) {
	m.commitBatch.Observe(float64(n))
	m.commitTime.Observe(time.Since(start).Seconds())
	if err != nil {
		m.storeErrors.Inc()
	}
}

func (srv *Server) usersOnline() float64 {
	return locked(&srv.mu, func() float64 { return float64(len(srv.users)) })
}

func (srv *Server) subscriptions() float64 {
	srv.mu.Lock()
	rooms := make([]*room, 0, len(srv.rooms))
	for _, r := range srv.rooms {
		rooms = append(rooms, r)
	}
	srv.mu.Unlock()
	n := 0
	for _, r := range rooms {
		r.mu.Lock()
		n += len(r.members)
		r.mu.Unlock()
	}
	return float64(n)
}

func (srv *Server) queuedBytes() float64 {
	srv.mu.Lock()
	sessions := make([]*session, 0, len(srv.sessions))
	for sess := range srv.sessions {
		sessions = append(sessions, sess)
	}
	srv.mu.Unlock()
	n := 0
	for _, sess := range sessions {
		n += sess.q.queued() // queued and being written (write.go)
	}
	return float64(n)
}

// counter, counterVec, histogram and gauge make the collectors of one name
// and help text; newMetrics registers them.
func counter(name, help string) prometheus.Counter {
	return prometheus.NewCounter(prometheus.CounterOpts{Name: name, Help: help})
}

func counterVec(name, help, label string) *prometheus.CounterVec {
	return prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, []string{label})
}

func histogram(name, help string, buckets []float64) prometheus.Histogram {
	return prometheus.NewHistogram(prometheus.HistogramOpts{Name: name, Help: help, Buckets: buckets})
}

func gauge(name, help string, value func() float64) prometheus.GaugeFunc {
	return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, value)
}
