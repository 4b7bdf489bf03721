// Package hostcookie knows the cookie name prefixes that browsers enforce
// (RFC 6265bis, "Cookie Name Prefixes"; ASVS 5.0 V3.3): a cookie named
// "__Secure-…" is stored only if it is Secure, and one named "__Host-…"
// only if it is Secure, has Path=/ and has no Domain, so that no other host
// or path can set or shadow it. A browser that refuses such a cookie says
// nothing: the user just never gets a session. Browsers match the prefixes
// without regard to case.
//
// It also knows the size browsers promise to keep: 4096 bytes of name and
// value (RFC 6265 §6.1; ASVS 5.0 V3.3.5).
package hostcookie

import (
	"fmt"
	"net/http"
	"strings"
)

// Prefixes browsers enforce.
const (
	HostPrefix   = "__Host-"
	SecurePrefix = "__Secure-"
)

// MaxSize is the largest name plus value every browser keeps.
const MaxSize = 4096

// Rules returns what a cookie named name must carry: secure for both
// prefixes, hostOnly (Path=/ and no Domain) for "__Host-".
func Rules(name string) (secure, hostOnly bool) {
	switch {
	case hasPrefixFold(name, HostPrefix):
		return true, true
	case hasPrefixFold(name, SecurePrefix):
		return true, false
	}
	return false, false
}

// Check returns why a browser would refuse c, as sent in a Set-Cookie
// header, or nil if it would keep it.
func Check(c *http.Cookie) error {
	secure, hostOnly := Rules(c.Name)
	var bad []string
	if secure && !c.Secure {
		bad = append(bad, "not Secure")
	}
	if hostOnly && c.Path != "/" {
		bad = append(bad, fmt.Sprintf("Path %q, not \"/\"", c.Path))
	}
	if hostOnly && c.Domain != "" {
		bad = append(bad, fmt.Sprintf("Domain %q", c.Domain))
	}
	if n := len(c.Name) + len(c.Value); n > MaxSize {
		bad = append(bad, fmt.Sprintf("%d bytes of name and value, over %d", n, MaxSize))
	}
	if len(bad) > 0 {
		return fmt.Errorf("cookie %q would be refused by browsers: %s", c.Name, strings.Join(bad, ", "))
	}
	return nil
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}
