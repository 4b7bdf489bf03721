package main

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/gin-contrib/sessions"
	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/redisession/redisession/core"
	"github.com/redisession/redisession/examples/internal/demo"
	"github.com/redisession/redisession/ginredis"
	"github.com/redisession/redisession/prom"
)

// The session value besides demo.CSRFKey and the user, which
// ginredis.Login puts under "user_id" (core.Options.UserKey).
const cartKey = "cart"

type app struct {
	users *demo.Users
}

// newApp returns the demo's gin engine over the config's Redis.
func newApp(cfg demo.Config) http.Handler {
	cfg = cfg.Defaults()
	store := ginredis.NewStoreWithOptions(cfg.Redis, ginredis.Options{Core: cfg.Core}, cfg.SessionKey)
	// The demo serves plain HTTP on 127.0.0.1, where a browser would not send
	// a Secure cookie back. Behind TLS keep the store's default (Secure).
	store.Options(sessions.Options{Path: "/", MaxAge: 24 * 60 * 60})
	store.Gorilla().Options.Secure = false

	a := &app{users: cfg.Users}
	r := gin.Default()
	r.SetHTMLTemplate(demo.Templates())

	reg := prometheus.NewRegistry()
	reg.MustRegister(prom.NewCollector(store.Core(), prom.Options{}))
	r.GET("/metrics", gin.WrapH(promhttp.HandlerFor(reg, promhttp.HandlerOpts{})))

	pages := r.Group("/", sessions.Sessions("session", store), checkCSRF)
	pages.GET("/login", a.loginForm)
	pages.POST("/login", a.login)
	pages.POST("/logout", a.logout)

	user := pages.Group("/", requireUser)
	user.GET("/", a.shop)
	user.POST("/cart/add", a.addToCart)
	user.POST("/cart/clear", a.clearCart)
	user.GET("/devices", a.devices)
	user.POST("/devices/revoke", a.revoke)
	user.POST("/devices/revoke-others", a.revokeOthers)
	user.GET("/password", a.passwordForm)
	user.POST("/password", a.changePassword)
	return r
}

// checkCSRF refuses a POST whose csrf field is not its session's token.
func checkCSRF(c *gin.Context) {
	if c.Request.Method != http.MethodPost {
		return
	}
	token, _ := sessions.Default(c).Get(demo.CSRFKey).(string)
	if !demo.ValidCSRF(token, c.PostForm(demo.CSRFField)) {
		c.HTML(http.StatusForbidden, "error.html", demo.Page{Framework: "gin", Title: "Forbidden", Error: demo.MsgCSRF})
		c.Abort()
	}
}

// requireUser sends a visitor who is not logged in to the login form.
func requireUser(c *gin.Context) {
	if ginredis.UserID(c, sessions.Default(c)) == "" {
		c.Redirect(http.StatusSeeOther, "/login")
		c.Abort()
		return
	}
}

// render saves the session (the page may have minted a CSRF token and
// consumed flashes) and renders a page with the session's user, token and
// flashes.
func render(c *gin.Context, status int, name string, p demo.Page) {
	s := sessions.Default(c)
	p.Framework = "gin"
	p.User = ginredis.UserID(c, s)
	for _, f := range s.Flashes() {
		p.Flashes = append(p.Flashes, fmt.Sprint(f))
	}
	token, _ := s.Get(demo.CSRFKey).(string)
	if token == "" {
		token = demo.NewCSRFToken()
		s.Set(demo.CSRFKey, token)
	}
	p.CSRF = token
	if err := s.Save(); err != nil {
		c.AbortWithError(http.StatusInternalServerError, err)
		return
	}
	c.HTML(status, name, p)
}

// redirect saves the session and sends the browser to path.
func redirect(c *gin.Context, path string) {
	if err := sessions.Default(c).Save(); err != nil {
		c.AbortWithError(http.StatusInternalServerError, err)
		return
	}
	c.Redirect(http.StatusSeeOther, path)
}

func (a *app) loginForm(c *gin.Context) {
	if ginredis.UserID(c, sessions.Default(c)) != "" {
		c.Redirect(http.StatusSeeOther, "/")
		return
	}
	render(c, http.StatusOK, "login.html", demo.Page{Title: "Log in"})
}

func (a *app) login(c *gin.Context) {
	name := c.PostForm("name")
	if !a.users.Authenticate(name, c.PostForm("password")) {
		render(c, http.StatusUnauthorized, "login.html", demo.Page{Title: "Log in", Error: demo.MsgBadLogin})
		return
	}
	s := sessions.Default(c)
	// Login binds the session to the user and gives it a new token:
	// whoever knew the old one (session fixation) is not logged in with it.
	if err := ginredis.Login(c, s, name); err != nil {
		c.AbortWithError(http.StatusInternalServerError, err)
		return
	}
	s.Set(demo.CSRFKey, demo.NewCSRFToken())
	redirect(c, "/")
}

func (a *app) logout(c *gin.Context) {
	s := sessions.Default(c)
	if err := ginredis.Destroy(c, s); err != nil {
		c.AbortWithError(http.StatusInternalServerError, err)
		return
	}
	redirect(c, "/login")
}

func (a *app) shop(c *gin.Context) {
	cart, _ := sessions.Default(c).Get(cartKey).(demo.Cart)
	render(c, http.StatusOK, "shop.html", demo.Page{Title: "Shop", Cart: cart})
}

func (a *app) addToCart(c *gin.Context) {
	s := sessions.Default(c)
	cart, _ := s.Get(cartKey).(demo.Cart)
	cart, ok := cart.Add(c.PostForm("item"))
	if !ok {
		c.String(http.StatusBadRequest, "no such product")
		return
	}
	s.Set(cartKey, cart)
	redirect(c, "/")
}

func (a *app) clearCart(c *gin.Context) {
	sessions.Default(c).Delete(cartKey)
	redirect(c, "/")
}

func (a *app) devices(c *gin.Context) {
	s := sessions.Default(c)
	list, err := ginredis.Sessions(c, s)
	if err != nil {
		c.AbortWithError(http.StatusInternalServerError, err)
		return
	}
	render(c, http.StatusOK, "devices.html", demo.Page{Title: "Your devices", Devices: demo.Devices(list, ginredis.Handle(c, s))})
}

func (a *app) revoke(c *gin.Context) {
	s := sessions.Default(c)
	handle := c.PostForm("handle")
	if handle == ginredis.Handle(c, s) {
		a.logout(c)
		return
	}
	switch err := ginredis.RevokeSession(c, s, handle); {
	case errors.Is(err, core.ErrNotFound):
		s.AddFlash("That device was already logged out.")
	case err != nil:
		c.AbortWithError(http.StatusInternalServerError, err)
		return
	default:
		s.AddFlash(demo.MsgRevoked)
	}
	redirect(c, "/devices")
}

func (a *app) revokeOthers(c *gin.Context) {
	s := sessions.Default(c)
	n, err := ginredis.RevokeOthers(c, s)
	if err != nil {
		c.AbortWithError(http.StatusInternalServerError, err)
		return
	}
	s.AddFlash(demo.LoggedOutOthers(n))
	redirect(c, "/devices")
}

func (a *app) passwordForm(c *gin.Context) {
	render(c, http.StatusOK, "password.html", demo.Page{Title: "Change password"})
}

func (a *app) changePassword(c *gin.Context) {
	s := sessions.Default(c)
	user := ginredis.UserID(c, s)
	err := a.users.ChangePassword(user, c.PostForm("current"), c.PostForm("new"), c.PostForm("confirm"))
	if err != nil {
		render(c, http.StatusBadRequest, "password.html", demo.Page{Title: "Change password", Error: err.Error()})
		return
	}
	// Whoever else holds a session of this user may be the reason for the
	// change: end every other session, and renew this one.
	n, err := ginredis.RevokeOthers(c, s)
	if err == nil {
		err = ginredis.Renew(c, s)
	}
	if err != nil {
		c.AbortWithError(http.StatusInternalServerError, err)
		return
	}
	s.AddFlash(demo.MsgPasswordSaved + " " + demo.LoggedOutOthers(n))
	redirect(c, "/")
}
