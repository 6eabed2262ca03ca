package storagetest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/latchid/latch/api"
	"github.com/latchid/latch/internal/storage"
)

func testTenantCRUD(t *testing.T, s storage.Store) {
	ctx := t.Context()
	a := mustCreateTenant(t, s, "tenant-a")
	mustEqual(t, "GetTenant after CreateTenant", a, mustGetTenant(t, s, a.ID))

	dup := tenantFixture("tenant-a")
	dup.Name = "Impostor"
	mustErr(t, "CreateTenant with a taken id", s.CreateTenant(ctx, dup), storage.ErrConflict)
	mustEqual(t, "tenant after a refused create", a, mustGetTenant(t, s, a.ID))

	_, err := s.GetTenant(ctx, id("tenant-missing"))
	checkErr(t, "GetTenant of a missing id", err, storage.ErrNotFound)

	b := mustCreateTenant(t, s, "tenant-b")
	c := mustCreateTenant(t, s, "tenant-c")
	list, err := s.ListTenants(ctx)
	mustOK(t, "ListTenants", err)
	mustEqual(t, "ListTenants, oldest first", []api.Tenant{a, b, c}, list)

	a.Name = "Renamed"
	a.Issuer = "https://renamed.example.com"
	a.JWTConfiguration.TimeToLiveInSeconds = 60
	a.FailedAuthenticationConfiguration.TooManyAttempts = 9
	a.Data = map[string]any{"plan": "free"}
	a.LastUpdateInstant = at(2 * time.Hour).UnixMilli()
	mustOK(t, "UpdateTenant", s.UpdateTenant(ctx, a))
	mustEqual(t, "GetTenant after UpdateTenant", a, mustGetTenant(t, s, a.ID))
	mustEqual(t, "other tenant after UpdateTenant", b, mustGetTenant(t, s, b.ID))

	missing := tenantFixture("tenant-missing")
	checkErr(t, "UpdateTenant of a missing id", s.UpdateTenant(ctx, missing), storage.ErrNotFound)
	_, err = s.GetTenant(ctx, missing.ID)
	checkErr(t, "GetTenant after UpdateTenant of a missing id", err, storage.ErrNotFound)

	mustOK(t, "DeleteTenant", s.DeleteTenant(ctx, b.ID))
	_, err = s.GetTenant(ctx, b.ID)
	checkErr(t, "GetTenant after DeleteTenant", err, storage.ErrNotFound)
	checkErr(t, "DeleteTenant twice", s.DeleteTenant(ctx, b.ID), storage.ErrNotFound)
	list, err = s.ListTenants(ctx)
	mustOK(t, "ListTenants", err)
	mustEqual(t, "ListTenants after DeleteTenant", []api.Tenant{a, c}, list)
}

func testDeleteTenantCascades(t *testing.T, s storage.Store) {
	ctx := t.Context()
	doomed := mustWorld(t, s, "doomed")
	kept := mustWorld(t, s, "kept")
	for i, w := range []world{doomed, kept} {
		mustCreateRegistration(t, s, regFixture(w.user, w.app.ID, w.tenant.Name+"-reg", at(time.Duration(i))))
		x := mustCreateSession(t, s, sessionFixture(w.user, w.app.ID, w.tenant.Name+"-session", t0))
		mustOK(t, "RotateSession", s.RotateSession(ctx, x.ID, x.TokenHash, rotation(w.tenant.Name+"-session", 1, at(time.Minute))))
		mustPutLoginAttempts(t, s, storage.LoginAttempts{TenantID: w.tenant.ID, Key: "k", Count: 2, FirstAt: t0, Expires: at(time.Hour)})
	}

	mustOK(t, "DeleteTenant", s.DeleteTenant(ctx, doomed.tenant.ID))

	_, err := s.GetApplication(ctx, doomed.app.ID)
	checkErr(t, "GetApplication of a deleted tenant's application", err, storage.ErrNotFound)
	_, err = s.GetUser(ctx, doomed.user.ID)
	checkErr(t, "GetUser of a deleted tenant's user", err, storage.ErrNotFound)
	_, err = s.GetUserByEmail(ctx, doomed.tenant.ID, doomed.user.Email)
	checkErr(t, "GetUserByEmail of a deleted tenant's user", err, storage.ErrNotFound)
	_, err = s.GetRegistration(ctx, doomed.user.ID, doomed.app.ID)
	checkErr(t, "GetRegistration of a deleted tenant's user", err, storage.ErrNotFound)
	_, err = s.GetSession(ctx, id(doomed.tenant.Name+"-session"))
	checkErr(t, "GetSession of a deleted tenant's user", err, storage.ErrNotFound)
	mustNotFind(t, s, "FindSession current value of a deleted tenant's session", sum(doomed.tenant.Name+"-session/1"))
	mustNotFind(t, s, "FindSession previous value of a deleted tenant's session", sum(doomed.tenant.Name+"-session/0"))
	_, err = s.GetLoginAttempts(ctx, doomed.tenant.ID, "k")
	checkErr(t, "GetLoginAttempts of a deleted tenant", err, storage.ErrNotFound)
	apps, err := s.ListApplications(ctx, doomed.tenant.ID)
	mustOK(t, "ListApplications", err)
	mustEqual(t, "ListApplications of a deleted tenant", nil, apps)

	mustEqual(t, "other tenant's application", kept.app, mustGetApp(t, s, kept.app.ID))
	mustEqual(t, "other tenant's user", kept.user, mustGetUser(t, s, kept.user.ID))
	if _, err := s.GetRegistration(ctx, kept.user.ID, kept.app.ID); err != nil {
		t.Errorf("GetRegistration of the other tenant: %v", err)
	}
	mustFind(t, s, sum(kept.tenant.Name+"-session/1"), storage.MatchCurrent)
	if _, err := s.GetLoginAttempts(ctx, kept.tenant.ID, "k"); err != nil {
		t.Errorf("GetLoginAttempts of the other tenant: %v", err)
	}
}

func testApplicationCRUD(t *testing.T, s storage.Store) {
	ctx := t.Context()
	t1 := mustCreateTenant(t, s, "t1")
	t2 := mustCreateTenant(t, s, "t2")

	a1 := mustCreateApp(t, s, t1.ID, "app-1")
	got := mustGetApp(t, s, a1.ID)
	mustEqual(t, "GetApplication after CreateApplication", a1, got)
	if string(got.ClientSecretHash) != string(a1.ClientSecretHash) || string(got.ClientSecretSealed) != string(a1.ClientSecretSealed) {
		t.Errorf("client secret hash = %x, sealed %x; want %x, %x", got.ClientSecretHash, got.ClientSecretSealed, a1.ClientSecretHash, a1.ClientSecretSealed)
	}

	// The client secret itself is never stored.
	a2 := appFixture(t1.ID, "app-2")
	a2.OAuthConfiguration.ClientSecret = "plaintext-client-secret"
	mustOK(t, "CreateApplication with a client secret", s.CreateApplication(ctx, a2))
	a2.OAuthConfiguration.ClientSecret = ""
	mustEqual(t, "GetApplication: the client secret is not stored", a2, mustGetApp(t, s, a2.ID))

	// A public client has no secret hash; an application stored before
	// secrets were sealed has a hash only.
	a3 := appFixture(t2.ID, "app-3")
	a3.ClientSecretHash, a3.ClientSecretSealed = nil, nil
	a3.OAuthConfiguration.ClientAuthenticationPolicy = api.ClientAuthNotRequiredWhenUsingPKCE
	a3.OAuthConfiguration.RequireClientAuthentication = false
	mustOK(t, "CreateApplication without a secret hash", s.CreateApplication(ctx, a3))
	mustEqual(t, "GetApplication of a public client", a3, mustGetApp(t, s, a3.ID))

	dup := appFixture(t2.ID, "app-1")
	dup.Name = "Impostor"
	mustErr(t, "CreateApplication with a taken id", s.CreateApplication(ctx, dup), storage.ErrConflict)
	mustEqual(t, "application after a refused create", a1, mustGetApp(t, s, a1.ID))
	_, err := s.GetApplication(ctx, id("app-missing"))
	checkErr(t, "GetApplication of a missing id", err, storage.ErrNotFound)

	for _, c := range []struct {
		tenant string
		want   []storage.Application
	}{
		{t1.ID, []storage.Application{a1, a2}},
		{t2.ID, []storage.Application{a3}},
		{"", []storage.Application{a1, a2, a3}},
		{id("tenant-missing"), nil},
	} {
		list, err := s.ListApplications(ctx, c.tenant)
		mustOK(t, "ListApplications", err)
		mustEqual(t, "ListApplications("+c.tenant+")", c.want, list)
	}

	a1.Name = "Renamed"
	a1.ClientSecretHash = sum("rotated client secret")
	a1.ClientSecretSealed = []byte("sealed rotated client secret")
	a1.Roles = append(a1.Roles, api.ApplicationRole{ID: id("app-1-auditor"), Name: "auditor"})
	a1.JWTConfiguration.Enabled = false
	a1.OAuthConfiguration.EnabledGrants = []string{"refresh_token"}
	a1.Data = map[string]any{"color": "red"}
	withSecret := a1
	withSecret.OAuthConfiguration.ClientSecret = "another plaintext secret"
	mustOK(t, "UpdateApplication", s.UpdateApplication(ctx, withSecret))
	mustEqual(t, "GetApplication after UpdateApplication", a1, mustGetApp(t, s, a1.ID))
	mustEqual(t, "other application after UpdateApplication", a2, mustGetApp(t, s, a2.ID))
	checkErr(t, "UpdateApplication of a missing id", s.UpdateApplication(ctx, appFixture(t1.ID, "app-missing")), storage.ErrNotFound)
	hashOnly := a2
	hashOnly.ClientSecretSealed = nil
	mustOK(t, "UpdateApplication to a hash only", s.UpdateApplication(ctx, hashOnly))
	mustEqual(t, "GetApplication after UpdateApplication to a hash only", hashOnly, mustGetApp(t, s, a2.ID))

	mustOK(t, "DeleteApplication", s.DeleteApplication(ctx, a2.ID))
	_, err = s.GetApplication(ctx, a2.ID)
	checkErr(t, "GetApplication after DeleteApplication", err, storage.ErrNotFound)
	checkErr(t, "DeleteApplication twice", s.DeleteApplication(ctx, a2.ID), storage.ErrNotFound)
	list, err := s.ListApplications(ctx, t1.ID)
	mustOK(t, "ListApplications", err)
	mustEqual(t, "ListApplications after DeleteApplication", []storage.Application{a1}, list)
}

func testUserCRUD(t *testing.T, s storage.Store) {
	ctx := t.Context()
	tn := mustCreateTenant(t, s, "t1")
	other := mustCreateTenant(t, s, "t2")

	u := userFixture(tn.ID, "ana", "ana.lima@example.com")
	u.Username = "ana.lima"
	u.PasswordChangeRequired = true
	u.PasswordChangeReason = "Administrative"
	u.Expiry = at(365 * 24 * time.Hour)
	mustCreateUser(t, s, u)
	mustEqual(t, "GetUser after CreateUser", u, mustGetUser(t, s, u.ID))

	byEmail, err := s.GetUserByEmail(ctx, tn.ID, "Ana.Lima@EXAMPLE.com")
	mustOK(t, "GetUserByEmail in another case", err)
	mustEqual(t, "GetUserByEmail", u, byEmail)
	byName, err := s.GetUserByUsername(ctx, tn.ID, "ANA.Lima")
	mustOK(t, "GetUserByUsername in another case", err)
	mustEqual(t, "GetUserByUsername", u, byName)

	_, err = s.GetUserByEmail(ctx, other.ID, u.Email)
	checkErr(t, "GetUserByEmail in another tenant", err, storage.ErrNotFound)
	_, err = s.GetUserByUsername(ctx, other.ID, u.Username)
	checkErr(t, "GetUserByUsername in another tenant", err, storage.ErrNotFound)
	_, err = s.GetUserByEmail(ctx, tn.ID, "nobody@example.com")
	checkErr(t, "GetUserByEmail of an unknown email", err, storage.ErrNotFound)
	_, err = s.GetUserByUsername(ctx, tn.ID, "nobody")
	checkErr(t, "GetUserByUsername of an unknown username", err, storage.ErrNotFound)
	_, err = s.GetUser(ctx, id("user-missing"))
	checkErr(t, "GetUser of a missing id", err, storage.ErrNotFound)

	// Users with neither email nor username do not collide with each other,
	// and "" finds none of them.
	for _, name := range []string{"anon-1", "anon-2"} {
		anon := userFixture(tn.ID, name, "")
		mustCreateUser(t, s, anon)
		mustEqual(t, "GetUser of a user without email", anon, mustGetUser(t, s, anon.ID))
	}
	_, err = s.GetUserByEmail(ctx, tn.ID, "")
	checkErr(t, `GetUserByEmail("")`, err, storage.ErrNotFound)
	_, err = s.GetUserByUsername(ctx, tn.ID, "")
	checkErr(t, `GetUserByUsername("")`, err, storage.ErrNotFound)

	dup := userFixture(tn.ID, "ana", "someone.else@example.com")
	mustErr(t, "CreateUser with a taken id", s.CreateUser(ctx, dup), storage.ErrConflict)
	mustEqual(t, "user after a refused create", u, mustGetUser(t, s, u.ID))

	oldEmail, oldUsername := u.Email, u.Username
	u.Email = "ana@example.org"
	u.Username = "analima"
	u.Password = storage.PasswordHash{Scheme: "bcrypt", Factor: 12, Salt: "", Hash: "$2a$12$abcdefghijklmnopqrstuv"}
	u.Active = false
	u.Verified = false
	u.PasswordChangeRequired = false
	u.PasswordChangeReason = ""
	u.Expiry = time.Time{}
	u.Profile.FirstName = "Anabela"
	u.Profile.PreferredLanguages = []string{"en"}
	u.Profile.Data = map[string]any{"tier": "silver"}
	u.Updated = at(time.Hour)
	u.LastLogin = at(time.Hour)
	u.PasswordUpdated = at(time.Hour)
	mustOK(t, "UpdateUser", s.UpdateUser(ctx, u))
	mustEqual(t, "GetUser after UpdateUser", u, mustGetUser(t, s, u.ID))
	_, err = s.GetUserByEmail(ctx, tn.ID, oldEmail)
	checkErr(t, "GetUserByEmail of the old email", err, storage.ErrNotFound)
	_, err = s.GetUserByUsername(ctx, tn.ID, oldUsername)
	checkErr(t, "GetUserByUsername of the old username", err, storage.ErrNotFound)
	byEmail, err = s.GetUserByEmail(ctx, tn.ID, "ANA@example.org")
	mustOK(t, "GetUserByEmail of the new email", err)
	mustEqual(t, "GetUserByEmail of the new email", u, byEmail)

	// The old email is free again.
	mustCreateUser(t, s, userFixture(tn.ID, "ana-2", oldEmail))

	checkErr(t, "UpdateUser of a missing id", s.UpdateUser(ctx, userFixture(tn.ID, "user-missing", "m@example.com")), storage.ErrNotFound)
	_, err = s.GetUser(ctx, id("user-missing"))
	checkErr(t, "GetUser after UpdateUser of a missing id", err, storage.ErrNotFound)

	mustOK(t, "DeleteUser", s.DeleteUser(ctx, u.ID))
	_, err = s.GetUser(ctx, u.ID)
	checkErr(t, "GetUser after DeleteUser", err, storage.ErrNotFound)
	_, err = s.GetUserByEmail(ctx, tn.ID, u.Email)
	checkErr(t, "GetUserByEmail after DeleteUser", err, storage.ErrNotFound)
	checkErr(t, "DeleteUser twice", s.DeleteUser(ctx, u.ID), storage.ErrNotFound)
}

func testListUsers(t *testing.T, s storage.Store) {
	ctx := t.Context()
	tn := mustCreateTenant(t, s, "t1")
	other := mustCreateTenant(t, s, "t2")
	empty, err := s.ListUsers(ctx, tn.ID)
	mustOK(t, "ListUsers of a tenant without users", err)
	mustEqual(t, "ListUsers of a tenant without users", 0, len(empty))

	// Ordered by email regardless of case, then by username, then by id;
	// users without an email come last.
	bea := userFixture(tn.ID, "u1", "bea@example.org")
	ana := userFixture(tn.ID, "u2", "Ana@example.org")
	zed := userFixture(tn.ID, "u3", "")
	zed.Username = "zed"
	anon := userFixture(tn.ID, "u4", "")
	carl := userFixture(tn.ID, "u5", "carl@example.org")
	for _, u := range []storage.User{bea, ana, zed, anon, carl} {
		mustCreateUser(t, s, u)
	}
	mustCreateUser(t, s, userFixture(other.ID, "u6", "aaron@example.org"))
	got, err := s.ListUsers(ctx, tn.ID)
	mustOK(t, "ListUsers", err)
	mustEqual(t, "ListUsers", []storage.User{ana, bea, carl, zed, anon}, got)

	mustOK(t, "DeleteUser", s.DeleteUser(ctx, bea.ID))
	got, err = s.ListUsers(ctx, tn.ID)
	mustOK(t, "ListUsers after DeleteUser", err)
	mustEqual(t, "ListUsers after DeleteUser", []storage.User{ana, carl, zed, anon}, got)
}

func testUserEmailUniqueFolded(t *testing.T, s storage.Store) {
	ctx := t.Context()
	t1 := mustCreateTenant(t, s, "t1")
	t2 := mustCreateTenant(t, s, "t2")

	mustCreateUser(t, s, userFixture(t1.ID, "ana-1", "Ana@X.org"))
	mustErr(t, "CreateUser with the same email in another case", s.CreateUser(ctx, userFixture(t1.ID, "ana-2", "ana@x.org")), storage.ErrConflict)
	mustErr(t, "CreateUser with the same email in upper case", s.CreateUser(ctx, userFixture(t1.ID, "ana-3", "ANA@X.ORG")), storage.ErrConflict)
	mustCreateUser(t, s, userFixture(t2.ID, "ana-4", "ana@x.org")) // another tenant
	got, err := s.GetUserByEmail(ctx, t1.ID, "aNa@x.OrG")
	mustOK(t, "GetUserByEmail", err)
	if got.ID != id("ana-1") {
		t.Errorf("GetUserByEmail in tenant 1 = user %s, want %s", got.ID, id("ana-1"))
	}
	got, err = s.GetUserByEmail(ctx, t2.ID, "ANA@X.ORG")
	mustOK(t, "GetUserByEmail", err)
	if got.ID != id("ana-4") {
		t.Errorf("GetUserByEmail in tenant 2 = user %s, want %s", got.ID, id("ana-4"))
	}

	// Beyond ASCII: SQL's lower() is ASCII-only in SQLite and locale-bound in
	// others; the contract is case-insensitive all the same.
	mustCreateUser(t, s, userFixture(t1.ID, "emile-1", "Émile@Exemple.fr"))
	mustErr(t, "CreateUser with the same non-ASCII email in another case",
		s.CreateUser(ctx, userFixture(t1.ID, "emile-2", "émile@exemple.fr")), storage.ErrConflict)
	got, err = s.GetUserByEmail(ctx, t1.ID, "ÉMILE@EXEMPLE.FR")
	mustOK(t, "GetUserByEmail of a non-ASCII email in another case", err)
	if got.ID != id("emile-1") {
		t.Errorf("GetUserByEmail = user %s, want %s", got.ID, id("emile-1"))
	}

	// Usernames likewise.
	bob := userFixture(t1.ID, "bob-1", "")
	bob.Username = "Bob"
	mustCreateUser(t, s, bob)
	bob2 := userFixture(t1.ID, "bob-2", "")
	bob2.Username = "BOB"
	mustErr(t, "CreateUser with the same username in another case", s.CreateUser(ctx, bob2), storage.ErrConflict)
	bob3 := userFixture(t2.ID, "bob-3", "")
	bob3.Username = "bob"
	mustCreateUser(t, s, bob3)
	got, err = s.GetUserByUsername(ctx, t1.ID, "bOB")
	mustOK(t, "GetUserByUsername", err)
	if got.ID != bob.ID {
		t.Errorf("GetUserByUsername = user %s, want %s", got.ID, bob.ID)
	}

	// Updates are held to the same rule, but a user may change the case of
	// its own email.
	carl := mustCreateUser(t, s, userFixture(t1.ID, "carl", "carl@x.org"))
	taken := carl
	taken.Email = "ANA@x.org"
	mustErr(t, "UpdateUser to a taken email", s.UpdateUser(ctx, taken), storage.ErrConflict)
	mustEqual(t, "user after a refused update", carl, mustGetUser(t, s, carl.ID))
	taken = carl
	taken.Username = "bob"
	mustErr(t, "UpdateUser to a taken username", s.UpdateUser(ctx, taken), storage.ErrConflict)
	mustEqual(t, "user after a refused update", carl, mustGetUser(t, s, carl.ID))
	recased := carl
	recased.Email = "Carl@X.org"
	mustOK(t, "UpdateUser changing the case of its own email", s.UpdateUser(ctx, recased))
	moved := carl
	moved.Email = "carl@y.org"
	mustOK(t, "UpdateUser to a free email", s.UpdateUser(ctx, moved))
	mustCreateUser(t, s, userFixture(t1.ID, "carl-2", "CARL@x.org")) // freed by the update
}

func testRegistrationCRUD(t *testing.T, s storage.Store) {
	ctx := t.Context()
	w := mustWorld(t, s, "w")
	app2 := mustCreateApp(t, s, w.tenant.ID, "w-app-2")
	other := mustCreateUser(t, s, userFixture(w.tenant.ID, "w-other", "other@example.com"))

	r1 := mustCreateRegistration(t, s, regFixture(w.user, w.app.ID, "reg-1", t0))
	got, err := s.GetRegistration(ctx, w.user.ID, w.app.ID)
	mustOK(t, "GetRegistration", err)
	mustEqual(t, "GetRegistration after CreateRegistration", r1, got)

	mustErr(t, "CreateRegistration for a registered user and application",
		s.CreateRegistration(ctx, regFixture(w.user, w.app.ID, "reg-dup", at(time.Second))), storage.ErrConflict)
	mustErr(t, "CreateRegistration with a taken id",
		s.CreateRegistration(ctx, regFixture(other, app2.ID, "reg-1", at(time.Second))), storage.ErrConflict)
	_, err = s.GetRegistration(ctx, other.ID, app2.ID)
	checkErr(t, "GetRegistration after a refused create", err, storage.ErrNotFound)
	_, err = s.GetRegistration(ctx, other.ID, w.app.ID)
	checkErr(t, "GetRegistration of an unregistered user", err, storage.ErrNotFound)

	r2 := mustCreateRegistration(t, s, regFixture(w.user, app2.ID, "reg-2", at(time.Minute)))
	r3 := mustCreateRegistration(t, s, regFixture(other, w.app.ID, "reg-3", at(2*time.Minute)))
	list, err := s.ListRegistrations(ctx, w.user.ID)
	mustOK(t, "ListRegistrations", err)
	mustEqual(t, "ListRegistrations, oldest first", []storage.Registration{r1, r2}, list)
	list, err = s.ListRegistrations(ctx, id("user-missing"))
	mustOK(t, "ListRegistrations of a missing user", err)
	mustEqual(t, "ListRegistrations of a missing user", nil, list)

	r1.Roles = []string{"user"}
	r1.Username = "renamed"
	r1.Verified = false
	r1.Data = map[string]any{"favorite": "coffee"}
	r1.Updated = at(time.Hour)
	r1.LastLogin = at(2 * time.Hour)
	mustOK(t, "UpdateRegistration", s.UpdateRegistration(ctx, r1))
	got, err = s.GetRegistration(ctx, w.user.ID, w.app.ID)
	mustOK(t, "GetRegistration", err)
	mustEqual(t, "GetRegistration after UpdateRegistration", r1, got)
	got, err = s.GetRegistration(ctx, other.ID, w.app.ID)
	mustOK(t, "GetRegistration", err)
	mustEqual(t, "other registration after UpdateRegistration", r3, got)
	checkErr(t, "UpdateRegistration of a missing registration",
		s.UpdateRegistration(ctx, regFixture(other, app2.ID, "reg-missing", t0)), storage.ErrNotFound)
	_, err = s.GetRegistration(ctx, other.ID, app2.ID)
	checkErr(t, "GetRegistration after UpdateRegistration of a missing one", err, storage.ErrNotFound)

	mustOK(t, "DeleteRegistration", s.DeleteRegistration(ctx, w.user.ID, w.app.ID))
	_, err = s.GetRegistration(ctx, w.user.ID, w.app.ID)
	checkErr(t, "GetRegistration after DeleteRegistration", err, storage.ErrNotFound)
	checkErr(t, "DeleteRegistration twice", s.DeleteRegistration(ctx, w.user.ID, w.app.ID), storage.ErrNotFound)
	list, err = s.ListRegistrations(ctx, w.user.ID)
	mustOK(t, "ListRegistrations", err)
	mustEqual(t, "ListRegistrations after DeleteRegistration", []storage.Registration{r2}, list)
	// The pair is free again.
	mustCreateRegistration(t, s, regFixture(w.user, w.app.ID, "reg-4", at(3*time.Minute)))
}

func testRenameRole(t *testing.T, s storage.Store) {
	ctx := t.Context()
	w := mustWorld(t, s, "w")
	app2 := mustCreateApp(t, s, w.tenant.ID, "w-app-2")
	u2 := mustCreateUser(t, s, userFixture(w.tenant.ID, "w-u2", "u2@example.com"))
	u3 := mustCreateUser(t, s, userFixture(w.tenant.ID, "w-u3", "u3@example.com"))

	r1 := regFixture(w.user, w.app.ID, "r1", t0) // admin, user
	r2 := regFixture(u2, w.app.ID, "r2", at(time.Second))
	r2.Roles = []string{"user"}
	r3 := regFixture(u3, w.app.ID, "r3", at(2*time.Second))
	r3.Roles = nil
	other := regFixture(w.user, app2.ID, "other", at(3*time.Second)) // admin, user, of another application
	for _, r := range []storage.Registration{r1, r2, r3, other} {
		mustCreateRegistration(t, s, r)
	}
	check := func(what string, want ...storage.Registration) {
		t.Helper()
		for _, r := range want {
			got, err := s.GetRegistration(ctx, r.UserID, r.ApplicationID)
			mustOK(t, "GetRegistration", err)
			mustEqual(t, what+": registration "+r.ID, r, got)
		}
	}

	// A rename keeps the roles sorted; registrations without the role and
	// those of other applications stay as they are.
	mustOK(t, "RenameRole admin to zz-admin", s.RenameRole(ctx, w.app.ID, "admin", "zz-admin"))
	r1.Roles = []string{"user", "zz-admin"}
	check("after a rename", r1, r2, r3, other)

	// A rename to a role a registration holds already leaves it once.
	mustOK(t, "RenameRole user to zz-admin", s.RenameRole(ctx, w.app.ID, "user", "zz-admin"))
	r1.Roles, r2.Roles = []string{"zz-admin"}, []string{"zz-admin"}
	check("after a rename onto a held role", r1, r2, r3, other)

	// "" removes the role.
	mustOK(t, "RenameRole zz-admin to nothing", s.RenameRole(ctx, w.app.ID, "zz-admin", ""))
	r1.Roles, r2.Roles = nil, nil
	check("after a removal", r1, r2, r3, other)

	// Nothing to rename: no error, no change.
	mustOK(t, "RenameRole of a role no one holds", s.RenameRole(ctx, w.app.ID, "nobody", "somebody"))
	mustOK(t, "RenameRole for a missing application", s.RenameRole(ctx, id("app-missing"), "admin", ""))
	check("after renames that match nothing", r1, r2, r3, other)

	// In a transaction that rolls back, nothing stays.
	errRollback := errors.New("roll back")
	err := s.Tx(ctx, func(tx storage.Store) error {
		if err := tx.RenameRole(ctx, app2.ID, "admin", "boss"); err != nil {
			return err
		}
		return errRollback
	})
	if !errors.Is(err, errRollback) {
		t.Fatalf("Tx: %v", err)
	}
	check("after a rolled-back rename", other)
}

func testDeleteUserCascades(t *testing.T, s storage.Store) {
	ctx := t.Context()
	w := mustWorld(t, s, "w")
	keep := mustCreateUser(t, s, userFixture(w.tenant.ID, "keep", "keep@example.com"))
	for _, u := range []storage.User{w.user, keep} {
		mustCreateRegistration(t, s, regFixture(u, w.app.ID, u.ID+"-reg", t0))
		x := mustCreateSession(t, s, sessionFixture(u, w.app.ID, u.ID+"-s", t0))
		mustOK(t, "RotateSession", s.RotateSession(ctx, x.ID, x.TokenHash, rotation(u.ID+"-s", 1, at(time.Minute))))
		mustOK(t, "RotateSession", s.RotateSession(ctx, x.ID, sum(u.ID+"-s/1"), rotation(u.ID+"-s", 2, at(2*time.Minute))))
		mustCreateSession(t, s, sessionFixture(u, "", u.ID+"-noapp", at(time.Second)))
	}

	mustOK(t, "DeleteUser", s.DeleteUser(ctx, w.user.ID))

	u := w.user.ID
	_, err := s.GetRegistration(ctx, u, w.app.ID)
	checkErr(t, "GetRegistration of a deleted user", err, storage.ErrNotFound)
	list, err := s.ListRegistrations(ctx, u)
	mustOK(t, "ListRegistrations", err)
	mustEqual(t, "ListRegistrations of a deleted user", nil, list)
	for _, name := range []string{u + "-s", u + "-noapp"} {
		_, err = s.GetSession(ctx, id(name))
		checkErr(t, "GetSession of a deleted user's session", err, storage.ErrNotFound)
	}
	for n := range 3 {
		mustNotFind(t, s, "FindSession of a deleted user's token", sum(fmt.Sprintf("%s-s/%d", u, n)))
	}
	mustNotFind(t, s, "FindSession of a deleted user's token", sum(u+"-noapp/0"))
	mustEqual(t, "ListSessions of a deleted user", nil, sessionIDs(mustListSessions(t, s, storage.SessionFilter{UserID: u})))

	k := keep.ID
	if _, err := s.GetRegistration(ctx, k, w.app.ID); err != nil {
		t.Errorf("GetRegistration of the other user: %v", err)
	}
	mustEqual(t, "ListSessions of the other user", []string{id(k + "-s"), id(k + "-noapp")},
		sessionIDs(mustListSessions(t, s, storage.SessionFilter{UserID: k})))
	mustFind(t, s, sum(k+"-s/2"), storage.MatchCurrent)
	mustFind(t, s, sum(k+"-s/1"), storage.MatchPrevious)
	mustFind(t, s, sum(k+"-s/0"), storage.MatchFormer)
}

func testDeleteApplicationCascades(t *testing.T, s storage.Store) {
	ctx := t.Context()
	w := mustWorld(t, s, "w")
	keep := mustCreateApp(t, s, w.tenant.ID, "keep-app")
	mustCreateRegistration(t, s, regFixture(w.user, w.app.ID, "reg-doomed", t0))
	keptReg := mustCreateRegistration(t, s, regFixture(w.user, keep.ID, "reg-kept", at(time.Second)))
	doomed := mustCreateSession(t, s, sessionFixture(w.user, w.app.ID, "s-doomed", t0))
	mustOK(t, "RotateSession", s.RotateSession(ctx, doomed.ID, doomed.TokenHash, rotation("s-doomed", 1, at(time.Minute))))
	kept := mustCreateSession(t, s, sessionFixture(w.user, keep.ID, "s-kept", at(time.Second)))
	noApp := mustCreateSession(t, s, sessionFixture(w.user, "", "s-noapp", at(2*time.Second)))

	mustOK(t, "DeleteApplication", s.DeleteApplication(ctx, w.app.ID))

	_, err := s.GetRegistration(ctx, w.user.ID, w.app.ID)
	checkErr(t, "GetRegistration for a deleted application", err, storage.ErrNotFound)
	_, err = s.GetSession(ctx, doomed.ID)
	checkErr(t, "GetSession of a deleted application's session", err, storage.ErrNotFound)
	mustNotFind(t, s, "FindSession current value of a deleted application's session", sum("s-doomed/1"))
	mustNotFind(t, s, "FindSession previous value of a deleted application's session", sum("s-doomed/0"))

	mustEqual(t, "the user survives", w.user, mustGetUser(t, s, w.user.ID))
	list, err := s.ListRegistrations(ctx, w.user.ID)
	mustOK(t, "ListRegistrations", err)
	mustEqual(t, "registrations for other applications survive", []storage.Registration{keptReg}, list)
	mustEqual(t, "sessions of other applications survive", []storage.Session{kept, noApp},
		mustListSessions(t, s, storage.SessionFilter{UserID: w.user.ID}))
}
