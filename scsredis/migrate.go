package scsredis

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redisession/redisession/core"
)

// DefaultLegacyPrefix is the key prefix of scs's own Redis stores,
// redisstore and goredisstore: each keeps a session under
// "scs:session:"+token.
const DefaultLegacyPrefix = "scs:session:"

// Migration takes over, during a window, the live sessions of the scs store
// this Store replaces (scs's redisstore or goredisstore), so that swapping
// sm.Store logs no one out. Set it in Options.Migrate.
//
// # The path
//
// scs calls Find with the token from the request's cookie. When our key
// for it is missing and the window is open, the store reads the old key,
// Prefix+token, removing it in the same atomic step (one Lua script on that
// one key: GET, PTTL and, unless KeepLegacy, DEL). Only a key that exists
// is adopted: the old store's own proof that it holds the session, so no
// value a client sends is trusted. Its bytes are exactly what scs
// committed, in the manager's Codec (Options.Codec, as for every session);
// they are decoded once, to learn the user and the deadline, and written
// unchanged as our session under the same token, bound to its user (so
// Sessions, UserSessions, RevokeSession and RevokeUser see and end it) and
// counted in Core().Counters().Adopted (the metric
// redisession_adopted_sessions_total). Find then returns them as for any
// session; scs sends its cookie as it always does.
//
// # Expiry
//
// The adopted session's deadline is the one scs wrote in the record,
// capped by Options.Core.Lifetime; its key expires when the old key would
// have (its remaining TTL, which carries scs's IdleTimeout), never after
// that deadline. Nothing extends the old session's life: from then on scs
// commits it as any other, with its own IdleTimeout and the deadline in
// the record.
//
// # Once, and only once
//
// The read that returns the old record also removes it, so a token is
// adopted at most once: of two requests racing with the same old token, one
// adopts it; the other finds nothing for that one request (scs gives it a
// fresh, empty session, which it writes, under a new token and cookie, only
// if the handler puts a value: the price of the race, at most once per
// session) and every later request finds the adopted session. With
// KeepLegacy the first request to claim the token (a key under our own
// prefix, SET NX, kept until the old record's deadline) adopts it and the
// others read ours. Our write is create-only besides, so even two adopters
// could not make two sessions. A session adopted and then logged out or
// revoked never comes back from the old key.
//
// # Fixation
//
// scs mints tokens and the store cannot change them, so the session keeps
// scs's token, the one in the cookie. That gives an attacker nothing new: a
// token is adopted only if the old store holds a session under it, so a
// token an attacker planted in a victim's browser works after the swap
// exactly when it worked before it. What defeats fixation, under either
// store, is renewing the token at login (Login, or sm.RenewToken): the
// session a user logs in to then has a token no one saw before, and a
// logged-in session the old store kept was renewed at its login.
//
// # Cost
//
// With Migrate nil, Until zero or Until passed, Find is what it is without
// a migration: no command, no decode more. With the window open, a Find
// that finds our key costs nothing more either (1 round trip); one that
// misses costs one more (2: the script above), and an adoption one more
// again (3: writing our session bound to its user; 4 on Cluster, where the
// index is written first, and 1 more with KeepLegacy, the claim), once per
// session. A miss is a token we do not hold (the cookie of a session that
// expired or was logged out, or the old store's), since scs calls Find
// only with a cookie. Reading the old key in the same pipeline as ours
// would save the miss its round trip but add a command to every hit, the
// common case, for the whole window; the store does not.
//
// # Failures
//
// A failure after the old record was read and removed (our write refused,
// the connection lost) returns the error, and the user is logged out, not
// left with two sessions; with KeepLegacy the claim stays, so the record
// is not adopted later either. Nothing fails open.
//
// # Bad records
//
// A record the Codec cannot decode (decoded in full, as scs will), one
// without a deadline or a map of values, or one whose user value
// core.UserIDOf refuses, or one holding a value Options.Core.Sensitive
// denies (a commit would refuse to store it) is not adopted: Find reports
// no session, it is
// counted in Core().Counters().Malformed, and nothing of ours is written
// (without KeepLegacy the old key is gone all the same: the old store could
// not have used it either).
type Migration struct {
	// Until closes the window: from then on (by Options.Core.Now) the old
	// store is never read. The zero time means no migration. Set it to
	// when the last session the old store issued ends (its Lifetime from
	// the swap), or earlier if Counters().Adopted has stopped rising.
	Until time.Time

	// Client is the Redis the old store kept its sessions in; nil means
	// the Store's own client.
	Client redis.UniversalClient

	// Prefix is the old store's key prefix; "" means DefaultLegacyPrefix,
	// which scs's redisstore and goredisstore both use unless given
	// another (redisstore.NewWithPrefix, goredisstore.NewWithPrefix). A
	// Prefix inside the store's own key spaces (Options.Core.Prefix
	// followed by "session:", say) would name keys of ours: it turns the
	// migration off, and CheckManager reports it.
	Prefix string

	// KeepLegacy leaves the old key in place, to expire on its own TTL
	// (say, to be able to go back to the old store within its Lifetime;
	// sessions changed since the swap are then as the old store last saw
	// them). The default deletes the old key in the same step that reads it.
	// With KeepLegacy a claim key under Options.Core.Prefix marks each
	// adopted token until the old record's deadline, so it is adopted only
	// once.
	KeepLegacy bool
}

// migration is an Options.Migrate in force.
type migration struct {
	until  time.Time
	client redis.UniversalClient
	prefix string
	keep   bool
}

func newMigration(m *Migration, own redis.UniversalClient) *migration {
	if m == nil || m.Until.IsZero() {
		return nil
	}
	mg := &migration{until: m.Until, client: m.Client, prefix: m.Prefix, keep: m.KeepLegacy}
	if mg.client == nil {
		mg.client = own
	}
	if mg.prefix == "" {
		mg.prefix = DefaultLegacyPrefix
	}
	return mg
}

// takeLegacy returns the old record and its remaining TTL in milliseconds
// (-1 for none), and deletes it unless ARGV[1] is "keep". KEYS[1] is the
// old key; one key, so it runs on Cluster too.
const takeLegacy = `local v = redis.call('GET', KEYS[1])
if not v then return false end
local ttl = redis.call('PTTL', KEYS[1])
if ARGV[1] ~= 'keep' then redis.call('DEL', KEYS[1]) end
return {v, ttl}`

// take reads (and, unless kept, removes) the old record of token: nil if
// there is none.
func (m *migration) take(ctx context.Context, token string) ([]byte, time.Duration, error) {
	mode := "del"
	if m.keep {
		mode = "keep"
	}
	cmd := redis.NewSliceCmd(ctx, "eval", takeLegacy, 1, m.prefix+token, mode)
	err := m.client.Process(ctx, cmd)
	if errors.Is(err, redis.Nil) {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, err
	}
	r := cmd.Val()
	if len(r) != 2 {
		return nil, 0, fmt.Errorf("unexpected reply %v", r)
	}
	v, ok1 := r[0].(string)
	ttl, ok2 := r[1].(int64)
	if !ok1 || !ok2 {
		return nil, 0, fmt.Errorf("unexpected reply %T, %T", r[0], r[1])
	}
	return []byte(v), time.Duration(ttl) * time.Millisecond, nil
}

// claimMargin is how long a KeepLegacy claim outlives the old record's
// deadline, for clocks that differ between nodes.
const claimMargin = time.Minute

// adopt takes over the old store's session under token, after a miss of
// ours: the session, or nil if there is none to adopt (window closed, no
// old key, a record not adoptable).
func (s *Store) adopt(ctx context.Context, token string) (*core.Session, error) {
	m := s.migrate
	if m == nil {
		return nil, nil
	}
	now := s.core.Options().Now()
	if !now.Before(m.until) {
		return nil, nil
	}
	b, ttl, err := m.take(ctx, token)
	if err != nil {
		return nil, fmt.Errorf("scsredis: adopt: read the old store's session: %w", err)
	}
	if b == nil {
		return nil, nil
	}
	// Decoded in full, not read on gob's wire (read): scs decodes what
	// Find returns, and a record it cannot decode must be no session, not
	// an error on every request (gobwire.go accepts bytes a decoder may
	// refuse: it trusts them to be scs's own). scs always writes a deadline
	// and a map of values, if empty; a record without them is not its own
	// (and a nil map would make sm.Put panic).
	legacyDeadline, values, err := s.codec.Decode(b)
	var uid string
	if err == nil && values != nil && !legacyDeadline.IsZero() {
		uid, err = userID(values[s.userKey], s.userKey)
	} else if err == nil {
		err = errors.New("no deadline or no values")
	}
	if err == nil {
		// What Options.Core.Sensitive denies, a commit would refuse to
		// store; an adoption does not store it either.
		err = s.checkNames(&committed{values: values})
	}
	if err != nil {
		s.core.CountMalformed()
		return nil, nil
	}
	// scs wrote the deadline by time.Now; the store may run on its own
	// clock (Options.Core.Now): carry it over as a duration from now.
	deadline := now.Add(legacyDeadline.Sub(time.Now()).Round(time.Millisecond))
	until := deadline
	if ttl > 0 && now.Add(ttl).Before(until) {
		until = now.Add(ttl)
	}
	if !until.After(now) {
		return nil, nil // over: the old store would not have found it either
	}
	if m.keep {
		ok, err := s.core.ClaimAdoption(ctx, token, deadline.Add(claimMargin))
		if err != nil {
			return nil, fmt.Errorf("scsredis: adopt: %w", err)
		}
		if !ok {
			// Adopted already: ours, if it is still there.
			return s.peek(ctx, token)
		}
	}
	// The token came from the client, which NewSessionWithToken warns
	// against: it is used only because the old store holds a session under
	// it (see "Fixation" in Migration's doc).
	x, err := s.core.NewSessionWithToken(token, deviceFrom(ctx))
	if err != nil {
		return nil, fmt.Errorf("scsredis: adopt: %w", err)
	}
	x.ShortenDeadline(deadline)
	x.UserID = uid
	x.Data = b
	switch err := s.core.SaveUntil(ctx, x, until); {
	case err == nil:
		s.core.CountAdopted()
		s.decoded.put(b, decodedBlob{legacyDeadline, values})
		return x, nil
	case errors.Is(err, core.ErrNotFound):
		// A key of ours appeared under the token since the miss: that
		// session is the one.
		return s.peek(ctx, token)
	default:
		return nil, fmt.Errorf("scsredis: adopt: %w", err)
	}
}

// peek is core's Peek with a miss as nil.
func (s *Store) peek(ctx context.Context, token string) (*core.Session, error) {
	x, err := s.core.Peek(ctx, token)
	if errors.Is(err, core.ErrNotFound) {
		return nil, nil
	}
	return x, err
}
