package bench

import (
	"context"
	"io"
	"net"
	"net/http"
	"sort"
	"sync"
	"time"
)

// Load is one store under 64 concurrent clients over loopback.
type Load struct {
	Clients  int
	Requests int
	Errors   int // non-200 answers, transport errors, sessions not found
	Duration time.Duration
	RPS      float64
	P50, P99 time.Duration
}

// RunLoad serves the store on a loopback http.Server and has clients
// goroutines, each with its own logged-in session, send read requests for
// d after a warm-up.
func RunLoad(s *Store, clients int, warm, d time.Duration) (Load, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return Load{}, err
	}
	srv := &http.Server{Handler: s.Handler, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}()
	tr := &http.Transport{MaxIdleConns: clients, MaxIdleConnsPerHost: clients, MaxConnsPerHost: clients, IdleConnTimeout: time.Minute}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	url := "http://" + ln.Addr().String() + "/read"

	cookies := make([]string, clients)
	for i := range cookies {
		if cookies[i], err = s.LoginAs(context.Background(), ""); err != nil {
			return Load{}, err
		}
	}
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		lat     []time.Duration
		errs    int
		measure = time.Now().Add(warm)
		stop    = measure.Add(d)
	)
	for i := 0; i < clients; i++ {
		wg.Add(1)
		go func(cookie string) {
			defer wg.Done()
			mine := make([]time.Duration, 0, 4096)
			bad := 0
			for {
				t0 := time.Now()
				if t0.After(stop) {
					break
				}
				req, _ := http.NewRequest("GET", url, nil)
				req.Header.Set("Cookie", cookie)
				resp, err := client.Do(req)
				ok := err == nil
				if ok {
					n, _ := io.Copy(io.Discard, resp.Body)
					_ = resp.Body.Close()
					ok = resp.StatusCode == 200 && n > 0
				}
				if t0.After(measure) {
					mine = append(mine, time.Since(t0))
					if !ok {
						bad++
					}
				}
			}
			mu.Lock()
			lat = append(lat, mine...)
			errs += bad
			mu.Unlock()
		}(cookies[i])
	}
	wg.Wait()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	l := Load{Clients: clients, Requests: len(lat), Errors: errs, Duration: d}
	if len(lat) > 0 {
		l.RPS = float64(len(lat)) / d.Seconds()
		l.P50 = lat[len(lat)/2]
		l.P99 = lat[len(lat)*99/100]
	}
	return l, nil
}
