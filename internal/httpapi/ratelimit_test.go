package httpapi_test

import (
	"fmt"
	"net/netip"
	"net/url"
	"testing"
	"time"

	"github.com/latchid/latch/api"
	"github.com/latchid/latch/internal/httpapi"
	"github.com/latchid/latch/internal/server"
)

// refreshLimited is a Latch with refreshes limited to three a minute per
// session, and three refused ones a minute per client, behind a trusted
// proxy (loopback) whose X-Forwarded-For names the client.
func refreshLimited(t *testing.T, limits httpapi.RateLimits) *env {
	t.Helper()
	return newEnvWith(t, func(c *server.Config) {
		c.RateLimits = limits
		c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	})
}

// forwardedFor names the client behind the trusted proxy.
func forwardedFor(addr string) reqOpt { return withHeader("X-Forwarded-For", addr) }

// wantRateLimited asserts a 429 with Retry-After (in seconds) and the
// Refresh API's error JSON: a [RateLimited] general error.
func (r *response) wantRateLimited(t testing.TB, retryAfter string) {
	t.Helper()
	errs := r.wantStatusJSON(t, 429)
	if len(errs.GeneralErrors) != 1 || errs.GeneralErrors[0].Code != "[RateLimited]" {
		t.Errorf("%s: want one [RateLimited] general error", r)
	}
	if got := r.Header.Get("Retry-After"); got != retryAfter {
		t.Errorf("%s: Retry-After %q, want %q", r, got, retryAfter)
	}
}

// wantStatusJSON decodes an api.Errors body of a status.
func (r *response) wantStatusJSON(t testing.TB, code int) api.Errors {
	t.Helper()
	var errs api.Errors
	r.wantJSON(t, code, &errs)
	return errs
}

func TestDefaultRateLimits(t *testing.T) {
	if got := httpapi.DefaultRateLimits(); got.Login != 60 || got.Token != 120 || got.Refresh != 60 {
		t.Errorf("DefaultRateLimits() = %+v, want Login 60, Token 120, Refresh 60 (docs/configuration.md)", got)
	}
}

// A refresh counts against its session: one session is limited, whoever
// refreshes it, across rotations; a backend refreshing many users'
// sessions from one address is not.
func TestRateLimit_RefreshPerSession(t *testing.T) {
	t.Parallel()
	e := refreshLimited(t, httpapi.RateLimits{Refresh: 3})
	appID, email := e.policyApp(t, map[string]any{"refreshTokenUsagePolicy": "OneTimeUse"})

	// One backend, one address, ten users: thirty refreshes, none limited.
	rts := make([]string, 10)
	for i := range rts {
		rts[i] = e.mustLogin(t, email, appID).RefreshToken
	}
	for round := range 3 {
		for i, rt := range rts {
			var res api.JWTRefreshResponse
			if r := e.refresh(t, rt); r.Status != 200 {
				t.Fatalf("round %d, session %d: %s", round, i, r)
			} else {
				r.wantJSON(t, 200, &res)
			}
			rts[i] = res.RefreshToken
		}
	}
	// A fourth refresh of one session within the minute, with the value it
	// rotated to and from another client: 429, for that session only.
	e.refresh(t, rts[0], forwardedFor("203.0.113.50")).wantRateLimited(t, "20")
	e.refresh(t, rts[0]).wantRateLimited(t, "20")
	other := e.mustLogin(t, email, appID).RefreshToken
	e.mustRefresh(t, other)
	// Once a refresh's worth of the minute has passed, it goes through.
	e.clock.Advance(20 * time.Second)
	e.mustRefresh(t, rts[0])
}

// A refresh that reaches no live session counts against its client (the
// peer, or the address a caller with an API key vouches for). Past that
// budget the client's refreshes are answered 429 unless they succeed, one
// whose token is no live session's before its proof is even checked; its
// refreshes of live sessions go on.
func TestRateLimit_RefreshRefusedPerClient(t *testing.T) {
	t.Parallel()
	e := refreshLimited(t, httpapi.RateLimits{Refresh: 3})
	appID, email := e.policyApp(t, nil)
	live := e.mustLogin(t, email, appID).RefreshToken
	dev := newDeviceKey(t)
	var bound api.LoginResponse
	e.login(t, map[string]any{"loginId": email, "password": testPassword, "applicationId": appID},
		withDPoP(dev.proof(t, e, "POST", "/api/login"))).wantJSON(t, 200, &bound)
	flooder := forwardedFor("203.0.113.9")

	for range 3 {
		e.refresh(t, "made-up-"+randomSuffix(), flooder).wantErrors(t, "[invalid]refreshToken")
	}
	e.refresh(t, "made-up-"+randomSuffix(), flooder).wantRateLimited(t, "20")
	// No proof is checked for a token of no live session: a junk proof
	// gets 429, not invalid_dpop_proof.
	e.refresh(t, "made-up-"+randomSuffix(), flooder, withDPoP("not-a-proof")).wantRateLimited(t, "20")
	// The answer tells nothing of a live token that is refused (bound to a
	// key the request does not prove).
	e.refresh(t, bound.RefreshToken, flooder).wantRateLimited(t, "20")
	// A live session's refresh from the same client goes through.
	var res api.JWTRefreshResponse
	e.refresh(t, live, flooder).wantJSON(t, 200, &res)
	e.refresh(t, bound.RefreshToken, flooder, withDPoP(dev.proof(t, e, "POST", "/api/jwt/refresh"))).wantJSON(t, 200, nil)

	// Another client is not limited by the first.
	e.refresh(t, "made-up-"+randomSuffix(), forwardedFor("203.0.113.10")).wantErrors(t, "[invalid]refreshToken")

	// A backend with an API key vouches for the end user's address; without
	// a key, eventInfo.ipAddress is the client's word and counts for
	// nothing.
	vouched := func(ip string, opts ...reqOpt) *response {
		body := map[string]any{"refreshToken": "made-up-" + randomSuffix(), "eventInfo": map[string]any{"ipAddress": ip}}
		return e.do(t, "POST", "/api/jwt/refresh", append([]reqOpt{withJSON(body), flooder}, opts...)...)
	}
	vouched("198.51.100.7").wantRateLimited(t, "20")
	for range 3 {
		vouched("198.51.100.7", withKey(e.key)).wantErrors(t, "[invalid]refreshToken")
	}
	vouched("198.51.100.7", withKey(e.key)).wantRateLimited(t, "20")
	vouched("198.51.100.8", withKey(e.key)).wantErrors(t, "[invalid]refreshToken")

	// A refused refresh's worth of the minute later, the client is heard
	// again.
	e.clock.Advance(20 * time.Second)
	e.refresh(t, "made-up-"+randomSuffix(), flooder).wantErrors(t, "[invalid]refreshToken")
	e.refresh(t, "made-up-"+randomSuffix(), flooder).wantRateLimited(t, "20")
}

// The refresh_token grant follows the Refresh API's rule, not the token
// endpoint's limit by address: a client refreshing many sessions from one
// address is limited per session, and its refused refreshes (an unknown
// token, a wrong client secret) per client, with OAuth's error JSON.
func TestRateLimit_RefreshGrant(t *testing.T) {
	t.Parallel()
	e := refreshLimited(t, httpapi.RateLimits{Token: 2, Refresh: 3})
	a := e.mustOAuthApp(t, map[string]any{"generateRefreshTokens": true})
	basic := withBasic(a.id, a.secret)
	rts := make([]string, 5)
	for i := range rts {
		// Password grants, from five addresses: the token endpoint's limit.
		var tok api.AccessTokenResponse
		e.token(t, passwordForm(a), basic, forwardedFor(fmt.Sprintf("192.0.2.%d", i+1))).wantJSON(t, 200, &tok)
		rts[i] = tok.RefreshToken
	}
	for round := range 3 {
		for i, rt := range rts {
			if r := e.token(t, refreshForm(rt), basic); r.Status != 200 {
				t.Fatalf("round %d, session %d: %s", round, i, r)
			}
		}
	}
	wantLimited := func(r *response) {
		t.Helper()
		oe := r.wantOAuthError(t, 429, "temporarily_unavailable")
		if oe.Reason != "rate_limited" || r.Header.Get("Retry-After") != "20" {
			t.Errorf("%s: reason %q, Retry-After %q", r, oe.Reason, r.Header.Get("Retry-After"))
		}
	}
	wantLimited(e.token(t, refreshForm(rts[0]), basic))

	flooder := forwardedFor("203.0.113.9")
	e.token(t, refreshForm("made-up"), basic, flooder).wantOAuthError(t, 400, api.OAuthInvalidGrant)
	e.token(t, refreshForm(rts[1]), withBasic(a.id, "a wrong secret"), flooder).wantOAuthError(t, 401, api.OAuthInvalidClient)
	e.token(t, url.Values{"grant_type": {"refresh_token"}}, basic, flooder).wantOAuthError(t, 400, api.OAuthInvalidRequest)
	wantLimited(e.token(t, refreshForm("made-up"), basic, flooder))
	wantLimited(e.token(t, refreshForm(rts[1]), withBasic(a.id, "a wrong secret"), flooder))
	// Its live sessions are refreshed still; another client is heard.
	var tok api.AccessTokenResponse
	e.token(t, passwordForm(a), basic, forwardedFor("192.0.2.9")).wantJSON(t, 200, &tok)
	e.token(t, refreshForm(tok.RefreshToken), basic, flooder).wantJSON(t, 200, nil)
	e.token(t, refreshForm("made-up"), basic, forwardedFor("203.0.113.10")).wantOAuthError(t, 400, api.OAuthInvalidGrant)
}
