package core_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/redisession/redisession/core"
	"github.com/redisession/redisession/internal/redistest"
)

// TestErrorsNameNoToken: the store logs nothing, and every error it returns
// names a session by its handle, never by its token: with Redis down, and
// with malformed data under a session key.
func TestErrorsNameNoToken(t *testing.T) {
	{
		{
			ctx := context.Background()
			srv := redistest.Start(t)
			opts := core.Options{Prefix: srv.Prefix, Now: srv.Now, MaxRecordSize: 1024}
			up := core.New(srv.NewClient(t, nil), opts)
			down := core.New(redistest.Down(t), opts)

			stored := up.NewSession(core.Device{UserAgent: "ua"})
			stored.UserID, stored.Data = "u1", []byte("data")
			if err := up.Save(ctx, stored); err != nil {
				t.Fatal(err)
			}
			fresh := down.NewSession(core.Device{})
			fresh.UserID, fresh.Data = "u1", []byte("data")
			tokens := []string{stored.Token(), fresh.Token()}
			check := func(what string, err error) {
				t.Helper()
				if err == nil {
					return // see TestRedisDownFailsWrites
				}
				redistest.NoSecret(t, what, err.Error(), tokens...)
			}

			_, err := down.Load(ctx, stored.Token())
			check("Load, Redis down", err)
			_, err = down.Peek(ctx, stored.Token())
			check("Peek, Redis down", err)
			check("Save new, Redis down", down.Save(ctx, fresh))
			stored.Data = []byte("changed")
			check("Save stored, Redis down", down.Save(ctx, stored))
			check("SaveUntil stored, Redis down", down.SaveUntil(ctx, stored, srv.Now().Add(time.Minute)))
			check("Renew, Redis down", down.Renew(ctx, stored))
			check("Delete, Redis down", down.Delete(ctx, stored))
			check("DeleteToken, Redis down", down.DeleteToken(ctx, stored.Token()))
			_, err = down.UserSessions(ctx, "u1")
			check("UserSessions, Redis down", err)
			_, err = down.RevokeUser(ctx, "u1")
			check("RevokeUser, Redis down", err)
			check("RevokeSession, Redis down", down.RevokeSession(ctx, "u1", stored.Handle()))

			// Malformed data under the key of a token.
			c := srv.NewClient(t, nil)
			tok := core.NewToken()
			tokens = append(tokens, tok)
			key := up.SessionKey(core.Handle(tok))
			for what, put := range map[string]func() error{
				"garbage":    func() error { return c.Set(ctx, key, "\xb1\xff\xff garbage", time.Hour).Err() },
				"oversized":  func() error { return c.Set(ctx, key, "\xb1"+strings.Repeat("x", 2048), time.Hour).Err() },
				"wrong type": func() error { c.Del(ctx, key); return c.RPush(ctx, key, "x").Err() },
			} {
				if err := put(); err != nil {
					t.Fatal(err)
				}
				_, err := up.Load(ctx, tok)
				check("Load over "+what, err)
				_, err = up.Peek(ctx, tok)
				check("Peek over "+what, err)
				c.Del(ctx, key)
			}
			big := up.NewSession(core.Device{})
			big.Data = make([]byte, 4096)
			tokens = append(tokens, big.Token())
			check("Save too large", up.Save(ctx, big))
			big.Data, big.UserID = nil, strings.Repeat("u", core.MaxUserIDLen+1)
			check("Save with a user id too long", up.Save(ctx, big))
			_, err = up.NewSessionWithToken("not a token "+tok, core.Device{})
			check("NewSessionWithToken with a malformed token", err)
		}
	}
}

// TestRedisDownFailsWrites: with Redis unreachable, a write never reports
// success. go-redis v9.0.5 returns a pipeline's connection error from
// Pipelined without setting it on the commands, and Store.send reads only
// the commands' errors: a login (index + session) or a logout (session +
// index) then returns nil though nothing reached Redis.
func TestRedisDownFailsWrites(t *testing.T) {
	ctx := context.Background()
	srv := redistest.Start(t)
	opts := core.Options{Prefix: srv.Prefix, Now: srv.Now}
	up, down := core.New(srv.NewClient(t, nil), opts), core.New(redistest.Down(t), opts)
	x := down.NewSession(core.Device{})
	x.UserID, x.Data = "u1", []byte("d")
	if err := down.Save(ctx, x); err == nil {
		t.Errorf("Save of a login with Redis down: nil error, want the connection error")
	}
	stored := up.NewSession(core.Device{})
	stored.UserID, stored.Data = "u1", []byte("d")
	if err := up.Save(ctx, stored); err != nil {
		t.Fatal(err)
	}
	if err := down.Delete(ctx, stored); err == nil {
		t.Errorf("Delete (logout) with Redis down: nil error, want the connection error")
	}
}
