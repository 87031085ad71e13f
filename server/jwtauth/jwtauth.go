// Package jwtauth verifies JSON Web Tokens minted by an application's own
// backend, for server.Options.VerifyToken: `iss` and `sub` name the user
// (UserID maps them into a namespace of their own), `name` is the
// nickname, and `exp` is required. It is server-side only: the browser
// bundle never links it.
package jwtauth

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/duplex-chat/duplex/server"
	"github.com/duplex-chat/duplex/shared"
	"github.com/golang-jwt/jwt/v5"
)

// Claims are the claims Duplex reads from a token.
type Claims struct {
	// Name is the display name; empty leaves the nickname of hello.
	Name string `json:"name,omitempty"`
	jwt.RegisteredClaims
}

// Leeway is the clock skew allowed between the token's issuer and this
// server when checking exp, nbf and iat.
const Leeway = 30 * time.Second

// New returns a verifier for key: a PEM public key (RSA for RS256/384/512,
// ECDSA for ES256/384/512, Ed25519 for EdDSA) or otherwise an HMAC secret
// (HS256/384/512) of at least 32 bytes. Only the algorithms of that key
// are accepted, so a token cannot choose a weaker one (or "none").
//
// The user id is UserID(namespace, iss, sub) with the namespace of
// WithNamespace (none by default): two verifiers for two backends that
// may reuse each other's subjects without an iss claim should each get a
// namespace of their own.
func New(key []byte, opts ...Option) (func(token string) (server.Identity, error), error) {
	var cfg config
	for _, o := range opts {
		o(&cfg)
	}
	verifyKey, methods, err := parseKey(key)
	if err != nil {
		return nil, err
	}
	parser := jwt.NewParser(jwt.WithValidMethods(methods), jwt.WithExpirationRequired(), jwt.WithLeeway(Leeway), jwt.WithIssuedAt())
	return func(token string) (server.Identity, error) {
		var c Claims
		if _, err := parser.ParseWithClaims(token, &c, func(*jwt.Token) (any, error) { return verifyKey, nil }); err != nil {
			return server.Identity{}, shared.Errorf(shared.CodeUnauthorized, "JWT refused: %s", reason(err))
		}
		if c.Subject == "" {
			return server.Identity{}, shared.Errorf(shared.CodeUnauthorized, "JWT refused: no sub claim")
		}
		id := server.Identity{User: UserID(cfg.namespace, c.Issuer, c.Subject), Nick: c.Name, Expires: c.ExpiresAt.Time}
		if c.IssuedAt != nil {
			id.IssuedAt = c.IssuedAt.Time
		}
		return id, nil
	}, nil
}

// Option configures New.
type Option func(*config)

type config struct{ namespace string }

// WithNamespace puts the users of this verifier in a namespace of their
// own, apart from every other verifier's (see UserID).
func WithNamespace(ns string) Option { return func(c *config) { c.namespace = ns } }

// UserID maps a JWT's issuer and subject to a Duplex user id, in a
// namespace that neither anonymous users (ids "u-…", chosen by the
// server) nor another issuer's subjects can reach:
//
//	"j" + 8 hex of SHA-256(namespace, iss) + "-" + 32 hex of SHA-256(namespace, iss, sub)
//
// each part length-prefixed before hashing, so no two (namespace, iss,
// sub) triples hash the same input. The subject is never used as the id
// itself: "alice" and a subject equal to the id "alice" maps to are two
// users. (Before this mapping a subject that was a valid id became the
// user id unchanged, and any other was "j-" + 24 hex of its hash; users of
// JWTs get new ids, see server/IDENTITY.md, "Namespaces and sign-out".)
func UserID(namespace, iss, sub string) string {
	ns := sha256.Sum256(lengthPrefixed(namespace, iss))
	sum := sha256.Sum256(lengthPrefixed(namespace, iss, sub))
	return "j" + hex.EncodeToString(ns[:4]) + "-" + hex.EncodeToString(sum[:16])
}

func lengthPrefixed(parts ...string) []byte {
	var b []byte
	for _, p := range parts {
		b = strconv.AppendInt(b, int64(len(p)), 10)
		b = append(b, ':')
		b = append(b, p...)
	}
	return b
}

func parseKey(key []byte) (any, []string, error) {
	key = bytes.TrimSpace(key)
	if !bytes.HasPrefix(key, []byte("-----BEGIN")) {
		if len(key) < 32 {
			return nil, nil, fmt.Errorf("jwt key: an HMAC secret must be at least 32 bytes, got %d", len(key))
		}
		return key, []string{"HS256", "HS384", "HS512"}, nil
	}
	if k, err := jwt.ParseRSAPublicKeyFromPEM(key); err == nil {
		return k, []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512"}, nil
	}
	if k, err := jwt.ParseECPublicKeyFromPEM(key); err == nil {
		return k, []string{"ES256", "ES384", "ES512"}, nil
	}
	if k, err := jwt.ParseEdPublicKeyFromPEM(key); err == nil {
		return k, []string{"EdDSA"}, nil
	}
	return nil, nil, errors.New("jwt key: a PEM block that is not an RSA, ECDSA or Ed25519 public key")
}

// reason words a jwt error without echoing the token: the first of
// reasons it is, or "invalid".
func reason(err error) string {
	for _, r := range reasons {
		if errors.Is(err, r.err) {
			return r.text
		}
	}
	return "invalid"
}

var reasons = []struct {
	err  error
	text string
}{
	{jwt.ErrTokenExpired, "expired"},
	{jwt.ErrTokenRequiredClaimMissing, "a required claim (exp) is missing"},
	{jwt.ErrTokenSignatureInvalid, "the signature does not match this server's key"},
	{jwt.ErrTokenUnverifiable, "signed with an algorithm this server does not accept"},
	{jwt.ErrTokenNotValidYet, "not valid yet"},
	{jwt.ErrTokenMalformed, "malformed"},
}
