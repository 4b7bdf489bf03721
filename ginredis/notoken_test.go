package ginredis_test

import (
	"bytes"
	"log"
	"net/http"
	"testing"

	"github.com/gin-contrib/sessions"
	"github.com/gin-gonic/gin"

	"github.com/redisession/redisession/ginredis"
	"github.com/redisession/redisession/gorillaredis"
	"github.com/redisession/redisession/internal/redistest"
)

// TestErrorsNameNoToken: with Redis down, neither the errors a handler
// gets nor what gin-contrib logs (it logs a store's load errors with the
// standard logger) carry the token or the cookie.
func TestErrorsNameNoToken(t *testing.T) {
	up := newEnv(t).store
	down := ginredis.NewStoreWithOptions(redistest.Down(t), gorillaredis.Options{Core: up.Gorilla().Core().Options()}, testKeys...)
	var errs []error
	router := func(store sessions.Store) *gin.Engine {
		r := gin.New()
		r.Use(sessions.Sessions(cookieName, store))
		r.GET("/login", func(c *gin.Context) {
			s := sessions.Default(c)
			s.Set("user_id", "u1")
			for _, err := range []error{ginredis.Renew(c, s), s.Save()} {
				if err != nil {
					errs = append(errs, err)
				}
			}
			if _, err := ginredis.UserSessions(c, s); err != nil {
				errs = append(errs, err)
			}
			if _, err := ginredis.RevokeAll(c, s); err != nil {
				errs = append(errs, err)
			}
		})
		return r
	}
	w := serve(router(up), "/login")
	ck := cookieNamed(w, cookieName)
	if ck == nil || len(errs) != 0 {
		t.Fatalf("login with Redis up: cookie %v, errors %v", ck, errs)
	}
	var token string
	if err := decode(up, cookieName, ck.Value, &token); err != nil {
		t.Fatal(err)
	}

	out := log.Writer()
	var logged bytes.Buffer
	log.SetOutput(&logged)
	serve(router(down), "/login", &http.Cookie{Name: cookieName, Value: ck.Value})
	log.SetOutput(out)
	if len(errs) == 0 {
		t.Fatalf("Redis down: no error reached the handler")
	}
	for _, err := range errs {
		redistest.NoSecret(t, "handler error, Redis down", err.Error(), token, ck.Value)
	}
	if logged.Len() == 0 {
		t.Errorf("gin-contrib logged nothing for a failed load")
	}
	redistest.NoSecret(t, "gin-contrib's log, Redis down", logged.String(), token, ck.Value)
}
