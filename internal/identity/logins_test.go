package identity

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/latchid/latch/api"
	"github.com/latchid/latch/internal/storage"
)

// cheapPassword is the password of the users loginsEnv imports, stored
// with a cheap scheme so that the tests that check it pay for no argon2id
// hash (the hash below is salted-sha256 of "password" with the salt).
const cheapPassword = "password"

// loginsEnv is an env with the Default tenant and application as the
// login rules take them.
type loginsEnv struct {
	*env
	tenant api.Tenant
	app    storage.Application
}

func newLoginsEnv(t *testing.T) *loginsEnv {
	t.Helper()
	e := newEnv(t)
	app, err := e.store.GetApplication(e.ctx, e.app.ID)
	if err != nil {
		t.Fatal(err)
	}
	tn, err := e.store.GetTenant(e.ctx, app.TenantID)
	if err != nil {
		t.Fatal(err)
	}
	return &loginsEnv{env: e, tenant: tn, app: app}
}

// importUser imports an active user with cheapPassword, registered for the
// Default application when registered says so, and returns it as stored.
func (e *loginsEnv) importUser(t *testing.T, email string, registered bool) storage.User {
	t.Helper()
	u := api.User{Email: email, Active: true, EncryptionScheme: "salted-sha256", Factor: 1,
		Salt: "4MTVxbvk8swI0ys2Lf4saeR3swRvn0f2", Password: "wLAU6Ma/KdGKjOhvQaKD6G3NSlpzDUxj8iJjA6FdjsA="}
	if registered {
		u.Registrations = []api.UserRegistration{{ApplicationID: e.app.ID}}
	}
	if err := e.ImportUsers(e.ctx, "", api.ImportRequest{Users: []api.User{u}}); err != nil {
		t.Fatal(err)
	}
	found, err := e.store.GetUserByEmail(e.ctx, e.tenant.ID, email)
	if err != nil {
		t.Fatal(err)
	}
	return found
}

// attempts returns the failed-login record of a login ID (zero if none).
func (e *loginsEnv) attempts(t *testing.T, loginID string) storage.LoginAttempts {
	t.Helper()
	a, err := e.store.GetLoginAttempts(e.ctx, e.tenant.ID, e.logins().key(loginID))
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		t.Fatal(err)
	}
	return a
}

// TestLogins_Complete is the rule of a login whose password was right:
// an expired or deactivated account is told so, keeps its failures and
// gets no token; any other login clears the failures, records the login
// and issues what its request and application ask for. The password
// grant is refused when the application does not enable it.
func TestLogins_Complete(t *testing.T) {
	e := newLoginsEnv(t)
	noPasswordGrant := e.app
	noPasswordGrant.OAuthConfiguration.EnabledGrants = []string{GrantRefreshToken}
	for _, c := range []struct {
		name         string
		unregistered bool
		change       func(*storage.User)
		app          *storage.Application // the Default application when nil
		in           LoginInput
		want         LoginOutcome
		wantErr      string // an OAuth error's reason
		token        bool
		refreshToken bool
		idToken      bool
	}{
		{name: "OK", want: LoginOK, token: true, refreshToken: true},
		{name: "NotRegistered", unregistered: true, want: LoginNotRegistered, token: true},
		{name: "NoApplication", app: &storage.Application{}, want: LoginOK, token: true},
		{name: "NoJWT", in: LoginInput{Request: api.LoginRequest{NoJWT: true}}, want: LoginOK},
		{name: "ChangePassword", change: func(u *storage.User) { u.PasswordChangeRequired = true }, want: LoginChangePassword},
		{name: "Expired", change: func(u *storage.User) { u.Expiry = e.clock.Now() }, want: LoginExpired},
		{name: "NotYetExpired", change: func(u *storage.User) { u.Expiry = e.clock.Now().Add(time.Second) }, want: LoginOK,
			token: true, refreshToken: true},
		{name: "Inactive", change: func(u *storage.User) { u.Active = false }, want: LoginInactive},
		{name: "OAuth", in: LoginInput{OAuth: true}, want: LoginOK, token: true},
		{name: "OAuthOfflineAccess", in: LoginInput{OAuth: true, Client: Client{Scopes: []string{"offline_access"}}},
			want: LoginOK, token: true, refreshToken: true},
		{name: "OAuthOpenID", in: LoginInput{OAuth: true, Client: Client{Scopes: []string{ScopeOpenID}}},
			want: LoginOK, token: true, idToken: true},
		{name: "OAuthGrantDisabled", app: &noPasswordGrant, in: LoginInput{OAuth: true}, wantErr: "grant_type_disabled"},
	} {
		t.Run(c.name, func(t *testing.T) {
			email := c.name + "@example.org"
			u := e.importUser(t, email, !c.unregistered)
			if c.change != nil {
				c.change(&u)
				if err := e.store.UpdateUser(e.ctx, u); err != nil {
					t.Fatal(err)
				}
			}
			app := &e.app
			if c.app != nil {
				app = c.app
			}
			if app.ID == "" {
				app = nil
			}
			ls := e.logins()
			key := ls.key(email)
			lockout := lockoutPolicy(e.tenant)
			if _, err := e.store.UpdateLoginAttempts(e.ctx, e.tenant.ID, key, func(a storage.LoginAttempts) (storage.LoginAttempts, error) {
				return lockout.Fail(a, storage.LoginAttempts{}, e.clock.Now()), nil
			}); err != nil {
				t.Fatal(err)
			}

			res, err := ls.complete(e.ctx, c.in, e.tenant, app, u, key, nil)
			var oe *api.OAuthError
			switch {
			case c.wantErr != "":
				if !errors.As(err, &oe) || oe.Reason != c.wantErr {
					t.Fatalf("err = %v, want the OAuth error %s", err, c.wantErr)
				}
			case err != nil:
				t.Fatal(err)
			case res.Outcome != c.want:
				t.Fatalf("outcome %v, want %v", res.Outcome, c.want)
			}
			if got := res.Response.Token != ""; got != c.token {
				t.Errorf("token issued: %v, want %v", got, c.token)
			}
			if got := res.Response.RefreshToken != ""; got != c.refreshToken {
				t.Errorf("refresh token issued: %v, want %v", got, c.refreshToken)
			}
			if got := res.IDToken != ""; got != c.idToken {
				t.Errorf("ID token issued: %v, want %v", got, c.idToken)
			}
			if c.want == LoginChangePassword && res.Response.ChangePasswordID == "" {
				t.Error("no changePasswordId for a password change")
			}

			logged := c.want != LoginExpired && c.want != LoginInactive && c.wantErr == ""
			if got := e.attempts(t, email).Count == 0; got != logged {
				t.Errorf("failures cleared: %v, want %v", got, logged)
			}
			after, err := e.store.GetUser(e.ctx, u.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got := after.LastLogin.Equal(e.clock.Now()); got != logged {
				t.Errorf("last login recorded: %v (%v), want %v", got, after.LastLogin, logged)
			}
		})
	}
}

// TestLogins_Rehash: the right password of a user whose hash has a
// scheme weaker than the current one replaces the hash on the way in, and
// the new hash takes the same password; a wrong one changes nothing.
func TestLogins_Rehash(t *testing.T) {
	e := newLoginsEnv(t)
	u := e.importUser(t, "ana@example.org", true)
	login := func(pw string) (LoginResult, error) {
		return e.Login(e.ctx, LoginInput{Request: api.LoginRequest{LoginID: "ana@example.org", Password: pw, ApplicationID: e.app.ID}})
	}

	res, err := login("wrong password")
	wantOutcome(t, "wrong password", res, err, 0)
	if after, err := e.store.GetUser(e.ctx, u.ID); err != nil || after.Password != u.Password {
		t.Fatalf("a wrong password changed the hash: %+v, %v", after.Password, err)
	}

	res, err = login(cheapPassword)
	wantOutcome(t, "right password", res, err, LoginOK)
	after, err := e.store.GetUser(e.ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if after.Password.Scheme == u.Password.Scheme || after.Password.Hash == u.Password.Hash {
		t.Fatalf("hash not replaced: %s, was %s", after.Password.Scheme, u.Password.Scheme)
	}
	res, err = login(cheapPassword)
	wantOutcome(t, "right password against the new hash", res, err, LoginOK)
}

// enableEvents has the tenant emit types, and a webhook (global, or of
// the tenant only) take them; it returns the tenant as updated.
func (e *loginsEnv) enableEvents(t *testing.T, global bool, types ...string) api.Tenant {
	t.Helper()
	tn := e.tenant
	tn.EventConfiguration.Events = map[string]api.EventConfigurationData{}
	enabled := map[string]bool{}
	for _, typ := range types {
		tn.EventConfiguration.Events[typ] = api.EventConfigurationData{Enabled: true}
		enabled[typ] = true
	}
	tn, err := e.UpdateTenant(e.ctx, tn.ID, tn)
	if err != nil {
		t.Fatal(err)
	}
	w := api.Webhook{URL: "https://hooks.example.org/latch", EventsEnabled: enabled, Global: global}
	if !global {
		w.TenantIDs = []string{tn.ID}
	}
	if _, err := e.CreateWebhook(e.ctx, "", w); err != nil {
		t.Fatal(err)
	}
	e.tenant = tn
	return tn
}

// outbox returns the events of a type in the outbox, oldest first.
func outbox[T any](t *testing.T, e *env, typ string) []T {
	t.Helper()
	found, _, err := e.store.SearchEvents(e.ctx, storage.EventQuery{Type: typ, Order: storage.EventsByCreated,
		Start: e.clock.Now().Add(-time.Hour), End: e.clock.Now().Add(time.Hour), Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var out []T
	for _, f := range found {
		var doc api.EventRequest[T]
		if err := json.Unmarshal(f.Payload, &doc); err != nil {
			t.Fatal(err)
		}
		out = append(out, doc.Event)
	}
	return out
}

// TestLogins_Events: a failure counts against the login ID whether or not
// a user has it, and is announced (user.login.failed) only when one has;
// a success is announced (user.login.success). Each names the application
// only when the user is registered for it.
func TestLogins_Events(t *testing.T) {
	e := newLoginsEnv(t)
	tn := e.enableEvents(t, false, api.EventUserLoginFailed, api.EventUserLoginSuccess)
	ana := e.importUser(t, "ana@example.org", true)
	bob := e.importUser(t, "bob@example.org", false)
	ls := e.logins()
	policy := lockoutPolicy(tn)

	for _, c := range []struct {
		loginID string
		user    storage.User
	}{
		{"nobody@example.org", storage.User{}},
		{"ana@example.org", ana},
		{"bob@example.org", bob},
	} {
		e.clock.Advance(time.Second) // the events in order
		if err := ls.failed(e.ctx, tn, &e.app, ls.key(c.loginID), policy, storage.LoginAttempts{}, c.user); err != nil {
			t.Fatal(err)
		}
		if got := e.attempts(t, c.loginID).Count; got != 1 {
			t.Errorf("%s: %d failures counted, want 1", c.loginID, got)
		}
	}
	failed := outbox[api.UserLoginFailedEvent](t, e.env, api.EventUserLoginFailed)
	if len(failed) != 2 {
		t.Fatalf("%d user.login.failed events, want 2 (none for an unknown ID)", len(failed))
	}
	for i, want := range []struct{ userID, appID string }{{ana.ID, e.app.ID}, {bob.ID, ""}} {
		ev := failed[i]
		if ev.User == nil || ev.User.ID != want.userID || ev.ApplicationID != want.appID || ev.Reason == nil || ev.Reason.Code != "credentials" ||
			ev.AuthenticationType != api.AuthPassword || ev.TenantID != tn.ID {
			t.Errorf("user.login.failed %d: %+v, want user %s and application %q", i, ev, want.userID, want.appID)
		}
	}

	for _, u := range []storage.User{ana, bob} {
		e.clock.Advance(time.Second)
		if _, err := ls.complete(e.ctx, LoginInput{Request: api.LoginRequest{NoJWT: true}}, tn, &e.app, u, ls.key(u.Email), nil); err != nil {
			t.Fatal(err)
		}
	}
	success := outbox[api.UserLoginSuccessEvent](t, e.env, api.EventUserLoginSuccess)
	if len(success) != 2 || success[0].User == nil || success[0].User.ID != ana.ID || success[0].ApplicationID != e.app.ID ||
		success[1].User == nil || success[1].User.ID != bob.ID || success[1].ApplicationID != "" {
		t.Errorf("user.login.success events: %+v", success)
	}
}

// fixedTenants is a loginTenants that knows one tenant (or fails with
// tenantErr) and the applications in apps.
type fixedTenants struct {
	tenant    api.Tenant
	tenantErr error
	apps      map[string]storage.Application
	appErr    error
}

func (f fixedTenants) application(_ context.Context, _, id string) (storage.Application, error) {
	if f.appErr != nil {
		return storage.Application{}, f.appErr
	}
	a, ok := f.apps[id]
	if !ok {
		return storage.Application{}, notFound("application", id)
	}
	return a, nil
}

func (f fixedTenants) resolveTenant(context.Context, string) (api.Tenant, error) {
	return f.tenant, f.tenantErr
}

// TestLogins_NeedsAPIKey is the rule of LoginNeedsAPIKey: a login naming
// an application needs a key when that application requires one, or does
// not exist; a login naming none needs one when its tenant requires it, or when no
// tenant can be resolved. Store failures are errors.
func TestLogins_NeedsAPIKey(t *testing.T) {
	app := func(require bool) storage.Application {
		var a storage.Application
		a.LoginConfiguration.RequireAuthentication = require
		return a
	}
	tenant := func(require bool) api.Tenant {
		var tn api.Tenant
		tn.LoginConfiguration.RequireAuthentication = require
		return tn
	}
	down := errors.New("store down")
	apps := map[string]storage.Application{"open": app(false), "closed": app(true)}
	for _, c := range []struct {
		name    string
		tenants fixedTenants
		appID   string
		want    bool
		wantErr error
	}{
		{"ApplicationRequires", fixedTenants{apps: apps, tenant: tenant(false)}, "closed", true, nil},
		{"ApplicationDoesNot", fixedTenants{apps: apps, tenant: tenant(true)}, "open", false, nil},
		{"ApplicationUnknown", fixedTenants{apps: apps, tenant: tenant(false)}, "unknown", true, nil},
		{"ApplicationStoreDown", fixedTenants{appErr: down}, "open", false, down},
		{"TenantRequires", fixedTenants{apps: apps, tenant: tenant(true)}, "", true, nil},
		{"TenantDoesNot", fixedTenants{apps: apps, tenant: tenant(false)}, "", false, nil},
		{"TenantUnresolved", fixedTenants{tenantErr: api.GeneralError("[TenantIdRequired]", "A Tenant Id is required.")}, "", true, nil},
		{"TenantStoreDown", fixedTenants{tenantErr: down}, "", false, down},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := logins{tenants: c.tenants}.needsAPIKey(t.Context(), "", c.appID)
			if !errors.Is(err, c.wantErr) || (c.wantErr == nil && err != nil) {
				t.Fatalf("err = %v, want %v", err, c.wantErr)
			}
			if c.wantErr == nil && got != c.want {
				t.Errorf("needs an API key: %v, want %v", got, c.want)
			}
		})
	}
}
