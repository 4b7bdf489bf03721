package gorillaredis

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/gob"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/securecookie"
	"github.com/gorilla/sessions"
	"github.com/redis/go-redis/v9"

	"github.com/redisession/redisession/core"
)

// Migration makes a Store adopt the live sessions of the store it replaces,
// so that swapping stores logs nobody out. It is opt-in (Options.Migrate)
// and bounded in time (Until).
//
// Only a request whose cookie of the session's name does not decode as the
// Store's own takes the legacy path: the cookie is verified as the legacy
// store would (its signature, with KeyPairs and MaxAge, and for RediStore
// the existence of its key), its values are read once, and the session is
// returned with them (Session.IsNew false). The adoption completes at the
// first Save: the session is written as a new one of this Store, bound to
// its user as any other (it is in the user's Sessions, RevokeUser ends it),
// this Store's cookie replaces the legacy one under the same name,
// Core().CountAdopted counts it, and the legacy session is ended: its
// RediStore key no longer holds its values and expires within 30 seconds
// (see KeepLegacy), and a CookieStore cookie is marked adopted in this
// Store's Redis (<prefix>adopted:<sha256 of the cookie>, expiring at Until
// or the legacy MaxAge, whichever comes first), so that a copy of it is no
// session. A logout (MaxAge < 0) before the adoption completes ends the
// legacy session the same way. A cookie that fails the legacy store's
// checks is no session, as any unknown cookie. The legacy cookie must have
// the session's name: its signature covers the name.
//
// A legacy session that verifies but cannot be kept (values the Serializer
// cannot encode, a user key core.UserIDOf refuses, a payload over
// core.Options.MaxRecordSize, a value the legacy serializer cannot decode,
// a From that does not match the cookie) makes New return an error that
// says so, with a new session whose Save returns the same error and writes
// nothing: the legacy session is left as it was, so fixing the
// configuration (gob.Register, say) still adopts it.
//
// Concurrency. Two requests carrying the same legacy cookie at once (two
// tabs, a page and its XHRs after the swap) may both read it, but one
// adoption only wins: the Save that first replaces the legacy key's values
// (RediStore) or sets the claim key (CookieStore, KeepLegacy) keeps its
// session and sends its cookie; the other deletes the session it had just
// written and, for the rest of the request, its Saves write nothing and
// send no cookie, so the browser keeps the winner's. No second session is
// left bound. A request that arrives with the legacy cookie within 30
// seconds of an adoption (sent before the browser had the new cookie) gets
// a new session that stays as quiet: it cannot replace the new cookie.
// The price: what such a request changes (a login, a logout, a value) is
// not saved; the browser's next request, with the new cookie, is served as
// usual.
//
// Round trips, on top of a request's usual ones: none for a request with no
// cookie or with this Store's cookie, and none at all once Until has
// passed (no command, no decode). On a legacy cookie: CookieStore, 1 in New
// (GET of the claim) and 1 in Save (SET NX of the claim) besides the
// normal save of a new session; RediStore, 1 in New (GET of the legacy
// key) and 1 in Save (a one-key script that replaces its values), or with
// KeepLegacy 2 in New (GET of the claim, then of the legacy key) and 1 in
// Save (SET NX of the claim). A forged or tampered legacy cookie costs
// none: it fails its signature before Redis is asked. A loser of the race
// above also pays the delete of the session it wrote.
//
// Sessions of the legacy store that are not used during the window are
// not adopted: set Until no earlier than the swap plus the legacy store's
// MaxAge, when every legacy session has either come back or expired. Until
// a legacy session is adopted it is in no user's index, so RevokeUser does
// not reach it. A legacy cookie over 4096 bytes (securecookie's default
// MaxLength) is refused: one the legacy store wrote only because the app
// raised its MaxLength is not adopted.
type Migration struct {
	// Until ends the migration: from then on the legacy path is off and
	// costs nothing. Zero means off.
	Until time.Time
	// From names the legacy store: FromCookieStore (the zero value) or
	// FromRediStore.
	From Legacy
	// KeyPairs are the legacy store's key pairs, as its constructor took
	// them (a hash key, then optionally an encryption key, per pair;
	// securecookie.CodecsFromPairs). At least one is required: a legacy
	// cookie is never adopted unverified.
	KeyPairs [][]byte
	// MaxAge is the legacy store's MaxAge in seconds: a legacy cookie
	// signed longer ago than that is refused, as the legacy store refused
	// it. Zero means 30 days, the default of both CookieStore and
	// redistore.
	MaxAge int
	// Client is the Redis the legacy RediStore kept its sessions in. Nil
	// means the Store's own client. FromRediStore only.
	Client redis.UniversalClient
	// KeyPrefix is the legacy RediStore's key prefix (SetKeyPrefix): a
	// session with id ID is the key KeyPrefix+ID. Empty means "session_",
	// redistore's and gin-contrib/sessions/redis's default. This Store's
	// own core.Options.Prefix does not apply to it. FromRediStore only.
	KeyPrefix string
	// Serializer decodes the legacy RediStore's values. Nil means
	// GobSerializer, which reads redistore.GobSerializer (the default);
	// JSONSerializer reads redistore.JSONSerializer. FromRediStore only.
	Serializer Serializer
	// KeepLegacy leaves the legacy RediStore's key as it is on adoption,
	// to expire by its own TTL (another application still reads it, say);
	// a claim key in this Store's Redis, as for a CookieStore cookie, then
	// keeps the legacy cookie from being adopted twice. By default the
	// adoption replaces the key's values with a mark that expires within
	// 30 seconds. FromRediStore only.
	KeepLegacy bool
}

// Legacy names a store a Migration adopts sessions from.
type Legacy int

const (
	// FromCookieStore adopts the cookies of gorilla/sessions' CookieStore
	// (and gin-contrib/sessions/cookie, built on it): the values are in the
	// cookie, gob-encoded and signed.
	FromCookieStore Legacy = iota
	// FromRediStore adopts the sessions of github.com/boj/redistore (and
	// gin-contrib/sessions/redis, built on it): the cookie carries a signed
	// session id, the values are in Redis under KeyPrefix+id.
	FromRediStore
)

// String returns the legacy store's name.
func (l Legacy) String() string {
	switch l {
	case FromCookieStore:
		return "CookieStore"
	case FromRediStore:
		return "RediStore"
	}
	return fmt.Sprintf("Legacy(%d)", int(l))
}

// defaultLegacyMaxAge is CookieStore's and redistore's default MaxAge, and
// securecookie's: 30 days.
const defaultLegacyMaxAge = 86400 * 30

// migration is a Migration ready for use.
type migration struct {
	until  time.Time
	from   Legacy
	codecs []securecookie.Codec
	window time.Duration // how long a legacy signature holds
	client redis.UniversalClient
	prefix string
	ser    Serializer
	keep   bool
}

// newMigration checks m and prepares it; nil for a migration that is off.
func newMigration(m *Migration, client redis.UniversalClient) (*migration, error) {
	if m == nil || m.Until.IsZero() {
		return nil, nil
	}
	if len(m.KeyPairs) == 0 {
		return nil, errors.New("gorillaredis: Migration.KeyPairs is empty: the legacy store's key pairs are needed to verify its cookies")
	}
	for i := 0; i < len(m.KeyPairs); i += 2 {
		if len(m.KeyPairs[i]) == 0 {
			return nil, fmt.Errorf("gorillaredis: Migration.KeyPairs: hash key %d is empty", i/2+1)
		}
	}
	if m.From != FromCookieStore && m.From != FromRediStore {
		return nil, fmt.Errorf("gorillaredis: Migration.From %d names no legacy store", m.From)
	}
	mg := &migration{
		until: m.Until, from: m.From, client: m.Client, prefix: m.KeyPrefix,
		ser: m.Serializer, keep: m.KeepLegacy,
	}
	age := m.MaxAge
	if age <= 0 {
		age = defaultLegacyMaxAge
	}
	mg.window = time.Duration(age) * time.Second
	mg.codecs = securecookie.CodecsFromPairs(m.KeyPairs...)
	for _, c := range mg.codecs {
		if sc, ok := c.(*securecookie.SecureCookie); ok {
			sc.MaxAge(age)
			sc.SetSerializer(rawBytes{})
		}
	}
	if mg.client == nil {
		mg.client = client
	}
	if mg.prefix == "" {
		mg.prefix = "session_"
	}
	if mg.ser == nil {
		mg.ser = GobSerializer{}
	}
	return mg, nil
}

// rawBytes is the serializer of the legacy codecs: it hands over the
// verified payload as it is, so that a payload that fails to decode is told
// apart from a cookie that fails its signature.
type rawBytes struct{}

// Serialize implements securecookie.Serializer; the legacy codecs only
// decode.
func (rawBytes) Serialize(interface{}) ([]byte, error) {
	return nil, errors.New("gorillaredis: the legacy codecs only decode")
}

// Deserialize implements securecookie.Serializer.
func (rawBytes) Deserialize(src []byte, dst interface{}) error {
	p, ok := dst.(*[]byte)
	if !ok {
		return fmt.Errorf("gorillaredis: legacy payload into %T", dst)
	}
	*p = append([]byte(nil), src...)
	return nil
}

// adoption is what Save must do to complete an adoption.
type adoption struct {
	mg *migration
	// legacy is the legacy key that Save deletes, and whose deletion is the
	// claim (RediStore); "" when claim is the claim.
	legacy string
	// claim is the key in this Store's Redis whose SET NX is the claim
	// (CookieStore, KeepLegacy).
	claim string
}

// migrating returns the migration while its window is open, nil otherwise.
func (s *Store) migrating() *migration {
	if s.migrate == nil || !s.core.Options().Now().Before(s.migrate.until) {
		return nil
	}
	return s.migrate
}

// claimKey is the key in this Store's Redis that marks the legacy session
// id (the cookie value, or the legacy key) as adopted.
func (s *Store) claimKey(id string) string {
	sum := sha256.Sum256([]byte(id))
	return s.core.Options().Prefix + "adopted:" + hex.EncodeToString(sum[:])
}

// adopt is New's legacy path, for a request whose cookie did not decode as
// this Store's. It reports whether the cookie verified as the legacy
// store's; when it did, st and session are set up, with the session's
// values or with the error that keeps it from being adopted.
func (s *Store) adopt(r *http.Request, mg *migration, name string, session *sessions.Session, st *state) (bool, error) {
	c, err := r.Cookie(name)
	if err != nil || c.Value == "" {
		return false, nil
	}
	var raw []byte
	if securecookie.DecodeMulti(name, c.Value, &raw, mg.codecs...) != nil {
		return false, nil // fails the legacy store's checks: no session
	}
	ctx := r.Context()
	values := make(map[interface{}]interface{})
	ad := &adoption{mg: mg}
	fail := func(err error) (bool, error) {
		st.cs = s.core.NewSession(device(r))
		st.err = err
		session.ID = st.cs.Handle()
		return true, err
	}
	// claimed reports whether the claim key marks the legacy session as
	// adopted already.
	claimed := func(key string) (string, bool, error) {
		v, err := s.client.Get(ctx, key).Result()
		if errors.Is(err, redis.Nil) {
			return "", false, nil
		}
		return v, err == nil, err
	}
	// quiet is the answer to a legacy cookie adopted a moment ago: a
	// request the browser sent before it had the new cookie gets a new
	// session whose Saves send no cookie, so that it cannot replace the
	// new one.
	quiet := func() (bool, error) {
		st.cs = s.core.NewSession(device(r))
		st.yielded = true
		session.ID = st.cs.Handle()
		return true, nil
	}
	switch mg.from {
	case FromCookieStore:
		ad.claim = s.claimKey(c.Value)
		if v, taken, err := claimed(ad.claim); err != nil {
			return fail(fmt.Errorf("gorillaredis: migration: read the adoption claim: %w", err))
		} else if taken {
			if s.recent(v) {
				return quiet()
			}
			return false, nil // adopted already: a copy of the cookie is no session
		}
		if err := (GobSerializer{}).Deserialize(raw, values); err != nil {
			return fail(fmt.Errorf("gorillaredis: migration: a cookie signed with the legacy keys is no CookieStore session "+
				"(a type not registered with gob? is Migration.From right?): %w", err))
		}
	case FromRediStore:
		var id string
		if err := gob.NewDecoder(bytes.NewReader(raw)).Decode(&id); err != nil || id == "" {
			return fail(fmt.Errorf("gorillaredis: migration: a cookie signed with the legacy keys carries no RediStore session id "+
				"(is Migration.From right?): %v", err))
		}
		key := mg.prefix + id
		if mg.keep {
			ad.claim = s.claimKey(key)
			if v, taken, err := claimed(ad.claim); err != nil {
				return fail(fmt.Errorf("gorillaredis: migration: read the adoption claim: %w", err))
			} else if taken {
				if s.recent(v) {
					return quiet()
				}
				return false, nil
			}
		} else {
			ad.legacy = key
		}
		b, err := mg.client.Get(ctx, key).Bytes()
		switch {
		case errors.Is(err, redis.Nil):
			return false, nil // logged out, expired or adopted: no session, as the legacy store had
		case err != nil:
			return fail(fmt.Errorf("gorillaredis: migration: read the legacy session: %w", err))
		case bytes.HasPrefix(b, []byte(adoptedMark)):
			// Adopted a moment ago: the key holds the mark until it expires.
			if s.recent(string(b)) {
				return quiet()
			}
			return false, nil
		}
		if max := s.core.Options().MaxRecordSize; len(b) > max {
			return fail(fmt.Errorf("gorillaredis: migration: legacy session of %d bytes: %w (limit %d)", len(b), core.ErrTooLarge, max))
		}
		if err := mg.ser.Deserialize(b, values); err != nil {
			return fail(fmt.Errorf("gorillaredis: migration: a legacy RediStore session cannot be read: %w", err))
		}
	}
	st.cs = s.core.NewSession(device(r))
	session.Values = values
	// Encode now what Save will write, so that values this Store cannot
	// keep fail here, before anything is written or removed.
	if err := s.sync(st, session); err != nil {
		session.Values = make(map[interface{}]interface{})
		return fail(fmt.Errorf("gorillaredis: migration: the legacy session cannot be kept: %w", err))
	}
	size := len(st.cs.Data)
	for k, v := range st.cs.Fields {
		size += len(k) + len(v)
	}
	if max := s.core.Options().MaxRecordSize; size > max {
		session.Values = make(map[interface{}]interface{})
		return fail(fmt.Errorf("gorillaredis: migration: the legacy session encodes to %d bytes: %w (limit %d)", size, core.ErrTooLarge, max))
	}
	st.adopt = ad
	session.IsNew = false
	session.ID = st.cs.Handle()
	return true, nil
}

// adoptedMark starts the value that marks a legacy session as adopted, in
// its claim key or in its legacy key, whose values it replaces; the unix
// milliseconds of the adoption follow.
const adoptedMark = "\x00redisession:adopted:"

// adoptGrace is how long after an adoption a request carrying the adopted
// legacy cookie is taken for one the browser sent before the response that
// gave it the new cookie: such a request gets a new session whose Saves send
// no cookie (see adopt). It is also how long the legacy key keeps the mark.
const adoptGrace = 30 * time.Second

// replaceLegacy replaces the values of the legacy key KEYS[1] by the mark
// ARGV[2], expiring in ARGV[3] milliseconds, and returns 1; or returns 0,
// changing nothing, when the key is gone or holds a mark (ARGV[1]) already.
// One key, so it runs on Cluster too.
const replaceLegacy = `local v = redis.call('GET', KEYS[1])
if not v or string.sub(v, 1, string.len(ARGV[1])) == ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return 1`

// recent reports whether the mark v records an adoption less than
// adoptGrace ago.
func (s *Store) recent(v string) bool {
	ms, err := strconv.ParseInt(strings.TrimPrefix(v, adoptedMark), 10, 64)
	if err != nil {
		return false
	}
	return s.core.Options().Now().Sub(time.UnixMilli(ms)) < adoptGrace
}

// claimAdoption completes an adoption after its session was written: it
// ends the legacy session, and reports whether this request won it. It
// wins by replacing the legacy key's values with the mark, or by setting
// the claim key, first.
func (s *Store) claimAdoption(ctx context.Context, ad *adoption) (bool, error) {
	now := s.core.Options().Now()
	mark := adoptedMark + strconv.FormatInt(now.UnixMilli(), 10)
	if ad.legacy != "" {
		n, err := ad.mg.client.Eval(ctx, replaceLegacy, []string{ad.legacy},
			adoptedMark, mark, adoptGrace.Milliseconds()).Int()
		if err != nil {
			return false, fmt.Errorf("gorillaredis: migration: end the legacy session: %w", err)
		}
		return n == 1, nil
	}
	ttl := ad.mg.until.Sub(now)
	if ttl > ad.mg.window {
		ttl = ad.mg.window
	}
	if ttl < adoptGrace {
		ttl = adoptGrace
	}
	ok, err := s.client.SetNX(ctx, ad.claim, mark, ttl).Result()
	if err != nil {
		return false, fmt.Errorf("gorillaredis: migration: claim the legacy session: %w", err)
	}
	return ok, nil
}

// completeAdoption is Save's last step for an adopted session just written:
// claim it, count it, or, when another request adopted it first, delete the
// session written here. It reports whether the cookie may be sent.
func (s *Store) completeAdoption(ctx context.Context, st *state) (bool, error) {
	ad := st.adopt
	won, err := s.claimAdoption(ctx, ad)
	if err == nil && won {
		st.adopt = nil
		s.core.CountAdopted()
		return true, nil
	}
	// Lost, or unknown: the session written here must not stay bound.
	if derr := s.core.Delete(ctx, st.cs); derr != nil && err == nil {
		err = derr
	}
	if err == nil {
		st.adopt, st.yielded = nil, true
	}
	return false, err
}
