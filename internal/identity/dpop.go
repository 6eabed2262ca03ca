package identity

import (
	"context"
	"time"

	"github.com/latchid/latch/dpop"
)

// DPoPReplayCache returns the dpop.ReplayCache of every Latch node that
// shares the store: a proof accepted by one node is refused by all. It
// records proofs on the store itself, never in a transaction, and judges
// expiry by the service's clock.
func (s *Service) DPoPReplayCache() dpop.ReplayCache { return replayCache{s} }

// Now returns the service's clock, for the DPoP verifier and nonces.
func (s *Service) Now() time.Time { return s.now() }

// replayCache is a dpop.ReplayCache on the store.
type replayCache struct{ s *Service }

// ReplayCacheError wraps a store failure of the replay cache, so that the
// HTTP layer can tell it from a bad proof.
type ReplayCacheError struct{ Err error }

func (e *ReplayCacheError) Error() string { return "dpop replay cache: " + e.Err.Error() }
func (e *ReplayCacheError) Unwrap() error { return e.Err }

// Use implements dpop.ReplayCache. client is not used: the database
// holds what it is given, and the HTTP layer records a refresh's proof
// only for a live session (RefreshInput.Admit), behind rate limits.
func (c replayCache) Use(ctx context.Context, client, key string, expires time.Time) (bool, error) {
	fresh, err := c.s.store.UseDPoPProof(ctx, key, c.s.clock(), expires)
	if err != nil {
		return false, &ReplayCacheError{Err: err}
	}
	return fresh, nil
}
