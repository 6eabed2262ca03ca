package compat_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
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

// appsGoEnums are the values of the enum types of FusionAuth's Go client
// (its Domain.go) that Latch's answers and events carry. A value outside
// its type's list is one the Go client's users cannot compare with its
// constants (ObjectState_Active, KeyAlgorithm_Ed25519, ...).
var appsGoEnums = map[string][]string{
	"ObjectState":                  {"Active", "Inactive", "PendingDelete"},
	"ContentStatus":                {"ACTIVE", "PENDING", "REJECTED"},
	"KeyAlgorithm":                 {"ES256", "ES384", "ES512", "HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "Ed25519", "None"},
	"KeyType":                      {"EC", "RSA", "HMAC", "OKP", "Secret"},
	"RefreshTokenUsagePolicy":      {"Reusable", "OneTimeUse"},
	"RefreshTokenExpirationPolicy": {"Fixed", "SlidingWindow", "SlidingWindowWithMaximumLifetime"},
	"ClientAuthenticationPolicy":   {"Required", "NotRequired", "NotRequiredWhenUsingPKCE"},
	"GrantType": {"authorization_code", "implicit", "password", "client_credentials", "refresh_token", "unknown",
		"urn:ietf:params:oauth:grant-type:device_code"},
	"ExpiryUnit":           {"MINUTES", "HOURS", "DAYS", "WEEKS", "MONTHS", "YEARS"},
	"TransactionType":      {"None", "Any", "SimpleMajority", "SuperMajority", "AbsoluteMajority"},
	"WebhookEventResult":   {"Failed", "Running", "Succeeded"},
	"EventType":            {"jwt.refresh-token.revoke", "jwt.refresh", "user.login.success", "user.login.failed"},
	"ChangePasswordReason": {"Administrative", "Breached", "Expired", "Validation"},
	// Those of the OAuth errors the test provokes (Latch's extensions,
	// temporarily_unavailable and use_dpop_nonce, are not FusionAuth's).
	"OAuthErrorType": {"invalid_request", "invalid_client", "invalid_grant", "invalid_token", "unauthorized_client",
		"invalid_scope", "server_error", "unsupported_grant_type", "unsupported_token_type", "change_password_required",
		"invalid_dpop_proof"},
	"OAuthErrorReason": {"invalid_client_id", "invalid_user_credentials", "invalid_grant_type", "missing_grant_type",
		"refresh_token_not_found", "client_authentication_missing", "invalid_client_authentication", "grant_type_disabled",
		"missing_refresh_token", "change_password_administrative"},
}

// appsAt returns the member of a decoded JSON document at the path
// (object members, or array indexes as numbers).
func appsAt(t *testing.T, doc any, path ...any) any {
	t.Helper()
	v := doc
	for _, p := range path {
		switch p := p.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				t.Fatalf("%v: no object at %q", path, p)
			}
			v = m[p]
		case int:
			a, ok := v.([]any)
			if !ok || p >= len(a) {
				t.Fatalf("%v: no element %d", path, p)
			}
			v = a[p]
		}
	}
	return v
}

// appsJSON calls Latch with the bootstrap API key, insists on the status
// and returns the decoded answer.
func appsJSON(t *testing.T, l *latchtest.Latch, method, path string, body any, want int) any {
	t.Helper()
	status, b := l.Call(t, l.APIKey, method, path, body)
	if status != want {
		t.Fatalf("%s %s: %d %s, want %d", method, path, status, b, want)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("%s %s: %v: %s", method, path, err, b)
	}
	return out
}

// Every enum value Latch writes in its answers and events (applications,
// tenants, keys, users, logins, the webhook event log and its events) is
// spelled as the Go client's enum type spells it.
func TestGoClientEnums(t *testing.T) {
	l := appsLatch(t)
	type value struct {
		what, enum string
		got        any
	}
	var values []value
	add := func(what, enum string, got any) { values = append(values, value{what, enum, got}) }

	// Applications, active and inactive, with every policy set.
	app := appsJSON(t, l, http.MethodPost, "/api/application", appsGoRequest(t, appsGoApplication(t, map[string]any{
		"name": "Enums",
		"jwtConfiguration": map[string]any{"enabled": true, "timeToLiveInSeconds": 60, "refreshTokenTimeToLiveInMinutes": 60,
			"refreshTokenUsagePolicy": "OneTimeUse", "refreshTokenExpirationPolicy": "SlidingWindow"},
		"loginConfiguration": map[string]any{"allowTokenRefresh": true, "generateRefreshTokens": true, "requireAuthentication": true},
		"oauthConfiguration": map[string]any{"clientAuthenticationPolicy": "NotRequiredWhenUsingPKCE",
			"enabledGrants": []string{"password", "refresh_token"}},
	}), nil), http.StatusOK)
	appID := appsAt(t, app, "application", "id").(string)
	add("created application state", "ObjectState", appsAt(t, app, "application", "state"))
	add("application refreshTokenUsagePolicy", "RefreshTokenUsagePolicy", appsAt(t, app, "application", "jwtConfiguration", "refreshTokenUsagePolicy"))
	add("application refreshTokenExpirationPolicy", "RefreshTokenExpirationPolicy", appsAt(t, app, "application", "jwtConfiguration", "refreshTokenExpirationPolicy"))
	add("application clientAuthenticationPolicy", "ClientAuthenticationPolicy", appsAt(t, app, "application", "oauthConfiguration", "clientAuthenticationPolicy"))
	for i := range 2 {
		add("application enabledGrants", "GrantType", appsAt(t, app, "application", "oauthConfiguration", "enabledGrants", i))
	}
	list := appsJSON(t, l, http.MethodGet, "/api/application", nil, http.StatusOK)
	for i := range 2 {
		add("listed application state", "ObjectState", appsAt(t, list, "applications", i, "state"))
	}

	// The tenant, with its events on and a webhook that takes them.
	tenants := appsJSON(t, l, http.MethodGet, "/api/tenant", nil, http.StatusOK)
	tenantID := appsAt(t, tenants, "tenants", 0, "id").(string)
	events := map[string]any{}
	for _, typ := range appsGoEnums["EventType"] {
		events[typ] = map[string]any{"enabled": true, "transactionType": "None"}
	}
	tenant := appsJSON(t, l, http.MethodPatch, "/api/tenant/"+tenantID,
		map[string]any{"tenant": map[string]any{"eventConfiguration": map[string]any{"events": events}}}, http.StatusOK)
	add("tenant refreshTokenUsagePolicy", "RefreshTokenUsagePolicy", appsAt(t, tenant, "tenant", "jwtConfiguration", "refreshTokenUsagePolicy"))
	add("tenant refreshTokenExpirationPolicy", "RefreshTokenExpirationPolicy", appsAt(t, tenant, "tenant", "jwtConfiguration", "refreshTokenExpirationPolicy"))
	add("tenant actionDurationUnit", "ExpiryUnit", appsAt(t, tenant, "tenant", "failedAuthenticationConfiguration", "actionDurationUnit"))
	add("tenant transactionType", "TransactionType", appsAt(t, tenant, "tenant", "eventConfiguration", "events", "jwt.refresh", "transactionType"))
	enabled := map[string]bool{}
	for _, typ := range appsGoEnums["EventType"] {
		enabled[typ] = true
	}
	appsJSON(t, l, http.MethodPost, "/api/webhook", map[string]any{"webhook": map[string]any{
		"url": "http://127.0.0.1:9/hook", "global": true, "eventsEnabled": enabled}}, http.StatusOK)

	// Keys of every algorithm, as generated and as listed.
	for _, alg := range []string{"ES256", "RS256", "Ed25519", "HS256"} {
		k := appsJSON(t, l, http.MethodPost, "/api/key/generate", map[string]any{"key": map[string]any{"algorithm": alg, "name": alg}}, http.StatusOK)
		add(alg+" key algorithm", "KeyAlgorithm", appsAt(t, k, "key", "algorithm"))
		add(alg+" key type", "KeyType", appsAt(t, k, "key", "type"))
	}
	keys := appsJSON(t, l, http.MethodGet, "/api/key", nil, http.StatusOK)
	for i := range len(appsAt(t, keys, "keys").([]any)) {
		add("listed key algorithm", "KeyAlgorithm", appsAt(t, keys, "keys", i, "algorithm"))
		add("listed key type", "KeyType", appsAt(t, keys, "keys", i, "type"))
	}

	// Users: one who must change the password, with a username status.
	reg := appsJSON(t, l, http.MethodPost, "/api/user/registration", map[string]any{
		"user": map[string]any{"email": "enums@example.org", "username": "enums", "usernameStatus": "PENDING",
			"password": latchtest.Password, "passwordChangeRequired": true},
		"registration": map[string]any{"applicationId": appID},
	}, http.StatusOK)
	add("user passwordChangeReason", "ChangePasswordReason", appsAt(t, reg, "user", "passwordChangeReason"))
	add("user usernameStatus", "ContentStatus", appsAt(t, reg, "user", "usernameStatus"))
	login := appsJSON(t, l, http.MethodPost, "/api/login", map[string]any{"loginId": "enums@example.org", "password": latchtest.Password,
		"applicationId": appID}, 203)
	add("login changePasswordReason", "ChangePasswordReason", appsAt(t, login, "changePasswordReason"))

	// OAuth errors of the token endpoint.
	secret := appsAt(t, app, "application", "oauthConfiguration", "clientSecret").(string)
	for _, c := range []struct {
		name, secret string
		form         url.Values
	}{
		{"wrong client secret", "wrong", url.Values{"grant_type": {"password"}}},
		{"no grant type", secret, url.Values{}},
		{"unknown grant type", secret, url.Values{"grant_type": {"magic"}}},
		{"grant not enabled", secret, url.Values{"grant_type": {"client_credentials"}}},
		{"no refresh token", secret, url.Values{"grant_type": {"refresh_token"}}},
		{"unknown refresh token", secret, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"nope"}}},
		{"wrong password", secret, url.Values{"grant_type": {"password"}, "username": {"enums@example.org"}, "password": {"wrong"}}},
		{"password change required", secret, url.Values{"grant_type": {"password"}, "username": {"enums@example.org"}, "password": {latchtest.Password}}},
	} {
		req, err := http.NewRequest(http.MethodPost, l.URL+"/oauth2/token", strings.NewReader(c.form.Encode()))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(appID, c.secret)
		resp, err := l.Client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var oe map[string]any
		err = json.NewDecoder(resp.Body).Decode(&oe)
		resp.Body.Close()
		if err != nil || resp.StatusCode < 400 {
			t.Fatalf("%s: %d, %v", c.name, resp.StatusCode, err)
		}
		add(c.name+": error", "OAuthErrorType", oe["error"])
		add(c.name+": error_reason", "OAuthErrorReason", oe["error_reason"])
	}

	// Events of each type: a login, a failed one, a refresh, a revocation.
	l.Register(t, appID, "events@example.org")
	res := l.Login(t, appID, "events@example.org")
	status, _ := l.Call(t, l.APIKey, http.MethodPost, "/api/login", map[string]any{"loginId": "events@example.org", "password": "wrong password", "applicationId": appID})
	if status != http.StatusNotFound {
		t.Fatalf("a wrong password: %d", status)
	}
	appsJSON(t, l, http.MethodPost, "/api/jwt/refresh", map[string]any{"refreshToken": res.RefreshToken}, http.StatusOK)
	l.Do(t, l.APIKey, http.MethodDelete, "/api/jwt/refresh?applicationId="+appID, nil, http.StatusOK, nil)
	l.Do(t, l.APIKey, http.MethodDelete, "/api/application/"+appID, nil, http.StatusOK, nil)
	add("deactivated application state", "ObjectState", appsAt(t, appsJSON(t, l, http.MethodGet, "/api/application/"+appID, nil, http.StatusOK), "application", "state"))

	search := appsJSON(t, l, http.MethodPost, "/api/system/webhook-event-log/search", map[string]any{"search": map[string]any{}}, http.StatusOK)
	logs := appsAt(t, search, "webhookEventLogs").([]any)
	seen := map[any]bool{}
	for i := range logs {
		add("event log eventResult", "WebhookEventResult", appsAt(t, search, "webhookEventLogs", i, "eventResult"))
		add("event log eventType", "EventType", appsAt(t, search, "webhookEventLogs", i, "eventType"))
		add("event type", "EventType", appsAt(t, search, "webhookEventLogs", i, "event", "event", "type"))
		seen[appsAt(t, search, "webhookEventLogs", i, "eventType")] = true
	}
	if len(seen) != len(appsGoEnums["EventType"]) {
		t.Errorf("event types logged: %v, want one of each of %v", seen, appsGoEnums["EventType"])
	}

	for _, v := range values {
		s, ok := v.got.(string)
		found := false
		for _, allowed := range appsGoEnums[v.enum] {
			found = found || (ok && s == allowed)
		}
		if !found {
			t.Errorf("%s = %#v, not a value of the Go client's %s %v", v.what, v.got, v.enum, appsGoEnums[v.enum])
		}
	}
}

// The Go client's RetrieveApplication reads the OAuth client secret, as
// FusionAuth returns it to API keys; an UpdateApplication that sends none
// (the client omits an empty one) keeps it, and one that sends the
// application back as retrieved (as Terraform does) changes nothing.
func TestGoClientApplication_ClientSecret(t *testing.T) {
	l := appsLatch(t)
	var res api.ApplicationResponse
	l.Do(t, l.APIKey, http.MethodPost, "/api/application", appsGoRequest(t, appsGoApplication(t, map[string]any{
		"name": "Shop", "oauthConfiguration": map[string]any{"enabledGrants": []string{"password"}},
	}), nil), http.StatusOK, &res)
	app := *res.Application
	secret := app.OAuthConfiguration.ClientSecret
	if secret == "" {
		t.Fatal("CreateApplication answered no client secret")
	}
	if got := appsGet(t, l, app.ID).OAuthConfiguration.ClientSecret; got != secret {
		t.Errorf("RetrieveApplication: client secret %q, want the one made", got)
	}
	var list api.ApplicationResponse
	l.Do(t, l.APIKey, http.MethodGet, "/api/application", nil, http.StatusOK, &list)
	if len(list.Applications) != 2 || list.Applications[1].OAuthConfiguration.ClientSecret != secret {
		t.Errorf("RetrieveApplications: %+v", list.Applications)
	}

	l.Do(t, l.APIKey, http.MethodPut, "/api/application/"+app.ID, appsGoRequest(t, appsGoApplication(t, map[string]any{
		"name": "Shop", "oauthConfiguration": map[string]any{"enabledGrants": []string{"password"}},
	}), nil), http.StatusOK, &res)
	if got := appsGet(t, l, app.ID).OAuthConfiguration.ClientSecret; got != secret {
		t.Errorf("after an UpdateApplication without a secret: %q, want it kept", got)
	}
	var retrieved map[string]any
	l.Do(t, l.APIKey, http.MethodGet, "/api/application/"+app.ID, nil, http.StatusOK, &retrieved)
	l.Do(t, l.APIKey, http.MethodPut, "/api/application/"+app.ID, appsGoRequest(t, retrieved["application"].(map[string]any), nil), http.StatusOK, &res)
	if got := appsGet(t, l, app.ID).OAuthConfiguration.ClientSecret; got != secret {
		t.Errorf("after an UpdateApplication of the application retrieved: %q, want it kept", got)
	}

	// The secret retrieved authenticates the client.
	email := "secret@example.org"
	l.Register(t, app.ID, email)
	req, err := http.NewRequest(http.MethodPost, l.URL+"/oauth2/token", strings.NewReader(url.Values{
		"grant_type": {"password"}, "username": {email}, "password": {latchtest.Password}}.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(app.ID, appsGet(t, l, app.ID).OAuthConfiguration.ClientSecret)
	resp, err := l.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("password grant with the secret retrieved: %d", resp.StatusCode)
	}
}
