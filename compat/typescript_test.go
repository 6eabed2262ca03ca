package compat_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/latchid/latch/internal/latchtest"
	"github.com/latchid/latch/internal/server"
)

// Known values of the kickstart of kickstartFile, which the TypeScript and
// Go tests (golang_test.go) share.
const (
	tsTenantID      = "3f1c2b4a-5d6e-4f70-8a9b-0c1d2e3f4a5b"
	tsApplicationID = "8e2d4c6b-1a3f-4e5d-9c7b-6a5f4e3d2c1b"
	tsAPIKey        = "compat-typescript-api-key-0123456789abcdef"
	tsClientSecret  = "compat-typescript-client-secret-0123456789"
	tsRole          = "customer"
	tsUserID        = "5a4b3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d"
	tsUserEmail     = "kickstart.user@example.org"
	tsUserPassword  = "kickstart user passphrase 1234"
)

// TestTypeScriptClient runs compat/typescript/compat.test.mjs, which drives
// an in-process Latch with FusionAuth's official TypeScript client. It
// needs node and npm; without them, or when npm ci fails, it is skipped,
// except under CI=true where that is a failure.
func TestTypeScriptClient(t *testing.T) {
	project := nodeProject(t, "typescript", "@fusionauth/typescript-client")
	l := startLatch(t, kickstartFile(t), server.Config{})
	project.test(t, "compat.test.mjs",
		"LATCH_URL="+l.URL,
		"LATCH_API_KEY="+tsAPIKey,
		"LATCH_APPLICATION_ID="+tsApplicationID,
		"LATCH_CLIENT_SECRET="+tsClientSecret,
		"LATCH_ROLE="+tsRole,
		"LATCH_TENANT_ID="+tsTenantID,
		"LATCH_KICKSTART_LOGIN_ID="+tsUserEmail,
		"LATCH_KICKSTART_PASSWORD="+tsUserPassword,
	)
}

// startLatch starts Latch in-process (latchtest.Start) with the given
// kickstart file and cfg's other settings; it stops at cleanup.
func startLatch(t *testing.T, kickstart []byte, cfg server.Config) *latchtest.Latch {
	t.Helper()
	ks := filepath.Join(t.TempDir(), "kickstart.json")
	if err := os.WriteFile(ks, kickstart, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg.Kickstart = ks
	return latchtest.Start(t, latchtest.Options{Config: cfg})
}

// kickstartFile is a FusionAuth kickstart: an API key, a default tenant
// whose reuse of a rotated refresh token does not revoke the session, an
// application for the password and refresh_token grants with a known
// client secret and one-time-use refresh tokens, and a registered user.
func kickstartFile(t *testing.T) []byte {
	t.Helper()
	type obj = map[string]any
	f := obj{
		"variables": obj{
			"defaultTenantId": tsTenantID,
			"applicationId":   tsApplicationID,
			"apiKey":          tsAPIKey,
			"clientSecret":    tsClientSecret,
			"userId":          tsUserID,
			"userEmail":       tsUserEmail,
			"userPassword":    tsUserPassword,
		},
		"apiKeys": []obj{{"key": "#{apiKey}", "description": "compat: TypeScript client"}},
		"requests": []obj{
			{
				// FusionAuth's default: the reuse of a rotated value does not
				// revoke the session. The revocation policy is the tenant's.
				"method": "PATCH",
				"url":    "/api/tenant/#{defaultTenantId}",
				"body": obj{"tenant": obj{"jwtConfiguration": obj{
					"refreshTokenRevocationPolicy": obj{"onOneTimeTokenReuse": false},
				}}},
			},
			{
				"method": "POST",
				"url":    "/api/application/#{applicationId}",
				"body": obj{"application": obj{
					"name":  "TypeScript compat",
					"roles": []obj{{"name": tsRole, "isDefault": false}},
					"jwtConfiguration": obj{
						"enabled":                         true,
						"timeToLiveInSeconds":             300,
						"refreshTokenTimeToLiveInMinutes": 60,
						"refreshTokenUsagePolicy":         "OneTimeUse",
						"refreshTokenExpirationPolicy":    "Fixed",
						// FusionAuth's default: a rotated value is refused at
						// once.
						"refreshTokenOneTimeUseConfiguration": obj{"gracePeriodInSeconds": 0},
					},
					"loginConfiguration": obj{
						"allowTokenRefresh":     true,
						"generateRefreshTokens": true,
						"requireAuthentication": true,
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
					"registration":                 obj{"applicationId": "#{applicationId}", "roles": []string{tsRole}},
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
