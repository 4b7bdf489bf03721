package scsredis

import (
	"context"
	"sync"

	"github.com/redisession/redisession/core"
)

// request is what the store knows of one request's session, between scs's
// Find and its Commit. scs hands both the request's context (Commit's is
// Find's with scs's own value added), so the state is found by the context's
// Done channel, which a derived context shares, and dropped when the
// request ends. No guarantee depends on how long a request takes.
type request struct {
	mu      sync.Mutex
	tokens  map[string]*token
	retired *core.Session // a bound session this request deleted: a renewal, if a new token follows
	dead    bool          // ...which was already gone (revoked): no new token may take its place
}

// token is one token this request found or deleted.
type token struct {
	x    *core.Session // as found or last committed; nil once deleted
	dead bool          // deleted in this request, or found gone at commit: never written again
}

// requests holds the state of the requests in flight, by Done channel.
type requests struct {
	m sync.Map
	// abandon is called when a request ends that deleted a bound session
	// and committed no new token (sm.Destroy): its retirement marker goes.
	abandon func(ctx context.Context, x *core.Session)
}

// of returns the state of ctx's request, made if need be; nil for a context
// that is never done (context.Background), which carries no request.
func (rs *requests) of(ctx context.Context) *request {
	done := ctx.Done()
	if done == nil {
		return nil
	}
	if r, ok := rs.m.Load(done); ok {
		return r.(*request)
	}
	r, loaded := rs.m.LoadOrStore(done, &request{tokens: map[string]*token{}})
	req := r.(*request)
	if !loaded {
		context.AfterFunc(ctx, func() {
			rs.m.Delete(done)
			req.mu.Lock()
			x := req.retired
			req.retired = nil
			req.mu.Unlock()
			if x != nil && rs.abandon != nil {
				rs.abandon(ctx, x)
			}
		})
	}
	return req
}

func (r *request) get(t string) *token {
	e := r.tokens[t]
	if e == nil {
		e = &token{}
		r.tokens[t] = e
	}
	return e
}
