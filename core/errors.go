package core

import "errors"

// Sentinel errors callers branch on with errors.Is.
var (
	// ErrNotFound reports that there is no usable session for a token: it never
	// existed, it expired, it was revoked, or the bytes stored under it are not a
	// record this package wrote. Adapters treat it as "start a fresh session".
	ErrNotFound = errors.New("redisession: session not found")

	// ErrInvalidToken reports a token that is not 43 characters of unpadded
	// base64url (32 bytes). Such a token never reaches Redis.
	ErrInvalidToken = errors.New("redisession: malformed session token")

	// ErrTooLarge reports a session whose encoded record exceeds
	// Options.MaxRecordSize. Nothing is written; the stored session is unchanged.
	ErrTooLarge = errors.New("redisession: session too large")

	// ErrNoUser reports an index operation on a session that is bound to no user.
	ErrNoUser = errors.New("redisession: session has no user")
)
