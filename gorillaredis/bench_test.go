package gorillaredis_test

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/gorilla/sessions"

	"github.com/redisession/redisession/gorillaredis"
)

// benchRequests serves path through handler b.N times with one session
// cookie, and reports Redis round trips per request.
func benchRequests(b *testing.B, path string, handler func(*gorillaredis.Store) http.Handler) {
	e := newEnv(b, gorillaredis.Options{})
	h := handler(e.store)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "https://example.com/login", nil))
	cookie := w.Result().Cookies()[0]
	b.ReportAllocs()
	e.count.Reset()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r := httptest.NewRequest("GET", "https://example.com"+path, nil)
		r.AddCookie(cookie)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != http.StatusOK {
			b.Fatalf("status %d: %s", w.Code, w.Body)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(e.count.RoundTrips())/float64(b.N), "roundtrips/op")
}

// benchApp: /login binds a user; /read only reads; /write changes a value.
// Every request saves, as gorilla apps commonly do.
func benchApp(store *gorillaredis.Store) http.Handler {
	n := 0
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, err := store.Get(r, "app")
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		switch r.URL.Path {
		case "/login":
			s.Values["user_id"] = "u1"
			s.Values["theme"] = "dark"
			s.Values["cart"] = cart{Items: []string{"a", "b"}, Total: 6}
		case "/write":
			n++
			s.Values["n"] = n
		case "/read":
			_ = s.Values["theme"]
		}
		if err := sessions.Save(r, w); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		_, _ = w.Write([]byte(strconv.Itoa(len(s.Values))))
	})
}

func BenchmarkRead(b *testing.B)  { benchRequests(b, "/read", benchApp) }
func BenchmarkWrite(b *testing.B) { benchRequests(b, "/write", benchApp) }
