package httpapi_test

import (
	"bytes"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/latchid/latch/api"
)

// policyApp makes an application with its own jwtConfiguration (600 s
// access tokens, 60 minute refresh tokens, plus cfg) and a user registered
// for it, and returns both ids and the user's email.
func (e *env) policyApp(t *testing.T, cfg map[string]any) (appID, email string) {
	t.Helper()
	appID = e.mustAppWithRoles(t)
	e.mustJWTConfig(t, appID, cfg)
	_, email = e.mustUser(t, appID, "user")
	return appID, email
}

func TestRefresh_ReusableFixed(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	appID, email := e.policyApp(t, map[string]any{"refreshTokenUsagePolicy": "Reusable", "refreshTokenExpirationPolicy": "Fixed"})
	login := e.mustLogin(t, email, appID)

	for i := 0; i < 3; i++ {
		e.clock.Advance(15 * time.Minute)
		res := e.mustRefresh(t, login.RefreshToken)
		if res.RefreshToken != login.RefreshToken {
			t.Fatalf("Reusable refresh %d returned another value", i+1)
		}
		if res.RefreshTokenID != login.RefreshTokenID {
			t.Fatalf("refreshTokenId changed: %s, want %s", res.RefreshTokenID, login.RefreshTokenID)
		}
		c := claimsOf(t, res.Token)
		if c["sid"] != login.RefreshTokenID || c["authenticationType"] != "REFRESH_TOKEN" {
			t.Errorf("refreshed claims sid=%v authenticationType=%v", c["sid"], c["authenticationType"])
		}
		if got, want := intClaim(t, c, "exp"), e.clock.Now().Unix()+600; got != want {
			t.Errorf("exp = %d, want %d (the application's 600 s)", got, want)
		}
	}
	// 45 minutes used; Fixed expires 60 minutes after login despite the use.
	e.clock.Advance(14 * time.Minute)
	e.mustRefresh(t, login.RefreshToken)
	e.clock.Advance(2 * time.Minute)
	e.refreshRefused(t, login.RefreshToken)
}

func TestRefresh_ClaimsAfterRefresh(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	appID, email := e.policyApp(t, nil)
	loginAt := e.clock.Now()
	login := e.mustLogin(t, email, appID)
	before := claimsOf(t, login.Token)

	e.clock.Advance(7 * time.Minute)
	res := e.mustRefresh(t, login.RefreshToken)
	c := claimsOf(t, res.Token)
	if c["authenticationType"] != "REFRESH_TOKEN" {
		t.Errorf("authenticationType = %v, want REFRESH_TOKEN", c["authenticationType"])
	}
	if got := intClaim(t, c, "auth_time"); got != loginAt.Unix() {
		t.Errorf("auth_time = %d, want the login's %d", got, loginAt.Unix())
	}
	if got := intClaim(t, c, "iat"); got != e.clock.Now().Unix() {
		t.Errorf("iat = %d, want %d", got, e.clock.Now().Unix())
	}
	for _, name := range []string{"sub", "aud", "applicationId", "roles", "sid", "tid", "iss", "email"} {
		if a, b := before[name], c[name]; !equalJSON(a, b) {
			t.Errorf("claim %s changed across refresh: %v → %v", name, a, b)
		}
	}
	if c["jti"] == before["jti"] {
		t.Error("jti reused")
	}
	e.validate(t, res.Token).wantJSON(t, 200, nil)

	// The previous access token may come along (for the jwt.refresh event),
	// with the Go client's zero values.
	e.do(t, "POST", "/api/jwt/refresh", withJSON(map[string]any{"refreshToken": login.RefreshToken, "token": login.Token,
		"eventInfo": map[string]any{"location": map[string]any{}}})).wantJSON(t, 200, nil)
	e.do(t, "POST", "/api/jwt/refresh", withJSON(map[string]any{"refreshToken": login.RefreshToken}), withCookie("access_token", login.Token)).
		wantJSON(t, 200, nil)
}

func TestRefresh_OneTimeUse(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	appID, email := e.policyApp(t, map[string]any{
		"refreshTokenUsagePolicy":             "OneTimeUse",
		"refreshTokenOneTimeUseConfiguration": map[string]any{"gracePeriodInSeconds": 10},
		"refreshTokenRevocationPolicy":        map[string]any{"onOneTimeTokenReuse": true},
	})
	login := e.mustLogin(t, email, appID)
	other := e.mustLogin(t, email, appID) // a second session of the same user

	v1 := login.RefreshToken
	r2 := e.mustRefresh(t, v1)
	v2 := r2.RefreshToken
	if v2 == v1 {
		t.Fatal("OneTimeUse returned the presented value")
	}
	if r2.RefreshTokenID != login.RefreshTokenID {
		t.Errorf("refreshTokenId changed on rotation")
	}
	if sid := claimsOf(t, r2.Token)["sid"]; sid != login.RefreshTokenID {
		t.Errorf("sid = %v, want %s", sid, login.RefreshTokenID)
	}

	// A retry with the previous value inside the grace period gets the same
	// current value, without a rotation.
	e.clock.Advance(5 * time.Second)
	retry := e.mustRefresh(t, v1)
	if retry.RefreshToken != v2 {
		t.Fatalf("retry within the grace period returned %q, want the current %q", retry.RefreshToken, v2)
	}

	// The current value rotates again.
	r3 := e.mustRefresh(t, v2)
	v3 := r3.RefreshToken
	if v3 == v2 || v3 == v1 || r3.RefreshTokenID != login.RefreshTokenID {
		t.Fatalf("second rotation: %+v", r3)
	}
	// v1 is now two rotations old: refused at once, and that is reuse.
	e.refreshRefused(t, v1)
	// The reuse revoked the whole session: the current value is dead too.
	e.refreshRefused(t, v3)
	e.do(t, "GET", "/api/jwt/refresh/"+login.RefreshTokenID, withKey(e.key)).wantEmpty(t, 404)

	// The user's other session is untouched.
	e.mustRefresh(t, other.RefreshToken)
}

func TestRefresh_OneTimeUseAfterGracePeriod(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	appID, email := e.policyApp(t, map[string]any{
		"refreshTokenUsagePolicy":             "OneTimeUse",
		"refreshTokenOneTimeUseConfiguration": map[string]any{"gracePeriodInSeconds": 10},
		"refreshTokenRevocationPolicy":        map[string]any{"onOneTimeTokenReuse": true},
	})
	login := e.mustLogin(t, email, appID)
	other := e.mustLogin(t, email, appID)
	v2 := e.mustRefresh(t, login.RefreshToken).RefreshToken

	e.clock.Advance(11 * time.Second)
	e.refreshRefused(t, login.RefreshToken) // the previous value after the grace period
	e.refreshRefused(t, v2)                 // the session is revoked
	e.mustRefresh(t, other.RefreshToken)
}

// Without the tenant's onOneTimeTokenReuse a reused value is refused and
// the session lives, whatever the application's own policy says.
func TestRefresh_OneTimeUseWithoutReusePolicy(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.mustPatchTenant(t, e.tenantID, map[string]any{"jwtConfiguration": map[string]any{
		"refreshTokenRevocationPolicy": map[string]any{"onOneTimeTokenReuse": false},
	}})
	appID, email := e.policyApp(t, map[string]any{
		"refreshTokenUsagePolicy":             "OneTimeUse",
		"refreshTokenOneTimeUseConfiguration": map[string]any{"gracePeriodInSeconds": 0},
		"refreshTokenRevocationPolicy":        map[string]any{"onOneTimeTokenReuse": true},
	})
	login := e.mustLogin(t, email, appID)
	v2 := e.mustRefresh(t, login.RefreshToken).RefreshToken
	e.clock.Advance(time.Second)
	e.refreshRefused(t, login.RefreshToken) // old value dead...
	e.mustRefresh(t, v2)                    // ...but without the policy the session lives
}

// The revocation policy is the tenant's (FusionAuth documents it on the
// tenant only): an application with its own jwtConfiguration and the
// all-false refreshTokenRevocationPolicy FusionAuth's Go client sends
// leaves the tenant's reuse detection on, and the application's grace
// period (its own, 0 here) applies.
func TestRefresh_RevocationPolicyIsTheTenants(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	appID, email := e.policyApp(t, map[string]any{
		"refreshTokenUsagePolicy":             "OneTimeUse",
		"refreshTokenExpirationPolicy":        "Fixed",
		"refreshTokenOneTimeUseConfiguration": map[string]any{"gracePeriodInSeconds": 0},
		"refreshTokenRevocationPolicy": map[string]any{
			"onLoginPrevented": false, "onMultiFactorEnable": false, "onOneTimeTokenReuse": false, "onPasswordChanged": false,
		},
	})
	var app api.ApplicationResponse
	e.do(t, "GET", "/api/application/"+appID, withKey(e.key)).wantJSON(t, 200, &app)
	if p := app.Application.JWTConfiguration.RefreshTokenRevocationPolicy; p != (api.RevocationPolicy{}) {
		t.Errorf("the application's revocation policy = %+v, want it stored as sent", p)
	}
	login := e.mustLogin(t, email, appID)
	other := e.mustLogin(t, email, appID)
	v2 := e.mustRefresh(t, login.RefreshToken).RefreshToken
	e.clock.Advance(time.Second)
	e.refreshRefused(t, login.RefreshToken) // reuse: no grace period...
	e.refreshRefused(t, v2)                 // ...and the tenant's policy revoked the session
	e.do(t, "GET", "/api/jwt/refresh/"+login.RefreshTokenID, withKey(e.key)).wantEmpty(t, 404)
	e.mustRefresh(t, other.RefreshToken)
}

// The tenant's defaults: Latch turns onOneTimeTokenReuse on, and a 30 s
// grace period.
func TestRefresh_OneTimeUseTenantDefaults(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.mustPatchTenant(t, e.tenantID, map[string]any{"jwtConfiguration": map[string]any{"refreshTokenUsagePolicy": "OneTimeUse"}})
	var tr api.TenantResponse
	e.do(t, "GET", "/api/tenant/"+e.tenantID, withKey(e.key)).wantJSON(t, 200, &tr)
	p := tr.Tenant.JWTConfiguration
	if !p.RefreshTokenRevocationPolicy.OnOneTimeTokenReuse || !p.RefreshTokenRevocationPolicy.OnLoginPrevented ||
		!p.RefreshTokenRevocationPolicy.OnPasswordChanged || p.RefreshTokenOneTimeUseConfiguration.GracePeriodInSeconds != 30 {
		t.Errorf("tenant defaults = %+v", p)
	}

	_, email := e.mustUser(t, e.appID)
	login := e.mustLogin(t, email, e.appID)
	other := e.mustLogin(t, email, e.appID)
	v2 := e.mustRefresh(t, login.RefreshToken).RefreshToken
	e.clock.Advance(29 * time.Second)
	if got := e.mustRefresh(t, login.RefreshToken).RefreshToken; got != v2 {
		t.Fatalf("retry within 30 s returned another value")
	}
	e.clock.Advance(2 * time.Second)
	e.refreshRefused(t, login.RefreshToken)
	e.refreshRefused(t, v2)
	e.mustRefresh(t, other.RefreshToken)
}

// An application's own jwtConfiguration takes Latch's defaults for what it
// does not name (a 30 s grace period), and the tenant's reuse detection.
func TestRefresh_OneTimeUseApplicationDefaults(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	appID, email := e.policyApp(t, map[string]any{"refreshTokenUsagePolicy": "OneTimeUse"})
	login := e.mustLogin(t, email, appID)
	v2 := e.mustRefresh(t, login.RefreshToken).RefreshToken
	// An application that turns its jwtConfiguration on inherits Latch's
	// defaults for what it leaves out: a 30 s grace period...
	if again := e.mustRefresh(t, login.RefreshToken).RefreshToken; again != v2 {
		t.Fatalf("retry within the grace period got %q, want the current value %q", again, v2)
	}
	// ...and the tenant's reuse detection: the previous value after it
	// revokes the session.
	e.clock.Advance(31 * time.Second)
	e.refreshRefused(t, login.RefreshToken)
	e.refreshRefused(t, v2)
}

func TestRefresh_SlidingWindow(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	appID, email := e.policyApp(t, map[string]any{"refreshTokenExpirationPolicy": "SlidingWindow", "refreshTokenTimeToLiveInMinutes": 10})
	login := e.mustLogin(t, email, appID)
	for i := 0; i < 4; i++ { // 32 minutes in all, well past the 10 minute TTL
		e.clock.Advance(8 * time.Minute)
		e.mustRefresh(t, login.RefreshToken)
	}
	var got api.RefreshTokenResponse
	e.do(t, "GET", "/api/jwt/refresh/"+login.RefreshTokenID, withKey(e.key)).wantJSON(t, 200, &got)
	if got.RefreshToken.StartInstant != e.clock.Now().UnixMilli() {
		t.Errorf("startInstant = %d, want the last use %d", got.RefreshToken.StartInstant, e.clock.Now().UnixMilli())
	}
	e.clock.Advance(10*time.Minute + time.Second)
	e.refreshRefused(t, login.RefreshToken)
}

func TestRefresh_SlidingWindowWithMaximumLifetime(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	appID, email := e.policyApp(t, map[string]any{
		"refreshTokenExpirationPolicy":           "SlidingWindowWithMaximumLifetime",
		"refreshTokenTimeToLiveInMinutes":        10,
		"refreshTokenSlidingWindowConfiguration": map[string]any{"maximumTimeToLiveInMinutes": 20},
	})
	login := e.mustLogin(t, email, appID)
	e.clock.Advance(8 * time.Minute)
	e.mustRefresh(t, login.RefreshToken)
	e.clock.Advance(8 * time.Minute) // 16
	e.mustRefresh(t, login.RefreshToken)
	e.clock.Advance(3 * time.Minute) // 19: the window would reach 26, the cap is 20
	e.mustRefresh(t, login.RefreshToken)
	e.clock.Advance(time.Minute + time.Second) // 20:01
	e.refreshRefused(t, login.RefreshToken)

	// Unused, it expires after the sliding TTL.
	second := e.mustLogin(t, email, appID)
	e.clock.Advance(10*time.Minute + time.Second)
	e.refreshRefused(t, second.RefreshToken)
}

func TestRefresh_InvalidTokensLookAlike(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	appID, email := e.policyApp(t, map[string]any{"refreshTokenTimeToLiveInMinutes": 10})
	expired := e.mustLogin(t, email, appID)
	revoked := e.mustLogin(t, email, appID)
	e.do(t, "DELETE", "/api/jwt/refresh/"+revoked.RefreshTokenID, withKey(e.key)).wantEmpty(t, 200)
	e.clock.Advance(11 * time.Minute)

	unknown := e.refreshRefused(t, "q3Z0mJ8vVb1xkR6uT-4nLw2aYcE9sHfPdGiKoNrBtUj5MeX7yWzA")
	for name, rt := range map[string]string{"expired": expired.RefreshToken, "revoked": revoked.RefreshToken, "garbage": "%%%", "long": string(bytes.Repeat([]byte("a"), 5000))} {
		r := e.refreshRefused(t, rt)
		if !bytes.Equal(r.Body, unknown.Body) {
			t.Errorf("%s token: body %s differs from the unknown token's %s", name, r.Body, unknown.Body)
		}
	}
}

func TestRefresh_BlankToken(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.do(t, "POST", "/api/jwt/refresh", withJSON(map[string]any{})).wantErrors(t, "[blank]refreshToken")
	e.do(t, "POST", "/api/jwt/refresh").wantErrors(t, "[blank]refreshToken")
	e.do(t, "POST", "/api/jwt/refresh", withJSON(`{"refreshToken":null}`)).wantErrors(t, "[blank]refreshToken")
}

func TestRefresh_TimeToLiveInSeconds(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	appID, email := e.policyApp(t, nil) // 600 s
	login := e.mustLogin(t, email, appID)

	e.do(t, "POST", "/api/jwt/refresh", withJSON(map[string]any{"refreshToken": login.RefreshToken, "timeToLiveInSeconds": 601})).
		wantErrors(t, "[invalid]timeToLiveInSeconds")
	var res api.JWTRefreshResponse
	e.do(t, "POST", "/api/jwt/refresh", withJSON(map[string]any{"refreshToken": login.RefreshToken, "timeToLiveInSeconds": 60})).
		wantJSON(t, 200, &res)
	if got, want := intClaim(t, claimsOf(t, res.Token), "exp"), e.clock.Now().Unix()+60; got != want {
		t.Errorf("exp = %d, want %d", got, want)
	}
	e.do(t, "POST", "/api/jwt/refresh", withJSON(map[string]any{"refreshToken": login.RefreshToken, "timeToLiveInSeconds": 600})).
		wantJSON(t, 200, nil)
}

func TestRefresh_AllowTokenRefreshFalse(t *testing.T) {
	t.Parallel()
	e := sharedEnv(t)
	appID, email := e.policyApp(t, nil)
	login := e.mustLogin(t, email, appID)
	e.mustPatchApp(t, appID, map[string]any{"loginConfiguration": map[string]any{"allowTokenRefresh": false}})
	e.refreshRefused(t, login.RefreshToken)
	e.mustPatchApp(t, appID, map[string]any{"loginConfiguration": map[string]any{"allowTokenRefresh": true}})
	e.mustRefresh(t, login.RefreshToken)
}

func TestRefresh_GenerateRefreshTokensFalse(t *testing.T) {
	t.Parallel()
	e := sharedEnv(t)
	appID, email := e.policyApp(t, nil)
	e.mustPatchApp(t, appID, map[string]any{"loginConfiguration": map[string]any{"generateRefreshTokens": false}})
	var res api.LoginResponse
	e.login(t, map[string]any{"loginId": email, "password": testPassword, "applicationId": appID}).wantJSON(t, 200, &res)
	if res.RefreshToken != "" || res.RefreshTokenID != "" {
		t.Errorf("refresh token issued although generateRefreshTokens is false")
	}
	if _, ok := claimsOf(t, res.Token)["sid"]; ok {
		t.Error("sid without a refresh token")
	}
}

func TestRefresh_CookieWinsOverBody(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, email := e.mustUser(t, e.appID)
	login := e.mustLogin(t, email, e.appID)
	bogus := "bogus-refresh-token-value-bogus-refresh-token"

	e.refresh(t, bogus, withCookie("refresh_token", login.RefreshToken)).wantJSON(t, 200, nil)
	e.refresh(t, login.RefreshToken, withCookie("refresh_token", bogus)).wantErrors(t, "[invalid]refreshToken")
	// The cookie alone, with no body.
	e.do(t, "POST", "/api/jwt/refresh", withCookie("refresh_token", login.RefreshToken)).wantJSON(t, 200, nil)
}

func TestRefresh_RegistrationRemoved(t *testing.T) {
	t.Parallel()
	e := sharedEnv(t)
	userID, email := e.mustUser(t, e.appID)
	login := e.mustLogin(t, email, e.appID)
	e.do(t, "DELETE", "/api/user/registration/"+userID+"/"+e.appID, withKey(e.key)).wantEmpty(t, 200)
	e.refreshRefused(t, login.RefreshToken)
}

func TestRefresh_TenantHeader(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, email := e.mustUser(t, e.appID)
	login := e.mustLogin(t, email, e.appID)
	other := e.mustCreateTenant(t, "Other")
	e.refresh(t, login.RefreshToken, withTenant(other)).wantErrors(t, "[invalid]refreshToken")
	e.refresh(t, login.RefreshToken, withTenant(e.tenantID)).wantJSON(t, 200, nil)
	e.refresh(t, login.RefreshToken).wantJSON(t, 200, nil)
}

// Sixteen concurrent refreshes of one OneTimeUse value: exactly one
// rotation happens, every success hands out the same successor, and the
// session goes on with it.
func TestRefresh_OneTimeUseConcurrent(t *testing.T) {
	t.Parallel()
	e := sharedEnv(t)
	appID, email := e.policyApp(t, map[string]any{
		"refreshTokenUsagePolicy":             "OneTimeUse",
		"refreshTokenOneTimeUseConfiguration": map[string]any{"gracePeriodInSeconds": 30},
		"refreshTokenRevocationPolicy":        map[string]any{"onOneTimeTokenReuse": true},
	})
	login := e.mustLogin(t, email, appID)

	const n = 16
	var wg sync.WaitGroup
	results := make([]*response, n)
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			results[i] = e.refresh(t, login.RefreshToken)
		}()
	}
	close(start)
	wg.Wait()

	successors := map[string]int{}
	for i, r := range results {
		switch r.Status {
		case 200:
			var res api.JWTRefreshResponse
			r.wantJSON(t, 200, &res)
			successors[res.RefreshToken]++
			if res.RefreshTokenID != login.RefreshTokenID {
				t.Errorf("request %d: refreshTokenId %s", i, res.RefreshTokenID)
			}
		default:
			t.Errorf("request %d: %s, want 200 within the grace period", i, r)
		}
	}
	if len(successors) != 1 {
		t.Fatalf("%d distinct successors, want exactly 1: %v", len(successors), successors)
	}
	var next string
	for v := range successors {
		next = v
	}
	if next == login.RefreshToken {
		t.Fatal("no rotation happened")
	}
	// The session lives on with the one successor.
	after := e.mustRefresh(t, next)
	if after.RefreshToken == next || after.RefreshTokenID != login.RefreshTokenID {
		t.Errorf("refresh with the successor: %+v", after)
	}
	e.mustRefresh(t, after.RefreshToken)
}

func equalJSON(a, b any) bool {
	ab, _ := json.Marshal(a)
	bb, _ := json.Marshal(b)
	return bytes.Equal(ab, bb)
}
