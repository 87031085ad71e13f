package shared

// Frame types of sign-out and of a user's sessions kept in step
// (PROTOCOL.md 7.18).
const (
	// TypeSignOut is a request: revoke the credential of this session
	// (SignOut.All: every credential of the user) and end the session.
	TypeSignOut Type = "signout"
	// TypeNickChanged is a push (no id): the user's nickname changed in
	// another of their sessions.
	TypeNickChanged Type = "nick_changed"
)

// SignOut ends the session and revokes its credential on the server: the
// token the session said hello (or auth) with, and the one its welcome
// issued, are refused from now on until they would have expired. With
// All, every credential of the user issued up to now is revoked ("sign out
// everywhere") and every other session of the user is closed with
// CloseSignedOut.
type SignOut struct {
	All bool `json:"all,omitempty"`
}

// SignOutAck is the ack payload for SignOut. The server then closes the
// connection with CloseSignedOut.
type SignOutAck struct {
	All bool `json:"all,omitempty"`
	// Sessions is how many other sessions the sign-out closed on the
	// node that answered.
	Sessions int `json:"sessions,omitempty"`
}

// AnonymousPrefix starts every anonymous user id a server makes (and no
// other): a client can tell an identity that cannot come back once signed
// out from an account.
const AnonymousPrefix = "u-"

// NickChanged tells every other session of a user that their nickname is
// now Nick.
type NickChanged struct {
	Nick string `json:"nick"`
}

func (n *NickChanged) validate() error { return ValidNick(n.Nick) }
