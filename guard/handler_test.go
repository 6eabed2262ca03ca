package guard_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/latchid/latch/api"
	"github.com/latchid/latch/guard"
	"github.com/latchid/latch/internal/latchtest"
)

// fakeLatch answers /api/jwt/refresh with what answer returns, counting
// the calls; it checks that guard sends the refresh token as FusionAuth's
// API takes it.
func fakeLatch(t *testing.T, answer func(w http.ResponseWriter, req api.RefreshRequest)) (url string, calls *atomic.Int64) {
	t.Helper()
	calls = new(atomic.Int64)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		if r.Method != "POST" || r.URL.Path != "/api/jwt/refresh" || r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("unexpected %s %s (%s)", r.Method, r.URL.Path, r.Header.Get("Content-Type"))
		}
		var req api.RefreshRequest
		b, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(b, &req); err != nil || req.RefreshToken == "" {
			t.Errorf("refresh body %s: %v", b, err)
		}
		answer(w, req)
	}))
	t.Cleanup(srv.Close)
	return srv.URL, calls
}

// expiredToken is a token of the static keys that expired an hour before
// epoch.
func expiredToken(t *testing.T) string {
	return signToken(t, es256Key(testKeys.ec), hdr("ES256", "ec"), with(goodClaims(), "exp", epoch.Add(-time.Hour).Unix()))
}

// How guard maps Latch's answers to a refresh.
func TestHandler_RefreshAnswers(t *testing.T) {
	t.Parallel()
	fresh := signToken(t, es256Key(testKeys.ec), hdr("ES256", "ec"), goodClaims())
	otherAud := signToken(t, es256Key(testKeys.ec), hdr("ES256", "ec"), with(goodClaims(), "aud", "other"))
	bound := signToken(t, es256Key(testKeys.ec), hdr("ES256", "ec"), with(goodClaims(), "cnf", map[string]any{"jkt": "abc"}))
	unknownKid := signToken(t, es256Key(testKeys.ec), hdr("ES256", "rotated"), goodClaims())
	jsonAnswer := func(status int, v any) func(http.ResponseWriter, api.RefreshRequest) {
		return func(w http.ResponseWriter, _ api.RefreshRequest) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			json.NewEncoder(w).Encode(v)
		}
	}
	refused := api.FieldError("refreshToken", "invalid", "The refresh token is invalid or has expired.")
	for _, tc := range []struct {
		name      string
		answer    func(http.ResponseWriter, api.RefreshRequest)
		status    int
		code      string
		retry     bool // Retry-After expected
		challenge string
	}{
		{"200", jsonAnswer(200, api.JWTRefreshResponse{Token: fresh, RefreshToken: "rt-1"}), 200, "", false, ""},
		{"400 today's refusal", jsonAnswer(400, refused), 401, "invalid_token", false, invalidToken("The refresh token is invalid, expired or revoked; log in again.")},
		{"404 the article's refusal", jsonAnswer(404, nil), 401, "invalid_token", false, "*"},
		{"401", jsonAnswer(401, nil), 401, "invalid_token", false, "*"},
		{"429", jsonAnswer(429, nil), 503, "temporarily_unavailable", true, ""},
		{"500", jsonAnswer(500, nil), 503, "temporarily_unavailable", true, ""},
		{"503", jsonAnswer(503, nil), 503, "temporarily_unavailable", true, ""},
		{"200 but not JSON", func(w http.ResponseWriter, _ api.RefreshRequest) { io.WriteString(w, "<html>") }, 503, "temporarily_unavailable", true, ""},
		{"200 without a token", jsonAnswer(200, map[string]any{}), 503, "temporarily_unavailable", true, ""},
		{"302", func(w http.ResponseWriter, _ api.RefreshRequest) { w.WriteHeader(302) }, 503, "temporarily_unavailable", true, ""},
		{"a JWT for another audience", jsonAnswer(200, api.JWTRefreshResponse{Token: otherAud}), 401, "invalid_token", false, "*"},
		{"a DPoP-bound JWT", jsonAnswer(200, api.JWTRefreshResponse{Token: bound}), 401, "invalid_token", false, "*"},
		{"a JWT under a key not yet published", jsonAnswer(200, api.JWTRefreshResponse{Token: unknownKid}), 503, "temporarily_unavailable", true, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			url, calls := fakeLatch(t, tc.answer)
			g := staticGuard(t, func(c *guard.Config) { c.LatchURL = url })
			next := &backend{}
			rec := serve(g.Handler(next), request(expiredToken(t), "rt-0"))
			if calls.Load() != 1 {
				t.Errorf("%d calls to Latch, want 1", calls.Load())
			}
			if tc.status == 200 {
				if rec.Code != 200 || rec.Header().Get(api.HeaderAccessToken) != fresh || rec.Header().Get(api.HeaderRefreshToken) != "rt-1" {
					t.Fatalf("%d, Access-Token %t, Refresh-Token %q", rec.Code, rec.Header().Get(api.HeaderAccessToken) == fresh, rec.Header().Get(api.HeaderRefreshToken))
				}
				return
			}
			wantRefusal(t, rec, tc.status, tc.code, tc.challenge)
			if got := rec.Header().Get("Retry-After") != ""; got != tc.retry {
				t.Errorf("Retry-After present: %t, want %t", got, tc.retry)
			}
			if next.calls.Load() != 0 {
				t.Errorf("next ran")
			}
		})
	}
}

// Latch not listening at all: 503.
func TestHandler_LatchUnreachable(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	g := staticGuard(t, func(c *guard.Config) { c.LatchURL = url })
	rec := serve(g.Handler(&backend{}), request(expiredToken(t), "rt-0"))
	wantRefusal(t, rec, http.StatusServiceUnavailable, "temporarily_unavailable", "")
	if rec.Header().Get("Retry-After") == "" {
		t.Error("no Retry-After")
	}
}

// The Authorization header: the scheme is case-insensitive; an unbound
// token in the DPoP scheme and a bound one as Bearer are refused without a
// refresh; other schemes count as no token, so a refresh token is used.
func TestHandler_Authorization(t *testing.T) {
	t.Parallel()
	valid := signToken(t, es256Key(testKeys.ec), hdr("ES256", "ec"), goodClaims())
	bound := signToken(t, es256Key(testKeys.ec), hdr("ES256", "ec"), with(goodClaims(), "cnf", map[string]any{"jkt": "abc"}))
	const dpop = `DPoP error="invalid_token", algs="ES256 EdDSA RS256"`
	for _, tc := range []struct {
		name      string
		auth      []string
		refresh   bool // send a refresh token
		status    int
		challenge string
		refreshes int64
	}{
		{"Bearer", []string{"Bearer " + valid}, false, 200, "", 0},
		{"bearer", []string{"bearer " + valid}, false, 200, "", 0},
		{"BEARER, two spaces", []string{"BEARER  " + valid}, false, 200, "", 0},
		{"Bearer, nothing", []string{"Bearer"}, false, 401, invalidToken("The access token is invalid."), 0},
		{"Bearer, spaces inside", []string{"Bearer " + valid + " x"}, false, 401, invalidToken("The access token is invalid."), 0},
		{"two Authorization headers", []string{"Bearer " + valid, "Bearer " + valid}, false, 401, invalidToken("The access token is invalid."), 0},
		{"Basic", []string{"Basic YTpi"}, false, 401, "Bearer", 0},
		{"Basic with a refresh token", []string{"Basic YTpi"}, true, 200, "", 1},
		{"nothing with a refresh token", nil, true, 200, "", 1},
		{"DPoP scheme", []string{"DPoP " + valid}, true, 401, dpop, 0},
		{"bound token as Bearer", []string{"Bearer " + bound}, true, 401, dpop, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			fresh := signToken(t, es256Key(testKeys.ec), hdr("ES256", "ec"), goodClaims())
			url, calls := fakeLatch(t, func(w http.ResponseWriter, _ api.RefreshRequest) {
				json.NewEncoder(w).Encode(api.JWTRefreshResponse{Token: fresh, RefreshToken: "rt-0"})
			})
			g := staticGuard(t, func(c *guard.Config) { c.LatchURL = url })
			r := request("", "")
			for _, a := range tc.auth {
				r.Header.Add("Authorization", a)
			}
			if tc.refresh {
				r.Header.Set(api.HeaderRefreshToken, "rt-0")
			}
			rec := serve(g.Handler(&backend{}), r)
			if tc.status == 200 {
				if rec.Code != 200 {
					t.Fatalf("status %d: %s", rec.Code, rec.Body)
				}
			} else {
				wantRefusal(t, rec, tc.status, "invalid_token", tc.challenge)
			}
			if calls.Load() != tc.refreshes {
				t.Errorf("%d refresh calls, want %d", calls.Load(), tc.refreshes)
			}
			if tc.refreshes > 0 && rec.Header().Get(api.HeaderRefreshToken) != "" {
				t.Errorf("Refresh-Token header though the value did not change")
			}
		})
	}
}

// A refresh token too long to be Latch's is refused without a call.
func TestHandler_OversizeRefreshToken(t *testing.T) {
	t.Parallel()
	url, calls := fakeLatch(t, func(w http.ResponseWriter, _ api.RefreshRequest) {})
	g := staticGuard(t, func(c *guard.Config) { c.LatchURL = url })
	big := make([]byte, 2000)
	for i := range big {
		big[i] = 'a'
	}
	wantRefusal(t, serve(g.Handler(&backend{}), request(expiredToken(t), string(big))), 401, "invalid_token", "*")
	if calls.Load() != 0 {
		t.Errorf("%d calls", calls.Load())
	}
}

// The reuse window: a refresh token presented again within ReuseWindow
// gets the same answer without a call; after it, Latch is asked again.
func TestHandler_ReuseWindow(t *testing.T) {
	t.Parallel()
	clock := latchtest.NewClock(epoch)
	var n atomic.Int64
	url, calls := fakeLatch(t, func(w http.ResponseWriter, _ api.RefreshRequest) {
		tok := signToken(t, es256Key(testKeys.ec), hdr("ES256", "ec"), with(goodClaims(), "exp", clock.Now().Add(time.Hour).Unix()))
		json.NewEncoder(w).Encode(api.JWTRefreshResponse{Token: tok, RefreshToken: fmt.Sprintf("rt-%d", n.Add(1))})
	})
	g := staticGuard(t, func(c *guard.Config) { c.LatchURL = url; c.Now = clock.Now })
	h := g.Handler(&backend{})
	first := serve(h, request(expiredToken(t), "rt-0")).Header().Get(api.HeaderRefreshToken)
	clock.Advance(guard.ReuseWindow - time.Second)
	if again := serve(h, request(expiredToken(t), "rt-0")).Header().Get(api.HeaderRefreshToken); again != first || calls.Load() != 1 {
		t.Errorf("within the window: %q (want %q), %d calls", again, first, calls.Load())
	}
	clock.Advance(time.Second)
	if later := serve(h, request(expiredToken(t), "rt-0")).Header().Get(api.HeaderRefreshToken); later == first || calls.Load() != 2 {
		t.Errorf("after the window: %q, %d calls; want a new call", later, calls.Load())
	}
}

// WithClaims lets a handler behind RequireRole be tested without Latch.
func TestWithClaims(t *testing.T) {
	t.Parallel()
	next := &backend{}
	h := guard.RequireRole("admin", next)
	r := httptest.NewRequest("GET", "/", nil)
	r = r.WithContext(guard.WithClaims(r.Context(), &api.Claims{Subject: "s", Roles: []string{"admin"}}))
	if rec := serve(h, r); rec.Code != 200 || rec.Body.String() != "cart of s" {
		t.Errorf("%d %s", rec.Code, rec.Body)
	}
	if _, ok := guard.TokensFrom(r.Context()); !ok {
		t.Errorf("TokensFrom after WithClaims: not ok")
	}
}
