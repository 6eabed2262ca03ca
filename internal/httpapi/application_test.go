package httpapi_test

import (
	"strings"
	"testing"

	"github.com/latchid/latch/api"
)

func TestApplication_CRUD(t *testing.T) {
	t.Parallel()
	e := newEnv(t)

	var res api.ApplicationResponse
	r := e.do(t, "POST", "/api/application", withKey(e.key), withJSON(map[string]any{"application": map[string]any{
		"name":               "Shop",
		"roles":              []map[string]any{{"name": "customer", "isDefault": true}, {"name": "admin", "isSuperRole": true}},
		"oauthConfiguration": map[string]any{"enabledGrants": []string{"password", "refresh_token"}},
	}}))
	r.wantJSON(t, 200, &res)
	app := res.Application
	if app.ID == "" || app.Name != "Shop" || !app.Active || app.TenantID != e.tenantID || len(app.Roles) != 2 {
		t.Fatalf("created application = %s", r.Body)
	}
	secret := app.OAuthConfiguration.ClientSecret
	if secret == "" || app.OAuthConfiguration.ClientID != app.ID {
		t.Fatalf("oauthConfiguration = %+v, want the client id and a one-time secret", app.OAuthConfiguration)
	}
	// Latch's defaults.
	lc := app.LoginConfiguration
	if !lc.RequireAuthentication || !lc.GenerateRefreshTokens || !lc.AllowTokenRefresh {
		t.Errorf("loginConfiguration defaults = %+v", lc)
	}

	// GET returns the secret to a key that may read applications, as
	// FusionAuth does (TestApplication_ClientSecret has the details).
	r = e.do(t, "GET", "/api/application/"+app.ID, withKey(e.key))
	r.wantJSON(t, 200, &res)
	if res.Application.OAuthConfiguration.ClientSecret != secret {
		t.Errorf("GET = %s, want the client secret", r.Body)
	}
	r = e.do(t, "GET", "/api/application", withKey(e.key))
	r.wantJSON(t, 200, &res)
	if len(res.Applications) != 2 || !strings.Contains(string(r.Body), secret) {
		t.Errorf("list = %s", r.Body)
	}

	// PATCH merges: roles and grants stay.
	e.do(t, "PATCH", "/api/application/"+app.ID, withKey(e.key), withJSON(map[string]any{"application": map[string]any{"name": "Shop 2"}})).
		wantJSON(t, 200, &res)
	if res.Application.Name != "Shop 2" || len(res.Application.Roles) != 2 || len(res.Application.OAuthConfiguration.EnabledGrants) != 2 {
		t.Errorf("patched application = %+v", res.Application)
	}
	if res.Application.OAuthConfiguration.ClientSecret != secret {
		t.Errorf("PATCH answered the client secret %q, want the one kept", res.Application.OAuthConfiguration.ClientSecret)
	}
	// The secret still authenticates after a PATCH.
	_, email := e.mustUser(t, app.ID)
	e.do(t, "POST", "/oauth2/token", withBasic(app.ID, secret),
		withForm(map[string][]string{"grant_type": {"password"}, "username": {email}, "password": {testPassword}})).wantJSON(t, 200, nil)

	// PUT replaces, but for the roles, which only the Role API changes.
	e.do(t, "PUT", "/api/application/"+app.ID, withKey(e.key), withJSON(map[string]any{"application": map[string]any{"name": "Shop 3"}})).
		wantJSON(t, 200, &res)
	if res.Application.Name != "Shop 3" || len(res.Application.Roles) != 2 || len(res.Application.OAuthConfiguration.EnabledGrants) != 0 {
		t.Errorf("replaced application = %+v", res.Application)
	}

	// Validation.
	e.do(t, "POST", "/api/application", withKey(e.key), withJSON(map[string]any{"application": map[string]any{}})).wantErrors(t, "[blank]application.name")
	e.do(t, "POST", "/api/application", withKey(e.key), withJSON(map[string]any{"application": map[string]any{"name": "x",
		"roles": []map[string]any{{"name": "a"}, {"name": "a"}}}})).wantErrors(t, "[duplicate]application.roles.name")
	e.do(t, "POST", "/api/application", withKey(e.key), withJSON(map[string]any{"application": map[string]any{"name": "x",
		"roles": []map[string]any{{"name": "a", "id": "not-a-uuid"}, {"name": " ", "description": strings.Repeat("d", 256)}}}})).
		wantErrors(t, "[couldNotConvert]application.roles[0].id", "[blank]role.name", "[tooLong]role.description")
	const roleID = "0A1B2C3D-4E5F-4A6B-8C7D-9E0F1A2B3C4D"
	e.do(t, "POST", "/api/application", withKey(e.key), withJSON(map[string]any{"application": map[string]any{"name": "x",
		"roles": []map[string]any{{"name": "a", "id": roleID}, {"name": "b", "id": strings.ToLower(roleID)}}}})).
		wantErrors(t, "[duplicate]application.roles.id")
	e.do(t, "POST", "/api/application", withKey(e.key), withJSON(map[string]any{"application": map[string]any{"name": "x",
		"jwtConfiguration": map[string]any{"enabled": true, "timeToLiveInSeconds": 0, "refreshTokenTimeToLiveInMinutes": 10}}})).
		wantErrors(t, "[invalid]application.jwtConfiguration.timeToLiveInSeconds")
	e.do(t, "POST", "/api/application", withKey(e.key), withJSON(map[string]any{"application": map[string]any{"name": "x",
		"jwtConfiguration": map[string]any{"enabled": true, "timeToLiveInSeconds": 60, "refreshTokenTimeToLiveInMinutes": 10, "refreshTokenUsagePolicy": "Sometimes"}}})).
		wantErrors(t, "[invalid]application.jwtConfiguration.refreshTokenUsagePolicy")
	e.do(t, "POST", "/api/application", withKey(e.key), withJSON(map[string]any{"application": map[string]any{"name": "x",
		"oauthConfiguration": map[string]any{"enabledGrants": []string{"magic"}}}})).wantErrors(t, "[invalid]application.oauthConfiguration.enabledGrants")
	e.do(t, "POST", "/api/application/"+app.ID, withKey(e.key), withJSON(map[string]any{"application": map[string]any{"name": "dup"}})).
		wantErrors(t, "[duplicate]applicationId")
	e.do(t, "GET", "/api/application/00000000-0000-4000-8000-000000000000", withKey(e.key)).wantEmpty(t, 404)
	e.do(t, "PATCH", "/api/application/00000000-0000-4000-8000-000000000000", withKey(e.key), withJSON(map[string]any{"application": map[string]any{}})).wantEmpty(t, 404)
	e.do(t, "GET", "/api/application/"+app.ID).wantEmpty(t, 401)
}

func TestApplication_CreateWithID(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := "5e4d3c2b-1a09-4f8e-9d7c-6b5a49382716"
	var res api.ApplicationResponse
	e.do(t, "POST", "/api/application/"+id, withKey(e.key), withJSON(map[string]any{"application": map[string]any{"name": "Fixed",
		"oauthConfiguration": map[string]any{"clientSecret": "a chosen client secret value"}}})).wantJSON(t, 200, &res)
	if res.Application.ID != id || res.Application.OAuthConfiguration.ClientSecret != "a chosen client secret value" {
		t.Errorf("application = %+v", res.Application)
	}
	e.do(t, "POST", "/api/application/not-a-uuid", withKey(e.key), withJSON(map[string]any{"application": map[string]any{"name": "x"}})).
		wantErrors(t, "[couldNotConvert]applicationId")
}

func TestApplication_Delete(t *testing.T) {
	t.Parallel()
	e := sharedEnv(t)
	appID := e.mustAppWithRoles(t)
	userID, email := e.mustUser(t, appID)
	login := e.mustLogin(t, email, appID)

	// Soft delete: the application is inactive, logins to it and its
	// refresh tokens are refused.
	e.do(t, "DELETE", "/api/application/"+appID, withKey(e.key)).wantEmpty(t, 200)
	var res api.ApplicationResponse
	e.do(t, "GET", "/api/application/"+appID, withKey(e.key)).wantJSON(t, 200, &res)
	if res.Application.Active || res.Application.State != "Inactive" {
		t.Errorf("soft-deleted application = %+v", res.Application)
	}
	e.login(t, map[string]any{"loginId": email, "password": testPassword, "applicationId": appID}).wantErrors(t, "[inactive]applicationId")
	e.refreshRefused(t, login.RefreshToken)

	// Hard delete: gone, with its registrations.
	e.do(t, "DELETE", "/api/application/"+appID+"?hardDelete=true", withKey(e.key)).wantEmpty(t, 200)
	e.do(t, "GET", "/api/application/"+appID, withKey(e.key)).wantEmpty(t, 404)
	e.do(t, "DELETE", "/api/application/"+appID+"?hardDelete=true", withKey(e.key)).wantEmpty(t, 404)
	e.do(t, "GET", "/api/user/registration/"+userID+"/"+appID, withKey(e.key)).wantEmpty(t, 404)
	e.login(t, map[string]any{"loginId": email, "password": testPassword, "applicationId": appID}).wantErrors(t, "[invalid]applicationId")
	e.do(t, "DELETE", "/api/application/"+e.appID+"?hardDelete=perhaps", withKey(e.key)).wantErrors(t, "[invalid]hardDelete")
}

// The state is FusionAuth's ObjectState, and only DELETE and PUT
// ?reactivate=true change it: "active" in a create, a PUT or a PATCH is
// ignored, as FusionAuth ignores it.
func TestApplication_ActiveIgnored(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	state := func(t *testing.T, id string) (bool, string) {
		t.Helper()
		var res api.ApplicationResponse
		e.do(t, "GET", "/api/application/"+id, withKey(e.key)).wantJSON(t, 200, &res)
		return res.Application.Active, res.Application.State
	}
	var res api.ApplicationResponse
	e.do(t, "POST", "/api/application", withKey(e.key), withJSON(map[string]any{"application": map[string]any{"name": "Shop", "active": false}})).
		wantJSON(t, 200, &res)
	id := res.Application.ID
	if !res.Application.Active || res.Application.State != "Active" {
		t.Errorf("created with active false: active %v, state %q", res.Application.Active, res.Application.State)
	}
	for _, c := range []struct {
		name, method string
		active       bool
		wantState    string
	}{
		{"PUT active false", "PUT", false, "Active"},
		{"PATCH active false", "PATCH", false, "Active"},
		{"DELETE", "DELETE", false, "Inactive"},
		{"PUT active true", "PUT", true, "Inactive"},
		{"PATCH active true", "PATCH", true, "Inactive"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if c.method == "DELETE" {
				e.do(t, "DELETE", "/api/application/"+id, withKey(e.key)).wantEmpty(t, 200)
			} else {
				e.do(t, c.method, "/api/application/"+id, withKey(e.key),
					withJSON(map[string]any{"application": map[string]any{"name": "Shop", "active": c.active}})).wantJSON(t, 200, &res)
				if got := res.Application.State; got != c.wantState {
					t.Errorf("%s answered state %q, want %q", c.method, got, c.wantState)
				}
			}
			if active, st := state(t, id); st != c.wantState || active != (c.wantState == "Active") {
				t.Errorf("after %s: active %v, state %q, want %q", c.name, active, st, c.wantState)
			}
		})
	}
}

// The OAuth client secret: kept when an update sends none, replaced when
// it sends one (the old one then authenticates no more), returned by GET
// and the list to keys that may read applications, and in the answer to
// a change only to those: a key that may change applications but not
// read them learns no secret it did not set. A key locked to another
// tenant sees neither the application nor its secret.
func TestApplication_ClientSecret(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	app := e.mustCreateApp(t, map[string]any{"oauthConfiguration": map[string]any{"enabledGrants": []string{"password"}}})
	_, email := e.mustUser(t, app.ID)
	grant := func(t *testing.T, secret string) *response {
		t.Helper()
		return e.do(t, "POST", "/oauth2/token", withBasic(app.ID, secret),
			withForm(map[string][]string{"grant_type": {"password"}, "username": {email}, "password": {testPassword}}))
	}
	secretOf := func(t *testing.T, key string) string {
		t.Helper()
		var res api.ApplicationResponse
		e.do(t, "GET", "/api/application/"+app.ID, withKey(key)).wantJSON(t, 200, &res)
		return res.Application.OAuthConfiguration.ClientSecret
	}
	first := app.OAuthConfiguration.ClientSecret
	grant(t, first).wantJSON(t, 200, nil)

	// An update without a secret keeps it.
	var res api.ApplicationResponse
	e.do(t, "PUT", "/api/application/"+app.ID, withKey(e.key), withJSON(map[string]any{"application": map[string]any{"name": "Renamed",
		"oauthConfiguration": map[string]any{"enabledGrants": []string{"password"}}}})).wantJSON(t, 200, &res)
	if got := res.Application.OAuthConfiguration.ClientSecret; got != first {
		t.Errorf("PUT without a secret answered %q, want the one kept", got)
	}
	if got := secretOf(t, e.key); got != first {
		t.Errorf("GET after a PUT without a secret = %q, want the one kept", got)
	}
	grant(t, first).wantJSON(t, 200, nil)

	// One with a secret replaces it.
	const second = "a second client secret, long enough"
	e.do(t, "PUT", "/api/application/"+app.ID, withKey(e.key), withJSON(map[string]any{"application": map[string]any{"name": "Renamed",
		"oauthConfiguration": map[string]any{"clientSecret": second, "enabledGrants": []string{"password"}}}})).wantJSON(t, 200, &res)
	if got := res.Application.OAuthConfiguration.ClientSecret; got != second {
		t.Errorf("PUT with a secret answered %q", got)
	}
	if got := secretOf(t, e.key); got != second {
		t.Errorf("GET after a new secret = %q", got)
	}
	grant(t, second).wantJSON(t, 200, nil)
	grant(t, first).wantOAuthError(t, 401, "invalid_client")

	// A key that may change applications but not read them.
	writer := e.mustCreateAPIKey(t, map[string]any{"permissions": map[string]any{"endpoints": map[string]any{
		"/api/application": []string{"PUT", "PATCH"}}}})
	reader := e.mustCreateAPIKey(t, map[string]any{"permissions": map[string]any{"endpoints": map[string]any{
		"/api/application": []string{"GET", "PATCH"}}}})
	for _, c := range []struct {
		name, method, key string
		body              map[string]any
		want              string
	}{
		{"PATCH by a writer", "PATCH", writer.Key, map[string]any{"name": "W"}, ""},
		{"PUT by a writer", "PUT", writer.Key, map[string]any{"name": "W", "oauthConfiguration": map[string]any{"enabledGrants": []string{"password"}}}, ""},
		{"reactivation by a writer", "PUT?reactivate=true", writer.Key, nil, ""},
		{"PATCH by a reader", "PATCH", reader.Key, map[string]any{"name": "R"}, second},
	} {
		method, query, _ := strings.Cut(c.method, "?")
		if query != "" {
			query = "?" + query
		}
		r := e.do(t, method, "/api/application/"+app.ID+query, withKey(c.key), withJSON(map[string]any{"application": c.body}))
		var got api.ApplicationResponse
		r.wantJSON(t, 200, &got)
		if s := got.Application.OAuthConfiguration.ClientSecret; s != c.want || (c.want == "" && strings.Contains(string(r.Body), second)) {
			t.Errorf("%s answered the client secret %q, want %q", c.name, s, c.want)
		}
	}
	e.do(t, "GET", "/api/application/"+app.ID, withKey(writer.Key)).wantEmpty(t, 401)
	if got := secretOf(t, reader.Key); got != second {
		t.Errorf("GET by a reader = %q", got)
	}

	// A key locked to another tenant.
	other := e.mustCreateAPIKey(t, map[string]any{"tenantId": e.mustCreateTenant(t, "Other")})
	e.do(t, "GET", "/api/application/"+app.ID, withKey(other.Key)).wantEmpty(t, 404)
	var list api.ApplicationResponse
	r := e.do(t, "GET", "/api/application", withKey(other.Key))
	if r.wantJSON(t, 200, &list); strings.Contains(string(r.Body), second) {
		t.Errorf("a key of another tenant lists the secret: %s", r.Body)
	}
}
