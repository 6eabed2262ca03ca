package httpapi_test

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/latchid/latch/api"
	"github.com/latchid/latch/dpop"
)

// The UserInfo endpoint (OpenID Connect Core §5.3) answers the claims of
// the token's user from the current record, and refuses with RFC 6750
// challenges what does not carry a live token.
func TestUserInfo(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.mustOAuthApp(t, nil)
	e.mustPatchUser(t, a.userID, map[string]any{"firstName": "Ana", "lastName": "Lima", "fullName": "Ana Lima"})
	tok := e.mustToken(t, url.Values{"grant_type": {"password"}, "username": {a.email}, "password": {testPassword}, "scope": {"openid offline_access"}},
		withBasic(a.id, a.secret))
	want := map[string]any{
		"sub": a.userID, "tid": claimsOf(t, tok.AccessToken)["tid"], "email": a.email, "email_verified": true,
		"name": "Ana Lima", "given_name": "Ana", "family_name": "Lima", "applicationId": a.id, "roles": []any{"user"},
	}

	for _, method := range []string{"GET", "POST"} {
		var got map[string]any
		r := e.do(t, method, "/oauth2/userinfo", withBearer(tok.AccessToken))
		r.wantJSON(t, 200, &got)
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("%s /oauth2/userinfo (-want +got):\n%s", method, d)
		}
		if r.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("%s: Cache-Control %q", method, r.Header.Get("Cache-Control"))
		}
	}

	// The record as it is now, not as the token saw it.
	e.mustPatchUser(t, a.userID, map[string]any{"fullName": "Ana Lima Souza"})
	var fresh map[string]any
	e.do(t, "GET", "/oauth2/userinfo", withBearer(tok.AccessToken)).wantJSON(t, 200, &fresh)
	if fresh["name"] != "Ana Lima Souza" {
		t.Errorf("name = %v after the change", fresh["name"])
	}

	refused := func(t *testing.T, name, errCode string, opts ...reqOpt) {
		t.Helper()
		r := e.do(t, "GET", "/oauth2/userinfo", opts...)
		oe := r.wantOAuthError(t, 401, errCode)
		ch := r.Header.Get("WWW-Authenticate")
		if !strings.HasPrefix(ch, "Bearer ") && !strings.HasPrefix(ch, "DPoP ") {
			t.Errorf("%s: WWW-Authenticate %q", name, ch)
		}
		if errCode != api.OAuthInvalidRequest && !strings.Contains(ch, `error="`+errCode+`"`) {
			t.Errorf("%s: WWW-Authenticate %q without error=%s", name, ch, errCode)
		}
		if oe.Description == "" {
			t.Errorf("%s: no error_description", name)
		}
	}
	t.Run("refusals", func(t *testing.T) {
		refused(t, "no token", api.OAuthInvalidRequest)
		refused(t, "garbage", api.OAuthInvalidToken, withBearer("not.a.jwt"))
		refused(t, "tampered", api.OAuthInvalidToken, withBearer(tok.AccessToken[:len(tok.AccessToken)-4]+"AAAA"))
		refused(t, "a refresh token", api.OAuthInvalidToken, withBearer(tok.RefreshToken))
	})
	t.Run("revoked session", func(t *testing.T) {
		other := e.mustToken(t, url.Values{"grant_type": {"password"}, "username": {a.email}, "password": {testPassword}, "scope": {"offline_access"}},
			withBasic(a.id, a.secret))
		e.do(t, "DELETE", "/api/jwt/refresh/"+other.RefreshTokenID, withKey(e.key)).wantStatus(t, 200)
		refused(t, "revoked", api.OAuthInvalidToken, withBearer(other.AccessToken))
	})
	t.Run("Login API token and inactive user", func(t *testing.T) {
		b := e.mustOAuthApp(t, nil)
		login := e.mustLogin(t, b.email, b.id)
		var got map[string]any
		e.do(t, "POST", "/oauth2/userinfo", withBearer(login.Token)).wantJSON(t, 200, &got)
		if got["sub"] != b.userID {
			t.Errorf("userinfo of a Login API token = %v", got)
		}
		e.do(t, "DELETE", "/api/user/"+b.userID, withKey(e.key)).wantStatus(t, 200)
		refused(t, "inactive user", api.OAuthInvalidToken, withBearer(login.Token))
	})
	t.Run("DPoP-bound token", func(t *testing.T) {
		dev := newDeviceKey(t)
		var bound api.AccessTokenResponse
		e.token(t, passwordForm(a), withBasic(a.id, a.secret), withDPoP(dev.proof(t, e, "POST", "/oauth2/token"))).wantJSON(t, 200, &bound)
		refused(t, "bound token as Bearer", api.OAuthInvalidToken, withBearer(bound.AccessToken))
		refused(t, "bound token without a proof", api.OAuthInvalidDPoPProof, withDPoPToken(bound.AccessToken))
		refused(t, "another key's proof", api.OAuthInvalidDPoPProof, withDPoPToken(bound.AccessToken),
			withDPoP(newDeviceKey(t).proof(t, e, "GET", "/oauth2/userinfo", dpop.ProofOptions{AccessToken: bound.AccessToken})))
		var got map[string]any
		e.do(t, "GET", "/oauth2/userinfo", withDPoPToken(bound.AccessToken),
			withDPoP(dev.proof(t, e, "GET", "/oauth2/userinfo", dpop.ProofOptions{AccessToken: bound.AccessToken}))).wantJSON(t, 200, &got)
		if got["sub"] != a.userID {
			t.Errorf("userinfo with DPoP = %v", got)
		}
	})
	t.Run("expired", func(t *testing.T) {
		e.clock.Advance(time.Hour)
		refused(t, "expired", api.OAuthInvalidToken, withBearer(tok.AccessToken))
	})
}
