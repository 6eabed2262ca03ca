package storefront_test

import (
	"context"
	"crypto"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/latchid/latch/api"
	"github.com/latchid/latch/dpop"
	"github.com/latchid/latch/internal/latchtest"
	"github.com/latchid/latch/internal/storefront"
)

// DPoP through the storefront, with raw HTTP and dpop.NewProof: the app's
// side as the client SDK does it.

// device is an app's DPoP key.
type device struct {
	key crypto.Signer
	jkt string
}

func newDevice(t *testing.T) device {
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

// proof makes a proof by d for method and the storefront's path, over the
// access token (if any), at the shared clock's time.
func (e *env) proof(t *testing.T, d device, method, path, accessToken string) string {
	t.Helper()
	p, err := dpop.NewProof(d.key, method, e.url+path, dpop.ProofOptions{AccessToken: accessToken, Now: e.clock.Now()})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// dpopLogin logs the user in with a proof by d and insists on 200.
func (e *env) dpopLogin(t *testing.T, d device, email string) api.LoginResponse {
	t.Helper()
	res := e.do(t, req{method: "POST", path: "/api/login", body: storefront.LoginRequest{LoginID: email, Password: testPassword},
		header: map[string]string{dpop.Header: e.proof(t, d, "POST", "/api/login", "")}})
	if res.StatusCode != http.StatusOK {
		t.Fatalf("login with a proof: status %d: %s", res.StatusCode, res.body)
	}
	var lr api.LoginResponse
	res.decode(t, &lr)
	return lr
}

// dpopReq is a request with "Authorization: DPoP <jwt>" and a proof by d
// (none when d has no key), and the refresh token when set.
func (e *env) dpopReq(t *testing.T, d device, method, path, jwt, refresh string) req {
	t.Helper()
	h := map[string]string{"Authorization": "DPoP " + jwt}
	if d.key != nil {
		h[dpop.Header] = e.proof(t, d, method, path, jwt)
	}
	return req{method: method, path: path, refresh: refresh, header: h}
}

// A login with a proof gets tokens bound to the key: the cart with the
// DPoP scheme and a proof is served; the same JWT as Bearer, or with
// another key's proof, is refused.
func TestDPoP_Login(t *testing.T) {
	e := newEnv(t)
	email, _ := e.newUser(t)
	d, thief := newDevice(t), newDevice(t)
	lr := e.dpopLogin(t, d, email)
	if c := latchtest.Claims[api.Claims](t, lr.Token); c.Confirmation == nil || c.Confirmation.JKT != d.jkt {
		t.Fatalf("the JWT is not bound to the device's key: cnf %+v", c.Confirmation)
	}

	e.rt.Reset()
	res := e.do(t, e.dpopReq(t, d, "GET", "/api/cart", lr.Token, ""))
	if res.StatusCode != http.StatusOK {
		t.Fatalf("cart with DPoP: status %d: %s", res.StatusCode, res.body)
	}
	if n := e.rt.N(refreshCall); n != 0 {
		t.Errorf("%d refreshes for a valid bound JWT", n)
	}
	add := e.dpopReq(t, d, "POST", "/api/cart/items", lr.Token, "")
	add.body = storefront.AddItemRequest{SKU: "latch-mug", Quantity: 1}
	if res := e.do(t, add); res.StatusCode != http.StatusOK {
		t.Fatalf("add with DPoP: status %d: %s", res.StatusCode, res.body)
	}

	// The stolen JWT: as Bearer, with the thief's key, with a replayed proof.
	res = e.do(t, req{method: "GET", path: "/api/cart", jwt: lr.Token})
	wantError(t, res, http.StatusUnauthorized, "invalid_token")
	if ch := res.Header.Get("WWW-Authenticate"); !strings.HasPrefix(ch, `DPoP error="invalid_token"`) {
		t.Errorf("WWW-Authenticate %q, want a DPoP challenge", ch)
	}
	wantError(t, e.do(t, e.dpopReq(t, thief, "GET", "/api/cart", lr.Token, "")), http.StatusUnauthorized, "invalid_dpop_proof")
	replay := e.dpopReq(t, d, "GET", "/api/cart", lr.Token, "")
	e.do(t, replay)
	wantError(t, e.do(t, replay), http.StatusUnauthorized, "invalid_dpop_proof")
	// Nothing reached the cart.
	if c := e.cartDPoP(t, d, lr.Token); len(c.Items) != 1 {
		t.Errorf("cart %+v", c)
	}
}

// cartDPoP reads the cart with a bound JWT and insists on 200.
func (e *env) cartDPoP(t *testing.T, d device, jwt string) storefront.Cart {
	t.Helper()
	res := e.do(t, e.dpopReq(t, d, "GET", "/api/cart", jwt, ""))
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET /api/cart: status %d: %s", res.StatusCode, res.body)
	}
	var c storefront.Cart
	res.decode(t, &c)
	return c
}

// Logins with bad proofs are 400 and reach no Latch; with RequireDPoP a
// login without a proof is 400 too.
func TestDPoP_LoginRefused(t *testing.T) {
	e := newEnv(t)
	email, _ := e.newUser(t)
	d := newDevice(t)
	body := storefront.LoginRequest{LoginID: email, Password: testPassword}
	login := func(proof string) response {
		h := map[string]string{}
		if proof != "" {
			h[dpop.Header] = proof
		}
		return e.do(t, req{method: "POST", path: "/api/login", body: body, header: h})
	}
	good := e.proof(t, d, "POST", "/api/login", "")
	if res := login(good); res.StatusCode != http.StatusOK {
		t.Fatalf("login: %d %s", res.StatusCode, res.body)
	}
	e.rt.Reset()
	other, err := dpop.NewProof(d.key, "POST", "http://shop.example/api/login", dpop.ProofOptions{Now: e.clock.Now()})
	if err != nil {
		t.Fatal(err)
	}
	for name, proof := range map[string]string{
		"Replayed":   good,
		"OtherURL":   other,
		"OtherRoute": e.proof(t, d, "POST", "/api/logout", ""),
		"Garbage":    "not.a.proof",
	} {
		t.Run(name, func(t *testing.T) {
			res := login(proof)
			wantError(t, res, http.StatusBadRequest, storefront.CodeInvalidDPoPProof)
			if res.Header.Get("WWW-Authenticate") != "" {
				t.Errorf("a refused login carries WWW-Authenticate")
			}
		})
	}
	if n := e.rt.N(loginCall); n != 0 {
		t.Errorf("%d logins reached Latch", n)
	}
	// Without a proof: unbound.
	res := login("")
	var lr api.LoginResponse
	res.decode(t, &lr)
	if res.StatusCode != http.StatusOK || latchtest.Claims[api.Claims](t, lr.Token).Confirmation != nil {
		t.Errorf("login without a proof: %d, cnf %+v", res.StatusCode, latchtest.Claims[api.Claims](t, lr.Token).Confirmation)
	}

	strict := e.startStorefront(t, storefront.Config{DataDir: t.TempDir(), RequireDPoP: true})
	s := &env{url: strict.URL(), hc: e.hc, clock: e.clock}
	res = s.do(t, req{method: "POST", path: "/api/login", body: body})
	wantError(t, res, http.StatusBadRequest, storefront.CodeInvalidDPoPProof)
	if lr := s.dpopLogin(t, d, email); latchtest.Claims[api.Claims](t, lr.Token).Confirmation.JKT != d.jkt {
		t.Errorf("RequireDPoP: the login with a proof is not bound")
	}
}

// The refresh of a bound session through the storefront: with the
// device's key, new bound tokens; with a thief's, 401, and the session
// lives on for the device (the article's steps 18-19).
func TestDPoP_Refresh(t *testing.T) {
	e := newEnv(t)
	e.oneTimeUse(t)
	email, _ := e.newUser(t)
	d, thief := newDevice(t), newDevice(t)
	lr := e.dpopLogin(t, d, email)
	e.clock.Advance(afterExpiry)

	res := e.do(t, e.dpopReq(t, thief, "GET", "/api/cart", lr.Token, lr.RefreshToken))
	wantError(t, res, http.StatusUnauthorized, "invalid_dpop_proof")
	if res.Header.Get(api.HeaderAccessToken) != "" {
		t.Errorf("the thief got a JWT")
	}
	// Without the JWT, the thief's key reaches Latch, which refuses it.
	res = e.do(t, req{method: "GET", path: "/api/cart", refresh: lr.RefreshToken,
		header: map[string]string{dpop.Header: e.proof(t, thief, "GET", "/api/cart", "")}})
	wantError(t, res, http.StatusUnauthorized, "invalid_token")

	e.rt.Reset()
	res = e.do(t, e.dpopReq(t, d, "GET", "/api/cart", lr.Token, lr.RefreshToken))
	if res.StatusCode != http.StatusOK {
		t.Fatalf("the device's refresh: status %d: %s", res.StatusCode, res.body)
	}
	jwt, rt := res.Header.Get(api.HeaderAccessToken), res.Header.Get(api.HeaderRefreshToken)
	if jwt == "" || rt == "" || rt == lr.RefreshToken {
		t.Fatalf("the device's refresh: Access-Token %t, Refresh-Token rotated %t", jwt != "", rt != "" && rt != lr.RefreshToken)
	}
	if c := latchtest.Claims[api.Claims](t, jwt); c.Confirmation == nil || c.Confirmation.JKT != d.jkt {
		t.Errorf("the refreshed JWT is not bound to the device's key")
	}
	if n := e.rt.N(refreshCall); n != 1 {
		t.Errorf("%d refreshes, want 1", n)
	}
	e.cartDPoP(t, d, jwt)

	// Logout with the bound tokens, then the refresh token is refused,
	// also within guard's reuse window.
	out := e.dpopReq(t, d, "POST", "/api/logout", jwt, rt)
	out.body = storefront.LogoutRequest{}
	if res := e.do(t, out); res.StatusCode != http.StatusOK {
		t.Fatalf("logout: %d %s", res.StatusCode, res.body)
	}
	e.clock.Advance(afterExpiry)
	wantError(t, e.do(t, e.dpopReq(t, d, "GET", "/api/cart", jwt, rt)), http.StatusUnauthorized, "invalid_token")
}

// With the webhook registered, a session revoked at Latch is refused by
// the storefront at once, its JWT unexpired (the article's step 21).
func TestEvents_Revocation(t *testing.T) {
	e := newEnv(t)
	sf := e.startStorefront(t, storefront.Config{DataDir: t.TempDir(), RegisterWebhook: true})
	if sf.WebhookID() == "" || sf.PublicURL() != sf.URL() {
		t.Fatalf("webhook %q, public URL %q (listening at %q)", sf.WebhookID(), sf.PublicURL(), sf.URL())
	}
	s := &env{url: sf.URL(), hc: e.hc, clock: e.clock}
	email, _ := e.newUser(t)
	d := newDevice(t)
	stolen, other := s.dpopLogin(t, d, email), s.dpopLogin(t, d, email)
	s.cartDPoP(t, d, stolen.Token)

	e.admin(t, "DELETE", "/api/jwt/refresh/"+latchtest.Claims[api.Claims](t, stolen.Token).SessionID, nil, nil)
	e.settled(t)
	res := s.do(t, s.dpopReq(t, d, "GET", "/api/cart", stolen.Token, ""))
	if res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("the revoked session's JWT once the storefront acknowledged the event: %d %s, want 401", res.StatusCode, res.body)
	}
	var body struct {
		Description string `json:"error_description"`
	}
	res.decode(t, &body)
	if body.Description != "The access token has been revoked." {
		t.Errorf("refusal %s", res.body)
	}
	// The user's other session goes on.
	s.cartDPoP(t, d, other.Token)

	// Registering again updates the same webhook; the tenant has the event on.
	if err := storefront.RegisterWebhook(context.Background(), sf); err != nil {
		t.Fatalf("register again: %v", err)
	}
	var hooks api.WebhookResponse
	e.admin(t, "GET", "/api/webhook", nil, &hooks)
	n := 0
	for _, h := range hooks.Webhooks {
		if h.URL == sf.URL()+storefront.EventsPath {
			n++
			if h.ID != sf.WebhookID() || !h.SignatureConfiguration.Enabled || !h.EventsEnabled[api.EventJWTRefreshTokenRevoke] {
				t.Errorf("webhook %+v", h)
			}
		}
	}
	if n != 1 {
		t.Errorf("%d webhooks for the storefront, want 1", n)
	}
	var tenants api.TenantResponse
	e.admin(t, "GET", "/api/tenant", nil, &tenants)
	if !tenants.Tenants[0].EventConfiguration.Enabled(api.EventJWTRefreshTokenRevoke) {
		t.Errorf("the tenant does not send jwt.refresh-token.revoke")
	}
}

// Events are signed: an unsigned one is refused.
// A user who logs out everywhere and straight back in, within the same
// second, keeps the new login: the event lists the sessions it revoked, so
// the storefront refuses their JWTs and not the new one, though all were
// issued in that second.
func TestEvents_LogoutEverywhereThenLogin(t *testing.T) {
	e := newEnv(t)
	sf := e.startStorefront(t, storefront.Config{DataDir: t.TempDir(), RegisterWebhook: true})
	s := &env{url: sf.URL(), hc: e.hc, clock: e.clock}
	email, _ := e.newUser(t)
	d := newDevice(t)
	old := s.dpopLogin(t, d, email)
	s.cartDPoP(t, d, old.Token)

	logout := s.dpopReq(t, d, "POST", "/api/logout", old.Token, old.RefreshToken)
	logout.body = storefront.LogoutRequest{Global: true}
	if res := s.do(t, logout); res.StatusCode != http.StatusOK {
		t.Fatalf("log out everywhere: status %d: %s", res.StatusCode, res.body)
	}
	again := s.dpopLogin(t, d, email) // the clock has not moved: the same second
	if latchtest.Claims[api.Claims](t, again.Token).IssuedAt != latchtest.Claims[api.Claims](t, old.Token).IssuedAt {
		t.Fatal("the logins were not in the same second")
	}
	e.settled(t)
	if res := s.do(t, s.dpopReq(t, d, "GET", "/api/cart", old.Token, "")); res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("the JWT of a session logged out everywhere, once the storefront acknowledged the event: %d %s, want 401", res.StatusCode, res.body)
	}
	s.cartDPoP(t, d, again.Token)
}

func TestEvents_Unsigned(t *testing.T) {
	e := newEnv(t)
	res := e.do(t, req{method: "POST", path: storefront.EventsPath, body: map[string]any{"event": map[string]any{
		"id": "e", "type": api.EventJWTRefreshTokenRevoke, "userId": "u"}}})
	wantError(t, res, http.StatusUnauthorized, "invalid_signature")
}

// A webhook needs a public URL.
func TestOpen_RegisterWebhookNeedsAPublicURL(t *testing.T) {
	e := newEnv(t)
	_, err := storefront.Open(context.Background(), storefront.Config{Addr: ":0", LatchURL: e.latch.URL, ApplicationID: e.appID,
		APIKey: e.latch.APIKey, DataDir: t.TempDir(), RegisterWebhook: true})
	if err == nil || !strings.Contains(err.Error(), "PublicURL") {
		t.Errorf("Open: %v, want an error naming PublicURL", err)
	}
}

// While Latch cannot be reached the webhook is registered in the
// background; a Latch that refuses the API key fails Open.
func TestRegisterWebhook_Retry(t *testing.T) {
	defer storefront.SetWebhookRetry(20 * time.Millisecond)()
	e := newEnv(t)
	target, err := url.Parse(e.latch.URL)
	if err != nil {
		t.Fatal(err)
	}
	var up atomic.Bool
	proxy := httputil.NewSingleHostReverseProxy(target)
	flaky := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !up.Load() && strings.HasPrefix(r.URL.Path, "/api/") && !strings.HasPrefix(r.URL.Path, "/api/application/") {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	defer flaky.Close()
	sf := e.startStorefront(t, storefront.Config{DataDir: t.TempDir(), LatchURL: flaky.URL, RegisterWebhook: true})
	if sf.WebhookID() != "" {
		t.Fatal("registered while Latch answered 503")
	}
	up.Store(true)
	latchtest.WaitUntil(t, 10*time.Second, "the webhook to be registered once Latch came back", func() bool { return sf.WebhookID() != "" })
	var hook api.WebhookResponse
	e.admin(t, "GET", "/api/webhook/"+sf.WebhookID(), nil, &hook)
	if hook.Webhook == nil || hook.Webhook.URL != sf.PublicURL()+storefront.EventsPath {
		t.Errorf("webhook %+v", hook.Webhook)
	}

	// A key that may read the application but not manage webhooks.
	var k api.APIKeyResponse
	e.admin(t, "POST", "/api/api-key", map[string]any{"apiKey": map[string]any{"permissions": map[string]any{"endpoints": map[string]any{
		"/api/application": []string{"GET"}, "/api/login": []string{"POST"}}}}}, &k)
	_, err = storefront.Open(context.Background(), storefront.Config{Addr: "127.0.0.1:0", LatchURL: e.latch.URL, ApplicationID: e.appID,
		APIKey: k.APIKey.Key, DataDir: t.TempDir(), RegisterWebhook: true})
	if err == nil || !strings.Contains(err.Error(), "webhook") {
		t.Errorf("Open with a key Latch refuses for webhooks: %v, want a webhook error", err)
	}
}

// A thief with a copy of a DPoP-bound refresh token, but not the device's
// key, logs nobody out, not even "everywhere": Latch ends the sessions of
// a bound refresh token only for its key, which the storefront proves with
// the app's proof. The device itself logs out everywhere.
func TestDPoP_ThiefLogout(t *testing.T) {
	e := newEnv(t)
	email, _ := e.newUser(t)
	d, thief := newDevice(t), newDevice(t)
	phone := e.dpopLogin(t, d, email)
	laptop := e.login(t, email)

	for name, r := range map[string]req{
		"the value alone":       {method: "POST", path: "/api/logout", refresh: phone.RefreshToken, body: storefront.LogoutRequest{Global: true}},
		"the value in the body": {method: "POST", path: "/api/logout", body: storefront.LogoutRequest{Global: true, RefreshToken: phone.RefreshToken}},
		"the value with the thief's own proof": {method: "POST", path: "/api/logout", refresh: phone.RefreshToken, body: storefront.LogoutRequest{Global: true},
			header: map[string]string{dpop.Header: e.proof(t, thief, "POST", "/api/logout", "")}},
	} {
		if res := e.do(t, r); res.StatusCode != http.StatusOK {
			t.Fatalf("%s: logout answered %d: %s", name, res.StatusCode, res.body)
		}
	}
	e.clock.Advance(afterExpiry)
	res := e.do(t, e.dpopReq(t, d, "GET", "/api/cart", phone.Token, phone.RefreshToken))
	if res.StatusCode != http.StatusOK {
		t.Fatalf("the device after the thief's logouts: %d %s", res.StatusCode, res.body)
	}
	jwt, rt := res.Header.Get(api.HeaderAccessToken), phone.RefreshToken
	if e.refused(t, laptop.Token, laptop.RefreshToken) {
		t.Fatal("the thief's logout ended the laptop's session")
	}

	out := e.dpopReq(t, d, "POST", "/api/logout", jwt, rt)
	out.body = storefront.LogoutRequest{Global: true}
	if res := e.do(t, out); res.StatusCode != http.StatusOK {
		t.Fatalf("the device's logout: %d %s", res.StatusCode, res.body)
	}
	if !e.refused(t, laptop.Token, laptop.RefreshToken) {
		t.Error("the device's global logout left the laptop's session")
	}
	e.clock.Advance(afterExpiry)
	wantError(t, e.do(t, e.dpopReq(t, d, "GET", "/api/cart", jwt, rt)), http.StatusUnauthorized, "invalid_token")
}
