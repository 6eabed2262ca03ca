package httpapi_test

import (
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/latchid/latch/api"
	"github.com/latchid/latch/dpop"
	"github.com/latchid/latch/internal/httpapi"
	"github.com/latchid/latch/internal/latchtest"
	"github.com/latchid/latch/internal/server"
)

// deviceKey is an app's DPoP key.
type deviceKey struct {
	key *ecdsa.PrivateKey
	jkt string
}

func newDeviceKey(t testing.TB) deviceKey {
	t.Helper()
	k, err := dpop.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	jkt, err := dpop.Thumbprint(k.Public())
	if err != nil {
		t.Fatal(err)
	}
	return deviceKey{key: k, jkt: jkt}
}

// proof makes a proof for method and the server's URL for path, issued
// now by the server's clock unless opts say otherwise.
func (d deviceKey) proof(t testing.TB, e *env, method, path string, opts ...dpop.ProofOptions) string {
	t.Helper()
	var o dpop.ProofOptions
	if len(opts) > 0 {
		o = opts[0]
	}
	if o.Now.IsZero() {
		o.Now = e.clock.Now()
	}
	p, err := dpop.NewProof(d.key, method, e.url+path, o)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// withDPoP sends a DPoP header.
func withDPoP(proof string) reqOpt { return withHeader(dpop.Header, proof) }

// withDPoPToken presents an access token with the DPoP scheme.
func withDPoPToken(jwt string) reqOpt { return withHeader("Authorization", "DPoP "+jwt) }

// cnfJKT returns a JWT's cnf.jkt ("" when it has none).
func cnfJKT(t testing.TB, jwt string) string {
	t.Helper()
	cnf, _ := claimsOf(t, jwt)["cnf"].(map[string]any)
	jkt, _ := cnf["jkt"].(string)
	return jkt
}

// wantDPoPError asserts a DPoP refusal: 400 (or code) with the RFC 9449
// error JSON and Cache-Control: no-store.
func (r *response) wantDPoPError(t testing.TB, errCode string) api.OAuthError {
	t.Helper()
	var oe api.OAuthError
	r.wantJSON(t, 400, &oe)
	if oe.Code != errCode {
		t.Fatalf("%s: error %q, want %q", r, oe.Code, errCode)
	}
	if oe.Description == "" {
		t.Errorf("%s: no error_description", r)
	}
	if got := r.Header.Get("Cache-Control"); got != "no-store" {
		t.Errorf("%s: Cache-Control %q, want no-store", r, got)
	}
	return oe
}

// passwordForm is a password grant for a with offline_access.
func passwordForm(a oauthApp) url.Values {
	return url.Values{"grant_type": {"password"}, "username": {a.email}, "password": {testPassword}, "scope": {"offline_access"}}
}

func refreshForm(rt string) url.Values {
	return url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}
}

// introspect posts to /oauth2/introspect as client a.
func (e *env) introspect(t testing.TB, a oauthApp, token, hint string) map[string]any {
	t.Helper()
	f := url.Values{"token": {token}}
	if hint != "" {
		f.Set("token_type_hint", hint)
	}
	var out map[string]any
	e.do(t, "POST", "/oauth2/introspect", withForm(f), withBasic(a.id, a.secret)).wantJSON(t, 200, &out)
	return out
}

func TestDPoP_TokenEndpoint(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.mustOAuthApp(t, map[string]any{"generateRefreshTokens": true})
	dev, thief := newDeviceKey(t), newDeviceKey(t)

	// The password grant with a proof: everything issued is bound.
	r := e.token(t, passwordForm(a), withBasic(a.id, a.secret), withDPoP(dev.proof(t, e, "POST", "/oauth2/token")))
	var tok api.AccessTokenResponse
	r.wantJSON(t, 200, &tok)
	if tok.TokenType != "DPoP" || tok.RefreshToken == "" {
		t.Fatalf("password grant with a proof = %s", r.Body)
	}
	if got := cnfJKT(t, tok.AccessToken); got != dev.jkt {
		t.Fatalf("cnf.jkt = %q, want the key's thumbprint %q", got, dev.jkt)
	}
	if r.Header.Get(dpop.NonceHeader) != "" {
		t.Errorf("DPoP-Nonce %q sent with nonces off", r.Header.Get(dpop.NonceHeader))
	}
	in := e.introspect(t, a, tok.AccessToken, "")
	if in["active"] != true || in["token_type"] != "DPoP" || !jsonEqual(in["cnf"], map[string]any{"jkt": dev.jkt}) {
		t.Errorf("introspection of the access token = %v", in)
	}
	in = e.introspect(t, a, tok.RefreshToken, "refresh_token")
	if in["active"] != true || !jsonEqual(in["cnf"], map[string]any{"jkt": dev.jkt}) {
		t.Errorf("introspection of the refresh token = %v, want it bound", in)
	}

	// The refresh_token grant with a proof of the same key: still bound.
	rt := tok.RefreshToken
	r = e.token(t, refreshForm(rt), withBasic(a.id, a.secret), withDPoP(dev.proof(t, e, "POST", "/oauth2/token")))
	r.wantJSON(t, 200, &tok)
	if tok.TokenType != "DPoP" || cnfJKT(t, tok.AccessToken) != dev.jkt {
		t.Fatalf("refresh with the key's proof = %s", r.Body)
	}
	rt = tok.RefreshToken

	// Without a proof, or with another key's: refused alike, logged, and
	// the session lives on.
	e.token(t, refreshForm(rt), withBasic(a.id, a.secret)).wantOAuthError(t, 400, api.OAuthInvalidGrant)
	e.token(t, refreshForm(rt), withBasic(a.id, a.secret), withDPoP(thief.proof(t, e, "POST", "/oauth2/token"))).
		wantOAuthError(t, 400, api.OAuthInvalidGrant)
	if !strings.Contains(e.logs.String(), "DPoP-bound refresh token without proof of its key") {
		t.Errorf("no log line for the refused refreshes")
	}
	if strings.Contains(e.logs.String(), rt) {
		t.Errorf("the log holds the refresh token")
	}
	r = e.token(t, refreshForm(rt), withBasic(a.id, a.secret), withDPoP(dev.proof(t, e, "POST", "/oauth2/token")))
	r.wantJSON(t, 200, &tok)
	if tok.TokenType != "DPoP" || cnfJKT(t, tok.AccessToken) != dev.jkt {
		t.Fatalf("refresh with the key's proof after refused ones = %s", r.Body)
	}

	// Without any proof, the grant is unbound as before.
	var plain api.AccessTokenResponse
	e.token(t, passwordForm(a), withBasic(a.id, a.secret)).wantJSON(t, 200, &plain)
	if plain.TokenType != "Bearer" || cnfJKT(t, plain.AccessToken) != "" {
		t.Fatalf("password grant without a proof = %+v", plain)
	}
	if in := e.introspect(t, a, plain.AccessToken, ""); in["token_type"] != "Bearer" || in["cnf"] != nil {
		t.Errorf("introspection of an unbound token = %v", in)
	}
	// An unbound session refreshed with a proof: the access token is bound
	// to the key (RFC 9449 §5), the session is not.
	r = e.token(t, refreshForm(plain.RefreshToken), withBasic(a.id, a.secret), withDPoP(dev.proof(t, e, "POST", "/oauth2/token")))
	r.wantJSON(t, 200, &tok)
	if tok.TokenType != "DPoP" || cnfJKT(t, tok.AccessToken) != dev.jkt {
		t.Fatalf("refresh of an unbound session with a proof = %s", r.Body)
	}
	var again api.AccessTokenResponse
	e.token(t, refreshForm(tok.RefreshToken), withBasic(a.id, a.secret)).wantJSON(t, 200, &again)
	if again.TokenType != "Bearer" {
		t.Errorf("refresh of an unbound session without a proof: token_type %q", again.TokenType)
	}
}

// jsonEqual compares two JSON-decoded values.
func jsonEqual(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}

func TestDPoP_LoginAndRefreshAPI(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	appID := e.mustAppWithRoles(t)
	_, email := e.mustUser(t, appID)
	dev, thief := newDeviceKey(t), newDeviceKey(t)
	body := map[string]any{"loginId": email, "password": testPassword, "applicationId": appID}

	var res api.LoginResponse
	e.login(t, body, withDPoP(dev.proof(t, e, "POST", "/api/login"))).wantJSON(t, 200, &res)
	if cnfJKT(t, res.Token) != dev.jkt || res.RefreshToken == "" {
		t.Fatalf("login with a proof: cnf.jkt %q, refresh token %q", cnfJKT(t, res.Token), res.RefreshToken)
	}
	rt := res.RefreshToken

	var ref api.JWTRefreshResponse
	e.refresh(t, rt, withDPoP(dev.proof(t, e, "POST", "/api/jwt/refresh"))).wantJSON(t, 200, &ref)
	if cnfJKT(t, ref.Token) != dev.jkt {
		t.Fatalf("refresh with the key's proof: cnf.jkt %q, want %q", cnfJKT(t, ref.Token), dev.jkt)
	}
	rt = ref.RefreshToken

	e.refreshRefused(t, rt)
	e.refresh(t, rt, withDPoP(thief.proof(t, e, "POST", "/api/jwt/refresh"))).wantErrors(t, "[invalid]refreshToken")
	// Not revoked: the session is listed, and the key still refreshes it.
	e.do(t, "GET", "/api/jwt/refresh/"+ref.RefreshTokenID, withKey(e.key)).wantJSON(t, 200, nil)
	e.refresh(t, rt, withDPoP(dev.proof(t, e, "POST", "/api/jwt/refresh"))).wantJSON(t, 200, &ref)
	if cnfJKT(t, ref.Token) != dev.jkt {
		t.Fatalf("refresh after refused ones: cnf.jkt %q", cnfJKT(t, ref.Token))
	}

	// A proof for the login URL is no proof for the refresh URL.
	e.refresh(t, ref.RefreshToken, withDPoP(dev.proof(t, e, "POST", "/api/login"))).wantDPoPError(t, api.OAuthInvalidDPoPProof)
	// An unbound login stays unbound.
	var plain api.LoginResponse
	e.login(t, body).wantJSON(t, 200, &plain)
	if cnfJKT(t, plain.Token) != "" {
		t.Errorf("login without a proof: cnf.jkt %q", cnfJKT(t, plain.Token))
	}
	e.mustRefresh(t, plain.RefreshToken)
}

func TestDPoP_RefusedProofs(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.mustOAuthApp(t, map[string]any{"generateRefreshTokens": true})
	dev := newDeviceKey(t)
	now := e.clock.Now()

	for _, ep := range []struct {
		path string
		send func(opts ...reqOpt) *response
	}{
		{"/oauth2/token", func(opts ...reqOpt) *response {
			return e.token(t, passwordForm(a), append([]reqOpt{withBasic(a.id, a.secret)}, opts...)...)
		}},
		{"/api/login", func(opts ...reqOpt) *response {
			return e.login(t, map[string]any{"loginId": a.email, "password": testPassword, "applicationId": a.id}, opts...)
		}},
		{"/api/jwt/refresh", func(opts ...reqOpt) *response {
			var res api.LoginResponse
			e.login(t, map[string]any{"loginId": a.email, "password": testPassword, "applicationId": a.id}).wantJSON(t, 200, &res)
			return e.refresh(t, res.RefreshToken, opts...)
		}},
	} {
		t.Run(ep.path, func(t *testing.T) {
			good := dev.proof(t, e, "POST", ep.path)
			ep.send(withDPoP(good)).wantStatus(t, 200)
			for _, c := range []struct {
				name string
				opts []reqOpt
			}{
				{"replayed", []reqOpt{withDPoP(good)}},
				{"another URL", []reqOpt{withDPoP(dev.proof(t, e, "POST", ep.path+"x"))}},
				{"another host", []reqOpt{withDPoP(mustProof(t, dev, "POST", "https://latch.example.org"+ep.path, dpop.ProofOptions{Now: now}))}},
				{"another method", []reqOpt{withDPoP(dev.proof(t, e, "PUT", ep.path))}},
				{"stale", []reqOpt{withDPoP(dev.proof(t, e, "POST", ep.path, dpop.ProofOptions{Now: now.Add(-2 * time.Minute)}))}},
				{"from the future", []reqOpt{withDPoP(dev.proof(t, e, "POST", ep.path, dpop.ProofOptions{Now: now.Add(time.Minute)}))}},
				{"alg none", []reqOpt{withDPoP(craftProof(t, dev, map[string]any{"typ": "dpop+jwt", "alg": "none"}, e.url+ep.path, now, false))}},
				{"typ JWT", []reqOpt{withDPoP(craftProof(t, dev, map[string]any{"typ": "JWT", "alg": "ES256"}, e.url+ep.path, now, true))}},
				{"bad signature", []reqOpt{withDPoP(good[:len(good)-4] + "AAAA")}},
				{"not a JWS", []reqOpt{withDPoP("not-a-proof")}},
				{"empty", []reqOpt{func(r *http.Request) { r.Header["Dpop"] = []string{""} }}},
				{"two headers", []reqOpt{func(r *http.Request) {
					r.Header.Add(dpop.Header, dev.proof(t, e, "POST", ep.path))
					r.Header.Add(dpop.Header, dev.proof(t, e, "POST", ep.path))
				}}},
			} {
				t.Run(c.name, func(t *testing.T) {
					ep.send(c.opts...).wantDPoPError(t, api.OAuthInvalidDPoPProof)
				})
			}
		})
	}
}

// mustProof makes a proof for an arbitrary URL.
func mustProof(t testing.TB, d deviceKey, method, u string, o dpop.ProofOptions) string {
	t.Helper()
	p, err := dpop.NewProof(d.key, method, u, o)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// craftProof builds a proof with the given header members (the key's jwk
// added) for POST htu at iat, signed with ES256 when sign is set and with
// an empty signature otherwise.
func craftProof(t testing.TB, d deviceKey, header map[string]any, htu string, iat time.Time, sign bool) string {
	t.Helper()
	pad := func(b *big.Int) string { return base64.RawURLEncoding.EncodeToString(b.FillBytes(make([]byte, 32))) }
	header["jwk"] = map[string]any{"kty": "EC", "crv": "P-256", "x": pad(d.key.X), "y": pad(d.key.Y)}
	claims := map[string]any{"jti": randomSuffix(), "htm": "POST", "htu": htu, "iat": iat.Unix()}
	enc := func(v any) string {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return base64.RawURLEncoding.EncodeToString(b)
	}
	input := enc(header) + "." + enc(claims)
	if !sign {
		return input + "."
	}
	sum := sha256.Sum256([]byte(input))
	r, s, err := ecdsa.Sign(rand.Reader, d.key, sum[:])
	if err != nil {
		t.Fatal(err)
	}
	return input + "." + base64.RawURLEncoding.EncodeToString(append(r.FillBytes(make([]byte, 32)), s.FillBytes(make([]byte, 32))...))
}

func TestDPoP_Nonces(t *testing.T) {
	t.Parallel()
	e := newEnvWith(t, func(c *server.Config) { c.DPoPNonces = true })
	a := e.mustOAuthApp(t, map[string]any{"generateRefreshTokens": true})
	dev := newDeviceKey(t)

	// The token endpoint: a proof without a nonce is answered with one.
	r := e.token(t, passwordForm(a), withBasic(a.id, a.secret), withDPoP(dev.proof(t, e, "POST", "/oauth2/token")))
	r.wantDPoPError(t, api.OAuthUseDPoPNonce)
	nonce := r.Header.Get(dpop.NonceHeader)
	if nonce == "" {
		t.Fatalf("use_dpop_nonce without a DPoP-Nonce header: %s", r)
	}
	r = e.token(t, passwordForm(a), withBasic(a.id, a.secret), withDPoP(dev.proof(t, e, "POST", "/oauth2/token", dpop.ProofOptions{Nonce: nonce})))
	var tok api.AccessTokenResponse
	r.wantJSON(t, 200, &tok)
	if tok.TokenType != "DPoP" || cnfJKT(t, tok.AccessToken) != dev.jkt {
		t.Fatalf("password grant with the nonce = %s", r.Body)
	}
	if r.Header.Get(dpop.NonceHeader) == "" {
		t.Errorf("a success with a proof carries no DPoP-Nonce")
	}
	// A forged nonce, and one that went stale, are answered alike.
	e.token(t, refreshForm(tok.RefreshToken), withBasic(a.id, a.secret),
		withDPoP(dev.proof(t, e, "POST", "/oauth2/token", dpop.ProofOptions{Nonce: "forged"}))).wantDPoPError(t, api.OAuthUseDPoPNonce)
	e.clock.Advance(11 * time.Minute)
	r = e.token(t, refreshForm(tok.RefreshToken), withBasic(a.id, a.secret),
		withDPoP(dev.proof(t, e, "POST", "/oauth2/token", dpop.ProofOptions{Nonce: nonce})))
	r.wantDPoPError(t, api.OAuthUseDPoPNonce)
	fresh := r.Header.Get(dpop.NonceHeader)
	if fresh == "" || fresh == nonce {
		t.Fatalf("DPoP-Nonce after the nonce went stale = %q (was %q)", fresh, nonce)
	}
	e.token(t, refreshForm(tok.RefreshToken), withBasic(a.id, a.secret),
		withDPoP(dev.proof(t, e, "POST", "/oauth2/token", dpop.ProofOptions{Nonce: fresh}))).wantJSON(t, 200, nil)

	// /api/login: the same shapes.
	body := map[string]any{"loginId": a.email, "password": testPassword, "applicationId": a.id}
	r = e.login(t, body, withDPoP(dev.proof(t, e, "POST", "/api/login")))
	r.wantDPoPError(t, api.OAuthUseDPoPNonce)
	nonce = r.Header.Get(dpop.NonceHeader)
	var res api.LoginResponse
	r = e.login(t, body, withDPoP(dev.proof(t, e, "POST", "/api/login", dpop.ProofOptions{Nonce: nonce})))
	r.wantJSON(t, 200, &res)
	if cnfJKT(t, res.Token) != dev.jkt || r.Header.Get(dpop.NonceHeader) == "" {
		t.Fatalf("login with the nonce: cnf.jkt %q, DPoP-Nonce %q", cnfJKT(t, res.Token), r.Header.Get(dpop.NonceHeader))
	}
	e.refresh(t, res.RefreshToken, withDPoP(dev.proof(t, e, "POST", "/api/jwt/refresh"))).wantDPoPError(t, api.OAuthUseDPoPNonce)
	e.refresh(t, res.RefreshToken, withDPoP(dev.proof(t, e, "POST", "/api/jwt/refresh", dpop.ProofOptions{Nonce: nonce}))).wantJSON(t, 200, nil)

	// Every answer to a request with a proof carries a nonce, a refusal
	// for another reason too.
	r = e.token(t, passwordForm(a), withBasic(a.id, "wrong secret"), withDPoP(dev.proof(t, e, "POST", "/oauth2/token")))
	r.wantOAuthError(t, 401, api.OAuthInvalidClient)
	if r.Header.Get(dpop.NonceHeader) == "" {
		t.Errorf("invalid_client to a request with a proof: no DPoP-Nonce")
	}

	// Requests without a proof need no nonce, and get none.
	r = e.login(t, body)
	r.wantJSON(t, 200, nil)
	if r.Header.Get(dpop.NonceHeader) != "" {
		t.Errorf("a login without a proof got a DPoP-Nonce")
	}
}

func TestDPoP_BackendExtension(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	appID := e.mustAppWithRoles(t)
	_, email := e.mustUser(t, appID)
	dev, other := newDeviceKey(t), newDeviceKey(t)
	body := func(extra map[string]any) map[string]any {
		b := map[string]any{"loginId": email, "password": testPassword, "applicationId": appID}
		for k, v := range extra {
			b[k] = v
		}
		return b
	}

	// /api/login with the API key and dpopJkt: bound to that key.
	var res api.LoginResponse
	e.login(t, body(map[string]any{"dpopJkt": dev.jkt})).wantJSON(t, 200, &res)
	if cnfJKT(t, res.Token) != dev.jkt {
		t.Fatalf("login with dpopJkt: cnf.jkt %q, want %q", cnfJKT(t, res.Token), dev.jkt)
	}
	for _, bad := range []string{"short", strings.Repeat("A", 42) + "=", strings.Repeat("+", 43), dev.jkt + "A"} {
		e.login(t, body(map[string]any{"dpopJkt": bad})).wantErrors(t, "[invalid]dpopJkt")
	}
	// With a DPoP header too: of the same key, fine; of another, refused.
	e.login(t, body(map[string]any{"dpopJkt": dev.jkt}), withDPoP(dev.proof(t, e, "POST", "/api/login"))).wantJSON(t, 200, nil)
	e.login(t, body(map[string]any{"dpopJkt": dev.jkt}), withDPoP(other.proof(t, e, "POST", "/api/login"))).wantErrors(t, "[mismatch]dpopJkt")
	// Without an API key, dpopJkt is refused even where login needs none.
	e.mustPatchApp(t, appID, map[string]any{"loginConfiguration": map[string]any{"requireAuthentication": false}})
	e.do(t, "POST", "/api/login", withJSON(body(nil))).wantJSON(t, 200, nil)
	e.do(t, "POST", "/api/login", withJSON(body(map[string]any{"dpopJkt": dev.jkt}))).wantEmpty(t, 401)

	// /api/jwt/refresh: dpopJkt needs an API key (the API is otherwise
	// anonymous), refreshes only for the session's key, and a refusal
	// leaves the session alone.
	rt := res.RefreshToken
	refresh := func(jkt string, opts ...reqOpt) *response {
		return e.do(t, "POST", "/api/jwt/refresh", append([]reqOpt{withJSON(map[string]any{"refreshToken": rt, "dpopJkt": jkt})}, opts...)...)
	}
	refresh(dev.jkt).wantEmpty(t, 401)
	refresh(dev.jkt, withKey("not-a-key-of-latch-0123456789")).wantEmpty(t, 401)
	refresh("short", withKey(e.key)).wantErrors(t, "[invalid]dpopJkt")
	refresh(other.jkt, withKey(e.key)).wantErrors(t, "[invalid]refreshToken")
	e.refreshRefused(t, rt) // no key at all
	var ref api.JWTRefreshResponse
	refresh(dev.jkt, withKey(e.key)).wantJSON(t, 200, &ref)
	if cnfJKT(t, ref.Token) != dev.jkt {
		t.Fatalf("refresh with the API key and dpopJkt: cnf.jkt %q", cnfJKT(t, ref.Token))
	}
	rt = ref.RefreshToken
	refresh(dev.jkt, withKey(e.key), withDPoP(other.proof(t, e, "POST", "/api/jwt/refresh"))).wantErrors(t, "[mismatch]dpopJkt")
	refresh(dev.jkt, withKey(e.key), withDPoP(dev.proof(t, e, "POST", "/api/jwt/refresh"))).wantJSON(t, 200, &ref)
	if cnfJKT(t, ref.Token) != dev.jkt {
		t.Fatalf("refresh with dpopJkt and the key's proof: cnf.jkt %q", cnfJKT(t, ref.Token))
	}
	// A key limited to other APIs is no key for this one.
	var limited api.APIKeyResponse
	e.do(t, "POST", "/api/api-key", withKey(e.key), withJSON(map[string]any{"apiKey": map[string]any{
		"permissions": map[string]any{"endpoints": map[string]any{"/api/user": []string{"GET"}}},
	}})).wantJSON(t, 200, &limited)
	refresh(dev.jkt, withKey(limited.APIKey.Key)).wantEmpty(t, 401)
}

func TestDPoP_Validate(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	appID := e.mustAppWithRoles(t)
	_, email := e.mustUser(t, appID)
	dev, other := newDeviceKey(t), newDeviceKey(t)
	var res api.LoginResponse
	e.login(t, map[string]any{"loginId": email, "password": testPassword, "applicationId": appID},
		withDPoP(dev.proof(t, e, "POST", "/api/login"))).wantJSON(t, 200, &res)
	jwt := res.Token
	validateProof := func(d deviceKey, tok string) string {
		return d.proof(t, e, "GET", "/api/jwt/validate", dpop.ProofOptions{AccessToken: tok})
	}

	// A bound token as a bearer token: 401, with a DPoP challenge.
	r := e.validate(t, jwt).wantEmpty(t, 401)
	if ch := r.Header.Get("WWW-Authenticate"); !strings.HasPrefix(ch, "DPoP ") || !strings.Contains(ch, `error="invalid_token"`) {
		t.Errorf("WWW-Authenticate %q", ch)
	}
	e.do(t, "GET", "/api/jwt/validate", withCookie("access_token", jwt)).wantEmpty(t, 401)

	// With the DPoP scheme and a proof of its key for this request: 200.
	var v api.ValidateResponse
	e.do(t, "GET", "/api/jwt/validate", withDPoPToken(jwt), withDPoP(validateProof(dev, jwt))).wantJSON(t, 200, &v)
	if v.JWT["sub"] == nil || tokenCNF(v.JWT) != dev.jkt {
		t.Errorf("validate answer = %v", v.JWT)
	}

	// Refusals: no proof, another key's, no ath, another URL, a replay.
	for name, opts := range map[string][]reqOpt{
		"no proof":     {withDPoPToken(jwt)},
		"another key":  {withDPoPToken(jwt), withDPoP(validateProof(other, jwt))},
		"no ath":       {withDPoPToken(jwt), withDPoP(dev.proof(t, e, "GET", "/api/jwt/validate"))},
		"another URL":  {withDPoPToken(jwt), withDPoP(dev.proof(t, e, "GET", "/api/jwt/refresh", dpop.ProofOptions{AccessToken: jwt}))},
		"POST's proof": {withDPoPToken(jwt), withDPoP(dev.proof(t, e, "POST", "/api/jwt/validate", dpop.ProofOptions{AccessToken: jwt}))},
	} {
		r := e.do(t, "GET", "/api/jwt/validate", opts...).wantEmpty(t, 401)
		if ch := r.Header.Get("WWW-Authenticate"); !strings.HasPrefix(ch, "DPoP ") {
			t.Errorf("%s: WWW-Authenticate %q", name, ch)
		}
	}
	p := validateProof(dev, jwt)
	e.do(t, "GET", "/api/jwt/validate", withDPoPToken(jwt), withDPoP(p)).wantJSON(t, 200, nil)
	e.do(t, "GET", "/api/jwt/validate", withDPoPToken(jwt), withDPoP(p)).wantEmpty(t, 401)

	// An unbound token: as a bearer token as before; not with DPoP.
	var plain api.LoginResponse
	e.login(t, map[string]any{"loginId": email, "password": testPassword, "applicationId": appID}).wantJSON(t, 200, &plain)
	e.validate(t, plain.Token).wantJSON(t, 200, nil)
	e.do(t, "GET", "/api/jwt/validate", withDPoPToken(plain.Token), withDPoP(validateProof(dev, plain.Token))).wantEmpty(t, 401)

	// Revoking one's own session by JWT follows the same rule.
	path := "/api/jwt/refresh/" + res.RefreshTokenID
	e.do(t, "DELETE", path, withBearer(jwt)).wantEmpty(t, 401)
	e.do(t, "DELETE", path, withDPoPToken(jwt), withDPoP(dev.proof(t, e, "DELETE", path, dpop.ProofOptions{AccessToken: jwt}))).wantEmpty(t, 200)
	e.do(t, "GET", path, withKey(e.key)).wantEmpty(t, 404)
}

// tokenCNF is the cnf.jkt of decoded claims.
func tokenCNF(claims map[string]any) string {
	cnf, _ := claims["cnf"].(map[string]any)
	jkt, _ := cnf["jkt"].(string)
	return jkt
}

func TestDPoP_Discovery(t *testing.T) {
	t.Parallel()
	e := sharedEnv(t)
	var doc map[string]any
	e.do(t, "GET", "/.well-known/openid-configuration").wantJSON(t, 200, &doc)
	if !jsonEqual(doc["dpop_signing_alg_values_supported"], dpop.DefaultAlgorithms()) {
		t.Errorf("dpop_signing_alg_values_supported = %v, want %v", doc["dpop_signing_alg_values_supported"], dpop.DefaultAlgorithms())
	}
	if !slices.Contains(dpop.DefaultAlgorithms(), "ES256") {
		t.Error("ES256 is not among the default algorithms")
	}
}

// TestDPoP_AcrossNodes: two nodes on one database (and one public URL)
// share the replay cache, so a proof accepted by one is refused by the
// other, and, with nonces on, they agree on nonces (derived from the
// master key they share).
func TestDPoP_AcrossNodes(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	const public = "http://latch.test"
	open := func() *latchtest.Latch {
		return latchtest.Start(t, latchtest.Options{Config: server.Config{DataDir: dir, Issuer: public, DPoPNonces: true}})
	}
	a := open()
	b := open()
	e := &env{url: a.URL, key: a.APIKey, client: &http.Client{Timeout: 10 * time.Second}, clock: latchtest.NewClock(time.Now())}
	appID := e.mustAppWithRoles(t)
	_, email := e.mustUser(t, appID)
	dev := newDeviceKey(t)
	proof := func(nonce string) string {
		return mustProof(t, dev, "POST", public+"/api/login", dpop.ProofOptions{Nonce: nonce})
	}
	body := map[string]any{"loginId": email, "password": testPassword, "applicationId": appID}

	// Node A hands out a nonce; node B takes it.
	r := e.login(t, body, withDPoP(proof("")))
	r.wantDPoPError(t, api.OAuthUseDPoPNonce)
	nonce := r.Header.Get(dpop.NonceHeader)
	e.url = b.URL
	p := proof(nonce)
	var res api.LoginResponse
	e.login(t, body, withDPoP(p)).wantJSON(t, 200, &res)
	if cnfJKT(t, res.Token) != dev.jkt {
		t.Fatalf("login at node B: cnf.jkt %q", cnfJKT(t, res.Token))
	}
	// Node A refuses the proof node B accepted.
	e.url = a.URL
	e.login(t, body, withDPoP(p)).wantDPoPError(t, api.OAuthInvalidDPoPProof)
	e.login(t, body, withDPoP(proof(nonce))).wantJSON(t, 200, nil)
}

// TestDPoP_ReplayCacheFull: a proof that cannot be recorded is refused
// with 503, never accepted unrecorded.
func TestDPoP_ReplayCacheFull(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	appID := e.mustAppWithRoles(t)
	_, email := e.mustUser(t, appID)
	v, err := dpop.NewVerifier(dpop.Config{Replay: &dpop.MemoryReplayCache{MaxEntries: 1, Now: e.clock.Now}, Now: e.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	h := httpapi.New(httpapi.Config{Identity: e.srv.Identity(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), DPoP: v})
	ts := httptest.NewServer(h)
	defer ts.Close()
	f := &env{url: ts.URL, key: e.key, clock: e.clock, client: ts.Client()}
	dev := newDeviceKey(t)
	body := map[string]any{"loginId": email, "password": testPassword, "applicationId": appID}
	// The proofs name Latch's public URL (its issuer's), not the test
	// server's.
	f.login(t, body, withDPoP(dev.proof(t, e, "POST", "/api/login"))).wantJSON(t, 200, nil)
	r := f.login(t, body, withDPoP(dev.proof(t, e, "POST", "/api/login")))
	var oe api.OAuthError
	r.wantJSON(t, 503, &oe)
	if oe.Code != "temporarily_unavailable" || r.Header.Get("Retry-After") == "" {
		t.Errorf("full replay cache: %s", r)
	}
}

// TestDPoP_Logout checks POST /api/logout's DPoP on the wire: a bound
// refresh token logs out only with a proof of its key (a DPoP header for
// the logout URL, or dpopJkt with an API key); without one the answer is
// the same 200, and nothing ends.
func TestDPoP_Logout(t *testing.T) {
	t.Parallel()
	e := sharedEnv(t)
	_, email := e.mustUser(t, e.appID)
	dev, thief := newDeviceKey(t), newDeviceKey(t)
	login := func() api.LoginResponse {
		var res api.LoginResponse
		e.login(t, map[string]any{"loginId": email, "password": testPassword, "applicationId": e.appID},
			withDPoP(dev.proof(t, e, "POST", "/api/login"))).wantJSON(t, 200, &res)
		return res
	}
	logout := func(rt string, extra map[string]any, opts ...reqOpt) *response {
		body := map[string]any{"global": true, "refreshToken": rt}
		for k, v := range extra {
			body[k] = v
		}
		return e.do(t, "POST", "/api/logout", append([]reqOpt{withJSON(body)}, opts...)...)
	}
	alive := func(res api.LoginResponse) bool {
		r := e.do(t, "GET", "/api/jwt/refresh/"+res.RefreshTokenID, withKey(e.key))
		return r.Status == 200
	}

	a := login()
	logout(a.RefreshToken, nil).wantEmpty(t, 200)
	logout(a.RefreshToken, nil, withDPoP(thief.proof(t, e, "POST", "/api/logout"))).wantEmpty(t, 200)
	logout(a.RefreshToken, map[string]any{"dpopJkt": thief.jkt}, withKey(e.key)).wantEmpty(t, 200)
	if !alive(a) {
		t.Fatal("a logout without the session's key ended it")
	}
	logout(a.RefreshToken, map[string]any{"dpopJkt": dev.jkt}).wantEmpty(t, 401) // dpopJkt needs an API key
	logout(a.RefreshToken, map[string]any{"dpopJkt": "short"}, withKey(e.key)).wantErrors(t, "[invalid]dpopJkt")
	logout(a.RefreshToken, map[string]any{"dpopJkt": dev.jkt}, withKey(e.key), withDPoP(thief.proof(t, e, "POST", "/api/logout"))).
		wantErrors(t, "[mismatch]dpopJkt")
	if !alive(a) {
		t.Fatal("a refused logout ended the session")
	}

	logout(a.RefreshToken, nil, withDPoP(dev.proof(t, e, "POST", "/api/logout"))).wantEmpty(t, 200)
	if alive(a) {
		t.Error("the device's own logout left the session")
	}
	b := login()
	logout(b.RefreshToken, map[string]any{"dpopJkt": dev.jkt}, withKey(e.key)).wantEmpty(t, 200)
	if alive(b) {
		t.Error("a backend's logout with the device's dpopJkt left the session")
	}
}
