package core

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
)

// TokenBytes is the number of random bytes in a session token (256 bits).
const TokenBytes = 32

// tokenLen is the length of a token encoded as unpadded base64url.
var tokenLen = base64.RawURLEncoding.EncodedLen(TokenBytes)

// NewToken returns a fresh session token: 32 bytes from crypto/rand, encoded
// as unpadded base64url (43 characters).
func NewToken() string {
	var b [TokenBytes]byte
	if _, err := rand.Read(b[:]); err != nil {
		// crypto/rand does not fail on supported platforms; a session token
		// from a broken generator would be worse than stopping.
		panic("redisession: crypto/rand failed: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// ValidToken reports whether s has the shape of a token from NewToken. It
// looks at the characters only and allocates nothing, so it is safe to call
// on any cookie value before touching Redis.
func ValidToken(s string) bool {
	if len(s) != tokenLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '-', c == '_':
		default:
			return false
		}
	}
	// 43 characters carry 258 bits; the last character must leave the two
	// spare bits zero, or two spellings would decode to the same token.
	return base64Value(s[len(s)-1])&0x3 == 0
}

func base64Value(c byte) byte {
	switch {
	case 'A' <= c && c <= 'Z':
		return c - 'A'
	case 'a' <= c && c <= 'z':
		return c - 'a' + 26
	case '0' <= c && c <= '9':
		return c - '0' + 52
	case c == '-':
		return 62
	default:
		return 63
	}
}

// Handle returns the public handle of a token: unpadded base64url of its
// SHA-256. A handle names a session in device lists, revoke buttons, logs and
// the admin command; it cannot be turned back into a token, so it is safe to
// show. The handle of a malformed token is "".
func Handle(token string) string {
	if !ValidToken(token) {
		return ""
	}
	return hashToken(token)
}

// ValidHandle reports whether s has the shape of a handle.
// Handles and tokens share one shape: 32 bytes as unpadded base64url.
func ValidHandle(s string) bool { return ValidToken(s) }

// hashToken is a token's public handle: unpadded base64url of its SHA-256.
func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}
