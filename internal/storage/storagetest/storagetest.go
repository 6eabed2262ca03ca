// Package storagetest is the conformance suite that every storage.Store
// backend passes, in the manner of dex's storage/conformance. A backend's
// own test wires it up:
//
//	func TestConformance(t *testing.T) {
//		storagetest.Run(t, func(t *testing.T) storage.Store { ... })
//	}
//
// Run checks every method and every error the contract documents, each
// subtest on a fresh, empty store; RunConcurrency checks the guarantees that
// only show under real goroutines. Records are compared whole with go-cmp,
// so a field a backend forgets to store or read back fails the suite.
//
// What the suite pins beyond the method comments of storage.Store (so that
// all backends agree):
//   - ErrNotFound for a missing record from every Get, Find, Update and
//     Delete method, per the package convention, also where the method
//     comment does not repeat it; every sentinel comes wrapped with context.
//   - RotateSession of an id that does not exist is ErrNotFound.
//   - UpdateKey leaves the fields other than name, retirement and expiry
//     alone; UpdateRegistration keeps the registration's id.
//   - Application.OAuthConfiguration.ClientSecret is never stored, neither
//     by CreateApplication nor by UpdateApplication; ClientSecretHash and
//     ClientSecretSealed are, byte for byte, each nil when it is.
//   - "Oldest first" is creation order for tenants and applications, and
//     Inserted order for the others.
//   - GarbageCollect deletes a login-failure record when both its last
//     failure and its lock (if any) are before the given time.
//   - Times come back in UTC, truncated (not rounded) to the microsecond.
//   - Tx isolates read-modify-write: concurrent transfers lose no update.
//     A backend may refuse a conflicting transaction, with ErrStale only.
//   - Revocation, rotation and touching a session keep every other field.
//   - An event's payload comes back byte for byte; Delivery ids are
//     assigned by the store and differ across deliveries.
//   - SearchEvents orders ids and types byte for byte, and breaks ties of
//     Created by id. GarbageCollect keeps an event whose KeepUntil is
//     exactly the given time.
//   - A DPoP proof record expires at its expiry instant: UseDPoPProof at
//     that instant is fresh. GarbageCollect keeps a record that expires
//     exactly at the given time. Keys are compared byte for byte.
//   - A call whose context's deadline has passed, of any method, is
//     ErrUnavailable and writes nothing; so is a transaction whose deadline
//     passes before it commits, and it rolls back. (Outages themselves are
//     each backend's to test: a frozen or closed server, a full disk.)
//
// It leaves open what the contract leaves open: the case in which a
// mixed-case email comes back, whether ListSessions with an empty filter
// lists everything, whether a failed nested Tx rolls back its own writes
// when the outer function goes on.
package storagetest

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/latchid/latch/api"
	"github.com/latchid/latch/internal/storage"
)

// Run runs the conformance suite; open returns an empty store and registers
// its own cleanup. Every subtest opens its own store.
func Run(t *testing.T, open func(t *testing.T) storage.Store) {
	for _, c := range []struct {
		name string
		fn   func(*testing.T, storage.Store)
	}{
		{"TenantCRUD", testTenantCRUD},
		{"DeleteTenantCascades", testDeleteTenantCascades},
		{"ApplicationCRUD", testApplicationCRUD},
		{"UserCRUD", testUserCRUD},
		{"UserEmailUniqueFolded", testUserEmailUniqueFolded},
		{"ListUsers", testListUsers},
		{"RegistrationCRUD", testRegistrationCRUD},
		{"RenameRole", testRenameRole},
		{"DeleteUserCascades", testDeleteUserCascades},
		{"DeleteApplicationCascades", testDeleteApplicationCascades},
		{"SessionCreateFind", testSessionCreateFind},
		{"SessionRotate", testSessionRotate},
		{"SessionOwner", testSessionOwner},
		{"SessionTouch", testSessionTouch},
		{"SessionRevokeFilters", testSessionRevokeFilters},
		{"SigningKeys", testSigningKeys},
		{"APIKeys", testAPIKeys},
		{"LoginAttempts", testLoginAttempts},
		{"CollectLoginAttempts", testCollectLoginAttempts},
		{"Meta", testMeta},
		{"GarbageCollect", testGarbageCollect},
		{"WebhookCRUD", testWebhookCRUD},
		{"OutboxEnqueue", testOutboxEnqueue},
		{"OutboxClaim", testOutboxClaim},
		{"OutboxGarbageCollect", testOutboxGarbageCollect},
		{"EventSearch", testEventSearch},
		{"EventKeepUntil", testEventKeepUntil},
		{"DPoPProofs", testDPoPProofs},
		{"DPoPProofsGarbageCollect", testDPoPProofsGarbageCollect},
		{"AuthorizationCodes", testAuthorizationCodes},
		{"SSOSessions", testSSOSessions},
		{"TwoFactorMethods", testTwoFactorMethods}, {"RecoveryCodes", testRecoveryCodes},
		{"TwoFactorCodes", testTwoFactorCodes}, {"TwoFactorLogins", testTwoFactorLogins},
		{"TwoFactorDeadline", testTwoFactorDeadline},
		{"Timezones", testTimezones},
		{"TxCommitRollback", testTxCommitRollback},
		{"Errors", testErrors},
		{"PingClose", testPingClose},
		{"ProbeWrite", testProbeWrite},
		{"Deadline", testDeadline},
	} {
		t.Run(c.name, func(t *testing.T) { c.fn(t, open(t)) })
	}
}

// t0 is the suite's reference instant, already whole microseconds.
var t0 = time.Date(2025, time.March, 14, 15, 9, 26, 535897000, time.UTC)

// at is t0 plus d.
func at(d time.Duration) time.Time { return t0.Add(d) }

// id is a deterministic UUID-shaped id for name, so that backends with uuid
// columns accept it.
func id(name string) string {
	h := sha256.Sum256([]byte("id:" + name))
	h[6] = h[6]&0x0f | 0x40
	h[8] = h[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", h[0:4], h[4:6], h[6:8], h[8:10], h[10:16])
}

// sum is the SHA-256 of s, as refresh-token and API-key hashes are.
func sum(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}

// opts are the comparison options: nil and empty slices and maps are equal
// (JSON and SQL NULL cannot tell them apart); times compare as instants
// (time.Time's Equal method).
var opts = []cmp.Option{cmpopts.EquateEmpty()}

// mustEqual fails t when got differs from want.
func mustEqual[T any](t *testing.T, what string, want, got T) {
	t.Helper()
	if d := cmp.Diff(want, got, opts...); d != "" {
		t.Errorf("%s: mismatch (-want +got):\n%s", what, d)
	}
}

// sentinels are the storage errors.
var sentinels = []error{storage.ErrNotFound, storage.ErrConflict, storage.ErrStale, storage.ErrUnavailable}

// checkErr reports whether err is want, wrapped with context and not also
// another of the storage sentinels; it marks t failed otherwise.
func checkErr(t *testing.T, what string, err, want error) bool {
	t.Helper()
	if !errors.Is(err, want) {
		t.Errorf("%s: err = %v, want %v", what, err, want)
		return false
	}
	ok := true
	if err == want {
		t.Errorf("%s: err is the bare %q; want it wrapped with context", what, err)
		ok = false
	}
	for _, other := range sentinels {
		if other != want && errors.Is(err, other) {
			t.Errorf("%s: err = %v is both %q and %q", what, err, want, other)
			ok = false
		}
	}
	return ok
}

// mustErr is checkErr that stops the test.
func mustErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if !checkErr(t, what, err, want) {
		t.FailNow()
	}
}

// mustOK stops the test on an error.
func mustOK(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// Fixtures: complete records, every field set, so that a lost field shows.

// tenantFixture is a tenant named name.
func tenantFixture(name string) api.Tenant {
	return api.Tenant{
		ID:     id(name),
		Name:   "Tenant " + name,
		Issuer: "https://" + name + ".example.com",
		JWTConfiguration: api.JWTConfiguration{
			Enabled:                         true,
			TimeToLiveInSeconds:             3600,
			RefreshTokenTimeToLiveInMinutes: 43200,
			RefreshTokenUsagePolicy:         api.RefreshOneTimeUse,
			RefreshTokenExpirationPolicy:    api.ExpirationSlidingWindowMaximum,
			RefreshTokenSlidingWindowConfiguration: api.SlidingWindowConfiguration{
				MaximumTimeToLiveInMinutes: 86400,
			},
			RefreshTokenOneTimeUseConfiguration: api.OneTimeUseConfiguration{GracePeriodInSeconds: 30},
			RefreshTokenRevocationPolicy: api.RevocationPolicy{
				OnLoginPrevented: true, OnPasswordChanged: true, OnOneTimeTokenReuse: true,
			},
			AccessTokenKeyID: id("access-key-" + name),
			IDTokenKeyID:     id("id-key-" + name),
		},
		LoginConfiguration: api.TenantLoginConfiguration{RequireAuthentication: true},
		FailedAuthenticationConfiguration: api.FailedAuthenticationConfiguration{
			TooManyAttempts: 5, ResetCountInSeconds: 60, ActionDuration: 3, ActionDurationUnit: "MINUTES",
			UserActionID: id("action-" + name),
		},
		PasswordValidationRules: api.PasswordValidationRules{MinLength: 8, MaxLength: 256},
		EventConfiguration: api.EventConfiguration{Events: map[string]api.EventConfigurationData{
			api.EventJWTRefreshTokenRevoke: {Enabled: true, TransactionType: api.TransactionNone},
			api.EventUserLoginFailed:       {Enabled: false, TransactionType: api.TransactionAny},
		}},
		Data: map[string]any{
			"plan":   "pro",
			"seats":  float64(42),
			"nested": map[string]any{"on": true, "list": []any{"x", float64(1)}},
		},
		InsertInstant:     t0.UnixMilli(),
		LastUpdateInstant: at(time.Hour).UnixMilli(),
	}
}

// appFixture is an application named name of the tenant.
func appFixture(tenantID, name string) storage.Application {
	return storage.Application{
		Application: api.Application{
			ID:       id(name),
			TenantID: tenantID,
			Name:     "App " + name,
			Active:   true,
			State:    "Active",
			Roles: []api.ApplicationRole{
				{ID: id(name + "-admin"), Name: "admin", Description: "Administrators", IsSuperRole: true,
					InsertInstant: t0.UnixMilli()},
				{ID: id(name + "-user"), Name: "user", IsDefault: true},
			},
			JWTConfiguration: api.JWTConfiguration{
				Enabled:                      true,
				TimeToLiveInSeconds:          600,
				RefreshTokenUsagePolicy:      api.RefreshReusable,
				RefreshTokenExpirationPolicy: api.ExpirationFixed,
				RefreshTokenRevocationPolicy: api.RevocationPolicy{OnPasswordChanged: true},
			},
			LoginConfiguration: api.LoginConfiguration{
				AllowTokenRefresh: true, GenerateRefreshTokens: true, RequireAuthentication: true,
			},
			OAuthConfiguration: api.OAuthConfiguration{
				ClientID:                    id(name),
				ClientAuthenticationPolicy:  api.ClientAuthRequired,
				RequireClientAuthentication: true,
				EnabledGrants:               []string{"authorization_code", "refresh_token"},
				GenerateRefreshTokens:       true,
			},
			Data:              map[string]any{"color": "blue", "weight": 1.5},
			InsertInstant:     t0.UnixMilli(),
			LastUpdateInstant: at(time.Minute).UnixMilli(),
		},
		ClientSecretHash:   sum("client-secret-" + name),
		ClientSecretSealed: []byte("sealed client secret of " + name),
	}
}

// userFixture is a user named name of the tenant with the given email (and
// no username).
func userFixture(tenantID, name, email string) storage.User {
	return storage.User{
		ID:       id(name),
		TenantID: tenantID,
		Email:    email,
		Password: storage.PasswordHash{
			Scheme: "salted-pbkdf2-hmac-sha256", Factor: 24000,
			Salt: "c2FsdC0" + name, Hash: "aGFzaC0" + name,
		},
		Active:   true,
		Verified: true,
		Profile: api.UserProfile{
			FirstName:          "Ana",
			LastName:           "Lima",
			FullName:           "Ana Lima",
			BirthDate:          "1990-05-17",
			MobilePhone:        "+351 912 345 678",
			PreferredLanguages: []string{"pt", "en"},
			Timezone:           "Europe/Lisbon",
			Data:               map[string]any{"tier": "gold", "visits": float64(7)},
		},
		Inserted:        t0,
		Updated:         at(time.Minute),
		LastLogin:       at(2 * time.Minute),
		PasswordUpdated: t0,
	}
}

// regFixture is a registration of u to the application.
func regFixture(u storage.User, applicationID, name string, inserted time.Time) storage.Registration {
	return storage.Registration{
		ID:            id(name),
		UserID:        u.ID,
		ApplicationID: applicationID,
		TenantID:      u.TenantID,
		Roles:         []string{"admin", "user"},
		Username:      "reg-" + name,
		Verified:      true,
		Data:          map[string]any{"favorite": "tea", "n": float64(3)},
		Inserted:      inserted,
		Updated:       inserted.Add(time.Second),
		LastLogin:     inserted.Add(time.Hour),
	}
}

// sessionFixture is a session of u to the application ("" for none), whose
// current token hash is sum(name+"/0").
func sessionFixture(u storage.User, applicationID, name string, inserted time.Time) storage.Session {
	return storage.Session{
		ID:                 id(name),
		TenantID:           u.TenantID,
		UserID:             u.ID,
		ApplicationID:      applicationID,
		TokenHash:          sum(name + "/0"),
		Inserted:           inserted,
		StartInstant:       inserted,
		ExpiresAt:          inserted.Add(30 * 24 * time.Hour),
		AuthTime:           inserted.Add(-time.Second),
		AuthenticationType: api.AuthPassword,
		Scopes:             []string{"openid", "offline_access"},
		Device: api.DeviceInfo{
			Description: "Ana's phone", Name: "Pixel", Type: "MOBILE",
			LastAccessedAddress: "203.0.113.7", LastAccessedInstant: inserted.UnixMilli(),
		},
		LastUsed: inserted,
		DPoPJKT:  "jkt-" + name,
	}
}

// rotation is the n-th rotation of the session named name, at the given time.
func rotation(name string, n int, when time.Time) storage.Rotation {
	return storage.Rotation{
		TokenHash:       sum(fmt.Sprintf("%s/%d", name, n)),
		SealedSuccessor: []byte(fmt.Sprintf("sealed %s/%d", name, n)),
		RotatedAt:       when,
		StartInstant:    when,
		ExpiresAt:       when.Add(30 * 24 * time.Hour),
		LastUsed:        when,
		Device: api.DeviceInfo{
			Name: "Pixel", Type: "MOBILE",
			LastAccessedAddress: fmt.Sprintf("198.51.100.%d", n), LastAccessedInstant: when.UnixMilli(),
		},
	}
}

// rotated is what s becomes after r.
func rotated(s storage.Session, r storage.Rotation) storage.Session {
	s.PreviousHash = s.TokenHash
	s.TokenHash = r.TokenHash
	s.SealedSuccessor = r.SealedSuccessor
	s.RotatedAt = r.RotatedAt
	s.StartInstant = r.StartInstant
	s.ExpiresAt = r.ExpiresAt
	s.LastUsed = r.LastUsed
	s.Device = r.Device
	s.Generation++
	return s
}

// revoked is s revoked at when for reason.
func revoked(s storage.Session, when time.Time, reason string) storage.Session {
	s.RevokedAt = when
	s.RevokeReason = reason
	return s
}

// keyFixture is a signing key named name.
func keyFixture(name string, inserted time.Time) storage.SigningKey {
	return storage.SigningKey{
		ID:        id(name),
		Kid:       "kid-" + name,
		Algorithm: "RS256",
		Name:      "Key " + name,
		Private:   []byte("sealed private key " + name),
		PublicPEM: "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQ" + name + "\n-----END PUBLIC KEY-----\n",
		Inserted:  inserted,
	}
}

// apiKeyFixture is an API key named name of the tenant ("" for all).
func apiKeyFixture(tenantID, name string, inserted time.Time) storage.APIKey {
	return storage.APIKey{
		ID:          id(name),
		Hash:        sum("api-key-secret-" + name),
		TenantID:    tenantID,
		Description: "API key " + name,
		Endpoints:   map[string][]string{"/api/user": {"GET", "POST"}, "/api/jwt/refresh": {"DELETE"}},
		Inserted:    inserted,
	}
}

// Helpers that create and read, stopping the test on an error.

func mustCreateTenant(t *testing.T, s storage.Store, name string) api.Tenant {
	t.Helper()
	x := tenantFixture(name)
	mustOK(t, "CreateTenant "+name, s.CreateTenant(t.Context(), x))
	return x
}

func mustCreateApp(t *testing.T, s storage.Store, tenantID, name string) storage.Application {
	t.Helper()
	a := appFixture(tenantID, name)
	mustOK(t, "CreateApplication "+name, s.CreateApplication(t.Context(), a))
	return a
}

func mustCreateUser(t *testing.T, s storage.Store, u storage.User) storage.User {
	t.Helper()
	mustOK(t, "CreateUser "+u.ID, s.CreateUser(t.Context(), u))
	return u
}

func mustCreateRegistration(t *testing.T, s storage.Store, g storage.Registration) storage.Registration {
	t.Helper()
	mustOK(t, "CreateRegistration "+g.ID, s.CreateRegistration(t.Context(), g))
	return g
}

func mustCreateSession(t *testing.T, s storage.Store, x storage.Session) storage.Session {
	t.Helper()
	mustOK(t, "CreateSession "+x.ID, s.CreateSession(t.Context(), x))
	return x
}

func mustGetTenant(t *testing.T, s storage.Store, tenantID string) api.Tenant {
	t.Helper()
	x, err := s.GetTenant(t.Context(), tenantID)
	mustOK(t, "GetTenant "+tenantID, err)
	return x
}

func mustGetApp(t *testing.T, s storage.Store, appID string) storage.Application {
	t.Helper()
	a, err := s.GetApplication(t.Context(), appID)
	mustOK(t, "GetApplication "+appID, err)
	return a
}

func mustGetUser(t *testing.T, s storage.Store, userID string) storage.User {
	t.Helper()
	u, err := s.GetUser(t.Context(), userID)
	mustOK(t, "GetUser "+userID, err)
	return u
}

func mustGetSession(t *testing.T, s storage.Store, sessionID string) storage.Session {
	t.Helper()
	x, err := s.GetSession(t.Context(), sessionID)
	mustOK(t, "GetSession "+sessionID, err)
	return x
}

// mustFind finds a session by token hash and checks how it matched.
func mustFind(t *testing.T, s storage.Store, tokenHash []byte, want storage.Match) storage.Session {
	t.Helper()
	x, m, err := s.FindSession(t.Context(), tokenHash)
	mustOK(t, fmt.Sprintf("FindSession %x", tokenHash[:4]), err)
	if m != want {
		t.Errorf("FindSession %x: match = %v, want %v", tokenHash[:4], m, want)
	}
	mustFindOwner(t, s, tokenHash, x, m)
	return x
}

// mustFindOwner checks that FindSessionOwner of tokenHash finds sess as
// match, with what GetUser and GetRegistration say of its user and of
// its registration for its application.
func mustFindOwner(t *testing.T, s storage.Store, tokenHash []byte, sess storage.Session, match storage.Match) storage.SessionOwner {
	t.Helper()
	ctx := t.Context()
	what := fmt.Sprintf("FindSessionOwner %x", tokenHash[:4])
	o, m, err := s.FindSessionOwner(ctx, tokenHash)
	mustOK(t, what, err)
	if m != match {
		t.Errorf("%s: match = %v, want %v", what, m, match)
	}
	mustEqual(t, what+": session", sess, o.Session)
	u, err := s.GetUser(ctx, sess.UserID)
	mustOK(t, what+": GetUser", err)
	mustEqual(t, what+": user", u, o.User)
	var g storage.Registration
	registered := false
	if sess.ApplicationID != "" {
		g, err = s.GetRegistration(ctx, sess.UserID, sess.ApplicationID)
		if registered = err == nil; !registered {
			checkErr(t, what+": GetRegistration", err, storage.ErrNotFound)
		}
	}
	if o.Registered != registered {
		t.Errorf("%s: Registered = %v, want %v", what, o.Registered, registered)
	}
	mustEqual(t, what+": registration", g, o.Registration)
	return o
}

// mustNotFind checks that no session has tokenHash, in any role.
func mustNotFind(t *testing.T, s storage.Store, what string, tokenHash []byte) {
	t.Helper()
	_, _, err := s.FindSession(t.Context(), tokenHash)
	checkErr(t, what, err, storage.ErrNotFound)
	_, _, err = s.FindSessionOwner(t.Context(), tokenHash)
	checkErr(t, what+" (FindSessionOwner)", err, storage.ErrNotFound)
}

func mustListSessions(t *testing.T, s storage.Store, f storage.SessionFilter) []storage.Session {
	t.Helper()
	xs, err := s.ListSessions(t.Context(), f)
	mustOK(t, fmt.Sprintf("ListSessions %+v", f), err)
	return xs
}

// sessionIDs are the ids of xs, in order.
func sessionIDs(xs []storage.Session) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = x.ID
	}
	return out
}

// world is a tenant with an application and a user, the base of most tests.
type world struct {
	tenant api.Tenant
	app    storage.Application
	user   storage.User
}

// mustWorld creates a world named name.
func mustWorld(t *testing.T, s storage.Store, name string) world {
	t.Helper()
	tn := mustCreateTenant(t, s, name+"-tenant")
	return world{
		tenant: tn,
		app:    mustCreateApp(t, s, tn.ID, name+"-app"),
		user:   mustCreateUser(t, s, userFixture(tn.ID, name+"-user", name+"@example.com")),
	}
}

// withTimeout is a context for a step that must not hang.
func withTimeout(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), d)
	t.Cleanup(cancel)
	return ctx
}
