package scsredis

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/alexedwards/scs/v2"

	"github.com/redisession/redisession/internal/hostcookie"
)

// checkCookie reports whether browsers will keep the session cookie sm
// sends. A name starting with "__Host-" (recommended: no other host or path
// can set or shadow it) needs sm.Cookie.Secure, Path "/" and no Domain; one
// starting with "__Secure-" needs Secure. scs writes the cookie itself, so
// the store cannot correct it, and a browser refuses a cookie that breaks
// its prefix without a word: every request would start a new session. Call
// CheckManager, which calls it, once at startup. Note that scs's
// Cookie.Secure is false by default.
func checkCookie(sm *scs.SessionManager) error {
	c := &http.Cookie{Name: sm.Cookie.Name, Path: sm.Cookie.Path, Domain: sm.Cookie.Domain, Secure: sm.Cookie.Secure}
	if err := hostcookie.Check(c); err != nil {
		return fmt.Errorf("scsredis: %w", err)
	}
	return nil
}

// CheckManager reports, at startup, what would make sm and the store
// disagree without a word at run time: a cookie browsers refuse (a
// "__Host-" name needs sm.Cookie.Secure, Path "/" and no Domain; a
// "__Secure-" name needs Secure: scs writes the cookie itself, so the
// store cannot correct it, and a browser refuses such a cookie without a
// word, starting a new session on every request), an
// Options.Codec that cannot decode what sm.Codec writes (sessions would be
// stored opaque, bound to no user, in no device list), and an
// Options.Core.Lifetime shorter than sm.Lifetime (sessions would end before
// the cookie scs sends says), and an Options.Migrate refused because its
// Prefix lies in the store's own keys.
// It checks the manager; core.Store.CheckServer checks the Redis server.
func (s *Store) CheckManager(sm *scs.SessionManager) error {
	errs := []error{checkCookie(sm), s.migrateErr}
	codec := sm.Codec
	if codec == nil {
		codec = scs.GobCodec{}
	}
	probe, err := codec.Encode(time.Now().Add(time.Hour), map[string]interface{}{s.userKey: "probe"})
	if err == nil {
		_, _, err = s.codec.Decode(probe)
	}
	if err != nil {
		errs = append(errs, fmt.Errorf("scsredis: Options.Codec (%T) cannot decode what the manager's Codec (%T) writes: set Options.Codec to sm.Codec: %w", s.codec, codec, err))
	}
	if life := s.core.Options().Lifetime; life < sm.Lifetime {
		errs = append(errs, fmt.Errorf("scsredis: Options.Core.Lifetime (%v) is shorter than sm.Lifetime (%v): sessions will end before their cookies do", life, sm.Lifetime))
	}
	return errors.Join(errs...)
}
