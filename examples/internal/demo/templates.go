package demo

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"net/http"
	"time"
)

//go:embed templates/*.html templates/style.css
var files embed.FS

// Page is the data every template renders.
type Page struct {
	Framework string // "gin", "gorilla/sessions", "scs"
	Title     string
	User      string   // "" when logged out
	CSRF      string   // the session's CSRF token, for the forms
	Flashes   []string // one-shot messages from the previous request
	Error     string   // what went wrong with the form just posted

	Cart    Cart     // shop
	Devices []Device // devices
}

// Products is the catalogue, for the shop page.
func (Page) Products() []Product { return Products }

// Accounts are the demo accounts, for the login page.
func (Page) Accounts() []Account { return Accounts() }

// Templates returns the pages, named login.html, shop.html, devices.html,
// password.html and error.html; each renders a Page.
func Templates() *template.Template {
	css, err := files.ReadFile("templates/style.css")
	if err != nil {
		panic(err)
	}
	funcs := template.FuncMap{
		"css": func() template.CSS { return template.CSS(css) },
		"ago": Ago,
		"stamp": func(t time.Time) string {
			return t.UTC().Format("2006-01-02 15:04:05 UTC")
		},
	}
	return template.Must(template.New("").Funcs(funcs).ParseFS(files, "templates/*.html"))
}

var templates = Templates()

// Render writes the named page with status, or a plain 500 if it cannot be
// rendered: the page is built in memory first, so a failed template never
// leaves half a page.
func Render(w http.ResponseWriter, status int, name string, p Page) {
	var buf bytes.Buffer
	if err := templates.ExecuteTemplate(&buf, name, p); err != nil {
		http.Error(w, "cannot render "+name+": "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = buf.WriteTo(w)
}

// Ago says how long ago t was, for people.
func Ago(t time.Time) string {
	d := time.Since(t)
	switch {
	case t.IsZero():
		return "never"
	case d < 10*time.Second:
		return "just now"
	case d < time.Minute:
		return fmt.Sprintf("%d seconds ago", int(d.Seconds()))
	case d < 2*time.Minute:
		return "a minute ago"
	case d < time.Hour:
		return fmt.Sprintf("%d minutes ago", int(d.Minutes()))
	case d < 2*time.Hour:
		return "an hour ago"
	case d < 48*time.Hour:
		return fmt.Sprintf("%d hours ago", int(d.Hours()))
	default:
		return fmt.Sprintf("%d days ago", int(d.Hours()/24))
	}
}

// Messages of the pages, shared so the tests can look for them.
const (
	MsgCSRF          = "This form has expired or did not come from this site. Reload the page and try again."
	MsgBadLogin      = "Wrong name or password."
	MsgRevoked       = "The device is logged out."
	MsgPasswordSaved = "Password changed."
)

// LoggedOutOthers is the flash after "log out everywhere else".
func LoggedOutOthers(n int) string {
	if n == 1 {
		return "Logged out 1 other session."
	}
	return fmt.Sprintf("Logged out %d other sessions.", n)
}
