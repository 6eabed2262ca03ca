package compat_test

import (
	"encoding/json"
	"testing"

	"github.com/latchid/latch/internal/latchtest"
	"github.com/latchid/latch/internal/server"
)

// Known values of the oauth4webapi test's kickstart.
const (
	o4TenantID      = "6b1d3c5e-7f90-4a1b-8c2d-3e4f5a6b7c8d"
	o4ApplicationID = "1c2b3a4d-5e6f-4a7b-9c8d-0e1f2a3b4c5d"
	o4APIKey        = "compat-oauth4webapi-api-key-0123456789abc"
	o4ClientSecret  = "compat-oauth4webapi-client-secret-012345"
	o4UserID        = "9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b"
	o4UserEmail     = "dpop.user@example.org"
	o4UserPassword  = "dpop user passphrase 5678"
)

// TestOAuth4WebAPI runs compat/oauth4webapi/dpop.test.mjs, which drives
// two in-process Latch servers (one with DPoP nonces) with oauth4webapi,
// an OAuth 2.0 client library that knows nothing of FusionAuth: discovery,
// a DPoP-bound password grant, refreshes with the same key, and the
// use_dpop_nonce retry. It needs node and npm; without them, or when npm
// ci fails, it is skipped, except under CI=true where that is a failure.
func TestOAuth4WebAPI(t *testing.T) {
	project := nodeProject(t, "oauth4webapi", "oauth4webapi")
	plain := startDPoPLatch(t, false)
	nonces := startDPoPLatch(t, true)
	project.test(t, "dpop.test.mjs",
		"LATCH_URL="+plain.URL,
		"LATCH_NONCE_URL="+nonces.URL,
		"LATCH_CLIENT_ID="+o4ApplicationID,
		"LATCH_CLIENT_SECRET="+o4ClientSecret,
		"LATCH_LOGIN_ID="+o4UserEmail,
		"LATCH_PASSWORD="+o4UserPassword,
	)
}

// startDPoPLatch starts Latch in-process on a free port with a temporary
// data directory and the kickstart of dpopKickstart, with DPoP nonces on
// or off, and stops it at cleanup. Its issuer is its own URL, which the
// discovery document and every htu are made of.
func startDPoPLatch(t *testing.T, nonces bool) *latchtest.Latch {
	t.Helper()
	return startLatch(t, dpopKickstart(t), server.Config{DPoPNonces: nonces})
}

// dpopKickstart is a FusionAuth kickstart: an API key, an application for
// the password and refresh_token grants with a known client secret,
// refresh tokens for offline_access, one-time-use refresh tokens, and a
// registered user.
func dpopKickstart(t *testing.T) []byte {
	t.Helper()
	type obj = map[string]any
	f := obj{
		"variables": obj{
			"defaultTenantId": o4TenantID,
			"applicationId":   o4ApplicationID,
			"apiKey":          o4APIKey,
			"clientSecret":    o4ClientSecret,
			"userId":          o4UserID,
			"userEmail":       o4UserEmail,
			"userPassword":    o4UserPassword,
		},
		"apiKeys": []obj{{"key": "#{apiKey}", "description": "compat: oauth4webapi"}},
		"requests": []obj{
			{
				"method": "POST",
				"url":    "/api/application/#{applicationId}",
				"body": obj{"application": obj{
					"name": "oauth4webapi compat",
					"jwtConfiguration": obj{
						"enabled":                         true,
						"timeToLiveInSeconds":             300,
						"refreshTokenTimeToLiveInMinutes": 60,
						"refreshTokenUsagePolicy":         "OneTimeUse",
					},
					"oauthConfiguration": obj{
						"clientSecret":               "#{clientSecret}",
						"clientAuthenticationPolicy": "Required",
						"enabledGrants":              []string{"password", "refresh_token"},
						"generateRefreshTokens":      true,
					},
				}},
			},
			{
				"method": "POST",
				"url":    "/api/user/registration/#{userId}",
				"body": obj{
					"user":                         obj{"email": "#{userEmail}", "password": "#{userPassword}"},
					"registration":                 obj{"applicationId": "#{applicationId}"},
					"skipVerification":             true,
					"skipRegistrationVerification": true,
				},
			},
		},
	}
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return b
}
