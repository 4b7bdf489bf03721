package ginredis_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gin-contrib/sessions"
	"github.com/gin-gonic/gin"
	"github.com/gorilla/securecookie"

	"github.com/redisession/redisession/core"
	"github.com/redisession/redisession/ginredis"
	"github.com/redisession/redisession/gorillaredis"
	"github.com/redisession/redisession/internal/redistest"
)

// FuzzCookieDecode: any cookie value goes through gin's sessions
// middleware and a handler that reads the session without a panic or an
// error, and reaches Redis only when its signature holds and it carries a
// well-formed token; then with one GETEX, and the unknown token is not
// adopted.
func FuzzCookieDecode(f *testing.F) {
	srv := redistest.Start(f)
	count := redistest.NewCounter()
	store := ginredis.NewStoreWithOptions(srv.NewClient(f, count),
		gorillaredis.Options{Core: core.Options{Prefix: srv.Prefix, Now: srv.Now}}, testKeys...)
	var handle string
	r := gin.New()
	r.Use(sessions.Sessions(cookieName, store))
	r.GET("/", func(c *gin.Context) {
		s := sessions.Default(c)
		_ = s.Get("x") // loads the session
		handle = s.ID()
		c.Status(http.StatusNoContent)
	})
	for _, plain := range []string{core.NewToken(), "not-a-token", ""} {
		signed, err := store.Gorilla().CookieValue(cookieName, plain)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(signed)
		f.Add(signed[:len(signed)-1] + "A") // tampered
	}
	f.Add(core.NewToken()) // the bare token, unsigned
	f.Fuzz(func(t *testing.T, value string) {
		req := httptest.NewRequest("GET", "https://example.com/", nil)
		req.Header.Set("Cookie", cookieName+"="+value)
		count.Reset()
		w := httptest.NewRecorder()
		r.ServeHTTP(w, req)
		if w.Code != http.StatusNoContent {
			t.Fatalf("cookie %q: status %d, want 204", value, w.Code)
		}
		var token string
		valid := false
		if c, err := req.Cookie(cookieName); err == nil {
			valid = securecookie.DecodeMulti(cookieName, c.Value, &token, store.Gorilla().Codecs...) == nil && core.ValidToken(token)
		}
		cmds := count.Commands()
		if !valid && count.Total() != 0 {
			t.Fatalf("cookie %q is not a signed token but reached Redis: %v", value, cmds)
		}
		if valid && (count.Total() != 1 || cmds["getex"] != 1) {
			t.Fatalf("signed token: sent %v, want one GETEX", cmds)
		}
		if valid && handle == core.Handle(token) {
			t.Fatalf("the unknown token of cookie %q was adopted", value)
		}
	})
}
