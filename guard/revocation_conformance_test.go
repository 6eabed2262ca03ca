package guard_test

import (
	"testing"
	"time"

	"github.com/latchid/latch/guard"
	"github.com/latchid/latch/guard/revocationtest"
)

// MemoryRevocationStore passes the RevocationStore conformance suite, on
// the suite's clock.
func TestMemoryRevocationStoreConformance(t *testing.T) {
	revocationtest.Run(t, func(t *testing.T, now func() time.Time) guard.RevocationStore {
		return guard.NewMemoryRevocationStore(guard.MemoryRevocationStoreConfig{Now: now})
	})
}
