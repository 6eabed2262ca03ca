package httpapi_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/latchid/latch/api"
)

// roleReq is a Role API request body.
func roleReq(role map[string]any) reqOpt { return withJSON(map[string]any{"role": role}) }

// mustRole expects a Role API answer and returns its role.
func mustRole(t *testing.T, r *response) api.ApplicationRole {
	t.Helper()
	var res api.ApplicationResponse
	r.wantJSON(t, 200, &res)
	if res.Role == nil || res.Application != nil {
		t.Fatalf("%s: want the role only", r)
	}
	return *res.Role
}

// rolesOf returns an application's roles by name.
func (e *env) rolesOf(t *testing.T, appID string) map[string]api.ApplicationRole {
	t.Helper()
	var res api.ApplicationResponse
	e.do(t, "GET", "/api/application/"+appID, withKey(e.key)).wantJSON(t, 200, &res)
	out := map[string]api.ApplicationRole{}
	for _, r := range res.Application.Roles {
		out[r.Name] = r
	}
	return out
}

// registeredRoles returns the roles of a user's registration.
func (e *env) registeredRoles(t *testing.T, userID, appID string) []string {
	t.Helper()
	var res api.RegistrationResponse
	e.do(t, "GET", "/api/user/registration/"+userID+"/"+appID, withKey(e.key)).wantJSON(t, 200, &res)
	return res.Registration.Roles
}

// A full update of an application (PUT) and a merge (PATCH) leave its
// roles alone, whatever they say of them: only the Role API changes them.
func TestRole_KeptByUpdates(t *testing.T) {
	t.Parallel()
	e := sharedEnv(t)
	appID := e.mustAppWithRoles(t)
	userID, _ := e.mustUser(t, appID, "admin")
	for _, c := range []struct {
		method string
		app    map[string]any
	}{
		{"PUT", map[string]any{"name": "no roles"}},
		{"PUT", map[string]any{"name": "empty roles", "roles": []any{}}},
		{"PUT", map[string]any{"name": "other roles", "roles": []map[string]any{{"name": "intruder"}}}},
		{"PATCH", map[string]any{"roles": []any{}}},
		{"PATCH", map[string]any{"roles": nil}},
		{"PATCH", map[string]any{"roles": []map[string]any{{"name": "intruder"}}}},
	} {
		e.do(t, c.method, "/api/application/"+appID, withKey(e.key), withJSON(map[string]any{"application": c.app})).wantJSON(t, 200, nil)
		if roles := e.rolesOf(t, appID); len(roles) != 2 || roles["admin"].ID == "" || !roles["user"].IsDefault {
			t.Errorf("%s %v: roles %+v, want admin and user", c.method, c.app, roles)
		}
	}
	// The registration's role is still defined: registrations go on.
	e.mustUser(t, appID, "admin")
	if got := e.registeredRoles(t, userID, appID); !slices.Equal(got, []string{"admin"}) {
		t.Errorf("registration roles %v", got)
	}
}

// The Role API: create (with a generated or a given id), update (PUT,
// PATCH), delete (by id or name), with FusionAuth's errors; a renamed
// role is renamed in the registrations that hold it, a deleted one
// removed from them, and the next token carries the change.
func TestRole_API(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	appID := e.mustAppWithRoles(t)
	userID, email := e.mustUser(t, appID, "admin", "user")
	base := "/api/application/" + appID + "/role"

	// Create, with a generated id.
	editor := mustRole(t, e.do(t, "POST", base, withKey(e.key),
		withJSON(map[string]any{"application": map[string]any{"active": false}, "role": map[string]any{"name": "editor", "description": "Edits", "isDefault": true}})))
	if editor.ID == "" || editor.Name != "editor" || editor.Description != "Edits" || !editor.IsDefault || editor.IsSuperRole || editor.InsertInstant == 0 || editor.LastUpdateInstant != editor.InsertInstant {
		t.Errorf("created role = %+v", editor)
	}
	if got := e.rolesOf(t, appID)["editor"]; got != editor {
		t.Errorf("the application's role = %+v, want %+v", got, editor)
	}
	// With an id in the path (any case: ids are lowercase), or in the body.
	const pathID, bodyID = "6F5E4D3C-2B1A-4C9D-8E7F-1A2B3C4D5E6F", "1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e"
	if r := mustRole(t, e.do(t, "POST", base+"/"+pathID, withKey(e.key), roleReq(map[string]any{"name": "auditor", "isSuperRole": true}))); r.ID != strings.ToLower(pathID) || !r.IsSuperRole {
		t.Errorf("role created with a path id = %+v", r)
	}
	if r := mustRole(t, e.do(t, "POST", base, withKey(e.key), roleReq(map[string]any{"name": "viewer", "id": bodyID}))); r.ID != bodyID {
		t.Errorf("role created with a body id = %+v", r)
	}
	e.mustUser(t, appID, "editor", "auditor") // defined, so registrations may hold them
	// Role ids are unique within their application only.
	otherApp := e.mustCreateApp(t, map[string]any{}).ID
	if r := mustRole(t, e.do(t, "POST", "/api/application/"+otherApp+"/role/"+pathID, withKey(e.key), roleReq(map[string]any{"name": "auditor"}))); r.ID != strings.ToLower(pathID) {
		t.Errorf("role of another application with the same id = %+v", r)
	}

	// Create: errors.
	for _, c := range []struct {
		name, path string
		role       map[string]any
		codes      []string
	}{
		{"blank name", base, map[string]any{"name": " "}, []string{"[blank]role.name"}},
		{"no role", base, nil, []string{"[blank]role.name"}},
		{"long description", base, map[string]any{"name": "x", "description": strings.Repeat("é", 256)}, []string{"[tooLong]role.description"}},
		{"taken name", base, map[string]any{"name": "admin"}, []string{"[duplicate]role.name"}},
		{"taken id", base + "/" + strings.ToLower(pathID), map[string]any{"name": "x"}, []string{"[duplicate]roleId"}},
		{"bad id", base + "/not-a-uuid", map[string]any{"name": "x"}, []string{"[couldNotConvert]roleId"}},
		{"unknown application", "/api/application/00000000-0000-4000-8000-00000000abcd/role", map[string]any{"name": "x"}, []string{"[invalid]applicationId"}},
	} {
		body := map[string]any{}
		if c.role != nil {
			body["role"] = c.role
		}
		t.Run("create/"+c.name, func(t *testing.T) {
			e.do(t, "POST", c.path, withKey(e.key), withJSON(body)).wantErrors(t, c.codes...)
		})
	}
	e.do(t, "POST", base, roleReq(map[string]any{"name": "x"})).wantEmpty(t, 401)

	// Update (PUT) renames, in the registrations too; the id and the
	// insert instant stay.
	admin := e.rolesOf(t, appID)["admin"]
	before := e.mustLogin(t, email, appID)
	e.clock.Advance(2 * time.Second)
	boss := mustRole(t, e.do(t, "PUT", base+"/"+admin.ID, withKey(e.key), roleReq(map[string]any{"name": "boss", "description": "Runs things"})))
	if boss.ID != admin.ID || boss.Name != "boss" || boss.InsertInstant != admin.InsertInstant || boss.LastUpdateInstant <= admin.InsertInstant {
		t.Errorf("updated role = %+v (was %+v)", boss, admin)
	}
	if got := e.registeredRoles(t, userID, appID); !slices.Equal(got, []string{"boss", "user"}) {
		t.Errorf("registration roles after the rename = %v, want [boss user]", got)
	}
	if roles := claimsOf(t, e.mustLogin(t, email, appID).Token)["roles"]; !slices.Equal(anyStrings(roles), []string{"boss", "user"}) {
		t.Errorf("JWT roles after the rename = %v", roles)
	}
	if roles := claimsOf(t, e.mustRefresh(t, before.RefreshToken).Token)["roles"]; !slices.Equal(anyStrings(roles), []string{"boss", "user"}) {
		t.Errorf("roles of a JWT refreshed after the rename = %v", roles)
	}
	// A JWT issued before keeps its roles, and stays valid, until it expires.
	e.validate(t, before.Token).wantJSON(t, 200, nil)
	if roles := claimsOf(t, before.Token)["roles"]; !slices.Equal(anyStrings(roles), []string{"admin", "user"}) {
		t.Errorf("roles of the JWT issued before the rename = %v", roles)
	}
	// PATCH merges into the role.
	if r := mustRole(t, e.do(t, "PATCH", base+"/"+admin.ID, withKey(e.key), roleReq(map[string]any{"isSuperRole": true}))); r.Name != "boss" || r.Description != "Runs things" || !r.IsSuperRole {
		t.Errorf("patched role = %+v", r)
	}
	// Update: errors.
	e.do(t, "PUT", base+"/"+admin.ID, withKey(e.key), roleReq(map[string]any{"name": "user"})).wantErrors(t, "[duplicate]role.name")
	e.do(t, "PUT", base+"/"+admin.ID, withKey(e.key), roleReq(map[string]any{"name": ""})).wantErrors(t, "[blank]role.name")
	e.do(t, "PATCH", base+"/"+admin.ID, withKey(e.key), roleReq(map[string]any{"name": nil})).wantErrors(t, "[blank]role.name")
	e.do(t, "PUT", base+"/00000000-0000-4000-8000-00000000abcd", withKey(e.key), roleReq(map[string]any{"name": "x"})).wantEmpty(t, 404)
	e.do(t, "PATCH", base+"/00000000-0000-4000-8000-00000000abcd", withKey(e.key), roleReq(map[string]any{"name": "x"})).wantEmpty(t, 404)
	e.do(t, "PUT", "/api/application/00000000-0000-4000-8000-00000000abcd/role/"+admin.ID, withKey(e.key), roleReq(map[string]any{"name": "x"})).
		wantErrors(t, "[invalid]applicationId")

	// Delete by id: gone from the application and the registrations; a
	// registration may no longer name it.
	e.do(t, "DELETE", base+"/"+admin.ID, withKey(e.key)).wantEmpty(t, 200)
	if _, ok := e.rolesOf(t, appID)["boss"]; ok {
		t.Error("the deleted role is still defined")
	}
	if got := e.registeredRoles(t, userID, appID); !slices.Equal(got, []string{"user"}) {
		t.Errorf("registration roles after the delete = %v, want [user]", got)
	}
	if roles := claimsOf(t, e.mustLogin(t, email, appID).Token)["roles"]; !slices.Equal(anyStrings(roles), []string{"user"}) {
		t.Errorf("JWT roles after the delete = %v", roles)
	}
	other := e.mustCreateUser(t, "other-"+randomSuffix()+"@example.org")
	e.do(t, "POST", "/api/user/registration/"+other.ID, withKey(e.key), withJSON(map[string]any{"registration": map[string]any{
		"applicationId": appID, "roles": []string{"boss"}}})).wantErrors(t, "[invalid]registration.roles")
	e.do(t, "DELETE", base+"/"+admin.ID, withKey(e.key)).wantEmpty(t, 404)
	// By name.
	e.do(t, "DELETE", base+"?name=user", withKey(e.key)).wantEmpty(t, 200)
	if got := e.registeredRoles(t, userID, appID); len(got) != 0 {
		t.Errorf("registration roles after deleting user = %v, want none", got)
	}
	e.do(t, "DELETE", base+"?name=user", withKey(e.key)).wantEmpty(t, 404)
	e.do(t, "DELETE", base, withKey(e.key)).wantEmpty(t, 404)
	e.do(t, "DELETE", "/api/application/00000000-0000-4000-8000-00000000abcd/role?name=editor", withKey(e.key)).wantEmpty(t, 404)
	if roles := e.rolesOf(t, appID); len(roles) != 3 {
		t.Errorf("roles left = %v, want editor, auditor and viewer", roles)
	}
}

// API key permissions name the Role API /api/application/role, apart
// from /api/application, as FusionAuth's do; a key locked to a tenant
// reaches only its tenant's applications' roles.
func TestRole_Permissions(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	appID := e.mustAppWithRoles(t)
	apps := e.mustCreateAPIKey(t, map[string]any{"permissions": map[string]any{"endpoints": map[string]any{
		"/api/application": []string{"GET", "POST", "PUT", "PATCH", "DELETE"}}}})
	roles := e.mustCreateAPIKey(t, map[string]any{"permissions": map[string]any{"endpoints": map[string]any{
		"/api/application/role": []string{"POST", "DELETE"}}}})
	path := "/api/application/" + appID + "/role"
	e.do(t, "POST", path, withKey(apps.Key), roleReq(map[string]any{"name": "x"})).wantEmpty(t, 401)
	mustRole(t, e.do(t, "POST", path, withKey(roles.Key), roleReq(map[string]any{"name": "x"})))
	e.do(t, "DELETE", path+"?name=x", withKey(roles.Key)).wantEmpty(t, 200)
	e.do(t, "GET", "/api/application/"+appID, withKey(roles.Key)).wantEmpty(t, 401)
	e.do(t, "GET", "/api/application/"+appID, withKey(apps.Key)).wantJSON(t, 200, nil)

	otherTenant := e.mustCreateTenant(t, "Other")
	locked := e.mustCreateAPIKey(t, map[string]any{"tenantId": otherTenant})
	e.do(t, "POST", path, withKey(locked.Key), roleReq(map[string]any{"name": "y"})).wantErrors(t, "[invalid]applicationId")
	e.do(t, "DELETE", path+"?name=admin", withKey(locked.Key)).wantEmpty(t, 404)
	if _, ok := e.rolesOf(t, appID)["admin"]; !ok {
		t.Error("a key of another tenant deleted a role")
	}
}

// anyStrings converts a JSON array of strings.
func anyStrings(v any) []string {
	list, _ := v.([]any)
	out := make([]string, 0, len(list))
	for _, x := range list {
		s, _ := x.(string)
		out = append(out, s)
	}
	return out
}
