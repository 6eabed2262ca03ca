package storefront

import (
	"context"
	"time"
)

// SetDiscoveryRetry sets the pause between issuer look-ups for a test and
// returns the function that restores it.
func SetDiscoveryRetry(d time.Duration) (restore func()) {
	old := discoveryRetry
	discoveryRetry = d
	return func() { discoveryRetry = old }
}

// SetWebhookRetry sets the pause between attempts at registering the
// webhook for a test and returns the function that restores it.
func SetWebhookRetry(d time.Duration) (restore func()) {
	old := webhookRetry
	webhookRetry = d
	return func() { webhookRetry = old }
}

// SetLatchCheckRetry sets the pause between attempts at Open's check of
// the application id and API key for a test and returns the function that
// restores it.
func SetLatchCheckRetry(d time.Duration) (restore func()) {
	old := latchCheckRetry
	latchCheckRetry = d
	return func() { latchCheckRetry = old }
}

// RegisterWebhook registers s's webhook at Latch again.
func RegisterWebhook(ctx context.Context, s *Server) error { return s.registerWebhook(ctx) }
