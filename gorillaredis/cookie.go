package gorillaredis

import (
	"bytes"
	"encoding/base64"
	"strconv"
	"time"

	"github.com/gorilla/securecookie"
	"github.com/gorilla/sessions"

	"github.com/redisession/redisession/core"
)

// incoming is what New learned of the request's cookie.
type incoming struct {
	token string
	// value is the cookie as the request sent it, when the first codec
	// signed it; "" otherwise.
	value string
	// signedAt is when value was signed (unix seconds), 0 if unknown.
	signedAt int64
}

// cookieFor returns the cookie value that presents the session's token. It
// is the request's own cookie when the first codec signed it for this token
// and that signature holds for as long as the cookie can still be used:
// until the next request must come (within IdleTimeout, and the cookie's
// MaxAge when it has one) and at the latest until the session's deadline.
// Then signing again would change nothing a browser or the store checks,
// and costs an HMAC and a serialization; otherwise the first codec signs
// it anew.
func (s *Store) cookieFor(st *state, name string, opts *sessions.Options) (string, error) {
	if in := st.in; in.value != "" && in.signedAt > 0 && in.token == st.cs.Token() &&
		s.signer != nil && len(s.Codecs) > 0 && s.Codecs[0] == securecookie.Codec(s.signer) {
		usable := s.core.Options().IdleTimeout
		if opts.MaxAge > 0 && time.Duration(opts.MaxAge)*time.Second < usable {
			usable = time.Duration(opts.MaxAge) * time.Second
		}
		if d := st.cs.Deadline(); !d.IsZero() {
			if left := d.Sub(s.core.Options().Now()); left < usable {
				usable = left
			}
		}
		// securecookie checks its timestamps on the wall clock.
		if validUntil := time.Unix(in.signedAt, 0).Add(s.window); !validUntil.Before(time.Now().Add(usable)) {
			return in.value, nil
		}
	}
	return s.encodeCookie(name, st.cs.Token())
}

// signedAt returns when securecookie signed value: its encoding is
// base64url("<unix seconds>|<value>|<mac>"), the format securecookie has
// written since its first release. 0 if value does not read so.
func signedAt(value string) int64 {
	b, err := base64.URLEncoding.DecodeString(value)
	if err != nil {
		return 0
	}
	i := bytes.IndexByte(b, '|')
	if i <= 0 {
		return 0
	}
	t, err := strconv.ParseInt(string(b[:i]), 10, 64)
	if err != nil || t <= 0 {
		return 0
	}
	return t
}

// tokenCodecs are the codecs NewStore signs with: securecookie's, each
// with rawToken as its serializer.
func tokenCodecs(keyPairs [][]byte) []securecookie.Codec {
	codecs := securecookie.CodecsFromPairs(keyPairs...)
	for _, c := range codecs {
		if sc, ok := c.(*securecookie.SecureCookie); ok {
			sc.SetSerializer(rawToken{})
		}
	}
	return codecs
}

// rawToken is the serializer of the codecs NewStore builds: the cookie
// signs the token's own 43 characters, not a gob encoding of them, whose
// decoding costs a gob decoder on every request. It still reads a token
// that securecookie's default serializer (gob) encoded, so the cookies of
// codecs an app built itself keep working when they sign with the same
// keys; the other way round they do not, as with any change of serializer.
type rawToken struct{}

// Serialize implements securecookie.Serializer.
func (rawToken) Serialize(src interface{}) ([]byte, error) {
	if t, ok := src.(string); ok {
		return []byte(t), nil
	}
	return securecookie.GobEncoder{}.Serialize(src)
}

// Deserialize implements securecookie.Serializer.
func (rawToken) Deserialize(src []byte, dst interface{}) error {
	if p, ok := dst.(*string); ok {
		if t := string(src); core.ValidToken(t) {
			*p = t
			return nil
		}
	}
	return securecookie.GobEncoder{}.Deserialize(src, dst)
}
