package guard_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/tls"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/latchid/latch/api"
	"github.com/latchid/latch/dpop"
	"github.com/latchid/latch/guard"
	"github.com/latchid/latch/internal/latchtest"
)

// Tests of DPoP without a Latch: tokens are signed with the static keys,
// Latch's refresh API is faked, and the clock stands at epoch.

// dpopChallenge is guard's DPoP challenge with an error code.
func dpopChallenge(code string) string {
	return `DPoP error="` + code + `", algs="ES256 EdDSA RS256"`
}

// cartURL is what guard takes the URL of request()'s requests to be
// without Config.PublicURL: httptest's host, plain http.
const cartURL = "http://example.com/api/cart"

// device is an app's DPoP key and its thumbprint.
type device struct {
	key crypto.Signer
	jkt string
}

func newDevice(t testing.TB) device {
	t.Helper()
	k, err := dpop.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	jkt, err := dpop.Thumbprint(k.Public())
	if err != nil {
		t.Fatal(err)
	}
	return device{key: k, jkt: jkt}
}

// proof makes a proof by d for method and url over the access token (if
// any), at epoch unless opts say otherwise.
func (d device) proof(t testing.TB, method, url, accessToken string, opts ...func(*dpop.ProofOptions)) string {
	t.Helper()
	o := dpop.ProofOptions{AccessToken: accessToken, Now: epoch}
	for _, f := range opts {
		f(&o)
	}
	p, err := dpop.NewProof(d.key, method, url, o)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// boundToken is a token of the static keys bound to jkt, expiring at exp.
func boundToken(t testing.TB, jkt string, exp time.Time) string {
	return signToken(t, es256Key(testKeys.ec), hdr("ES256", "ec"),
		with(goodClaims(), "cnf", map[string]any{"jkt": jkt}, "exp", exp.Unix(), "sid", "session-1"))
}

// dpopRequest is a GET /api/cart with "Authorization: DPoP <jwt>", the
// proof and the refresh token, each left out when empty.
func dpopRequest(jwt, proof, refreshToken string) *http.Request {
	r := request("", refreshToken)
	if jwt != "" {
		r.Header.Set("Authorization", "DPoP "+jwt)
	}
	if proof != "" {
		r.Header.Set(dpop.Header, proof)
	}
	return r
}

// refreshLatch fakes Latch's refresh API for bound sessions: it checks the
// API key when dpopJkt is sent, refreshes the session bound to jkt (or
// an unbound one when jkt is "") with a JWT bound to it, and refuses any
// other key, as Latch does.
type refreshLatch struct {
	url   string
	calls *atomic.Int64
	jkts  chan string // the dpopJkt of each call
}

func newRefreshLatch(t *testing.T, apiKey, jkt string) *refreshLatch {
	t.Helper()
	l := &refreshLatch{jkts: make(chan string, 100)}
	l.url, l.calls = fakeLatch(t, func(w http.ResponseWriter, req api.RefreshRequest) {
		l.jkts <- req.DPoPJKT
		if req.DPoPJKT != jkt {
			w.WriteHeader(http.StatusBadRequest)
			json.NewEncoder(w).Encode(api.FieldError("refreshToken", "invalid", "The refresh token is invalid or has expired."))
			return
		}
		claims := with(goodClaims(), "exp", epoch.Add(time.Hour).Unix(), "sid", "session-1")
		if jkt != "" {
			claims["cnf"] = map[string]any{"jkt": jkt}
		}
		json.NewEncoder(w).Encode(api.JWTRefreshResponse{
			Token:        signToken(t, es256Key(testKeys.ec), hdr("ES256", "ec"), claims),
			RefreshToken: "rt-1",
		})
	})
	return l
}

// apiKeyChecked is a transport that checks what guard sends to Latch: the
// API key with a bound refresh (one with dpopJkt), none otherwise.
type apiKeyChecked struct {
	t    *testing.T
	want string
}

func (c apiKeyChecked) RoundTrip(r *http.Request) (*http.Response, error) {
	var req api.RefreshRequest
	if r.Body != nil {
		b, _ := io.ReadAll(r.Body)
		r.Body.Close()
		json.Unmarshal(b, &req)
		r.Body = io.NopCloser(bytes.NewReader(b))
	}
	got := r.Header.Get("Authorization")
	switch {
	case req.DPoPJKT != "" && got != c.want:
		c.t.Errorf("a bound refresh with Authorization %q, want the API key", got)
	case req.DPoPJKT == "" && got != "":
		c.t.Errorf("an unbound refresh carries Authorization")
	}
	return http.DefaultTransport.RoundTrip(r)
}

// dpopGuard is a static guard for the fake Latch at url, with an API key.
func dpopGuard(t *testing.T, url string, change ...func(*guard.Config)) *guard.Guard {
	t.Helper()
	return staticGuard(t, append([]func(*guard.Config){func(c *guard.Config) {
		c.LatchURL = url
		c.APIKey = "the-api-key"
		c.HTTPClient = &http.Client{Transport: apiKeyChecked{t, "the-api-key"}}
	}}, change...)...)
}

// A bound token with a proof by its key, for this request: served, with no
// call to Latch.
func TestDPoP_Accepted(t *testing.T) {
	t.Parallel()
	d := newDevice(t)
	l := newRefreshLatch(t, "the-api-key", d.jkt)
	g := dpopGuard(t, l.url)
	jwt := boundToken(t, d.jkt, epoch.Add(10*time.Minute))
	var claims *api.Claims
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		claims, _ = guard.ClaimsFrom(r.Context())
	})
	rec := serve(g.Handler(next), dpopRequest(jwt, d.proof(t, "GET", cartURL, jwt), "rt-0"))
	if rec.Code != http.StatusOK || claims == nil || claims.Confirmation.JKT != d.jkt {
		t.Fatalf("%d %s, claims %+v", rec.Code, rec.Body, claims)
	}
	if rec.Header().Get(api.HeaderAccessToken) != "" || l.calls.Load() != 0 {
		t.Errorf("%d calls to Latch, Access-Token %q", l.calls.Load(), rec.Header().Get(api.HeaderAccessToken))
	}
	// The scheme is case-insensitive; the query is not part of htu.
	r := dpopRequest("", "", "")
	r.Header.Set("Authorization", "dpop "+jwt)
	r.Header.Set(dpop.Header, d.proof(t, "GET", cartURL+"?page=2", jwt))
	r.URL.RawQuery, r.RequestURI = "page=2", "/api/cart?page=2"
	if rec := serve(g.Handler(next), r); rec.Code != http.StatusOK {
		t.Errorf("dpop scheme, query: %d %s", rec.Code, rec.Body)
	}
}

// Every way of presenting a bound token wrongly, or an unbound one in the
// DPoP scheme, is 401 with a DPoP challenge, and no refresh is tried even
// though the request carries a refresh token.
func TestDPoP_Refused(t *testing.T) {
	t.Parallel()
	d, thief := newDevice(t), newDevice(t)
	jwt := boundToken(t, d.jkt, epoch.Add(10*time.Minute))
	unbound := signToken(t, es256Key(testKeys.ec), hdr("ES256", "ec"), goodClaims())
	replayed := d.proof(t, "GET", cartURL, jwt)
	at := func(ts time.Time) func(*dpop.ProofOptions) { return func(o *dpop.ProofOptions) { o.Now = ts } }
	for _, tc := range []struct {
		name string
		req  func() *http.Request
		code string
	}{
		{"as Bearer", func() *http.Request {
			r := request(jwt, "rt-0")
			r.Header.Set(dpop.Header, d.proof(t, "GET", cartURL, jwt))
			return r
		}, "invalid_token"},
		{"as Bearer without a proof", func() *http.Request { return request(jwt, "rt-0") }, "invalid_token"},
		{"no proof", func() *http.Request { return dpopRequest(jwt, "", "rt-0") }, "invalid_dpop_proof"},
		{"another key", func() *http.Request { return dpopRequest(jwt, thief.proof(t, "GET", cartURL, jwt), "rt-0") }, "invalid_dpop_proof"},
		{"replayed", func() *http.Request { return dpopRequest(jwt, replayed, "rt-0") }, "invalid_dpop_proof"},
		{"stale", func() *http.Request {
			return dpopRequest(jwt, d.proof(t, "GET", cartURL, jwt, at(epoch.Add(-2*time.Minute))), "rt-0")
		}, "invalid_dpop_proof"},
		{"from the future", func() *http.Request {
			return dpopRequest(jwt, d.proof(t, "GET", cartURL, jwt, at(epoch.Add(time.Minute))), "rt-0")
		}, "invalid_dpop_proof"},
		{"another URL", func() *http.Request {
			return dpopRequest(jwt, d.proof(t, "GET", "http://example.com/api/products", jwt), "rt-0")
		}, "invalid_dpop_proof"},
		{"another host", func() *http.Request {
			return dpopRequest(jwt, d.proof(t, "GET", "http://evil.example/api/cart", jwt), "rt-0")
		}, "invalid_dpop_proof"},
		{"https for http", func() *http.Request {
			return dpopRequest(jwt, d.proof(t, "GET", "https://example.com/api/cart", jwt), "rt-0")
		}, "invalid_dpop_proof"},
		{"another method", func() *http.Request { return dpopRequest(jwt, d.proof(t, "POST", cartURL, jwt), "rt-0") }, "invalid_dpop_proof"},
		{"another access token", func() *http.Request {
			return dpopRequest(jwt, d.proof(t, "GET", cartURL, unbound), "rt-0")
		}, "invalid_dpop_proof"},
		{"no ath", func() *http.Request { return dpopRequest(jwt, d.proof(t, "GET", cartURL, ""), "rt-0") }, "invalid_dpop_proof"},
		{"two proofs", func() *http.Request {
			r := dpopRequest(jwt, d.proof(t, "GET", cartURL, jwt), "rt-0")
			r.Header.Add(dpop.Header, d.proof(t, "GET", cartURL, jwt))
			return r
		}, "invalid_dpop_proof"},
		{"an unbound token as DPoP", func() *http.Request {
			return dpopRequest(unbound, d.proof(t, "GET", cartURL, unbound), "rt-0")
		}, "invalid_token"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := newRefreshLatch(t, "the-api-key", d.jkt)
			g := dpopGuard(t, l.url)
			h := g.Handler(&backend{})
			if tc.name == "replayed" {
				if rec := serve(h, dpopRequest(jwt, replayed, "")); rec.Code != http.StatusOK {
					t.Fatalf("first use: %d %s", rec.Code, rec.Body)
				}
			}
			rec := serve(h, tc.req())
			wantRefusal(t, rec, http.StatusUnauthorized, tc.code, dpopChallenge(tc.code))
			if n := len(rec.Header().Values("WWW-Authenticate")); n != 1 {
				t.Errorf("%d challenges, want the DPoP one", n)
			}
			if l.calls.Load() != 0 {
				t.Errorf("%d calls to Latch", l.calls.Load())
			}
		})
	}
}

// Refusals of Bearer tokens advertise DPoP too (RFC 9449 §7.1).
func TestDPoP_BearerChallenges(t *testing.T) {
	t.Parallel()
	g := staticGuard(t)
	rec := serve(g.Handler(&backend{}), request("", ""))
	if got := rec.Header().Values("WWW-Authenticate"); len(got) != 2 || got[0] != "Bearer" || got[1] != `DPoP algs="ES256 EdDSA RS256"` {
		t.Errorf("no credentials: challenges %q", got)
	}
	rec = serve(g.Handler(&backend{}), request(expiredToken(t), ""))
	if got := rec.Header().Values("WWW-Authenticate"); len(got) != 2 || got[0] != invalidToken("The access token expired.") || got[1] != `DPoP algs="ES256 EdDSA RS256"` {
		t.Errorf("expired Bearer token: challenges %q", got)
	}
}

// With nonces required, a proof without one gets use_dpop_nonce and a
// DPoP-Nonce; the retry with it passes and gets the nonce again.
func TestDPoP_Nonce(t *testing.T) {
	t.Parallel()
	nonces, err := dpop.NewHMACNonces(bytes.Repeat([]byte("n"), 32), 0)
	if err != nil {
		t.Fatal(err)
	}
	nonces.Now = func() time.Time { return epoch }
	d := newDevice(t)
	g := staticGuard(t, func(c *guard.Config) { c.DPoP.Nonces = nonces })
	h := g.Handler(&backend{})
	jwt := boundToken(t, d.jkt, epoch.Add(10*time.Minute))

	rec := serve(h, dpopRequest(jwt, d.proof(t, "GET", cartURL, jwt), ""))
	wantRefusal(t, rec, http.StatusUnauthorized, "use_dpop_nonce", dpopChallenge("use_dpop_nonce"))
	nonce := rec.Header().Get(dpop.NonceHeader)
	if nonce != nonces.Current() {
		t.Fatalf("DPoP-Nonce %q, want the current nonce", nonce)
	}
	withNonce := func(o *dpop.ProofOptions) { o.Nonce = nonce }
	rec = serve(h, dpopRequest(jwt, d.proof(t, "GET", cartURL, jwt, withNonce), ""))
	if rec.Code != http.StatusOK || rec.Header().Get(dpop.NonceHeader) != nonce {
		t.Errorf("with the nonce: %d, DPoP-Nonce %q", rec.Code, rec.Header().Get(dpop.NonceHeader))
	}
	rec = serve(h, dpopRequest(jwt, d.proof(t, "GET", cartURL, jwt, func(o *dpop.ProofOptions) { o.Nonce = "forged" }), ""))
	wantRefusal(t, rec, http.StatusUnauthorized, "use_dpop_nonce", dpopChallenge("use_dpop_nonce"))

	// VerifyProof asks for it the same way.
	r := httptest.NewRequest("POST", "/api/login", nil)
	r.Header.Set(dpop.Header, d.proof(t, "POST", "http://example.com/api/login", ""))
	var nonceErr *dpop.NonceError
	if _, err := g.VerifyProof(r); !errors.As(err, &nonceErr) || nonceErr.Nonce != nonce {
		t.Errorf("VerifyProof without a nonce: %v", err)
	}
}

// The URL proofs are checked against: Config.PublicURL, else the request's
// own scheme and Host; the path as the client sent it.
func TestDPoP_RequestURL(t *testing.T) {
	t.Parallel()
	d := newDevice(t)
	jwt := boundToken(t, d.jkt, epoch.Add(10*time.Minute))
	public := staticGuard(t, func(c *guard.Config) { c.DPoP.PublicURL = "https://Shop.Example.com/store/" })
	plain := staticGuard(t)

	r := dpopRequest(jwt, d.proof(t, "GET", "https://shop.example.com/store/api/cart", jwt), "")
	if got := public.RequestURL(r); got != "https://Shop.Example.com/store/api/cart" {
		t.Errorf("RequestURL with PublicURL = %q", got)
	}
	if rec := serve(public.Handler(&backend{}), r); rec.Code != http.StatusOK {
		t.Errorf("proof for the public URL: %d %s", rec.Code, rec.Body)
	}
	r = dpopRequest(jwt, d.proof(t, "GET", cartURL, jwt), "")
	wantRefusal(t, serve(public.Handler(&backend{}), r), http.StatusUnauthorized, "invalid_dpop_proof", "*")

	// Over TLS without PublicURL: https and the Host header.
	r = dpopRequest(jwt, d.proof(t, "GET", "https://shop.test:8443/api/cart", jwt), "")
	r.Host, r.TLS = "shop.test:8443", &tls.ConnectionState{}
	if rec := serve(plain.Handler(&backend{}), r); rec.Code != http.StatusOK {
		t.Errorf("over TLS: %d %s", rec.Code, rec.Body)
	}

	// Behind http.StripPrefix: the path as sent, escapes kept.
	mux := http.NewServeMux()
	mux.Handle("/shop/", http.StripPrefix("/shop", plain.Handler(&backend{})))
	r = httptest.NewRequest("GET", "/shop/api/caf%C3%A9", nil)
	r.Header.Set("Authorization", "DPoP "+jwt)
	r.Header.Set(dpop.Header, d.proof(t, "GET", "http://example.com/shop/api/caf%C3%A9", jwt))
	if rec := serve(mux, r); rec.Code != http.StatusOK {
		t.Errorf("behind StripPrefix: %d %s", rec.Code, rec.Body)
	}
}

func TestNew_PublicURL(t *testing.T) {
	t.Parallel()
	for _, u := range []string{"shop.example.com", "ftp://shop.example.com", "https://shop.example.com/?a=b",
		"https://shop.example.com/#top", "https://user@shop.example.com"} {
		if _, err := guard.New(guard.Config{Issuer: testIssuer, Audience: testAudience, LatchURL: testIssuer,
			Keys: guard.KeyOptions{Set: staticKeys()}, DPoP: guard.DPoPOptions{PublicURL: u}}); err == nil || !strings.Contains(err.Error(), "PublicURL") {
			t.Errorf("PublicURL %q: %v, want an error naming PublicURL", u, err)
		}
	}
	if _, err := guard.New(guard.Config{Issuer: testIssuer, Audience: testAudience, LatchURL: testIssuer,
		Keys: guard.KeyOptions{Set: staticKeys()}, APIKey: "a\nb"}); err == nil {
		t.Error("an API key with a newline was accepted")
	}
}

// VerifyProof checks the proof of a request without an access token.
func TestVerifyProof(t *testing.T) {
	t.Parallel()
	g := staticGuard(t)
	d := newDevice(t)
	login := func(proof string) *http.Request {
		r := httptest.NewRequest("POST", "/api/login", strings.NewReader(`{}`))
		if proof != "" {
			r.Header.Set(dpop.Header, proof)
		}
		return r
	}
	good := d.proof(t, "POST", "http://example.com/api/login", "")
	p, err := g.VerifyProof(login(good))
	if err != nil || p.JKT != d.jkt {
		t.Fatalf("VerifyProof = %+v, %v", p, err)
	}
	for _, tc := range []struct {
		name  string
		proof string
		want  error
	}{
		{"none", "", dpop.ErrNoProof},
		{"replayed", good, dpop.ErrReplay},
		{"another URL", d.proof(t, "POST", "http://example.com/api/logout", ""), dpop.ErrURL},
		{"another method", d.proof(t, "GET", "http://example.com/api/login", ""), dpop.ErrMethod},
		{"stale", d.proof(t, "POST", "http://example.com/api/login", "", func(o *dpop.ProofOptions) { o.Now = epoch.Add(-time.Hour) }), dpop.ErrIssuedAt},
		{"garbage", "a.b.c", dpop.ErrMalformed},
	} {
		if _, err := g.VerifyProof(login(tc.proof)); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
}

// The refresh of a bound session: a proof by the JWT's key, the key and
// the API key sent to Latch, new bound tokens back.
func TestDPoP_Refresh(t *testing.T) {
	t.Parallel()
	d, thief := newDevice(t), newDevice(t)
	expired := boundToken(t, d.jkt, epoch.Add(-time.Hour))

	t.Run("RightKey", func(t *testing.T) {
		l := newRefreshLatch(t, "the-api-key", d.jkt)
		g := dpopGuard(t, l.url)
		var tokens guard.Tokens
		h := g.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { tokens, _ = guard.TokensFrom(r.Context()) }))
		rec := serve(h, dpopRequest(expired, d.proof(t, "GET", cartURL, expired), "rt-0"))
		if rec.Code != http.StatusOK || rec.Header().Get(api.HeaderAccessToken) == "" || rec.Header().Get(api.HeaderRefreshToken) != "rt-1" {
			t.Fatalf("%d %s %v", rec.Code, rec.Body, rec.Header())
		}
		if got := <-l.jkts; got != d.jkt {
			t.Errorf("dpopJkt %q, want the device's", got)
		}
		claims, err := g.Verify(context.Background(), rec.Header().Get(api.HeaderAccessToken))
		if err != nil || claims.Confirmation == nil || claims.Confirmation.JKT != d.jkt {
			t.Errorf("the new JWT: %+v, %v", claims, err)
		}
		if !tokens.Refreshed || tokens.RefreshToken != "rt-1" {
			t.Errorf("TokensFrom = %+v", tokens)
		}
		// The new JWT is used as DPoP: served, no call.
		fresh := rec.Header().Get(api.HeaderAccessToken)
		if rec := serve(h, dpopRequest(fresh, d.proof(t, "GET", cartURL, fresh), "rt-1")); rec.Code != http.StatusOK || l.calls.Load() != 1 {
			t.Errorf("with the new JWT: %d, %d calls", rec.Code, l.calls.Load())
		}
	})

	t.Run("NoJWT", func(t *testing.T) {
		// A refresh token and a proof, no JWT: a bound refresh too.
		l := newRefreshLatch(t, "the-api-key", d.jkt)
		rec := serve(dpopGuard(t, l.url).Handler(&backend{}), dpopRequest("", d.proof(t, "GET", cartURL, ""), "rt-0"))
		if rec.Code != http.StatusOK || <-l.jkts != d.jkt {
			t.Errorf("%d %s", rec.Code, rec.Body)
		}
	})

	for _, tc := range []struct {
		name  string
		req   func() *http.Request
		code  string
		calls int64
	}{
		// The thief holds the refresh token and the expired JWT, not the key.
		{"ThiefsKey", func() *http.Request { return dpopRequest(expired, thief.proof(t, "GET", cartURL, expired), "rt-0") }, "invalid_dpop_proof", 0},
		// A JWT that claims no binding does not help: Latch refuses the key.
		{"ThiefsKeyAndJWT", func() *http.Request {
			forged := boundToken(t, thief.jkt, epoch.Add(-time.Hour))
			return dpopRequest(forged, thief.proof(t, "GET", cartURL, forged), "rt-0")
		}, "invalid_token", 1},
		{"ThiefWithoutJWT", func() *http.Request { return dpopRequest("", thief.proof(t, "GET", cartURL, ""), "rt-0") }, "invalid_token", 1},
		{"NoProof", func() *http.Request { return dpopRequest(expired, "", "rt-0") }, "invalid_dpop_proof", 0},
		{"AsBearer", func() *http.Request {
			r := request(expired, "rt-0")
			r.Header.Set(dpop.Header, d.proof(t, "GET", cartURL, expired))
			return r
		}, "invalid_token", 0},
		{"StaleProof", func() *http.Request {
			return dpopRequest(expired, d.proof(t, "GET", cartURL, expired, func(o *dpop.ProofOptions) { o.Now = epoch.Add(-5 * time.Minute) }), "rt-0")
		}, "invalid_dpop_proof", 0},
		{"OtherMethod", func() *http.Request { return dpopRequest(expired, d.proof(t, "DELETE", cartURL, expired), "rt-0") }, "invalid_dpop_proof", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := newRefreshLatch(t, "the-api-key", d.jkt)
			rec := serve(dpopGuard(t, l.url).Handler(&backend{}), tc.req())
			wantRefusal(t, rec, http.StatusUnauthorized, tc.code, dpopChallenge(tc.code))
			if l.calls.Load() != tc.calls {
				t.Errorf("%d calls to Latch, want %d", l.calls.Load(), tc.calls)
			}
		})
	}

	t.Run("NoAPIKey", func(t *testing.T) {
		l := newRefreshLatch(t, "", d.jkt)
		logs := &latchtest.LogBuffer{}
		g := staticGuard(t, func(c *guard.Config) { c.LatchURL = l.url; c.Logger = logs.Logger() })
		rec := serve(g.Handler(&backend{}), dpopRequest(expired, d.proof(t, "GET", cartURL, expired), "rt-0"))
		wantRefusal(t, rec, http.StatusUnauthorized, "invalid_token", dpopChallenge("invalid_token"))
		if l.calls.Load() != 0 || !strings.Contains(logs.String(), "APIKey") {
			t.Errorf("%d calls; log %q", l.calls.Load(), logs)
		}
	})

	t.Run("LatchBindsAnotherKey", func(t *testing.T) {
		other := newDevice(t)
		url, _ := fakeLatch(t, func(w http.ResponseWriter, _ api.RefreshRequest) {
			json.NewEncoder(w).Encode(api.JWTRefreshResponse{Token: boundToken(t, other.jkt, epoch.Add(time.Hour))})
		})
		rec := serve(dpopGuard(t, url).Handler(&backend{}), dpopRequest(expired, d.proof(t, "GET", cartURL, expired), "rt-0"))
		wantRefusal(t, rec, http.StatusUnauthorized, "invalid_token", "*")
	})

	t.Run("UnboundSessionWithAProof", func(t *testing.T) {
		// An app with a key whose session is not bound: the proof goes
		// along with a Bearer JWT and is ignored; no API key needed.
		l := newRefreshLatch(t, "", "")
		g := staticGuard(t, func(c *guard.Config) { c.LatchURL = l.url })
		r := request(expiredToken(t), "rt-0")
		r.Header.Set(dpop.Header, d.proof(t, "GET", cartURL, ""))
		if rec := serve(g.Handler(&backend{}), r); rec.Code != http.StatusOK || <-l.jkts != "" {
			t.Errorf("%d %s", rec.Code, rec.Body)
		}
	})
}

// The refresh cache and the flights are per DPoP key: a thief presenting
// the refresh token the device just refreshed, with another key, does not
// get the device's new tokens from the cache.
func TestDPoP_CachePerKey(t *testing.T) {
	t.Parallel()
	d, thief := newDevice(t), newDevice(t)
	l := newRefreshLatch(t, "the-api-key", d.jkt)
	h := dpopGuard(t, l.url).Handler(&backend{})
	expired := boundToken(t, d.jkt, epoch.Add(-time.Hour))
	if rec := serve(h, dpopRequest(expired, d.proof(t, "GET", cartURL, expired), "rt-0")); rec.Code != http.StatusOK {
		t.Fatalf("device: %d %s", rec.Code, rec.Body)
	}
	forged := boundToken(t, thief.jkt, epoch.Add(-time.Hour))
	rec := serve(h, dpopRequest(forged, thief.proof(t, "GET", cartURL, forged), "rt-0"))
	wantRefusal(t, rec, http.StatusUnauthorized, "invalid_token", "*")
	if l.calls.Load() != 2 {
		t.Errorf("%d calls to Latch, want 2 (the thief's was not answered from the cache)", l.calls.Load())
	}
	// The device's retry within the window is answered from the cache.
	if rec := serve(h, dpopRequest(expired, d.proof(t, "GET", cartURL, expired), "rt-0")); rec.Code != http.StatusOK || l.calls.Load() != 2 {
		t.Errorf("device's retry: %d, %d calls", rec.Code, l.calls.Load())
	}
}

// failingReplay is a replay cache that cannot record anything.
type failingReplay struct{}

func (failingReplay) Use(context.Context, string, string, time.Time) (bool, error) {
	return false, errors.New("the cache is down")
}

// A replay cache that fails says nothing about the proof: 503, and
// VerifyProof's error is ErrDPoPReplayUnavailable.
func TestDPoP_ReplayCacheDown(t *testing.T) {
	t.Parallel()
	d := newDevice(t)
	g := staticGuard(t, func(c *guard.Config) { c.DPoP.Replay = failingReplay{} })
	jwt := boundToken(t, d.jkt, epoch.Add(10*time.Minute))
	rec := serve(g.Handler(&backend{}), dpopRequest(jwt, d.proof(t, "GET", cartURL, jwt), ""))
	wantRefusal(t, rec, http.StatusServiceUnavailable, "temporarily_unavailable", "")
	if rec.Header().Get("Retry-After") == "" {
		t.Error("no Retry-After")
	}
	r := httptest.NewRequest("POST", "/api/login", nil)
	r.Header.Set(dpop.Header, d.proof(t, "POST", "http://example.com/api/login", ""))
	if _, err := g.VerifyProof(r); !errors.Is(err, guard.ErrDPoPReplayUnavailable) {
		t.Errorf("VerifyProof: %v, want ErrDPoPReplayUnavailable", err)
	}
	// A full memory cache is the same.
	g = staticGuard(t, func(c *guard.Config) {
		c.DPoP.Replay = &dpop.MemoryReplayCache{MaxEntries: 1, Now: func() time.Time { return epoch }}
	})
	serve(g.Handler(&backend{}), dpopRequest(jwt, d.proof(t, "GET", cartURL, jwt), ""))
	rec = serve(g.Handler(&backend{}), dpopRequest(jwt, d.proof(t, "GET", cartURL, jwt), ""))
	wantRefusal(t, rec, http.StatusServiceUnavailable, "temporarily_unavailable", "")
}
