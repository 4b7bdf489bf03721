package core

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// DefaultWatchInterval is how often a Watcher checks its sessions when
// WatchOptions.Interval is zero.
const DefaultWatchInterval = 30 * time.Second

// WatchOptions configures a Watcher.
type WatchOptions struct {
	// Interval is how often the Watcher checks every watched session
	// against Redis (one pipelined TYPE per session), which ends the
	// connections of sessions that expired or whose end it did not hear.
	// Zero means DefaultWatchInterval.
	Interval time.Duration
}

// Watcher ends long-lived connections (SSE streams, websockets) when their
// session ends. A handler asks it for Ended(ctx, handle) once, when the
// connection opens, and closes the connection when that channel closes:
//
//	ended := watcher.Ended(r.Context(), handle)
//	for {
//		select {
//		case <-ended: // logged out, revoked, renewed or expired: stop
//			fmt.Fprint(w, "event: ended\ndata: \n\n")
//			return
//		case <-r.Context().Done():
//			return
//		case msg := <-updates:
//			...
//		}
//	}
//
// A Watcher holds one pub/sub connection to the EndedChannel of the Store
// it was made from. With Options.Broadcast on in every store of the app,
// a logout, renewal or revoke in any instance ends the connections of that
// session in every instance within a round trip. What pub/sub does not
// carry is caught by a check of every watched session every
// WatchOptions.Interval and whenever the subscription is (re)established:
// sessions that expired (Redis sends nothing for them unless keyspace
// notifications are on, and then only from the node that holds the key,
// best effort), ended by a store without Broadcast, or ended while the
// connection was down. So a session's connections end at most an Interval
// after the session, and usually at once. While Redis cannot be reached
// the Watcher cannot tell and ends nothing; the first check that succeeds
// ends what ended meanwhile.
//
// A renewal ends the connections of the old session: a browser's
// EventSource reconnects on its own, with the new cookie.
type Watcher struct {
	s        *Store
	interval time.Duration
	cancel   context.CancelFunc
	done     chan struct{}

	mu       sync.Mutex
	watched  map[string]map[*watch]struct{} // handle → its connections
	checkNow chan struct{}
}

type watch struct{ ch chan struct{} }

// Watch starts a Watcher over the store's Redis; it runs until ctx is done
// or Close is called.
func (s *Store) Watch(ctx context.Context, opts WatchOptions) *Watcher {
	if opts.Interval <= 0 {
		opts.Interval = DefaultWatchInterval
	}
	ctx, cancel := context.WithCancel(ctx)
	w := &Watcher{
		s: s, interval: opts.Interval, cancel: cancel, done: make(chan struct{}),
		watched: map[string]map[*watch]struct{}{}, checkNow: make(chan struct{}, 1),
	}
	go w.run(ctx)
	return w
}

// Ended returns a channel that is closed once the session with this handle
// has ended (logged out, revoked, renewed, expired), or at once if the
// handle is malformed. The Watcher forgets it when ctx is done: pass the
// connection's request context.
func (w *Watcher) Ended(ctx context.Context, handle string) <-chan struct{} {
	x := &watch{ch: make(chan struct{})}
	if !ValidHandle(handle) {
		close(x.ch)
		return x.ch
	}
	w.mu.Lock()
	m := w.watched[handle]
	if m == nil {
		m = map[*watch]struct{}{}
		w.watched[handle] = m
	}
	m[x] = struct{}{}
	w.mu.Unlock()
	// A session that ended before it was watched: the next check tells.
	w.kick()
	// No goroutine waits on either: the hook goes with ctx, and forget is
	// a no-op for a watch that has ended.
	context.AfterFunc(ctx, func() { w.forget(handle, x) })
	return x.ch
}

// Close stops the Watcher and waits for it. Channels not closed by then
// stay open.
func (w *Watcher) Close() error {
	w.cancel()
	<-w.done
	return nil
}

func (w *Watcher) forget(handle string, x *watch) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if m := w.watched[handle]; m != nil {
		delete(m, x)
		if len(m) == 0 {
			delete(w.watched, handle)
		}
	}
}

// end closes the channels of handle.
func (w *Watcher) end(handle string) {
	w.mu.Lock()
	m := w.watched[handle]
	delete(w.watched, handle)
	w.mu.Unlock()
	for x := range m {
		close(x.ch)
	}
}

func (w *Watcher) kick() {
	select {
	case w.checkNow <- struct{}{}:
	default:
	}
}

// run holds the subscription and runs the checks.
func (w *Watcher) run(ctx context.Context) {
	defer close(w.done)
	ps := subscribe(ctx, w.s.client, w.s.ordered, w.s.EndedChannel())
	defer ps.Close()
	go w.receive(ctx, ps)
	t := time.NewTicker(w.interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-w.checkNow:
		}
		w.check(ctx)
	}
}

// receive reads the subscription: handles to end, and (re)subscriptions,
// after which a check covers what was said while it was down.
func (w *Watcher) receive(ctx context.Context, ps *redis.PubSub) {
	for {
		msg, err := ps.Receive(ctx)
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, redis.ErrClosed) {
				return
			}
			// go-redis reconnects on the next Receive; a check then
			// follows its subscription message.
			select {
			case <-ctx.Done():
				return
			case <-time.After(100 * time.Millisecond):
			}
			continue
		}
		switch m := msg.(type) {
		case *redis.Message:
			for _, h := range strings.Fields(m.Payload) {
				w.end(h)
			}
		case *redis.Subscription:
			w.kick()
		}
	}
}

// check ends every watched session whose key holds no session.
func (w *Watcher) check(ctx context.Context) {
	w.mu.Lock()
	handles := make([]string, 0, len(w.watched))
	for h := range w.watched {
		handles = append(handles, h)
	}
	w.mu.Unlock()
	for len(handles) > 0 {
		n := len(handles)
		if n > maxHandlesPerMessage {
			n = maxHandlesPerMessage
		}
		batch := handles[:n]
		handles = handles[n:]
		cmds := make([]redis.Cmder, len(batch))
		for i, h := range batch {
			cmds[i] = typeCmd(ctx, w.s.sessionKeyForID(h))
		}
		if err := w.s.send(ctx, cmds); err != nil {
			return // cannot tell: end nothing
		}
		for i, c := range cmds {
			if t := c.(*redis.StatusCmd).Val(); t != "string" && t != "hash" {
				w.end(batch[i]) // none, or a tombstone (list)
			}
		}
	}
}
