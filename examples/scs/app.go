package main

import (
	"errors"
	"log"
	"net/http"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/redisession/redisession/core"
	"github.com/redisession/redisession/examples/internal/demo"
	"github.com/redisession/redisession/prom"
	"github.com/redisession/redisession/scsredis"
)

// Session values besides demo.CSRFKey and the user, which store.Login puts
// under "user_id" (core.Options.UserKey).
const (
	cartKey  = "cart"
	flashKey = "flash"
)

const (
	idleTimeout = 30 * time.Minute
	lifetime    = 24 * time.Hour
)

type app struct {
	sm    *scs.SessionManager
	store *scsredis.Store
	users *demo.Users
}

// newApp returns the demo's handler over the config's Redis.
func newApp(cfg demo.Config) http.Handler {
	cfg = cfg.Defaults()
	opts := scsredis.Options{Core: cfg.Core}
	opts.Core.IdleTimeout = idleTimeout // for "last active" in the device list
	opts.Core.Lifetime = lifetime
	store := scsredis.New(cfg.Redis, opts)

	sm := scs.New()
	sm.Store = store
	sm.IdleTimeout = idleTimeout
	sm.Lifetime = lifetime
	sm.Cookie.Name = "session"
	sm.Cookie.SameSite = http.SameSiteLaxMode
	// scs's default, kept because the demo serves plain HTTP on 127.0.0.1;
	// behind TLS set it to true.
	sm.Cookie.Secure = false
	if err := store.CheckManager(sm); err != nil {
		panic(err) // a cookie browsers refuse, a codec or lifetime the store cannot follow
	}

	a := &app{sm: sm, store: store, users: cfg.Users}
	reg := prometheus.NewRegistry()
	reg.MustRegister(prom.NewCollector(store.Core(), prom.Options{}))

	mux := http.NewServeMux()
	mux.HandleFunc("/login", a.login)
	mux.HandleFunc("/logout", a.logout)
	mux.Handle("/", exactly("/", a.requireUser(a.shop)))
	mux.Handle("/cart/add", a.requireUser(a.addToCart))
	mux.Handle("/cart/clear", a.requireUser(a.clearCart))
	mux.Handle("/devices", a.requireUser(a.devices))
	mux.Handle("/devices/revoke", a.requireUser(a.revoke))
	mux.Handle("/devices/revoke-others", a.requireUser(a.revokeOthers))
	mux.Handle("/password", a.requireUser(a.password))

	root := http.NewServeMux()
	root.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	// RecordDevice goes outside LoadAndSave: it gives the store the user
	// agent and address that the device list shows.
	root.Handle("/", scsredis.RecordDevice(sm.LoadAndSave(a.checkCSRF(mux))))
	return root
}

// checkCSRF refuses a POST whose csrf field is not its session's token.
func (a *app) checkCSRF(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodGet, http.MethodHead:
		case http.MethodPost:
			token := a.sm.GetString(r.Context(), demo.CSRFKey)
			if !demo.ValidCSRF(token, r.PostFormValue(demo.CSRFField)) {
				demo.Render(w, http.StatusForbidden, "error.html", demo.Page{Framework: "scs", Title: "Forbidden", Error: demo.MsgCSRF})
				return
			}
		default:
			http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// requireUser sends a visitor who is not logged in to the login form.
func (a *app) requireUser(next http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if a.store.UserID(r.Context(), a.sm) == "" {
			http.Redirect(w, r, "/login", http.StatusSeeOther)
			return
		}
		next(w, r)
	})
}

// exactly serves only path itself: "/" is the mux's catch-all, and an
// unknown path must be a 404, not a redirect that starts a session.
func exactly(path string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != path {
			http.NotFound(w, r)
			return
		}
		h.ServeHTTP(w, r)
	})
}

func serverError(w http.ResponseWriter, err error) {
	log.Print(err)
	http.Error(w, "internal error", http.StatusInternalServerError)
}

func methodNotAllowed(w http.ResponseWriter) {
	http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
}

// render renders a page with the session's user, CSRF token (minted on
// first use) and flash; LoadAndSave commits what changed.
func (a *app) render(w http.ResponseWriter, r *http.Request, status int, name string, p demo.Page) {
	ctx := r.Context()
	p.Framework = "scs"
	p.User = a.store.UserID(ctx, a.sm)
	if msg := a.sm.PopString(ctx, flashKey); msg != "" {
		p.Flashes = []string{msg}
	}
	p.CSRF = a.sm.GetString(ctx, demo.CSRFKey)
	if p.CSRF == "" {
		p.CSRF = demo.NewCSRFToken()
		a.sm.Put(ctx, demo.CSRFKey, p.CSRF)
	}
	demo.Render(w, status, name, p)
}

func (a *app) login(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if r.Method != http.MethodPost {
		if a.store.UserID(ctx, a.sm) != "" {
			http.Redirect(w, r, "/", http.StatusSeeOther)
			return
		}
		a.render(w, r, http.StatusOK, "login.html", demo.Page{Title: "Log in"})
		return
	}
	name := r.PostFormValue("name")
	if !a.users.Authenticate(name, r.PostFormValue("password")) {
		a.render(w, r, http.StatusUnauthorized, "login.html", demo.Page{Title: "Log in", Error: demo.MsgBadLogin})
		return
	}
	// Login binds the session to the user and gives it a new token:
	// whoever knew the old one (session fixation) is not logged in with it.
	if err := a.store.Login(ctx, a.sm, name); err != nil {
		serverError(w, err)
		return
	}
	a.sm.Put(ctx, demo.CSRFKey, demo.NewCSRFToken())
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

func (a *app) logout(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		methodNotAllowed(w)
		return
	}
	if err := a.sm.Destroy(r.Context()); err != nil {
		serverError(w, err)
		return
	}
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

func (a *app) shop(w http.ResponseWriter, r *http.Request) {
	cart, _ := a.sm.Get(r.Context(), cartKey).(demo.Cart)
	a.render(w, r, http.StatusOK, "shop.html", demo.Page{Title: "Shop", Cart: cart})
}

func (a *app) addToCart(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		methodNotAllowed(w)
		return
	}
	cart, _ := a.sm.Get(r.Context(), cartKey).(demo.Cart)
	cart, ok := cart.Add(r.PostFormValue("item"))
	if !ok {
		http.Error(w, "no such product", http.StatusBadRequest)
		return
	}
	a.sm.Put(r.Context(), cartKey, cart)
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

func (a *app) clearCart(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		methodNotAllowed(w)
		return
	}
	a.sm.Remove(r.Context(), cartKey)
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

func (a *app) devices(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	list, err := a.store.Sessions(ctx, a.sm)
	if err != nil {
		serverError(w, err)
		return
	}
	current := a.store.Handle(ctx, a.sm)
	a.render(w, r, http.StatusOK, "devices.html", demo.Page{Title: "Your devices", Devices: demo.Devices(list, current)})
}

func (a *app) revoke(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		methodNotAllowed(w)
		return
	}
	ctx := r.Context()
	handle := r.PostFormValue("handle")
	if handle == a.store.Handle(ctx, a.sm) {
		a.logout(w, r)
		return
	}
	switch err := a.store.RevokeSession(ctx, a.sm, handle); {
	case errors.Is(err, core.ErrNotFound):
		a.sm.Put(ctx, flashKey, "That device was already logged out.")
	case err != nil:
		serverError(w, err)
		return
	default:
		a.sm.Put(ctx, flashKey, demo.MsgRevoked)
	}
	http.Redirect(w, r, "/devices", http.StatusSeeOther)
}

func (a *app) revokeOthers(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		methodNotAllowed(w)
		return
	}
	n, err := a.store.RevokeOthers(r.Context(), a.sm)
	if err != nil {
		serverError(w, err)
		return
	}
	a.sm.Put(r.Context(), flashKey, demo.LoggedOutOthers(n))
	http.Redirect(w, r, "/devices", http.StatusSeeOther)
}

func (a *app) password(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		a.render(w, r, http.StatusOK, "password.html", demo.Page{Title: "Change password"})
		return
	}
	ctx := r.Context()
	user := a.store.UserID(ctx, a.sm)
	err := a.users.ChangePassword(user, r.PostFormValue("current"), r.PostFormValue("new"), r.PostFormValue("confirm"))
	if err != nil {
		a.render(w, r, http.StatusBadRequest, "password.html", demo.Page{Title: "Change password", Error: err.Error()})
		return
	}
	// Whoever else holds a session of this user may be the reason for the
	// change: end every other session, and renew this one.
	n, err := a.store.RevokeOthers(ctx, a.sm)
	if err == nil {
		err = a.sm.RenewToken(ctx)
	}
	if err != nil {
		serverError(w, err)
		return
	}
	a.sm.Put(ctx, flashKey, demo.MsgPasswordSaved+" "+demo.LoggedOutOthers(n))
	http.Redirect(w, r, "/", http.StatusSeeOther)
}
