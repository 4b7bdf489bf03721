package core

import "time"

// Device is what a session records about the client that created it.
type Device struct {
	UserAgent  string
	RemoteAddr string
}

// Longest device strings kept; longer ones are cut, not refused.
const (
	maxUserAgent  = 512
	maxRemoteAddr = 128
	// MaxUserIDLen is the longest user id a session can be bound to.
	MaxUserIDLen = 512
)

// Session is one session as an adapter sees it between load and save. Set
// Data (or Fields, in the hash layout) and UserID, then Save. A Session is
// not safe for concurrent use.
type Session struct {
	// Data is the adapter's opaque payload (string layout).
	Data []byte
	// Fields are the session's values, one hash field each (hash layout;
	// see LayoutHash). Replace a value rather than editing its bytes in place.
	Fields map[string][]byte
	// UserID binds the session to a user's index when saved; "" is anonymous.
	UserID string

	token      string
	handle     string // hashToken(token), computed once
	created    int64
	lastSeen   int64
	deadline   int64
	userAgent  string
	remoteAddr string

	pred        string            // the retired session this one succeeds (see Store.Successor)
	predOwner   string            // the user pred is indexed under
	stored      bool              // exists in Redis as of the last load or save
	gone        bool              // found deleted or revoked by a save: it stays dead
	savedData   string            // Data as stored (a string: immutable, so the adapter cannot change it by editing Data in place)
	savedUID    string            // UserID as stored
	layout      layout            // its store's: Data or Fields
	savedFields map[string]string // Fields as stored (hash layout)
	expiresAt   int64             // the key's expiry as of the last load or save, unix ms
}

// Token returns the session's secret token: the value that goes in a cookie.
// Never log it; log Handle instead.
func (x *Session) Token() string { return x.token }

// Handle returns the session's public handle (see the package function Handle).
func (x *Session) Handle() string { return x.handle }

func (x *Session) setToken(token string) {
	x.token, x.handle = token, hashToken(token)
}

// IsNew reports whether the session has not been written to Redis yet.
func (x *Session) IsNew() bool { return !x.stored }

// Modified reports whether a Save would write anything.
func (x *Session) Modified() bool {
	if !x.stored || x.UserID != x.savedUID {
		return true
	}
	return x.layout.modified(x)
}

// Created returns when the session was created.
func (x *Session) Created() time.Time { return fromMillis(x.created) }

// LastSeen returns when the session was last written.
func (x *Session) LastSeen() time.Time { return fromMillis(x.lastSeen) }

// Deadline returns the absolute end of the session's life.
func (x *Session) Deadline() time.Time { return fromMillis(x.deadline) }

// ExpiresAt returns when the session key expires unless used again, as of the
// last load or save; zero for a session not yet stored.
func (x *Session) ExpiresAt() time.Time {
	if x.expiresAt == 0 {
		return time.Time{}
	}
	return fromMillis(x.expiresAt)
}

// Device returns the device facts recorded at creation.
func (x *Session) Device() Device { return Device{x.userAgent, x.remoteAddr} }

// ShortenDeadline moves the absolute deadline earlier, never later; adapters
// whose framework keeps its own lifetime (scs) use it to keep the two in step.
func (x *Session) ShortenDeadline(t time.Time) {
	if ms := millis(t); ms < x.deadline {
		x.deadline = ms
	}
}
