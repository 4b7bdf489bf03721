package hostcookie

import (
	"net/http"
	"strings"
	"testing"
)

func TestRulesAndCheck(t *testing.T) {
	cases := []struct {
		c      http.Cookie
		accept bool
	}{
		{http.Cookie{Name: "session"}, true},
		{http.Cookie{Name: "session", Domain: "example.com", Path: "/app"}, true},
		{http.Cookie{Name: "__Host-session", Secure: true, Path: "/"}, true},
		{http.Cookie{Name: "__host-session", Secure: true, Path: "/"}, true},
		{http.Cookie{Name: "__Host-session", Path: "/"}, false},
		{http.Cookie{Name: "__HOST-session", Secure: true, Path: "/"}, true},
		{http.Cookie{Name: "__HOST-session", Secure: true}, false},
		{http.Cookie{Name: "__Host-session", Secure: true, Path: "/", Domain: "example.com"}, false},
		{http.Cookie{Name: "__Host-session", Secure: true, Path: "/app"}, false},
		{http.Cookie{Name: "__Secure-session", Secure: true, Path: "/app", Domain: "example.com"}, true},
		{http.Cookie{Name: "__secure-session"}, false},
		{http.Cookie{Name: "big", Value: strings.Repeat("v", MaxSize)}, false},
	}
	for _, tc := range cases {
		c := tc.c
		if err := Check(&c); (err == nil) != tc.accept {
			t.Errorf("Check(%+v) = %v, want accepted=%v", c, err, tc.accept)
		}
	}
}
