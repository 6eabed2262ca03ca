package httpapi_test

import (
	"crypto/elliptic"
	"encoding/base64"
	"math/big"
	"net/url"
	"strings"
	"testing"

	"github.com/latchid/latch/api"
)

// highSTwin is raw, an ES256 JWT, with its signature's s replaced by
// n−s: a second signature over the same token that plain ECDSA accepts.
func highSTwin(t *testing.T, raw string) string {
	t.Helper()
	dot := strings.LastIndexByte(raw, '.')
	sig, err := base64.RawURLEncoding.DecodeString(raw[dot+1:])
	if err != nil || len(sig) != 64 {
		t.Fatalf("not an ES256 signature: %q", raw[dot+1:])
	}
	new(big.Int).Sub(elliptic.P256().Params().N, new(big.Int).SetBytes(sig[32:])).FillBytes(sig[32:])
	return raw[:dot+1] + base64.RawURLEncoding.EncodeToString(sig)
}

// Access tokens are typed at+jwt and ID tokens JWT, and an ID token,
// although signed by the same key for the same user, client and session,
// is refused everywhere an access token is taken, as its access token is
// accepted there. An ID token revokes nothing either.
func TestIDTokenIsNoAccessToken(t *testing.T) {
	t.Parallel()
	e := sharedEnv(t)
	a := e.mustOAuthApp(t, nil)
	grant := func(t *testing.T) api.AccessTokenResponse {
		t.Helper()
		res := e.mustToken(t, url.Values{"grant_type": {"password"}, "username": {a.email}, "password": {testPassword}, "scope": {"openid offline_access"}},
			withBasic(a.id, a.secret))
		if res.IDToken == "" || res.RefreshToken == "" {
			t.Fatalf("no ID token or refresh token: %+v", res)
		}
		if h := headerOf(t, res.AccessToken); h["typ"] != "at+jwt" {
			t.Fatalf("access token header %v, want typ at+jwt", h)
		}
		if h := headerOf(t, res.IDToken); h["typ"] != "JWT" {
			t.Fatalf("ID token header %v, want typ JWT", h)
		}
		// The ID token is the access token's twin in all but its type.
		id, access := claimsOf(t, res.IDToken), claimsOf(t, res.AccessToken)
		for _, c := range []string{"iss", "sub", "aud", "sid", "tid"} {
			if id[c] != access[c] {
				t.Fatalf("%s: ID token %v, access token %v", c, id[c], access[c])
			}
		}
		return res
	}
	alive := func(t *testing.T, rt string) bool {
		t.Helper()
		r := e.token(t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}, withBasic(a.id, a.secret))
		return r.Status == 200
	}
	introspect := func(t *testing.T, tok string) bool {
		t.Helper()
		var out map[string]any
		e.do(t, "POST", "/oauth2/introspect", withForm(url.Values{"client_id": {a.id}, "token": {tok}})).wantJSON(t, 200, &out)
		return out["active"] == true
	}

	t.Run("GET /api/jwt/validate", func(t *testing.T) {
		res := grant(t)
		e.validate(t, res.AccessToken).wantJSON(t, 200, nil)
		e.validate(t, res.IDToken).wantEmpty(t, 401)
	})
	t.Run("/oauth2/userinfo", func(t *testing.T) {
		res := grant(t)
		e.do(t, "GET", "/oauth2/userinfo", withBearer(res.AccessToken)).wantJSON(t, 200, nil)
		r := e.do(t, "GET", "/oauth2/userinfo", withBearer(res.IDToken))
		r.wantOAuthError(t, 401, api.OAuthInvalidToken)
		if ch := r.Header.Get("WWW-Authenticate"); !strings.Contains(ch, `error="invalid_token"`) {
			t.Errorf("WWW-Authenticate %q", ch)
		}
	})
	t.Run("/oauth2/introspect", func(t *testing.T) {
		res := grant(t)
		if !introspect(t, res.AccessToken) {
			t.Error("the access token is not active")
		}
		if introspect(t, res.IDToken) {
			t.Error("the ID token is an active access token")
		}
	})
	t.Run("DELETE /api/jwt/refresh with the owner's JWT", func(t *testing.T) {
		res := grant(t)
		sid, _ := claimsOf(t, res.AccessToken)["sid"].(string)
		e.do(t, "DELETE", "/api/jwt/refresh/"+sid, withBearer(res.IDToken)).wantEmpty(t, 401)
		if !alive(t, res.RefreshToken) {
			t.Fatal("the ID token revoked the session")
		}
		e.do(t, "DELETE", "/api/jwt/refresh/"+sid, withBearer(res.AccessToken)).wantEmpty(t, 200)
		if alive(t, res.RefreshToken) {
			t.Error("the access token did not revoke the session")
		}
	})
	t.Run("/oauth2/revoke", func(t *testing.T) {
		res := grant(t)
		for _, hint := range []string{"", "access_token"} {
			e.do(t, "POST", "/oauth2/revoke", withForm(url.Values{"token": {res.IDToken}, "token_type_hint": {hint}}), withBasic(a.id, a.secret)).wantEmpty(t, 200)
			if !alive(t, res.RefreshToken) {
				t.Fatalf("hint %q: the ID token revoked the session", hint)
			}
		}
		e.do(t, "POST", "/oauth2/revoke", withForm(url.Values{"token": {res.AccessToken}}), withBasic(a.id, a.secret)).wantEmpty(t, 200)
		if alive(t, res.RefreshToken) {
			t.Error("the access token did not revoke the session")
		}
	})
}

// The high-S twin of a valid ES256 access token, the same token with s
// replaced by n−s, is a second string for it that plain ECDSA accepts:
// Latch refuses it wherever it takes an access token, so that a token has
// one string. Latch's own signatures are low-S (token.TestSignLowS).
func TestHighSTwinRefused(t *testing.T) {
	t.Parallel()
	e := sharedEnv(t)
	a := e.mustOAuthApp(t, nil)
	res := e.mustToken(t, url.Values{"grant_type": {"password"}, "username": {a.email}, "password": {testPassword}, "scope": {"offline_access"}},
		withBasic(a.id, a.secret))
	if alg := headerOf(t, res.AccessToken)["alg"]; alg != "ES256" {
		t.Fatalf("alg %v, want ES256", alg)
	}
	twin := highSTwin(t, res.AccessToken)

	e.validate(t, res.AccessToken).wantJSON(t, 200, nil)
	e.validate(t, twin).wantEmpty(t, 401)
	e.do(t, "GET", "/oauth2/userinfo", withBearer(twin)).wantOAuthError(t, 401, api.OAuthInvalidToken)
	var out map[string]any
	e.do(t, "POST", "/oauth2/introspect", withForm(url.Values{"client_id": {a.id}, "token": {twin}})).wantJSON(t, 200, &out)
	if out["active"] != false {
		t.Errorf("introspection of the twin: %v", out)
	}
}
