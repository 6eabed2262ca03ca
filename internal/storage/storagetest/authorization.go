package storagetest

import (
	"testing"
	"time"

	"github.com/latchid/latch/internal/storage"
)

// codeFixture is an authorization code of u for appID, made at t0 and
// living a minute.
func codeFixture(u storage.User, appID, name string) storage.AuthorizationCode {
	return storage.AuthorizationCode{
		Hash: sum("code:" + name), TenantID: u.TenantID, ApplicationID: appID, UserID: u.ID,
		RedirectURI: "https://app.example/cb", CodeChallenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
		Nonce: "n-" + name, Scopes: []string{"openid", "offline_access"}, DPoPJKT: "jkt-" + name,
		SSOSessionID: id("sso:" + name), AuthTime: at(-time.Minute), Created: t0, ExpiresAt: at(time.Minute),
	}
}

// authorizationFixture makes a tenant, an application and a user.
func authorizationFixture(t *testing.T, s storage.Store) (storage.Application, storage.User) {
	t.Helper()
	tn := mustCreateTenant(t, s, "authz")
	app := mustCreateApp(t, s, tn.ID, "authz")
	u := mustCreateUser(t, s, userFixture(tn.ID, "authz", "authz@example.org"))
	return app, u
}

// testAuthorizationCodes: a code is stored, redeemed once (the first
// redemption sees it unused, every later one sees when it was used and
// the session it started), and collected once expired.
func testAuthorizationCodes(t *testing.T, s storage.Store) {
	ctx := withTimeout(t, time.Minute)
	app, u := authorizationFixture(t, s)
	c := codeFixture(u, app.ID, "one")
	mustOK(t, "CreateAuthorizationCode", s.CreateAuthorizationCode(ctx, c))
	mustErr(t, "CreateAuthorizationCode again", s.CreateAuthorizationCode(ctx, c), storage.ErrConflict)

	_, err := s.RedeemAuthorizationCode(ctx, sum("code:none"), at(time.Second))
	mustErr(t, "RedeemAuthorizationCode of an unknown code", err, storage.ErrNotFound)
	mustErr(t, "SetAuthorizationCodeSession of an unknown code", s.SetAuthorizationCodeSession(ctx, sum("code:none"), id("x")), storage.ErrNotFound)

	got, err := s.RedeemAuthorizationCode(ctx, c.Hash, at(time.Second))
	mustOK(t, "RedeemAuthorizationCode", err)
	mustEqual(t, "first redemption", c, got)

	sess := mustCreateSession(t, s, sessionFixture(u, app.ID, "authz", t0))
	mustOK(t, "SetAuthorizationCodeSession", s.SetAuthorizationCodeSession(ctx, c.Hash, sess.ID))
	got, err = s.RedeemAuthorizationCode(ctx, c.Hash, at(2*time.Second))
	mustOK(t, "RedeemAuthorizationCode again", err)
	want := c
	want.UsedAt, want.SessionID = at(time.Second), sess.ID
	mustEqual(t, "second redemption", want, got)

	other := codeFixture(u, app.ID, "two")
	other.ExpiresAt = at(time.Hour)
	mustOK(t, "CreateAuthorizationCode two", s.CreateAuthorizationCode(ctx, other))
	codes, ssos, err := s.CollectAuthorizations(ctx, at(2*time.Minute))
	mustOK(t, "CollectAuthorizations", err)
	mustEqual(t, "codes collected", int64(1), codes)
	mustEqual(t, "SSO sessions collected", int64(0), ssos)
	_, err = s.RedeemAuthorizationCode(ctx, c.Hash, at(3*time.Minute))
	mustErr(t, "RedeemAuthorizationCode of a collected code", err, storage.ErrNotFound)
	got, err = s.RedeemAuthorizationCode(ctx, other.Hash, at(3*time.Minute))
	mustOK(t, "RedeemAuthorizationCode of a live code", err)
	mustEqual(t, "live code", other, got)

	mustOK(t, "DeleteUser", s.DeleteUser(ctx, u.ID))
	_, err = s.RedeemAuthorizationCode(ctx, other.Hash, at(4*time.Minute))
	mustErr(t, "RedeemAuthorizationCode after the user was deleted", err, storage.ErrNotFound)
}

// testSSOSessions: an SSO session is found by its hash, touched, deleted
// once, and collected once expired.
func testSSOSessions(t *testing.T, s storage.Store) {
	ctx := withTimeout(t, time.Minute)
	_, u := authorizationFixture(t, s)
	x := storage.SSOSession{ID: id("sso:a"), TenantID: u.TenantID, UserID: u.ID, Hash: sum("sso:a"),
		AuthTime: t0, LastUsed: t0, ExpiresAt: at(time.Hour)}
	mustOK(t, "CreateSSOSession", s.CreateSSOSession(ctx, x))
	mustErr(t, "CreateSSOSession again", s.CreateSSOSession(ctx, x), storage.ErrConflict)
	got, err := s.GetSSOSession(ctx, x.Hash)
	mustOK(t, "GetSSOSession", err)
	mustEqual(t, "SSO session", x, got)
	_, err = s.GetSSOSession(ctx, sum("sso:none"))
	mustErr(t, "GetSSOSession of an unknown hash", err, storage.ErrNotFound)

	mustOK(t, "TouchSSOSession", s.TouchSSOSession(ctx, x.ID, at(time.Minute), at(2*time.Hour)))
	mustErr(t, "TouchSSOSession of an unknown id", s.TouchSSOSession(ctx, id("sso:none"), t0, t0), storage.ErrNotFound)
	x.LastUsed, x.ExpiresAt = at(time.Minute), at(2*time.Hour)
	got, err = s.GetSSOSession(ctx, x.Hash)
	mustOK(t, "GetSSOSession after TouchSSOSession", err)
	mustEqual(t, "touched SSO session", x, got)

	got, err = s.DeleteSSOSession(ctx, x.Hash)
	mustOK(t, "DeleteSSOSession", err)
	mustEqual(t, "deleted SSO session", x, got)
	_, err = s.DeleteSSOSession(ctx, x.Hash)
	mustErr(t, "DeleteSSOSession again", err, storage.ErrNotFound)

	y := storage.SSOSession{ID: id("sso:b"), TenantID: u.TenantID, UserID: u.ID, Hash: sum("sso:b"),
		AuthTime: t0, LastUsed: t0, ExpiresAt: at(time.Hour)}
	mustOK(t, "CreateSSOSession b", s.CreateSSOSession(ctx, y))
	codes, ssos, err := s.CollectAuthorizations(ctx, at(time.Hour-time.Microsecond))
	mustOK(t, "CollectAuthorizations before expiry", err)
	mustEqual(t, "collected before expiry", [2]int64{0, 0}, [2]int64{codes, ssos})
	codes, ssos, err = s.CollectAuthorizations(ctx, at(time.Hour+time.Microsecond))
	mustOK(t, "CollectAuthorizations after expiry", err)
	mustEqual(t, "collected after expiry", [2]int64{0, 1}, [2]int64{codes, ssos})
}

// testAuthorizationCodeRace: of racers concurrent redemptions of one
// code, exactly one finds it unused.
func testAuthorizationCodeRace(t *testing.T, s storage.Store) {
	ctx := withTimeout(t, time.Minute)
	app, u := authorizationFixture(t, s)
	c := codeFixture(u, app.ID, "race")
	mustOK(t, "CreateAuthorizationCode", s.CreateAuthorizationCode(ctx, c))
	first := make([]bool, racers)
	errs := race(racers, func(i int) error {
		got, err := s.RedeemAuthorizationCode(ctx, c.Hash, at(time.Second))
		first[i] = err == nil && got.UsedAt.IsZero()
		return err
	})
	n := 0
	for i, err := range errs {
		if err != nil {
			t.Errorf("RedeemAuthorizationCode #%d: %v", i, err)
		}
		if first[i] {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d of %d concurrent redemptions of one code found it unused, want exactly 1", n, racers)
	}
}
