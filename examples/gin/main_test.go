package main

import (
	"io"
	"os"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/redisession/redisession/examples/internal/demotest"
)

func TestMain(m *testing.M) {
	gin.SetMode(gin.TestMode)
	gin.DefaultWriter = io.Discard
	os.Exit(m.Run())
}

func TestFlows(t *testing.T) { demotest.Run(t, newApp) }
