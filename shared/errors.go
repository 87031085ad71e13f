package shared

import (
	"fmt"
	"time"
)

// Code is a stable, machine-readable error code carried by error frames.
// Codes never change meaning; new ones may be added.
type Code string

// Error codes.
const (
	CodeBadFrame      Code = "bad_frame"      // not JSON, wrong field types, missing envelope fields
	CodeUnknownType   Code = "unknown_type"   // a frame type this server does not know
	CodeInvalid       Code = "invalid"        // a field failed validation (name, length, UTF-8, range)
	CodeTooLarge      Code = "too_large"      // the frame or a field exceeds a limit
	CodeHelloRequired Code = "hello_required" // a request arrived before hello
	CodeNotJoined     Code = "not_joined"     // the request names a room the connection has not joined
	CodeConflict      Code = "conflict"       // a msg_id was reused in the room for a different body or author
	CodeRateLimited   Code = "rate_limited"   // too many requests; retry later
	CodeUnavailable   Code = "unavailable"    // the server is shutting down or the store failed; retry
	CodeInternal      Code = "internal"       // a server bug; retry may help
	CodeUnauthorized  Code = "unauthorized"   // the credential is missing, malformed, forged, expired or revoked
	CodeForbidden     Code = "forbidden"      // the identity may not do this (a private room, a DM of others)
	CodeNickTaken     Code = "nick_taken"     // another online user holds this nickname or one that looks the same
	CodeNotFound      Code = "not_found"      // no such room or user
	// Search budget (PROTOCOL.md 7.15).
	CodeSearchTooBroad Code = "search_too_broad" // a search with too many words, or none long enough to look up
	CodeSearchTimeout  Code = "search_timeout"   // a search ran out of its time budget (or waited it out for a turn)

	// CodeSignedOut: the credential was revoked because its owner signed
	// out (here or everywhere, PROTOCOL.md 7.18). Forget it and what was
	// kept for the user; sign in again.
	CodeSignedOut Code = "signed_out"
)

// Error is a protocol error: a code and a human-readable message.
type Error struct {
	Code    Code
	Message string
	// RetryAfter is how long to wait before sending the request again,
	// from an error frame's retry_after (CodeRateLimited); 0 when not given.
	RetryAfter time.Duration
}

func (e *Error) Error() string { return string(e.Code) + ": " + e.Message }

// Errorf builds an *Error with a formatted message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Retryable reports whether a request that failed with code may succeed if
// sent again unchanged.
func (c Code) Retryable() bool {
	switch c {
	case CodeRateLimited, CodeUnavailable, CodeInternal:
		return true
	}
	return false
}
