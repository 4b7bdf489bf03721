package demo

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
)

// CSRF protection: each session carries a random token (under CSRFKey);
// every form posts it back as the field CSRFField, and a POST whose field
// does not match its session's token is refused. The token is renewed at
// login, with the session.
const (
	CSRFKey   = "csrf"
	CSRFField = "csrf"
)

// NewCSRFToken returns a fresh token: 32 random bytes, base64url.
func NewCSRFToken() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// ValidCSRF reports whether the posted token matches the session's, in
// constant time. A session without a token matches nothing.
func ValidCSRF(sessionToken, posted string) bool {
	if sessionToken == "" {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(sessionToken), []byte(posted)) == 1
}
