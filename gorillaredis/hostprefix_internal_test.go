package gorillaredis

import (
	"net/http"
	"testing"

	"github.com/gorilla/sessions"
)

func TestHostCookieOptions(t *testing.T) {
	loose := &sessions.Options{Path: "/app", Domain: "example.com", MaxAge: 60, HttpOnly: true, SameSite: http.SameSiteStrictMode}
	strict := &sessions.Options{Path: "/", MaxAge: 60, HttpOnly: true, Secure: true, SameSite: http.SameSiteLaxMode}
	cases := []struct {
		name string
		in   *sessions.Options
		want sessions.Options
		same bool // the very same pointer back
	}{
		{"session", loose, *loose, true},
		{"__Host-session", strict, *strict, true},
		{"__Host-session", loose, sessions.Options{Path: "/", MaxAge: 60, HttpOnly: true, Secure: true, SameSite: http.SameSiteStrictMode}, false},
		{"__host-session", loose, sessions.Options{Path: "/", MaxAge: 60, HttpOnly: true, Secure: true, SameSite: http.SameSiteStrictMode}, false},
		{"__Secure-session", loose, sessions.Options{Path: "/app", Domain: "example.com", MaxAge: 60, HttpOnly: true, Secure: true, SameSite: http.SameSiteStrictMode}, false},
	}
	for _, tc := range cases {
		before := *tc.in
		got := hostCookieOptions(tc.name, tc.in)
		if *got != tc.want {
			t.Errorf("%s with %+v: %+v, want %+v", tc.name, before, *got, tc.want)
		}
		if (got == tc.in) != tc.same {
			t.Errorf("%s with %+v: returned the input pointer = %v, want %v", tc.name, before, got == tc.in, tc.same)
		}
		if *tc.in != before {
			t.Errorf("%s: the options passed in were changed to %+v", tc.name, *tc.in)
		}
	}
}
