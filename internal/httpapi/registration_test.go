package httpapi_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/latchid/latch/api"
)

func TestRegistration_Combined(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	appID := e.mustAppWithRoles(t)

	var res api.RegistrationResponse
	r := e.do(t, "POST", "/api/user/registration", withKey(e.key), withJSON(map[string]any{
		"user":                         map[string]any{"email": "ben@example.org", "password": testPassword},
		"registration":                 map[string]any{"applicationId": appID, "roles": []string{"admin"}},
		"skipVerification":             true,
		"skipRegistrationVerification": true,
	}))
	r.wantJSON(t, 200, &res)
	assertNoSecrets(t, r.Body, true)
	if res.User == nil || res.User.ID == "" || res.User.Email != "ben@example.org" {
		t.Fatalf("combined registration user = %s", r.Body)
	}
	if res.Registration == nil || res.Registration.ApplicationID != appID || res.Registration.ID == "" {
		t.Fatalf("registration = %+v", res.Registration)
	}
	if diff := cmp.Diff([]string{"admin"}, res.Registration.Roles); diff != "" {
		t.Errorf("roles (-want +got):\n%s", diff)
	}
	if res.Token == "" || res.RefreshToken == "" || res.RefreshTokenID == "" {
		t.Fatalf("combined registration tokens: %s", r.Body)
	}
	c := claimsOf(t, res.Token)
	if c["authenticationType"] != "REGISTRATION" || c["applicationId"] != appID || c["sid"] != res.RefreshTokenID {
		t.Errorf("registration token claims = %v", c)
	}
	e.mustRefresh(t, res.RefreshToken)
	e.mustLogin(t, "ben@example.org", appID)

	// With a user id in the URL.
	id := "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
	e.do(t, "POST", "/api/user/registration/"+id, withKey(e.key), withJSON(map[string]any{
		"user": map[string]any{"email": "withid@example.org", "password": testPassword}, "registration": map[string]any{"applicationId": appID},
	})).wantJSON(t, 200, &res)
	if res.User.ID != id {
		t.Errorf("user id = %s, want %s", res.User.ID, id)
	}
	// Default roles apply when none are named.
	if diff := cmp.Diff([]string{"user"}, res.Registration.Roles); diff != "" {
		t.Errorf("default roles (-want +got):\n%s", diff)
	}

	// The user part is validated like a create, and a failure creates nothing.
	e.do(t, "POST", "/api/user/registration", withKey(e.key), withJSON(map[string]any{
		"user": map[string]any{"email": "BEN@example.org", "password": testPassword}, "registration": map[string]any{"applicationId": appID},
	})).wantErrors(t, "[duplicate]user.email")
	e.do(t, "POST", "/api/user/registration", withKey(e.key), withJSON(map[string]any{
		"user": map[string]any{"email": "norole@example.org", "password": testPassword}, "registration": map[string]any{"applicationId": appID, "roles": []string{"owner"}},
	})).wantErrors(t, "[invalid]registration.roles")
	e.do(t, "GET", "/api/user?email=norole@example.org", withKey(e.key)).wantEmpty(t, 404)
	e.do(t, "POST", "/api/user/registration", withKey(e.key), withJSON(map[string]any{
		"user": map[string]any{"email": "noapp@example.org", "password": testPassword}, "registration": map[string]any{},
	})).wantErrors(t, "[blank]registration.applicationId")
	e.do(t, "POST", "/api/user/registration", withKey(e.key), withJSON(map[string]any{
		"user": map[string]any{"email": "unknownapp@example.org", "password": testPassword}, "registration": map[string]any{"applicationId": "00000000-0000-4000-8000-000000000000"},
	})).wantErrors(t, "[invalid]registration.applicationId")
	e.do(t, "POST", "/api/user/registration", withJSON(map[string]any{
		"user": map[string]any{"email": "nokey@example.org", "password": testPassword}, "registration": map[string]any{"applicationId": appID},
	})).wantEmpty(t, 401)
}

func TestRegistration_ExistingUser(t *testing.T) {
	t.Parallel()
	e := sharedEnv(t)
	email := "existing-" + randomSuffix() + "@example.org" // the server is shared
	appID := e.mustAppWithRoles(t)
	u := e.mustCreateUser(t, email)

	var res api.RegistrationResponse
	e.do(t, "POST", "/api/user/registration/"+u.ID, withKey(e.key), withJSON(map[string]any{
		"registration": map[string]any{"applicationId": appID, "roles": []string{"admin", "user"}, "data": map[string]any{"k": "v"}},
	})).wantJSON(t, 200, &res)
	if res.User != nil {
		t.Errorf("existing-user registration returns a user: %+v", res.User)
	}
	if res.Registration == nil || res.Registration.ApplicationID != appID || res.Registration.Data["k"] != "v" {
		t.Errorf("registration = %+v", res.Registration)
	}
	if res.Token == "" || res.RefreshToken == "" {
		t.Error("existing-user registration without tokens")
	}

	// Again: already registered.
	e.do(t, "POST", "/api/user/registration/"+u.ID, withKey(e.key), withJSON(map[string]any{"registration": map[string]any{"applicationId": appID}})).
		wantErrors(t, "[duplicate]registration")

	// Retrieve.
	var got api.RegistrationResponse
	e.do(t, "GET", "/api/user/registration/"+u.ID+"/"+appID, withKey(e.key)).wantJSON(t, 200, &got)
	if got.Registration == nil || got.Registration.ID != res.Registration.ID {
		t.Errorf("retrieved registration = %+v", got.Registration)
	}
	if diff := cmp.Diff([]string{"admin", "user"}, got.Registration.Roles); diff != "" {
		t.Errorf("roles (-want +got):\n%s", diff)
	}
	e.do(t, "GET", "/api/user/registration/"+u.ID+"/00000000-0000-4000-8000-000000000000", withKey(e.key)).wantEmpty(t, 404)
	e.do(t, "GET", "/api/user/registration/00000000-0000-4000-8000-000000000000/"+appID, withKey(e.key)).wantEmpty(t, 404)
	e.do(t, "GET", "/api/user/registration/"+u.ID+"/"+appID).wantEmpty(t, 401)

	// Update roles.
	e.do(t, "PUT", "/api/user/registration/"+u.ID+"/"+appID, withKey(e.key), withJSON(map[string]any{"registration": map[string]any{"roles": []string{"user"}}})).
		wantJSON(t, 200, &got)
	if diff := cmp.Diff([]string{"user"}, got.Registration.Roles); diff != "" {
		t.Errorf("updated roles (-want +got):\n%s", diff)
	}
	e.do(t, "PUT", "/api/user/registration/"+u.ID+"/"+appID, withKey(e.key), withJSON(map[string]any{"registration": map[string]any{"roles": []string{"root"}}})).
		wantErrors(t, "[invalid]registration.roles")
	if c := claimsOf(t, e.mustLogin(t, email, appID).Token); !cmp.Equal(c["roles"], []any{"user"}) {
		t.Errorf("roles claim after the update = %v", c["roles"])
	}

	// An unknown user (existing-user flavour) is a 404; no user id at all is a 400.
	e.do(t, "POST", "/api/user/registration/00000000-0000-4000-8000-000000000000", withKey(e.key),
		withJSON(map[string]any{"registration": map[string]any{"applicationId": appID}})).wantEmpty(t, 404)
	e.do(t, "POST", "/api/user/registration", withKey(e.key),
		withJSON(map[string]any{"registration": map[string]any{"applicationId": appID}})).wantErrors(t, "[blank]user.email", "[blank]user.username")
	e.do(t, "POST", "/api/user/registration/"+u.ID, withKey(e.key),
		withJSON(map[string]any{"registration": map[string]any{"applicationId": "nope"}})).wantErrors(t, "[couldNotConvert]registration.applicationId")
}

// POST /api/user/registration/{userId}/{applicationId}: the URL names the
// application.
func TestRegistration_ApplicationInURL(t *testing.T) {
	t.Parallel()
	e := sharedEnv(t)
	email := "url-" + randomSuffix() + "@example.org" // the server is shared
	appID := e.mustAppWithRoles(t)
	other := e.mustAppWithRoles(t)
	u := e.mustCreateUser(t, email)
	var res api.RegistrationResponse
	e.do(t, "POST", "/api/user/registration/"+u.ID+"/"+appID, withKey(e.key),
		withJSON(map[string]any{"registration": map[string]any{"applicationId": other, "roles": []string{"admin"}}})).wantJSON(t, 200, &res)
	if res.Registration.ApplicationID != appID {
		t.Errorf("registered for %s, want the URL's %s", res.Registration.ApplicationID, appID)
	}
	e.do(t, "GET", "/api/user/registration/"+u.ID+"/"+other, withKey(e.key)).wantEmpty(t, 404)
}

// The Go client always sends a zero-valued user object; with an existing
// user id in the URL that is the existing-user flavour.
func TestRegistration_GoClientZeroUser(t *testing.T) {
	t.Parallel()
	e := sharedEnv(t)
	email := "gozero-" + randomSuffix() + "@example.org" // the server is shared
	appID := e.mustAppWithRoles(t)
	u := e.mustCreateUser(t, email)
	body := `{"registration":{"applicationId":"` + appID + `","verified":false,"roles":["admin"]},` +
		`"user":{"active":false,"passwordChangeRequired":false,"verified":false,"twoFactor":{},"breachedPasswordLastCheckedInstant":0},` +
		`"generateAuthenticationToken":false,"sendSetPasswordEmail":false,"skipRegistrationVerification":false,"skipVerification":false,"disableDomainBlock":false}`
	var res api.RegistrationResponse
	e.do(t, "POST", "/api/user/registration/"+u.ID, withKey(e.key), withJSON(body)).wantJSON(t, 200, &res)
	if res.Registration == nil || res.Registration.ApplicationID != appID {
		t.Fatalf("registration = %+v", res.Registration)
	}
	var got api.UserResponse
	e.do(t, "GET", "/api/user/"+u.ID, withKey(e.key)).wantJSON(t, 200, &got)
	if !got.User.Active || got.User.Email != email || len(got.User.Registrations) != 1 {
		t.Errorf("user after the registration = %+v", got.User)
	}
	e.mustLogin(t, email, appID)
}

// Deleting a registration revokes the user's refresh tokens for that
// application only.
func TestRegistration_Delete(t *testing.T) {
	t.Parallel()
	e := sharedEnv(t)
	appA, appB := e.mustAppWithRoles(t), e.mustAppWithRoles(t)
	userID, email := e.mustUser(t, appA)
	e.mustRegister(t, userID, appB)
	a := e.mustLogin(t, email, appA)
	b := e.mustLogin(t, email, appB)

	e.do(t, "DELETE", "/api/user/registration/"+userID+"/"+appA, withKey(e.key)).wantEmpty(t, 200)
	e.refreshRefused(t, a.RefreshToken)
	e.mustRefresh(t, b.RefreshToken)
	e.do(t, "GET", "/api/user/registration/"+userID+"/"+appA, withKey(e.key)).wantEmpty(t, 404)
	e.do(t, "DELETE", "/api/user/registration/"+userID+"/"+appA, withKey(e.key)).wantEmpty(t, 404)
	e.do(t, "DELETE", "/api/user/registration/"+userID+"/not-a-uuid", withKey(e.key)).wantEmpty(t, 404)
	e.do(t, "DELETE", "/api/user/registration/"+userID+"/"+appB).wantEmpty(t, 401)

	// No longer registered: the login answers 202.
	e.login(t, map[string]any{"loginId": email, "password": testPassword, "applicationId": appA}).wantJSON(t, 202, nil)
}
