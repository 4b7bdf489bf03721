package scsredis

import (
	"fmt"
	"net/http"

	"github.com/alexedwards/scs/v2"

	"github.com/redisession/redisession/internal/hostcookie"
)

// CheckCookie reports whether browsers will keep the session cookie sm
// sends. A name starting with "__Host-" (recommended: no other host or path
// can set or shadow it) needs sm.Cookie.Secure, Path "/" and no Domain; one
// starting with "__Secure-" needs Secure. scs writes the cookie itself, so
// the store cannot correct it, and a browser refuses a cookie that breaks
// its prefix without a word: every request would start a new session. Call
// CheckCookie once at startup. Note that scs's Cookie.Secure is false by
// default.
func CheckCookie(sm *scs.SessionManager) error {
	c := &http.Cookie{Name: sm.Cookie.Name, Path: sm.Cookie.Path, Domain: sm.Cookie.Domain, Secure: sm.Cookie.Secure}
	if err := hostcookie.Check(c); err != nil {
		return fmt.Errorf("scsredis: %w", err)
	}
	return nil
}
