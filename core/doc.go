// Package core is the Redis engine behind every redisession adapter: the key
// layout, the record encoding, sliding and absolute expiry, and the per-user
// session index (list a user's devices, revoke one, revoke all). Adapters
// translate a framework's store interface into these calls; only this package
// knows Redis commands and key names.
//
//	rdb := redis.NewUniversalClient(&redis.UniversalOptions{
//		Addrs:       []string{"localhost:6379"},
//		DialTimeout: 2 * time.Second, ReadTimeout: 500 * time.Millisecond, WriteTimeout: 500 * time.Millisecond,
//		ContextTimeoutEnabled: true, // without it go-redis ignores ctx's deadline on the socket
//	})
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
// scored by each session's absolute deadline in unix milliseconds. The
// comment at the top of redis.go lists every key and, per operation, every
// command it sends: the storage contract on one screen.
//
// Who a session's user is, from the value an app stores under
// Options.UserKey, is UserIDOf's rule, which every adapter follows; "" is
// no user, and UserSessions and the revokes by user refuse it (ErrNoUser).
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
// A new session is written only where no key exists and a stored one only
// over a session of its layout, so a request that loaded a session before it
// was deleted, revoked or expired cannot write it back: its Save returns
// ErrNotFound and writes nothing.
//
// RevokeUser, RevokeOthers and RevokeSession end every session they name
// that is alive when they start, or whose login or renewal has reached Redis
// by then, and none of them comes back: not through a save in flight, not
// under a new token through a renewal in flight. A revoke first marks each
// session it is about to end in the index (the member "\x00"+id), in the
// same script that reads the index; a renewal checks the mark of the session
// it renews in the step that indexes the new token. It then ends each
// session with a script that checks the record names the user (an entry left
// in the wrong index ends nothing) and, where it finds no key, leaves a
// tombstone (a list, a type no session has) until the entry's deadline, so a
// login or renewal whose session is still on its way cannot create it; no
// renewal or logout deletes a tombstone. The marks go when the revoke ends. A
// login whose first write reaches Redis after the revoke began is a login
// after the revoke: it is unaffected.
//
// # The server's settings
//
// The guarantees above assume Redis keeps what it acknowledged. An eviction
// policy other than noeviction can drop a user's index (then RevokeUser
// cannot find its sessions), and asynchronous replication or RDB snapshots
// can undo a revocation in a failover or a restart. CheckServer reports
// each; Options.Eviction makes the store refuse to serve, or fail closed,
// on a server that may evict; Options.Durability makes the calls that end
// sessions wait for replicas and the AOF.
//
// # Partial failure
//
// A Save or Delete that Redis refused (an error Redis returned) has not
// changed the session. One cut short by a deadline or a lost connection may
// have taken effect anyway, whole (one node: one script) or up to a step
// (Cluster): the command may have reached Redis before the client gave up.
// Either way the one partial state any step can leave is an index
// entry without a session (a write cut short after the index step), which a
// listing skips (and on one node drops) and a revoke or the entry's
// deadline removes. A session is
// never outside its user's index. On one node a save that binds, unbinds or
// renews is one script whose checks, and every command that can fail on a
// wrong type, come before the session is written. A Renew on Cluster that
// fails after deleting the old session leaves the user logged out.
//
// # Cluster
//
// No command spans a session key and an index key; they live in different
// slots. The index is written before the session it names and a session is
// deleted before its index entry, so a session never exists outside its
// user's index. On one node the steps of a save run as one script over both
// keys (one round trip, atomic); a Cluster client sends them one after the
// other, each only if the one before succeeded. On one node a listing drops
// an entry whose session key is missing (expired, say), in a script that
// checks the key is still missing; on Cluster it leaves it, since it may be
// a login between its two steps, and the entry goes with its deadline or
// the user's next revoke.
package core
