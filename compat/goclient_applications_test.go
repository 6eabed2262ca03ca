package compat_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/latchid/latch/api"
	"github.com/latchid/latch/internal/latchtest"
)

// The tests of this file send the Application API's requests as
// FusionAuth's Go client (github.com/FusionAuth/go-client) sends them:
// its request types are structs whose members are all sent, zero values
// included ("active": false, all-false configurations), nested structs
// always, and an ApplicationRequest carries both "application" and
// "role" whichever API it is for. appsZeroApplication is the application
// object it sends for an Application with no member set.
const appsZeroApplication = `{"accessControlConfiguration":{},"active":false,
"authenticationTokenConfiguration":{"enabled":false},
"cleanSpeakConfiguration":{"enabled":false,"usernameModeration":{"enabled":false}},
"emailConfiguration":{},"externalIdentifierConfiguration":{},
"formConfiguration":{"selfServiceFormConfiguration":{"requireCurrentPasswordOnPasswordChange":false}},
"jwtConfiguration":{"enabled":false,"refreshTokenOneTimeUseConfiguration":{},
  "refreshTokenRevocationPolicy":{"onLoginPrevented":false,"onMultiFactorEnable":false,"onOneTimeTokenReuse":false,"onPasswordChanged":false},
  "refreshTokenSlidingWindowConfiguration":{}},
"lambdaConfiguration":{},
"loginConfiguration":{"allowTokenRefresh":false,"generateRefreshTokens":false,"requireAuthentication":false},
"multiFactorConfiguration":{"email":{},"sms":{},"voice":{}},
"oauthConfiguration":{"debug":false,"generateRefreshTokens":false,
  "providedScopePolicy":{"address":{"enabled":false,"required":false},"email":{"enabled":false,"required":false},
    "phone":{"enabled":false,"required":false},"profile":{"enabled":false,"required":false}},
  "requireClientAuthentication":false,"requireRegistration":false},
"passwordlessConfiguration":{"enabled":false},"phoneConfiguration":{},
"registrationConfiguration":{"enabled":false,"birthDate":{"enabled":false,"required":false},"completeRegistration":false,
  "confirmPassword":false,"firstName":{"enabled":false,"required":false},"fullName":{"enabled":false,"required":false},
  "lastName":{"enabled":false,"required":false},"middleName":{"enabled":false,"required":false},
  "mobilePhone":{"enabled":false,"required":false},"preferredLanguages":{"enabled":false,"required":false}},
"registrationDeletePolicy":{"unverified":{"enabled":false}},
"samlv2Configuration":{"enabled":false,"assertionEncryptionConfiguration":{"enabled":false},"debug":false,
  "initiatedLogin":{"enabled":false},"loginHintConfiguration":{"enabled":false},
  "logout":{"requireSignedRequests":false,"singleLogout":{"enabled":false}},"requireSignedRequests":false},
"universalConfiguration":{"universal":false},"unverified":{},"verifyRegistration":false,
"webAuthnConfiguration":{"enabled":false,"bootstrapWorkflow":{"enabled":false},"reauthenticationWorkflow":{"enabled":false}}}`

// appsZeroRole is the role object the Go client sends for an
// ApplicationRole with no member set: with every Application API
// request, the role APIs' included.
const appsZeroRole = `{"isDefault":false,"isSuperRole":false}`

// appsGoApplication is the application object the Go client sends for an
// Application whose set members are those of set (merged into the zero
// one, objects member by member).
func appsGoApplication(t *testing.T, set map[string]any) map[string]any {
	t.Helper()
	return appsMerge(t, appsZeroApplication, set)
}

// appsGoRole is the role object the Go client sends for an
// ApplicationRole whose set members are those of set.
func appsGoRole(t *testing.T, set map[string]any) map[string]any {
	t.Helper()
	return appsMerge(t, appsZeroRole, set)
}

// appsGoRequest is an ApplicationRequest as the Go client sends it: its
// eventInfo, an application and a role, both always present (nil stands
// for the zero one).
func appsGoRequest(t *testing.T, app, role map[string]any) map[string]any {
	t.Helper()
	if app == nil {
		app = appsGoApplication(t, nil)
	}
	if role == nil {
		role = appsGoRole(t, nil)
	}
	return map[string]any{"eventInfo": map[string]any{"location": map[string]any{}}, "application": app, "role": role}
}

// appsMerge decodes the JSON object zero and sets the members of set in
// it, objects member by member.
func appsMerge(t *testing.T, zero string, set map[string]any) map[string]any {
	t.Helper()
	var out map[string]any
	if err := json.Unmarshal([]byte(zero), &out); err != nil {
		t.Fatal(err)
	}
	appsMergeInto(out, set)
	return out
}

func appsMergeInto(dst, set map[string]any) {
	for k, v := range set {
		if sub, ok := v.(map[string]any); ok {
			if d, ok := dst[k].(map[string]any); ok {
				appsMergeInto(d, sub)
				continue
			}
		}
		dst[k] = v
	}
}

// appsLatch starts a Latch with its bootstrap API key.
func appsLatch(t *testing.T) *latchtest.Latch {
	t.Helper()
	return latchtest.Start(t, latchtest.Options{})
}

// appsGet reads an application with the bootstrap API key.
func appsGet(t *testing.T, l *latchtest.Latch, id string) api.Application {
	t.Helper()
	var res api.ApplicationResponse
	l.Do(t, l.APIKey, http.MethodGet, "/api/application/"+id, nil, http.StatusOK, &res)
	if res.Application == nil {
		t.Fatalf("GET /api/application/%s: no application", id)
	}
	return *res.Application
}

// An application the Go client creates is active, whatever "active" says
// (false, as always), and a full update (the Go client's UpdateApplication)
// leaves the state alone: FusionAuth ignores "active" in both.
func TestGoClientApplication_ActiveIgnored(t *testing.T) {
	l := appsLatch(t)
	var res api.ApplicationResponse
	l.Do(t, l.APIKey, http.MethodPost, "/api/application",
		appsGoRequest(t, appsGoApplication(t, map[string]any{"name": "Shop"}), nil), http.StatusOK, &res)
	app := *res.Application
	if !app.Active || app.State != api.StateActive {
		t.Fatalf("created: active %v, state %q; want an active application", app.Active, app.State)
	}
	l.Do(t, l.APIKey, http.MethodPut, "/api/application/"+app.ID,
		appsGoRequest(t, appsGoApplication(t, map[string]any{"name": "Shop 2"}), nil), http.StatusOK, &res)
	if got := appsGet(t, l, app.ID); !got.Active || got.State != api.StateActive || got.Name != "Shop 2" {
		t.Errorf("after UpdateApplication: active %v, state %q, name %q; want the active Shop 2", got.Active, got.State, got.Name)
	}

	// Deactivated, it stays inactive through a full update that says
	// nothing of it (active false) and one that says true.
	l.Do(t, l.APIKey, http.MethodDelete, "/api/application/"+app.ID, nil, http.StatusOK, nil)
	for _, active := range []bool{false, true} {
		l.Do(t, l.APIKey, http.MethodPut, "/api/application/"+app.ID,
			appsGoRequest(t, appsGoApplication(t, map[string]any{"name": "Shop 3", "active": active}), nil), http.StatusOK, &res)
		if got := appsGet(t, l, app.ID); got.Active || got.State != api.StateInactive {
			t.Errorf("deactivated, then updated with active %v: active %v, state %q; want Inactive", active, got.Active, got.State)
		}
	}
}

// The Go client's ReactivateApplication and ReactivateUser send PUT
// ?reactivate=true with no body at all, after DeactivateApplication and
// DeactivateUser (DELETE without hardDelete).
func TestGoClientApplication_Reactivate(t *testing.T) {
	l := appsLatch(t)
	var created api.ApplicationResponse
	l.Do(t, l.APIKey, http.MethodPost, "/api/application",
		appsGoRequest(t, appsGoApplication(t, map[string]any{"name": "Shop"}), nil), http.StatusOK, &created)
	appID := created.Application.ID
	var user api.UserResponse
	l.Do(t, l.APIKey, http.MethodPost, "/api/user", map[string]any{
		"eventInfo": map[string]any{"location": map[string]any{}}, "disableDomainBlock": false, "sendSetPasswordEmail": false,
		"skipVerification": false, "user": map[string]any{"passwordChangeRequired": false, "verified": false, "active": false,
			"email": "reactivated@example.org", "password": latchtest.Password, "twoFactor": map[string]any{}},
	}, http.StatusOK, &user)
	userID := user.User.ID

	l.Do(t, l.APIKey, http.MethodDelete, "/api/application/"+appID, nil, http.StatusOK, nil)
	l.Do(t, l.APIKey, http.MethodDelete, "/api/user/"+userID, nil, http.StatusOK, nil)
	if got := appsGet(t, l, appID); got.State != api.StateInactive {
		t.Fatalf("deactivated application: state %q", got.State)
	}

	var app api.ApplicationResponse
	l.Do(t, l.APIKey, http.MethodPut, "/api/application/"+appID+"?reactivate=true", nil, http.StatusOK, &app)
	if app.Application == nil || !app.Application.Active || app.Application.State != api.StateActive || app.Application.Name != "Shop" {
		t.Errorf("ReactivateApplication answered %+v", app.Application)
	}
	if got := appsGet(t, l, appID); got.State != api.StateActive {
		t.Errorf("reactivated application: state %q", got.State)
	}
	l.Do(t, l.APIKey, http.MethodPut, "/api/user/"+userID+"?reactivate=true", nil, http.StatusOK, &user)
	if user.User == nil || !user.User.Active || user.User.Email != "reactivated@example.org" {
		t.Errorf("ReactivateUser answered %+v", user.User)
	}
	l.Do(t, l.APIKey, http.MethodGet, "/api/user/"+userID, nil, http.StatusOK, &user)
	if !user.User.Active {
		t.Error("the reactivated user is inactive")
	}
}

// appsRegistrationRoles returns the roles of a user's registration.
func appsRegistrationRoles(t *testing.T, l *latchtest.Latch, userID, appID string) []string {
	t.Helper()
	var res api.RegistrationResponse
	l.Do(t, l.APIKey, http.MethodGet, "/api/user/registration/"+userID+"/"+appID, nil, http.StatusOK, &res)
	return res.Registration.Roles
}

// The roles of an application survive the Go client's UpdateApplication,
// whose request carries none (it omits an empty list), so registrations
// that name them go on; after creation the Go client changes them with
// CreateApplicationRole, UpdateApplicationRole, PatchApplicationRole and
// DeleteApplicationRole, and registrations follow a rename and lose a
// deleted role, as in FusionAuth.
func TestGoClientApplication_Roles(t *testing.T) {
	l := appsLatch(t)
	var res api.ApplicationResponse
	l.Do(t, l.APIKey, http.MethodPost, "/api/application", appsGoRequest(t, appsGoApplication(t, map[string]any{
		"name":  "Shop",
		"roles": []any{appsGoRole(t, map[string]any{"name": "admin", "isSuperRole": true}), appsGoRole(t, map[string]any{"name": "customer", "isDefault": true})},
	}), nil), http.StatusOK, &res)
	appID := res.Application.ID
	first := l.Register(t, appID, "first@example.org", "admin")

	// UpdateApplication: the whole application, no roles member.
	l.Do(t, l.APIKey, http.MethodPut, "/api/application/"+appID,
		appsGoRequest(t, appsGoApplication(t, map[string]any{"name": "Shop"}), nil), http.StatusOK, &res)
	if got := appsGet(t, l, appID).Roles; len(got) != 2 {
		t.Fatalf("roles after UpdateApplication = %+v, want admin and customer", got)
	}
	l.Register(t, appID, "second@example.org", "admin") // FusionAuth's "The role [admin] is not defined" no more

	// CreateApplicationRole: the role, with a zero application beside it.
	base := "/api/application/" + appID + "/role"
	res = api.ApplicationResponse{}
	l.Do(t, l.APIKey, http.MethodPost, base, appsGoRequest(t, nil,
		appsGoRole(t, map[string]any{"name": "editor", "description": "Edits"})), http.StatusOK, &res)
	editor := res.Role
	if editor == nil || res.Application != nil || editor.ID == "" || editor.Name != "editor" || editor.InsertInstant == 0 {
		t.Fatalf("CreateApplicationRole answered %+v", res)
	}
	// With the role id in the path.
	const auditorID = "2c3d4e5f-6a7b-4c8d-9e0f-1a2b3c4d5e6f"
	res = api.ApplicationResponse{}
	l.Do(t, l.APIKey, http.MethodPost, base+"/"+auditorID, appsGoRequest(t, nil,
		appsGoRole(t, map[string]any{"name": "auditor"})), http.StatusOK, &res)
	if res.Role == nil || res.Role.ID != auditorID {
		t.Errorf("CreateApplicationRole with an id answered %+v", res.Role)
	}
	// A name taken, as FusionAuth answers.
	status, body := l.Call(t, l.APIKey, http.MethodPost, base, appsGoRequest(t, nil, appsGoRole(t, map[string]any{"name": "editor"})))
	appsWantError(t, status, body, "role.name", "[duplicate]role.name")

	// UpdateApplicationRole renames: the registrations follow.
	admin := appsRole(t, appsGet(t, l, appID), "admin")
	res = api.ApplicationResponse{}
	l.Do(t, l.APIKey, http.MethodPut, base+"/"+admin.ID, appsGoRequest(t, nil,
		appsGoRole(t, map[string]any{"name": "owner", "isSuperRole": true})), http.StatusOK, &res)
	if res.Role == nil || res.Role.ID != admin.ID || res.Role.Name != "owner" {
		t.Errorf("UpdateApplicationRole answered %+v", res.Role)
	}
	if got := appsRegistrationRoles(t, l, first, appID); len(got) != 1 || got[0] != "owner" {
		t.Errorf("registration roles after the rename = %v, want [owner]", got)
	}
	// PatchApplicationRole: a map with only what changes.
	res = api.ApplicationResponse{}
	l.Do(t, l.APIKey, http.MethodPatch, base+"/"+admin.ID, map[string]any{"role": map[string]any{"description": "Owns the shop"}}, http.StatusOK, &res)
	if res.Role == nil || res.Role.Name != "owner" || res.Role.Description != "Owns the shop" || !res.Role.IsSuperRole {
		t.Errorf("PatchApplicationRole answered %+v", res.Role)
	}

	// DeleteApplicationRole: gone, from the registrations too.
	l.Do(t, l.APIKey, http.MethodDelete, base+"/"+admin.ID, nil, http.StatusOK, nil)
	if got := appsRegistrationRoles(t, l, first, appID); len(got) != 0 {
		t.Errorf("registration roles after the delete = %v, want none", got)
	}
	var names []string
	for _, r := range appsGet(t, l, appID).Roles {
		names = append(names, r.Name)
	}
	if len(names) != 3 {
		t.Errorf("roles left = %v, want customer, editor and auditor", names)
	}
}

// appsRole returns the application's role with the name.
func appsRole(t *testing.T, app api.Application, name string) api.ApplicationRole {
	t.Helper()
	for _, r := range app.Roles {
		if r.Name == name {
			return r
		}
	}
	t.Fatalf("no role %q in %+v", name, app.Roles)
	return api.ApplicationRole{}
}

// appsWantError asserts a 400 with FusionAuth's error body holding code
// for field.
func appsWantError(t *testing.T, status int, body []byte, field, code string) {
	t.Helper()
	var errs api.Errors
	if status != http.StatusBadRequest || json.Unmarshal(body, &errs) != nil {
		t.Fatalf("answer %d %s, want 400 with %s", status, body, code)
	}
	for _, e := range errs.FieldErrors[field] {
		if e.Code == code {
			return
		}
	}
	t.Errorf("errors %s, want %s for %s", body, code, field)
}
