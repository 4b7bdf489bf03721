package core

import (
	"fmt"
	"math"
	"reflect"
	"strconv"
)

// UserIDOf is the one rule every adapter follows to tell whose a session
// is from the value an app stores under Options.UserKey:
//
//   - nil, or a string, integer or fmt.Stringer that formats as "": no
//     user (an anonymous session);
//   - a string: that user;
//   - an integer of any size, signed or not: its decimal form, so 42,
//     int64(42) and uint8(42) all name user "42";
//   - a float64 with an integral value of at most 2^53 in magnitude:
//     its decimal form, because that is what an integer becomes once a
//     JSON serializer has stored and reloaded it (42 and 42.0 are user
//     "42"); any other float64 or a float32 is refused;
//   - a fmt.Stringer (a UUID type, say): its String();
//   - a type of your own whose underlying type is a string or an integer
//     (type UserID int64) and has no String method: as that string or
//     integer;
//   - anything else (a bool, a struct, a slice, a map, []byte) is refused,
//     as is an id longer than MaxUserIDLen bytes.
//
// A refused value makes the adapter's save fail with this error and write
// nothing, rather than keep the session out of its user's index where
// RevokeUser could not find it.
func UserIDOf(v any) (string, error) {
	var id string
	switch x := v.(type) {
	case nil:
		return "", nil
	case string:
		id = x
	case int:
		id = strconv.FormatInt(int64(x), 10)
	case int8:
		id = strconv.FormatInt(int64(x), 10)
	case int16:
		id = strconv.FormatInt(int64(x), 10)
	case int32:
		id = strconv.FormatInt(int64(x), 10)
	case int64:
		id = strconv.FormatInt(x, 10)
	case uint:
		id = strconv.FormatUint(uint64(x), 10)
	case uint8:
		id = strconv.FormatUint(uint64(x), 10)
	case uint16:
		id = strconv.FormatUint(uint64(x), 10)
	case uint32:
		id = strconv.FormatUint(uint64(x), 10)
	case uint64:
		id = strconv.FormatUint(x, 10)
	case float64:
		if x != math.Trunc(x) || math.Abs(x) > 1<<53 {
			return "", fmt.Errorf("redisession: user id %v is not a whole number: store user ids as strings or integers", x)
		}
		if x == 0 {
			x = 0 // not "-0"
		}
		id = strconv.FormatFloat(x, 'f', -1, 64)
	case fmt.Stringer:
		if r := reflect.ValueOf(x); r.Kind() == reflect.Pointer && r.IsNil() {
			return "", nil // a nil *T: no user, and no String() to panic in
		}
		id = x.String()
	default:
		switch r := reflect.ValueOf(v); r.Kind() {
		case reflect.String:
			id = r.String()
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
			id = strconv.FormatInt(r.Int(), 10)
		case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
			id = strconv.FormatUint(r.Uint(), 10)
		default:
			return "", fmt.Errorf("redisession: a user id of type %T: want a string, an integer or a fmt.Stringer", v)
		}
	}
	if len(id) > MaxUserIDLen {
		return "", fmt.Errorf("redisession: user id of %d bytes is over the %d-byte limit", len(id), MaxUserIDLen)
	}
	return id, nil
}
