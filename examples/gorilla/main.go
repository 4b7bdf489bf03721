// Command gorilla is the redisession demo on net/http with gorilla/sessions:
// log in, fill a cart kept in the session, see every device you are logged
// in on, revoke one, log out everywhere else, change your password.
//
//	go run ./examples/gorilla               # embedded Redis, http://127.0.0.1:8080
//	REDIS_URL=redis://localhost:6379/0 ADDR=127.0.0.1:9000 go run ./examples/gorilla
package main

import "github.com/redisession/redisession/examples/internal/demo"

func main() { demo.Main("gorilla/sessions", newApp) }
