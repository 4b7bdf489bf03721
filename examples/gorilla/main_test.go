package main

import (
	"testing"

	"github.com/redisession/redisession/examples/internal/demotest"
)

func TestFlows(t *testing.T) { demotest.Run(t, newApp) }
