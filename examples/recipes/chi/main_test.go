package main

import (
	"net/http"
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/redisession/redisession/core"
	"github.com/redisession/redisession/examples/recipes/internal/recipetest"
)

func TestFlows(t *testing.T) {
	recipetest.Run(t, func(rdb redis.UniversalClient, opts core.Options) http.Handler { return newApp(rdb, opts) })
}
