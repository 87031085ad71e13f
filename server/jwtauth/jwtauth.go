// Package jwtauth verifies JSON Web Tokens minted by an application's own
// backend, for server.Options.VerifyToken: `sub` becomes the user id,
// `name` the nickname, and `exp` is required. It is server-side only: the
// browser bundle never links it.
package jwtauth

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
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
func New(key []byte) (func(token string) (server.Identity, error), error) {
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
		id := server.Identity{User: UserID(c.Subject), Nick: c.Name, Expires: c.ExpiresAt.Time}
		return id, nil
	}, nil
}

// UserID maps a JWT subject to a Duplex user id: the subject itself when
// it is a valid id, else a stable hash of it.
func UserID(sub string) string {
	if shared.ValidID("user", sub) == nil {
		return sub
	}
	sum := sha256.Sum256([]byte(sub))
	return "j-" + hex.EncodeToString(sum[:12])
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

// reason words a jwt error without echoing the token.
func reason(err error) string {
	switch {
	case errors.Is(err, jwt.ErrTokenExpired):
		return "expired"
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		return "a required claim (exp) is missing"
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		return "the signature does not match this server's key"
	case errors.Is(err, jwt.ErrTokenUnverifiable):
		return "signed with an algorithm this server does not accept"
	case errors.Is(err, jwt.ErrTokenNotValidYet):
		return "not valid yet"
	case errors.Is(err, jwt.ErrTokenMalformed):
		return "malformed"
	}
	return "invalid"
}
