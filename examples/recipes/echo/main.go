// Command echo shows gorillaredis under echo v4, unchanged: echo-contrib's
// session.Middleware takes any gorilla/sessions Store, so the store goes in
// as it is and session.Get returns an ordinary *sessions.Session, saved with
// Save. What gorilla's interface has no word for (a new token at login, the
// user's devices, logging the others out) the handlers ask the store itself,
// with c.Request(). It serves POST /login (name=…), GET / (who am I),
// GET /devices, POST /devices/revoke-others and POST /logout, on an embedded
// miniredis unless REDIS_URL is set, at ADDR (127.0.0.1:8080 by default).
//
//	cd examples/recipes && go run ./echo
//	curl -c jar -d name=alice localhost:8080/login && curl -b jar localhost:8080/devices
package main

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"time"

	"github.com/labstack/echo-contrib/session"
	"github.com/labstack/echo/v4"
	"github.com/redis/go-redis/v9"
	"github.com/redisession/redisession/core"
	"github.com/redisession/redisession/examples/internal/demo"
	"github.com/redisession/redisession/gorillaredis"
)

const sessionName = "session"

type app struct{ store *gorillaredis.Store }

// newApp returns the app over rdb; key signs the session cookie.
func newApp(rdb redis.UniversalClient, opts core.Options, key []byte) *echo.Echo {
	store := gorillaredis.NewStoreWithOptions(rdb, gorillaredis.Options{Core: opts}, key)
	// Plain HTTP on 127.0.0.1 here, where a client would not send a Secure
	// cookie back. Behind TLS keep the store's default (Secure).
	store.Options.Secure = false
	a := &app{store: store}

	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.Use(session.Middleware(store))
	e.POST("/login", a.login)
	e.POST("/logout", a.logout)
	e.GET("/", a.whoami, a.requireUser)
	e.GET("/devices", a.devices, a.requireUser)
	e.POST("/devices/revoke-others", a.revokeOthers, a.requireUser)
	return e
}

// requireUser answers 401 unless the request's session has a user. The
// session it loads is the one the handler gets: gorilla keeps it per request.
func (a *app) requireUser(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		s, err := session.Get(sessionName, c)
		if err != nil {
			return err // Redis failed
		}
		if a.store.UserID(c.Request(), s) == "" {
			return echo.NewHTTPError(http.StatusUnauthorized, "not logged in")
		}
		return next(c)
	}
}

func (a *app) login(c echo.Context) error {
	name := c.FormValue("name")
	if name == "" { // check a password here
		return echo.NewHTTPError(http.StatusBadRequest, "name is required")
	}
	s, err := session.Get(sessionName, c)
	if err != nil {
		return err
	}
	// Login binds the session to the user and gives it a new token:
	// whoever knew the old one (fixation) is not logged in with it.
	if err := a.store.Login(c.Request(), s, name); err != nil {
		return err
	}
	if err := s.Save(c.Request(), c.Response()); err != nil {
		return err
	}
	return c.String(http.StatusOK, "logged in as "+name+"\n")
}

func (a *app) whoami(c echo.Context) error {
	s, _ := session.Get(sessionName, c) // loaded by requireUser
	return c.String(http.StatusOK, "hello "+a.store.UserID(c.Request(), s)+"\n")
}

type device struct {
	Handle    string    `json:"handle"`
	UserAgent string    `json:"user_agent"`
	LastSeen  time.Time `json:"last_seen"`
	Current   bool      `json:"current"`
}

func (a *app) devices(c echo.Context) error {
	s, _ := session.Get(sessionName, c)
	list, err := a.store.Sessions(c.Request(), s)
	if err != nil {
		return err
	}
	out := []device{}
	current := a.store.Handle(c.Request(), s)
	for _, d := range list {
		out = append(out, device{d.Handle, d.UserAgent, d.LastSeen, d.Handle == current})
	}
	return c.JSON(http.StatusOK, out)
}

func (a *app) revokeOthers(c echo.Context) error {
	s, _ := session.Get(sessionName, c)
	n, err := a.store.RevokeOthers(c.Request(), s)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]int{"revoked": n})
}

func (a *app) logout(c echo.Context) error {
	s, err := session.Get(sessionName, c)
	if err != nil {
		return err
	}
	s.Options.MaxAge = -1 // gorilla's way to delete a session
	if err := s.Save(c.Request(), c.Response()); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func main() {
	if err := run(); err != nil {
		log.Fatal(err)
	}
}

func run() error {
	rdb, where, closeRedis, err := demo.OpenRedis(context.Background())
	if err != nil {
		return err
	}
	defer closeRedis()
	ln, url, err := demo.Listen()
	if err != nil {
		return err
	}
	e := newApp(rdb, core.Options{}, demo.SessionKey())
	e.Listener = ln
	e.Server.ReadHeaderTimeout = 10 * time.Second
	fmt.Printf("echo recipe listening on %s\n  sessions in %s\n", url, where)
	return e.Start("")
}
