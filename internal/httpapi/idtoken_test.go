package httpapi_test

import (
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"hash"
	"net/url"
	"testing"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/latchid/latch/api"
)

// verifyWithJWKS checks raw's signature against the key of the published
// JWKS its kid names, with that key's algorithm, and returns its claims.
func (e *env) verifyWithJWKS(t testing.TB, raw string) api.Claims {
	t.Helper()
	var set jose.JSONWebKeySet
	e.do(t, "GET", "/.well-known/jwks.json").wantJSON(t, 200, &set)
	kid, _ := headerOf(t, raw)["kid"].(string)
	keys := set.Key(kid)
	if len(keys) != 1 {
		t.Fatalf("the JWKS has %d keys with kid %q", len(keys), kid)
	}
	jws, err := jose.ParseSigned(raw, []jose.SignatureAlgorithm{jose.SignatureAlgorithm(keys[0].Algorithm)})
	if err != nil {
		t.Fatalf("parse %s: %v", raw, err)
	}
	payload, err := jws.Verify(keys[0])
	if err != nil {
		t.Fatalf("verify with the JWKS key %s: %v", kid, err)
	}
	var c api.Claims
	if err := json.Unmarshal(payload, &c); err != nil {
		t.Fatal(err)
	}
	return c
}

// atHash is OpenID Connect Core §3.1.3.6, computed independently of Latch.
func atHash(alg, accessToken string) string {
	var h hash.Hash = sha256.New()
	if alg == "EdDSA" {
		h = sha512.New()
	}
	h.Write([]byte(accessToken))
	sum := h.Sum(nil)
	return base64.RawURLEncoding.EncodeToString(sum[:len(sum)/2])
}

// The token endpoint issues an OpenID Connect ID token when the openid
// scope is granted, on the password grant and again on each refresh,
// signed with the application's idTokenKeyId and bound to its access
// token by at_hash.
func TestToken_IDToken(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, alg := range []string{"ES256", "RS256", "EdDSA"} {
		t.Run(alg, func(t *testing.T) {
			a := e.mustOAuthApp(t, nil)
			key := e.mustGenerateKey(t, alg)
			e.mustJWTConfig(t, a.id, map[string]any{"idTokenKeyId": key.ID})
			grant := url.Values{"grant_type": {"password"}, "username": {a.email}, "password": {testPassword}, "scope": {"openid offline_access"}}
			res := e.mustToken(t, grant, withBasic(a.id, a.secret))
			refreshed := e.mustToken(t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {res.RefreshToken}}, withBasic(a.id, a.secret))

			for name, r := range map[string]api.AccessTokenResponse{"password grant": res, "refresh grant": refreshed} {
				if r.IDToken == "" {
					t.Fatalf("%s: no id_token for the openid scope: %+v", name, r)
				}
				if h := headerOf(t, r.IDToken); h["alg"] != alg || h["kid"] != key.Kid {
					t.Errorf("%s: id_token header = %v, want %s with kid %s", name, h, alg, key.Kid)
				}
				id := e.verifyWithJWKS(t, r.IDToken)
				access := claimsOf(t, r.AccessToken)
				switch {
				case id.Issuer != access["iss"] || id.Subject != a.userID:
					t.Errorf("%s: iss %q sub %q, want %v and %s", name, id.Issuer, id.Subject, access["iss"], a.userID)
				case len(id.Audience) != 1 || id.Audience[0] != a.id:
					t.Errorf("%s: aud %v, want the client id %s", name, id.Audience, a.id)
				case id.AccessTokenHash != atHash(alg, r.AccessToken):
					t.Errorf("%s: at_hash %q, want %q", name, id.AccessTokenHash, atHash(alg, r.AccessToken))
				case id.Expiry != intClaim(t, access, "exp") || id.IssuedAt == 0 || id.AuthTime == 0:
					t.Errorf("%s: exp %d iat %d auth_time %d; access token exp %d", name, id.Expiry, id.IssuedAt, id.AuthTime, intClaim(t, access, "exp"))
				case id.Email != a.email || id.Scope != "" || id.Roles != nil || id.Confirmation != nil:
					t.Errorf("%s: claims %+v: want the email and no scope, roles or cnf", name, id)
				}
			}
		})
	}

	t.Run("a refresh narrowed to other scopes still gets one", func(t *testing.T) {
		a := e.mustOAuthApp(t, nil)
		res := e.mustToken(t, url.Values{"grant_type": {"password"}, "username": {a.email}, "password": {testPassword}, "scope": {"openid offline_access"}},
			withBasic(a.id, a.secret))
		narrowed := e.mustToken(t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {res.RefreshToken}, "scope": {"offline_access"}},
			withBasic(a.id, a.secret))
		if narrowed.Scope != "offline_access" || narrowed.IDToken == "" {
			t.Errorf("narrowed refresh: scope %q, id_token %q; want offline_access and an ID token", narrowed.Scope, narrowed.IDToken)
		}
	})
	t.Run("no openid scope, no id_token", func(t *testing.T) {
		a := e.mustOAuthApp(t, nil)
		res := e.mustToken(t, url.Values{"grant_type": {"password"}, "username": {a.email}, "password": {testPassword}, "scope": {"offline_access"}},
			withBasic(a.id, a.secret))
		refreshed := e.mustToken(t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {res.RefreshToken}}, withBasic(a.id, a.secret))
		if res.IDToken != "" || refreshed.IDToken != "" {
			t.Errorf("id_token without the openid scope: %q, %q", res.IDToken, refreshed.IDToken)
		}
	})
	t.Run("the Login API never returns one", func(t *testing.T) {
		a := e.mustOAuthApp(t, nil)
		r := e.login(t, map[string]any{"loginId": a.email, "password": testPassword, "applicationId": a.id})
		var body map[string]any
		r.wantJSON(t, 200, &body)
		if _, ok := body["id_token"]; ok {
			t.Errorf("login answer has an id_token: %s", r.Body)
		}
	})
}
