package jwtauth_test

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/duplex-chat/duplex/server/jwtauth"
	"github.com/duplex-chat/duplex/shared"
	"github.com/golang-jwt/jwt/v5"
)

var secret = []byte("0123456789abcdef0123456789abcdef-test-secret")

func mint(t *testing.T, method jwt.SigningMethod, key any, claims jwt.MapClaims) string {
	t.Helper()
	tok, err := jwt.NewWithClaims(method, claims).SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func pemOf(t *testing.T, pub any) []byte {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

func wantUnauthorized(t *testing.T, what string, err error) {
	t.Helper()
	var pe *shared.Error
	if !errors.As(err, &pe) || pe.Code != shared.CodeUnauthorized {
		t.Fatalf("%s: got %v, want an unauthorized error", what, err)
	}
}

func TestHMAC(t *testing.T) {
	verify, err := jwtauth.New(secret)
	if err != nil {
		t.Fatal(err)
	}
	exp := time.Now().Add(time.Hour).Truncate(time.Second)
	id, err := verify(mint(t, jwt.SigningMethodHS256, secret, jwt.MapClaims{"sub": "ann", "name": "Ann", "exp": exp.Unix()}))
	if err != nil || id.User != jwtauth.UserID("", "", "ann") || id.Nick != "Ann" || !id.Expires.Equal(exp) {
		t.Fatalf("valid token: %+v, %v", id, err)
	}
	// A subject maps to a stable id, in the JWT namespace.
	id1, _ := verify(mint(t, jwt.SigningMethodHS256, secret, jwt.MapClaims{"sub": "ann@example.com", "exp": exp.Unix()}))
	id2, _ := verify(mint(t, jwt.SigningMethodHS256, secret, jwt.MapClaims{"sub": "ann@example.com", "exp": exp.Unix()}))
	if id1.User != id2.User || !strings.HasPrefix(id1.User, "j") || shared.ValidID("user", id1.User) != nil {
		t.Fatalf("mapped subject: %q, %q", id1.User, id2.User)
	}

	bad := map[string]string{
		"expired":        mint(t, jwt.SigningMethodHS256, secret, jwt.MapClaims{"sub": "ann", "exp": time.Now().Add(-time.Hour).Unix()}),
		"no exp":         mint(t, jwt.SigningMethodHS256, secret, jwt.MapClaims{"sub": "ann"}),
		"no sub":         mint(t, jwt.SigningMethodHS256, secret, jwt.MapClaims{"exp": exp.Unix()}),
		"another secret": mint(t, jwt.SigningMethodHS256, []byte("another-secret-another-secret-another"), jwt.MapClaims{"sub": "ann", "exp": exp.Unix()}),
		"alg none":       mint(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, jwt.MapClaims{"sub": "ann", "exp": exp.Unix()}),
		"not yet valid":  mint(t, jwt.SigningMethodHS256, secret, jwt.MapClaims{"sub": "ann", "exp": exp.Unix(), "nbf": time.Now().Add(time.Hour).Unix()}),
		"garbage":        "eyJhbGciOi.not-a-token",
	}
	good := mint(t, jwt.SigningMethodHS256, secret, jwt.MapClaims{"sub": "ann", "exp": exp.Unix()})
	parts := strings.Split(good, ".")
	parts[1] = strings.TrimRight(parts[1], "=") + "x" // tampered claims
	bad["tampered"] = strings.Join(parts, ".")
	for what, tok := range bad {
		_, err := verify(tok)
		wantUnauthorized(t, what, err)
		if err != nil && strings.Contains(err.Error(), tok) {
			t.Errorf("%s: the error echoes the token", what)
		}
	}
}

func TestPublicKeys(t *testing.T) {
	exp := time.Now().Add(time.Hour).Unix()
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	edPub, edPriv, _ := ed25519.GenerateKey(rand.Reader)
	for _, c := range []struct {
		name   string
		pub    any
		method jwt.SigningMethod
		priv   any
	}{
		{"ES256", &ec.PublicKey, jwt.SigningMethodES256, ec},
		{"EdDSA", edPub, jwt.SigningMethodEdDSA, edPriv},
	} {
		verify, err := jwtauth.New(pemOf(t, c.pub))
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if id, err := verify(mint(t, c.method, c.priv, jwt.MapClaims{"sub": "bob", "exp": exp})); err != nil || id.User != jwtauth.UserID("", "", "bob") {
			t.Fatalf("%s: %+v, %v", c.name, id, err)
		}
		// An HMAC token signed with the public key's bytes as the secret
		// (the classic algorithm confusion) is refused.
		_, err = verify(mint(t, jwt.SigningMethodHS256, pemOf(t, c.pub), jwt.MapClaims{"sub": "bob", "exp": exp}))
		wantUnauthorized(t, c.name+" with HS256", err)
	}
}

func TestBadKeys(t *testing.T) {
	if _, err := jwtauth.New([]byte("short")); err == nil {
		t.Fatal("a 5-byte HMAC secret was accepted")
	}
	if _, err := jwtauth.New([]byte("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n")); err == nil {
		t.Fatal("a broken PEM key was accepted")
	}
}

// TestNamespaces: no subject can name an anonymous user, another
// issuer's user or the user another subject maps to; the same issuer and
// subject always map to the same id. Subjects tried: plain names, an
// anonymous id ("u-…"), the id another subject maps to, the old mapping
// ("j-" + hash), e-mail addresses that differ only in case, subjects and
// issuers whose concatenations agree, and NUL bytes.
func TestNamespaces(t *testing.T) {
	exp := time.Now().Add(time.Hour).Unix()
	verify, err := jwtauth.New(secret)
	if err != nil {
		t.Fatal(err)
	}
	user := func(claims jwt.MapClaims) string {
		t.Helper()
		claims["exp"] = exp
		id, err := verify(mint(t, jwt.SigningMethodHS256, secret, claims))
		if err != nil {
			t.Fatal(err)
		}
		if shared.ValidID("user", id.User) != nil || strings.HasPrefix(id.User, "u-") || strings.HasPrefix(id.User, "j-") {
			t.Fatalf("%v mapped to %q: not a JWT-namespace id", claims, id.User)
		}
		return id.User
	}
	alice := user(jwt.MapClaims{"sub": "alice@example.com"})
	seen := map[string]string{alice: "alice@example.com"}
	for _, claims := range []jwt.MapClaims{
		{"sub": alice}, // the id alice maps to, chosen as a subject
		{"sub": "Alice@example.com"},
		{"sub": "alice"},
		{"sub": "u-0123456789abcdef01"}, // an anonymous user's id
		{"sub": "j-" + alice[10:34]},    // the old mapping's shape
		{"sub": "alice@example.com", "iss": "https://other.example"},
		{"sub": "com", "iss": "alice@example."}, // the same bytes split elsewhere
		{"sub": "alice@example.com\x00"},
		{"sub": "alice@example.com", "iss": ""},
	} {
		got := user(claims)
		if claims["iss"] == "" && claims["sub"] == "alice@example.com" {
			if got != alice {
				t.Errorf("an empty iss is no iss: %q, want %q", got, alice)
			}
			continue
		}
		if prev, dup := seen[got]; dup {
			t.Errorf("%v and %q map to one user %q", claims, prev, got)
		}
		seen[got] = fmt.Sprint(claims)
	}
	if user(jwt.MapClaims{"sub": "alice@example.com"}) != alice {
		t.Error("the same subject mapped to another id")
	}
	// Two issuers share no namespace prefix; a verifier with a namespace
	// of its own shares none with the default one.
	a, b := user(jwt.MapClaims{"sub": "x", "iss": "a"}), user(jwt.MapClaims{"sub": "x", "iss": "b"})
	if a[:10] == b[:10] {
		t.Errorf("issuers a and b share the prefix %q", a[:10])
	}
	other, err := jwtauth.New(secret, jwtauth.WithNamespace("backend-2"))
	if err != nil {
		t.Fatal(err)
	}
	id, err := other(mint(t, jwt.SigningMethodHS256, secret, jwt.MapClaims{"sub": "alice@example.com", "exp": exp}))
	if err != nil || id.User == alice {
		t.Errorf("namespace backend-2: %q, %v; want an id other than %q", id.User, err, alice)
	}
}
