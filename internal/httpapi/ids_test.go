package httpapi_test

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/latchid/latch/api"
)

// Ids are case-insensitive on input and lowercase on output, on every
// route that takes one: objects created with ids in upper case (in the
// URL, in X-FusionAuth-TenantId, in the body) are kept and shown with the
// lowercase id, every route finds them by the upper-case id, and the
// tokens name them in lowercase (aud, applicationId, sub, tid, sid).
// FusionAuth's example kickstarts write ids in upper case and their apps
// then compare aud with the lowercase id.
func TestIDs_AnyCase(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	const (
		tenantID = "d7d09513-a3f5-401c-9685-34ab6c552453"
		appID    = "e9fdb985-9173-4e01-9d73-ac2d60d1dc8e"
		userID   = "00000000-0000-0000-0000-0000000000c1"
		regID    = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
		keyID    = "7f9c3b2a-1d4e-4f6a-8b0c-2d3e4f5a6b7c"
		hookID   = "5b6c7d8e-9f0a-4b1c-8d2e-3f4a5b6c7d8e"
		apiKeyID = "3e4f5a6b-7c8d-4e9f-8a0b-1c2d3e4f5a6b"
	)
	allIDs := []string{tenantID, appID, userID, regID, keyID, hookID, apiKeyID}
	// lower checks that an answer names no id in upper case.
	lower := func(t *testing.T, r *response) {
		t.Helper()
		for _, id := range allIDs {
			if strings.Contains(string(r.Body), up(id)) {
				t.Errorf("%s: the answer holds %s in upper case:\n%s", r, up(id), r.Body)
			}
		}
	}
	email := "upper@example.org"

	// Creates, with every id in upper case.
	var key api.KeyResponse
	r := e.do(t, "POST", "/api/key/generate/"+up(keyID), withKey(e.key), withJSON(map[string]any{"key": map[string]any{"algorithm": "ES256"}}))
	r.wantJSON(t, 200, &key)
	lower(t, r)
	var tenant api.TenantResponse
	r = e.do(t, "POST", "/api/tenant/"+up(tenantID), withKey(e.key), withJSON(map[string]any{"tenant": map[string]any{
		"name": "Upper", "jwtConfiguration": map[string]any{"accessTokenKeyId": up(keyID), "idTokenKeyId": up(keyID)},
	}}))
	r.wantJSON(t, 200, &tenant)
	lower(t, r)
	var app api.ApplicationResponse
	r = e.do(t, "POST", "/api/application/"+up(appID), withKey(e.key), withTenant(up(tenantID)), withJSON(map[string]any{"application": map[string]any{
		"name": "Upper", "roles": []map[string]any{{"name": "user", "isDefault": true}},
		"oauthConfiguration": map[string]any{"enabledGrants": []string{"password", "refresh_token"}, "clientAuthenticationPolicy": "Required"},
	}}))
	r.wantJSON(t, 200, &app)
	lower(t, r)
	var reg api.RegistrationResponse
	r = e.do(t, "POST", "/api/user/registration/"+up(userID), withKey(e.key), withTenant(up(tenantID)), withJSON(map[string]any{
		"user":         map[string]any{"email": email, "password": testPassword, "tenantId": up(tenantID)},
		"registration": map[string]any{"applicationId": up(appID), "id": up(regID)},
	}))
	r.wantJSON(t, 200, &reg)
	lower(t, r)
	r = e.do(t, "POST", "/api/webhook/"+up(hookID), withKey(e.key), withJSON(map[string]any{"webhook": map[string]any{
		"url": "http://127.0.0.1:9/hook", "tenantIds": []string{up(tenantID)}, "eventsEnabled": map[string]bool{"user.login.success": true},
		"signatureConfiguration": map[string]any{"enabled": true, "signingKeyId": up(keyID)},
	}}))
	r.wantJSON(t, 200, nil)
	lower(t, r)
	r = e.do(t, "POST", "/api/api-key/"+up(apiKeyID), withKey(e.key), withJSON(map[string]any{"apiKey": map[string]any{"tenantId": up(tenantID)}}))
	r.wantJSON(t, 200, nil)
	lower(t, r)
	if key.Key.ID != keyID || tenant.Tenant.ID != tenantID || tenant.Tenant.JWTConfiguration.AccessTokenKeyID != keyID ||
		app.Application.ID != appID || app.Application.TenantID != tenantID ||
		reg.User.ID != userID || reg.User.TenantID != tenantID || reg.Registration.ID != regID || reg.Registration.ApplicationID != appID {
		t.Fatalf("ids not kept lowercase: key %s, tenant %+v, application %s (tenant %s), user %s (tenant %s), registration %s for %s",
			key.Key.ID, tenant.Tenant.ID, app.Application.ID, app.Application.TenantID, reg.User.ID, reg.User.TenantID, reg.Registration.ID, reg.Registration.ApplicationID)
	}
	e.mustJWTConfig(t, up(appID), map[string]any{"accessTokenKeyId": up(keyID)})

	// Logins and refreshes name everything in lowercase.
	var login api.LoginResponse
	r = e.login(t, map[string]any{"loginId": email, "password": testPassword, "applicationId": up(appID)}, withTenant(up(tenantID)))
	r.wantJSON(t, 200, &login)
	lower(t, r)
	claims := claimsOf(t, login.Token)
	sid, _ := claims["sid"].(string)
	if claims["aud"] != appID || claims["applicationId"] != appID || claims["sub"] != userID || claims["tid"] != tenantID || sid == "" || sid != strings.ToLower(sid) {
		t.Errorf("claims %v, want aud and applicationId %s, sub %s, tid %s, a lowercase sid", claims, appID, userID, tenantID)
	}
	var refreshed api.JWTRefreshResponse
	e.refresh(t, login.RefreshToken, withTenant(up(tenantID))).wantJSON(t, 200, &refreshed)
	if c := claimsOf(t, refreshed.Token); c["aud"] != appID || c["sub"] != userID || c["tid"] != tenantID {
		t.Errorf("refreshed claims %v", c)
	}
	oauthBasic := e.mustToken(t, url.Values{"grant_type": {"password"}, "username": {email}, "password": {testPassword}, "scope": {"offline_access"}},
		withBasic(up(appID), app.Application.OAuthConfiguration.ClientSecret))
	oauthPost := e.mustToken(t, url.Values{"grant_type": {"password"}, "username": {email}, "password": {testPassword},
		"client_id": {up(appID)}, "client_secret": {app.Application.OAuthConfiguration.ClientSecret}, "tenantId": {up(tenantID)}})
	for _, tok := range []string{oauthBasic.AccessToken, oauthPost.AccessToken} {
		if c := claimsOf(t, tok); c["aud"] != appID || c["sub"] != userID {
			t.Errorf("token endpoint claims %v", c)
		}
	}
	var intro map[string]any
	e.do(t, "POST", "/oauth2/introspect", withForm(url.Values{"token": {oauthBasic.AccessToken}, "client_id": {up(appID)}})).wantJSON(t, 200, &intro)
	if intro["active"] != true || intro["aud"] != appID {
		t.Errorf("introspection %v, want an active token for %s", intro, appID)
	}

	// Every route that takes an id finds the object by the id in upper case.
	for _, tc := range []struct {
		method, path string
		body         any
	}{
		{"GET", "/api/tenant/" + up(tenantID), nil},
		{"PATCH", "/api/tenant/" + up(tenantID), map[string]any{"tenant": map[string]any{"name": "Upper 2"}}},
		{"GET", "/api/application/" + up(appID), nil},
		{"PATCH", "/api/application/" + up(appID), map[string]any{"application": map[string]any{"name": "Upper 2"}}},
		{"GET", "/api/application", nil},
		{"GET", "/api/user/" + up(userID), nil},
		{"PATCH", "/api/user/" + up(userID), map[string]any{"user": map[string]any{"firstName": "Ana"}}},
		{"PUT", "/api/user/" + up(userID), map[string]any{"user": map[string]any{"email": email, "firstName": "Ana"}}},
		{"GET", "/api/user?loginId=" + url.QueryEscape(email), nil},
		{"GET", "/api/user/registration/" + up(userID) + "/" + up(appID), nil},
		{"PUT", "/api/user/registration/" + up(userID) + "/" + up(appID), map[string]any{"registration": map[string]any{"roles": []string{"user"}}}},
		{"GET", "/api/key/" + up(keyID), nil},
		{"GET", "/api/webhook/" + up(hookID), nil},
		{"PATCH", "/api/webhook/" + up(hookID), map[string]any{"webhook": map[string]any{"tenantIds": []string{up(tenantID)}}}},
		{"GET", "/api/api-key/" + up(apiKeyID), nil},
		{"GET", "/api/jwt/refresh?userId=" + up(userID), nil},
		{"GET", "/api/jwt/refresh/" + up(sid), nil},
		{"GET", "/api/jwt/public-key?applicationId=" + up(appID), nil},
		{"GET", "/" + up(tenantID) + "/.well-known/openid-configuration", nil},
	} {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			opts := []reqOpt{withKey(e.key), withTenant(up(tenantID))}
			if tc.body != nil {
				opts = append(opts, withJSON(tc.body))
			}
			r := e.do(t, tc.method, tc.path, opts...)
			r.wantJSON(t, 200, nil)
			lower(t, r)
		})
	}
	var tokens api.RefreshTokensResponse
	e.do(t, "GET", "/api/jwt/refresh?userId="+up(userID), withKey(e.key)).wantJSON(t, 200, &tokens)
	if len(tokens.RefreshTokens) != 3 {
		t.Errorf("%d refresh tokens of the user, want 3", len(tokens.RefreshTokens))
	}

	// ...and revokes and deletes it so.
	for _, tc := range []struct{ method, path string }{
		{"DELETE", "/api/jwt/refresh?userId=" + up(userID) + "&applicationId=" + up(appID)},
		{"DELETE", "/api/user/registration/" + up(userID) + "/" + up(appID)},
		{"DELETE", "/api/webhook/" + up(hookID)},
		{"DELETE", "/api/api-key/" + up(apiKeyID)},
		{"DELETE", "/api/user/" + up(userID) + "?hardDelete=true"},
		{"DELETE", "/api/application/" + up(appID) + "?hardDelete=true"},
		{"DELETE", "/api/tenant/" + up(tenantID)},
		{"DELETE", "/api/key/" + up(keyID)},
	} {
		e.do(t, tc.method, tc.path, withKey(e.key)).wantEmpty(t, 200)
	}
	e.do(t, "GET", "/api/key/"+keyID, withKey(e.key)).wantEmpty(t, 404)
}

// A key locked to a tenant given in upper case is locked to that tenant:
// the X-FusionAuth-TenantId header in either case matches it.
func TestIDs_TenantHeaderAnyCase(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	var k api.APIKeyResponse
	e.do(t, "POST", "/api/api-key", withKey(e.key), withJSON(map[string]any{"apiKey": map[string]any{"tenantId": up(e.tenantID)}})).wantJSON(t, 200, &k)
	if k.APIKey.TenantID != e.tenantID {
		t.Fatalf("key locked to %q, want %s", k.APIKey.TenantID, e.tenantID)
	}
	for _, h := range []string{e.tenantID, up(e.tenantID)} {
		e.do(t, "GET", "/api/application/"+up(e.appID), withKey(k.APIKey.Key), withTenant(h)).wantJSON(t, 200, nil)
	}
	e.do(t, "GET", "/api/application/"+e.appID, withKey(k.APIKey.Key), withTenant("00000000-0000-4000-8000-000000000000")).wantEmpty(t, 401)
}

func up(s string) string { return strings.ToUpper(s) }

// A body's ids are rewritten wherever they are, and nothing else is.
func TestIDs_Body(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	const id = "9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a"
	var res api.UserResponse
	e.do(t, "POST", "/api/user", withKey(e.key), withJSON(map[string]any{"user": map[string]any{
		"email": "body@example.org", "password": testPassword,
		"data": map[string]any{"externalId": up(id), "ids": []string{up(id)}},
	}})).wantJSON(t, 200, &res)
	var got api.UserResponse
	e.do(t, "GET", "/api/user/"+res.User.ID, withKey(e.key)).wantJSON(t, 200, &got)
	b, _ := json.Marshal(got.User.Data)
	if want := `{"externalId":"` + up(id) + `","ids":["` + up(id) + `"]}`; string(b) != want {
		t.Errorf("user data %s, want it as sent: %s", b, want)
	}
}
