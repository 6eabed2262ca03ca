package identity

import (
	"testing"
	"time"

	"github.com/latchid/latch/api"
)

func TestExpiry(t *testing.T) {
	inserted := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	cfg := func(policy string) api.JWTConfiguration {
		return api.JWTConfiguration{
			RefreshTokenTimeToLiveInMinutes:        60,
			RefreshTokenExpirationPolicy:           policy,
			RefreshTokenSlidingWindowConfiguration: api.SlidingWindowConfiguration{MaximumTimeToLiveInMinutes: 90},
		}
	}
	for _, tc := range []struct {
		name   string
		policy string
		usedAt time.Duration // after login
		want   time.Duration // expiry, after login
	}{
		{"Fixed at login", api.ExpirationFixed, 0, time.Hour},
		{"Fixed does not move on use", api.ExpirationFixed, 50 * time.Minute, time.Hour},
		{"unknown policy is Fixed", "", 50 * time.Minute, time.Hour},
		{"SlidingWindow moves on use", api.ExpirationSlidingWindow, 50 * time.Minute, 110 * time.Minute},
		{"SlidingWindow has no cap", api.ExpirationSlidingWindow, 10 * time.Hour, 11 * time.Hour},
		{"SlidingWindowWithMaximumLifetime moves", api.ExpirationSlidingWindowMaximum, 20 * time.Minute, 80 * time.Minute},
		{"SlidingWindowWithMaximumLifetime is capped", api.ExpirationSlidingWindowMaximum, 50 * time.Minute, 90 * time.Minute},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := expiry(cfg(tc.policy), inserted, inserted.Add(tc.usedAt))
			if want := inserted.Add(tc.want); !got.Equal(want) {
				t.Errorf("expiry = %v after login, want %v", got.Sub(inserted), tc.want)
			}
		})
	}
}

func TestJWTConfig(t *testing.T) {
	tenant := api.Tenant{JWTConfiguration: api.JWTConfiguration{TimeToLiveInSeconds: 900, AccessTokenKeyID: "tenant-key"}}
	for _, tc := range []struct {
		name    string
		app     *api.Application
		wantTTL int
		wantKey string
	}{
		{"no application: the tenant's", nil, 900, "tenant-key"},
		{"application without its own: the tenant's", &api.Application{}, 900, "tenant-key"},
		{"application's own key only", &api.Application{JWTConfiguration: api.JWTConfiguration{AccessTokenKeyID: "app-key"}}, 900, "app-key"},
		{"application's own configuration, tenant key", &api.Application{JWTConfiguration: api.JWTConfiguration{Enabled: true, TimeToLiveInSeconds: 60}}, 60, "tenant-key"},
		{"application's own configuration and key", &api.Application{JWTConfiguration: api.JWTConfiguration{Enabled: true, TimeToLiveInSeconds: 60, AccessTokenKeyID: "app-key"}}, 60, "app-key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := jwtConfig(tenant, tc.app)
			if got.TimeToLiveInSeconds != tc.wantTTL || got.AccessTokenKeyID != tc.wantKey {
				t.Errorf("TTL %d key %q, want %d %q", got.TimeToLiveInSeconds, got.AccessTokenKeyID, tc.wantTTL, tc.wantKey)
			}
		})
	}
}
