package scsredis_test

import (
	"strings"
	"testing"

	"github.com/alexedwards/scs/v2"
	"github.com/redis/go-redis/v9"

	"github.com/redisession/redisession/scsredis"
)

// TestCheckManagerCookie: CheckManager accepts scs's defaults (no prefix) and a
// "__Host-" cookie with Secure set, and says why browsers would refuse each
// prefixed cookie that breaks its prefix in one way. (The conformance
// property Cookie/PrefixEnforced checks that scs's cookie is refused when
// it breaks its prefix in every way at once, and Cookie/Prefix that the
// accepted one works end to end.)
func TestCheckManagerCookie(t *testing.T) {
	store := scsredis.New(redis.NewClient(&redis.Options{Addr: "127.0.0.1:0"}), scsredis.Options{})
	const name = "__Host-session"
	for what, configure := range map[string]func(*scs.SessionManager){
		"scs's default Secure=false": func(sm *scs.SessionManager) { sm.Cookie.Name = name },
		"a Domain": func(sm *scs.SessionManager) {
			sm.Cookie.Name, sm.Cookie.Secure, sm.Cookie.Domain = name, true, "example.com"
		},
		"another Path": func(sm *scs.SessionManager) {
			sm.Cookie.Name, sm.Cookie.Secure, sm.Cookie.Path = "__host-s", true, "/app"
		},
		"__Secure- without Secure": func(sm *scs.SessionManager) { sm.Cookie.Name = "__Secure-session" },
	} {
		sm := scs.New()
		configure(sm)
		if err := store.CheckManager(sm); err == nil || !strings.Contains(err.Error(), "refused by browsers") {
			t.Errorf("CheckManager with %s: %v, want an error saying browsers refuse it", what, err)
		}
	}
	if err := store.CheckManager(scs.New()); err != nil {
		t.Errorf("CheckManager with scs's defaults (no prefix): %v", err)
	}
	sm := scs.New()
	sm.Cookie.Name, sm.Cookie.Secure = name, true
	if err := store.CheckManager(sm); err != nil {
		t.Errorf("CheckManager with %s and Secure: %v", name, err)
	}
}
