package core

import "time"

// Defaults used where an Options field is left zero.
const (
	DefaultIdleTimeout   = 30 * time.Minute
	DefaultLifetime      = 24 * time.Hour
	DefaultUserKey       = "user_id"
	DefaultMaxRecordSize = 64 << 10
	DefaultCompressAbove = 512
)

// Options configures a Store. Every zero value means the documented default,
// never "unlimited" or "never expire".
type Options struct {
	// Prefix is put before every key this package writes, so several
	// applications can share one Redis: with Prefix "app1:" sessions live under
	// "app1:session:<id>" and indexes under "app1:user_sessions:<uid>".
	// Default "".
	Prefix string

	// IdleTimeout is the sliding expiry: a session not used for this long is
	// gone. Each load moves the expiry to now+IdleTimeout, capped by the
	// absolute deadline. Zero or negative means 30 minutes.
	IdleTimeout time.Duration

	// Lifetime is the absolute cap, counted from the session's creation,
	// however active it is. Zero or negative means 24 hours.
	Lifetime time.Duration

	// UserKey is the session value that binds a session to a user in the
	// adapters ("user_id" by default). Core only records it; the adapters read
	// it from the session values.
	UserKey string

	// MaxRecordSize limits an encoded record (metadata and payload). A save
	// over the limit fails with ErrTooLarge and leaves the stored session as it
	// was; a stored value over the limit loads as ErrNotFound. Zero or
	// negative means 64 KiB.
	MaxRecordSize int

	// CompressAbove deflates session payloads of at least this many bytes
	// when that makes them smaller (string layout). A 1 KB JSON session
	// typically shrinks by half or more, which is what decides Redis memory
	// per session; the cost is a few microseconds of CPU per write and less
	// per read. Zero means 512 bytes; negative means never compress.
	CompressAbove int

	// Layout selects how sessions are kept: LayoutString (the default), one
	// string per session, or LayoutHash, one hash field per session value
	// with saves that write only what changed. Sessions written in one
	// layout are misses in the other: changing it logs everyone out.
	Layout Layout

	// Eviction says what the store does while the server may evict its
	// keys (maxmemory with a policy other than noeviction): report it
	// (EvictionReport, the default), refuse to serve (EvictionRefuse), or
	// honour a bound session only while its user's index lists it
	// (EvictionFailClosed). The store reads the server's settings on first
	// use and then once a minute.
	Eviction Eviction

	// Durability makes logouts, revokes and renewals wait until the change
	// is on replicas, or in the append-only file, so a failover or a
	// restart cannot undo it; the zero value does not wait. See Durability.
	Durability Durability

	// Sensitive names session values that must never be stored: a save
	// of a session holding a value whose name matches one is refused with
	// ErrSensitive (naming the value) and writes nothing. Names match
	// case-insensitively, ignoring what is not a letter or a digit; a
	// pattern of six characters or more matches anywhere in a name
	// ("password" denies "new_password"), a shorter one only a whole word
	// ("cvv" denies "card_cvv" and "cardCVV", not "cvvalue"). Nil means no
	// check; DefaultSensitive is a list to start from.
	Sensitive []string

	// Now is the clock. Nil means time.Now. Tests set it to move time along
	// with an embedded Redis.
	Now func() time.Time
}

func (o Options) withDefaults() Options {
	if o.IdleTimeout <= 0 {
		o.IdleTimeout = DefaultIdleTimeout
	}
	if o.Lifetime <= 0 {
		o.Lifetime = DefaultLifetime
	}
	if o.UserKey == "" {
		o.UserKey = DefaultUserKey
	}
	if o.CompressAbove == 0 {
		o.CompressAbove = DefaultCompressAbove
	}
	if o.MaxRecordSize <= 0 {
		o.MaxRecordSize = DefaultMaxRecordSize
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}
