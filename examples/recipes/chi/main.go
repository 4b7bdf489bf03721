// Command chi shows scsredis under a chi v5 router, unchanged: chi's
// middleware is plain func(http.Handler) http.Handler, so scs's
// sm.LoadAndSave (and scsredis.RecordDevice, for the device list) go into
// r.Use as they are, and the handlers use scs's SessionManager and the
// store's own methods (the user's devices, logging the others out) with the
// request's context. It serves POST /login (name=…), GET / (who am I),
// GET /devices, POST /devices/revoke-others and POST /logout, on an embedded
// miniredis unless REDIS_URL is set, at ADDR (127.0.0.1:8080 by default).
// gorillaredis works under chi the same way, called from the handlers as in
// examples/gorilla.
//
//	cd examples/recipes && go run ./chi
//	curl -c jar -d name=alice localhost:8080/login && curl -b jar localhost:8080/devices
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/go-chi/chi/v5"
	"github.com/redis/go-redis/v9"
	"github.com/redisession/redisession/core"
	"github.com/redisession/redisession/examples/internal/demo"
	"github.com/redisession/redisession/scsredis"
)

type app struct {
	sm    *scs.SessionManager
	store *scsredis.Store
}

// newApp returns the app over rdb.
func newApp(rdb redis.UniversalClient, opts core.Options) http.Handler {
	store := scsredis.New(rdb, scsredis.Options{Core: opts})
	sm := scs.New()
	sm.Store = store
	sm.IdleTimeout = 30 * time.Minute
	sm.Cookie.Name = "session"
	if err := store.CheckManager(sm); err != nil {
		panic(err) // a cookie browsers refuse, a lifetime the store cannot follow
	}
	a := &app{sm: sm, store: store}

	r := chi.NewRouter()
	// RecordDevice goes outside LoadAndSave: it gives the store the user
	// agent and address that the device list shows.
	r.Use(scsredis.RecordDevice, sm.LoadAndSave)
	r.Post("/login", a.login)
	r.Post("/logout", a.logout)
	r.Group(func(r chi.Router) {
		r.Use(a.requireUser)
		r.Get("/", a.whoami)
		r.Get("/devices", a.devices)
		r.Post("/devices/revoke-others", a.revokeOthers)
	})
	return r
}

// requireUser answers 401 unless the request's session has a user.
func (a *app) requireUser(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if a.store.UserID(r.Context(), a.sm) == "" {
			http.Error(w, "not logged in", http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (a *app) login(w http.ResponseWriter, r *http.Request) {
	name := r.PostFormValue("name")
	if name == "" { // check a password here
		http.Error(w, "name is required", http.StatusBadRequest)
		return
	}
	// Login binds the session to the user and gives it a new token:
	// whoever knew the old one (fixation) is not logged in with it.
	if err := a.store.Login(r.Context(), a.sm, name); err != nil {
		serverError(w, err)
		return
	}
	fmt.Fprintf(w, "logged in as %s\n", name) // LoadAndSave commits and sets the cookie
}

func (a *app) whoami(w http.ResponseWriter, r *http.Request) {
	fmt.Fprintf(w, "hello %s\n", a.store.UserID(r.Context(), a.sm))
}

type device struct {
	Handle    string    `json:"handle"`
	UserAgent string    `json:"user_agent"`
	LastSeen  time.Time `json:"last_seen"`
	Current   bool      `json:"current"`
}

func (a *app) devices(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	list, err := a.store.Sessions(ctx, a.sm)
	if err != nil {
		serverError(w, err)
		return
	}
	current := a.store.Handle(ctx, a.sm)
	out := []device{}
	for _, d := range list {
		out = append(out, device{d.Handle, d.UserAgent, d.LastSeen, d.Handle == current})
	}
	writeJSON(w, out)
}

func (a *app) revokeOthers(w http.ResponseWriter, r *http.Request) {
	n, err := a.store.RevokeOthers(r.Context(), a.sm)
	if err != nil {
		serverError(w, err)
		return
	}
	writeJSON(w, map[string]int{"revoked": n})
}

func (a *app) logout(w http.ResponseWriter, r *http.Request) {
	if err := a.sm.Destroy(r.Context()); err != nil {
		serverError(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

func serverError(w http.ResponseWriter, err error) {
	log.Print(err)
	http.Error(w, "internal error", http.StatusInternalServerError)
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
	fmt.Printf("chi recipe listening on %s\n  sessions in %s\n", url, where)
	srv := &http.Server{Handler: newApp(rdb, core.Options{}), ReadHeaderTimeout: 10 * time.Second}
	return srv.Serve(ln)
}
