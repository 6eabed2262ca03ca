package httpapi_test

import (
	"testing"

	"github.com/latchid/latch/api"
)

func TestTenant_CRUD(t *testing.T) {
	t.Parallel()
	e := newEnv(t)

	var res api.TenantResponse
	e.do(t, "GET", "/api/tenant/"+e.tenantID, withKey(e.key)).wantJSON(t, 200, &res)
	def := res.Tenant
	if def.Name != "Default" || def.JWTConfiguration.AccessTokenKeyID == "" || def.JWTConfiguration.TimeToLiveInSeconds != 900 {
		t.Fatalf("default tenant = %+v", def)
	}

	id := e.mustCreateTenant(t, "Second")
	e.do(t, "GET", "/api/tenant/"+id, withKey(e.key)).wantJSON(t, 200, &res)
	// A new tenant gets Latch's defaults and the default tenant's key.
	if res.Tenant.Name != "Second" || res.Tenant.JWTConfiguration.AccessTokenKeyID != def.JWTConfiguration.AccessTokenKeyID ||
		res.Tenant.FailedAuthenticationConfiguration.TooManyAttempts != 5 || !res.Tenant.LoginConfiguration.RequireAuthentication {
		t.Errorf("second tenant = %+v", res.Tenant)
	}
	e.do(t, "GET", "/api/tenant", withKey(e.key)).wantJSON(t, 200, &res)
	if len(res.Tenants) != 2 {
		t.Errorf("tenants = %d, want 2", len(res.Tenants))
	}

	// PATCH merges.
	p := e.mustPatchTenant(t, id, map[string]any{"passwordValidationRules": map[string]any{"minLength": 12}})
	if p.Name != "Second" || p.PasswordValidationRules.MinLength != 12 || p.JWTConfiguration.TimeToLiveInSeconds != 900 {
		t.Errorf("patched tenant = %+v", p)
	}
	e.do(t, "POST", "/api/user", withKey(e.key), withTenant(id),
		withJSON(map[string]any{"user": map[string]any{"email": "a@example.org", "password": "elevenchars"}})).wantErrors(t, "[tooShort]user.password")

	// Validation.
	e.do(t, "POST", "/api/tenant", withKey(e.key), withJSON(map[string]any{"tenant": map[string]any{}})).wantErrors(t, "[blank]tenant.name")
	e.do(t, "PATCH", "/api/tenant/"+id, withKey(e.key), withJSON(map[string]any{"tenant": map[string]any{
		"jwtConfiguration": map[string]any{"refreshTokenExpirationPolicy": "Forever"}}})).wantErrors(t, "[invalid]tenant.jwtConfiguration.refreshTokenExpirationPolicy")
	e.do(t, "PATCH", "/api/tenant/"+id, withKey(e.key), withJSON(map[string]any{"tenant": map[string]any{
		"jwtConfiguration": map[string]any{"accessTokenKeyId": "00000000-0000-4000-8000-000000000000"}}})).wantErrors(t, "[invalid]tenant.jwtConfiguration.accessTokenKeyId")
	e.do(t, "PATCH", "/api/tenant/"+id, withKey(e.key), withJSON(map[string]any{"tenant": map[string]any{
		"failedAuthenticationConfiguration": map[string]any{"actionDurationUnit": "FORTNIGHTS"}}})).wantErrors(t, "[invalid]tenant.failedAuthenticationConfiguration.actionDurationUnit")
	e.do(t, "POST", "/api/tenant/"+id, withKey(e.key), withJSON(map[string]any{"tenant": map[string]any{"name": "dup"}})).wantErrors(t, "[duplicate]tenantId")
	e.do(t, "GET", "/api/tenant/00000000-0000-4000-8000-000000000000", withKey(e.key)).wantEmpty(t, 404)
	e.do(t, "GET", "/api/tenant/"+id).wantEmpty(t, 401)

	// Delete; the last tenant stays.
	e.do(t, "DELETE", "/api/tenant/"+id, withKey(e.key)).wantEmpty(t, 200)
	e.do(t, "GET", "/api/tenant/"+id, withKey(e.key)).wantEmpty(t, 404)
	e.do(t, "DELETE", "/api/tenant/"+e.tenantID, withKey(e.key)).wantErrors(t, "[invalid]")
}

// The tenant's issuer is the iss of its tokens.
func TestTenant_Issuer(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, email := e.mustUser(t, e.appID)
	if iss := claimsOf(t, e.mustLogin(t, email, e.appID).Token)["iss"]; iss != e.url {
		t.Errorf("iss before = %v, want %s", iss, e.url)
	}
	e.mustPatchTenant(t, e.tenantID, map[string]any{"issuer": "https://auth.example.org"})
	login := e.mustLogin(t, email, e.appID)
	if iss := claimsOf(t, login.Token)["iss"]; iss != "https://auth.example.org" {
		t.Errorf("iss after = %v", iss)
	}
	if iss := claimsOf(t, e.mustRefresh(t, login.RefreshToken).Token)["iss"]; iss != "https://auth.example.org" {
		t.Errorf("refreshed iss = %v", iss)
	}
	e.validate(t, login.Token).wantJSON(t, 200, nil)
}

// Once there are two tenants, create operations must name one.
func TestTenant_IDRequired(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	user := map[string]any{"user": map[string]any{"email": "t@example.org", "password": testPassword}}
	e.do(t, "POST", "/api/user", withKey(e.key), withJSON(user)).wantJSON(t, 200, nil)

	other := e.mustCreateTenant(t, "Other")
	user = map[string]any{"user": map[string]any{"email": "t2@example.org", "password": testPassword}}
	e.do(t, "POST", "/api/user", withKey(e.key), withJSON(user)).wantErrors(t, "[TenantIdRequired]")
	e.do(t, "GET", "/api/user?email=t@example.org", withKey(e.key)).wantErrors(t, "[TenantIdRequired]")
	e.do(t, "POST", "/api/application", withKey(e.key), withJSON(map[string]any{"application": map[string]any{"name": "x"}})).wantErrors(t, "[TenantIdRequired]")
	e.do(t, "POST", "/api/user/registration", withKey(e.key), withJSON(map[string]any{
		"user": map[string]any{"email": "t3@example.org", "password": testPassword}, "registration": map[string]any{"applicationId": e.appID}})).
		wantErrors(t, "[TenantIdRequired]")

	var res api.UserResponse
	e.do(t, "POST", "/api/user", withKey(e.key), withTenant(other), withJSON(user)).wantJSON(t, 200, &res)
	if res.User.TenantID != other {
		t.Errorf("user tenant = %s, want %s", res.User.TenantID, other)
	}
	e.do(t, "GET", "/api/user?email=t@example.org", withKey(e.key), withTenant(e.tenantID)).wantJSON(t, 200, nil)
	e.do(t, "GET", "/api/user?email=t@example.org", withKey(e.key), withTenant(other)).wantEmpty(t, 404)
	// Scoped operations need no tenant: the id says which.
	e.do(t, "GET", "/api/user/"+res.User.ID, withKey(e.key)).wantJSON(t, 200, nil)
	// A tenant header naming another tenant hides the object.
	e.do(t, "GET", "/api/user/"+res.User.ID, withKey(e.key), withTenant(e.tenantID)).wantEmpty(t, 404)
	e.do(t, "GET", "/api/user/"+res.User.ID, withKey(e.key), withTenant("garbage")).wantErrors(t, "[invalid]tenantId")
	e.do(t, "GET", "/api/application/"+e.appID, withKey(e.key), withTenant(other)).wantEmpty(t, 404)
	// A registration for an application of another tenant.
	e.do(t, "POST", "/api/user/registration/"+res.User.ID, withKey(e.key),
		withJSON(map[string]any{"registration": map[string]any{"applicationId": e.appID}})).wantErrors(t, "[invalid]registration.applicationId")
}
