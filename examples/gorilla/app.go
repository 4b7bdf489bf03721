package main

import (
	"errors"
	"log"
	"net/http"

	"github.com/gorilla/sessions"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/redisession/redisession/core"
	"github.com/redisession/redisession/examples/internal/demo"
	"github.com/redisession/redisession/gorillaredis"
	"github.com/redisession/redisession/prom"
)

// The cookie name and the session value besides demo.CSRFKey and the user,
// which store.Login puts under "user_id" (core.Options.UserKey).
const (
	sessionName = "session"
	cartKey     = "cart"
)

type app struct {
	store *gorillaredis.Store
	users *demo.Users
}

// newApp returns the demo's handler over the config's Redis.
func newApp(cfg demo.Config) http.Handler {
	cfg = cfg.Defaults()
	store := gorillaredis.NewStoreWithOptions(cfg.Redis, gorillaredis.Options{Core: cfg.Core}, cfg.SessionKey)
	// The demo serves plain HTTP on 127.0.0.1, where a browser would not send
	// a Secure cookie back. Behind TLS keep the store's default (Secure).
	store.Options.Secure = false

	a := &app{store: store, users: cfg.Users}
	reg := prometheus.NewRegistry()
	reg.MustRegister(prom.NewCollector(store.Core(), prom.Options{}))

	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("/login", a.page(a.login, false))
	mux.HandleFunc("/logout", a.page(a.logout, false))
	mux.HandleFunc("/", exactly("/", a.page(a.shop, true)))
	mux.HandleFunc("/cart/add", a.page(a.addToCart, true))
	mux.HandleFunc("/cart/clear", a.page(a.clearCart, true))
	mux.HandleFunc("/devices", a.page(a.devices, true))
	mux.HandleFunc("/devices/revoke", a.page(a.revoke, true))
	mux.HandleFunc("/devices/revoke-others", a.page(a.revokeOthers, true))
	mux.HandleFunc("/password", a.page(a.password, true))
	return mux
}

// handler is a page handler: it gets the request's session, loaded once.
type handler func(w http.ResponseWriter, r *http.Request, s *sessions.Session)

// page wraps a handler: it loads the session, refuses a POST whose csrf
// field is not the session's token, and sends a visitor who is not logged in
// to the login form when the page needs a user.
func (a *app) page(h handler, needUser bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s, err := a.store.Get(r, sessionName)
		if err != nil {
			serverError(w, err)
			return
		}
		switch r.Method {
		case http.MethodGet, http.MethodHead:
		case http.MethodPost:
			token, _ := s.Values[demo.CSRFKey].(string)
			if !demo.ValidCSRF(token, r.PostFormValue(demo.CSRFField)) {
				demo.Render(w, http.StatusForbidden, "error.html",
					demo.Page{Framework: "gorilla/sessions", Title: "Forbidden", Error: demo.MsgCSRF})
				return
			}
		default:
			http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
			return
		}
		if needUser && a.store.UserID(r, s) == "" {
			http.Redirect(w, r, "/login", http.StatusSeeOther)
			return
		}
		h(w, r, s)
	}
}

// exactly serves only path itself: "/" is the mux's catch-all, and an
// unknown path must be a 404, not a redirect that starts a session.
func exactly(path string, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != path {
			http.NotFound(w, r)
			return
		}
		h(w, r)
	}
}

func serverError(w http.ResponseWriter, err error) {
	log.Print(err)
	http.Error(w, "internal error", http.StatusInternalServerError)
}

// render saves the session (the page may mint a CSRF token and consumes the
// flashes) and renders a page with the session's user, token and flashes.
func (a *app) render(w http.ResponseWriter, r *http.Request, s *sessions.Session, status int, name string, p demo.Page) {
	p.Framework = "gorilla/sessions"
	p.User = a.store.UserID(r, s)
	for _, f := range s.Flashes() {
		if msg, ok := f.(string); ok {
			p.Flashes = append(p.Flashes, msg)
		}
	}
	token, _ := s.Values[demo.CSRFKey].(string)
	if token == "" {
		token = demo.NewCSRFToken()
		s.Values[demo.CSRFKey] = token
	}
	p.CSRF = token
	if err := s.Save(r, w); err != nil {
		serverError(w, err)
		return
	}
	demo.Render(w, status, name, p)
}

// redirect saves the session and sends the browser to path.
func redirect(w http.ResponseWriter, r *http.Request, s *sessions.Session, path string) {
	if err := s.Save(r, w); err != nil {
		serverError(w, err)
		return
	}
	http.Redirect(w, r, path, http.StatusSeeOther)
}

func (a *app) login(w http.ResponseWriter, r *http.Request, s *sessions.Session) {
	if r.Method != http.MethodPost {
		if a.store.UserID(r, s) != "" {
			http.Redirect(w, r, "/", http.StatusSeeOther)
			return
		}
		a.render(w, r, s, http.StatusOK, "login.html", demo.Page{Title: "Log in"})
		return
	}
	name := r.PostFormValue("name")
	if !a.users.Authenticate(name, r.PostFormValue("password")) {
		a.render(w, r, s, http.StatusUnauthorized, "login.html", demo.Page{Title: "Log in", Error: demo.MsgBadLogin})
		return
	}
	// Login binds the session to the user and gives it a new token: whoever
	// knew the old one (session fixation) is not logged in with it.
	if err := a.store.Login(r, s, name); err != nil {
		serverError(w, err)
		return
	}
	s.Values[demo.CSRFKey] = demo.NewCSRFToken()
	redirect(w, r, s, "/")
}

func (a *app) logout(w http.ResponseWriter, r *http.Request, s *sessions.Session) {
	if r.Method != http.MethodPost {
		http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
		return
	}
	s.Options.MaxAge = -1 // gorilla's way to delete a session
	redirect(w, r, s, "/login")
}

func (a *app) shop(w http.ResponseWriter, r *http.Request, s *sessions.Session) {
	cart, _ := s.Values[cartKey].(demo.Cart)
	a.render(w, r, s, http.StatusOK, "shop.html", demo.Page{Title: "Shop", Cart: cart})
}

func (a *app) addToCart(w http.ResponseWriter, r *http.Request, s *sessions.Session) {
	if r.Method != http.MethodPost {
		http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
		return
	}
	cart, _ := s.Values[cartKey].(demo.Cart)
	cart, ok := cart.Add(r.PostFormValue("item"))
	if !ok {
		http.Error(w, "no such product", http.StatusBadRequest)
		return
	}
	s.Values[cartKey] = cart
	redirect(w, r, s, "/")
}

func (a *app) clearCart(w http.ResponseWriter, r *http.Request, s *sessions.Session) {
	if r.Method != http.MethodPost {
		http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
		return
	}
	delete(s.Values, cartKey)
	redirect(w, r, s, "/")
}

func (a *app) devices(w http.ResponseWriter, r *http.Request, s *sessions.Session) {
	list, err := a.store.Sessions(r, s)
	if err != nil {
		serverError(w, err)
		return
	}
	a.render(w, r, s, http.StatusOK, "devices.html", demo.Page{Title: "Your devices", Devices: demo.Devices(list, a.store.Handle(r, s))})
}

func (a *app) revoke(w http.ResponseWriter, r *http.Request, s *sessions.Session) {
	if r.Method != http.MethodPost {
		http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
		return
	}
	handle := r.PostFormValue("handle")
	if handle == a.store.Handle(r, s) {
		a.logout(w, r, s)
		return
	}
	switch err := a.store.RevokeSession(r, s, handle); {
	case errors.Is(err, core.ErrNotFound):
		s.AddFlash("That device was already logged out.")
	case err != nil:
		serverError(w, err)
		return
	default:
		s.AddFlash(demo.MsgRevoked)
	}
	redirect(w, r, s, "/devices")
}

func (a *app) revokeOthers(w http.ResponseWriter, r *http.Request, s *sessions.Session) {
	if r.Method != http.MethodPost {
		http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
		return
	}
	n, err := a.store.RevokeOthers(r, s)
	if err != nil {
		serverError(w, err)
		return
	}
	s.AddFlash(demo.LoggedOutOthers(n))
	redirect(w, r, s, "/devices")
}

func (a *app) password(w http.ResponseWriter, r *http.Request, s *sessions.Session) {
	if r.Method != http.MethodPost {
		a.render(w, r, s, http.StatusOK, "password.html", demo.Page{Title: "Change password"})
		return
	}
	user := a.store.UserID(r, s)
	err := a.users.ChangePassword(user, r.PostFormValue("current"), r.PostFormValue("new"), r.PostFormValue("confirm"))
	if err != nil {
		a.render(w, r, s, http.StatusBadRequest, "password.html", demo.Page{Title: "Change password", Error: err.Error()})
		return
	}
	// Whoever else holds a session of this user may be the reason for the
	// change: end every other session, and renew this one.
	n, err := a.store.RevokeOthers(r, s)
	if err == nil {
		err = a.store.Renew(r, s)
	}
	if err != nil {
		serverError(w, err)
		return
	}
	s.AddFlash(demo.MsgPasswordSaved + " " + demo.LoggedOutOthers(n))
	redirect(w, r, s, "/")
}
