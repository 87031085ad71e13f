package server

import (
	"cmp"
	"log/slog"
	"net/http"
	"time"

	"github.com/coder/websocket"
	"github.com/duplex-chat/duplex/server/broker"
	"github.com/duplex-chat/duplex/server/files"
	"github.com/duplex-chat/duplex/server/store"
	"github.com/prometheus/client_golang/prometheus"
)

// Options configure a Server. The zero value of every field picks the
// documented default.
type Options struct {
	// Store keeps history. Nil means an in-memory store (nothing survives a
	// restart); the duplex binary passes the SQLite store.
	Store store.Store
	// Broker fans committed messages out. Nil means in-process.
	Broker broker.Broker
	// Peers connects this node to the other nodes of a cluster for what
	// is in no room's log: presence, typing and pushes to a user's
	// sessions (peers.go; server/cluster implements it on NATS). Nil: the
	// node is alone.
	Peers Peers
	// OriginPatterns lists extra host patterns (path.Match syntax, e.g.
	// "*.example.com" or "localhost:*") allowed to open a socket besides the
	// page's own origin. Nil allows the same origin only.
	OriginPatterns []string
	// QueueBytes bounds each connection's outgoing queue, in bytes. A live
	// frame (a room message, presence) that would take the queue over it
	// disconnects the client with CloseSlowClient; the client resumes.
	// Answers to the client's own requests never do: the server reads no
	// further request from a connection while half of QueueBytes is queued
	// for it or in flight in its sends, so pipelining is paced by TCP and
	// history or replay pages are produced only as the client reads them.
	// Zero means 4 MiB.
	QueueBytes int
	// QueueSize bounds the outgoing queue in frames, the same way. Zero
	// means 8192: room for the acks and echoes of a full pipeline of
	// sends, so in practice QueueBytes is the bound.
	QueueSize int
	// PresenceInterval is how often a room tells its members who came and
	// went, in one presence_diff frame. Zero means 250ms.
	PresenceInterval time.Duration
	// PresenceThreshold is the most members a room sends lists and diffs
	// for; above it members get the count alone and page the list with
	// the members request. Zero means 200.
	PresenceThreshold int
	// PingInterval is how often idle connections are pinged. Zero means 20s.
	PingInterval time.Duration
	// Heartbeat is the application heartbeat announced in welcome: a
	// client pings after that long without sending, and takes a
	// connection silent for twice as long for dead (a half-open one)
	// and reconnects. The server answers each ping with a pong. Zero
	// means 25s; negative announces none.
	Heartbeat time.Duration
	// HelloTimeout is how long a connection may stay without hello. Zero
	// means 10s.
	HelloTimeout time.Duration
	// WriteTimeout bounds one write to a client. Zero means 10s.
	WriteTimeout time.Duration
	// CoalesceDelay is the shortest time between two writes to one
	// connection while frames keep coming: frames queued meanwhile go out
	// as one batch. It bounds the latency it adds; quiet connections are
	// written at once. Zero means 10ms; negative disables coalescing.
	CoalesceDelay time.Duration
	// Compression enables permessage-deflate when the client offers it.
	// Zero means websocket.CompressionDisabled.
	Compression websocket.CompressionMode
	// Logger receives connection-level events. Nil means slog.Default().
	Logger *slog.Logger

	// SessionKey signs the session tokens the server issues to anonymous
	// users (HMAC-SHA256). Processes that serve the same users must share
	// it; replacing it revokes every token signed with the old one. Nil
	// means a random key per Server, so tokens die with the process (the
	// duplex binary keeps one in its data directory).
	SessionKey []byte
	// SessionTTL is how long an issued session token stays valid; every
	// hello presenting one gets a renewed token. Zero means 30 days.
	SessionTTL time.Duration
	// NoAnonymous refuses a hello without a credential (unauthorized)
	// instead of issuing a new anonymous identity.
	NoAnonymous bool
	// Authenticate, when set, identifies the upgrade request itself (a
	// session cookie or an Authorization header): browsers cannot set
	// headers on a WebSocket, but they send same-origin cookies. A non-nil
	// Identity is the connection's, whatever hello says; nil with a nil
	// error leaves identification to hello; an error refuses the upgrade
	// with 401.
	Authenticate func(*http.Request) (*Identity, error)
	// VerifyToken, when set, verifies credentials in hello and auth that
	// are not the server's own session tokens, e.g. a JWT minted by the
	// embedding application (see server/jwtauth). Its errors become
	// unauthorized errors.
	VerifyToken func(token string) (Identity, error)
	// Authorize decides who may list, create, join, read, send to, invite
	// to and remove from which room. Nil means DefaultAuthorize.
	Authorize AuthorizeFunc

	// MaxConns caps open WebSocket connections; an upgrade over the cap is
	// refused with HTTP 503 and Retry-After, so that other requests
	// (health checks, the page) still find file descriptors. Zero means
	// derived from the open-file limit when New runs: the soft
	// RLIMIT_NOFILE minus 10% minus 64 (no cap where it cannot be read).
	// Negative means no cap. Served through Listener, every HTTP
	// connection counts too, and so does every response in flight through
	// WriteDeadlines (see ConnReserve).
	MaxConns int
	// MaxConnsPerAddr caps open connections from one remote IP address
	// (503 and Retry-After over it). Zero means no per-address cap: many
	// users may share one address behind NAT.
	MaxConnsPerAddr int
	// FrameTimeout bounds how long a client may take to finish a WebSocket
	// frame it has started: a connection that stalls inside a frame is
	// closed (without a close frame; clients see 1006 and resume). An idle
	// connection between frames is not affected. Zero means 10s; negative
	// disables the deadline.
	FrameTimeout time.Duration
	// Metrics is where the server registers its Prometheus collectors
	// (see metrics.go for the names). Nil means a private registry: the
	// metrics are kept but not exported.
	Metrics prometheus.Registerer
	// Limits rate-limit requests per connection and per user; see Limits
	// for the defaults of its zero value.
	Limits Limits
	// RetainAge, when positive, removes messages older than it from the
	// store, in the background. Zero keeps messages forever.
	RetainAge time.Duration
	// RetainCount, when positive, keeps only the newest RetainCount
	// messages of each room, removing older ones in the background.
	// Zero keeps every message.
	RetainCount int64
	// PruneInterval is how often retention runs. Zero means a minute.
	PruneInterval time.Duration
	// Files keeps uploaded images (see server/files; the duplex binary
	// uses a files.Dir in DATA_DIR/files). Nil refuses uploads.
	Files files.Store
	// MaxUploads is no longer used (issue #14): an upload held one of
	// these slots while its bytes trickled in, blocking other people's
	// readers. UploadMemory and DecodeMemory bound uploads now. Kept so
	// that existing configurations compile.
	MaxUploads int

	// Reactions (issue #14, reactions.go).

	// MaxReactionEmoji caps the distinct emoji one message may carry (a
	// user has each at most once, so it caps each user's reactions on it
	// too); a react that would add another kind is refused with
	// reaction_limit. Zero means DefaultReactionEmoji (20, like Discord);
	// more than shared.MaxReactionKinds (50) means 50.
	MaxReactionEmoji int
	// Search budget (issue #14, search.go). A search is bounded in time,
	// in words and in how short a prefix may be, and at most MaxSearches
	// run at once, so that searches never hold up sends, joins or
	// history (the SQLite store searches on a pool of its own).
	//
	// SearchTimeout bounds one search, its wait for a turn included; a
	// search past it is cut (SQLite is interrupted) and answered with
	// search_timeout. Zero means 2s.
	SearchTimeout time.Duration
	// MaxSearches is how many searches run at once over the server; more
	// wait for a turn within their SearchTimeout. Zero means 2.
	MaxSearches int
	// SearchMaxTerms is the most words a search may look up; more is
	// search_too_broad. Zero means 8.
	SearchMaxTerms int
	// SearchMinPrefix is the fewest characters a word of a search needs
	// to be looked up (each word is a prefix, and a short one matches a
	// large part of the index): shorter words are ignored, and a search
	// of only such words is search_too_broad. Zero means 2.
	SearchMinPrefix int
	// Images and uploads (issue #14; see upload.go, uploadquota.go and
	// server/files/cost.go).

	// UploadMemory bounds the bytes of uploads held in memory at once
	// (being received or checked), over all connections. An upload takes
	// its share as its bytes arrive, never waiting: one that finds the
	// budget spent is refused with unavailable (retry) and the rest of
	// its bytes are read and dropped. Zero means 64 MiB.
	UploadMemory int64
	// UploadTimeout is the time a whole upload (one binary message) may
	// take to arrive; UploadMinRate the slowest it may arrive at, in bytes
	// a second averaged from its first byte, after a first 5 seconds of
	// grace. A connection whose upload is slower is closed with 4001 (too
	// slow; it may reconnect). Zero means 60s and 16 KiB/s; a negative
	// UploadMinRate disables the rate check.
	UploadTimeout time.Duration
	UploadMinRate int64
	// DecodeMemory is the memory the server lets image decoding take at
	// once, over all connections: before an image is decoded its cost is
	// read from its header (files.DecodeCost: format, colour model, bit
	// depth, progressive coding) and taken from this budget. Zero means
	// 256 MiB.
	DecodeMemory int64
	// MaxDecodeBytes is the most one image may cost to decode: more is
	// refused with too_large. Zero means 192 MiB (a 40 MP 8-bit RGBA PNG
	// costs 160 MB); it is never more than DecodeMemory.
	MaxDecodeBytes int64
	// DecodeWait is how long an upload waits for DecodeMemory before it
	// is refused with unavailable (retry). Only the uploader's own upload
	// waits: its connection keeps reading its other requests. Zero means
	// 10s.
	DecodeWait time.Duration
	// UploadQuota is how many bytes of images one user may upload per
	// UploadQuotaWindow, and UploadQuotaPerAddr how many all the users of
	// one remote IP address may (anonymous users are free to create, so
	// the address bounds them). Over either an upload is refused with
	// rate_limited and retry_after. Zero means 50 MiB, 50 MiB and one
	// hour; negative lifts that quota.
	UploadQuota        int64
	UploadQuotaPerAddr int64
	UploadQuotaWindow  time.Duration
	// UnusedUploadTTL is how long an uploaded image may stay unused by
	// any message: after it the image, its thumbnail and its record are
	// removed from Files (when Files is a files.Sweeper, as files.Dir
	// is). Zero means 10 minutes; negative keeps unused uploads forever.
	UnusedUploadTTL time.Duration
	// HTTP connections and downloads (issue #14; see Listener and
	// WriteDeadlines).
	//
	// ConnReserve is how many connections Listener accepts beyond
	// MaxConns for health checks: a request over one that is not a health
	// check gets 503 (InReserve), and the connection lives at most 5 s.
	// Past MaxConns+ConnReserve a connection is closed on accept. Zero
	// means 32; negative means none.
	ConnReserve int
	// HTTPWriteTimeout is the longest a plain HTTP response (a page, a
	// file) wrapped by WriteDeadlines may wait for its client to take the
	// next 32 KiB: a stalled reader is cut after it, a slow one that keeps
	// reading is not. Zero means 20s (a floor of 1.6 KiB/s); negative
	// means none.
	HTTPWriteTimeout time.Duration
}

// positiveOr returns v, or d when v is zero or negative: the default of
// an option whose zero and negative values both mean "unset". (Options
// whose negative value means "none" default with cmp.Or.)
func positiveOr[T ~int | ~int64 | ~float64](v, d T) T {
	if v <= 0 {
		return d
	}
	return v
}

func (o *Options) withDefaults() Options {
	var c Options
	if o != nil {
		c = *o
	}
	if c.Store == nil {
		c.Store = store.NewMemory()
	}
	if c.Broker == nil {
		c.Broker = broker.NewMemory()
	}
	c.QueueBytes = positiveOr(c.QueueBytes, 4<<20)
	c.QueueSize = positiveOr(c.QueueSize, 8192)
	c.PresenceInterval = positiveOr(c.PresenceInterval, 250*time.Millisecond)
	c.PresenceThreshold = positiveOr(c.PresenceThreshold, 200)
	c.PingInterval = positiveOr(c.PingInterval, 20*time.Second)
	c.Heartbeat = cmp.Or(c.Heartbeat, 25*time.Second)
	c.HelloTimeout = positiveOr(c.HelloTimeout, 10*time.Second)
	c.WriteTimeout = positiveOr(c.WriteTimeout, 10*time.Second)
	c.CoalesceDelay = cmp.Or(c.CoalesceDelay, 10*time.Millisecond)
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if len(c.SessionKey) == 0 {
		c.SessionKey = NewSessionKey()
	}
	c.SessionTTL = positiveOr(c.SessionTTL, 30*24*time.Hour)
	if c.Authorize == nil {
		c.Authorize = DefaultAuthorize
	}
	if c.MaxConns == 0 {
		c.MaxConns = defaultMaxConns()
	}
	c.FrameTimeout = cmp.Or(c.FrameTimeout, 10*time.Second)
	if c.Metrics == nil {
		c.Metrics = prometheus.NewRegistry()
	}
	c.Limits = c.Limits.withDefaults()
	c.PruneInterval = positiveOr(c.PruneInterval, time.Minute)
	c.MaxUploads = positiveOr(c.MaxUploads, 8)
	c.searchDefaults() // search.go
	c.uploadDefaults() // upload.go
	if c.ConnReserve == 0 {
		c.ConnReserve = defaultConnReserve
	} else if c.ConnReserve < 0 {
		c.ConnReserve = 0
	}
	c.HTTPWriteTimeout = cmp.Or(c.HTTPWriteTimeout, defaultHTTPWriteTimeout)
	return c
}
