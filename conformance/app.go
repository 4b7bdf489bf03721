package conformance

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"sync"

	"github.com/redisession/redisession/core"
)

// reply is the body of every response of the suite's app.
type reply struct {
	Handle   string             `json:"handle"`
	Value    string             `json:"value"`
	Found    bool               `json:"found"`
	User     string             `json:"user"`
	N        int                `json:"n"`
	Sessions []core.SessionInfo `json:"sessions"`
	Err      string             `json:"err"`
}

// gates lets the suite hold a request inside the app (after the session was
// loaded, before it is saved) while it acts from elsewhere.
type gates struct {
	mu sync.Mutex
	m  map[string]*gate
}

type gate struct {
	entered chan struct{}
	release chan struct{}
}

func (g *gates) get(name string) *gate {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.m == nil {
		g.m = map[string]*gate{}
	}
	if g.m[name] == nil {
		g.m[name] = &gate{entered: make(chan struct{}), release: make(chan struct{})}
	}
	return g.m[name]
}

// app is the application every adapter serves. Routes:
//
//	GET  /get?k=K             value of K
//	POST /set?k=K&v=V         set K to V
//	POST /del?k=K             delete K
//	POST /login?user=U        log in as U (the adapter's Login)
//	POST /put-user?type=T&v=V put V, as a value of type T (string, int,
//	                          int64, uint8, float64, bool), under the user key
//	POST /logout              destroy the session
//	POST /renew               renew the token
//	GET  /devices             the user's sessions
//	POST /revoke?h=H          revoke one of the user's sessions
//	POST /revoke-others       revoke all of the user's sessions but this one
//	POST /revoke-user?user=U  revoke all of U's sessions
//	POST /wait-set?gate=G&k=K&v=V
//	                          wait until gate G opens, then set K to V
//
// Every reply carries the handle after the request and the session's user
// (the adapter's UserID).
func (p *prop) app(s Session, r *http.Request) Response {
	q := r.URL.Query()
	var out reply
	var err error
	switch r.URL.Path {
	case "/get":
		out.Value, out.Found = s.Get(q.Get("k"))
	case "/set":
		s.Set(q.Get("k"), q.Get("v"))
	case "/del":
		s.Delete(q.Get("k"))
	case "/login":
		err = s.Login(q.Get("user"))
	case "/put-user":
		var v any
		v, err = typed(q.Get("type"), q.Get("v"))
		if err == nil {
			s.Put(p.opts.UserKey, v)
		}
	case "/logout":
		err = s.Destroy()
	case "/renew":
		err = s.Renew()
	case "/devices":
		out.Sessions, err = s.Sessions()
	case "/revoke":
		err = s.RevokeSession(q.Get("h"))
	case "/revoke-others":
		out.N, err = s.RevokeOthers()
	case "/revoke-user":
		out.N, err = s.RevokeUser(q.Get("user"))
	case "/wait-set":
		g := p.gates.get(q.Get("gate"))
		close(g.entered)
		<-g.release
		s.Set(q.Get("k"), q.Get("v"))
	default:
		return Response{Status: http.StatusNotFound, Body: []byte(`{"err":"no such route"}`)}
	}
	out.Handle = s.Handle()
	out.User = s.UserID()
	status := http.StatusOK
	if err != nil {
		out.Err = err.Error()
		status = http.StatusInternalServerError
	}
	body, _ := json.Marshal(out)
	return Response{Status: status, Body: body}
}

// typed is v as a value of the type /put-user names.
func typed(typ, v string) (any, error) {
	switch typ {
	case "string":
		return v, nil
	case "bool":
		return strconv.ParseBool(v)
	case "float64":
		return strconv.ParseFloat(v, 64)
	case "int", "int64", "uint8":
		n, err := strconv.ParseInt(v, 10, 64)
		switch typ {
		case "int":
			return int(n), err
		case "uint8":
			return uint8(n), err
		}
		return n, err
	}
	return nil, fmt.Errorf("no type %q", typ)
}
