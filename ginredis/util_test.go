package ginredis_test

import (
	"github.com/gorilla/securecookie"

	"github.com/redisession/redisession/ginredis"
)

func decode(s ginredis.Store, name, value string, token *string) error {
	return securecookie.DecodeMulti(name, value, token, s.Gorilla().Codecs...)
}
