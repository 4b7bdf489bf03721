// Command gin is the redisession demo on gin with gin-contrib/sessions:
// log in, fill a cart kept in the session, see every device you are logged
// in on, revoke one, log out everywhere else, change your password.
//
//	go run ./examples/gin               # embedded Redis, http://127.0.0.1:8080
//	REDIS_URL=redis://localhost:6379/0 ADDR=127.0.0.1:9000 go run ./examples/gin
package main

import (
	"os"

	"github.com/gin-gonic/gin"
	"github.com/redisession/redisession/examples/internal/demo"
)

func main() {
	if os.Getenv(gin.EnvGinMode) == "" {
		gin.SetMode(gin.ReleaseMode)
	}
	demo.Main("gin", newApp)
}
