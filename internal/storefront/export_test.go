package storefront

import "time"

// SetDiscoveryRetry sets the pause between issuer look-ups for a test and
// returns the function that restores it.
func SetDiscoveryRetry(d time.Duration) (restore func()) {
	old := discoveryRetry
	discoveryRetry = d
	return func() { discoveryRetry = old }
}
