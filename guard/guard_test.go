package guard_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/latchid/latch/api"
	"github.com/latchid/latch/guard"
)

// Steps 6-8: a valid JWT is served from the cached keys, with no call to
// Latch, even when the app sends its refresh token along as the article's
// app does.
func TestHandler_ValidJWT(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	login := f.session(t)
	next := &backend{}
	h := f.g.Handler(next)

	rec := serve(h, request(login.Token, login.RefreshToken))
	if rec.Code != http.StatusOK || rec.Body.String() != "cart of "+login.User.ID {
		t.Fatalf("first request: %d %q", rec.Code, rec.Body)
	}
	if diff := cmp.Diff(map[string]int{jwksCall: 1}, map[string]int{jwksCall: f.rt.n(jwksCall)}); diff != "" || f.rt.total() != 1 {
		t.Fatalf("cold start: want exactly one JWKS fetch, got %d calls (%s)", f.rt.total(), diff)
	}

	f.rt.reset()
	for i := 0; i < 20; i++ {
		f.clock.Advance(2 * time.Second)
		if rec := serve(h, request(login.Token, login.RefreshToken)); rec.Code != http.StatusOK {
			t.Fatalf("request %d: %d %s", i, rec.Code, rec.Body)
		} else if rec.Header().Get(api.HeaderAccessToken) != "" || rec.Header().Get(api.HeaderRefreshToken) != "" {
			t.Fatalf("request %d: tokens in the answer to a valid JWT", i)
		}
	}
	if n := f.rt.total(); n != 0 {
		t.Errorf("valid JWTs made %d calls to Latch, want 0", n)
	}
	if n := next.calls.Load(); n != 21 {
		t.Errorf("next ran %d times, want 21", n)
	}
	f.noTokensLogged(t, login.Token, login.RefreshToken)
}

// The claims in the context are the token's, and TokensFrom gives the
// request's tokens.
func TestHandler_Context(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	login := f.session(t)
	var got *api.Claims
	var tokens guard.Tokens
	h := f.g.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, _ = guard.ClaimsFrom(r.Context())
		tokens, _ = guard.TokensFrom(r.Context())
	}))
	serve(h, request(login.Token, login.RefreshToken))
	want, err := f.g.Verify(context.Background(), login.Token)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("claims in the context (-want +got):\n%s", diff)
	}
	if got.Subject != login.User.ID || got.Email != login.User.Email || !got.Audience.Contains(f.appID) || got.Issuer != f.url {
		t.Errorf("claims %+v do not describe the user's login", got)
	}
	if diff := cmp.Diff(guard.Tokens{AccessToken: login.Token, RefreshToken: login.RefreshToken}, tokens); diff != "" {
		t.Errorf("TokensFrom (-want +got):\n%s", diff)
	}
}

// Steps 9-12 under the Reusable policy: the expired JWT is refreshed with
// one call to Latch, the new JWT comes back in Access-Token, and no
// Refresh-Token header is sent since the value did not change.
func TestHandler_RefreshReusable(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.jwtConfig(t, f.appID, api.RefreshReusable)
	login := f.session(t)
	next := &backend{}
	var tokens guard.Tokens
	h := f.g.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tokens, _ = guard.TokensFrom(r.Context())
		next.ServeHTTP(w, r)
	}))
	serve(h, request(login.Token, "")) // warms the key set

	// Within the leeway the JWT still passes, without a refresh (with a
	// refresh token it would be refreshed early: TestHandler_EarlyRefresh).
	f.clock.Advance(ttl + 20*time.Second)
	f.rt.reset()
	if rec := serve(h, request(login.Token, "")); rec.Code != http.StatusOK || rec.Header().Get(api.HeaderAccessToken) != "" {
		t.Fatalf("inside the leeway: %d, Access-Token %t", rec.Code, rec.Header().Get(api.HeaderAccessToken) != "")
	}
	if n := f.rt.total(); n != 0 {
		t.Fatalf("inside the leeway: %d calls to Latch", n)
	}

	f.clock.Advance(11 * time.Second) // past exp + leeway
	_, err := f.g.Verify(context.Background(), login.Token)
	if !errors.Is(err, guard.ErrExpired) {
		t.Fatalf("Verify of the old JWT = %v, want ErrExpired", err)
	}
	if exp := time.UnixMilli(login.TokenExpirationInstant).UTC().Format(time.RFC3339); !strings.Contains(err.Error(), exp) {
		t.Fatalf("Verify error %v: want the token's exp, %s", err, exp)
	}
	rec := serve(h, request(login.Token, login.RefreshToken))
	if rec.Code != http.StatusOK || rec.Body.String() != "cart of "+login.User.ID {
		t.Fatalf("refresh: %d %q", rec.Code, rec.Body)
	}
	if n := f.rt.n(refreshCall); n != 1 || f.rt.total() != 1 {
		t.Errorf("refresh: %d refresh calls, %d calls in all; want 1 and 1", n, f.rt.total())
	}
	newJWT := rec.Header().Get(api.HeaderAccessToken)
	if newJWT == "" || newJWT == login.Token {
		t.Fatalf("Access-Token header missing or unchanged")
	}
	if v := rec.Header().Get(api.HeaderRefreshToken); v != "" {
		t.Errorf("Reusable: Refresh-Token header sent though the value did not change")
	}
	if cc := rec.Header().Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control %q, want no-store", cc)
	}
	claims, err := f.g.Verify(context.Background(), newJWT)
	if err != nil {
		t.Fatalf("the new JWT does not verify: %v", err)
	}
	if claims.Subject != login.User.ID || claims.AuthenticationType != api.AuthRefreshToken {
		t.Errorf("new JWT: sub %q authenticationType %q", claims.Subject, claims.AuthenticationType)
	}
	if diff := cmp.Diff(guard.Tokens{AccessToken: newJWT, RefreshToken: login.RefreshToken, Refreshed: true}, tokens); diff != "" {
		t.Errorf("TokensFrom after a refresh (-want +got):\n%s", diff)
	}

	// The app adopts the new JWT: served with no further call.
	f.rt.reset()
	if rec := serve(h, request(newJWT, login.RefreshToken)); rec.Code != http.StatusOK {
		t.Fatalf("with the new JWT: %d", rec.Code)
	}
	if n := f.rt.total(); n != 0 {
		t.Errorf("with the new JWT: %d calls to Latch", n)
	}
	f.noTokensLogged(t, login.Token, login.RefreshToken, newJWT)
}

// Under OneTimeUse the rotated refresh token comes back in the
// Refresh-Token header, and the next refresh works with it.
func TestHandler_RefreshOneTimeUse(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.jwtConfig(t, f.appID, api.RefreshOneTimeUse)
	login := f.session(t)
	h := f.g.Handler(&backend{})

	jwt, rt := login.Token, login.RefreshToken
	seen := map[string]bool{rt: true}
	for i := 0; i < 3; i++ {
		f.clock.Advance(ttl + guard.DefaultLeeway + time.Second)
		rec := serve(h, request(jwt, rt))
		if rec.Code != http.StatusOK {
			t.Fatalf("refresh %d: %d %s", i, rec.Code, rec.Body)
		}
		newJWT, newRT := rec.Header().Get(api.HeaderAccessToken), rec.Header().Get(api.HeaderRefreshToken)
		if newJWT == "" || newJWT == jwt {
			t.Fatalf("refresh %d: no new Access-Token", i)
		}
		if newRT == "" || seen[newRT] {
			t.Fatalf("refresh %d: OneTimeUse but no new Refresh-Token header", i)
		}
		seen[newRT] = true
		jwt, rt = newJWT, newRT
	}
	if n := f.rt.n(refreshCall); n != 3 {
		t.Errorf("%d refresh calls, want 3", n)
	}

	// The first value, long rotated (past the grace period and guard's
	// reuse window), is refused: log in again.
	f.clock.Advance(ttl + guard.DefaultLeeway + time.Second)
	rec := serve(h, request(jwt, login.RefreshToken))
	wantRefusal(t, rec, http.StatusUnauthorized, "invalid_token", "*")
}

// Eight requests at once with the same expired JWT and refresh token make
// one call to Latch and all get the same new tokens; a request arriving
// just after the flight landed reuses its outcome too.
func TestHandler_ConcurrentRefresh(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.jwtConfig(t, f.appID, api.RefreshOneTimeUse)
	login := f.session(t)
	next := &backend{}
	h := f.g.Handler(next)
	serve(h, request(login.Token, "")) // warms the key set
	f.clock.Advance(ttl + guard.DefaultLeeway + time.Second)
	f.rt.reset()
	f.rt.SetRefreshDelay(50 * time.Millisecond)

	const n = 8
	type got struct {
		code    int
		jwt, rt string
	}
	results := make([]got, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			rec := serve(h, request(login.Token, login.RefreshToken))
			results[i] = got{rec.Code, rec.Header().Get(api.HeaderAccessToken), rec.Header().Get(api.HeaderRefreshToken)}
		}()
	}
	close(start)
	wg.Wait()

	if c := f.rt.n(refreshCall); c != 1 {
		t.Errorf("%d refresh calls for %d concurrent requests, want 1", c, n)
	}
	first := results[0]
	if first.code != http.StatusOK || first.jwt == "" || first.rt == "" || first.rt == login.RefreshToken {
		t.Fatalf("request 0: %+v", first.code)
	}
	for i, r := range results {
		if r != first {
			t.Errorf("request %d got other tokens (or status %d) than request 0", i, r.code)
		}
	}
	if c := next.calls.Load(); c != n+1 {
		t.Errorf("next ran %d times, want %d", c, n+1)
	}

	// A straggler with the old tokens, after the flight: same answer, no call.
	rec := serve(h, request(login.Token, login.RefreshToken))
	if rec.Code != http.StatusOK || rec.Header().Get(api.HeaderAccessToken) != first.jwt || rec.Header().Get(api.HeaderRefreshToken) != first.rt {
		t.Errorf("straggler: %d, same tokens: %t", rec.Code, rec.Header().Get(api.HeaderAccessToken) == first.jwt)
	}
	if c := f.rt.n(refreshCall); c != 1 {
		t.Errorf("straggler made a refresh call (%d in all)", c)
	}
	f.noTokensLogged(t, login.Token, login.RefreshToken, first.jwt, first.rt)
}

// Steps 13-16: a revoked refresh token is refused by Latch, and guard
// answers 401 without running next.
func TestHandler_RevokedRefreshToken(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	login := f.session(t)
	f.mustCall(t, "DELETE", "/api/jwt/refresh", api.RefreshTokenRevokeRequest{Token: login.RefreshToken}, nil)
	next := &backend{}
	h := f.g.Handler(next)

	f.clock.Advance(2 * time.Hour) // the tenant's default JWT lifetime is shorter
	rec := serve(h, request(login.Token, login.RefreshToken))
	desc := "The refresh token is invalid, expired or revoked; log in again."
	wantRefusal(t, rec, http.StatusUnauthorized, "invalid_token", invalidToken(desc))
	if c := f.rt.n(refreshCall); c != 1 {
		t.Errorf("%d refresh calls, want 1", c)
	}
	if c := next.calls.Load(); c != 0 {
		t.Errorf("next ran %d times", c)
	}
	f.noTokensLogged(t, login.Token, login.RefreshToken)
}

// A request without credentials: 401 with a bare Bearer challenge
// (RFC 6750 §3.1), and no call to Latch.
func TestHandler_NoToken(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	next := &backend{}
	h := f.g.Handler(next)
	for name, r := range map[string]*http.Request{
		"none":  request("", ""),
		"basic": func() *http.Request { r := request("", ""); r.SetBasicAuth("a", "b"); return r }(),
	} {
		rec := serve(h, r)
		wantRefusal(t, rec, http.StatusUnauthorized, "invalid_token", "Bearer")
		if name == "none" && !strings.Contains(rec.Body.String(), "no access token") {
			t.Errorf("%s: body %s", name, rec.Body)
		}
	}
	if c := f.rt.total(); c != 0 {
		t.Errorf("%d calls to Latch", c)
	}
	if c := next.calls.Load(); c != 0 {
		t.Errorf("next ran %d times", c)
	}
}

// Tokens Latch signed for someone else, and tokens Latch never signed, are
// refused with 401 and never reach next.
func TestHandler_RefusedTokens(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	login := f.session(t)
	kid := headerOf(t, login.Token)["kid"].(string)

	// Another audience: a real token of another application.
	var other api.ApplicationResponse
	f.mustCall(t, "POST", "/api/application", map[string]any{"application": map[string]any{"name": "Other"}}, &other)
	otherApp := f.login(t, f.newUser(t, other.Application.ID), other.Application.ID)

	// HS256 keyed with Latch's public key (the algorithm-confusion attack).
	var pk api.PublicKeyResponse
	f.mustCall(t, "GET", "/api/jwt/public-key?kid="+kid, nil, &pk)
	if pk.PublicKey == "" {
		t.Fatalf("no public key for kid %s", kid)
	}
	payload := payloadOf(t, login.Token)
	confused := signToken(t, hs256Key([]byte(pk.PublicKey)), map[string]any{"alg": "HS256", "kid": kid, "typ": "at+jwt"}, payload)
	none := encodeSegment(t, map[string]any{"alg": "none", "kid": kid, "typ": "at+jwt"}) + "." + strings.Split(login.Token, ".")[1] + "."

	tampered := payloadOf(t, login.Token)
	tampered["sub"] = otherApp.User.ID
	parts := strings.Split(login.Token, ".")
	tamperedToken := parts[0] + "." + encodeSegment(t, tampered) + "." + parts[2]

	// Another issuer: the same keys, but a tenant issuer this backend does
	// not trust. Last, since it changes the tenant.
	var tenants api.TenantResponse
	f.mustCall(t, "GET", "/api/tenant", nil, &tenants)
	f.mustCall(t, "PATCH", "/api/tenant/"+tenants.Tenants[0].ID, map[string]any{"tenant": map[string]any{"issuer": "https://other.example"}}, nil)
	otherIss := f.session(t)

	next := &backend{}
	h := f.g.Handler(next)
	serve(h, request(login.Token, "")) // warms the key set
	for _, tc := range []struct {
		name, token string
		want        error
		desc        string
	}{
		{"other audience", otherApp.Token, guard.ErrAudience, "The access token was not issued for this service."},
		{"other issuer", otherIss.Token, guard.ErrIssuer, "The access token was not issued for this service."},
		{"alg none", none, guard.ErrAlgorithm, "The access token is invalid."},
		{"HS256 with the public key", confused, guard.ErrAlgorithm, "The access token is invalid."},
		{"tampered payload", tamperedToken, guard.ErrSignature, "The access token is invalid."},
		{"tampered signature", tamperSignature(login.Token), guard.ErrSignature, "The access token is invalid."},
		{"garbage", "not-a-jwt", guard.ErrMalformed, "The access token is invalid."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := f.g.Verify(context.Background(), tc.token); !errors.Is(err, tc.want) {
				t.Errorf("Verify = %v, want %v", err, tc.want)
			}
			rec := serve(h, request(tc.token, ""))
			wantRefusal(t, rec, http.StatusUnauthorized, "invalid_token", invalidToken(tc.desc))
		})
	}
	if c := next.calls.Load(); c != 1 {
		t.Errorf("next ran %d times, want 1 (the warm-up)", c)
	}
	if c := f.rt.n(refreshCall); c != 0 {
		t.Errorf("%d refresh calls without a refresh token", c)
	}
}

// oauthTokens gets tokens for a new user of the application Default from
// Latch's token endpoint with the openid scope: an access token, the ID
// token that comes with it (same key, iss, aud, sub and sid), and a
// refresh token.
func (f *fixture) oauthTokens(t *testing.T) api.AccessTokenResponse {
	t.Helper()
	const secret = "guard-test-client-secret-0123456789abcdef"
	f.mustCall(t, "PATCH", "/api/application/"+f.appID, map[string]any{"application": map[string]any{"oauthConfiguration": map[string]any{
		"clientSecret": secret, "enabledGrants": []string{"password", "refresh_token"}, "clientAuthenticationPolicy": "Required",
	}}}, nil)
	form := url.Values{"grant_type": {"password"}, "username": {f.newUser(t, f.appID)}, "password": {testPassword}, "scope": {"openid offline_access"}}
	req, err := http.NewRequest("POST", f.url+"/oauth2/token", strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(f.appID, secret)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var tok api.AccessTokenResponse
	if err := json.NewDecoder(res.Body).Decode(&tok); err != nil || res.StatusCode != http.StatusOK || tok.IDToken == "" || tok.RefreshToken == "" {
		t.Fatalf("token endpoint: %d %+v %v", res.StatusCode, tok, err)
	}
	return tok
}

// guard takes only access tokens, and each in one string: an ID token of
// Latch's, signed by the same key for the same application, user and
// session, is refused like any invalid token, and so is the high-S twin
// of an access token. With a refresh token guard refreshes instead, as
// for any invalid JWT: so an app that holds a JWT not typed at+jwt (one
// issued before Latch typed them) gets a new one, not a 401.
func TestHandler_OnlyAccessTokens(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	tok := f.oauthTokens(t)
	if h := headerOf(t, tok.AccessToken); h["typ"] != "at+jwt" || h["alg"] != "ES256" {
		t.Fatalf("access token header %v, want ES256 at+jwt", h)
	}
	if h := headerOf(t, tok.IDToken); h["typ"] != "JWT" {
		t.Fatalf("ID token header %v, want typ JWT", h)
	}
	next := &backend{}
	h := f.g.Handler(next)
	if rec := serve(h, request(tok.AccessToken, "")); rec.Code != http.StatusOK {
		t.Fatalf("the access token: %d %s", rec.Code, rec.Body)
	}
	for _, tc := range []struct {
		name, token string
		want        error
	}{
		{"an ID token", tok.IDToken, guard.ErrHeader},
		{"the high-S twin of the access token", highSTwin(t, tok.AccessToken), guard.ErrSignature},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := f.g.Verify(context.Background(), tc.token); !errors.Is(err, tc.want) {
				t.Errorf("Verify = %v, want %v", err, tc.want)
			}
			rec := serve(h, request(tc.token, ""))
			wantRefusal(t, rec, http.StatusUnauthorized, "invalid_token", invalidToken("The access token is invalid."))

			// (The second case is answered from guard's cache of the
			// first's refresh.)
			rec = serve(h, request(tc.token, tok.RefreshToken))
			fresh := rec.Header().Get(api.HeaderAccessToken)
			if rec.Code != http.StatusOK || fresh == "" || f.rt.n(refreshCall) != 1 {
				t.Fatalf("with the refresh token: %d, Access-Token %t, %d refresh calls", rec.Code, fresh != "", f.rt.n(refreshCall))
			}
			if h := headerOf(t, fresh); h["typ"] != "at+jwt" {
				t.Errorf("refreshed token header %v", h)
			}
		})
	}
	if c := next.calls.Load(); c != 3 {
		t.Errorf("next ran %d times, want 3 (the access token, then the two refreshed)", c)
	}
}

// A key rotation: the first token with the new kid makes guard fetch the
// JWKS once; old tokens keep verifying; a storm of made-up kids costs at
// most one fetch per MinJWKSRefetchInterval.
func TestRemoteKeySet_Rotation(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	email := f.newUser(t, f.appID)
	before := f.login(t, email, f.appID)
	if _, err := f.g.Verify(ctx, before.Token); err != nil {
		t.Fatal(err)
	}
	if c := f.rt.n(jwksCall); c != 1 {
		t.Fatalf("%d JWKS fetches for the first token, want 1", c)
	}

	if _, err := f.Server.Identity().RotateKey(ctx, ""); err != nil {
		t.Fatalf("RotateKey: %v", err)
	}
	after := f.login(t, email, f.appID)
	if a, b := headerOf(t, before.Token)["kid"], headerOf(t, after.Token)["kid"]; a == b {
		t.Fatalf("kid %v did not change with the rotation", a)
	}

	// Within the floor of the cold-start fetch: the new kid is unknown,
	// and nothing is fetched.
	f.rt.reset()
	if _, err := f.g.Verify(ctx, after.Token); !errors.Is(err, guard.ErrUnknownKey) {
		t.Fatalf("inside the floor: Verify = %v, want ErrUnknownKey", err)
	}
	if c := f.rt.total(); c != 0 {
		t.Fatalf("inside the floor: %d calls", c)
	}

	f.clock.Advance(guard.DefaultMinJWKSRefetchInterval)
	if _, err := f.g.Verify(ctx, after.Token); err != nil {
		t.Fatalf("after the floor: Verify of the new token = %v", err)
	}
	if _, err := f.g.Verify(ctx, before.Token); err != nil {
		t.Fatalf("the token signed before the rotation: %v", err)
	}
	if c := f.rt.n(jwksCall); c != 1 {
		t.Fatalf("%d JWKS fetches for the new kid, want 1", c)
	}

	// A storm of unknown kids, right after a fetch: no fetch at all.
	storm := func() {
		t.Helper()
		var wg sync.WaitGroup
		for i := range 50 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				tok := forge(t, f, "unknown-"+string(rune('a'+i%26))+time.Duration(i).String())
				if _, err := f.g.Verify(ctx, tok); !errors.Is(err, guard.ErrUnknownKey) {
					t.Errorf("forged kid: Verify = %v, want ErrUnknownKey", err)
				}
			}()
		}
		wg.Wait()
	}
	f.rt.reset()
	storm()
	if c := f.rt.total(); c != 0 {
		t.Errorf("storm inside the floor: %d calls, want 0", c)
	}
	// Once the floor has passed: one fetch for the whole storm.
	f.clock.Advance(guard.DefaultMinJWKSRefetchInterval)
	storm()
	if c := f.rt.total(); c != 1 {
		t.Errorf("storm after the floor: %d calls, want 1", c)
	}
}

// Latch down: JWTs still verify against the cached keys, but a refresh
// cannot happen: 503 with Retry-After, not a 401 that would log the user
// out.
func TestHandler_LatchDown(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	login := f.session(t)
	next := &backend{}
	h := f.g.Handler(next)
	if rec := serve(h, request(login.Token, login.RefreshToken)); rec.Code != http.StatusOK {
		t.Fatalf("warm-up: %d", rec.Code)
	}
	cold := f.guard(t) // has never fetched the keys
	f.Close()

	if rec := serve(h, request(login.Token, login.RefreshToken)); rec.Code != http.StatusOK {
		t.Fatalf("valid JWT with Latch down: %d %s", rec.Code, rec.Body)
	}

	f.clock.Advance(2 * time.Hour)
	rec := serve(h, request(login.Token, login.RefreshToken))
	wantRefusal(t, rec, http.StatusServiceUnavailable, "temporarily_unavailable", "")
	if ra := rec.Header().Get("Retry-After"); ra == "" {
		t.Error("503 without Retry-After")
	}
	// Expired and nothing to refresh with: that is a 401 whatever Latch does.
	wantRefusal(t, serve(h, request(login.Token, "")), http.StatusUnauthorized, "invalid_token", invalidToken("The access token expired."))

	// A guard that never saw the keys cannot check a token: 503.
	f.clock.Advance(-2 * time.Hour)
	rec = serve(cold.Handler(next), request(login.Token, ""))
	wantRefusal(t, rec, http.StatusServiceUnavailable, "temporarily_unavailable", "")
	if _, err := cold.Verify(context.Background(), login.Token); !errors.Is(err, guard.ErrKeySetUnavailable) {
		t.Errorf("cold Verify = %v, want ErrKeySetUnavailable", err)
	}
	if c := next.calls.Load(); c != 2 {
		t.Errorf("next ran %d times, want 2", c)
	}
	f.noTokensLogged(t, login.Token, login.RefreshToken)
}

// RequireRole lets through only users whose claims grant the role.
func TestRequireRole(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	for _, role := range []map[string]any{{"name": "admin"}, {"name": "user", "isDefault": true}} {
		f.mustCall(t, "POST", "/api/application/"+f.appID+"/role", map[string]any{"role": role}, nil)
	}
	admin := f.login(t, f.newUser(t, f.appID, "admin", "user"), f.appID)
	user := f.login(t, f.newUser(t, f.appID), f.appID)
	next := &backend{}
	h := f.g.Handler(guard.RequireRole("admin", next))

	if rec := serve(h, request(admin.Token, "")); rec.Code != http.StatusOK {
		t.Fatalf("admin: %d %s", rec.Code, rec.Body)
	}
	rec := serve(h, request(user.Token, ""))
	desc := "The user lacks the role this resource requires."
	wantRefusal(t, rec, http.StatusForbidden, "insufficient_scope", `Bearer error="insufficient_scope", error_description="`+desc+`"`)
	if c := next.calls.Load(); c != 1 {
		t.Errorf("next ran %d times, want 1", c)
	}
	// Outside Handler there are no claims: refused, not let through.
	wantRefusal(t, serve(guard.RequireRole("admin", next), request(admin.Token, "")), http.StatusUnauthorized, "invalid_token", "Bearer")
}

// roundRobin sends each request to the next of several Latch nodes that
// stand behind one URL: no affinity whatsoever.
type roundRobin struct {
	next  atomic.Int64
	hosts []string // host:port of each node
	base  http.RoundTripper
}

func (rr *roundRobin) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	req.URL.Host = rr.hosts[int(rr.next.Add(1))%len(rr.hosts)]
	req.Host = req.URL.Host
	return rr.base.RoundTrip(req)
}

// Two backends behind one Latch URL served by two nodes over one
// database: when both get the same expired JWT and one-time-use refresh
// token at once, each calls Latch once, whichever node answers, and
// Latch's grace period hands both the same successor.
func TestHandler_TwoNodes(t *testing.T) {
	t.Parallel()
	const issuer = "https://latch.example.test"
	dir, clock := t.TempDir(), newClock()
	a := startNode(t, dir, clock, issuer)
	b := startNode(t, dir, clock, issuer)
	rr := &roundRobin{hosts: []string{strings.TrimPrefix(a.url, "http://"), strings.TrimPrefix(b.url, "http://")}, base: http.DefaultTransport}
	f := attach(t, a, rr)
	sameIssuer := func(c *guard.Config) { c.Issuer = issuer }
	backends := []*guard.Guard{f.guard(t, sameIssuer), f.guard(t, sameIssuer)}

	// An application's own jwtConfiguration has no grace period unless
	// it sets one; races between backends need it.
	f.jwtConfig(t, f.appID, api.RefreshOneTimeUse, map[string]any{
		"refreshTokenOneTimeUseConfiguration": map[string]any{"gracePeriodInSeconds": 30},
	})
	login := f.session(t)
	for i, g := range backends {
		if rec := serve(g.Handler(&backend{}), request(login.Token, "")); rec.Code != http.StatusOK {
			t.Fatalf("backend %d, valid JWT: %d %s", i, rec.Code, rec.Body)
		}
	}
	clock.Advance(ttl + guard.DefaultLeeway + time.Second)
	f.rt.reset()

	recs := make([]*httptest.ResponseRecorder, len(backends))
	var wg sync.WaitGroup
	for i, g := range backends {
		wg.Add(1)
		go func() {
			defer wg.Done()
			recs[i] = serve(g.Handler(&backend{}), request(login.Token, login.RefreshToken))
		}()
	}
	wg.Wait()
	if n := f.rt.n(refreshCall); n != 2 {
		t.Errorf("%d refresh calls from two backends, want 2", n)
	}
	for i, rec := range recs {
		if rec.Code != http.StatusOK || rec.Header().Get(api.HeaderAccessToken) == "" {
			t.Fatalf("backend %d: %d %s", i, rec.Code, rec.Body)
		}
	}
	successor := recs[0].Header().Get(api.HeaderRefreshToken)
	if successor == "" || recs[1].Header().Get(api.HeaderRefreshToken) != successor {
		t.Errorf("the backends were handed different successors (or none)")
	}
	// Each backend verifies the JWT the other one got from the other node.
	for i, g := range backends {
		other := recs[1-i].Header().Get(api.HeaderAccessToken)
		if _, err := g.Verify(context.Background(), other); err != nil {
			t.Errorf("backend %d, the other backend's new JWT: %v", i, err)
		}
	}
}
