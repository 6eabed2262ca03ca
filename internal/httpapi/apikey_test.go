package httpapi_test

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/google/uuid"

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

// To a key locked to a tenant, another tenant's objects behave as if they
// did not exist: every API that takes an id answers for another tenant's
// object exactly as for an id that names nothing, and leaves the object
// as it was. A create that asks for another tenant's id cannot have it
// (ids are global), and is answered as for an id that cannot be used,
// without a word of an owner.
func TestAPIKey_TenantLockedCrossTenant(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	victim := e.mustCreateUser(t, "victim@example.org")
	e.mustRegister(t, victim.ID, e.appID)
	login := e.mustLogin(t, "victim@example.org", e.appID)
	victimKey := e.mustGenerateKey(t, "ES256") // signs the victim tenant's application only
	e.mustJWTConfig(t, e.appID, map[string]any{"accessTokenKeyId": victimKey.ID})
	unused := e.mustGenerateKey(t, "ES256") // signs nothing

	other := e.mustCreateTenant(t, "Other")
	ownKey := e.mustGenerateKey(t, "EdDSA")
	e.mustPatchTenant(t, other, map[string]any{"jwtConfiguration": map[string]any{"accessTokenKeyId": ownKey.ID}})
	k := e.mustCreateAPIKey(t, map[string]any{"tenantId": other}).Key
	var mine api.ApplicationResponse
	e.do(t, "POST", "/api/application", withKey(k), withJSON(map[string]any{"application": map[string]any{"name": "mine"}})).wantJSON(t, 200, &mine)
	myApp := mine.Application.ID

	// Lists hold its tenant's objects only.
	var apps api.ApplicationResponse
	e.do(t, "GET", "/api/application", withKey(k)).wantJSON(t, 200, &apps)
	if len(apps.Applications) != 1 || apps.Applications[0].ID != myApp {
		t.Errorf("applications seen by a locked key: %+v", apps.Applications)
	}

	// The signing keys the locked key sees: its tenant's.
	var keys api.KeyResponse
	e.do(t, "GET", "/api/key", withKey(k)).wantJSON(t, 200, &keys)
	seen := map[string]bool{}
	for _, key := range keys.Keys {
		seen[key.ID] = true
	}
	var def api.TenantResponse
	e.do(t, "GET", "/api/tenant/"+e.tenantID, withKey(e.key)).wantJSON(t, 200, &def)
	if !seen[ownKey.ID] || seen[victimKey.ID] || seen[unused.ID] {
		t.Errorf("keys seen by a locked key: %v; want %s and not %s or %s", seen, ownKey.ID, victimKey.ID, unused.ID)
	}
	if id := def.Tenant.JWTConfiguration.IDTokenKeyID; id != "" && !seen[id] {
		t.Errorf("the ID-token key %s its tenant shares with the default tenant is hidden", id)
	}
	e.do(t, "GET", "/api/key/"+ownKey.ID, withKey(k)).wantJSON(t, 200, nil)
	e.do(t, "GET", "/api/key", withKey(e.key)).wantJSON(t, 200, &keys)
	if len(keys.Keys) < 4 {
		t.Errorf("a super key sees %d keys, want all", len(keys.Keys))
	}

	userBody := map[string]any{"user": map[string]any{"email": "new@example.org", "password": testPassword}}
	tests := []struct {
		method, path string // %s is the id
		body         any
	}{
		{"GET", "/api/user/%s", nil},
		{"PUT", "/api/user/%s", map[string]any{"user": map[string]any{"email": "x@example.org"}}},
		{"PATCH", "/api/user/%s", map[string]any{"user": map[string]any{"firstName": "Mallory"}}},
		{"DELETE", "/api/user/%s", nil},
		{"DELETE", "/api/user/%s?hardDelete=true", nil},
		{"POST", "/api/user/registration/%s", map[string]any{"registration": map[string]any{"applicationId": myApp}}},
		{"POST", "/api/user/registration/%s/" + myApp, map[string]any{"registration": map[string]any{}}},
		{"GET", "/api/user/registration/%s/" + e.appID, nil},
		{"PUT", "/api/user/registration/%s/" + e.appID, map[string]any{"registration": map[string]any{"roles": []string{"x"}}}},
		{"DELETE", "/api/user/registration/%s/" + e.appID, nil},
		{"GET", "/api/jwt/refresh?userId=%s", nil},
		{"DELETE", "/api/jwt/refresh?userId=%s", nil},
		{"GET", "/api/application/%s", nil},
		{"PUT", "/api/application/%s", map[string]any{"application": map[string]any{"name": "taken"}}},
		{"PATCH", "/api/application/%s", map[string]any{"application": map[string]any{"name": "taken"}}},
		{"DELETE", "/api/application/%s?hardDelete=true", nil},
		{"DELETE", "/api/jwt/refresh?applicationId=%s", nil},
		{"GET", "/api/tenant/%s", nil},
		{"PUT", "/api/tenant/%s", map[string]any{"tenant": map[string]any{"name": "taken"}}},
		{"PATCH", "/api/tenant/%s", map[string]any{"tenant": map[string]any{"name": "taken"}}},
		{"DELETE", "/api/tenant/%s", nil},
		{"GET", "/api/key/%s", nil},
		{"GET", "/api/jwt/refresh/%s", nil},
		{"DELETE", "/api/jwt/refresh/%s", nil},
	}
	ids := map[string]string{"user": victim.ID, "application": e.appID, "tenant": e.tenantID, "key": victimKey.ID, "jwt": login.RefreshTokenID}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			var theirs string
			switch {
			case strings.Contains(tt.path, "applicationId="), strings.HasPrefix(tt.path, "/api/application/"):
				theirs = ids["application"]
			case strings.HasPrefix(tt.path, "/api/tenant/"):
				theirs = ids["tenant"]
			case strings.HasPrefix(tt.path, "/api/key/"):
				theirs = ids["key"]
			case strings.HasPrefix(tt.path, "/api/jwt/refresh/"):
				theirs = ids["jwt"]
			default:
				theirs = ids["user"]
			}
			opts := func() []reqOpt {
				o := []reqOpt{withKey(k)}
				if tt.body != nil {
					o = append(o, withJSON(tt.body))
				}
				return o
			}
			nobody := e.do(t, tt.method, fmt.Sprintf(tt.path, uuid.NewString()), opts()...)
			got := e.do(t, tt.method, fmt.Sprintf(tt.path, theirs), opts()...)
			if got.Status != nobody.Status || !bytes.Equal(got.Body, nobody.Body) {
				t.Errorf("another tenant's object: %s\nan id that names nothing: %s", got, nobody)
			}
		})
	}

	// Creates that ask for another tenant's id.
	creates := []struct {
		name, path, field string
		body              any
	}{
		{"User", "/api/user/%s", "userId", userBody},
		{"Registration", "/api/user/registration/%s", "userId",
			map[string]any{"user": userBody["user"], "registration": map[string]any{"applicationId": myApp}}},
		{"Application", "/api/application/%s", "applicationId", map[string]any{"application": map[string]any{"name": "taken"}}},
	}
	const nilUUID = "00000000-0000-0000-0000-000000000000"
	for _, tt := range creates {
		t.Run("Create"+tt.name, func(t *testing.T) {
			theirs := victim.ID
			if tt.field == "applicationId" {
				theirs = e.appID
			}
			got := e.do(t, "POST", fmt.Sprintf(tt.path, theirs), withKey(k), withJSON(tt.body))
			got.wantErrors(t, "[invalid]"+tt.field)
			if b := strings.ToLower(string(got.Body)); strings.Contains(b, "exist") || strings.Contains(b, "duplicate") {
				t.Errorf("the answer tells of an owner: %s", got.Body)
			}
			unusable := e.do(t, "POST", fmt.Sprintf(tt.path, nilUUID), withKey(k), withJSON(tt.body))
			unusable.wantErrors(t, "[invalid]"+tt.field)
			if a, b := strings.ReplaceAll(string(got.Body), theirs, "ID"), strings.ReplaceAll(string(unusable.Body), nilUUID, "ID"); a != b {
				t.Errorf("another tenant's id: %s\nthe nil UUID: %s", a, b)
			}
		})
	}
	t.Run("Import", func(t *testing.T) {
		imp := func(id string) string {
			r := e.do(t, "POST", "/api/user/import", withKey(k), withJSON(map[string]any{"users": []map[string]any{{"id": id, "email": "imp@example.org"}}}))
			r.wantErrors(t, "[invalid]users[0].id")
			return strings.ReplaceAll(string(r.Body), id, "ID")
		}
		if a, b := imp(victim.ID), imp(nilUUID); a != b {
			t.Errorf("import with another tenant's id: %s\nwith the nil UUID: %s", a, b)
		}
	})
	// Within its own tenant a taken id is a duplicate, as before.
	t.Run("OwnDuplicate", func(t *testing.T) {
		var res api.UserResponse
		e.do(t, "POST", "/api/user", withKey(k), withJSON(userBody)).wantJSON(t, 200, &res)
		e.do(t, "POST", "/api/user/"+res.User.ID, withKey(k), withJSON(map[string]any{"user": map[string]any{"email": "again@example.org", "password": testPassword}})).
			wantErrors(t, "[duplicate]userId")
		e.do(t, "POST", "/api/application/"+myApp, withKey(k), withJSON(map[string]any{"application": map[string]any{"name": "again"}})).
			wantErrors(t, "[duplicate]applicationId")
	})

	// Nothing of the other tenant changed.
	var u api.UserResponse
	e.do(t, "GET", "/api/user/"+victim.ID, withKey(e.key)).wantJSON(t, 200, &u)
	if !u.User.Active || u.User.FirstName != "" || u.User.Email != "victim@example.org" || len(u.User.Registrations) != 1 {
		t.Errorf("the victim changed: %+v", u.User)
	}
	var app api.ApplicationResponse
	e.do(t, "GET", "/api/application/"+e.appID, withKey(e.key)).wantJSON(t, 200, &app)
	if app.Application.Name != "Default" || !app.Application.Active {
		t.Errorf("the victim's application changed: %+v", app.Application)
	}
	e.do(t, "GET", "/api/tenant/"+e.tenantID, withKey(e.key)).wantJSON(t, 200, &def)
	if def.Tenant.Name != "Default" {
		t.Errorf("the victim's tenant changed: %+v", def.Tenant)
	}
	e.mustRefresh(t, login.RefreshToken)
}
