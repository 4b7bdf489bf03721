package core

import "sync/atomic"

// counters are the Store's running totals, one atomic each.
type counters struct {
	loads, hits, stale, rejected, malformed  atomic.Uint64
	creates, saves, renews, deletes, revokes atomic.Uint64
	opaque, adopted                          atomic.Uint64
}

// Counters are totals since the Store was made, for metrics and alerting: a
// rising Rejected or Stale rate is what token guessing looks like.
type Counters struct {
	Loads     uint64 // Load and Peek calls with a well-formed token
	Hits      uint64 // loads that found a live session
	Stale     uint64 // well-formed tokens with no live session (unknown, expired, revoked)
	Rejected  uint64 // malformed tokens, refused before Redis
	Malformed uint64 // keys holding bytes that are not a record, or too many
	Creates   uint64 // new sessions written
	Saves     uint64 // writes of any session
	Renews    uint64 // token regenerations
	Deletes   uint64 // sessions deleted by Delete or DeleteToken
	Revokes   uint64 // sessions deleted through a user's index
	Opaque    uint64 // payloads the adapter could not read and stored as they were (see CountOpaque)
	Adopted   uint64 // sessions taken over from the store being replaced (see CountAdopted)
}

// CountOpaque records a payload that the adapter saved without being able
// to read it (scsredis: bytes its Codec cannot decode). Such a session is
// kept byte for byte but bound to no user, so it is in no device list: a
// rising count means the adapter is misconfigured.
func (s *Store) CountOpaque() { s.stats.opaque.Add(1) }

// CountMalformed records a payload an adapter found and could not use as a
// session, such as a record of the store being replaced that its codec
// cannot decode: it counts in Counters().Malformed, as keys of ours that
// hold no record do.
func (s *Store) CountMalformed() { s.stats.malformed.Add(1) }

// CountAdopted records a session an adapter took over from the store it
// replaces (a migration): the user stayed logged in through the swap. Its
// rate falls to zero once every live legacy session has been adopted or has
// expired, which is when the migration can be switched off.
func (s *Store) CountAdopted() { s.stats.adopted.Add(1) }

// Counters returns a snapshot of the store's counters.
func (s *Store) Counters() Counters {
	c := &s.stats
	return Counters{
		Loads: c.loads.Load(), Hits: c.hits.Load(), Stale: c.stale.Load(),
		Rejected: c.rejected.Load(), Malformed: c.malformed.Load(),
		Creates: c.creates.Load(), Saves: c.saves.Load(), Renews: c.renews.Load(),
		Deletes: c.deletes.Load(), Revokes: c.revokes.Load(), Opaque: c.opaque.Load(),
		Adopted: c.adopted.Load(),
	}
}
