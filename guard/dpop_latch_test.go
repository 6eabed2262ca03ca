package guard_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/latchid/latch/api"
	"github.com/latchid/latch/dpop"
	"github.com/latchid/latch/guard"
)

// DPoP with a real Latch: the backend logs the user in with dpopJkt (as
// the storefront does after guard.VerifyProof), and guard holds the
// binding from then on, refreshes included.

// boundSession logs a new user of the application Default in through
// Latch's Login API with the API key and dpopJkt, and checks that the JWT
// is bound to the device's key.
func (f *fixture) boundSession(t *testing.T, d device) api.LoginResponse {
	t.Helper()
	var res api.LoginResponse
	f.mustCall(t, "POST", "/api/login", api.LoginRequest{
		LoginID: f.newUser(t, f.appID), Password: testPassword, ApplicationID: f.appID, DPoPJKT: d.jkt,
	}, &res)
	claims, err := f.g.Verify(context.Background(), res.Token)
	if err != nil {
		t.Fatalf("the bound JWT does not verify: %v", err)
	}
	if claims.Confirmation == nil || claims.Confirmation.JKT != d.jkt {
		t.Fatalf("Latch did not bind the JWT to the device's key: cnf %+v", claims.Confirmation)
	}
	return res
}

// at makes a proof at the fixture's time.
func (f *fixture) at() func(*dpop.ProofOptions) {
	now := f.clock.Now()
	return func(o *dpop.ProofOptions) { o.Now = now }
}

// The article's steps 6-12 with a bound session, and steps 18-21: the
// stolen JWT and the stolen refresh token are no use without the key.
func TestDPoP_Latch(t *testing.T) {
	t.Parallel()
	f := newFixture(t, func(c *guard.Config) { c.APIKey = "" })
	f.g = f.guard(t, func(c *guard.Config) { c.APIKey = f.APIKey })
	f.jwtConfig(t, f.appID, api.RefreshOneTimeUse)
	d, thief := newDevice(t), newDevice(t)
	login := f.boundSession(t, d)
	h := f.g.Handler(&backend{})

	// Steps 6-8: the bound JWT with a proof by its key; no call to Latch.
	// (Without the refresh token: the 60 s JWT is within the early refresh
	// window from the start.)
	serve(h, request(login.Token, "")) // warms the key set
	f.rt.reset()
	rec := serve(h, dpopRequest(login.Token, d.proof(t, "GET", cartURL, login.Token, f.at()), ""))
	if rec.Code != http.StatusOK || rec.Body.String() != "cart of "+login.User.ID {
		t.Fatalf("bound JWT with its proof: %d %s", rec.Code, rec.Body)
	}
	if n := f.rt.total(); n != 0 {
		t.Errorf("%d calls to Latch for a valid bound JWT", n)
	}
	// Steps 20-21: the stolen JWT, as Bearer or with the thief's key.
	wantRefusal(t, serve(h, request(login.Token, "")), http.StatusUnauthorized, "invalid_token", dpopChallenge("invalid_token"))
	wantRefusal(t, serve(h, dpopRequest(login.Token, thief.proof(t, "GET", cartURL, login.Token, f.at()), "")),
		http.StatusUnauthorized, "invalid_dpop_proof", dpopChallenge("invalid_dpop_proof"))

	// Steps 18-19, the JWT expired: the thief with the refresh token and
	// the expired JWT, but another key, is refused, by guard or by Latch.
	f.clock.Advance(ttl + guard.DefaultLeeway + time.Second)
	f.rt.reset()
	rec = serve(h, dpopRequest(login.Token, thief.proof(t, "GET", cartURL, login.Token, f.at()), login.RefreshToken))
	wantRefusal(t, rec, http.StatusUnauthorized, "invalid_dpop_proof", dpopChallenge("invalid_dpop_proof"))
	if n := f.rt.n(refreshCall); n != 0 {
		t.Errorf("the thief's proof reached Latch (%d calls)", n)
	}
	forged := boundToken(t, thief.jkt, f.clock.Now().Add(-time.Minute))
	for _, jwt := range []string{forged, ""} {
		rec = serve(h, dpopRequest(jwt, thief.proof(t, "GET", cartURL, jwt, f.at()), login.RefreshToken))
		wantRefusal(t, rec, http.StatusUnauthorized, "invalid_token", dpopChallenge("invalid_token"))
	}
	if n := f.rt.n(refreshCall); n != 2 {
		t.Errorf("%d refresh calls with the thief's key, want 2 (refused by Latch)", n)
	}

	// Steps 9-12: the device refreshes with its key; the session survived
	// the thief, and the new tokens are bound.
	rec = serve(h, dpopRequest(login.Token, d.proof(t, "GET", cartURL, login.Token, f.at()), login.RefreshToken))
	if rec.Code != http.StatusOK {
		t.Fatalf("the device's refresh after the thief's: %d %s", rec.Code, rec.Body)
	}
	jwt, rt := rec.Header().Get(api.HeaderAccessToken), rec.Header().Get(api.HeaderRefreshToken)
	if jwt == "" || rt == "" || rt == login.RefreshToken {
		t.Fatalf("new tokens: JWT %t, refresh token rotated %t", jwt != "", rt != "" && rt != login.RefreshToken)
	}
	claims, err := f.g.Verify(context.Background(), jwt)
	if err != nil || claims.Confirmation == nil || claims.Confirmation.JKT != d.jkt {
		t.Fatalf("the refreshed JWT: %+v, %v; want it bound to the device", claims, err)
	}
	if rec := serve(h, dpopRequest(jwt, d.proof(t, "GET", cartURL, jwt, f.at()), rt)); rec.Code != http.StatusOK {
		t.Errorf("with the refreshed JWT: %d %s", rec.Code, rec.Body)
	}
	// Without the API key, guard cannot refresh the bound session.
	noKey := f.guard(t)
	f.clock.Advance(ttl + guard.DefaultLeeway + time.Second)
	rec = serve(noKey.Handler(&backend{}), dpopRequest(jwt, d.proof(t, "GET", cartURL, jwt, f.at()), rt))
	wantRefusal(t, rec, http.StatusUnauthorized, "invalid_token", dpopChallenge("invalid_token"))
	f.noTokensLogged(t, login.Token, login.RefreshToken, jwt, rt)
}

// A refresh token revoked at Latch (a logout) is not served from guard's
// cache once the backend forgets it.
func TestForget_Latch(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	login := f.session(t)
	h := f.g.Handler(&backend{})
	f.clock.Advance(2 * time.Hour)
	if rec := serve(h, request(login.Token, login.RefreshToken)); rec.Code != http.StatusOK || rec.Header().Get(api.HeaderAccessToken) == "" {
		t.Fatalf("refresh: %d %s", rec.Code, rec.Body)
	}
	code, body := f.Call(t, f.APIKey, "POST", "/api/logout", api.LogoutRequest{RefreshToken: login.RefreshToken})
	if code != http.StatusOK {
		t.Fatalf("logout: %d %s", code, body)
	}
	f.g.Forget(login.RefreshToken)
	f.clock.Advance(time.Second)
	wantRefusal(t, serve(h, request(login.Token, login.RefreshToken)), http.StatusUnauthorized, "invalid_token", "*")
}

// A JWT about to expire is refreshed early, and the app's other requests
// with the same tokens, just after, get the same new ones.
func TestHandler_EarlyRefresh_Latch(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.jwtConfig(t, f.appID, api.RefreshOneTimeUse, map[string]any{"timeToLiveInSeconds": 300})
	login := f.session(t)
	h := f.g.Handler(&backend{})
	if rec := serve(h, request(login.Token, login.RefreshToken)); rec.Code != http.StatusOK || rec.Header().Get(api.HeaderAccessToken) != "" {
		t.Fatalf("far from expiry: %d, refreshed %t", rec.Code, rec.Header().Get(api.HeaderAccessToken) != "")
	}
	f.clock.Advance(270 * time.Second)
	f.rt.reset()
	first := serve(h, request(login.Token, login.RefreshToken))
	jwt, rt := first.Header().Get(api.HeaderAccessToken), first.Header().Get(api.HeaderRefreshToken)
	if first.Code != http.StatusOK || jwt == "" || rt == "" || rt == login.RefreshToken {
		t.Fatalf("30 s before expiry: %d, new JWT %t, rotated %t", first.Code, jwt != "", rt != "" && rt != login.RefreshToken)
	}
	f.clock.Advance(time.Second)
	again := serve(h, request(login.Token, login.RefreshToken))
	if again.Header().Get(api.HeaderAccessToken) != jwt || again.Header().Get(api.HeaderRefreshToken) != rt || f.rt.n(refreshCall) != 1 {
		t.Errorf("a request just after: other tokens, or %d refresh calls", f.rt.n(refreshCall))
	}
	if rec := serve(h, request(jwt, rt)); rec.Code != http.StatusOK || rec.Header().Get(api.HeaderAccessToken) != "" {
		t.Errorf("with the new tokens: %d, refreshed again %t", rec.Code, rec.Header().Get(api.HeaderAccessToken) != "")
	}
}
