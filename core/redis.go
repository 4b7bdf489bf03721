package core

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// This file is the storage contract: every key the package names, every
// Redis command it sends and every script it runs. Nothing outside it builds
// a key or names a command; the engine's operations (store.go, index.go,
// admin.go, ...) only choose which of these to send, in what order.
//
// Keys. <p> is Options.Prefix, <id> a session's handle (hashToken of its
// token), <uid> a user id. Every key has a TTL, always: a point in time
// (PXAT, PEXPIREAT), but for Durability's marker (PX, never ≤ 0).
//
//	<p>session:<id>         the session: a string (LayoutString, the record of
//	                        record.go) or a hash (LayoutHash: field "\x00" the
//	                        record without payload, one field per value); or a
//	                        tombstone, the list ["revoked"] a revoke leaves.
//	                        Expires at min(now+IdleTimeout, deadline).
//	<p>user_sessions:<uid>  the user's index: a sorted set of <id> scored by the
//	                        session's deadline (unix ms), with "\x00"<id> while a
//	                        revoke of it is under way and "\x01"<id> for a session
//	                        Retire deleted. Expires with its latest member.
//	<p>adopted:<id>         "1": the session under <id> was taken over from the
//	                        store being replaced while that store's key was
//	                        kept (a migration's claim, see ClaimAdoption), so
//	                        it is never taken over twice. Expires after the
//	                        replaced store's deadline for it.
//	<p>adopted:<hex>        gorillaredis's claim of a legacy cookie or key:
//	                        <hex> the SHA-256 of the cookie value or legacy
//	                        key, the value a mark with the adoption's time;
//	                        expires at the window's end, at most the old
//	                        MaxAge (gorillaredis/migrate.go builds it: the
//	                        one key not built here)
//	<p>durable              Durability's marker, "1" (Cluster: one per node,
//	                        <p>durable:{<tag>}). Expires after the wait.
//
// Commands, per operation; s is the session key, i its user's index, "|"
// separates the string layout's command from the hash layout's. EVAL x is
// the script x: sent by its SHA (EVALSHA) once the store has sent it whole,
// and whole again after a NOSCRIPT (see script). On one node the commands
// of a step travel in one pipeline; on Cluster, where no command may span s
// and i, each step is sent after the one before it answered (see exec) and
// a script over both runs as its one-key steps, index first.
//
//	Load         GETEX s PXAT exp | EVAL hashLoad s; then PEXPIREAT s deadline
//	             in the session's last IdleTimeout
//	Peek         GET s | HGETALL s
//	  either     + ZSCORE i <id> (EvictionFailClosed, a server that may evict,
//	             a bound session); + remove, below, for a session past its
//	             deadline or missing from its index
//	Save         EVAL save s i... (Cluster: EVAL indexAdd i; ZREM i "\x01"<pred>;
//	             EVAL save s; ZREM <old i> <id>); unchanged: nothing, or
//	             PEXPIREAT s exp
//	Renew        EVAL renew s' s i... (Cluster: ZSCORE i "\x00"<id>; EVAL
//	             indexAdd i; EVAL del s; EVAL save s'; ZREM i <id>)
//	Delete       remove: EVAL remove s i (Cluster: EVAL del s; ZREM i <id>);
//	             EVAL del s for a session of no user
//	DeleteToken  GETDEL s | HGET s "\x00", DEL s; then ZREM i <id>
//	Retire       EVAL retireSession s i (Cluster: EVAL del s; EVAL retire i);
//	             EVAL del s for a session of no user
//	Abandon      ZREM i "\x01"<id>
//	ClaimAdoption
//	             SET <p>adopted:<id> 1 NX PXAT t
//	UserSessions ZREMRANGEBYSCORE i -inf now, ZRANGE i 0 -1 WITHSCORES; GET s |
//	             HGET s "\x00", and PTTL s, per member; ZREM i ... or EVAL
//	             prune i s... for the stale ones
//	Revoke...    EVAL revokeBegin i; EVAL kill s, per session; ZREM i <id>
//	             "\x00"<id> ...
//	RevokeSession EVAL revokeOne i s (Cluster: as Revoke...)
//	Inspect      GET s | HGET s "\x00", PTTL s
//	RevokeHandle Inspect; then RevokeSession, or DEL s for an anonymous session
//	Stats        per primary: SCAN 0 MATCH <p>* COUNT n ...; GETRANGE s 0 40 and
//	             HGET s "\x00" per session key; MEMORY USAGE of a sample; INFO
//	             memory
//	ScanUsers    SCAN c MATCH <p>user_sessions:* COUNT n on one node; ZRANGE i
//	             0 -1 WITHSCORES per index; EXISTS s per member
//	CheckServer  per primary: INFO server memory persistence replication;
//	             CONFIG GET save
//	(guard)      INFO memory per primary, at most once a minute, under
//	             EvictionRefuse and EvictionFailClosed
//	(durable)    per node: SET <p>durable 1 PX t, WAIT n t, WAITAOF 1 n t;
//	             under Options.Durability, after every call that ends a session
//	             (Delete, DeleteToken, Retire, Renew, the revokes, SaveUntil's
//	             delete)
//	(broadcast)  PUBLISH <p>ended "<id> <id>..." (SPUBLISH on Cluster), a
//	             thousand ids a message; under Options.Broadcast, after the
//	             same calls
//	Watch        SUBSCRIBE <p>ended (SSUBSCRIBE on Cluster), held; TYPE s per
//	             watched session, pipelined, every WatchOptions.Interval and
//	             after each (re)subscription

// The key spaces under Options.Prefix.
const (
	sessionSpace = "session:"
	indexSpace   = "user_sessions:"
	durableName  = "durable"
	adoptedSpace = "adopted:"
)

func (s *Store) sessionKey(x *Session) string { return s.sessionKeyForID(x.handle) }

func (s *Store) sessionKeyForID(id string) string {
	return s.opts.Prefix + sessionSpace + id
}

func (s *Store) adoptedKey(id string) string {
	return s.opts.Prefix + adoptedSpace + id
}

// Overlaps reports whether prefix+token, for a token of ValidToken's shape,
// may name a key of this store: whether prefix starts with one of its key
// spaces. (A token has no ':', and each space ends with one, so a shorter
// prefix cannot reach into a space.) An adapter that reads another
// store's keys by token (a migration) refuses such a prefix: those keys
// would be ours.
func (s *Store) Overlaps(prefix string) bool {
	for _, space := range []string{sessionSpace, indexSpace, adoptedSpace} {
		if strings.HasPrefix(prefix, s.opts.Prefix+space) {
			return true
		}
	}
	return false
}

func (s *Store) indexKey(userID string) string {
	return s.opts.Prefix + indexSpace + userID
}

// SessionKey returns the Redis key of the session with the given handle, for
// tools and tests that inspect Redis directly; "" for a malformed handle.
func (s *Store) SessionKey(handle string) string {
	if !ValidHandle(handle) {
		return ""
	}
	return s.sessionKeyForID(handle)
}

// IndexKey returns the Redis key of a user's session index.
func (s *Store) IndexKey(userID string) string { return s.indexKey(userID) }

// durableKey is Durability's marker on a single server or Sentinel.
func (s *Store) durableKey() string { return s.opts.Prefix + durableName }

// durableKeyIn is Durability's marker in the Cluster hash slot slot.
func (s *Store) durableKeyIn(slot int) string {
	marker := s.opts.Prefix + durableName + ":{" + slotTag(slot) + "}"
	if keySlot(marker) != slot { // a prefix with a "{" of its own
		marker = "{" + slotTag(slot) + "}" + s.opts.Prefix + durableName
	}
	return marker
}

// storeMatch is the SCAN MATCH pattern of every key of the store.
func (s *Store) storeMatch() string { return globEscape(s.opts.Prefix) + "*" }

// indexMatch is the SCAN MATCH pattern of the user indexes.
func (s *Store) indexMatch() string { return globEscape(s.indexKey("")) + "*" }

// globEscape quotes the characters SCAN MATCH treats specially.
func globEscape(s string) string {
	if !strings.ContainsAny(s, `*?[]\`) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`*?[]\`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// The Lua scripts behind every write that must be conditional or atomic.
//
// On a single node (and Sentinel) a save that touches the index runs as one
// script over the session key and the index keys: either all of it happens
// or, when a condition fails or a command errors, none of the session write
// does. Redis does not roll a script back, so every script does its checks
// and the commands that can fail on a wrong type first and writes the
// session last. On Cluster no command may span a session key and an index
// key, so the same steps run as one-key scripts, one after the other, index
// first (see exec).
//
// A tombstone is what a revoke leaves at the key of an index member whose
// session it could not find: a list (never a type a session is stored as),
// expiring at the member's deadline. A login or renewal still on its way
// to Redis then finds the key taken (its create is conditional on no key)
// and stays dead; a stale update finds a key of the wrong type (updates are
// conditional on the layout's type) and writes nothing.
//
// A revocation marker is the index member "\x00"+id, scored like id, that a
// revoke adds for every session it is about to end. A renewal checks the
// marker of the session it renews in the same step that indexes the new
// token, so a renewal that raced the revoke never brings the session back
// under its new token. The revoke removes its marks when it is done.

// A retirement marker, "\x01"+id, stands in the index for a session that
// Retire deleted while its successor is on its way (a renewal in two
// calls); a revoke turns it into a revocation marker, and the successor's
// save claims it (and is refused when it is gone).

// The names inside keys: index members and hash fields that are not a
// session's own.
const (
	// markerPrefix starts the index member that marks a session revoked.
	// Session ids are base64url, so no id starts with it (nor with
	// retiredPrefix).
	markerPrefix = "\x00"
	// retiredPrefix starts the index member of a retired session.
	retiredPrefix = "\x01"
	// tombstoneValue is the one element of a tombstone list.
	tombstoneValue = "revoked"
	// metaField is the hash field holding the record's metadata (no
	// payload). Value fields may not start with a NUL byte, so they cannot
	// collide with it.
	metaField = "\x00"
)

// The Lua functions the scripts share, one constant each: a script is sent
// with only the functions it calls (see newScript).

// luaOwner returns the user id of an encoded record, nil if it is not one.
const luaOwner = `
local function uvarint(s, i)
  local x, mul = 0, 1
  while true do
    local c = string.byte(s, i)
    if c == nil or mul > 2^63 then return nil, i end
    x = x + (c % 128) * mul
    i = i + 1
    if c < 128 then return x, i end
    mul = mul * 128
  end
end

local function owner(v)
  local f = string.byte(v, 1)
  if f ~= 0xB1 and f ~= 0xB2 then return nil end
  local i, n = 2, 0
  for _ = 1, 4 do
    n, i = uvarint(v, i)
    if n == nil then return nil end
  end
  if i + n - 1 > #v then return nil end
  return string.sub(v, i, i + n - 1)
end
`

// luaIndexAdd is index_add(k, id, deadline, now): it adds id, prunes
// members past their deadline, and makes the index expire with its latest
// member. ZADD comes first: Redis refuses a script on a full server
// (maxmemory, noeviction) only at its first write, and only if that write
// may grow memory, so a save into a full server fails whole instead of
// running whole.
const luaIndexAdd = `
local function index_add(k, id, deadline, now)
  redis.call('ZADD', k, deadline, id)
  redis.call('ZREMRANGEBYSCORE', k, '-inf', now)
  local top = redis.call('ZRANGE', k, -1, -1, 'WITHSCORES')
  redis.call('PEXPIREAT', k, string.format('%d', tonumber(top[2])))
end
`

// luaZsetOK is zset_ok(k): whether k can be an index, absent or a sorted
// set.
const luaZsetOK = `
local function zset_ok(k)
  local t = redis.call('TYPE', k).ok
  return t == 'none' or t == 'zset'
end
`

// luaWritable is writable(k, mode, layout): whether a session key may be
// written, no key at all for a create (nx), a key of the layout's type for
// an update (xx).
const luaWritable = `
local function writable(k, mode, layout)
  local t = redis.call('TYPE', k).ok
  if mode == 'nx' then return t == 'none' end
  if layout == 'h' then return t == 'hash' end
  return t == 'string'
end
`

// luaDelSession is del_session(k): it deletes a session key, never a
// tombstone or another type, and returns 1 when it deleted one.
const luaDelSession = `
local function del_session(k)
  local t = redis.call('TYPE', k).ok
  if t ~= 'string' and t ~= 'hash' then return 0 end
  return redis.call('DEL', k)
end
`

// luaWrite is write(k, a): it stores a session whose arguments start at
// ARGV[a]: expiry, layout, the record (string layout) or the number of
// fields to delete, those fields, then field/value pairs to set (hash
// layout).
const luaWrite = `
local function write(k, a)
  local exp, layout = ARGV[a], ARGV[a + 1]
  if layout == 's' then
    redis.call('SET', k, ARGV[a + 2], 'PXAT', exp)
    return
  end
  local ndel = tonumber(ARGV[a + 2])
  if ndel > 0 then redis.call('HDEL', k, unpack(ARGV, a + 3, a + 2 + ndel)) end
  if #ARGV > a + 2 + ndel then redis.call('HSET', k, unpack(ARGV, a + 3 + ndel)) end
  redis.call('PEXPIREAT', k, exp)
end
`

// writeStringArgs are write's arguments for a string-layout session: the
// record, expiring at exp.
func writeStringArgs(exp int64, rec []byte) []interface{} {
	return []interface{}{exp, "s", rec}
}

// writeHashArgs are write's arguments for a hash-layout session: the fields
// to delete, then the field/value pairs to set, expiring at exp.
func writeHashArgs(exp int64, del, set []interface{}) []interface{} {
	args := make([]interface{}, 0, 3+len(del)+len(set))
	args = append(args, exp, "h", len(del))
	return append(append(args, del...), set...)
}

// saveScript writes one session, conditionally, and keeps its user's index
// in step.
//
// KEYS[1] session; then the indexes ARGV[4], ARGV[5] and ARGV[8] name by
// position. ARGV[1] "nx" or "xx"; ARGV[2] id; ARGV[3] deadline; ARGV[4]
// position of the index to add id to (0: none); ARGV[5] position of the
// index to remove id from (0: none); ARGV[6] now; ARGV[7] the id this
// session succeeds (a renewal in two calls, see Store.Retire), or ""; ARGV[8]
// position of the index holding that id; ARGV[9...] as write. Returns 1
// when written, 0 when the condition failed or the predecessor is marked
// revoked (nothing written).
var saveScript = newScript(luaWritable + luaIndexAdd + luaWrite + `
if not writable(KEYS[1], ARGV[1], ARGV[10]) then return 0 end
local add, rm, pre = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[8])
if pre > 0 and not redis.call('ZSCORE', KEYS[pre], '\1' .. ARGV[7]) then return 0 end
if add > 0 then index_add(KEYS[add], ARGV[2], ARGV[3], ARGV[6]) end
if rm > 0 then redis.call('ZREM', KEYS[rm], ARGV[2]) end
if pre > 0 then redis.call('ZREM', KEYS[pre], '\1' .. ARGV[7]) end
write(KEYS[1], 9)
return 1
`)

// indexAddScript is saveScript's index step on its own (Cluster), with the
// renewal checks: KEYS[1] index; ARGV[1] id; ARGV[2] deadline; ARGV[3] now;
// ARGV[4] the id being renewed, or "" (returns 0, adding nothing, when that
// id is marked revoked); ARGV[5] the retired id whose marker to claim, or ""
// (returns 0, after adding, when that marker is gone).
var indexAddScript = newScript(luaIndexAdd + `
if ARGV[4] ~= '' and redis.call('ZSCORE', KEYS[1], '\0' .. ARGV[4]) then return 0 end
index_add(KEYS[1], ARGV[1], ARGV[2], ARGV[3])
if ARGV[5] ~= '' then return redis.call('ZREM', KEYS[1], '\1' .. ARGV[5]) end
return 1
`)

// luaRetire is retire(k, id): it turns id's entry in the index k into its
// retirement marker (see Store.Retire) and returns 1; 0, changing nothing,
// when id is marked revoked or not in the index.
const luaRetire = `
local function retire(k, id)
  if redis.call('ZSCORE', k, '\0' .. id) then return 0 end
  local sc = redis.call('ZSCORE', k, id)
  if not sc then return 0 end
  redis.call('ZADD', k, sc, '\1' .. id)
  redis.call('ZREM', k, id)
  return 1
end
`

// retireScript is retire on its own (Cluster, after delScript): KEYS[1]
// index; ARGV[1] id.
var retireScript = newScript(luaRetire + `
return retire(KEYS[1], ARGV[1])
`)

// retireSessionScript is Retire on one node: it deletes the session key as
// delScript does, then retires its entry, each whatever the other found.
// KEYS[1] session, KEYS[2] index; ARGV[1] id. Returns 1 when it deleted a
// session and retired its entry, else 0.
var retireSessionScript = newScript(luaDelSession + luaRetire + `
local d = del_session(KEYS[1])
local m = retire(KEYS[2], ARGV[1])
if d == 1 and m == 1 then return 1 end
return 0
`)

// renewScript moves a session to a new id on one node, atomically.
//
// KEYS[1] new session; KEYS[2] old session; KEYS[3] the old id's index (when
// ARGV[4] is 1); KEYS[3] or KEYS[4] the new id's index (when ARGV[5] names
// it). ARGV[1] new id; ARGV[2] old id; ARGV[3] deadline; ARGV[4] unindex the
// old id (0/1); ARGV[5] position of the index to add to (0: none); ARGV[6]
// now; ARGV[7...] as write. Returns 1 when renewed, 0 when the old session
// is gone or revoked (nothing written), -1 when the new id is taken.
var renewScript = newScript(luaWritable + luaZsetOK + luaDelSession + luaIndexAdd + luaWrite + `
if ARGV[4] == '1' and redis.call('ZSCORE', KEYS[3], '\0' .. ARGV[2]) then return 0 end
if not writable(KEYS[1], 'nx', ARGV[8]) then return -1 end
local add = tonumber(ARGV[5])
-- The ZSCORE above has already refused an index of another type when the
-- new id goes to the old id's index (add == 3): no second TYPE for it.
if add > 0 and not (add == 3 and ARGV[4] == '1') and not zset_ok(KEYS[add]) then
  return redis.error_reply('WRONGTYPE the index ' .. KEYS[add] .. ' holds another type')
end
if del_session(KEYS[2]) == 0 then return 0 end
if add > 0 then index_add(KEYS[add], ARGV[1], ARGV[3], ARGV[6]) end
if ARGV[4] == '1' then redis.call('ZREM', KEYS[3], ARGV[2]) end
write(KEYS[1], 7)
return 1
`)

// revokeBeginScript prunes a user's index, marks the sessions a revoke is
// about to end (retired ones too, so no successor can take their place) and
// returns the live ones as id, score pairs. KEYS[1] index; ARGV[1]
// now; ARGV[2] "one" (ARGV[3] is the id to revoke) or "all" (ARGV[3] is the
// id to keep, or "").
var revokeBeginScript = newScript(`
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
-- A retired session's successor is refused from here on.
local function unretire(id)
  local sc = redis.call('ZSCORE', KEYS[1], '\1' .. id)
  if sc then
    redis.call('ZADD', KEYS[1], sc, '\0' .. id)
    redis.call('ZREM', KEYS[1], '\1' .. id)
  end
end
if ARGV[2] == 'one' then
  unretire(ARGV[3])
  local sc = redis.call('ZSCORE', KEYS[1], ARGV[3])
  if not sc then return {} end
  redis.call('ZADD', KEYS[1], sc, '\0' .. ARGV[3])
  return {ARGV[3], sc}
end
local m = redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')
local out = {}
for i = 1, #m, 2 do
  local b = string.byte(m[i], 1)
  if b == 1 then
    if string.sub(m[i], 2) ~= ARGV[3] then unretire(string.sub(m[i], 2)) end
  elseif b ~= 0 and m[i] ~= ARGV[3] then
    redis.call('ZADD', KEYS[1], m[i + 1], '\0' .. m[i])
    out[#out + 1] = m[i]
    out[#out + 1] = m[i + 1]
  end
end
return out
`)

// luaKill is kill(k, uid, score): it ends the session at k if its record
// names user uid and returns 1; where there is no key it leaves a tombstone
// expiring at score (the index member's deadline), so a write still in
// flight cannot create it, and returns 0; a tombstone already there is 0
// too; a key holding another user's session or data that is not ours is
// left alone: -1.
const luaKill = luaOwner + `
local function kill(k, uid, score)
  local t = redis.call('TYPE', k).ok
  if t == 'none' then
    -- A write that cannot grow memory first, so that a full server
    -- (maxmemory, noeviction) lets a revoke leave its tombstone.
    redis.call('DEL', k)
    redis.call('RPUSH', k, '` + tombstoneValue + `')
    redis.call('PEXPIREAT', k, score)
    return 0
  end
  if t == 'list' then return 0 end
  local v
  if t == 'string' then v = redis.call('GET', k)
  elseif t == 'hash' then v = redis.call('HGET', k, '\0') end
  if not v or owner(v) ~= uid then return -1 end
  redis.call('DEL', k)
  return 1
end
`

// killScript ends one session of a user (kill): KEYS[1] session; ARGV[1]
// user id; ARGV[2] the index member's score.
var killScript = newScript(luaKill + `
return kill(KEYS[1], ARGV[1], ARGV[2])
`)

// revokeOneScript is a revoke of one session on one node, all its steps in
// one script (its keys are known before it starts: the index and the
// session's key): it prunes the index, turns the session's retirement
// marker into a revocation marker (as revokeBeginScript does, so a
// successor on its way is refused), kills the session (kill) and removes
// its entry. Being one script, no renewal can run between the check and the
// kill, so the session needs no revocation marker of its own. KEYS[1]
// index, KEYS[2] session; ARGV[1] now; ARGV[2] id; ARGV[3] user id.
// Returns kill's answer, or -2 when id is not in the index (nothing killed).
var revokeOneScript = newScript(luaKill + `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
local sc = redis.call('ZSCORE', KEYS[1], '\1' .. ARGV[2])
if sc then
  redis.call('ZADD', KEYS[1], sc, '\0' .. ARGV[2])
  redis.call('ZREM', KEYS[1], '\1' .. ARGV[2])
end
sc = redis.call('ZSCORE', KEYS[1], ARGV[2])
if not sc then return -2 end
local n = kill(KEYS[2], ARGV[3], sc)
redis.call('ZREM', KEYS[1], ARGV[2])
return n
`)

// pruneScript drops entries from a user's index (one node only: it spans
// the index and session keys): KEYS[1] index, KEYS[2...] session keys;
// ARGV[1] how many entries to drop outright (named next in ARGV), then one
// member per session key, dropped only if that key does not exist now (an
// entry a listing found without its session: gone, unless written since).
var pruneScript = newScript(`
local n = tonumber(ARGV[1])
for i = 2, n + 1 do redis.call('ZREM', KEYS[1], ARGV[i]) end
for i = 2, #KEYS do
  if redis.call('EXISTS', KEYS[i]) == 0 then redis.call('ZREM', KEYS[1], ARGV[n + i]) end
end
return 0
`)

// delScript deletes a session key (KEYS[1]) and returns 1, or returns 0 when
// there is none: a tombstone, or a key of another type, is left alone, so a
// renewal or logout cannot clear the way for a write a revoke stopped.
var delScript = newScript(`
local t = redis.call('TYPE', KEYS[1]).ok
if t ~= 'string' and t ~= 'hash' then return 0 end
return redis.call('DEL', KEYS[1])
`)

// removeScript is a logout on one node: it deletes a session key as
// delScript does, then removes the session's entry from its index (whether
// or not there was a session to delete, as on Cluster): KEYS[1] session,
// KEYS[2] index; ARGV[1] id. Returns delScript's answer.
var removeScript = newScript(luaDelSession + `
local n = del_session(KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
return n
`)

// hashLoadScript reads a hash-layout session and, if it exists, slides its
// expiry: one round trip, and a missing key or another type is left as it
// is. KEYS[1] session key; ARGV[1] expiry (unix ms).
var hashLoadScript = newScript(`
local m = redis.call('HGETALL', KEYS[1])
if #m > 0 then redis.call('PEXPIREAT', KEYS[1], ARGV[1]) end
return m
`)

// A script is Lua run with EVALSHA where this store has sent it before,
// with EVAL (the whole source) the first time. A node whose script cache
// lost it (a restart, a failover, SCRIPT FLUSH) answers NOSCRIPT, and send
// runs it again with EVAL: one more round trip, once per script and node.
// NOSCRIPT means the script did not run at all, so running it then is
// running it once, with its conditions checked as they stand then.
type script struct {
	src string
	sha string // hex SHA-1 of src, the name EVALSHA runs it by
	n   int    // its place in scripts and Store.sent
}

// scripts are every script of the package, in the order newScript made
// them.
var scripts []*script

// newScript returns the script of src as it is sent: without its comment
// lines, blank lines and indentation, which Redis would only read past (and
// hash, on every EVAL).
func newScript(src string) *script {
	sc := &script{src: minifyLua(src), n: len(scripts)}
	sum := sha1.Sum([]byte(sc.src))
	sc.sha = hex.EncodeToString(sum[:])
	scripts = append(scripts, sc)
	return sc
}

// minifyLua drops the blank lines, the lines that are only a comment and
// every line's indentation. It never looks inside a line, so it cannot
// change what a line means (the scripts have no multi-line strings).
func minifyLua(src string) string {
	var b strings.Builder
	for _, line := range strings.Split(src, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "--") {
			continue
		}
		b.WriteString(line)
		b.WriteByte('\n')
	}
	return b.String()
}

// cmd returns the EVAL of the script over keys with args: the whole source,
// which cannot answer NOSCRIPT. exec needs it for a script followed by
// another group in the same pipeline.
func (sc *script) cmd(ctx context.Context, keys []string, args ...interface{}) *redis.Cmd {
	return sc.build(ctx, "eval", sc.src, keys, args)
}

func (sc *script) build(ctx context.Context, verb, body string, keys []string, args []interface{}) *redis.Cmd {
	a := make([]interface{}, 0, 3+len(keys)+len(args))
	a = append(a, verb, body, len(keys))
	for _, k := range keys {
		a = append(a, k)
	}
	return redis.NewCmd(ctx, append(a, args...)...)
}

// run returns the command that runs sc over keys with args: EVALSHA once
// this store has sent sc, else EVAL. Only send may send it, and only among
// commands none of which depends on it having run (a NOSCRIPT retry runs it
// after the others); exec refuses it in any group but the last.
func (s *Store) run(ctx context.Context, sc *script, keys []string, args ...interface{}) *redis.Cmd {
	if s.sent[sc.n].Load() {
		return sc.build(ctx, "evalsha", sc.sha, keys, args)
	}
	s.sent[sc.n].Store(true)
	return sc.cmd(ctx, keys, args...)
}

// evalOf returns the EVAL that stands for cmd, an EVALSHA of one of
// scripts, or nil if cmd is not one.
func evalOf(ctx context.Context, cmd *redis.Cmd) *redis.Cmd {
	a := cmd.Args()
	if len(a) < 3 || a[0] != "evalsha" {
		return nil
	}
	for _, sc := range scripts {
		if a[1] == sc.sha {
			b := append([]interface{}{"eval", sc.src}, a[2:]...)
			return redis.NewCmd(ctx, b...)
		}
	}
	return nil
}

// isEvalsha reports whether c runs a script by its SHA.
func isEvalsha(c redis.Cmder) bool {
	a := c.Args()
	return len(a) > 0 && a[0] == "evalsha"
}

// isNoScript reports a NOSCRIPT reply: the node does not have the script,
// and did not run it.
// (HasErrorPrefix allocates, even for no error: most replies have none.)
func isNoScript(err error) bool { return err != nil && redis.HasErrorPrefix(err, "NOSCRIPT") }

// The commands, one constructor each, so that every command the engine
// sends is built here. The engine sends them with send, exec or
// client.Process; each returns the reply's go-redis type.

func getCmd(ctx context.Context, key string) *redis.StringCmd {
	return redis.NewStringCmd(ctx, "get", key)
}

// getexCmd reads a string session and moves its expiry to exp (unix ms).
func getexCmd(ctx context.Context, key string, exp int64) *redis.StringCmd {
	return redis.NewStringCmd(ctx, "getex", key, "pxat", exp)
}

func getdelCmd(ctx context.Context, key string) *redis.StringCmd {
	return redis.NewStringCmd(ctx, "getdel", key)
}

// getrangeCmd reads bytes start to end (inclusive) of a string.
func getrangeCmd(ctx context.Context, key string, start, end int64) *redis.StringCmd {
	return redis.NewStringCmd(ctx, "getrange", key, start, end)
}

func hgetallCmd(ctx context.Context, key string) *redis.MapStringStringCmd {
	return redis.NewMapStringStringCmd(ctx, "hgetall", key)
}

// hgetMetaCmd reads a hash session's metadata field.
func hgetMetaCmd(ctx context.Context, key string) *redis.StringCmd {
	return redis.NewStringCmd(ctx, "hget", key, metaField)
}

// pexpireatCmd sets the key's expiry to at (unix ms); it never creates a key.
func pexpireatCmd(ctx context.Context, key string, at int64) *redis.IntCmd {
	return redis.NewIntCmd(ctx, "pexpireat", key, at)
}

func pttlCmd(ctx context.Context, key string) *redis.DurationCmd {
	return redis.NewDurationCmd(ctx, time.Millisecond, "pttl", key)
}

func delCmd(ctx context.Context, key string) *redis.IntCmd {
	return redis.NewIntCmd(ctx, "del", key)
}

func existsCmd(ctx context.Context, key string) *redis.IntCmd {
	return redis.NewIntCmd(ctx, "exists", key)
}

func memoryUsageCmd(ctx context.Context, key string) *redis.IntCmd {
	cmd := redis.NewIntCmd(ctx, "memory", "usage", key)
	cmd.SetFirstKeyPos(2)
	return cmd
}

func zscoreCmd(ctx context.Context, key, member string) *redis.FloatCmd {
	return redis.NewFloatCmd(ctx, "zscore", key, member)
}

func zremCmd(ctx context.Context, key string, members ...interface{}) *redis.IntCmd {
	return redis.NewIntCmd(ctx, append([]interface{}{"zrem", key}, members...)...)
}

// zremBeforeCmd drops the members scored before now (past their deadline).
func zremBeforeCmd(ctx context.Context, key string, now int64) *redis.IntCmd {
	return redis.NewIntCmd(ctx, "zremrangebyscore", key, "-inf", strconv.FormatInt(now, 10))
}

// zrangeAllCmd reads a whole sorted set with its scores.
func zrangeAllCmd(ctx context.Context, key string) *redis.ZSliceCmd {
	return redis.NewZSliceCmd(ctx, "zrange", key, 0, -1, "withscores")
}

// scanCmd is one SCAN batch of keys matching match, count a hint.
func scanCmd(ctx context.Context, cursor uint64, match string, count int64) *redis.ScanCmd {
	args := []interface{}{"scan", cursor, "match", match}
	if count > 0 {
		args = append(args, "count", count)
	}
	return redis.NewScanCmd(ctx, nil, args...)
}

func infoCmd(ctx context.Context, sections ...string) *redis.StringCmd {
	args := []interface{}{"info"}
	for _, sec := range sections {
		args = append(args, sec)
	}
	return redis.NewStringCmd(ctx, args...)
}

func configGetCmd(ctx context.Context, parameter string) *redis.MapStringStringCmd {
	return redis.NewMapStringStringCmd(ctx, "config", "get", parameter)
}

// setNXAtCmd writes "1" under key unless it exists, expiring at at (unix ms).
func setNXAtCmd(ctx context.Context, key string, at int64) *redis.BoolCmd {
	return redis.NewBoolCmd(ctx, "set", key, "1", "nx", "pxat", at)
}

// setMarkerCmd writes Durability's marker, expiring after ttl.
func setMarkerCmd(ctx context.Context, key string, ttl time.Duration) *redis.StatusCmd {
	return redis.NewStatusCmd(ctx, "set", key, "1", "px", ttl.Milliseconds())
}

// waitReplicas sends WAIT on conn: go-redis's own, which reads the reply
// within timeout rather than the client's read timeout.
func waitReplicas(ctx context.Context, conn *redis.Conn, replicas int, timeout time.Duration) *redis.IntCmd {
	return conn.Wait(ctx, replicas, timeout)
}

// waitaofCmd waits for the primary's AOF (and replicas' AOFs) to hold every
// write on the connection, for up to timeout.
func waitaofCmd(ctx context.Context, replicas int, timeout time.Duration) *redis.IntSliceCmd {
	return redis.NewIntSliceCmd(ctx, "waitaof", 1, replicas, timeout.Milliseconds())
}

// publishCmd publishes msg on channel: SPUBLISH when sharded (Cluster).
func publishCmd(ctx context.Context, sharded bool, channel, msg string) *redis.IntCmd {
	name := "publish"
	if sharded {
		name = "spublish"
	}
	return redis.NewIntCmd(ctx, name, channel, msg)
}

// typeCmd is TYPE key: a Watcher's check of a watched session.
func typeCmd(ctx context.Context, key string) *redis.StatusCmd {
	return redis.NewStatusCmd(ctx, "type", key)
}

// subscribe subscribes to channel: SSUBSCRIBE when sharded (Cluster).
func subscribe(ctx context.Context, c redis.UniversalClient, sharded bool, channel string) *redis.PubSub {
	if sharded {
		return c.SSubscribe(ctx, channel)
	}
	return c.Subscribe(ctx, channel)
}

// exec runs groups of commands in order. On one node they all travel in one
// pipeline: one round trip, executed in order. A Cluster client fans a
// pipeline out to nodes in parallel, so there each group is sent only after
// the one before it answered; that keeps "index before session" and "session
// before index entry" true everywhere. redis.Nil replies are not errors here;
// callers read them from the commands.
//
// On one node an EVALSHA may only be in the last group: one that answered
// NOSCRIPT in an earlier group would have let the groups after it run
// first. exec refuses it (a bug in the caller, which must build it with
// script.cmd), sending nothing.
func (s *Store) exec(ctx context.Context, groups ...[]redis.Cmder) error {
	var all []redis.Cmder
	last := -1
	for i, g := range groups {
		if len(g) > 0 {
			last = i
		}
	}
	for i, g := range groups {
		if s.ordered && len(g) > 0 {
			if err := s.send(ctx, g); err != nil {
				return err
			}
			continue
		}
		for _, c := range g {
			if i != last && isEvalsha(c) {
				return errors.New("redisession: internal error: EVALSHA in a pipeline before a group that depends on it")
			}
		}
		all = append(all, g...)
	}
	return s.send(ctx, all)
}

// send sends cmds in one round trip and returns the first error that is not
// a nil reply. cmds must not depend on one another: a script a node
// answered NOSCRIPT for is sent again whole after the round trip (one more
// round trip, for all of them), so it runs after the commands that were
// sent with it.
func (s *Store) send(ctx context.Context, cmds []redis.Cmder) error {
	if err := s.sendOnce(ctx, cmds); err != nil {
		return err
	}
	if err := s.reload(ctx, cmds); err != nil {
		return err
	}
	return firstErr(cmds)
}

// sendOnce sends cmds in one round trip. It returns an error only for a
// pipeline that could not be sent at all (no connection), which reports it
// only there, not on its commands; every other error is on the commands.
func (s *Store) sendOnce(ctx context.Context, cmds []redis.Cmder) error {
	switch len(cmds) {
	case 0:
		return nil
	case 1:
		_ = s.client.Process(ctx, cmds[0])
	default:
		_, perr := s.client.Pipelined(ctx, func(p redis.Pipeliner) error {
			for _, c := range cmds {
				_ = p.Process(ctx, c)
			}
			return nil
		})
		if perr != nil && !errors.Is(perr, redis.Nil) && firstErr(cmds) == nil {
			return perr
		}
	}
	return nil
}

// reload runs again with EVAL, in one round trip, every EVALSHA of cmds
// that answered NOSCRIPT, and gives each the EVAL's reply.
func (s *Store) reload(ctx context.Context, cmds []redis.Cmder) error {
	var failed []*redis.Cmd
	var evals []redis.Cmder
	for _, c := range cmds {
		cmd, ok := c.(*redis.Cmd)
		if !ok || !isNoScript(cmd.Err()) {
			continue
		}
		if e := evalOf(ctx, cmd); e != nil {
			failed = append(failed, cmd)
			evals = append(evals, e)
		}
	}
	if len(evals) == 0 {
		return nil
	}
	if err := s.sendOnce(ctx, evals); err != nil {
		return err
	}
	for i, e := range evals {
		failed[i].SetVal(e.(*redis.Cmd).Val())
		failed[i].SetErr(e.Err())
	}
	return nil
}

// firstErr is the first error of cmds that is not a nil reply.
func firstErr(cmds []redis.Cmder) error {
	for _, c := range cmds {
		if err := c.Err(); err != nil && !errors.Is(err, redis.Nil) {
			return err
		}
	}
	return nil
}

// isWrongType reports a WRONGTYPE reply: a key of the other layout, or
// another program's data.
func isWrongType(err error) bool {
	return err != nil && strings.Contains(err.Error(), "WRONGTYPE")
}
