// Package redistest gives tests the Redis they run against: the one at
// LATCH_TEST_REDIS_ADDR, else DefaultAddr. When it does not answer a PING
// within two seconds a test that asks for it is skipped, or fails when
// CI=true: CI must not go green without having run it.
package redistest

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// DefaultAddr is the test Redis unless LATCH_TEST_REDIS_ADDR names another.
const DefaultAddr = "127.0.0.1:6379"

var (
	probeOnce sync.Once
	probeAddr string
	probeErr  error
)

// Addr returns the address of the test Redis, once it has answered (one
// probe per test binary), or skips or fails tb.
func Addr(tb testing.TB) string {
	tb.Helper()
	probeOnce.Do(func() {
		probeAddr = os.Getenv("LATCH_TEST_REDIS_ADDR")
		if probeAddr == "" {
			probeAddr = DefaultAddr
		}
		rdb := redis.NewClient(&redis.Options{Addr: probeAddr, MaxRetries: -1})
		defer rdb.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		probeErr = rdb.Ping(ctx).Err()
	})
	if probeErr != nil {
		msg := fmt.Sprintf("Redis unreachable at %s (set LATCH_TEST_REDIS_ADDR): %v", probeAddr, probeErr)
		if os.Getenv("CI") == "true" {
			tb.Fatal(msg)
		}
		tb.Skip(msg)
	}
	return probeAddr
}

// Client returns a client of the test Redis, closed when tb ends.
func Client(tb testing.TB) *redis.Client {
	tb.Helper()
	rdb := redis.NewClient(&redis.Options{Addr: Addr(tb)})
	tb.Cleanup(func() { rdb.Close() })
	return rdb
}
