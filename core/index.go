package core

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

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

// member is one entry of a user's index: a session id and its deadline (unix ms).
type member struct {
	id    string
	score int64
}

// members reads a user's index after pruning what is past its deadline: one
// round trip.
func (s *Store) members(ctx context.Context, userID string) ([]member, error) {
	key := s.indexKey(userID)
	now := s.nowMillis()
	rng := zrangeAllCmd(ctx, key)
	if err := s.send(ctx, []redis.Cmder{zremBeforeCmd(ctx, key, now), rng}); err != nil {
		return nil, fmt.Errorf("redisession: read index of user %q: %w", userID, err)
	}
	out := make([]member, 0, len(rng.Val()))
	for _, z := range rng.Val() {
		id, ok := z.Member.(string)
		if !ok || strings.HasPrefix(id, markerPrefix) || strings.HasPrefix(id, retiredPrefix) {
			continue
		}
		out = append(out, member{id: id, score: int64(z.Score)})
	}
	return out, nil
}

// UserSessions lists a user's live sessions with their device facts, most
// recently active first, in two round trips whatever their number (index,
// then every record in one pipeline). Entries that name a session of
// another user, one past its deadline, or (on one node) one that is gone
// are dropped from the index on the way (a third round trip, only then).
// On Cluster an entry whose session key is missing is left: it may be a
// login or renewal whose session is still on its way (Cluster writes the
// index first), and dropping it would leave that session outside its index.
// Such entries go when their deadline passes or at the next revoke.
//
// An empty userID, here and in every revoke by user, names no user and
// returns ErrNoUser.
func (s *Store) UserSessions(ctx context.Context, userID string) ([]SessionInfo, error) {
	if userID == "" {
		return nil, ErrNoUser
	}
	ms, err := s.members(ctx, userID)
	if err != nil || len(ms) == 0 {
		return []SessionInfo{}, err
	}
	gets := make([]*redis.StringCmd, len(ms))
	ttls := make([]*redis.DurationCmd, len(ms))
	cmds := make([]redis.Cmder, 0, 2*len(ms))
	for i, m := range ms {
		key := s.sessionKeyForID(m.id)
		gets[i] = s.layout.meta(ctx, key)
		ttls[i] = pttlCmd(ctx, key)
		cmds = append(cmds, gets[i], ttls[i])
	}
	// A tombstone (or another program's key) answers WRONGTYPE: skipped below.
	if err := s.send(ctx, cmds); err != nil && !isWrongType(err) {
		return nil, fmt.Errorf("redisession: list sessions of user %q: %w", userID, err)
	}
	now := s.nowMillis()
	out := make([]SessionInfo, 0, len(ms))
	var stale, missing []string
	for i, m := range ms {
		raw, err := gets[i].Result()
		if err == redis.Nil {
			missing = append(missing, m.id)
			continue
		}
		if err != nil { // a tombstone, or not ours
			continue
		}
		rec, _, err := decodeRecordString(raw)
		if err != nil || rec.userID != userID || now >= rec.deadline {
			stale = append(stale, m.id)
			continue
		}
		info := s.info(m.id, rec, ttls[i].Val(), now)
		out = append(out, info)
	}
	if err := s.prune(ctx, userID, stale, missing); err != nil {
		return nil, fmt.Errorf("redisession: prune index of user %q: %w", userID, err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].LastSeen.After(out[j].LastSeen) })
	return out, nil
}

// prune drops stale entries from userID's index, and the missing ones
// (entries found without a session) where that is safe: on one node, where
// a session and its entry are written together, in the same script that
// checks the key is still missing.
func (s *Store) prune(ctx context.Context, userID string, stale, missing []string) error {
	if s.ordered {
		missing = nil
	}
	if len(stale)+len(missing) == 0 {
		return nil
	}
	if len(missing) == 0 {
		return s.client.Process(ctx, zremCmd(ctx, s.indexKey(userID), toArgs(stale)...))
	}
	keys := make([]string, 0, 1+len(missing))
	keys = append(keys, s.indexKey(userID))
	args := make([]interface{}, 0, 1+len(stale)+len(missing))
	args = append(args, len(stale))
	for _, id := range stale {
		args = append(args, id)
	}
	for _, id := range missing {
		keys = append(keys, s.sessionKeyForID(id))
		args = append(args, id)
	}
	return s.send(ctx, []redis.Cmder{s.run(ctx, pruneScript, keys, args...)})
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
// user can never end someone else's session by guessing, nor through an
// index entry left pointing at another user's session: the session's own
// record must name the user. When it returns nil the session is dead and a
// renewal of it in flight cannot bring it back under a new token. One round
// trip on one node (one script over the index and the session); on Cluster
// the three of RevokeUser.
func (s *Store) RevokeSession(ctx context.Context, userID, handle string) error {
	if !ValidHandle(handle) {
		return fmt.Errorf("%w: malformed handle", ErrNotFound)
	}
	n, err := s.revoke(ctx, userID, "one", handle)
	if err == nil && n == 0 {
		err = fmt.Errorf("%w: session %s of user %q", ErrNotFound, handle, userID)
	}
	return err
}

// RevokeUser ends every session of the user (password change, disabled
// account, admin action) and returns how many it ended. It costs three round
// trips whatever the number of sessions and never scans the keyspace.
//
// Every session that is alive when it starts, or whose login or renewal has
// reached Redis by then, is dead when it returns, and a request still in
// flight with one of them cannot write it back, under its token or a new
// one. A login whose first write reaches Redis after the revoke began is
// unaffected.
func (s *Store) RevokeUser(ctx context.Context, userID string) (int, error) {
	return s.revoke(ctx, userID, "all", "")
}

// RevokeOthers ends every session of the user except the one with handle
// keep ("log out everywhere else") and returns how many it ended, with
// RevokeUser's guarantee for the others.
func (s *Store) RevokeOthers(ctx context.Context, userID, keep string) (int, error) {
	return s.revoke(ctx, userID, "all", keep)
}

// revoke ends the sessions in userID's index that mode names ("one": the
// id; "all": every one but the id) in three round trips (one for "one" on
// one node: revokeOne):
//
//  1. one script on the index prunes it, marks every session to end as
//     revoked (the member "\x00"+id) and returns them. From here on a
//     renewal of one of them is refused where it indexes its new token.
//  2. one script per session deletes it if its record names the user; where
//     there is no key it leaves a tombstone until the entry's deadline, so a
//     login or renewal whose index entry was written but whose session is
//     still on its way cannot create it.
//  3. the entries are removed from the index with their marks: a renewal
//     that comes later needs its old session, which is gone, and never
//     deletes a tombstone. A revoke cut short before this step leaves marks
//     behind; they go with their deadline.
func (s *Store) revoke(ctx context.Context, userID, mode, id string) (int, error) {
	if userID == "" {
		return 0, ErrNoUser
	}
	idx := s.indexKey(userID)
	if mode == "one" && !s.ordered {
		return s.revokeOne(ctx, userID, id)
	}
	begin := s.run(ctx, revokeBeginScript, []string{idx}, s.nowMillis(), mode, id)
	if err := s.send(ctx, []redis.Cmder{begin}); err != nil {
		return 0, fmt.Errorf("redisession: revoke sessions of user %q: %w", userID, err)
	}
	pairs, err := begin.StringSlice()
	if err != nil {
		return 0, fmt.Errorf("redisession: revoke sessions of user %q: %w", userID, err)
	}
	if len(pairs) == 0 {
		return 0, nil
	}
	kills := make([]redis.Cmder, 0, len(pairs)/2)
	for i := 0; i+1 < len(pairs); i += 2 {
		kills = append(kills, s.run(ctx, killScript, []string{s.sessionKeyForID(pairs[i])}, userID, pairs[i+1]))
	}
	if err := s.send(ctx, kills); err != nil {
		return 0, fmt.Errorf("redisession: revoke sessions of user %q: %w", userID, err)
	}
	n := 0
	done := make([]interface{}, 0, len(pairs))
	for i, k := range kills {
		// Each session is now deleted, a tombstone, or not this user's: a
		// renewal of it fails on its own (it needs the old session, and
		// never deletes a tombstone), so the mark goes with the entry.
		done = append(done, pairs[2*i], markerPrefix+pairs[2*i])
		if v, _ := k.(*redis.Cmd).Int64(); v == 1 {
			n++
		}
	}
	s.stats.revokes.Add(uint64(n))
	if s.opts.OnEvent != nil || s.opts.Broadcast {
		events := make([]Event, 0, n)
		for i, k := range kills {
			if v, _ := k.(*redis.Cmd).Int64(); v == 1 {
				events = append(events, Event{Kind: EventRevoke, Handle: pairs[2*i], UserID: userID})
			}
		}
		s.emit(ctx, events...)
	}
	if err := s.client.Process(ctx, zremCmd(ctx, idx, done...)); err != nil {
		return n, fmt.Errorf("redisession: unindex sessions of user %q: %w", userID, err)
	}
	keys := []string{idx}
	for i := 0; i < len(pairs); i += 2 {
		keys = append(keys, s.sessionKeyForID(pairs[i]))
	}
	if err := s.durable(ctx, keys...); err != nil {
		return n, fmt.Errorf("redisession: revoke sessions of user %q: %w", userID, err)
	}
	return n, nil
}

// revokeOne is revoke of the one session id on one node: one script, one
// round trip (see revokeOneScript). It needs no revocation marker: a
// renewal runs wholly before the script (then the id is gone from the
// index: nothing to revoke) or wholly after it (then the old session is
// gone: the renewal is refused).
func (s *Store) revokeOne(ctx context.Context, userID, id string) (int, error) {
	idx, key := s.indexKey(userID), s.sessionKeyForID(id)
	cmd := s.run(ctx, revokeOneScript, []string{idx, key}, s.nowMillis(), id, userID)
	if err := s.send(ctx, []redis.Cmder{cmd}); err != nil {
		return 0, fmt.Errorf("redisession: revoke session %s of user %q: %w", id, userID, err)
	}
	v, _ := cmd.Int64()
	if v == -2 {
		return 0, nil // not in the index: nothing was ended
	}
	n := 0
	if v == 1 {
		n = 1
	}
	s.stats.revokes.Add(uint64(n))
	if n == 1 {
		s.emit(ctx, Event{Kind: EventRevoke, Handle: id, UserID: userID})
	}
	if err := s.durable(ctx, idx, key); err != nil {
		return n, fmt.Errorf("redisession: revoke session %s of user %q: %w", id, userID, err)
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
