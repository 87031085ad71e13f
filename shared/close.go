package shared

// CloseCode is a WebSocket close status. 1000-1015 are RFC 6455 codes;
// 4000-4999 are Duplex's own.
type CloseCode int

// Close codes used by Duplex.
const (
	CloseNormal         CloseCode = 1000 // the peer asked to close
	CloseGoingAway      CloseCode = 1001 // the server is going down
	ClosePolicy         CloseCode = 1008 // e.g. origin refused
	CloseTooBig         CloseCode = 1009 // a frame exceeded MaxFrameBytes
	CloseInternal       CloseCode = 1011 // a server error
	CloseServiceRestart CloseCode = 1012 // the server restarts; come back soon
	CloseTryAgainLater  CloseCode = 1013 // overloaded

	CloseBadProtocol  CloseCode = 4000 // missing or unsupported subprotocol
	CloseSlowClient   CloseCode = 4001 // the outgoing queue overflowed; resume to catch up
	CloseHelloTimeout CloseCode = 4002 // no hello in time
	CloseBadFrame     CloseCode = 4003 // a frame that cannot be answered (binary frame, repeated garbage)
	CloseReplaced     CloseCode = 4004 // reserved: a newer session replaced this one
	CloseAuthExpired  CloseCode = 4005 // the session's credential expired; reconnect with a fresh one
	// CloseSignedOut: the session's credential was revoked (this session
	// or another of the user signed out): do not reconnect with it; forget
	// it and what it cached, and sign in again.
	CloseSignedOut CloseCode = 4006
)

// closeInfo is one row of the close-code table.
type closeInfo struct {
	reconnect bool
	reason    string
}

var closeTable = map[CloseCode]closeInfo{
	CloseNormal:         {false, "normal closure"},
	CloseGoingAway:      {true, "server going away"},
	ClosePolicy:         {false, "policy violation"},
	CloseTooBig:         {false, "frame too large"},
	CloseInternal:       {true, "internal error"},
	CloseServiceRestart: {true, "server restarting"},
	CloseTryAgainLater:  {true, "server overloaded"},
	CloseBadProtocol:    {false, "unsupported protocol version"},
	CloseSlowClient:     {true, "client too slow; resume to catch up"},
	CloseHelloTimeout:   {true, "no hello received in time"},
	CloseBadFrame:       {false, "invalid frame"},
	CloseReplaced:       {false, "session replaced"},
	CloseAuthExpired:    {true, "credential expired; reconnect with a fresh one"},
	CloseSignedOut:      {false, "signed out: the credential was revoked; sign in again"},
}

// ShouldReconnect reports whether a client closed with c should reconnect.
// Unknown codes (including abnormal closure 1006, a dropped network) are
// treated as transient: reconnect with backoff.
func (c CloseCode) ShouldReconnect() bool {
	if info, ok := closeTable[c]; ok {
		return info.reconnect
	}
	return true
}

// Reason is the default human-readable reason sent with c.
func (c CloseCode) Reason() string {
	if info, ok := closeTable[c]; ok {
		return info.reason
	}
	return "unknown close code"
}
