// Package reference is the smallest complete adapter over core: plain
// net/http, string values, the raw token in the cookie, both storage layouts
// (a JSON object in the string layout, a hash field per value in the hash
// layout). It is the model a
// third party follows to write an adapter, and its test is the model for
// testing one with conformance.Run.
//
//	store := reference.New(core.New(rdb, core.Options{}))
//	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
//		s := store.Load(r)
//		s.Set("theme", "dark")
//		if err := store.Save(w, r, s); err != nil { ... }
//		io.WriteString(w, "saved")
//	})
package reference

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/redisession/redisession/core"
)

// Store keeps sessions in core and their tokens in a cookie.
type Store struct {
	Core *core.Store
	// Cookie is the template of the session cookie: name and attributes.
	// Its defaults are HttpOnly, Secure, SameSite=Lax, Path=/. A name
	// starting with "__Host-" is always sent Secure, with Path=/ and no
	// Domain, and one starting with "__Secure-" Secure, whatever the
	// template says: browsers refuse them otherwise. Browsers match these
	// prefixes in any case.
	Cookie http.Cookie
}

// New returns a Store over c with cookie "session".
func New(c *core.Store) *Store {
	return &Store{Core: c, Cookie: http.Cookie{
		Name: "session", Path: "/", HttpOnly: true, Secure: true, SameSite: http.SameSiteLaxMode,
	}}
}

// Session is one request's session.
type Session struct {
	store  *Store
	cs     *core.Session
	values map[string]string
	dirty  bool // the cookie must be (re)sent
	ended  bool // destroyed: expire the cookie
	err    error
}

// Load returns the request's session: the stored one if its cookie names a
// live session, otherwise a new, empty one (never adopting the cookie's
// token). It never returns nil; a Redis failure is kept and returned by Save,
// so a request that only reads still works on a fresh session.
func (s *Store) Load(r *http.Request) *Session {
	x := &Session{store: s, values: map[string]string{}}
	if c, err := r.Cookie(s.Cookie.Name); err == nil {
		cs, err := s.Core.Load(r.Context(), c.Value)
		switch {
		case err == nil:
			if cs.Fields != nil { // hash layout: one field per value
				for k, v := range cs.Fields {
					x.values[k] = string(v)
				}
				x.cs = cs
				return x
			}
			if json.Unmarshal(cs.Data, &x.values) == nil {
				x.cs = cs
				return x
			}
			x.values = map[string]string{}
		case errors.Is(err, core.ErrNotFound), errors.Is(err, core.ErrInvalidToken):
		default:
			x.err = err
		}
	}
	x.cs = s.Core.NewSession(core.Device{UserAgent: r.UserAgent(), RemoteAddr: r.RemoteAddr})
	return x
}

// Get returns the value stored under key.
func (x *Session) Get(key string) (string, bool) { v, ok := x.values[key]; return v, ok }

// Set stores value under key; setting the store's user key binds the
// session to that user.
func (x *Session) Set(key, value string) { x.values[key] = value }

// Put stores v under key as text: under the store's user key, the user
// core.UserIDOf names, or the error it gives for a value it refuses (the
// session is then left as it was); under any other key, v as fmt.Sprint
// formats it.
func (x *Session) Put(key string, v any) error {
	if key != x.store.Core.Options().UserKey {
		x.values[key] = fmt.Sprint(v)
		return nil
	}
	id, err := core.UserIDOf(v)
	if err != nil {
		return err
	}
	x.values[key] = id
	return nil
}

// Delete removes key.
func (x *Session) Delete(key string) { delete(x.values, key) }

// Handle is the session's public handle.
func (x *Session) Handle() string { return x.cs.Handle() }

// UserID is the user the session belongs to, "" if none.
func (x *Session) UserID() string { return x.values[x.store.Core.Options().UserKey] }

// Login binds the session to userID and renews its token: call it once the
// user has proven who they are. An empty userID returns core.ErrNoUser.
func (x *Session) Login(r *http.Request, userID string) error {
	if userID == "" {
		return core.ErrNoUser
	}
	key := x.store.Core.Options().UserKey
	old, had := x.values[key]
	x.values[key] = userID
	if err := x.Renew(r); err != nil {
		if had {
			x.values[key] = old
		} else {
			delete(x.values, key)
		}
		return err
	}
	return nil
}

// Renew gives the session a new token now (Login calls it).
func (x *Session) Renew(r *http.Request) error {
	x.sync()
	if err := x.checkNames(); err != nil {
		return err
	}
	if err := x.store.Core.Renew(r.Context(), x.cs); err != nil {
		return err
	}
	x.dirty = true
	return nil
}

// Destroy deletes the session (logout); Save then expires the cookie.
func (x *Session) Destroy(r *http.Request) error {
	x.ended = true
	return x.store.Core.Delete(r.Context(), x.cs)
}

// sync copies the values into the core session: one field each in the hash
// layout, a JSON object in the string layout.
func (x *Session) sync() {
	x.cs.UserID = x.UserID()
	if x.store.Core.Options().Layout == core.LayoutHash {
		x.cs.Fields = make(map[string][]byte, len(x.values))
		for k, v := range x.values {
			x.cs.Fields[k] = []byte(v)
		}
		return
	}
	x.cs.Data, _ = json.Marshal(x.values) // map keys sorted: equal values, equal bytes
}

// checkNames refuses values whose names core.Options.Sensitive denies.
func (x *Session) checkNames() error {
	for k := range x.values {
		if err := x.store.Core.CheckName(k); err != nil {
			return err
		}
	}
	return nil
}

// Save writes the session if it changed and sends its cookie if it is new.
// A session ended elsewhere while this request ran is not written back: the
// client gets its cookie expired.
func (s *Store) Save(w http.ResponseWriter, r *http.Request, x *Session) error {
	if x.err != nil {
		return x.err
	}
	if x.ended {
		s.setCookie(w, "", -1)
		return nil
	}
	if len(x.values) == 0 && x.cs.IsNew() {
		return nil // nothing to keep: no key, no cookie
	}
	x.sync()
	if x.cs.Modified() {
		if err := x.checkNames(); err != nil {
			return err
		}
	}
	isNew := x.cs.IsNew()
	err := s.Core.Save(r.Context(), x.cs)
	switch {
	case errors.Is(err, core.ErrNotFound):
		s.setCookie(w, "", -1)
		return nil
	case err != nil:
		return err
	}
	if isNew || x.dirty {
		s.setCookie(w, x.cs.Token(), 0)
	}
	return nil
}

func (s *Store) setCookie(w http.ResponseWriter, value string, maxAge int) {
	c := s.Cookie
	c.Value, c.MaxAge = value, maxAge
	switch {
	case hasPrefixFold(c.Name, "__Host-"):
		c.Secure, c.Path, c.Domain = true, "/", ""
	case hasPrefixFold(c.Name, "__Secure-"):
		c.Secure = true
	}
	http.SetCookie(w, &c)
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}
