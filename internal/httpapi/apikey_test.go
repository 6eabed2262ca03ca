package httpapi_test

import (
	"strings"
	"testing"

	"github.com/latchid/latch/api"
)

func (e *env) mustCreateAPIKey(t *testing.T, key map[string]any) api.APIKey {
	t.Helper()
	var res api.APIKeyResponse
	e.do(t, "POST", "/api/api-key", withKey(e.key), withJSON(map[string]any{"apiKey": key})).wantJSON(t, 200, &res)
	if res.APIKey == nil || res.APIKey.ID == "" || res.APIKey.Key == "" {
		t.Fatalf("create API key: %+v", res.APIKey)
	}
	return *res.APIKey
}

func TestAPIKey_SecretShownOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	k := e.mustCreateAPIKey(t, map[string]any{"metaData": map[string]any{"attributes": map[string]any{"description": "ci"}}})
	if len(k.Key) < 32 {
		t.Errorf("generated key %q is short", k.Key)
	}
	r := e.do(t, "GET", "/api/api-key/"+k.ID, withKey(e.key))
	var got api.APIKeyResponse
	r.wantJSON(t, 200, &got)
	if got.APIKey.ID != k.ID || got.APIKey.Key != "" || strings.Contains(string(r.Body), k.Key) || got.APIKey.MetaData.Attributes["description"] != "ci" {
		t.Errorf("retrieved API key = %s", r.Body)
	}
	r = e.do(t, "GET", "/api/api-key", withKey(e.key))
	r.wantJSON(t, 200, &got)
	if len(got.APIKeys) != 2 || strings.Contains(string(r.Body), k.Key) || strings.Contains(string(r.Body), e.key) {
		t.Errorf("API key list = %s", r.Body)
	}
	// The new key works, until deleted.
	e.do(t, "GET", "/api/tenant/"+e.tenantID, withKey(k.Key)).wantJSON(t, 200, nil)
	e.do(t, "DELETE", "/api/api-key/"+k.ID, withKey(e.key)).wantEmpty(t, 200)
	e.do(t, "GET", "/api/tenant/"+e.tenantID, withKey(k.Key)).wantEmpty(t, 401)
	e.do(t, "DELETE", "/api/api-key/"+k.ID, withKey(e.key)).wantEmpty(t, 404)

	// A chosen value; too short a value; duplicates.
	chosen := e.mustCreateAPIKey(t, map[string]any{"key": "a-chosen-api-key-that-is-long-enough-1234"})
	if chosen.Key != "a-chosen-api-key-that-is-long-enough-1234" {
		t.Errorf("chosen key = %q", chosen.Key)
	}
	e.do(t, "GET", "/api/key", withKey(chosen.Key)).wantJSON(t, 200, nil)
	e.do(t, "POST", "/api/api-key", withKey(e.key), withJSON(map[string]any{"apiKey": map[string]any{"key": "short"}})).wantErrors(t, "[tooShort]apiKey.key")
	e.do(t, "POST", "/api/api-key", withKey(e.key), withJSON(map[string]any{"apiKey": map[string]any{"key": "a-chosen-api-key-that-is-long-enough-1234"}})).
		wantErrors(t, "[duplicate]apiKey")
	e.do(t, "POST", "/api/api-key", withKey(e.key), withJSON(map[string]any{"apiKey": map[string]any{"tenantId": "00000000-0000-4000-8000-000000000000"}})).
		wantErrors(t, "[invalid]apiKey.tenantId")
	e.do(t, "POST", "/api/api-key", withKey(e.key), withJSON(map[string]any{"apiKey": map[string]any{
		"permissions": map[string]any{"endpoints": map[string]any{"/api/user": []string{"FETCH"}}}}})).wantErrors(t, "[invalid]apiKey.permissions.endpoints")
	e.do(t, "GET", "/api/api-key").wantEmpty(t, 401)
}

// An API key limited to endpoints and methods is refused everything else.
func TestAPIKey_EndpointPermissions(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	u := e.mustCreateUser(t, "perm@example.org")
	k := e.mustCreateAPIKey(t, map[string]any{"permissions": map[string]any{"endpoints": map[string]any{
		"/api/user":  []string{"GET"},
		"/api/login": []string{"POST"},
	}}})

	e.do(t, "GET", "/api/user/"+u.ID, withKey(k.Key)).wantJSON(t, 200, nil)
	e.do(t, "GET", "/api/user?email=perm@example.org", withKey(k.Key)).wantJSON(t, 200, nil)
	e.mustRegister(t, u.ID, e.appID)
	e.do(t, "POST", "/api/login", withKey(k.Key), withJSON(map[string]any{"loginId": "perm@example.org", "password": testPassword, "applicationId": e.appID})).
		wantJSON(t, 200, nil)

	// Sub-APIs under /api/user are endpoints of their own.
	e.do(t, "GET", "/api/user/registration/"+u.ID+"/"+e.appID, withKey(k.Key)).wantEmpty(t, 401)
	e.do(t, "GET", "/api/user/..%2Fapi-key", withKey(k.Key)).wantEmpty(t, 404)
	post := e.mustCreateAPIKey(t, map[string]any{"permissions": map[string]any{"endpoints": map[string]any{"/api/user/": []string{"POST"}}}})
	e.do(t, "POST", "/api/user", withKey(post.Key), withJSON(map[string]any{"user": map[string]any{"email": "p2@example.org", "password": testPassword}})).
		wantJSON(t, 200, nil)
	e.do(t, "POST", "/api/user/3a2b1c0d-9e8f-4a7b-8c6d-5e4f3a2b1c0d", withKey(post.Key),
		withJSON(map[string]any{"user": map[string]any{"email": "p3@example.org", "password": testPassword}})).wantJSON(t, 200, nil)
	e.do(t, "POST", "/api/user/import", withKey(post.Key), withJSON(map[string]any{"users": []map[string]any{{"email": "imp@example.org"}}})).
		wantEmpty(t, 401)
	e.do(t, "POST", "/api/user/registration", withKey(post.Key), withJSON(map[string]any{
		"user": map[string]any{"email": "reg@example.org", "password": testPassword}, "registration": map[string]any{"applicationId": e.appID}})).
		wantEmpty(t, 401)
	e.do(t, "POST", "/api/user/registration/"+u.ID, withKey(post.Key), withJSON(map[string]any{"registration": map[string]any{"applicationId": e.appID}})).
		wantEmpty(t, 401)

	for _, tc := range []struct{ method, path string }{
		{"POST", "/api/user"},
		{"DELETE", "/api/user/" + u.ID},
		{"PATCH", "/api/user/" + u.ID},
		{"GET", "/api/application"},
		{"GET", "/api/jwt/refresh?userId=" + u.ID},
		{"DELETE", "/api/jwt/refresh?userId=" + u.ID},
		{"GET", "/api/api-key"},
		{"POST", "/api/api-key"},
	} {
		e.do(t, tc.method, tc.path, withKey(k.Key), withJSON(map[string]any{"user": map[string]any{"email": "x@example.org", "password": testPassword}})).
			wantEmpty(t, 401)
	}
}

// A key locked to a tenant sees only that tenant.
func TestAPIKey_TenantLocked(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	inDefault := e.mustCreateUser(t, "home@example.org")
	e.mustRegister(t, inDefault.ID, e.appID)
	login := e.mustLogin(t, "home@example.org", e.appID)
	other := e.mustCreateTenant(t, "Other")
	k := e.mustCreateAPIKey(t, map[string]any{"tenantId": other})
	if k.TenantID != other {
		t.Errorf("key tenant = %q", k.TenantID)
	}

	// Its own tenant: creates need no header.
	var res api.UserResponse
	e.do(t, "POST", "/api/user", withKey(k.Key), withJSON(map[string]any{"user": map[string]any{"email": "locked@example.org", "password": testPassword}})).
		wantJSON(t, 200, &res)
	if res.User.TenantID != other {
		t.Errorf("user made with a locked key is in %s, want %s", res.User.TenantID, other)
	}
	e.do(t, "GET", "/api/user/"+res.User.ID, withKey(k.Key)).wantJSON(t, 200, nil)

	// Another tenant's objects are invisible.
	e.do(t, "GET", "/api/user/"+inDefault.ID, withKey(k.Key)).wantEmpty(t, 404)
	e.do(t, "DELETE", "/api/user/"+inDefault.ID, withKey(k.Key)).wantEmpty(t, 404)
	e.do(t, "GET", "/api/user?email=home@example.org", withKey(k.Key)).wantEmpty(t, 404)
	e.do(t, "GET", "/api/application/"+e.appID, withKey(k.Key)).wantEmpty(t, 404)
	e.do(t, "GET", "/api/tenant/"+e.tenantID, withKey(k.Key)).wantEmpty(t, 404)
	var tl api.TenantResponse
	e.do(t, "GET", "/api/tenant", withKey(k.Key)).wantJSON(t, 200, &tl)
	if len(tl.Tenants) != 1 || tl.Tenants[0].ID != other {
		t.Errorf("tenants seen by a locked key = %+v", tl.Tenants)
	}
	// A header naming another tenant is refused.
	e.do(t, "GET", "/api/user/"+res.User.ID, withKey(k.Key), withTenant(e.tenantID)).wantEmpty(t, 401)
	// Server-wide APIs are not for it.
	e.do(t, "POST", "/api/api-key", withKey(k.Key), withJSON(map[string]any{"apiKey": map[string]any{}})).wantEmpty(t, 401)
	e.do(t, "POST", "/api/tenant", withKey(k.Key), withJSON(map[string]any{"tenant": map[string]any{"name": "x"}})).wantEmpty(t, 401)
	e.do(t, "POST", "/api/key/generate", withKey(k.Key), withJSON(map[string]any{"key": map[string]any{"algorithm": "ES256"}})).wantEmpty(t, 401)
	// The refresh-token APIs stay within the tenant too.
	e.do(t, "GET", "/api/jwt/refresh/"+login.RefreshTokenID, withKey(k.Key)).wantEmpty(t, 404)
	e.do(t, "DELETE", "/api/jwt/refresh/"+login.RefreshTokenID, withKey(k.Key)).wantEmpty(t, 404)
	e.mustRefresh(t, login.RefreshToken)
}
