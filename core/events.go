package core

import (
	"context"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// EventKind is what happened to a session.
type EventKind int

// The events Options.OnEvent receives.
const (
	// EventLogin: a session was bound to a user (its first save with that
	// user, including a successor's under a new token).
	EventLogin EventKind = iota + 1
	// EventRenew: a session's token was renewed (Renew, or Retire followed
	// by a successor's save): Handle is the new session, Previous the one
	// it replaced, which is gone.
	EventRenew
	// EventLogout: a session was deleted by Delete, DeleteToken or Retire
	// without a successor yet (scs's RenewToken and Destroy both start
	// with it: a renewal then follows with EventRenew).
	EventLogout
	// EventRevoke: a session was ended through its user's index
	// (RevokeSession, RevokeUser, RevokeOthers, RevokeHandle).
	EventRevoke
)

// String returns the kind's name: "login", "renew", "logout", "revoke".
func (k EventKind) String() string {
	switch k {
	case EventLogin:
		return "login"
	case EventRenew:
		return "renew"
	case EventLogout:
		return "logout"
	case EventRevoke:
		return "revoke"
	}
	return "unknown"
}

// Event is one change in a session's life. It names sessions by their
// handles, which are safe to log, never by their tokens.
type Event struct {
	Kind     EventKind
	Handle   string // the session; for EventRenew the new one
	Previous string // EventRenew: the session it replaced
	UserID   string // the session's user, "" for an anonymous one
	Device   Device // what the session recorded at creation, where known (login, renew, logout)
	At       time.Time
}

// emit hands each event to Options.OnEvent and publishes the handles of
// the sessions they end (Options.Broadcast), in as few messages as fit.
func (s *Store) emit(ctx context.Context, events ...Event) {
	if s.opts.OnEvent == nil && !s.opts.Broadcast {
		return
	}
	var ended []string
	at := s.opts.Now()
	for _, e := range events {
		if s.opts.OnEvent != nil {
			e.At = at
			s.opts.OnEvent(ctx, e)
		}
		switch e.Kind {
		case EventRenew:
			ended = append(ended, e.Previous)
		case EventLogout, EventRevoke:
			ended = append(ended, e.Handle)
		}
	}
	s.broadcast(ctx, ended...)
}

// EndedChannel is the Redis channel Options.Broadcast publishes ended
// sessions on: Prefix + "ended", each message one or more handles
// separated by spaces.
func (s *Store) EndedChannel() string { return s.opts.Prefix + "ended" }

// maxHandlesPerMessage bounds a broadcast message (44 bytes a handle).
const maxHandlesPerMessage = 1000

// broadcast publishes handles on EndedChannel, at most
// maxHandlesPerMessage to a message. On Cluster it uses sharded pub/sub
// (SPUBLISH, Redis 7), which reaches only the nodes of the channel's
// shard, and plain PUBLISH where the server has no SPUBLISH. A failed
// publish is not an error of the call that ended the session (that is
// done): a Watcher's periodic check finds the session gone anyway.
func (s *Store) broadcast(ctx context.Context, handles ...string) {
	if !s.opts.Broadcast || len(handles) == 0 {
		return
	}
	var cmds []redis.Cmder
	for len(handles) > 0 {
		n := len(handles)
		if n > maxHandlesPerMessage {
			n = maxHandlesPerMessage
		}
		cmds = append(cmds, publishCmd(ctx, s.sharded(), s.EndedChannel(), strings.Join(handles[:n], " ")))
		handles = handles[n:]
	}
	if err := s.send(ctx, cmds); err != nil && s.sharded() && isUnknownCommand(err) {
		s.noSPublish.Store(true)
		for i, c := range cmds {
			cmds[i] = publishCmd(ctx, false, s.EndedChannel(), c.Args()[2].(string))
		}
		_ = s.send(ctx, cmds)
	}
}

// sharded reports whether broadcasts use sharded pub/sub.
func (s *Store) sharded() bool { return s.ordered && !s.noSPublish.Load() }

func isUnknownCommand(err error) bool {
	return err != nil && strings.Contains(strings.ToLower(err.Error()), "unknown command")
}
