package core

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// indexGrace is how long an index member may point at a session key that does
// not exist yet. A login writes the index before the session (on Cluster in
// two round trips), so a missing key younger than this is a login in
// progress, not a stale entry. It is a tenth of the lifetime when that is
// shorter, so very short lifetimes (tests) still clean up.
const indexGrace = 10 * time.Second

func (s *Store) grace() int64 {
	g := indexGrace.Milliseconds()
	if l := s.opts.Lifetime.Milliseconds() / 10; l < g {
		g = l
	}
	return g
}

// indexAddScript adds one session to a user's index, prunes members past
// their deadline, and sets the index to expire with its latest member. It
// touches only the index key, so it runs on Cluster.
var indexAddScript = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[3])
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
local top = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
redis.call('PEXPIREAT', KEYS[1], string.format('%d', tonumber(top[2])))
return 1
`

func (s *Store) indexAdd(ctx context.Context, userID, id string, deadline, now int64) redis.Cmder {
	return redis.NewCmd(ctx, "eval", indexAddScript, 1, s.indexKey(userID), id, deadline, now)
}

// SessionInfo describes one of a user's sessions, for a device list. It
// carries the public handle, never the token.
type SessionInfo struct {
	Handle     string
	UserID     string
	Created    time.Time
	LastSeen   time.Time // last write, or last read as far as the sliding expiry shows
	Deadline   time.Time // absolute end of life
	ExpiresAt  time.Time // when it ends unless used again
	UserAgent  string
	RemoteAddr string
}

type member struct {
	id    string
	score int64
}

// members reads a user's index after pruning what is past its deadline: one
// round trip.
func (s *Store) members(ctx context.Context, userID string) ([]member, error) {
	key := s.indexKey(userID)
	now := s.nowMillis()
	var rng *redis.ZSliceCmd
	_, err := s.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.ZRemRangeByScore(ctx, key, "-inf", strconv.FormatInt(now, 10))
		rng = p.ZRangeWithScores(ctx, key, 0, -1)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("redisession: read index of user %q: %w", userID, err)
	}
	out := make([]member, 0, len(rng.Val()))
	for _, z := range rng.Val() {
		id, ok := z.Member.(string)
		if !ok {
			continue
		}
		out = append(out, member{id: id, score: int64(z.Score)})
	}
	return out, nil
}

// handleOf returns the public handle of an index member.
func (s *Store) handleOf(id string) string {
	if s.opts.StoreRawTokens {
		return hashToken(id)
	}
	return id
}

// pending reports whether a member with no session key may be a login still
// in progress (see indexGrace), judged by the creation time its deadline
// implies.
func (s *Store) pending(m member, now int64) bool {
	created := m.score - s.opts.Lifetime.Milliseconds()
	return now-created < s.grace()
}

// UserSessions lists a user's live sessions with their device facts, most
// recently active first, in two round trips whatever their number (index,
// then every record in one pipeline). Entries whose session is gone are
// dropped from the index on the way (a third round trip, only then).
func (s *Store) UserSessions(ctx context.Context, userID string) ([]SessionInfo, error) {
	ms, err := s.members(ctx, userID)
	if err != nil || len(ms) == 0 {
		return []SessionInfo{}, err
	}
	gets := make([]*redis.StringCmd, len(ms))
	ttls := make([]*redis.DurationCmd, len(ms))
	cmds := make([]redis.Cmder, 0, 2*len(ms))
	for i, m := range ms {
		key := s.sessionKeyForID(m.id)
		gets[i] = s.metaCmd(ctx, key)
		ttls[i] = redis.NewDurationCmd(ctx, time.Millisecond, "pttl", key)
		cmds = append(cmds, gets[i], ttls[i])
	}
	if err := s.send(ctx, cmds); err != nil {
		return nil, fmt.Errorf("redisession: list sessions of user %q: %w", userID, err)
	}
	now := s.nowMillis()
	out := make([]SessionInfo, 0, len(ms))
	var stale []string
	for i, m := range ms {
		raw, err := gets[i].Result()
		if err != nil { // gone
			if !s.pending(m, now) {
				stale = append(stale, m.id)
			}
			continue
		}
		rec, _, err := decodeRecordString(raw)
		if err != nil || rec.userID != userID || now >= rec.deadline {
			stale = append(stale, m.id)
			continue
		}
		info := s.info(s.handleOf(m.id), rec, ttls[i].Val(), now)
		out = append(out, info)
	}
	if len(stale) > 0 {
		if err := s.client.ZRem(ctx, s.indexKey(userID), toArgs(stale)...).Err(); err != nil {
			return nil, fmt.Errorf("redisession: prune index of user %q: %w", userID, err)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].LastSeen.After(out[j].LastSeen) })
	return out, nil
}

// info describes a decoded record whose key has ttl left.
func (s *Store) info(handle string, rec record, ttl time.Duration, now int64) SessionInfo {
	info := SessionInfo{
		Handle:     handle,
		UserID:     rec.userID,
		Created:    fromMillis(rec.created),
		LastSeen:   fromMillis(rec.lastSeen),
		Deadline:   fromMillis(rec.deadline),
		ExpiresAt:  fromMillis(rec.deadline),
		UserAgent:  rec.userAgent,
		RemoteAddr: rec.remoteAddr,
	}
	if ttl > 0 {
		exp := now + ttl.Milliseconds()
		info.ExpiresAt = fromMillis(exp)
		// A read slides the expiry to read+IdleTimeout without rewriting
		// the record, so the expiry tells when it was last read.
		if exp < rec.deadline {
			if seen := exp - s.opts.IdleTimeout.Milliseconds(); seen > rec.lastSeen {
				info.LastSeen = fromMillis(seen)
			}
		}
	}
	return info
}

// RevokeSession ends one of the user's sessions, named by its public handle.
// A handle that is not one of this user's sessions returns ErrNotFound, so a
// user can never end someone else's session by guessing.
func (s *Store) RevokeSession(ctx context.Context, userID, handle string) error {
	if !ValidHandle(handle) {
		return fmt.Errorf("%w: malformed handle", ErrNotFound)
	}
	ms, err := s.members(ctx, userID)
	if err != nil {
		return err
	}
	for _, m := range ms {
		if s.handleOf(m.id) == handle {
			n, err := s.revoke(ctx, userID, []member{m})
			if err == nil && n == 0 {
				err = fmt.Errorf("%w: session %s of user %q", ErrNotFound, handle, userID)
			}
			return err
		}
	}
	return fmt.Errorf("%w: session %s of user %q", ErrNotFound, handle, userID)
}

// RevokeUser ends every session of the user (password change, disabled
// account, admin action) and returns how many it ended. It costs three round
// trips whatever the number of sessions and never scans the keyspace.
func (s *Store) RevokeUser(ctx context.Context, userID string) (int, error) {
	return s.RevokeOthers(ctx, userID, "")
}

// RevokeOthers ends every session of the user except the one with handle
// keep ("log out everywhere else") and returns how many it ended.
func (s *Store) RevokeOthers(ctx context.Context, userID, keep string) (int, error) {
	ms, err := s.members(ctx, userID)
	if err != nil {
		return 0, err
	}
	kill := ms[:0]
	for _, m := range ms {
		if keep == "" || s.handleOf(m.id) != keep {
			kill = append(kill, m)
		}
	}
	return s.revoke(ctx, userID, kill)
}

// revoke deletes the sessions, then removes from the index the members it
// deleted and those long gone. A member whose key did not exist and that is
// young enough to be a login in progress stays: removing it could leave that
// session, once written, outside its user's index.
func (s *Store) revoke(ctx context.Context, userID string, ms []member) (int, error) {
	if len(ms) == 0 {
		return 0, nil
	}
	dels := make([]redis.Cmder, len(ms))
	for i, m := range ms {
		dels[i] = redis.NewIntCmd(ctx, "del", s.sessionKeyForID(m.id))
	}
	if err := s.send(ctx, dels); err != nil {
		return 0, fmt.Errorf("redisession: revoke sessions of user %q: %w", userID, err)
	}
	now := s.nowMillis()
	n := 0
	var gone []string
	for i, m := range ms {
		if dels[i].(*redis.IntCmd).Val() > 0 {
			n++
			gone = append(gone, m.id)
		} else if !s.pending(m, now) {
			gone = append(gone, m.id)
		}
	}
	s.stats.revokes.Add(uint64(n))
	if len(gone) > 0 {
		if err := s.client.ZRem(ctx, s.indexKey(userID), toArgs(gone)...).Err(); err != nil {
			return n, fmt.Errorf("redisession: unindex sessions of user %q: %w", userID, err)
		}
	}
	return n, nil
}

func toArgs(ss []string) []interface{} {
	out := make([]interface{}, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}
