package core_test

import (
	"context"
	"errors"
	"math"
	"net/netip"
	"strings"
	"testing"

	"github.com/redisession/redisession/core"
	"github.com/redisession/redisession/internal/redistest"
)

type accountID int64

type handleName string

type uuidLike [2]byte

func (u uuidLike) String() string { return "u-" + string(u[:]) }

// TestUserIDOf attacks the one rule for who a session's user is: every
// integer type names the same user as its decimal string, a reloaded JSON
// number names the user it named before, and what names no one clearly
// (bools, fractions, structs, a nil pointer) is refused or anonymous,
// never formatted into a user such as "true".
func TestUserIDOf(t *testing.T) {
	var nilUUID *uuidLike
	named := []struct {
		v    any
		want string
	}{
		{nil, ""}, {"", ""}, {"alice", "alice"},
		{42, "42"}, {int8(42), "42"}, {int16(42), "42"}, {int32(42), "42"}, {int64(42), "42"},
		{uint(42), "42"}, {uint8(42), "42"}, {uint16(42), "42"}, {uint32(42), "42"}, {uint64(42), "42"},
		{int64(math.MinInt64), "-9223372036854775808"}, {uint64(math.MaxUint64), "18446744073709551615"},
		{float64(42), "42"}, {float64(1 << 53), "9007199254740992"}, {math.Copysign(0, -1), "0"},
		{accountID(7), "7"}, {handleName("bob"), "bob"},
		{uuidLike{'a', 'b'}, "u-ab"}, {nilUUID, ""},
		{netip.MustParseAddr("10.0.0.1"), "10.0.0.1"},
		{strings.Repeat("x", core.MaxUserIDLen), strings.Repeat("x", core.MaxUserIDLen)},
	}
	for _, c := range named {
		got, err := core.UserIDOf(c.v)
		if err != nil || got != c.want {
			t.Errorf("UserIDOf(%#v) = %q, %v; want %q", c.v, got, err, c.want)
		}
	}
	refused := []any{
		true, false, 1.5, float64(1<<53) * 2, math.NaN(), math.Inf(1), float32(42),
		[]byte("alice"), struct{ ID int }{1}, map[string]any{"id": 1}, []string{"a"},
		strings.Repeat("x", core.MaxUserIDLen+1),
	}
	for _, v := range refused {
		if got, err := core.UserIDOf(v); err == nil {
			t.Errorf("UserIDOf(%#v) = %q, nil; want an error", v, got)
		} else if !strings.HasPrefix(err.Error(), "redisession: ") {
			t.Errorf("UserIDOf(%#v): error %q does not say where it comes from", v, err)
		}
	}
}

// TestEmptyUserNamesNoOne: "" is no user's id, so no operation by user id
// reads or writes the index key it would name.
func TestEmptyUserNamesNoOne(t *testing.T) {
	srv := redistest.Start(t)
	store := core.New(srv.NewClient(t, nil), core.Options{Prefix: srv.Prefix, Now: srv.Now})
	ctx := context.Background()
	if _, err := store.UserSessions(ctx, ""); !errors.Is(err, core.ErrNoUser) {
		t.Errorf("UserSessions(\"\") = %v, want ErrNoUser", err)
	}
	if _, err := store.RevokeUser(ctx, ""); !errors.Is(err, core.ErrNoUser) {
		t.Errorf("RevokeUser(\"\") = %v, want ErrNoUser", err)
	}
	if _, err := store.RevokeOthers(ctx, "", core.Handle(core.NewToken())); !errors.Is(err, core.ErrNoUser) {
		t.Errorf("RevokeOthers(\"\") = %v, want ErrNoUser", err)
	}
	if err := store.RevokeSession(ctx, "", core.Handle(core.NewToken())); !errors.Is(err, core.ErrNoUser) {
		t.Errorf("RevokeSession(\"\") = %v, want ErrNoUser", err)
	}
	if keys := srv.Keys(t, srv.NewClient(t, nil)); len(keys) != 0 {
		t.Errorf("operations on user \"\" left keys %v", keys)
	}
}
