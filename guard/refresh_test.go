package guard_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/latchid/latch/api"
	"github.com/latchid/latch/guard"
	"github.com/latchid/latch/internal/latchtest"
)

// Early refreshes, Forget and the cache's eviction on revocation events,
// without a Latch.

// countingLatch fakes Latch's refresh API: each call answers with status
// (200: a fresh JWT for the session sid of the user sub, and a new refresh
// token), counted.
type countingLatch struct {
	url    string
	calls  *atomic.Int64
	status atomic.Int64
	jkts   chan string
}

func newCountingLatch(t *testing.T, sign func(n int64) string) *countingLatch {
	t.Helper()
	l := &countingLatch{jkts: make(chan string, 100)}
	l.status.Store(http.StatusOK)
	l.url, l.calls = fakeLatch(t, func(w http.ResponseWriter, req api.RefreshRequest) {
		l.jkts <- req.DPoPJKT
		if s := int(l.status.Load()); s != http.StatusOK {
			w.WriteHeader(s)
			return
		}
		n := l.calls.Load()
		json.NewEncoder(w).Encode(api.JWTRefreshResponse{Token: sign(n), RefreshToken: fmt.Sprintf("rt-%d", n)})
	})
	return l
}

// An unexpired JWT with a refresh token is refreshed once it expires
// within RefreshWindow; a failure of that refresh serves the request with
// the JWT it carried.
func TestHandler_EarlyRefresh(t *testing.T) {
	t.Parallel()
	expiringIn := func(d time.Duration) string {
		return signToken(t, es256Key(testKeys.ec), hdr("ES256", "ec"), with(goodClaims(), "exp", epoch.Add(d).Unix()))
	}
	fresh := signToken(t, es256Key(testKeys.ec), hdr("ES256", "ec"), with(goodClaims(), "exp", epoch.Add(time.Hour).Unix(), "jti", "new"))
	for _, tc := range []struct {
		name      string
		expiresIn time.Duration
		window    time.Duration
		refresh   string // the Refresh-Token header
		status    int    // Latch's answer
		calls     int64
		refreshed bool
	}{
		{"WithinTheWindow", 30 * time.Second, 0, "rt-0", 200, 1, true},
		{"AtTheWindow", time.Minute, 0, "rt-0", 200, 1, true},
		{"InTheLeeway", -10 * time.Second, 0, "rt-0", 200, 1, true},
		{"BeforeTheWindow", time.Minute + time.Second, 0, "rt-0", 200, 0, false},
		{"NoRefreshToken", 30 * time.Second, 0, "", 200, 0, false},
		{"LongerWindow", 4 * time.Minute, 5 * time.Minute, "rt-0", 200, 1, true},
		{"Off", 10 * time.Second, -1, "rt-0", 200, 0, false},
		{"LatchRefuses", 30 * time.Second, 0, "rt-0", 400, 1, false},
		{"LatchFails", 30 * time.Second, 0, "rt-0", 503, 1, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			l := newCountingLatch(t, func(int64) string { return fresh })
			l.status.Store(int64(tc.status))
			logs := &latchtest.LogBuffer{}
			g := staticGuard(t, func(c *guard.Config) { c.LatchURL = l.url; c.RefreshWindow = tc.window; c.Logger = logs.Logger() })
			var got guard.Tokens
			var claims *api.Claims
			h := g.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				got, _ = guard.TokensFrom(r.Context())
				claims, _ = guard.ClaimsFrom(r.Context())
			}))
			old := expiringIn(tc.expiresIn)
			rec := serve(h, request(old, tc.refresh))
			if rec.Code != http.StatusOK {
				t.Fatalf("status %d %s", rec.Code, rec.Body)
			}
			if l.calls.Load() != tc.calls {
				t.Errorf("%d calls to Latch, want %d", l.calls.Load(), tc.calls)
			}
			if tc.refreshed {
				if rec.Header().Get(api.HeaderAccessToken) != fresh || rec.Header().Get(api.HeaderRefreshToken) != "rt-1" {
					t.Errorf("headers %v, want the new tokens", rec.Header())
				}
				if !got.Refreshed || got.AccessToken != fresh || got.RefreshToken != "rt-1" || claims.ID != "new" {
					t.Errorf("TokensFrom %+v, claims %+v: want the new ones", got, claims)
				}
				return
			}
			for _, h := range []string{api.HeaderAccessToken, api.HeaderRefreshToken, "Retry-After", "WWW-Authenticate"} {
				if v := rec.Header().Get(h); v != "" {
					t.Errorf("%s: %q, want none", h, v)
				}
			}
			if got.Refreshed || got.AccessToken != old || got.RefreshToken != tc.refresh {
				t.Errorf("TokensFrom %+v: want the request's", got)
			}
			if tc.calls > 0 && !strings.Contains(logs.String(), "early refresh failed") {
				t.Errorf("no debug line for the failed early refresh:\n%s", logs)
			}
		})
	}
}

// A bound JWT about to expire is refreshed early with its proof's key.
func TestHandler_EarlyRefreshBound(t *testing.T) {
	t.Parallel()
	d := newDevice(t)
	l := newRefreshLatch(t, "the-api-key", d.jkt)
	g := dpopGuard(t, l.url)
	jwt := boundToken(t, d.jkt, epoch.Add(20*time.Second))
	rec := serve(g.Handler(&backend{}), dpopRequest(jwt, d.proof(t, "GET", cartURL, jwt), "rt-0"))
	if rec.Code != http.StatusOK || rec.Header().Get(api.HeaderAccessToken) == "" || <-l.jkts != d.jkt {
		t.Fatalf("%d %s %v", rec.Code, rec.Body, rec.Header())
	}
	// Without an API key the bound session is not refreshed early, and the
	// request is served all the same.
	l2 := newRefreshLatch(t, "", d.jkt)
	g = staticGuard(t, func(c *guard.Config) { c.LatchURL = l2.url })
	rec = serve(g.Handler(&backend{}), dpopRequest(jwt, d.proof(t, "GET", cartURL, jwt), "rt-0"))
	if rec.Code != http.StatusOK || rec.Header().Get(api.HeaderAccessToken) != "" || l2.calls.Load() != 0 {
		t.Errorf("without an API key: %d, %d calls", rec.Code, l2.calls.Load())
	}
}

// Forget drops the refreshes made with a refresh token: presented again
// (after a logout, say) within the reuse window, it goes to Latch, which
// refuses it.
func TestForget(t *testing.T) {
	t.Parallel()
	clock := latchtest.NewClock(epoch)
	l := newCountingLatch(t, func(int64) string {
		return signToken(t, es256Key(testKeys.ec), hdr("ES256", "ec"), with(goodClaims(), "exp", epoch.Add(time.Hour).Unix()))
	})
	g := staticGuard(t, func(c *guard.Config) { c.LatchURL = l.url; c.Now = clock.Now })
	h := g.Handler(&backend{})
	if rec := serve(h, request(expiredToken(t), "rt-0")); rec.Code != http.StatusOK {
		t.Fatalf("refresh: %d", rec.Code)
	}
	if rec := serve(h, request(expiredToken(t), "rt-0")); rec.Code != http.StatusOK || l.calls.Load() != 1 {
		t.Fatalf("within the window: %d, %d calls", rec.Code, l.calls.Load())
	}

	// The logout: Latch revokes the token, the backend forgets it.
	l.status.Store(http.StatusBadRequest)
	g.Forget("rt-0")
	g.Forget("") // nothing
	clock.Advance(time.Second)
	wantRefusal(t, serve(h, request(expiredToken(t), "rt-0")), http.StatusUnauthorized, "invalid_token", "*")
	if l.calls.Load() != 2 {
		t.Errorf("%d calls, want 2: the forgotten token was served from the cache", l.calls.Load())
	}

	// A token forgotten before its refresh is neither cached nor shared
	// for a while: each request goes to Latch.
	l.status.Store(http.StatusOK)
	g.Forget("rt-x")
	for range 2 {
		if rec := serve(h, request(expiredToken(t), "rt-x")); rec.Code != http.StatusOK {
			t.Fatalf("forgotten token, Latch accepts: %d", rec.Code)
		}
	}
	if l.calls.Load() != 4 {
		t.Errorf("%d calls, want 4", l.calls.Load())
	}
	// Later it is cached again.
	clock.Advance(time.Minute)
	serve(h, request(expiredToken(t), "rt-x"))
	serve(h, request(expiredToken(t), "rt-x"))
	if l.calls.Load() != 5 {
		t.Errorf("%d calls, want 5", l.calls.Load())
	}
}

// A revocation event drops the cached refreshes whose new JWT it covers:
// the session's, the user's (issued until the revocation), not others'.
func TestEvents_EvictRefreshes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		members map[string]any
		evicted bool
	}{
		{"Session", map[string]any{"sessionId": "sid-1", "userId": "u-1", "applicationId": unitApp}, true},
		{"OtherSession", map[string]any{"sessionId": "sid-2", "userId": "u-1", "applicationId": unitApp}, false},
		{"User", map[string]any{"userId": "u-1"}, true},
		{"OtherUser", map[string]any{"userId": "u-2"}, false},
		{"UserOfApplication", map[string]any{"userId": "u-1", "applicationId": unitApp}, true},
		{"UserOfOtherApplication", map[string]any{"userId": "u-1", "applicationId": otherApp}, false},
		{"Application", map[string]any{"applicationId": unitApp}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var u *unitEnv
			l := newCountingLatch(t, func(int64) string { return u.token(t, "u-1", "sid-1", unitApp, u.clock.Now()) })
			u = newUnit(t, func(c *guard.Config) { c.LatchURL = l.url })
			h := u.g.Handler(&backend{})
			expired := u.token(t, "u-1", "sid-1", unitApp, u.clock.Now().Add(-2*time.Hour))
			if rec := serve(h, request(expired, "rt-0")); rec.Code != http.StatusOK {
				t.Fatalf("refresh: %d %s", rec.Code, rec.Body)
			}
			u.clock.Advance(time.Second)
			body := revokeEvent(t, "e-1", u.clock.Now(), tc.members)
			if rec := u.post(body, u.hmacSig(t, body)); rec.Code != http.StatusOK {
				t.Fatalf("event: %d %s", rec.Code, rec.Body)
			}
			l.status.Store(http.StatusBadRequest) // Latch has revoked it, or would refuse
			rec := serve(h, request(expired, "rt-0"))
			calls := l.calls.Load()
			if tc.evicted {
				wantRefusal(t, rec, http.StatusUnauthorized, "invalid_token", "*")
				if calls != 2 {
					t.Errorf("%d calls to Latch, want 2", calls)
				}
				return
			}
			if rec.Code != http.StatusOK || calls != 1 {
				t.Errorf("a refresh the event does not cover: %d, %d calls", rec.Code, calls)
			}
		})
	}
}

// The early refresh and the refresh of an expired JWT share one flight.
func TestHandler_EarlyRefreshSharesTheCache(t *testing.T) {
	t.Parallel()
	l := newCountingLatch(t, func(int64) string {
		return signToken(t, es256Key(testKeys.ec), hdr("ES256", "ec"), with(goodClaims(), "exp", epoch.Add(time.Hour).Unix()))
	})
	g := staticGuard(t, func(c *guard.Config) { c.LatchURL = l.url })
	h := g.Handler(&backend{})
	soon := signToken(t, es256Key(testKeys.ec), hdr("ES256", "ec"), with(goodClaims(), "exp", epoch.Add(10*time.Second).Unix()))
	a := serve(h, request(soon, "rt-0"))
	b := serve(h, request(expiredToken(t), "rt-0"))
	if a.Header().Get(api.HeaderRefreshToken) != "rt-1" || b.Header().Get(api.HeaderRefreshToken) != "rt-1" || l.calls.Load() != 1 {
		t.Errorf("early %q, expired %q, %d calls", a.Header().Get(api.HeaderRefreshToken), b.Header().Get(api.HeaderRefreshToken), l.calls.Load())
	}
}

// With an API key, guard vouches for the app on every refresh, bound or
// not: the key and the app's address (eventInfo.ipAddress), so that Latch
// counts the refreshes it refuses against each app rather than against
// the backend that relays them all. Without a key, neither is sent.
func TestRefresh_VouchesForTheApp(t *testing.T) {
	t.Parallel()
	fresh := signToken(t, es256Key(testKeys.ec), hdr("ES256", "ec"), with(goodClaims(), "exp", epoch.Add(time.Hour).Unix(), "jti", "new"))
	type seen struct {
		auth string
		req  api.RefreshRequest
	}
	got := make(chan seen, 4)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req api.RefreshRequest
		json.NewDecoder(r.Body).Decode(&req)
		got <- seen{r.Header.Get("Authorization"), req}
		json.NewEncoder(w).Encode(api.JWTRefreshResponse{Token: fresh, RefreshToken: "rt-1"})
	}))
	t.Cleanup(srv.Close)
	for _, tc := range []struct {
		name, key, wantIP string
		address           func(*http.Request) string
	}{
		{"with a key: the peer", "the-api-key", "192.0.2.1", nil},
		{"with a key: ClientAddress", "the-api-key", "203.0.113.5", func(*http.Request) string { return "203.0.113.5" }},
		{"without a key", "", "", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := staticGuard(t, func(c *guard.Config) { c.LatchURL = srv.URL; c.APIKey = tc.key; c.ClientAddress = tc.address })
			r := request(expiredToken(t), "rt-"+tc.name)
			r.RemoteAddr = "192.0.2.1:4711"
			if rec := serve(g.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})), r); rec.Code != http.StatusOK {
				t.Fatalf("refresh: %d %s", rec.Code, rec.Body)
			}
			s := <-got
			var ip string
			if s.req.EventInfo != nil {
				ip = s.req.EventInfo.IPAddress
			}
			if s.auth != tc.key || ip != tc.wantIP {
				t.Errorf("Latch got Authorization %q and ipAddress %q, want %q and %q", s.auth, ip, tc.key, tc.wantIP)
			}
		})
	}
}
