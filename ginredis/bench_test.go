package ginredis_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gin-contrib/sessions"
	"github.com/gin-gonic/gin"
)

// benchGin serves path b.N times through a gin.Engine with one session
// cookie, and reports Redis round trips per request.
func benchGin(b *testing.B, path string) {
	e := newEnv(b)
	r := gin.New()
	r.Use(sessions.Sessions(cookieName, e.store))
	n := 0
	r.GET("/login", func(c *gin.Context) {
		s := sessions.Default(c)
		s.Set("user_id", "u1")
		s.Set("theme", "dark")
		_ = s.Save()
	})
	r.GET("/read", func(c *gin.Context) {
		theme, _ := sessions.Default(c).Get("theme").(string)
		c.String(http.StatusOK, theme)
	})
	r.GET("/write", func(c *gin.Context) {
		s := sessions.Default(c)
		n++
		s.Set("n", n)
		if err := s.Save(); err != nil {
			c.String(http.StatusInternalServerError, err.Error())
		}
	})
	ck := cookieNamed(serve(r, "/login"), cookieName)
	b.ReportAllocs()
	e.count.Reset()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		req := httptest.NewRequest("GET", "https://example.com"+path, nil)
		req.AddCookie(ck)
		w := httptest.NewRecorder()
		r.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatalf("status %d: %s", w.Code, w.Body)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(e.count.RoundTrips())/float64(b.N), "roundtrips/op")
}

func BenchmarkRead(b *testing.B)  { benchGin(b, "/read") }
func BenchmarkWrite(b *testing.B) { benchGin(b, "/write") }
