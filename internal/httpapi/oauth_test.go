package httpapi_test

import (
	"net/url"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/latchid/latch/api"
)

// oauthApp is an application with the password and refresh_token grants
// and a user registered for it.
type oauthApp struct {
	id, secret string
	userID     string
	email      string
}

func (e *env) mustOAuthApp(t *testing.T, oauthCfg map[string]any) oauthApp {
	t.Helper()
	cfg := map[string]any{"enabledGrants": []string{"password", "refresh_token"}, "clientAuthenticationPolicy": "Required"}
	for k, v := range oauthCfg {
		cfg[k] = v
	}
	app := e.mustCreateApp(t, map[string]any{
		"roles":              []map[string]any{{"name": "user", "isDefault": true}},
		"oauthConfiguration": cfg,
	})
	if app.OAuthConfiguration.ClientSecret == "" {
		t.Fatal("create application: no client secret in the answer")
	}
	userID, email := e.mustUser(t, app.ID)
	return oauthApp{id: app.ID, secret: app.OAuthConfiguration.ClientSecret, userID: userID, email: email}
}

func (e *env) token(t testing.TB, form url.Values, opts ...reqOpt) *response {
	t.Helper()
	return e.do(t, "POST", "/oauth2/token", append([]reqOpt{withForm(form)}, opts...)...)
}

func (e *env) mustToken(t testing.TB, form url.Values, opts ...reqOpt) api.AccessTokenResponse {
	t.Helper()
	var res api.AccessTokenResponse
	r := e.token(t, form, opts...)
	r.wantJSON(t, 200, &res)
	if r.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("token answer without Cache-Control: no-store")
	}
	if res.AccessToken == "" || res.TokenType != "Bearer" || res.ExpiresIn <= 0 {
		t.Fatalf("token answer = %s", r.Body)
	}
	return res
}

func TestToken_PasswordGrant(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.mustOAuthApp(t, nil)
	pw := func(scope string) url.Values {
		v := url.Values{"grant_type": {"password"}, "username": {a.email}, "password": {testPassword}}
		if scope != "" {
			v.Set("scope", scope)
		}
		return v
	}

	t.Run("client_secret_basic with offline_access", func(t *testing.T) {
		res := e.mustToken(t, pw("offline_access"), withBasic(a.id, a.secret))
		if res.RefreshToken == "" || res.RefreshTokenID == "" {
			t.Fatalf("no refresh token for offline_access: %+v", res)
		}
		if res.UserID != a.userID || res.ExpiresIn != 900 || res.Scope != "offline_access" {
			t.Errorf("answer = %+v", res)
		}
		c := claimsOf(t, res.AccessToken)
		if c["aud"] != a.id || c["applicationId"] != a.id || c["sid"] != res.RefreshTokenID || c["scope"] != "offline_access" {
			t.Errorf("claims = %v", c)
		}
		e.validate(t, res.AccessToken).wantJSON(t, 200, nil)
	})
	t.Run("client_secret_post without offline_access", func(t *testing.T) {
		f := pw("")
		f.Set("client_id", a.id)
		f.Set("client_secret", a.secret)
		res := e.mustToken(t, f)
		if res.RefreshToken != "" || res.RefreshTokenID != "" {
			t.Errorf("refresh token without offline_access: %+v", res)
		}
	})
	t.Run("loginId alias and device metadata", func(t *testing.T) {
		f := url.Values{"grant_type": {"password"}, "loginId": {a.email}, "password": {testPassword}, "scope": {"offline_access"},
			"metaData.device.name": {"Kiosk"}, "metaData.device.type": {"TABLET"}}
		res := e.mustToken(t, f, withBasic(a.id, a.secret))
		var got api.RefreshTokenResponse
		e.do(t, "GET", "/api/jwt/refresh/"+res.RefreshTokenID, withKey(e.key)).wantJSON(t, 200, &got)
		if d := got.RefreshToken.MetaData.Device; d.Name != "Kiosk" || d.Type != "TABLET" {
			t.Errorf("device = %+v", d)
		}
		if diff := cmp.Diff([]string{"offline_access"}, got.RefreshToken.MetaData.Scopes); diff != "" {
			t.Errorf("scopes (-want +got):\n%s", diff)
		}
	})
	t.Run("Go client empty values", func(t *testing.T) {
		// The Go client sends client_secret=&scope=&user_code= along with Basic.
		f := pw("")
		f.Set("client_secret", "")
		f.Set("user_code", "")
		f.Set("scope", "")
		e.mustToken(t, f, withBasic(a.id, a.secret))
	})
	t.Run("wrong password", func(t *testing.T) {
		f := pw("")
		f.Set("password", "wrong password")
		oe := e.token(t, f, withBasic(a.id, a.secret)).wantOAuthError(t, 400, "invalid_grant")
		unknown := e.token(t, url.Values{"grant_type": {"password"}, "username": {"nobody@example.org"}, "password": {testPassword}}, withBasic(a.id, a.secret)).
			wantOAuthError(t, 400, "invalid_grant")
		if !cmp.Equal(oe, unknown) {
			t.Errorf("wrong password %+v and unknown user %+v differ", oe, unknown)
		}
	})
	t.Run("missing username", func(t *testing.T) {
		e.token(t, url.Values{"grant_type": {"password"}, "password": {testPassword}}, withBasic(a.id, a.secret)).wantOAuthError(t, 400, "invalid_request")
	})
	t.Run("bad secret", func(t *testing.T) {
		e.token(t, pw(""), withBasic(a.id, "wrong secret")).wantOAuthError(t, 401, "invalid_client")
		f := pw("")
		f.Set("client_id", a.id)
		f.Set("client_secret", "wrong secret")
		e.token(t, f).wantOAuthError(t, 401, "invalid_client")
	})
	t.Run("no secret when required", func(t *testing.T) {
		f := pw("")
		f.Set("client_id", a.id)
		e.token(t, f).wantOAuthError(t, 401, "invalid_client")
		f.Set("client_secret", "") // empty is absent, not wrong
		e.token(t, f).wantOAuthError(t, 401, "invalid_client")
	})
	t.Run("unknown client", func(t *testing.T) {
		e.token(t, pw(""), withBasic("00000000-0000-4000-8000-000000000000", "x")).wantOAuthError(t, 401, "invalid_client")
	})
	t.Run("missing client_id", func(t *testing.T) {
		e.token(t, pw("")).wantOAuthError(t, 400, "invalid_request")
	})
	t.Run("client_id mismatch with Basic", func(t *testing.T) {
		f := pw("")
		f.Set("client_id", e.appID)
		e.token(t, f, withBasic(a.id, a.secret)).wantOAuthError(t, 401, "invalid_client")
	})
	t.Run("secret twice", func(t *testing.T) {
		f := pw("")
		f.Set("client_secret", a.secret)
		e.token(t, f, withBasic(a.id, a.secret)).wantOAuthError(t, 400, "invalid_request")
	})
}

func TestToken_PasswordGrantPolicies(t *testing.T) {
	t.Parallel()
	e := sharedEnv(t)

	t.Run("grant not enabled", func(t *testing.T) {
		a := e.mustOAuthApp(t, map[string]any{"enabledGrants": []string{"refresh_token"}})
		e.token(t, url.Values{"grant_type": {"password"}, "username": {a.email}, "password": {testPassword}}, withBasic(a.id, a.secret)).
			wantOAuthError(t, 400, "unauthorized_client")
	})
	t.Run("client authentication not required", func(t *testing.T) {
		a := e.mustOAuthApp(t, map[string]any{"clientAuthenticationPolicy": "NotRequired"})
		f := url.Values{"grant_type": {"password"}, "username": {a.email}, "password": {testPassword}, "client_id": {a.id}}
		e.mustToken(t, f)
		f.Set("client_secret", "") // the Go client's empty value
		e.mustToken(t, f)
		f.Set("client_secret", "wrong secret") // a secret that is sent is checked
		e.token(t, f).wantOAuthError(t, 401, "invalid_client")
	})
	t.Run("no refresh tokens", func(t *testing.T) {
		a := e.mustOAuthApp(t, map[string]any{"generateRefreshTokens": false})
		res := e.mustToken(t, url.Values{"grant_type": {"password"}, "username": {a.email}, "password": {testPassword}, "scope": {"offline_access"}}, withBasic(a.id, a.secret))
		if res.RefreshToken != "" {
			t.Error("refresh token although oauthConfiguration.generateRefreshTokens is false")
		}
	})
	t.Run("password change required", func(t *testing.T) {
		a := e.mustOAuthApp(t, nil)
		e.do(t, "PATCH", "/api/user/"+a.userID, withKey(e.key), withJSON(map[string]any{"user": map[string]any{"passwordChangeRequired": true}})).wantJSON(t, 200, nil)
		oe := e.token(t, url.Values{"grant_type": {"password"}, "username": {a.email}, "password": {testPassword}}, withBasic(a.id, a.secret)).
			wantOAuthError(t, 400, "change_password_required")
		if oe.ChangePasswordID == "" || oe.Reason != "change_password_administrative" {
			t.Errorf("change_password_required = %+v, want a change_password_id", oe)
		}
	})
	t.Run("login outcomes", func(t *testing.T) {
		a := e.mustOAuthApp(t, nil)
		f := url.Values{"grant_type": {"password"}, "username": {a.email}, "password": {testPassword}}
		e.do(t, "DELETE", "/api/user/"+a.userID, withKey(e.key)).wantEmpty(t, 200)
		e.token(t, f, withBasic(a.id, a.secret)).wantOAuthError(t, 400, "invalid_grant")
		f.Set("password", "wrong password")
		e.token(t, f, withBasic(a.id, a.secret)).wantOAuthError(t, 400, "invalid_grant")
	})
}

func TestToken_RefreshGrant(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.mustOAuthApp(t, nil)
	e.mustJWTConfig(t, a.id, map[string]any{"refreshTokenUsagePolicy": "OneTimeUse",
		"refreshTokenOneTimeUseConfiguration": map[string]any{"gracePeriodInSeconds": 0},
		"refreshTokenRevocationPolicy":        map[string]any{"onOneTimeTokenReuse": true}})
	b := e.mustOAuthApp(t, nil)
	login := func(app oauthApp, scope string) api.AccessTokenResponse {
		return e.mustToken(t, url.Values{"grant_type": {"password"}, "username": {app.email}, "password": {testPassword}, "scope": {scope}}, withBasic(app.id, app.secret))
	}
	grant := func(rt string) url.Values { return url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}} }

	first := login(a, "offline_access openid")
	e.clock.Advance(time.Minute)
	second := e.mustToken(t, grant(first.RefreshToken), withBasic(a.id, a.secret))
	if second.RefreshToken == "" || second.RefreshToken == first.RefreshToken || second.RefreshTokenID != first.RefreshTokenID {
		t.Fatalf("OneTimeUse rotation: %+v", second)
	}
	if second.Scope != "offline_access openid" || second.UserID != a.userID || second.ExpiresIn != 600 {
		t.Errorf("refresh grant answer = %+v", second)
	}
	c := claimsOf(t, second.AccessToken)
	if c["authenticationType"] != "REFRESH_TOKEN" || c["sid"] != first.RefreshTokenID {
		t.Errorf("claims = %v", c)
	}
	e.clock.Advance(time.Second)
	e.token(t, grant(first.RefreshToken), withBasic(a.id, a.secret)).wantOAuthError(t, 400, "invalid_grant")
	// The reuse revoked the session.
	e.token(t, grant(second.RefreshToken), withBasic(a.id, a.secret)).wantOAuthError(t, 400, "invalid_grant")

	// Scope: a subset narrows; an unknown scope is refused.
	third := login(a, "offline_access openid")
	narrowed := grant(third.RefreshToken)
	narrowed.Set("scope", "offline_access")
	res := e.mustToken(t, narrowed, withBasic(a.id, a.secret))
	if res.Scope != "offline_access" || claimsOf(t, res.AccessToken)["scope"] != "offline_access" {
		t.Errorf("narrowed scope = %q, claim %v", res.Scope, claimsOf(t, res.AccessToken)["scope"])
	}
	wider := grant(res.RefreshToken)
	wider.Set("scope", "offline_access email")
	e.token(t, wider, withBasic(a.id, a.secret)).wantOAuthError(t, 400, "invalid_scope")

	// A refresh token of another application.
	other := login(b, "offline_access")
	e.token(t, grant(other.RefreshToken), withBasic(a.id, a.secret)).wantOAuthError(t, 400, "invalid_grant")
	e.mustToken(t, grant(other.RefreshToken), withBasic(b.id, b.secret))

	// Unknown and missing refresh tokens; expires_in.
	e.token(t, grant("no-such-token"), withBasic(a.id, a.secret)).wantOAuthError(t, 400, "invalid_grant")
	e.token(t, url.Values{"grant_type": {"refresh_token"}}, withBasic(a.id, a.secret)).wantOAuthError(t, 400, "invalid_request")
	fourth := login(b, "offline_access")
	short := grant(fourth.RefreshToken)
	short.Set("expires_in", "60")
	if res := e.mustToken(t, short, withBasic(b.id, b.secret)); res.ExpiresIn != 60 {
		t.Errorf("expires_in = %d, want 60", res.ExpiresIn)
	}
	short.Set("expires_in", "-1")
	e.token(t, short, withBasic(b.id, b.secret)).wantOAuthError(t, 400, "invalid_request")
	short.Set("expires_in", "100000")
	e.token(t, short, withBasic(b.id, b.secret)).wantOAuthError(t, 400, "invalid_request")

	// The grant must be enabled.
	e.mustPatchApp(t, b.id, map[string]any{"oauthConfiguration": map[string]any{"enabledGrants": []string{"password"}}})
	e.token(t, grant(fourth.RefreshToken), withBasic(b.id, b.secret)).wantOAuthError(t, 400, "unauthorized_client")
}

func TestToken_BadRequests(t *testing.T) {
	t.Parallel()
	e := sharedEnv(t)
	a := e.mustOAuthApp(t, nil)
	e.token(t, url.Values{"grant_type": {"client_credentials"}}, withBasic(a.id, a.secret)).wantOAuthError(t, 400, "unsupported_grant_type")
	e.token(t, url.Values{"grant_type": {"implicit"}}, withBasic(a.id, a.secret)).wantOAuthError(t, 400, "unsupported_grant_type")
	// Supported, and not enabled for this client.
	e.token(t, url.Values{"grant_type": {"authorization_code"}, "code": {"x"}}, withBasic(a.id, a.secret)).wantOAuthError(t, 400, "unauthorized_client")
	e.token(t, url.Values{"username": {a.email}}, withBasic(a.id, a.secret)).wantOAuthError(t, 400, "invalid_request")
	e.do(t, "POST", "/oauth2/token", withBasic(a.id, a.secret),
		withJSON(map[string]any{"grant_type": "password", "username": a.email, "password": testPassword})).wantOAuthError(t, 400, "invalid_request")
	e.do(t, "POST", "/oauth2/token", withBasic(a.id, a.secret)).wantOAuthError(t, 400, "invalid_request")
	e.do(t, "POST", "/oauth2/token", withBasic(a.id, a.secret),
		withBody("application/x-www-form-urlencoded", []byte("grant_type=password&grant_type=refresh_token"))).wantOAuthError(t, 400, "invalid_request")
	e.do(t, "POST", "/oauth2/token", withBasic(a.id, a.secret),
		withBody("application/x-www-form-urlencoded", []byte("grant_type=%zz"))).wantOAuthError(t, 400, "invalid_request")
	e.do(t, "POST", "/oauth2/token", withHeader("Authorization", "Basic !!!"),
		withForm(url.Values{"grant_type": {"password"}})).wantOAuthError(t, 401, "invalid_client")
	// Parameters belong in the body, not the query string.
	e.do(t, "POST", "/oauth2/token?grant_type=password&username="+url.QueryEscape(a.email)+"&password="+url.QueryEscape(testPassword),
		withBasic(a.id, a.secret), withForm(url.Values{})).wantOAuthError(t, 400, "invalid_request")
}

func TestIntrospect(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.mustOAuthApp(t, nil)
	b := e.mustOAuthApp(t, nil)
	tok := e.mustToken(t, url.Values{"grant_type": {"password"}, "username": {a.email}, "password": {testPassword}, "scope": {"offline_access"}}, withBasic(a.id, a.secret))
	introspect := func(f url.Values, opts ...reqOpt) *response {
		return e.do(t, "POST", "/oauth2/introspect", append([]reqOpt{withForm(f)}, opts...)...)
	}

	// The TS client sends only client_id and token.
	var got map[string]any
	r := introspect(url.Values{"client_id": {a.id}, "token": {tok.AccessToken}})
	r.wantJSON(t, 200, &got)
	if got["active"] != true || got["sub"] != a.userID || got["aud"] != a.id || got["applicationId"] != a.id || got["scope"] != "offline_access" || got["exp"] == nil {
		t.Errorf("introspection = %s", r.Body)
	}
	introspect(url.Values{"token": {tok.AccessToken}}, withBasic(a.id, a.secret)).wantJSON(t, 200, nil)

	inactive := func(r *response) {
		t.Helper()
		r.wantJSON(t, 200, nil)
		if string(r.Body) != `{"active":false}` {
			t.Errorf("%s: want exactly {\"active\":false}", r)
		}
	}
	inactive(introspect(url.Values{"client_id": {a.id}, "token": {"garbage"}}))
	inactive(introspect(url.Values{"client_id": {a.id}, "token": {tok.RefreshToken}})) // not an access token

	// A token of another client.
	introspect(url.Values{"client_id": {b.id}, "token": {tok.AccessToken}}).wantOAuthError(t, 401, "invalid_client")
	introspect(url.Values{"client_id": {"00000000-0000-4000-8000-000000000000"}, "token": {tok.AccessToken}}).wantOAuthError(t, 401, "invalid_client")
	introspect(url.Values{"client_id": {a.id}, "client_secret": {"wrong"}, "token": {tok.AccessToken}}).wantOAuthError(t, 401, "invalid_client")
	introspect(url.Values{"token": {tok.AccessToken}}).wantOAuthError(t, 400, "invalid_request")
	introspect(url.Values{"client_id": {a.id}}).wantOAuthError(t, 400, "invalid_request")

	// Refresh-token introspection with the hint.
	r = introspect(url.Values{"client_id": {a.id}, "token": {tok.RefreshToken}, "token_type_hint": {"refresh_token"}})
	r.wantJSON(t, 200, &got)
	if got["active"] != true || got["sid"] != tok.RefreshTokenID {
		t.Errorf("refresh-token introspection = %s", r.Body)
	}

	// Once the session is revoked its access token is inactive; so is an expired one.
	e.do(t, "DELETE", "/api/jwt/refresh/"+tok.RefreshTokenID, withKey(e.key)).wantEmpty(t, 200)
	inactive(introspect(url.Values{"client_id": {a.id}, "token": {tok.AccessToken}}))
	tok2 := e.mustToken(t, url.Values{"grant_type": {"password"}, "username": {a.email}, "password": {testPassword}}, withBasic(a.id, a.secret))
	e.clock.Advance(901 * time.Second)
	inactive(introspect(url.Values{"client_id": {a.id}, "token": {tok2.AccessToken}}))
}

func TestRevoke(t *testing.T) {
	t.Parallel()
	e := sharedEnv(t)
	a := e.mustOAuthApp(t, nil)
	b := e.mustOAuthApp(t, nil)
	login := func(app oauthApp) api.AccessTokenResponse {
		return e.mustToken(t, url.Values{"grant_type": {"password"}, "username": {app.email}, "password": {testPassword}, "scope": {"offline_access"}}, withBasic(app.id, app.secret))
	}
	revoke := func(app oauthApp, f url.Values) *response {
		return e.do(t, "POST", "/oauth2/revoke", withForm(f), withBasic(app.id, app.secret))
	}
	refreshes := func(app oauthApp, rt string) bool {
		r := e.token(t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}, withBasic(app.id, app.secret))
		return r.Status == 200
	}

	// RFC 7009: unknown tokens are no error.
	revoke(a, url.Values{"token": {"no-such-token"}}).wantEmpty(t, 200)
	revoke(a, url.Values{"token": {"no-such-token"}, "token_type_hint": {"access_token"}}).wantEmpty(t, 200)

	// A refresh token.
	t1 := login(a)
	revoke(a, url.Values{"token": {t1.RefreshToken}, "token_type_hint": {"refresh_token"}}).wantEmpty(t, 200)
	if refreshes(a, t1.RefreshToken) {
		t.Error("revoked refresh token still works")
	}
	// An access token revokes its session.
	t2 := login(a)
	revoke(a, url.Values{"token": {t2.AccessToken}}).wantEmpty(t, 200)
	if refreshes(a, t2.RefreshToken) {
		t.Error("session of a revoked access token still refreshes")
	}
	// Another client's token is left alone (and the answer is the same).
	t3 := login(b)
	revoke(a, url.Values{"token": {t3.RefreshToken}}).wantEmpty(t, 200)
	if !refreshes(b, t3.RefreshToken) {
		t.Error("a client revoked another client's token")
	}

	revoke(a, url.Values{"token": {t3.RefreshToken}, "token_type_hint": {"id_token"}}).wantOAuthError(t, 400, "unsupported_token_type")
	revoke(a, url.Values{}).wantOAuthError(t, 400, "invalid_request")
	e.do(t, "POST", "/oauth2/revoke", withForm(url.Values{"token": {t3.RefreshToken}}), withBasic(a.id, "wrong")).wantOAuthError(t, 401, "invalid_client")
	e.do(t, "POST", "/oauth2/revoke", withForm(url.Values{"token": {t3.RefreshToken}, "client_id": {a.id}})).wantOAuthError(t, 401, "invalid_client")
}
