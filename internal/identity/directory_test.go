package identity

import (
	"slices"
	"testing"

	"github.com/latchid/latch/api"
)

// nilID is the nil UUID: no object's id.
const nilID = "00000000-0000-0000-0000-000000000000"

// TestTenant_Validation: a tenant's settings are checked with FusionAuth's
// codes, on create and update alike; absent policies get their defaults.
func TestTenant_Validation(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	def := e.defaultTenant(t)
	for _, tc := range []struct {
		name  string
		edit  func(*api.Tenant)
		codes []string
	}{
		{"defaults", func(*api.Tenant) {}, nil},
		{"no name", func(tn *api.Tenant) { tn.Name = "" }, []string{"[blank]tenant.name"}},
		{"negative lockout", func(tn *api.Tenant) { tn.FailedAuthenticationConfiguration.TooManyAttempts = -1 },
			[]string{"[invalid]tenant.failedAuthenticationConfiguration"}},
		{"lockout unit", func(tn *api.Tenant) { tn.FailedAuthenticationConfiguration.ActionDurationUnit = "SECONDS" },
			[]string{"[invalid]tenant.failedAuthenticationConfiguration.actionDurationUnit"}},
		{"password rules", func(tn *api.Tenant) {
			tn.PasswordValidationRules = api.PasswordValidationRules{MinLength: 10, MaxLength: 9}
		},
			[]string{"[invalid]tenant.passwordValidationRules"}},
		{"password rules too long", func(tn *api.Tenant) { tn.PasswordValidationRules.MaxLength = 1025 },
			[]string{"[invalid]tenant.passwordValidationRules"}},
		{"access token lifetime", func(tn *api.Tenant) { tn.JWTConfiguration.TimeToLiveInSeconds = 0 },
			[]string{"[invalid]tenant.jwtConfiguration.timeToLiveInSeconds"}},
		{"refresh token lifetime", func(tn *api.Tenant) {
			tn.JWTConfiguration.RefreshTokenTimeToLiveInMinutes = maxRefreshTokenTTLMinutes + 1
		},
			[]string{"[invalid]tenant.jwtConfiguration.refreshTokenTimeToLiveInMinutes"}},
		{"usage policy", func(tn *api.Tenant) { tn.JWTConfiguration.RefreshTokenUsagePolicy = "Sometimes" },
			[]string{"[invalid]tenant.jwtConfiguration.refreshTokenUsagePolicy"}},
		{"expiration policy", func(tn *api.Tenant) { tn.JWTConfiguration.RefreshTokenExpirationPolicy = "Never" },
			[]string{"[invalid]tenant.jwtConfiguration.refreshTokenExpirationPolicy"}},
		{"sliding maximum below the lifetime", func(tn *api.Tenant) {
			tn.JWTConfiguration.RefreshTokenExpirationPolicy = api.ExpirationSlidingWindowMaximum
			tn.JWTConfiguration.RefreshTokenSlidingWindowConfiguration.MaximumTimeToLiveInMinutes = tn.JWTConfiguration.RefreshTokenTimeToLiveInMinutes - 1
		}, []string{"[invalid]tenant.jwtConfiguration.refreshTokenSlidingWindowConfiguration.maximumTimeToLiveInMinutes"}},
		{"grace period", func(tn *api.Tenant) {
			tn.JWTConfiguration.RefreshTokenOneTimeUseConfiguration.GracePeriodInSeconds = maxGracePeriodSeconds + 1
		},
			[]string{"[invalid]tenant.jwtConfiguration.refreshTokenOneTimeUseConfiguration.gracePeriodInSeconds"}},
		{"unknown key", func(tn *api.Tenant) { tn.JWTConfiguration.AccessTokenKeyID = nilID },
			[]string{"[invalid]tenant.jwtConfiguration.accessTokenKeyId"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tn := def
			tn.ID = ""
			tn.Name = "Tenant " + tc.name
			tc.edit(&tn)
			created, err := e.CreateTenant(e.ctx, "", tn)
			wantCodes(t, "create", err, tc.codes...)
			upd := def
			tc.edit(&upd)
			_, err = e.UpdateTenant(e.ctx, def.ID, upd)
			wantCodes(t, "update", err, tc.codes...)
			if tc.codes == nil && (created.ID == "" || created.InsertInstant == 0) {
				t.Errorf("created %+v: want an id and an insert instant", created)
			}
		})
	}
	// Policies left blank get their defaults.
	tn := DefaultTenant()
	tn.JWTConfiguration.RefreshTokenUsagePolicy, tn.JWTConfiguration.RefreshTokenExpirationPolicy = "", ""
	tn.PasswordValidationRules = api.PasswordValidationRules{}
	got, err := e.CreateTenant(e.ctx, "", tn)
	if err != nil {
		t.Fatal(err)
	}
	j := got.JWTConfiguration
	if j.RefreshTokenUsagePolicy != api.RefreshReusable || j.RefreshTokenExpirationPolicy != api.ExpirationFixed ||
		got.PasswordValidationRules.MinLength != DefaultPasswordMinLength || got.PasswordValidationRules.MaxLength != DefaultPasswordMaxLength {
		t.Errorf("blank policies became %q, %q, %+v", j.RefreshTokenUsagePolicy, j.RefreshTokenExpirationPolicy, got.PasswordValidationRules)
	}
}

// TestTenant_IDsAndDeletion: a tenant id is a UUID given once; an unknown
// or malformed id is not found; the last tenant cannot be deleted; a
// request that names no tenant gets the only one, or, with several,
// [TenantIdRequired].
func TestTenant_IDsAndDeletion(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	def := e.defaultTenant(t)
	if _, err := e.CreateTenant(e.ctx, "not-a-uuid", DefaultTenant()); err == nil {
		t.Error("created a tenant with the id not-a-uuid")
	} else {
		wantCodes(t, "malformed id", err, "[couldNotConvert]tenantId")
	}
	_, err := e.CreateTenant(e.ctx, def.ID, DefaultTenant())
	wantCodes(t, "the default tenant's id", err, "[duplicate]tenantId")
	_, err = e.GetTenant(e.ctx, "not-a-uuid")
	wantNotFound(t, "get malformed", err)
	_, err = e.UpdateTenant(e.ctx, nilID, DefaultTenant())
	wantNotFound(t, "update unknown", err)
	wantNotFound(t, "delete unknown", e.DeleteTenant(e.ctx, nilID))
	wantCodes(t, "delete the last tenant", e.DeleteTenant(e.ctx, def.ID), "[invalid]")

	if got, err := e.ResolveTenant(e.ctx, ""); err != nil || got.ID != def.ID {
		t.Errorf("the only tenant: %v, %v", got.ID, err)
	}
	other := e.mustTenant(t, "Other", nil)
	_, err = e.ResolveTenant(e.ctx, "")
	wantCodes(t, "two tenants, none named", err, "[TenantIdRequired]")
	_, err = e.ResolveTenant(e.ctx, nilID)
	wantCodes(t, "an unknown tenant named", err, "[invalid]tenantId")
	if got, err := e.ResolveTenant(e.ctx, other.ID); err != nil || got.ID != other.ID {
		t.Errorf("named: %v, %v", got.ID, err)
	}
	if err := e.DeleteTenant(e.ctx, other.ID); err != nil {
		t.Fatal(err)
	}
	if all, err := e.ListTenants(e.ctx); err != nil || len(all) != 1 {
		t.Errorf("after the delete: %d tenants, %v", len(all), err)
	}
}

// TestUser_CreateRules: a new user needs a password (unless one is to be
// set by email) that meets its tenant's rules; its email (folded) and
// username are unique in the tenant, not across tenants; an id it asks for
// is a duplicate in its own tenant and merely unusable (naming no owner)
// when another tenant's user has it or it is the nil UUID.
func TestUser_CreateRules(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ana := e.mustImport(t, "", api.User{Email: "ana@example.org", Username: "ana"})
	strict := e.mustTenant(t, "Strict", func(tn *api.Tenant) {
		tn.PasswordValidationRules = api.PasswordValidationRules{MinLength: 30, MaxLength: 40}
	})
	for _, tc := range []struct {
		name   string
		tenant string
		id     string
		req    api.UserRequest
		codes  []string
	}{
		{"no password", "", "", api.UserRequest{User: api.User{Email: "new@example.org"}}, []string{"[blank]user.password"}},
		{"no password, set by email", "", "", api.UserRequest{User: api.User{Email: "invited@example.org"}, SendSetPasswordEmail: true}, nil},
		{"the tenant's password rules", strict.ID, "", api.UserRequest{User: api.User{Email: "new@example.org", Password: testPassword}}, []string{"[tooShort]user.password"}},
		{"email taken", "", "", api.UserRequest{User: api.User{Email: "ana@example.org"}, SendSetPasswordEmail: true}, []string{"[duplicate]user.email"}},
		{"email taken, another case", "", "", api.UserRequest{User: api.User{Email: "Ana@Example.org"}, SendSetPasswordEmail: true}, []string{"[duplicate]user.email"}},
		{"username taken", "", "", api.UserRequest{User: api.User{Username: "ana"}, SendSetPasswordEmail: true}, []string{"[duplicate]user.username"}},
		{"username taken, another case", "", "", api.UserRequest{User: api.User{Username: "ANA"}, SendSetPasswordEmail: true}, []string{"[duplicate]user.username"}},
		{"both taken", "", "", api.UserRequest{User: api.User{Email: "ana@example.org", Username: "ana"}, SendSetPasswordEmail: true}, []string{"[duplicate]user.email", "[duplicate]user.username"}},
		{"taken in another tenant only", strict.ID, "", api.UserRequest{User: api.User{Email: "ana@example.org", Username: "ana"}, SendSetPasswordEmail: true}, nil},
		{"id not a UUID", "", "ana", api.UserRequest{User: api.User{Email: "x@example.org"}, SendSetPasswordEmail: true}, []string{"[couldNotConvert]userId"}},
		{"id taken", "", ana, api.UserRequest{User: api.User{Email: "x@example.org"}, SendSetPasswordEmail: true}, []string{"[duplicate]userId"}},
		{"id taken in another tenant", strict.ID, ana, api.UserRequest{User: api.User{Email: "x@example.org"}, SendSetPasswordEmail: true}, []string{"[invalid]userId"}},
		{"nil id", "", nilID, api.UserRequest{User: api.User{Email: "x@example.org"}, SendSetPasswordEmail: true}, []string{"[invalid]userId"}},
		{"unknown tenant", nilID, "", api.UserRequest{User: api.User{Email: "x@example.org"}, SendSetPasswordEmail: true}, []string{"[invalid]tenantId"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tenant := tc.tenant
			if tenant == "" {
				tenant = e.app.TenantID
			}
			res, err := e.CreateUser(e.ctx, tenant, tc.id, tc.req)
			wantCodes(t, "create", err, tc.codes...)
			if tc.codes != nil {
				return
			}
			if res.User == nil || res.User.ID == "" || res.Token != "" || !res.User.Active {
				t.Errorf("created %+v: want an active user and no token (no password)", res)
			}
		})
	}
	// A user request with no tenant pinned may name its own.
	_, err := e.CreateUser(e.ctx, "", "", api.UserRequest{User: api.User{Email: "y@example.org"}, SendSetPasswordEmail: true})
	wantCodes(t, "no tenant named", err, "[TenantIdRequired]")
	res, err := e.CreateUser(e.ctx, "", "", api.UserRequest{User: api.User{Email: "y@example.org", TenantID: strict.ID}, SendSetPasswordEmail: true})
	if err != nil || res.User.TenantID != strict.ID {
		t.Errorf("the tenant named in the user: %+v, %v", res.User, err)
	}
}

// TestUser_Update: an update is checked as a create is, keeps the user's
// own email and username free for it, and refuses another's; users and
// their registrations are invisible across tenants.
func TestUser_Update(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ana := e.mustImport(t, "", api.User{Email: "ana@example.org", Username: "ana", Registrations: registered(e.app.ID)})
	e.mustImport(t, "", api.User{Email: "bob@example.org", Username: "bob"})
	other := e.mustTenant(t, "Other", nil)
	for _, tc := range []struct {
		name  string
		user  api.User
		codes []string
	}{
		{"unchanged", api.User{Email: "ana@example.org", Username: "ana"}, nil},
		{"case of the email", api.User{Email: "ANA@example.org", Username: "ana"}, nil},
		{"another's email", api.User{Email: "bob@example.org", Username: "ana"}, []string{"[duplicate]user.email"}},
		{"another's username", api.User{Email: "ana@example.org", Username: "bob"}, []string{"[duplicate]user.username"}},
		{"neither", api.User{}, []string{"[blank]user.email", "[blank]user.username"}},
		{"password too short", api.User{Email: "ana@example.org", Password: "short"}, []string{"[tooShort]user.password"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := e.UpdateUser(e.ctx, "", ana, tc.user, false)
			wantCodes(t, "update", err, tc.codes...)
			if tc.codes == nil && (got.Email != "ana@example.org" || len(got.Registrations) != 1) {
				t.Errorf("updated %+v", got)
			}
		})
	}
	_, err := e.GetUser(e.ctx, other.ID, ana, false)
	wantNotFound(t, "get from another tenant", err)
	_, err = e.UpdateUser(e.ctx, other.ID, ana, api.User{Email: "ana@example.org"}, false)
	wantNotFound(t, "update from another tenant", err)
	wantNotFound(t, "delete from another tenant", e.DeleteUser(e.ctx, other.ID, ana, true))
	_, err = e.GetRegistration(e.ctx, other.ID, ana, e.app.ID)
	wantNotFound(t, "registration from another tenant", err)
	_, err = e.GetUser(e.ctx, "", "not-a-uuid", false)
	wantNotFound(t, "malformed id", err)
	if u, err := e.GetUser(e.ctx, e.app.TenantID, ana, false); err != nil || u.ID != ana {
		t.Errorf("get from its own tenant: %v", err)
	}
}

// TestUser_Deactivation: a soft delete deactivates a user (the right
// password gets LoginInactive) and ends its sessions; reactivation lets it
// log in again; a hard delete removes it and its registrations.
func TestUser_Deactivation(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := e.mustImport(t, "", api.User{Email: "ana@example.org", Registrations: registered(e.app.ID)})
	before, err := e.login("ana@example.org", testPassword)
	wantOutcome(t, "login", before, err, LoginOK)

	if err := e.DeleteUser(e.ctx, "", id, false); err != nil {
		t.Fatal(err)
	}
	if u, err := e.GetUser(e.ctx, "", id, false); err != nil || u.Active {
		t.Errorf("after a soft delete: %+v, %v; want inactive", u, err)
	}
	if _, err := e.GetSession(e.ctx, "", before.Response.RefreshTokenID); err == nil {
		t.Error("a deactivated user's session is live")
	}
	res, err := e.login("ana@example.org", testPassword)
	wantOutcome(t, "deactivated", res, err, LoginInactive)

	if u, err := e.ReactivateUser(e.ctx, "", id); err != nil || !u.Active {
		t.Fatalf("reactivate: %+v, %v", u, err)
	}
	res, err = e.login("ana@example.org", testPassword)
	wantOutcome(t, "reactivated", res, err, LoginOK)

	if err := e.DeleteUser(e.ctx, "", id, true); err != nil {
		t.Fatal(err)
	}
	_, err = e.GetUser(e.ctx, "", id, false)
	wantNotFound(t, "after a hard delete", err)
	_, err = e.GetRegistration(e.ctx, "", id, e.app.ID)
	wantNotFound(t, "registration after a hard delete", err)
	if _, err := e.GetSession(e.ctx, "", res.Response.RefreshTokenID); err == nil {
		t.Error("a deleted user's session is live")
	}
}

// TestRegistration_Rules: a registration names an application of the
// user's tenant, once; its roles are the application's (the default ones
// when none are given), kept sorted and once each; deleting it ends the
// user's sessions for that application only.
func TestRegistration_Rules(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	shop, err := e.CreateApplication(e.ctx, "", "", api.Application{Name: "Shop",
		Roles: []api.ApplicationRole{{Name: "admin"}, {Name: "user", IsDefault: true}, {Name: "viewer", IsDefault: true}}})
	if err != nil {
		t.Fatal(err)
	}
	other := e.mustTenant(t, "Other", nil)
	elsewhere, err := e.CreateApplication(e.ctx, other.ID, "", api.Application{Name: "Elsewhere"})
	if err != nil {
		t.Fatal(err)
	}
	ana := e.mustImport(t, e.app.TenantID, api.User{Email: "ana@example.org"})
	register := func(appID string, roles []string) (api.RegistrationResponse, error) {
		return e.Register(e.ctx, "", ana, "", api.RegistrationRequest{Registration: api.UserRegistration{ApplicationID: appID, Roles: roles}}, Client{NoTokens: true})
	}
	for _, tc := range []struct {
		name  string
		appID string
		roles []string
		codes []string
		want  []string
	}{
		{"no application", "", nil, []string{"[blank]registration.applicationId"}, nil},
		{"application not a UUID", "shop", nil, []string{"[couldNotConvert]registration.applicationId"}, nil},
		{"unknown application", nilID, nil, []string{"[invalid]registration.applicationId"}, nil},
		{"another tenant's application", elsewhere.ID, nil, []string{"[invalid]registration.applicationId"}, nil},
		{"unknown role", shop.ID, []string{"admin", "owner"}, []string{"[invalid]registration.roles"}, nil},
		{"default roles", shop.ID, nil, nil, []string{"user", "viewer"}},
		{"again", shop.ID, nil, []string{"[duplicate]registration"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := register(tc.appID, tc.roles)
			wantCodes(t, "register", err, tc.codes...)
			if tc.codes == nil && (res.Registration == nil || !slices.Equal(res.Registration.Roles, tc.want)) {
				t.Errorf("registration %+v, want roles %v", res.Registration, tc.want)
			}
		})
	}
	got, err := e.UpdateRegistration(e.ctx, "", ana, shop.ID, api.UserRegistration{Roles: []string{"viewer", "admin", "viewer"}})
	if err != nil || !slices.Equal(got.Roles, []string{"admin", "viewer"}) {
		t.Errorf("update: %v, %v; want [admin viewer]", got.Roles, err)
	}
	_, err = e.UpdateRegistration(e.ctx, "", ana, shop.ID, api.UserRegistration{Roles: []string{"owner"}})
	wantCodes(t, "update with an unknown role", err, "[invalid]registration.roles")
	_, err = e.Register(e.ctx, "", "", "", api.RegistrationRequest{Registration: api.UserRegistration{ApplicationID: shop.ID}}, Client{NoTokens: true})
	wantCodes(t, "neither a user nor its id", err, "[blank]user.email", "[blank]user.username")

	// Deleting a registration ends that application's sessions only.
	if _, err := register(e.app.ID, nil); err != nil {
		t.Fatal(err)
	}
	login := func(appID string) LoginResult {
		t.Helper()
		res, err := e.Login(e.ctx, LoginInput{Request: api.LoginRequest{LoginID: "ana@example.org", Password: testPassword, ApplicationID: appID}})
		wantOutcome(t, "login", res, err, LoginOK)
		return res
	}
	def := login(e.app.ID)
	s := shop
	s.LoginConfiguration.GenerateRefreshTokens = true
	if _, err := e.UpdateApplication(e.ctx, "", shop.ID, s); err != nil {
		t.Fatal(err)
	}
	inShop := login(shop.ID)
	if err := e.DeleteRegistration(e.ctx, "", ana, shop.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.GetSession(e.ctx, "", inShop.Response.RefreshTokenID); err == nil {
		t.Error("the session of a deleted registration is live")
	}
	if _, err := e.GetSession(e.ctx, "", def.Response.RefreshTokenID); err != nil {
		t.Errorf("the session of another application ended: %v", err)
	}
	wantNotFound(t, "delete again", e.DeleteRegistration(e.ctx, "", ana, shop.ID))
}

// TestApplication_Rules: an application is checked with FusionAuth's
// codes; an id it asks for is a duplicate in its own tenant and merely
// unusable in another's; it is invisible across tenants; a soft delete
// deactivates it (logins to it are refused) and ends its sessions, and
// reactivation restores it.
func TestApplication_Rules(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	other := e.mustTenant(t, "Other", nil)
	for _, tc := range []struct {
		name   string
		tenant string
		id     string
		app    api.Application
		codes  []string
	}{
		{"no name", e.app.TenantID, "", api.Application{}, []string{"[blank]application.name"}},
		{"client authentication policy", e.app.TenantID, "", api.Application{Name: "A", OAuthConfiguration: api.OAuthConfiguration{ClientAuthenticationPolicy: "Sometimes"}},
			[]string{"[invalid]application.oauthConfiguration.clientAuthenticationPolicy"}},
		{"unknown grant", e.app.TenantID, "", api.Application{Name: "A", OAuthConfiguration: api.OAuthConfiguration{EnabledGrants: []string{"magic"}}},
			[]string{"[invalid]application.oauthConfiguration.enabledGrants"}},
		{"unknown key", e.app.TenantID, "", api.Application{Name: "A", JWTConfiguration: api.JWTConfiguration{AccessTokenKeyID: nilID}},
			[]string{"[invalid]application.jwtConfiguration.accessTokenKeyId"}},
		{"its own lifetimes", e.app.TenantID, "", api.Application{Name: "A", JWTConfiguration: api.JWTConfiguration{Enabled: true}},
			[]string{"[invalid]application.jwtConfiguration.timeToLiveInSeconds", "[invalid]application.jwtConfiguration.refreshTokenTimeToLiveInMinutes"}},
		{"id not a UUID", e.app.TenantID, "shop", api.Application{Name: "A"}, []string{"[couldNotConvert]applicationId"}},
		{"id taken", e.app.TenantID, e.app.ID, api.Application{Name: "A"}, []string{"[duplicate]applicationId"}},
		{"id taken in another tenant", other.ID, e.app.ID, api.Application{Name: "A"}, []string{"[invalid]applicationId"}},
		{"nil id", e.app.TenantID, nilID, api.Application{Name: "A"}, []string{"[invalid]applicationId"}},
		{"fine", other.ID, "", api.Application{Name: "A"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := e.CreateApplication(e.ctx, tc.tenant, tc.id, tc.app)
			wantCodes(t, "create", err, tc.codes...)
			if tc.codes == nil && (got.TenantID != tc.tenant || !got.Active || got.State != api.StateActive || got.OAuthConfiguration.ClientID != got.ID) {
				t.Errorf("created %+v", got)
			}
		})
	}
	_, err := e.GetApplication(e.ctx, other.ID, e.app.ID)
	wantNotFound(t, "get from another tenant", err)
	_, err = e.UpdateApplication(e.ctx, other.ID, e.app.ID, e.app)
	wantNotFound(t, "update from another tenant", err)
	wantNotFound(t, "delete from another tenant", e.DeleteApplication(e.ctx, other.ID, e.app.ID, true))
	if list, err := e.ListApplications(e.ctx, other.ID); err != nil || len(list) != 1 {
		t.Errorf("the other tenant's applications: %d, %v; want its one", len(list), err)
	}

	e.mustImport(t, e.app.TenantID, api.User{Email: "ana@example.org", Registrations: registered(e.app.ID)})
	before, err := e.login("ana@example.org", testPassword)
	wantOutcome(t, "login", before, err, LoginOK)
	if err := e.DeleteApplication(e.ctx, "", e.app.ID, false); err != nil {
		t.Fatal(err)
	}
	if got, err := e.GetApplication(e.ctx, "", e.app.ID); err != nil || got.Active || got.State != api.StateInactive {
		t.Errorf("after a soft delete: %+v, %v", got, err)
	}
	if _, err := e.GetSession(e.ctx, "", before.Response.RefreshTokenID); err == nil {
		t.Error("a deactivated application's session is live")
	}
	_, err = e.login("ana@example.org", testPassword)
	wantCodes(t, "login to a deactivated application", err, "[inactive]applicationId")
	if got, err := e.ReactivateApplication(e.ctx, "", e.app.ID); err != nil || !got.Active || got.OAuthConfiguration.ClientSecret == "" {
		t.Errorf("reactivate: %+v, %v; want active, with its secret", got, err)
	}
	res, err := e.login("ana@example.org", testPassword)
	wantOutcome(t, "login after the reactivation", res, err, LoginOK)
	if err := e.DeleteApplication(e.ctx, "", e.app.ID, true); err != nil {
		t.Fatal(err)
	}
	_, err = e.GetApplication(e.ctx, "", e.app.ID)
	wantNotFound(t, "after a hard delete", err)
	_, err = e.GetRegistration(e.ctx, "", res.Response.User.ID, e.app.ID)
	wantNotFound(t, "registration after a hard delete", err)
}
