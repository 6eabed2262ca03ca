package dpop_test

import (
	"testing"
	"time"

	"github.com/latchid/latch/dpop"
	"github.com/latchid/latch/dpop/replaytest"
)

// MemoryReplayCache passes the ReplayCache conformance suite, on the
// suite's clock.
func TestMemoryReplayCacheConformance(t *testing.T) {
	replaytest.Run(t, func(t *testing.T, now func() time.Time) dpop.ReplayCache {
		return &dpop.MemoryReplayCache{Now: now}
	})
}
