package shared_test

import (
	"testing"

	"github.com/duplex-chat/duplex/shared"
)

func TestCloseCodes(t *testing.T) {
	cases := []struct {
		code      shared.CloseCode
		value     int
		reconnect bool
	}{
		{shared.CloseNormal, 1000, false},
		{shared.CloseGoingAway, 1001, true},
		{shared.ClosePolicy, 1008, false},
		{shared.CloseTooBig, 1009, false},
		{shared.CloseInternal, 1011, true},
		{shared.CloseServiceRestart, 1012, true},
		{shared.CloseTryAgainLater, 1013, true},
		{shared.CloseBadProtocol, 4000, false},
		{shared.CloseSlowClient, 4001, true},
		{shared.CloseHelloTimeout, 4002, true},
		{shared.CloseBadFrame, 4003, false},
		{shared.CloseReplaced, 4004, false},
		{shared.CloseAuthExpired, 4005, true},
		{shared.CloseSignedOut, 4006, false},
	}
	reasons := map[string]shared.CloseCode{}
	for _, tc := range cases {
		assertEqual(t, "value", int(tc.code), tc.value)
		assertEqual(t, tc.code.Reason()+": reconnect", tc.code.ShouldReconnect(), tc.reconnect)
		r := tc.code.Reason()
		if r == "" || r == "unknown close code" {
			t.Errorf("%d has no reason of its own: %q", tc.code, r)
		}
		// RFC 6455 limits a close reason to 123 bytes.
		if len(r) > 123 {
			t.Errorf("%d: reason is %d bytes", tc.code, len(r))
		}
		if other, dup := reasons[r]; dup {
			t.Errorf("%d and %d share the reason %q", tc.code, other, r)
		}
		reasons[r] = tc.code
	}
}

func TestCloseUnknown(t *testing.T) {
	// Unknown codes, including 1006 (connection dropped, never sent on the
	// wire), are transient: reconnect with backoff.
	for _, c := range []shared.CloseCode{0, 1002, 1003, 1005, 1006, 1007, 1010, 1014, 1015, 3000, 4099, 4999} {
		assertEqual(t, "unknown reconnect", c.ShouldReconnect(), true)
		assertEqual(t, "unknown reason", c.Reason(), "unknown close code")
	}
}
