package identity

import (
	"errors"
	"testing"
	"time"

	"github.com/latchid/latch/api"
	"github.com/latchid/latch/internal/storage"
)

// TestLogin_Outcomes: each state of an account gives its outcome (the
// status FusionAuth's Login API answers) to the right password, and
// ErrBadCredentials to a wrong one, whatever the state: an expired or
// deactivated account, or one that must change its password, is told
// apart only by its password.
func TestLogin_Outcomes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	other, err := e.CreateApplication(e.ctx, "", "", api.Application{Name: "Other"})
	if err != nil {
		t.Fatal(err)
	}
	past := e.clock.Now().Add(-time.Second).UnixMilli()
	future := e.clock.Now().Add(time.Hour).UnixMilli()
	e.mustImport(t, "", api.User{Email: "ok@example.org", Registrations: registered(e.app.ID)})
	e.mustImport(t, "", api.User{Email: "elsewhere@example.org", Registrations: registered(other.ID)})
	e.mustImport(t, "", api.User{Email: "change@example.org", PasswordChangeRequired: true, Registrations: registered(e.app.ID)})
	e.mustImport(t, "", api.User{Email: "expired@example.org", Expiry: past, Registrations: registered(e.app.ID)})
	e.mustImport(t, "", api.User{Email: "expires@example.org", Expiry: future, Registrations: registered(e.app.ID)})
	inactive := e.mustImport(t, "", api.User{Email: "inactive@example.org", Registrations: registered(e.app.ID)})
	if err := e.DeleteUser(e.ctx, "", inactive, false); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name    string
		loginID string
		appID   string
		want    LoginOutcome
		tokens  bool // an access token
		refresh bool // and a refresh token
	}{
		{"registered (200)", "ok@example.org", e.app.ID, LoginOK, true, true},
		{"no application (200)", "ok@example.org", "", LoginOK, true, false},
		{"not registered (202)", "elsewhere@example.org", e.app.ID, LoginNotRegistered, true, false},
		{"password change required (203)", "change@example.org", e.app.ID, LoginChangePassword, false, false},
		{"expired (410)", "expired@example.org", e.app.ID, LoginExpired, false, false},
		{"not yet expired (200)", "expires@example.org", e.app.ID, LoginOK, true, true},
		{"deactivated (423)", "inactive@example.org", e.app.ID, LoginInactive, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wrong, err := e.Login(e.ctx, LoginInput{Request: api.LoginRequest{LoginID: tc.loginID, Password: "wrong password", ApplicationID: tc.appID}})
			wantOutcome(t, "wrong password", wrong, err, 0)

			res, err := e.Login(e.ctx, LoginInput{Request: api.LoginRequest{LoginID: tc.loginID, Password: testPassword, ApplicationID: tc.appID}})
			wantOutcome(t, "right password", res, err, tc.want)
			r := res.Response
			if got := r.Token != ""; got != tc.tokens {
				t.Errorf("access token %v, want %v", got, tc.tokens)
			}
			if got := r.RefreshToken != "" && r.RefreshTokenID != ""; got != tc.refresh {
				t.Errorf("refresh token %v, want %v", got, tc.refresh)
			}
			if tc.tokens {
				claims, err := e.ValidateToken(e.ctx, r.Token)
				if err != nil {
					t.Fatalf("the access token does not validate: %v", err)
				}
				_, hasRoles := claims["roles"]
				if registeredHere := tc.want == LoginOK && tc.appID != ""; hasRoles != registeredHere || (claims["applicationId"] != nil) != registeredHere {
					t.Errorf("claims %v: application claims %v, want %v", claims, hasRoles, registeredHere)
				}
				if r.User == nil || r.User.Email != tc.loginID || r.User.EncryptionScheme != "" {
					t.Errorf("user %+v: want %s, without its scheme", r.User, tc.loginID)
				}
			}
			switch tc.want {
			case LoginChangePassword:
				if r.ChangePasswordID == "" || r.ChangePasswordReason != "Administrative" || r.User != nil {
					t.Errorf("change password answer %+v: want an id, the reason Administrative and no user", r)
				}
			case LoginExpired, LoginInactive:
				if r.User != nil || len(r.Actions) != 0 {
					t.Errorf("answer %+v: want nothing", r)
				}
			}
		})
	}
}

// TestLogin_CompletedRecords: a completed login records the user's and
// the registration's last login and forgets the login ID's failures; an
// expired account's right password does not (its check stays counted).
func TestLogin_CompletedRecords(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := e.mustImport(t, "", api.User{Email: "ana@example.org", Registrations: registered(e.app.ID)})
	res, err := e.login("ana@example.org", "wrong password")
	wantOutcome(t, "wrong password", res, err, 0)
	e.clock.Advance(time.Second)
	res, err = e.login("ana@example.org", testPassword)
	wantOutcome(t, "right password", res, err, LoginOK)
	if _, err := e.store.GetLoginAttempts(e.ctx, e.app.TenantID, e.logins().key("ana@example.org")); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("attempts after a login: %v, want none", err)
	}
	u, err := e.GetUser(e.ctx, "", id, false)
	if err != nil {
		t.Fatal(err)
	}
	now := e.clock.Now().UnixMilli()
	if u.LastLoginInstant != now || len(u.Registrations) != 1 || u.Registrations[0].LastLoginInstant != now {
		t.Errorf("last login %d, registrations %+v; want %d on both", u.LastLoginInstant, u.Registrations, now)
	}

	e.mustImport(t, "", api.User{Email: "old@example.org", Expiry: e.clock.Now().UnixMilli()})
	for range 2 {
		res, err = e.login("old@example.org", testPassword)
		wantOutcome(t, "expired, right password", res, err, LoginExpired)
	}
	a, err := e.store.GetLoginAttempts(e.ctx, e.app.TenantID, e.logins().key("old@example.org"))
	if err != nil || a.Count != 0 || a.InFlight != 0 {
		t.Errorf("attempts of an expired account: %+v, %v; want no failure counted, no check in flight", a, err)
	}
}

// TestLogin_Requests: what a login request may name. Invalid requests are
// refused before any password is checked, with FusionAuth's codes; the
// login ID is an email (any case) or a username, in the order its types
// name; noJWT gives the outcome without tokens.
func TestLogin_Requests(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.mustImport(t, "", api.User{Email: "ana@example.org", Username: "ana", Registrations: registered(e.app.ID)})
	e.mustImport(t, "", api.User{Username: "bob@example.org", Registrations: registered(e.app.ID)})
	off, err := e.CreateApplication(e.ctx, "", "", api.Application{Name: "Off"})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.DeleteApplication(e.ctx, "", off.ID, false); err != nil {
		t.Fatal(err)
	}
	const unknownApp = "3c0ac3d3-2d9d-4d5e-9f5e-6a1f3b1b9c00"

	for _, tc := range []struct {
		name  string
		req   api.LoginRequest
		codes []string // refused with these codes, no password checked
		want  LoginOutcome
	}{
		{"blank", api.LoginRequest{}, []string{"[blank]loginId", "[blank]password"}, 0},
		{"application not a UUID", api.LoginRequest{LoginID: "ana", Password: testPassword, ApplicationID: "shop"}, []string{"[couldNotConvert]applicationId"}, 0},
		{"unknown login ID type", api.LoginRequest{LoginID: "ana", Password: testPassword, LoginIDTypes: []string{"phone"}}, []string{"[invalid]loginIdTypes"}, 0},
		{"unknown application", api.LoginRequest{LoginID: "ana", Password: testPassword, ApplicationID: unknownApp}, []string{"[invalid]applicationId"}, 0},
		{"deactivated application", api.LoginRequest{LoginID: "ana", Password: testPassword, ApplicationID: off.ID}, []string{"[inactive]applicationId"}, 0},
		{"email", api.LoginRequest{LoginID: "ana@example.org", Password: testPassword, ApplicationID: e.app.ID}, nil, LoginOK},
		{"email in another case", api.LoginRequest{LoginID: "ANA@Example.ORG", Password: testPassword, ApplicationID: e.app.ID}, nil, LoginOK},
		{"username", api.LoginRequest{LoginID: "ana", Password: testPassword, ApplicationID: e.app.ID}, nil, LoginOK},
		{"username in another case", api.LoginRequest{LoginID: "ANA", Password: testPassword, ApplicationID: e.app.ID}, nil, LoginOK},
		{"untrimmed", api.LoginRequest{LoginID: " ana@example.org", Password: testPassword, ApplicationID: e.app.ID}, nil, 0},
		{"username only", api.LoginRequest{LoginID: "ana", Password: testPassword, ApplicationID: e.app.ID, LoginIDTypes: []string{"username"}}, nil, LoginOK},
		{"an email as a username", api.LoginRequest{LoginID: "bob@example.org", Password: testPassword, ApplicationID: e.app.ID}, nil, LoginOK},
		{"email only, given a username", api.LoginRequest{LoginID: "ana", Password: testPassword, ApplicationID: e.app.ID, LoginIDTypes: []string{"email"}}, nil, 0},
		{"username only, given an email", api.LoginRequest{LoginID: "ana@example.org", Password: testPassword, ApplicationID: e.app.ID, LoginIDTypes: []string{"username"}}, nil, 0},
		{"noJWT", api.LoginRequest{LoginID: "ana", Password: testPassword, ApplicationID: e.app.ID, NoJWT: true}, nil, LoginOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := e.PasswordChecks()
			res, err := e.Login(e.ctx, LoginInput{Request: tc.req})
			if tc.codes != nil {
				wantCodes(t, "login", err, tc.codes...)
				if n := e.PasswordChecks() - before; n != 0 {
					t.Errorf("%d passwords checked for an invalid request", n)
				}
				return
			}
			wantOutcome(t, "login", res, err, tc.want)
			if tc.want == LoginOK && (res.Response.Token == "") != tc.req.NoJWT {
				t.Errorf("token %q with noJWT %v", res.Response.Token, tc.req.NoJWT)
			}
			if tc.req.NoJWT && (res.Response.RefreshToken != "" || res.Response.User == nil) {
				t.Errorf("noJWT answer %+v: want the user and no refresh token", res.Response)
			}
		})
	}
}

// TestLogin_Tenants: a login finds users in its tenant only: the tenant
// pinned (an API key's), the application's, or the only one; with several
// tenants and none of these it names none and is refused.
func TestLogin_Tenants(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.mustImport(t, "", api.User{Email: "ana@example.org", Registrations: registered(e.app.ID)})
	other := e.mustTenant(t, "Other", nil)
	otherApp, err := e.CreateApplication(e.ctx, other.ID, "", api.Application{Name: "Other shop"})
	if err != nil {
		t.Fatal(err)
	}
	e.mustImport(t, other.ID, api.User{Email: "ana@example.org", Registrations: registered(otherApp.ID)})
	e.mustImport(t, e.app.TenantID, api.User{Email: "solo@example.org", Registrations: registered(e.app.ID)})
	const unknownTenant = "5d1f8c1e-0b7a-4c8e-8f54-2a4c1b9e7d00"

	for _, tc := range []struct {
		name   string
		tenant string
		appID  string
		codes  []string
		want   LoginOutcome
	}{
		{"no tenant, no application", "", "", []string{"[TenantIdRequired]"}, 0},
		{"unknown tenant", unknownTenant, "", []string{"[invalid]tenantId"}, 0},
		{"the application's tenant", "", otherApp.ID, nil, LoginOK},
		{"pinned tenant", other.ID, "", nil, LoginOK},
		{"pinned tenant, its application", other.ID, otherApp.ID, nil, LoginOK},
		{"pinned tenant, another's application", other.ID, e.app.ID, []string{"[invalid]applicationId"}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := e.Login(e.ctx, LoginInput{TenantID: tc.tenant, Request: api.LoginRequest{LoginID: "ana@example.org", Password: testPassword, ApplicationID: tc.appID}})
			if tc.codes != nil {
				wantCodes(t, "login", err, tc.codes...)
				return
			}
			wantOutcome(t, "login", res, err, tc.want)
			if res.Response.User == nil || res.Response.User.TenantID != other.ID {
				t.Errorf("logged in %+v, want the user of tenant %s", res.Response.User, other.ID)
			}
		})
	}
	// A user of another tenant is no user of the pinned one.
	res, err := e.Login(e.ctx, LoginInput{TenantID: other.ID, Request: api.LoginRequest{LoginID: "solo@example.org", Password: testPassword}})
	wantOutcome(t, "a user of another tenant", res, err, 0)
}

// TestLoginNeedsAPIKey: the Login API needs an API key unless the
// application named (or, naming none, the tenant) turns
// requireAuthentication off; an application that does not exist needs one.
func TestLoginNeedsAPIKey(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	open := DefaultApplication()
	open.Name, open.LoginConfiguration.RequireAuthentication = "Open", false
	openApp, err := e.CreateApplication(e.ctx, "", "", open)
	if err != nil {
		t.Fatal(err)
	}
	check := func(what, tenantID, appID string, want bool) {
		t.Helper()
		got, err := e.LoginNeedsAPIKey(e.ctx, tenantID, appID)
		if err != nil || got != want {
			t.Errorf("%s: %v, %v; want %v", what, got, err, want)
		}
	}
	check("Default application", "", e.app.ID, true)
	check("open application", "", openApp.ID, false)
	check("unknown application", "", "3c0ac3d3-2d9d-4d5e-9f5e-6a1f3b1b9c00", true)
	check("open application, another tenant pinned", "5d1f8c1e-0b7a-4c8e-8f54-2a4c1b9e7d00", openApp.ID, true)
	check("no application", "", "", true)
	e.editTenant(t, func(tn *api.Tenant) { tn.LoginConfiguration.RequireAuthentication = false })
	check("no application, open tenant", "", "", false)
	check("unknown tenant", "5d1f8c1e-0b7a-4c8e-8f54-2a4c1b9e7d00", "", true)
}

// TestLogin_OAuth: the password grant needs the grant enabled on the
// application (unauthorized_client, after the password check, otherwise),
// and gives a refresh token only for the offline_access scope.
func TestLogin_OAuth(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.mustImport(t, "", api.User{Email: "ana@example.org", Registrations: registered(e.app.ID)})
	noGrant, err := e.CreateApplication(e.ctx, "", "", api.Application{Name: "No grant"})
	if err != nil {
		t.Fatal(err)
	}
	login := func(appID string, scopes ...string) (LoginResult, error) {
		return e.Login(e.ctx, LoginInput{OAuth: true, Client: Client{Scopes: scopes},
			Request: api.LoginRequest{LoginID: "ana@example.org", Password: testPassword, ApplicationID: appID}})
	}
	res, err := login(e.app.ID)
	wantOutcome(t, "no scope", res, err, LoginOK)
	if res.Response.RefreshToken != "" || res.TokenType == "" || res.ExpiresIn <= 0 {
		t.Errorf("no scope: refresh token %q, type %q, expires in %d; want none, a type, a lifetime", res.Response.RefreshToken, res.TokenType, res.ExpiresIn)
	}
	res, err = login(e.app.ID, "offline_access")
	wantOutcome(t, "offline_access", res, err, LoginOK)
	if res.Response.RefreshToken == "" {
		t.Error("offline_access: no refresh token")
	}
	_, err = login(noGrant.ID)
	var oe *api.OAuthError
	if !errors.As(err, &oe) || oe.Code != api.OAuthUnauthorizedClient {
		t.Errorf("grant not enabled: %v, want unauthorized_client", err)
	}
}
