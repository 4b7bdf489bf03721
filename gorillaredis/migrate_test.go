package gorillaredis_test

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/securecookie"
	"github.com/gorilla/sessions"
	"github.com/redis/go-redis/v9"

	"github.com/redisession/redisession/core"
	"github.com/redisession/redisession/gorillaredis"
)

// oldKey is the key pair of the store being replaced; the new store signs
// with testKeys.
var oldKey = [][]byte{[]byte("legacy-hash-key-legacy-hash-key!"), []byte("legacy-block-key")}

// legacyValues are what the user had under the old store: a user id, an
// int, a registered type.
func legacyValues() map[interface{}]interface{} {
	return map[interface{}]interface{}{"user_id": "alice", "n": 7, "cart": cart{Items: []string{"apple"}, Total: 3}}
}

// request is a GET carrying the cookie app=value ("" for none).
func request(value string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "https://example.test/", nil)
	if value != "" {
		r.AddCookie(&http.Cookie{Name: "app", Value: value})
	}
	return r
}

// cookieOf returns the value of the app cookie a response set, and whether
// it set one.
func cookieOf(w *httptest.ResponseRecorder) (string, bool) {
	for _, c := range w.Result().Cookies() {
		if c.Name == "app" {
			return c.Value, true
		}
	}
	return "", false
}

// cookieStoreCookie logs alice in on gorilla's CookieStore and returns its
// cookie.
func cookieStoreCookie(t *testing.T, keys ...[]byte) string {
	t.Helper()
	old := sessions.NewCookieStore(keys...)
	r := request("")
	s, _ := old.Get(r, "app")
	for k, v := range legacyValues() {
		s.Values[k] = v
	}
	w := httptest.NewRecorder()
	if err := s.Save(r, w); err != nil {
		t.Fatal(err)
	}
	v, ok := cookieOf(w)
	if !ok {
		t.Fatal("CookieStore sent no cookie")
	}
	return v
}

// rediStoreSession writes a session the way boj/redistore lays it out (a
// key prefix+id holding the serialized values, a cookie carrying the id
// signed with securecookie's defaults) and returns the cookie. The
// systest/migrate module checks the same against the real redistore.
func (e *env) rediStoreSession(t *testing.T, prefix, id string, ser gorillaredis.Serializer, values map[interface{}]interface{}) string {
	t.Helper()
	b, err := ser.Serialize(values)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.raw.Set(context.Background(), prefix+id, b, time.Hour).Err(); err != nil {
		t.Fatal(err)
	}
	v, err := securecookie.EncodeMulti("app", id, securecookie.CodecsFromPairs(e.legacyKeys...)...)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func migrateEnv(t *testing.T, m gorillaredis.Migration) *env {
	t.Helper()
	if m.Until.IsZero() {
		m.Until = time.Now().Add(time.Hour)
	}
	if m.KeyPairs == nil {
		m.KeyPairs = oldKey
	}
	return newEnv(t, gorillaredis.Options{Migrate: &m})
}

// adoptOnce sends one request with cookie through e.store, saving the
// session, and returns it with the response.
func (e *env) adoptOnce(t *testing.T, cookie string) (*sessions.Session, *httptest.ResponseRecorder) {
	t.Helper()
	r := request(cookie)
	s, err := e.store.Get(r, "app")
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	w := httptest.NewRecorder()
	if err := s.Save(r, w); err != nil {
		t.Fatalf("Save: %v", err)
	}
	return s, w
}

// checkAdopted checks that the response's cookie is the new store's, that
// it carries the legacy values, and that alice's device list has it.
func (e *env) checkAdopted(t *testing.T, w *httptest.ResponseRecorder, want map[interface{}]interface{}) string {
	t.Helper()
	v, ok := cookieOf(w)
	if !ok {
		t.Fatal("the adoption sent no cookie")
	}
	var token string
	if err := securecookie.DecodeMulti("app", v, &token, e.store.Codecs...); err != nil || !core.ValidToken(token) {
		t.Fatalf("the cookie sent is not the new store's: %v", err)
	}
	r := request(v)
	s, err := e.store.Get(r, "app")
	if err != nil {
		t.Fatal(err)
	}
	if s.IsNew || !reflect.DeepEqual(s.Values, want) {
		t.Fatalf("after the swap: new=%v values %#v, want %#v", s.IsNew, s.Values, want)
	}
	list, err := e.store.UserSessions(context.Background(), "alice")
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].Handle != s.ID {
		t.Fatalf("alice's sessions: %+v, want only %s", list, s.ID)
	}
	if got := e.store.Core().Counters().Adopted; got != 1 {
		t.Fatalf("Adopted = %d, want 1", got)
	}
	return v
}

// checkNoSession checks that cookie is no session: New gives a new, empty
// one, without error.
func (e *env) checkNoSession(t *testing.T, cookie string) {
	t.Helper()
	s, err := e.store.Get(request(cookie), "app")
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	if !s.IsNew || len(s.Values) != 0 {
		t.Fatalf("a refused cookie gave new=%v values %#v", s.IsNew, s.Values)
	}
}

func TestMigrateCookieStore(t *testing.T) {
	for _, layout := range []core.Layout{core.LayoutString, core.LayoutHash} {
		t.Run(layout.String(), func(t *testing.T) {
			m := gorillaredis.Migration{Until: time.Now().Add(time.Hour), KeyPairs: oldKey}
			e := newEnv(t, gorillaredis.Options{Core: core.Options{Layout: layout}, Migrate: &m})
			old := cookieStoreCookie(t, oldKey...)
			_, w := e.adoptOnce(t, old)
			e.checkAdopted(t, w, legacyValues())
			// The legacy cookie is dead once adopted: a copy of it is no session.
			e.checkNoSession(t, old)
			if got := e.store.Core().Counters().Adopted; got != 1 {
				t.Fatalf("Adopted = %d after a replay, want 1", got)
			}
		})
	}
}

// The app kept its session key: the legacy cookie is signed with the same
// keys as the new store's, and still takes the legacy path.
func TestMigrateCookieStoreSameKeys(t *testing.T) {
	e := migrateEnv(t, gorillaredis.Migration{KeyPairs: testKeys})
	_, w := e.adoptOnce(t, cookieStoreCookie(t, testKeys...))
	e.checkAdopted(t, w, legacyValues())
}

func TestMigrateRediStore(t *testing.T) {
	for _, tc := range []struct {
		name string
		ser  gorillaredis.Serializer
		want map[interface{}]interface{}
	}{
		{"gob", nil, legacyValues()},
		{"json", gorillaredis.JSONSerializer{}, map[interface{}]interface{}{"user_id": "alice", "n": 7.0}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, gorillaredis.Options{})
			prefix := e.srv.Prefix + "legacy_"
			e = migrateEnvOn(t, e, gorillaredis.Migration{From: gorillaredis.FromRediStore, KeyPrefix: prefix, Serializer: tc.ser})
			ser := tc.ser
			if ser == nil {
				ser = gorillaredis.GobSerializer{}
			}
			old := e.rediStoreSession(t, prefix, "ID1", ser, tc.want)
			_, w := e.adoptOnce(t, old)
			e.checkAdopted(t, w, tc.want)
			if !e.legacyEnded(t, prefix+"ID1") {
				t.Fatal("the legacy session is still there after the adoption")
			}
			e.checkNoSession(t, old)
		})
	}
}

// legacyEnded reports whether the legacy key is gone, or no longer holds
// the session's values and expires within the grace of an adoption.
func (e *env) legacyEnded(t *testing.T, key string) bool {
	t.Helper()
	ctx := context.Background()
	v, err := e.raw.Get(ctx, key).Result()
	if errors.Is(err, redis.Nil) {
		return true
	}
	if err != nil {
		t.Fatal(err)
	}
	ttl := e.raw.PTTL(ctx, key).Val()
	return !strings.Contains(v, "alice") && ttl > 0 && ttl <= 30*time.Second
}

// migrateEnvOn is migrateEnv over e's server, for a Migration that names
// keys under its prefix.
func migrateEnvOn(t *testing.T, e *env, m gorillaredis.Migration) *env {
	t.Helper()
	if m.Until.IsZero() {
		m.Until = time.Now().Add(time.Hour)
	}
	if m.KeyPairs == nil {
		m.KeyPairs = oldKey
	}
	e.legacyKeys = m.KeyPairs
	opts := gorillaredis.Options{Migrate: &m}
	opts.Core.Prefix = e.srv.Prefix
	opts.Core.Now = e.srv.Now
	e.store = gorillaredis.NewStoreWithOptions(e.srv.NewClient(t, e.count), opts, testKeys...)
	return e
}

// The app kept its session key: a redistore cookie then passes the new
// store's signature check (its payload is a gob string) but carries no
// token, and takes the legacy path.
func TestMigrateRediStoreSameKeys(t *testing.T) {
	e := newEnv(t, gorillaredis.Options{})
	prefix := e.srv.Prefix + "legacy_"
	e = migrateEnvOn(t, e, gorillaredis.Migration{From: gorillaredis.FromRediStore, KeyPrefix: prefix, KeyPairs: testKeys})
	old := e.rediStoreSession(t, prefix, "ID1", gorillaredis.GobSerializer{}, legacyValues())
	_, w := e.adoptOnce(t, old)
	e.checkAdopted(t, w, legacyValues())
}

func TestMigrateRediStoreKeepLegacy(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, gorillaredis.Options{})
	prefix := e.srv.Prefix + "legacy_"
	e = migrateEnvOn(t, e, gorillaredis.Migration{From: gorillaredis.FromRediStore, KeyPrefix: prefix, KeepLegacy: true})
	old := e.rediStoreSession(t, prefix, "ID1", gorillaredis.GobSerializer{}, legacyValues())
	_, w := e.adoptOnce(t, old)
	e.checkAdopted(t, w, legacyValues())
	if n := e.raw.Exists(ctx, prefix+"ID1").Val(); n != 1 {
		t.Fatal("KeepLegacy: the legacy key was removed")
	}
	e.checkNoSession(t, old) // kept, but adopted once only
}

func TestMigrateRediStoreKeyAbsent(t *testing.T) {
	e := newEnv(t, gorillaredis.Options{})
	prefix := e.srv.Prefix + "legacy_"
	e = migrateEnvOn(t, e, gorillaredis.Migration{From: gorillaredis.FromRediStore, KeyPrefix: prefix})
	old := e.rediStoreSession(t, prefix, "ID1", gorillaredis.GobSerializer{}, legacyValues())
	e.raw.Del(context.Background(), prefix+"ID1") // logged out, or expired, under the old store
	e.count.Reset()
	e.checkNoSession(t, old)
	if got := e.count.Commands(); got["get"] != 1 || e.count.Total() != 1 {
		t.Fatalf("a legacy cookie whose key is gone cost %v, want one GET", got)
	}
}

// tamper returns value with one character of its signed part changed.
func tamper(value string) string {
	b := []byte(value)
	i := len(b) / 2
	if b[i] == 'A' {
		b[i] = 'B'
	} else {
		b[i] = 'A'
	}
	return string(b)
}

// TestMigrateRefusesUnverified: a legacy cookie that fails the old store's
// checks is no session, costs no round trip and writes nothing.
func TestMigrateRefusesUnverified(t *testing.T) {
	for _, from := range []gorillaredis.Legacy{gorillaredis.FromCookieStore, gorillaredis.FromRediStore} {
		e := newEnv(t, gorillaredis.Options{})
		prefix := e.srv.Prefix + "legacy_"
		e = migrateEnvOn(t, e, gorillaredis.Migration{From: from, KeyPrefix: prefix})
		var genuine string
		if from == gorillaredis.FromCookieStore {
			genuine = cookieStoreCookie(t, oldKey...)
		} else {
			genuine = e.rediStoreSession(t, prefix, "ID1", gorillaredis.GobSerializer{}, legacyValues())
		}
		forgedKey := [][]byte{[]byte("not-the-legacy-key-not-the-key!!"), oldKey[1]}
		var forged string
		if from == gorillaredis.FromCookieStore {
			forged = cookieStoreCookie(t, forgedKey...)
		} else {
			forged, _ = securecookie.EncodeMulti("app", "ID1", securecookie.CodecsFromPairs(forgedKey...)...)
		}
		// What the legacy cookie carries, without its signature: the
		// session id, or the values.
		unsigned := "ID1"
		if from == gorillaredis.FromCookieStore {
			b, _ := gorillaredis.GobSerializer{}.Serialize(legacyValues())
			unsigned = base64.URLEncoding.EncodeToString(b)
		}
		for name, v := range map[string]string{"tampered": tamper(genuine), "forged": forged, "unsigned": unsigned, "garbage": "not-a-cookie"} {
			e.count.Reset()
			before := len(e.srv.Keys(t, e.raw))
			r := request(v)
			s, err := e.store.Get(r, "app")
			if err != nil {
				t.Fatalf("%v %s: Get: %v", from, name, err)
			}
			if !s.IsNew || len(s.Values) != 0 {
				t.Errorf("%v %s: adopted: %#v", from, name, s.Values)
			}
			if n := e.count.RoundTrips(); n != 0 {
				t.Errorf("%v %s: %d round trips, want 0", from, name, n)
			}
			w := httptest.NewRecorder()
			if err := s.Save(r, w); err != nil {
				t.Fatal(err)
			}
			if after := len(e.srv.Keys(t, e.raw)); after != before {
				t.Errorf("%v %s: %d keys written", from, name, after-before)
			}
		}
	}
}

// TestMigrateLegacyMaxAge: a legacy signature older than the old store's
// MaxAge is refused, as the old store refused it.
func TestMigrateLegacyMaxAge(t *testing.T) {
	e := migrateEnv(t, gorillaredis.Migration{MaxAge: 1})
	old := cookieStoreCookie(t, oldKey...)
	time.Sleep(2100 * time.Millisecond) // securecookie checks the wall clock
	e.checkNoSession(t, old)
}

// TestMigrateWindowClosed: past Until the legacy path is off: a legacy
// cookie is no session, with no command sent, and the legacy key stays.
func TestMigrateWindowClosed(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, gorillaredis.Options{})
	prefix := e.srv.Prefix + "legacy_"
	e = migrateEnvOn(t, e, gorillaredis.Migration{From: gorillaredis.FromRediStore, KeyPrefix: prefix,
		Until: e.srv.Now().Add(-time.Second)})
	old := e.rediStoreSession(t, prefix, "ID1", gorillaredis.GobSerializer{}, legacyValues())
	for _, v := range []string{old, cookieStoreCookie(t, oldKey...), ""} {
		e.count.Reset()
		e.checkNoSession(t, v)
		if n := e.count.Total(); n != 0 {
			t.Fatalf("a closed migration sent %v", e.count.Commands())
		}
	}
	if e.raw.Exists(ctx, prefix+"ID1").Val() != 1 {
		t.Fatal("the legacy key was touched")
	}
}

// TestMigrateRoundTrips measures what a migration adds to a request: none
// on the Store's own cookie, and on a legacy cookie what Migration's doc
// states.
func TestMigrateRoundTrips(t *testing.T) {
	plain := newEnv(t, gorillaredis.Options{})
	_, w := plain.adoptOnceValues(t, "", legacyValues())
	own, _ := cookieOf(w)
	plain.count.Reset()
	plain.adoptOnce(t, own)
	ownCost := plain.count.RoundTrips()
	plain.count.Reset()
	plain.adoptOnceValues(t, "", legacyValues())
	createCost := plain.count.RoundTrips()

	e := newEnv(t, gorillaredis.Options{})
	prefix := e.srv.Prefix + "legacy_"
	for _, tc := range []struct {
		m          gorillaredis.Migration
		newRT, add int
	}{
		{gorillaredis.Migration{From: gorillaredis.FromCookieStore}, 1, 1},
		{gorillaredis.Migration{From: gorillaredis.FromRediStore, KeyPrefix: prefix}, 1, 1},
		{gorillaredis.Migration{From: gorillaredis.FromRediStore, KeyPrefix: prefix, KeepLegacy: true}, 2, 1},
	} {
		e = migrateEnvOn(t, e, tc.m)
		var old string
		if tc.m.From == gorillaredis.FromCookieStore {
			old = cookieStoreCookie(t, oldKey...)
		} else {
			old = e.rediStoreSession(t, prefix, core.NewToken(), gorillaredis.GobSerializer{}, legacyValues())
		}
		e.count.Reset()
		r := request(old)
		s, err := e.store.Get(r, "app")
		if err != nil {
			t.Fatal(err)
		}
		if got := e.count.RoundTrips(); got != tc.newRT {
			t.Errorf("%+v: New costs %d round trips, want %d", tc.m, got, tc.newRT)
		}
		e.count.Reset()
		w := httptest.NewRecorder()
		if err := s.Save(r, w); err != nil {
			t.Fatal(err)
		}
		if got := e.count.RoundTrips(); got != createCost+tc.add {
			t.Errorf("%+v: Save costs %d round trips, want %d (a create) + %d", tc.m, got, createCost, tc.add)
		}
		// With the new cookie, the migration adds nothing.
		v, _ := cookieOf(w)
		e.count.Reset()
		e.adoptOnce(t, v)
		if got := e.count.RoundTrips(); got != ownCost {
			t.Errorf("%+v: a request with the new cookie costs %d round trips, %d without a migration", tc.m, got, ownCost)
		}
	}
	t.Logf("round trips: the Store's own cookie, read and saved unchanged: %d; a create: %d", ownCost, createCost)
}

// adoptOnceValues is adoptOnce that sets values before the Save.
func (e *env) adoptOnceValues(t *testing.T, cookie string, values map[interface{}]interface{}) (*sessions.Session, *httptest.ResponseRecorder) {
	t.Helper()
	r := request(cookie)
	s, err := e.store.Get(r, "app")
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range values {
		s.Values[k] = v
	}
	w := httptest.NewRecorder()
	if err := s.Save(r, w); err != nil {
		t.Fatal(err)
	}
	return s, w
}

// TestMigrateUnkeepable: a verified legacy session whose values the new
// store cannot keep is an error, at Get and at Save, and nothing is
// written or removed.
func TestMigrateUnkeepable(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name   string
		core   core.Options
		values map[interface{}]interface{}
		want   error
	}{
		// JSON gives a nested object as map[string]interface{}: the
		// default serializer holds it up to 32 deep, and beyond that only
		// gob could, which cannot without gob.Register.
		{"type", core.Options{}, map[interface{}]interface{}{"user_id": "alice", "prefs": nestedJSON(40)}, nil},
		{"user", core.Options{}, map[interface{}]interface{}{"user_id": true}, nil},
		{"size", core.Options{MaxRecordSize: 200}, map[interface{}]interface{}{"user_id": "alice", "blob": strings.Repeat("x", 400)}, core.ErrTooLarge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srvEnv := newEnv(t, gorillaredis.Options{})
			srvEnv.legacyKeys = oldKey
			prefix := srvEnv.srv.Prefix + "legacy_"
			old := srvEnv.rediStoreSession(t, prefix, "ID1", gorillaredis.JSONSerializer{}, tc.values)
			m := gorillaredis.Migration{From: gorillaredis.FromRediStore, KeyPrefix: prefix, Serializer: gorillaredis.JSONSerializer{},
				Until: time.Now().Add(time.Hour), KeyPairs: oldKey}
			opts := gorillaredis.Options{Core: tc.core, Migrate: &m}
			opts.Core.Prefix, opts.Core.Now = srvEnv.srv.Prefix, srvEnv.srv.Now
			store := gorillaredis.NewStoreWithOptions(srvEnv.raw, opts, testKeys...)
			before := len(srvEnv.srv.Keys(t, srvEnv.raw))
			r := request(old)
			s, err := store.Get(r, "app")
			if err == nil || (tc.want != nil && !errors.Is(err, tc.want)) {
				t.Fatalf("Get: %v, want an error (%v)", err, tc.want)
			}
			t.Logf("Get: %v", err)
			s.Values["x"] = 1
			if serr := s.Save(r, httptest.NewRecorder()); serr == nil {
				t.Fatal("Save of an unkeepable legacy session succeeded")
			}
			if after := len(srvEnv.srv.Keys(t, srvEnv.raw)); after != before {
				t.Fatalf("%d keys written or removed", after-before)
			}
			if srvEnv.raw.Exists(ctx, prefix+"ID1").Val() != 1 {
				t.Fatal("the legacy key was removed")
			}
		})
	}
}

// TestMigrateConcurrent: two requests with one legacy cookie at once
// leave one bound session, and only one of them sends a cookie.
func TestMigrateConcurrent(t *testing.T) {
	for _, from := range []gorillaredis.Legacy{gorillaredis.FromCookieStore, gorillaredis.FromRediStore} {
		e := newEnv(t, gorillaredis.Options{})
		prefix := e.srv.Prefix + "legacy_"
		e = migrateEnvOn(t, e, gorillaredis.Migration{From: from, KeyPrefix: prefix})
		var old string
		if from == gorillaredis.FromCookieStore {
			old = cookieStoreCookie(t, oldKey...)
		} else {
			old = e.rediStoreSession(t, prefix, "ID1", gorillaredis.GobSerializer{}, legacyValues())
		}
		// Both load before either saves: the race at its worst.
		var reqs []*http.Request
		var ss []*sessions.Session
		for i := 0; i < 2; i++ {
			r := request(old)
			s, err := e.store.Get(r, "app")
			if err != nil || s.IsNew {
				t.Fatalf("%v: Get %d: new=%v %v", from, i, s.IsNew, err)
			}
			reqs, ss = append(reqs, r), append(ss, s)
		}
		var wg sync.WaitGroup
		ws := []*httptest.ResponseRecorder{httptest.NewRecorder(), httptest.NewRecorder()}
		errs := make([]error, 2)
		for i := range ss {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				errs[i] = ss[i].Save(reqs[i], ws[i])
			}(i)
		}
		wg.Wait()
		sent := 0
		var winner *httptest.ResponseRecorder
		for i := range ws {
			if errs[i] != nil {
				t.Fatalf("%v: Save %d: %v", from, i, errs[i])
			}
			if _, ok := cookieOf(ws[i]); ok {
				sent++
				winner = ws[i]
			}
		}
		if sent != 1 {
			t.Fatalf("%v: %d responses sent a cookie, want 1", from, sent)
		}
		// Saving again changes nothing: the loser stays quiet, and never
		// expires the winner's cookie.
		for i := range ss {
			w := httptest.NewRecorder()
			if err := ss[i].Save(reqs[i], w); err != nil {
				t.Fatalf("%v: second Save %d: %v", from, i, err)
			}
			if c, ok := cookieOf(w); ok && ws[i] != winner {
				t.Fatalf("%v: the loser's second Save sent the cookie %q", from, c)
			}
		}
		e.checkAdopted(t, winner, legacyValues())
	}
}

// TestMigrateLogout: a logout (or emptying the session) on the request
// that would have adopted the session ends the legacy session too.
func TestMigrateLogout(t *testing.T) {
	for _, tc := range []struct {
		from    gorillaredis.Legacy
		emptied bool
	}{{gorillaredis.FromCookieStore, false}, {gorillaredis.FromRediStore, false}, {gorillaredis.FromCookieStore, true}, {gorillaredis.FromRediStore, true}} {
		from, emptied := tc.from, tc.emptied
		e := newEnv(t, gorillaredis.Options{})
		prefix := e.srv.Prefix + "legacy_"
		e = migrateEnvOn(t, e, gorillaredis.Migration{From: from, KeyPrefix: prefix})
		var old string
		if from == gorillaredis.FromCookieStore {
			old = cookieStoreCookie(t, oldKey...)
		} else {
			old = e.rediStoreSession(t, prefix, "ID1", gorillaredis.GobSerializer{}, legacyValues())
		}
		r := request(old)
		s, _ := e.store.Get(r, "app")
		if emptied {
			for k := range s.Values {
				delete(s.Values, k)
			}
		} else {
			s.Options.MaxAge = -1
		}
		if err := s.Save(r, httptest.NewRecorder()); err != nil {
			t.Fatal(err)
		}
		if from == gorillaredis.FromRediStore && !e.legacyEnded(t, prefix+"ID1") {
			t.Fatal("logout left the legacy session")
		}
		e.checkNoSession(t, old)
		if n := e.store.Core().Counters().Adopted; n != 0 {
			t.Fatalf("Adopted = %d after a logout", n)
		}
	}
}

// TestMigrationNeedsKeys: a migration without the legacy keys could not
// verify anything, and the store says so instead of adopting unverified.
func TestMigrationNeedsKeys(t *testing.T) {
	e := newEnv(t, gorillaredis.Options{Migrate: &gorillaredis.Migration{Until: time.Now().Add(time.Hour)}})
	if _, err := e.store.Get(request(""), "app"); err == nil || !strings.Contains(err.Error(), "KeyPairs") {
		t.Fatalf("Get: %v, want an error about Migration.KeyPairs", err)
	}
}

// TestMigrateGrace: a request the browser sent with the legacy cookie
// just before the adoption's response gave it the new cookie gets no
// session, and its Save sends no cookie, so it cannot log the user out;
// once the grace is over, the legacy cookie is plainly no session.
func TestMigrateGrace(t *testing.T) {
	for _, m := range []gorillaredis.Migration{
		{From: gorillaredis.FromCookieStore},
		{From: gorillaredis.FromRediStore},
		{From: gorillaredis.FromRediStore, KeepLegacy: true},
	} {
		e := newEnv(t, gorillaredis.Options{})
		prefix := e.srv.Prefix + "legacy_"
		m.KeyPrefix = prefix
		e = migrateEnvOn(t, e, m)
		var old string
		if m.From == gorillaredis.FromCookieStore {
			old = cookieStoreCookie(t, oldKey...)
		} else {
			old = e.rediStoreSession(t, prefix, "ID1", gorillaredis.GobSerializer{}, legacyValues())
		}
		_, w := e.adoptOnce(t, old)
		e.checkAdopted(t, w, legacyValues())

		before := len(e.srv.Keys(t, e.raw))
		s, w := e.adoptOnceValues(t, old, map[interface{}]interface{}{"flash": "hi"})
		if _, ok := cookieOf(w); ok {
			t.Fatalf("%+v: a request with the just-adopted legacy cookie sent a cookie", m)
		}
		if after := len(e.srv.Keys(t, e.raw)); after != before {
			t.Fatalf("%+v: it wrote %d keys", m, after-before)
		}
		if s.Values["user_id"] != nil {
			t.Fatalf("%+v: it got the adopted values", m)
		}
		if e.srv.Real() {
			continue // the grace is 30 s of real time
		}
		e.srv.Advance(31 * time.Second)
		s, w = e.adoptOnceValues(t, old, map[interface{}]interface{}{"flash": "hi"})
		if _, ok := cookieOf(w); !ok || s.Values["user_id"] != nil {
			t.Fatalf("%+v: after the grace the legacy cookie is not an ordinary unknown cookie (cookie sent: %v, values %v)", m, ok, s.Values)
		}
		if n := e.store.Core().Counters().Adopted; n != 1 {
			t.Fatalf("%+v: Adopted = %d", m, n)
		}
	}
}

// TestMigrateLegacyClient: the legacy sessions may live in another Redis.
func TestMigrateLegacyClient(t *testing.T) {
	old := newEnv(t, gorillaredis.Options{}) // the legacy Redis (another server on miniredis)
	old.legacyKeys = oldKey
	prefix := old.srv.Prefix + "legacy_"
	cookie := old.rediStoreSession(t, prefix, "ID1", gorillaredis.GobSerializer{}, legacyValues())
	e := newEnv(t, gorillaredis.Options{})
	e = migrateEnvOn(t, e, gorillaredis.Migration{From: gorillaredis.FromRediStore, KeyPrefix: prefix, Client: old.raw})
	_, w := e.adoptOnce(t, cookie)
	e.checkAdopted(t, w, legacyValues())
	if !old.legacyEnded(t, prefix+"ID1") {
		t.Fatal("the legacy session is still there after the adoption")
	}
}

// nestedJSON is a JSON object depth levels deep, as encoding/json decodes it.
func nestedJSON(depth int) interface{} {
	var v interface{} = "leaf"
	for i := 0; i < depth; i++ {
		v = map[string]interface{}{"k": v}
	}
	return v
}
