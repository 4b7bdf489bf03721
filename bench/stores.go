package bench

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/alexedwards/scs/goredisstore"
	"github.com/alexedwards/scs/redisstore"
	"github.com/alexedwards/scs/v2"
	"github.com/boj/redistore"
	ginsessions "github.com/gin-contrib/sessions"
	ginsessionsredis "github.com/gin-contrib/sessions/redis"
	"github.com/gin-gonic/gin"
	"github.com/gorilla/sessions"
	"github.com/redis/go-redis/v9"

	"github.com/redisession/redisession/conformance/reference"
	"github.com/redisession/redisession/core"
	"github.com/redisession/redisession/ginredis"
	"github.com/redisession/redisession/gorillaredis"
	"github.com/redisession/redisession/scsredis"
)

// The timeouts every store is configured with.
const (
	IdleTimeout = 30 * time.Minute
	Lifetime    = 24 * time.Hour
)

// hashKey signs the gorilla and gin cookies (no encryption, for every store).
var hashKey = []byte("bench-hash-key-0123456789abcdef0123456789abcdef")

// Factories lists every contender: the floor, ours, then the peers.
func Factories() []Factory {
	return []Factory{
		{"floor (go-redis GETEX)", "floor", newFloor},
		{"core", "ours", newCore},
		{"reference", "ours", newReference},
		{"scsredis", "ours", newSCSRedis},
		{"gorillaredis", "ours", newGorillaRedis},
		{"ginredis", "ours", newGinRedis},
		{"gorillaredis+JSON", "ours", newGorillaRedisJSON},
		{"boj/redistore", "peer", newRediStore},
		{"gin-contrib/redis", "peer", newGinContribRedis},
		{"scs/redisstore", "peer", newSCSRedisStore},
		{"scs/goredisstore", "peer", newSCSGoRedisStore},
		{"gorilla CookieStore", "peer", newCookieStore},
	}
}

func classByPrefix(index string) func(string) string {
	return func(k string) string {
		if index != "" && strings.HasPrefix(k, index) {
			return "index"
		}
		return "session"
	}
}

// route dispatches the workload paths.
func route(read, readSave, write, login, logout http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/read":
			read(w, r)
		case "/" + ReadSave:
			readSave(w, r)
		case "/write":
			write(w, r)
		case "/login":
			login(w, r)
		case "/logout":
			logout(w, r)
		default:
			http.NotFound(w, r)
		}
	})
}

func fail(w http.ResponseWriter, err error) {
	http.Error(w, err.Error(), http.StatusInternalServerError)
}

func expireCookie(w http.ResponseWriter, name string) {
	http.SetCookie(w, &http.Cookie{Name: name, Path: "/", MaxAge: -1, HttpOnly: true, Secure: true, SameSite: http.SameSiteLaxMode})
}

func setCookie(w http.ResponseWriter, name, value string) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: value, Path: "/", HttpOnly: true, Secure: true, SameSite: http.SameSiteLaxMode})
}

// newFloor is the least any Redis session store can do: GETEX … PXAT to read
// and slide, SET … PXAT to write, DEL to log out, on an opaque JSON blob
// under the raw token. No user index, no record, no hashing.
func newFloor(addr string) (*Store, error) {
	rdb := NewClient(addr)
	s := &Store{Kind: "floor", Family: "net/http", Redis: true, Cookie: "sid", Class: classByPrefix(""),
		Note: "raw go-redis: GETEX key PXAT; GETEX + SET PXAT; SET NX PXAT; DEL. No index, no decoding. read+Save is the read: saving unchanged data costs nothing at the floor."}
	s.close = append(s.close, func() { _ = rdb.Close() })
	key := func(r *http.Request) (string, bool) {
		c, err := r.Cookie("sid")
		if err != nil || !core.ValidToken(c.Value) {
			return "", false
		}
		return "floor:" + c.Value, true
	}
	getex := func(ctx context.Context, k string) (string, error) {
		cmd := redis.NewStringCmd(ctx, "getex", k, "pxat", time.Now().Add(IdleTimeout).UnixMilli())
		_ = rdb.Process(ctx, cmd)
		return cmd.Result()
	}
	var n atomic.Int64
	read := func(w http.ResponseWriter, r *http.Request) {
		k, ok := key(r)
		if !ok {
			return
		}
		v, err := getex(r.Context(), k)
		if err == redis.Nil {
			return
		} else if err != nil {
			fail(w, err)
			return
		}
		_, _ = io.WriteString(w, v[userOff:userOff+8])
	}
	s.Handler = route(read, read,
		func(w http.ResponseWriter, r *http.Request) {
			k, ok := key(r)
			if !ok {
				return
			}
			ctx := r.Context()
			v, err := getex(ctx, k)
			if err != nil {
				fail(w, err)
				return
			}
			b := patchPage([]byte(v), int(n.Add(1)))
			cmd := redis.NewStatusCmd(ctx, "set", k, b, "xx", "pxat", time.Now().Add(IdleTimeout).UnixMilli())
			if err := rdb.Process(ctx, cmd); err != nil && err != redis.Nil {
				fail(w, err)
			}
		},
		func(w http.ResponseWriter, r *http.Request) {
			ctx := r.Context()
			tok := core.NewToken()
			cmd := redis.NewStatusCmd(ctx, "set", "floor:"+tok, userPayload(s.nextUser(r)), "nx", "pxat", time.Now().Add(IdleTimeout).UnixMilli())
			if err := rdb.Process(ctx, cmd); err != nil {
				fail(w, err)
				return
			}
			setCookie(w, "sid", tok)
		},
		func(w http.ResponseWriter, r *http.Request) {
			if k, ok := key(r); ok {
				if err := rdb.Del(r.Context(), k).Err(); err != nil {
					fail(w, err)
					return
				}
			}
			expireCookie(w, "sid")
		},
	)
	return s, nil
}

// newCore drives core directly: the token in a cookie, the payload as
// opaque JSON bytes (not decoded), the user id from the record.
func newCore(addr string) (*Store, error) {
	rdb := NewClient(addr)
	st := core.New(rdb, core.Options{IdleTimeout: IdleTimeout, Lifetime: Lifetime})
	s := &Store{Kind: "ours", Family: "net/http", Redis: true, Cookie: "session", Class: classByPrefix("user_sessions:"),
		Note: "core.Load / Save / DeleteToken on opaque bytes; read+Save is Load then Save of the unchanged session; logout is GETDEL + ZREM (it learns the user from the record)."}
	s.close = append(s.close, func() { _ = rdb.Close() })
	token := func(r *http.Request) string {
		if c, err := r.Cookie("session"); err == nil {
			return c.Value
		}
		return ""
	}
	var n atomic.Int64
	s.Handler = route(
		func(w http.ResponseWriter, r *http.Request) {
			x, err := st.Load(r.Context(), token(r))
			if err != nil {
				if !errors.Is(err, core.ErrNotFound) && !errors.Is(err, core.ErrInvalidToken) {
					fail(w, err)
				}
				return
			}
			_, _ = io.WriteString(w, x.UserID)
		},
		func(w http.ResponseWriter, r *http.Request) {
			x, err := st.Load(r.Context(), token(r))
			if err != nil {
				if !errors.Is(err, core.ErrNotFound) && !errors.Is(err, core.ErrInvalidToken) {
					fail(w, err)
				}
				return
			}
			_, _ = io.WriteString(w, x.UserID)
			if err := st.Save(r.Context(), x); err != nil {
				fail(w, err)
			}
		},
		func(w http.ResponseWriter, r *http.Request) {
			x, err := st.Load(r.Context(), token(r))
			if err != nil {
				fail(w, err)
				return
			}
			x.Data = patchPage(x.Data, int(n.Add(1)))
			if err := st.Save(r.Context(), x); err != nil {
				fail(w, err)
			}
		},
		func(w http.ResponseWriter, r *http.Request) {
			x := st.NewSession(core.Device{UserAgent: r.UserAgent(), RemoteAddr: r.RemoteAddr})
			x.UserID = s.nextUser(r)
			x.Data = userPayload(x.UserID)
			if err := st.Save(r.Context(), x); err != nil {
				fail(w, err)
				return
			}
			setCookie(w, "session", x.Token())
		},
		func(w http.ResponseWriter, r *http.Request) {
			if err := st.DeleteToken(r.Context(), token(r)); err != nil {
				fail(w, err)
				return
			}
			expireCookie(w, "session")
		},
	)
	return s, nil
}

// newReference is conformance/reference: the minimal net/http adapter over
// core, values as a JSON map of strings.
func newReference(addr string) (*Store, error) {
	rdb := NewClient(addr)
	st := reference.New(core.New(rdb, core.Options{IdleTimeout: IdleTimeout, Lifetime: Lifetime}))
	s := &Store{Kind: "ours", Family: "net/http", Redis: true, Cookie: st.Cookie.Name, Class: classByPrefix("user_sessions:"),
		Note: "conformance/reference: Load, Get, Save (reads do not call Save: the load slid the expiry; read+Save does)."}
	s.close = append(s.close, func() { _ = rdb.Close() })
	var n atomic.Int64
	s.Handler = route(
		func(w http.ResponseWriter, r *http.Request) {
			x := st.Load(r)
			if v, ok := x.Get(UserKey); ok {
				_, _ = io.WriteString(w, v)
			}
		},
		func(w http.ResponseWriter, r *http.Request) {
			x := st.Load(r)
			if v, ok := x.Get(UserKey); ok {
				_, _ = io.WriteString(w, v)
			}
			if err := st.Save(w, r, x); err != nil {
				fail(w, err)
			}
		},
		func(w http.ResponseWriter, r *http.Request) {
			x := st.Load(r)
			x.Set(ChangedKey, changedPage(int(n.Add(1))))
			if err := st.Save(w, r, x); err != nil {
				fail(w, err)
			}
		},
		func(w http.ResponseWriter, r *http.Request) {
			x := st.Load(r)
			for _, kv := range Values {
				x.Set(kv.K, kv.V)
			}
			x.Set(UserKey, s.nextUser(r))
			if err := st.Save(w, r, x); err != nil {
				fail(w, err)
			}
		},
		func(w http.ResponseWriter, r *http.Request) {
			x := st.Load(r)
			if err := x.Destroy(r); err != nil {
				fail(w, err)
				return
			}
			if err := st.Save(w, r, x); err != nil {
				fail(w, err)
			}
		},
	)
	return s, nil
}

// scsHandler serves the workloads through an scs manager with IdleTimeout,
// as scs documents: LoadAndSave commits on every request, so read+Save is
// the read.
func scsHandler(s *Store, sm *scs.SessionManager) http.Handler {
	var n atomic.Int64
	read := func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, sm.GetString(r.Context(), UserKey))
	}
	return sm.LoadAndSave(route(read, read,
		func(w http.ResponseWriter, r *http.Request) {
			sm.Put(r.Context(), ChangedKey, changedPage(int(n.Add(1))))
		},
		func(w http.ResponseWriter, r *http.Request) {
			ctx := r.Context()
			for _, kv := range Values {
				sm.Put(ctx, kv.K, kv.V)
			}
			sm.Put(ctx, UserKey, s.nextUser(r))
		},
		func(w http.ResponseWriter, r *http.Request) {
			if err := sm.Destroy(r.Context()); err != nil {
				fail(w, err)
			}
		},
	))
}

func newSCSManager() *scs.SessionManager {
	sm := scs.New()
	sm.IdleTimeout = IdleTimeout
	sm.Lifetime = Lifetime
	sm.Cookie.Name = "session"
	return sm
}

// SCS returns the scs manager and store behind a store built by newSCSRedis
// or the scs peers, for the revoke-all comparison.
type scsParts struct {
	sm    *scs.SessionManager
	ours  *scsredis.Store
	rdb   *redis.Client
	store scs.Store
}

var scsOf = map[*Store]*scsParts{}

func newSCSRedis(addr string) (*Store, error) {
	rdb := NewClient(addr)
	sm := newSCSManager()
	st := scsredis.New(rdb, scsredis.Options{Core: core.Options{IdleTimeout: IdleTimeout, Lifetime: Lifetime}})
	sm.Store = st
	s := &Store{Kind: "ours", Family: "scs", Redis: true, Cookie: "session", Class: classByPrefix("user_sessions:"),
		Note: "scs.SessionManager (IdleTimeout 30m) with scsredis, wrapped in scsredis.RecordDevice."}
	s.close = append(s.close, func() { _ = rdb.Close() })
	s.Handler = scsredis.RecordDevice(scsHandler(s, sm))
	scsOf[s] = &scsParts{sm: sm, ours: st, rdb: rdb, store: st}
	return s, nil
}

func newSCSRedisStore(addr string) (*Store, error) {
	pool := NewPool(addr)
	sm := newSCSManager()
	sm.Store = redisstore.New(pool)
	s := &Store{Kind: "peer", Family: "scs", Redis: true, Cookie: "session", Class: classByPrefix(""),
		Note: "scs.SessionManager (IdleTimeout 30m) with scs/redisstore (redigo pool)."}
	s.close = append(s.close, func() { _ = pool.Close() })
	s.Handler = scsHandler(s, sm)
	scsOf[s] = &scsParts{sm: sm, store: sm.Store}
	return s, nil
}

func newSCSGoRedisStore(addr string) (*Store, error) {
	rdb := NewClient(addr)
	sm := newSCSManager()
	sm.Store = goredisstore.New(rdb)
	s := &Store{Kind: "peer", Family: "scs", Redis: true, Cookie: "session", Class: classByPrefix(""),
		Note: "scs.SessionManager (IdleTimeout 30m) with scs/goredisstore (go-redis)."}
	s.close = append(s.close, func() { _ = rdb.Close() })
	s.Handler = scsHandler(s, sm)
	scsOf[s] = &scsParts{sm: sm, rdb: rdb, store: sm.Store}
	return s, nil
}

// gorillaHandler serves the workloads through a gorilla sessions.Store.
// slideOnRead: the store slides only when saved, so the read saves.
// read+Save always saves, as a gorilla app written for such a store does.
func gorillaHandler(s *Store, st sessions.Store, slideOnRead bool) http.Handler {
	var n atomic.Int64
	read := func(save bool) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			x, err := st.Get(r, s.Cookie)
			if err != nil && x == nil {
				fail(w, err)
				return
			}
			if x.IsNew {
				return
			}
			if v, ok := x.Values[UserKey].(string); ok {
				_, _ = io.WriteString(w, v)
			}
			if save {
				if err := x.Save(r, w); err != nil {
					fail(w, err)
				}
			}
		}
	}
	return route(read(slideOnRead), read(true),
		func(w http.ResponseWriter, r *http.Request) {
			x, _ := st.Get(r, s.Cookie)
			x.Values[ChangedKey] = changedPage(int(n.Add(1)))
			if err := x.Save(r, w); err != nil {
				fail(w, err)
			}
		},
		func(w http.ResponseWriter, r *http.Request) {
			x, _ := st.Get(r, s.Cookie)
			for _, kv := range Values {
				x.Values[kv.K] = kv.V
			}
			x.Values[UserKey] = s.nextUser(r)
			if err := x.Save(r, w); err != nil {
				fail(w, err)
			}
		},
		func(w http.ResponseWriter, r *http.Request) {
			x, _ := st.Get(r, s.Cookie)
			x.Options.MaxAge = -1
			if err := x.Save(r, w); err != nil {
				fail(w, err)
			}
		},
	)
}

func newGorillaRedis(addr string) (*Store, error) {
	rdb := NewClient(addr)
	st := gorillaredis.NewStoreWithOptions(rdb, gorillaredis.Options{Core: core.Options{IdleTimeout: IdleTimeout, Lifetime: Lifetime}}, hashKey)
	s := &Store{Kind: "ours", Family: "gorilla", Redis: true, Cookie: "session", Class: classByPrefix("user_sessions:"),
		Note: "gorilla sessions.Store: Get slides (GETEX); reads do not Save, read+Save does (values unchanged)."}
	s.close = append(s.close, func() { _ = rdb.Close() })
	s.Handler = gorillaHandler(s, st, false)
	return s, nil
}

// newGorillaRedisJSON is gorillaredis with its JSONSerializer instead of the
// default gob: the experiment behind the allocation proposal.
func newGorillaRedisJSON(addr string) (*Store, error) {
	rdb := NewClient(addr)
	st := gorillaredis.NewStoreWithOptions(rdb, gorillaredis.Options{Core: core.Options{IdleTimeout: IdleTimeout, Lifetime: Lifetime}, Serializer: gorillaredis.JSONSerializer{}}, hashKey)
	s := &Store{Kind: "ours", Family: "gorilla", Redis: true, Cookie: "session", Class: classByPrefix("user_sessions:"),
		Note: "experiment: gorillaredis with Options.Serializer = JSONSerializer (values are strings, so nothing is lost); otherwise as gorillaredis."}
	s.close = append(s.close, func() { _ = rdb.Close() })
	s.Handler = gorillaHandler(s, st, false)
	return s, nil
}

func newRediStore(addr string) (*Store, error) {
	st, err := redistore.NewRediStoreWithDB(PoolSize, "tcp", addr, "", "", strconv.Itoa(DB()), hashKey)
	if err != nil {
		return nil, err
	}
	st.SetMaxAge(int(IdleTimeout.Seconds()))
	s := &Store{Kind: "peer", Family: "gorilla", Redis: true, Cookie: "session", Class: classByPrefix(""),
		Note: "boj/redistore (redigo; its pool PINGs on every borrow), MaxAge 30m: only a Save slides, so reads Save (SETEX of the whole session)."}
	s.close = append(s.close, func() { _ = st.Close() })
	s.Handler = gorillaHandler(s, st, true)
	return s, nil
}

func newCookieStore(addr string) (*Store, error) {
	st := sessions.NewCookieStore(hashKey)
	st.MaxAge(int(IdleTimeout.Seconds()))
	st.Options.HttpOnly, st.Options.Secure, st.Options.SameSite = true, true, http.SameSiteLaxMode
	s := &Store{Kind: "peer", Family: "gorilla", Redis: false, Cookie: "session", Class: classByPrefix(""),
		Note: "gorilla sessions.CookieStore, MaxAge 30m: the whole session in a signed cookie; reads Save to slide. Nothing in Redis, nothing to revoke."}
	s.Handler = gorillaHandler(s, st, true)
	return s, nil
}

// ginHandler serves the workloads through gin with gin-contrib/sessions.
// read+Save always re-Sets a value and saves, as a gin app written for
// gin-contrib/redis does to slide the expiry.
func ginHandler(s *Store, st ginsessions.Store, slideOnRead bool, destroy func(*gin.Context, ginsessions.Session) error) http.Handler {
	gin.SetMode(gin.ReleaseMode)
	e := gin.New()
	e.Use(ginsessions.Sessions(s.Cookie, st))
	var n atomic.Int64
	read := func(save bool) gin.HandlerFunc {
		return func(c *gin.Context) {
			x := ginsessions.Default(c)
			v, _ := x.Get(UserKey).(string)
			_, _ = c.Writer.WriteString(v)
			if save && v != "" {
				x.Set(UserKey, v) // gin-contrib saves only what was written
				if err := x.Save(); err != nil {
					fail(c.Writer, err)
				}
			}
		}
	}
	e.GET("/read", read(slideOnRead))
	e.GET("/"+ReadSave, read(true))
	e.GET("/write", func(c *gin.Context) {
		x := ginsessions.Default(c)
		x.Set(ChangedKey, changedPage(int(n.Add(1))))
		if err := x.Save(); err != nil {
			fail(c.Writer, err)
		}
	})
	e.GET("/login", func(c *gin.Context) {
		x := ginsessions.Default(c)
		for _, kv := range Values {
			x.Set(kv.K, kv.V)
		}
		x.Set(UserKey, s.nextUser(c.Request))
		if err := x.Save(); err != nil {
			fail(c.Writer, err)
		}
	})
	e.GET("/logout", func(c *gin.Context) {
		x := ginsessions.Default(c)
		if err := destroy(c, x); err != nil {
			fail(c.Writer, err)
			return
		}
		if err := x.Save(); err != nil {
			fail(c.Writer, err)
		}
	})
	return e
}

func newGinRedis(addr string) (*Store, error) {
	rdb := NewClient(addr)
	st := ginredis.NewStoreWithOptions(rdb, ginredis.Options{Core: core.Options{IdleTimeout: IdleTimeout, Lifetime: Lifetime}}, hashKey)
	s := &Store{Kind: "ours", Family: "gin", Redis: true, Cookie: "session", Class: classByPrefix("user_sessions:"),
		Note: "gin + gin-contrib/sessions over ginredis: reads slide on load, no Save (read+Save re-Sets a value and Saves, values unchanged); logout is ginredis.Destroy + Save."}
	s.close = append(s.close, func() { _ = rdb.Close() })
	s.Handler = ginHandler(s, st, false, ginredis.Destroy)
	return s, nil
}

func newGinContribRedis(addr string) (*Store, error) {
	st, err := ginsessionsredis.NewStoreWithDB(PoolSize, "tcp", addr, "", "", strconv.Itoa(DB()), hashKey)
	if err != nil {
		return nil, err
	}
	st.Options(ginsessions.Options{Path: "/", MaxAge: int(IdleTimeout.Seconds()), HttpOnly: true, Secure: true, SameSite: http.SameSiteLaxMode})
	s := &Store{Kind: "peer", Family: "gin", Redis: true, Cookie: "session", Class: classByPrefix(""),
		Note: "gin + gin-contrib/sessions/redis (boj/redistore underneath), MaxAge 30m: only a written session is saved, so reads re-Set a value and Save to slide."}
	if rs, err := ginsessionsredis.GetRedisStore(st); err == nil {
		s.close = append(s.close, func() { _ = rs.Close() })
	}
	s.Handler = ginHandler(s, st, true, func(c *gin.Context, x ginsessions.Session) error {
		x.Clear()
		x.Options(ginsessions.Options{Path: "/", MaxAge: -1})
		return nil
	})
	return s, nil
}
