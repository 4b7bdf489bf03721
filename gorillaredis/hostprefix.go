package gorillaredis

import (
	"github.com/gorilla/sessions"

	"github.com/redisession/redisession/internal/hostcookie"
)

// A session whose name starts with "__Host-" (or "__Secure-") is sent with
// the attributes its name promises whatever the options say: Secure, and
// for "__Host-" Path "/" and no Domain. A browser drops such a cookie
// silently otherwise, so every request would start a fresh session and
// logout could not clear the cookie. The store's default options already
// satisfy both prefixes; this matters when an app (or gin's Options, which
// replaces them wholesale) sets Secure false, another Path or a Domain.
//
// hostCookieOptions returns opts itself when they already satisfy name's
// prefix, otherwise a corrected copy: the session's own options are never
// changed.
func hostCookieOptions(name string, opts *sessions.Options) *sessions.Options {
	secure, hostOnly := hostcookie.Rules(name)
	if !secure || opts.Secure && (!hostOnly || opts.Path == "/" && opts.Domain == "") {
		return opts
	}
	fixed := *opts
	fixed.Secure = true
	if hostOnly {
		fixed.Path, fixed.Domain = "/", ""
	}
	return &fixed
}
