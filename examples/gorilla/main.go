// Command gorilla is the redisession demo on net/http with gorilla/sessions:
// log in, fill a cart kept in the session, see every device you are logged
// in on, revoke one, log out everywhere else, change your password.
//
//	go run ./examples/gorilla               # embedded Redis, http://127.0.0.1:8080
//	REDIS_URL=redis://localhost:6379/0 ADDR=127.0.0.1:9000 go run ./examples/gorilla
package main

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/redisession/redisession/examples/internal/demo"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context) error {
	rdb, where, closeRedis, err := demo.OpenRedis(ctx)
	if err != nil {
		return err
	}
	defer closeRedis()

	srv := &http.Server{
		Handler:           newApp(demo.Config{Redis: rdb}),
		ReadHeaderTimeout: 10 * time.Second,
	}
	ln, url, err := demo.Listen()
	if err != nil {
		return err
	}
	fmt.Print(demo.Banner("gorilla/sessions", url, where))

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	fmt.Println("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
