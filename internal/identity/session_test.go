package identity

import (
	"testing"

	"github.com/latchid/latch/api"
)

// TestJWTConfig is the rule of jwtConfig: an application's block applies
// only when enabled, and then for the lifetimes, the usage and expiration
// policies and the grace period, never for the revocation policy, which is
// always the tenant's. "goclient" is an application as FusionAuth's Go
// client sends it: every field, zero values included.
func TestJWTConfig(t *testing.T) {
	tenantPolicy := api.RevocationPolicy{OnLoginPrevented: true, OnPasswordChanged: true, OnOneTimeTokenReuse: true}
	tenant := api.Tenant{JWTConfiguration: api.JWTConfiguration{
		Enabled:                             true,
		TimeToLiveInSeconds:                 900,
		RefreshTokenTimeToLiveInMinutes:     43200,
		RefreshTokenUsagePolicy:             api.RefreshOneTimeUse,
		RefreshTokenExpirationPolicy:        api.ExpirationFixed,
		RefreshTokenOneTimeUseConfiguration: api.OneTimeUseConfiguration{GracePeriodInSeconds: 30},
		RefreshTokenRevocationPolicy:        tenantPolicy,
		AccessTokenKeyID:                    "tenant-key",
	}}
	// own is an enabled block that differs from the tenant in every
	// setting an application may override, and carries the Go client's
	// all-false revocation policy.
	own := api.JWTConfiguration{
		Enabled:                                true,
		TimeToLiveInSeconds:                    60,
		RefreshTokenTimeToLiveInMinutes:        120,
		RefreshTokenUsagePolicy:                api.RefreshReusable,
		RefreshTokenExpirationPolicy:           api.ExpirationSlidingWindowMaximum,
		RefreshTokenSlidingWindowConfiguration: api.SlidingWindowConfiguration{MaximumTimeToLiveInMinutes: 240},
		RefreshTokenOneTimeUseConfiguration:    api.OneTimeUseConfiguration{GracePeriodInSeconds: 5},
	}
	ownResolved := own
	ownResolved.AccessTokenKeyID = "tenant-key"
	ownResolved.RefreshTokenRevocationPolicy = tenantPolicy
	with := func(c api.JWTConfiguration, change func(*api.JWTConfiguration)) api.JWTConfiguration {
		change(&c)
		return c
	}
	for _, tc := range []struct {
		name string
		app  *api.Application
		want api.JWTConfiguration
	}{
		{"no application: the tenant's", nil, tenant.JWTConfiguration},
		{"goclient, block off: the tenant's, grace period and theft detection included",
			&api.Application{JWTConfiguration: api.JWTConfiguration{}}, tenant.JWTConfiguration},
		{"block off with values of its own: the tenant's",
			&api.Application{JWTConfiguration: with(own, func(c *api.JWTConfiguration) { c.Enabled = false })}, tenant.JWTConfiguration},
		{"block off, a key of its own: the tenant's with the application's key",
			&api.Application{JWTConfiguration: api.JWTConfiguration{AccessTokenKeyID: "app-key"}},
			with(tenant.JWTConfiguration, func(c *api.JWTConfiguration) { c.AccessTokenKeyID = "app-key" })},
		{"goclient, block on: its lifetimes, policies and grace period; the tenant's revocation policy and key",
			&api.Application{JWTConfiguration: own}, ownResolved},
		{"block on with a revocation policy of its own: still the tenant's",
			&api.Application{JWTConfiguration: with(own, func(c *api.JWTConfiguration) {
				c.RefreshTokenRevocationPolicy = api.RevocationPolicy{OnMultiFactorEnable: true}
			})}, ownResolved},
		{"block on, a grace period of 0: the application's 0",
			&api.Application{JWTConfiguration: with(own, func(c *api.JWTConfiguration) { c.RefreshTokenOneTimeUseConfiguration.GracePeriodInSeconds = 0 })},
			with(ownResolved, func(c *api.JWTConfiguration) { c.RefreshTokenOneTimeUseConfiguration.GracePeriodInSeconds = 0 })},
		{"block on, a key of its own",
			&api.Application{JWTConfiguration: with(own, func(c *api.JWTConfiguration) { c.AccessTokenKeyID = "app-key" })},
			with(ownResolved, func(c *api.JWTConfiguration) { c.AccessTokenKeyID = "app-key" })},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := jwtConfig(tenant, tc.app); got != tc.want {
				t.Errorf("jwtConfig =\n%+v\nwant\n%+v", got, tc.want)
			}
		})
	}
}
