package compat_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/latchid/latch/api"
	"github.com/latchid/latch/internal/latchtest"
)

// policyTenantJSON is a TenantRequest as FusionAuth's Go client
// (github.com/FusionAuth/go-client) marshals its zero value: every struct
// is present, every bool is false, and the ints and strings it leaves out
// when zero (its json tags say omitempty) are absent. Tests set the
// fields a program would set over it.
const policyTenantJSON = `{
  "eventInfo": {"location": {}},
  "tenant": {
    "accessControlConfiguration": {},
    "captchaConfiguration": {"enabled": false},
    "configured": false,
    "emailConfiguration": {"debug": false, "implicitEmailVerificationAllowed": false,
      "unverified": {"allowEmailChangeWhenGated": false}, "verifyEmail": false, "verifyEmailWhenChanged": false},
    "eventConfiguration": {},
    "externalIdentifierConfiguration": {
      "changePasswordIdGenerator": {}, "deviceUserCodeIdGenerator": {}, "emailVerificationIdGenerator": {},
      "emailVerificationOneTimeCodeGenerator": {}, "passwordlessLoginGenerator": {},
      "passwordlessLoginOneTimeCodeGenerator": {}, "phoneVerificationIdGenerator": {},
      "phoneVerificationOneTimeCodeGenerator": {}, "registrationVerificationIdGenerator": {},
      "registrationVerificationOneTimeCodeGenerator": {}, "setupPasswordIdGenerator": {},
      "twoFactorOneTimeCodeIdGenerator": {}
    },
    "failedAuthenticationConfiguration": {"actionCancelPolicy": {"onPasswordReset": false}, "emailUser": false},
    "familyConfiguration": {"enabled": false, "allowChildRegistrations": false, "deleteOrphanedAccounts": false, "parentEmailRequired": false},
    "formConfiguration": {},
    "jwtConfiguration": {
      "enabled": false,
      "refreshTokenOneTimeUseConfiguration": {},
      "refreshTokenRevocationPolicy": {"onLoginPrevented": false, "onMultiFactorEnable": false, "onOneTimeTokenReuse": false, "onPasswordChanged": false},
      "refreshTokenSlidingWindowConfiguration": {}
    },
    "lambdaConfiguration": {},
    "loginConfiguration": {"requireAuthentication": false},
    "maximumPasswordAge": {"enabled": false},
    "minimumPasswordAge": {"enabled": false},
    "multiFactorConfiguration": {"authenticator": {"enabled": false}, "email": {"enabled": false}, "sms": {"enabled": false}, "voice": {"enabled": false}},
    "oauthConfiguration": {},
    "passwordEncryptionConfiguration": {"modifyEncryptionSchemeOnLogin": false},
    "passwordValidationRules": {"breachDetection": {"enabled": false}, "disallowUserLoginId": false,
      "rememberPreviousPasswords": {"enabled": false}, "requireMixedCase": false, "requireNonAlpha": false,
      "requireNumber": false, "validateOnLogin": false},
    "phoneConfiguration": {"implicitPhoneVerificationAllowed": false, "unverified": {"allowPhoneNumberChangeWhenGated": false}, "verifyPhoneNumber": false},
    "rateLimitConfiguration": {"failedLogin": {"enabled": false}, "forgotPassword": {"enabled": false},
      "sendEmailVerification": {"enabled": false}, "sendPasswordless": {"enabled": false},
      "sendPasswordlessPhone": {"enabled": false}, "sendPhoneVerification": {"enabled": false},
      "sendRegistrationVerification": {"enabled": false}, "sendTwoFactor": {"enabled": false}},
    "registrationConfiguration": {},
    "scimServerConfiguration": {"enabled": false},
    "ssoConfiguration": {"allowAccessTokenBootstrap": false},
    "userDeletePolicy": {"unverified": {"enabled": false}},
    "usernameConfiguration": {"unique": {"enabled": false}},
    "webAuthnConfiguration": {"enabled": false, "bootstrapWorkflow": {"enabled": false}, "debug": false, "reauthenticationWorkflow": {"enabled": false}}
  }
}`

// policyApplicationJSON is an ApplicationRequest as the Go client marshals
// its zero value (see policyTenantJSON): an all-false
// refreshTokenRevocationPolicy beside "enabled": false, and an empty role.
const policyApplicationJSON = `{
  "eventInfo": {"location": {}},
  "application": {
    "accessControlConfiguration": {},
    "active": false,
    "authenticationTokenConfiguration": {"enabled": false},
    "cleanSpeakConfiguration": {"enabled": false, "usernameModeration": {"enabled": false}},
    "emailConfiguration": {},
    "externalIdentifierConfiguration": {},
    "formConfiguration": {"selfServiceFormConfiguration": {"requireCurrentPasswordOnPasswordChange": false}},
    "jwtConfiguration": {
      "enabled": false,
      "refreshTokenOneTimeUseConfiguration": {},
      "refreshTokenRevocationPolicy": {"onLoginPrevented": false, "onMultiFactorEnable": false, "onOneTimeTokenReuse": false, "onPasswordChanged": false},
      "refreshTokenSlidingWindowConfiguration": {}
    },
    "lambdaConfiguration": {},
    "loginConfiguration": {"allowTokenRefresh": false, "generateRefreshTokens": false, "requireAuthentication": false},
    "multiFactorConfiguration": {"email": {}, "sms": {}, "voice": {}},
    "oauthConfiguration": {"debug": false, "generateRefreshTokens": false,
      "providedScopePolicy": {"address": {"enabled": false, "required": false}, "email": {"enabled": false, "required": false},
        "phone": {"enabled": false, "required": false}, "profile": {"enabled": false, "required": false}},
      "requireClientAuthentication": false, "requireRegistration": false},
    "passwordlessConfiguration": {"enabled": false},
    "phoneConfiguration": {},
    "registrationConfiguration": {"enabled": false, "birthDate": {"enabled": false, "required": false},
      "completeRegistration": false, "confirmPassword": false, "firstName": {"enabled": false, "required": false},
      "fullName": {"enabled": false, "required": false}, "lastName": {"enabled": false, "required": false},
      "middleName": {"enabled": false, "required": false}, "mobilePhone": {"enabled": false, "required": false},
      "preferredLanguages": {"enabled": false, "required": false}},
    "registrationDeletePolicy": {"unverified": {"enabled": false}},
    "samlv2Configuration": {"enabled": false, "assertionEncryptionConfiguration": {"enabled": false}, "debug": false,
      "initiatedLogin": {"enabled": false}, "loginHintConfiguration": {"enabled": false},
      "logout": {"requireSignedRequests": false, "singleLogout": {"enabled": false}}, "requireSignedRequests": false},
    "universalConfiguration": {"universal": false},
    "unverified": {},
    "verifyRegistration": false,
    "webAuthnConfiguration": {"enabled": false, "bootstrapWorkflow": {"enabled": false}, "reauthenticationWorkflow": {"enabled": false}}
  },
  "role": {"isDefault": false, "isSuperRole": false}
}`

// policyBody decodes one of the Go client's zero-valued requests and sets
// the fields a program sets, each named by its dotted path from the
// request's top ("tenant.jwtConfiguration.timeToLiveInSeconds").
func policyBody(t *testing.T, zero string, set map[string]any) map[string]any {
	t.Helper()
	var body map[string]any
	if err := json.Unmarshal([]byte(zero), &body); err != nil {
		t.Fatal(err)
	}
	for path, v := range set {
		keys := strings.Split(path, ".")
		m := body
		for _, k := range keys[:len(keys)-1] {
			next, ok := m[k].(map[string]any)
			if !ok {
				next = map[string]any{}
				m[k] = next
			}
			m = next
		}
		m[keys[len(keys)-1]] = v
	}
	return body
}

// policyRefresh sends the Go client's RefreshRequest and returns the
// status and the answer (zero unless 200).
func policyRefresh(t *testing.T, l *latchtest.Latch, refreshToken string) (int, api.JWTRefreshResponse) {
	t.Helper()
	code, b := l.Call(t, "", "POST", "/api/jwt/refresh", map[string]any{"eventInfo": map[string]any{"location": map[string]any{}}, "refreshToken": refreshToken})
	var res api.JWTRefreshResponse
	if code == http.StatusOK {
		if err := json.Unmarshal(b, &res); err != nil {
			t.Fatalf("refresh: %v in %s", err, b)
		}
	}
	return code, res
}

// policyMustRefresh is policyRefresh that insists on 200.
func policyMustRefresh(t *testing.T, l *latchtest.Latch, refreshToken string) api.JWTRefreshResponse {
	t.Helper()
	code, res := policyRefresh(t, l, refreshToken)
	if code != http.StatusOK {
		t.Fatalf("refresh: %d, want 200", code)
	}
	return res
}

// policyRefused insists that a refresh token is refused (400).
func policyRefused(t *testing.T, l *latchtest.Latch, refreshToken, what string) {
	t.Helper()
	if code, _ := policyRefresh(t, l, refreshToken); code != http.StatusBadRequest {
		t.Errorf("refresh with %s: %d, want 400", what, code)
	}
}

// policyRevoked insists that the session with the id is gone (404).
func policyRevoked(t *testing.T, l *latchtest.Latch, id string) {
	t.Helper()
	if code, b := l.Call(t, l.APIKey, "GET", "/api/jwt/refresh/"+id, nil); code != http.StatusNotFound {
		t.Errorf("GET /api/jwt/refresh/%s: %d %s, want 404: the session is revoked", id, code, b)
	}
}

// TestGoClientRevocationPolicy configures Latch as FusionAuth's Go client
// does, every field of the tenant and the application sent with its zero
// value unless set, and checks that the refresh-token revocation policy is
// the tenant's, as FusionAuth reads it: an application's all-false
// refreshTokenRevocationPolicy neither switches the tenant's theft
// detection off nor stops a password change from revoking, and an
// application whose jwtConfiguration is off overrides nothing, its
// gracePeriodInSeconds of 0 included.
func TestGoClientRevocationPolicy(t *testing.T) {
	clock := latchtest.NewClock(time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC))
	l := latchtest.Start(t, latchtest.Options{Clock: clock})
	tenant := l.DefaultApplication(t).TenantID

	// The tenant: one-time-use refresh tokens, a 30 s grace period, and
	// reuse, password changes and (accepted and stored, with nothing to
	// act on) a first second factor revoking.
	var tr api.TenantResponse
	l.Do(t, l.APIKey, "PUT", "/api/tenant/"+tenant, policyBody(t, policyTenantJSON, map[string]any{
		"tenant.name": "Default",
		"tenant.jwtConfiguration.timeToLiveInSeconds":                                      300,
		"tenant.jwtConfiguration.refreshTokenTimeToLiveInMinutes":                          43200,
		"tenant.jwtConfiguration.refreshTokenUsagePolicy":                                  "OneTimeUse",
		"tenant.jwtConfiguration.refreshTokenExpirationPolicy":                             "Fixed",
		"tenant.jwtConfiguration.refreshTokenOneTimeUseConfiguration.gracePeriodInSeconds": 30,
		"tenant.jwtConfiguration.refreshTokenRevocationPolicy": map[string]any{
			"onLoginPrevented": true, "onMultiFactorEnable": true, "onOneTimeTokenReuse": true, "onPasswordChanged": true,
		},
	}), http.StatusOK, &tr)
	want := api.RevocationPolicy{OnLoginPrevented: true, OnMultiFactorEnable: true, OnOneTimeTokenReuse: true, OnPasswordChanged: true}
	if got := tr.Tenant.JWTConfiguration.RefreshTokenRevocationPolicy; got != want {
		t.Fatalf("tenant's revocation policy %+v, want %+v", got, want)
	}
	l.Do(t, l.APIKey, "GET", "/api/tenant/"+tenant, nil, http.StatusOK, &tr)
	if got := tr.Tenant.JWTConfiguration.RefreshTokenRevocationPolicy; got != want {
		t.Fatalf("tenant's revocation policy read back %+v, want %+v", got, want)
	}

	// application creates one with the Go client's zero values and set;
	// "active" is set, as a program that wants an active application does.
	application := func(t *testing.T, id string, set map[string]any) {
		t.Helper()
		all := map[string]any{
			"application.name":   "Go client " + id,
			"application.active": true,
			"application.loginConfiguration.allowTokenRefresh":     true,
			"application.loginConfiguration.generateRefreshTokens": true,
			"application.loginConfiguration.requireAuthentication": true,
		}
		for k, v := range set {
			all[k] = v
		}
		l.Do(t, l.APIKey, "POST", "/api/application/"+id, policyBody(t, policyApplicationJSON, all), http.StatusOK, nil)
	}

	// Its own jwtConfiguration, with the Go client's all-false revocation
	// policy: its lifetimes, usage policy and 5 s grace period apply, the
	// tenant's revocation policy too.
	const ownApp = "0a4f6c1e-3b2d-4e5f-8a9b-7c6d5e4f3a2b"
	application(t, ownApp, map[string]any{
		"application.jwtConfiguration.enabled":                                                  true,
		"application.jwtConfiguration.timeToLiveInSeconds":                                      120,
		"application.jwtConfiguration.refreshTokenTimeToLiveInMinutes":                          60,
		"application.jwtConfiguration.refreshTokenUsagePolicy":                                  "OneTimeUse",
		"application.jwtConfiguration.refreshTokenExpirationPolicy":                             "Fixed",
		"application.jwtConfiguration.refreshTokenOneTimeUseConfiguration.gracePeriodInSeconds": 5,
	})
	userID := l.Register(t, ownApp, "policy.own@example.org")

	t.Run("a reused one-time token is refused and revokes the session", func(t *testing.T) {
		login := l.Login(t, ownApp, "policy.own@example.org")
		other := l.Login(t, ownApp, "policy.own@example.org")
		next := policyMustRefresh(t, l, login.RefreshToken)
		if next.RefreshToken == login.RefreshToken || next.RefreshTokenID != login.RefreshTokenID {
			t.Fatalf("refresh %+v: want a new value of the same session", next)
		}
		clock.Advance(6 * time.Second) // past the application's grace period, within the tenant's
		policyRefused(t, l, login.RefreshToken, "the rotated value")
		policyRefused(t, l, next.RefreshToken, "the current value after the reuse")
		policyRevoked(t, l, login.RefreshTokenID)
		policyMustRefresh(t, l, other.RefreshToken) // another session of the user lives
	})

	t.Run("a password change revokes", func(t *testing.T) {
		login := l.Login(t, ownApp, "policy.own@example.org")
		// The Go client's PatchUser sends the map it is given.
		l.Do(t, l.APIKey, "PATCH", "/api/user/"+userID, map[string]any{"user": map[string]any{"password": "a new passphrase 5678"}}, http.StatusOK, nil)
		policyRefused(t, l, login.RefreshToken, "a refresh token from before the password change")
		policyRevoked(t, l, login.RefreshTokenID)
		var ur api.UserResponse
		l.Do(t, l.APIKey, "GET", "/api/user/"+userID, nil, http.StatusOK, &ur)
		if ur.User == nil || !ur.User.Active {
			t.Errorf("user %+v: want it active, its sessions revoked by the password change alone", ur.User)
		}
	})

	// jwtConfiguration off: the tenant's configuration applies in whole,
	// whatever the block holds. The Go client leaves a grace period of 0
	// out; sent, it changes nothing either.
	for _, tc := range []struct {
		name, id string
		set      map[string]any
	}{
		{"as the Go client sends it", "1b5a7d2f-4c3e-4f6a-9b8c-8d7e6f5a4b3c", nil},
		{"with gracePeriodInSeconds 0", "2c6b8e3a-5d4f-4a7b-8c9d-9e8f7a6b5c4d",
			map[string]any{"application.jwtConfiguration.refreshTokenOneTimeUseConfiguration.gracePeriodInSeconds": 0}},
	} {
		t.Run("jwtConfiguration off, "+tc.name+": the tenant's grace period and theft detection", func(t *testing.T) {
			application(t, tc.id, tc.set)
			email := "policy." + tc.id[:8] + "@example.org"
			l.Register(t, tc.id, email)
			login := l.Login(t, tc.id, email)
			next := policyMustRefresh(t, l, login.RefreshToken)
			if next.RefreshToken == login.RefreshToken {
				t.Fatal("the tenant's OneTimeUse did not rotate the value")
			}
			clock.Advance(20 * time.Second)
			if retry := policyMustRefresh(t, l, login.RefreshToken); retry.RefreshToken != next.RefreshToken {
				t.Fatalf("a retry within the tenant's 30 s got another value than the current one")
			}
			clock.Advance(11 * time.Second)
			policyRefused(t, l, login.RefreshToken, "the rotated value after the grace period")
			policyRefused(t, l, next.RefreshToken, "the current value after the reuse")
			policyRevoked(t, l, login.RefreshTokenID)
		})
	}
}

// TestGoClientTenantDefaults checks a new tenant's defaults, FusionAuth's
// documented ones but for the grace period and onOneTimeTokenReuse, and
// that Latch's 30 s fills in the grace period the Go client leaves out
// when it is 0, which only a PATCH can set.
func TestGoClientTenantDefaults(t *testing.T) {
	l := latchtest.Start(t, latchtest.Options{})
	tenant := l.DefaultApplication(t).TenantID
	var tr api.TenantResponse
	l.Do(t, l.APIKey, "GET", "/api/tenant/"+tenant, nil, http.StatusOK, &tr)
	j := tr.Tenant.JWTConfiguration
	if j.TimeToLiveInSeconds != 900 || j.RefreshTokenTimeToLiveInMinutes != 43200 ||
		j.RefreshTokenUsagePolicy != api.RefreshReusable || j.RefreshTokenExpirationPolicy != api.ExpirationFixed {
		t.Errorf("lifetimes and policies %d s, %d min, %s, %s; want 900 s, 43200 min, Reusable, Fixed",
			j.TimeToLiveInSeconds, j.RefreshTokenTimeToLiveInMinutes, j.RefreshTokenUsagePolicy, j.RefreshTokenExpirationPolicy)
	}
	if g := j.RefreshTokenOneTimeUseConfiguration.GracePeriodInSeconds; g != 30 {
		t.Errorf("grace period %d s, want Latch's 30 (FusionAuth's is 0)", g)
	}
	want := api.RevocationPolicy{OnLoginPrevented: true, OnPasswordChanged: true, OnOneTimeTokenReuse: true}
	if j.RefreshTokenRevocationPolicy != want {
		t.Errorf("revocation policy %+v, want %+v (onOneTimeTokenReuse is Latch's; FusionAuth's is off)", j.RefreshTokenRevocationPolicy, want)
	}
	f, p := tr.Tenant.FailedAuthenticationConfiguration, tr.Tenant.PasswordValidationRules
	if f.TooManyAttempts != 5 || f.ResetCountInSeconds != 60 || f.ActionDuration != 3 || f.ActionDurationUnit != "MINUTES" ||
		p.MinLength != 8 || p.MaxLength != 256 {
		t.Errorf("lockout %+v, password rules %+v; want 5 in 60 s for 3 minutes, 8 to 256", f, p)
	}

	// A PUT as the Go client sends it: the grace period of 0 it leaves out
	// is Latch's 30...
	l.Do(t, l.APIKey, "PUT", "/api/tenant/"+tenant, policyBody(t, policyTenantJSON, map[string]any{
		"tenant.name": "Default",
		"tenant.jwtConfiguration.timeToLiveInSeconds":             900,
		"tenant.jwtConfiguration.refreshTokenTimeToLiveInMinutes": 43200,
		"tenant.jwtConfiguration.refreshTokenUsagePolicy":         "OneTimeUse",
		"tenant.jwtConfiguration.refreshTokenRevocationPolicy": map[string]any{
			"onLoginPrevented": true, "onMultiFactorEnable": false, "onOneTimeTokenReuse": true, "onPasswordChanged": true,
		},
	}), http.StatusOK, &tr)
	if g := tr.Tenant.JWTConfiguration.RefreshTokenOneTimeUseConfiguration.GracePeriodInSeconds; g != 30 {
		t.Errorf("grace period after a PUT that leaves it out: %d s, want 30", g)
	}
	// ...and so it is for an application's own jwtConfiguration...
	var ar api.ApplicationResponse
	l.Do(t, l.APIKey, "POST", "/api/application", policyBody(t, policyApplicationJSON, map[string]any{
		"application.name":                                             "Go client defaults",
		"application.active":                                           true,
		"application.jwtConfiguration.enabled":                         true,
		"application.jwtConfiguration.timeToLiveInSeconds":             300,
		"application.jwtConfiguration.refreshTokenTimeToLiveInMinutes": 60,
	}), http.StatusOK, &ar)
	if g := ar.Application.JWTConfiguration.RefreshTokenOneTimeUseConfiguration.GracePeriodInSeconds; g != 30 {
		t.Errorf("application's grace period when left out: %d s, want 30", g)
	}
	// ...while a PATCH, which the Go client sends as the map it is given,
	// sets a 0.
	l.Do(t, l.APIKey, "PATCH", "/api/tenant/"+tenant, map[string]any{"tenant": map[string]any{"jwtConfiguration": map[string]any{
		"refreshTokenOneTimeUseConfiguration": map[string]any{"gracePeriodInSeconds": 0},
	}}}, http.StatusOK, &tr)
	if g := tr.Tenant.JWTConfiguration.RefreshTokenOneTimeUseConfiguration.GracePeriodInSeconds; g != 0 {
		t.Errorf("grace period after a PATCH to 0: %d s", g)
	}
}
