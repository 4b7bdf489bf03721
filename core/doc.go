// Package core is the Redis engine behind every redisession adapter: the key
// layout, the record encoding, sliding and absolute expiry, and the per-user
// session index (list a user's devices, revoke one, revoke all). Adapters
// translate a framework's store interface into these calls; only this package
// knows Redis commands and key names.
//
//	rdb := redis.NewUniversalClient(&redis.UniversalOptions{Addrs: []string{"localhost:6379"}})
//	store := core.New(rdb, core.Options{IdleTimeout: 30 * time.Minute, Lifetime: 24 * time.Hour})
//
//	x := store.NewSession(core.Device{UserAgent: r.UserAgent(), RemoteAddr: r.RemoteAddr})
//	x.UserID, x.Data = "42", payload
//	err := store.Save(ctx, x)                 // login: one round trip, index included
//	x, err = store.Load(ctx, token)           // read + slide: one GETEX ... PXAT
//	list, err := store.UserSessions(ctx, "42") // devices: two round trips
//	n, err := store.RevokeUser(ctx, "42")      // everywhere: three round trips, no scan
//
// # Layout
//
// A session lives under "<prefix>session:<id>" as one string: a compact
// binary record (see record.go) with the user id, creation, last write,
// absolute deadline, user agent, remote address and the adapter's payload.
// <id> is the handle, unpadded base64url of the token's SHA-256, so a dump,
// a replica or MONITOR shows no token that could be replayed as a cookie.
// A user's sessions are indexed in the sorted set "<prefix>user_sessions:<uid>",
// scored by each session's absolute deadline in unix milliseconds.
//
// # Expiry
//
// Every key is written with an absolute expiry (SET ... PXAT, GETEX ... PXAT,
// PEXPIREAT), never a relative duration that could be zero or negative and so
// mean "never expire". A session expires at min(last use + IdleTimeout,
// deadline); the index expires with its latest member's deadline. A session
// past its deadline never loads, whatever its TTL says.
//
// # Revoked means revoked
//
// A new session is written with SET NX and a stored one with SET XX, so a
// request that loaded a session before it was deleted, revoked or expired
// cannot write it back: its Save returns ErrNotFound and writes nothing.
// Renew deletes the old key first and writes the new one only if that delete
// found it.
//
// # Cluster
//
// No command spans a session key and an index key; they live in different
// slots. The index is written before the session it names and a session is
// deleted before its index entry, so a session never exists outside its
// user's index. On one node the two steps share one pipeline (one round
// trip, executed in order); a Cluster client sends pipelines to nodes in
// parallel, so there they are sent one after the other. An index entry whose
// session is missing is dropped when it is read, unless it is younger than a
// few seconds: that is a login between its two steps.
package core
