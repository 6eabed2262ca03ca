package storagetest

import (
	"testing"
	"time"

	"github.com/latchid/latch/internal/storage"
)

func testSigningKeys(t *testing.T, s storage.Store) {
	ctx := t.Context()
	k1 := keyFixture("k1", t0)
	k2 := keyFixture("k2", at(time.Hour))
	k2.Algorithm = "HS256"
	k2.PublicPEM = ""
	k0 := keyFixture("k0", at(-time.Hour)) // created last, oldest by Inserted
	for _, k := range []storage.SigningKey{k1, k2, k0} {
		mustOK(t, "CreateKey", s.CreateKey(ctx, k))
	}
	got, err := s.GetKey(ctx, k1.ID)
	mustOK(t, "GetKey", err)
	mustEqual(t, "GetKey after CreateKey", k1, got)
	list, err := s.ListKeys(ctx)
	mustOK(t, "ListKeys", err)
	mustEqual(t, "ListKeys, oldest first", []storage.SigningKey{k0, k1, k2}, list)

	dupID := keyFixture("k1", t0)
	dupID.Kid = "fresh-kid"
	mustErr(t, "CreateKey with a taken id", s.CreateKey(ctx, dupID), storage.ErrConflict)
	dupKid := keyFixture("k3", t0)
	dupKid.Kid = k1.Kid
	mustErr(t, "CreateKey with a taken kid", s.CreateKey(ctx, dupKid), storage.ErrConflict)
	_, err = s.GetKey(ctx, dupKid.ID)
	checkErr(t, "GetKey of a refused key", err, storage.ErrNotFound)
	_, err = s.GetKey(ctx, id("k-missing"))
	checkErr(t, "GetKey of a missing id", err, storage.ErrNotFound)

	// Only the name, retirement and expiry change.
	upd := k1
	upd.Name = "Retired key"
	upd.RetiredAt = at(2 * time.Hour)
	upd.ExpiresAt = at(48 * time.Hour)
	upd.Kid = "changed-kid"
	upd.Algorithm = "ES256"
	upd.Private = []byte("changed")
	upd.PublicPEM = "changed"
	upd.Inserted = at(99 * time.Hour)
	mustOK(t, "UpdateKey", s.UpdateKey(ctx, upd))
	k1.Name, k1.RetiredAt, k1.ExpiresAt = upd.Name, upd.RetiredAt, upd.ExpiresAt
	got, err = s.GetKey(ctx, k1.ID)
	mustOK(t, "GetKey", err)
	mustEqual(t, "GetKey after UpdateKey", k1, got)
	// And back to zero.
	k1.RetiredAt, k1.ExpiresAt = time.Time{}, time.Time{}
	mustOK(t, "UpdateKey", s.UpdateKey(ctx, k1))
	got, err = s.GetKey(ctx, k1.ID)
	mustOK(t, "GetKey", err)
	mustEqual(t, "GetKey after UpdateKey to zero times", k1, got)
	checkErr(t, "UpdateKey of a missing id", s.UpdateKey(ctx, keyFixture("k-missing", t0)), storage.ErrNotFound)

	mustOK(t, "DeleteKey", s.DeleteKey(ctx, k2.ID))
	_, err = s.GetKey(ctx, k2.ID)
	checkErr(t, "GetKey after DeleteKey", err, storage.ErrNotFound)
	checkErr(t, "DeleteKey twice", s.DeleteKey(ctx, k2.ID), storage.ErrNotFound)
	list, err = s.ListKeys(ctx)
	mustOK(t, "ListKeys", err)
	mustEqual(t, "ListKeys after DeleteKey", []storage.SigningKey{k0, k1}, list)
}

func testAPIKeys(t *testing.T, s storage.Store) {
	ctx := t.Context()
	tn := mustCreateTenant(t, s, "t1")
	scoped := apiKeyFixture(tn.ID, "scoped", t0)
	global := apiKeyFixture("", "global", at(-time.Hour))
	global.Endpoints = nil
	for _, k := range []storage.APIKey{scoped, global} {
		mustOK(t, "CreateAPIKey", s.CreateAPIKey(ctx, k))
	}
	for _, k := range []storage.APIKey{scoped, global} {
		got, err := s.GetAPIKey(ctx, k.ID)
		mustOK(t, "GetAPIKey", err)
		mustEqual(t, "GetAPIKey after CreateAPIKey", k, got)
		got, err = s.GetAPIKeyByHash(ctx, k.Hash)
		mustOK(t, "GetAPIKeyByHash", err)
		mustEqual(t, "GetAPIKeyByHash after CreateAPIKey", k, got)
	}
	list, err := s.ListAPIKeys(ctx)
	mustOK(t, "ListAPIKeys", err)
	mustEqual(t, "ListAPIKeys, oldest first", []storage.APIKey{global, scoped}, list)

	_, err = s.GetAPIKeyByHash(ctx, sum("unknown secret"))
	checkErr(t, "GetAPIKeyByHash of an unknown hash", err, storage.ErrNotFound)
	_, err = s.GetAPIKey(ctx, id("missing"))
	checkErr(t, "GetAPIKey of a missing id", err, storage.ErrNotFound)
	dupID := apiKeyFixture(tn.ID, "scoped", t0)
	dupID.Hash = sum("fresh secret")
	mustErr(t, "CreateAPIKey with a taken id", s.CreateAPIKey(ctx, dupID), storage.ErrConflict)
	_, err = s.GetAPIKeyByHash(ctx, dupID.Hash)
	checkErr(t, "GetAPIKeyByHash of a refused key", err, storage.ErrNotFound)
	dupHash := apiKeyFixture(tn.ID, "other", t0)
	dupHash.Hash = scoped.Hash
	mustErr(t, "CreateAPIKey with a taken hash", s.CreateAPIKey(ctx, dupHash), storage.ErrConflict)

	mustOK(t, "DeleteAPIKey", s.DeleteAPIKey(ctx, scoped.ID))
	_, err = s.GetAPIKey(ctx, scoped.ID)
	checkErr(t, "GetAPIKey after DeleteAPIKey", err, storage.ErrNotFound)
	_, err = s.GetAPIKeyByHash(ctx, scoped.Hash)
	checkErr(t, "GetAPIKeyByHash after DeleteAPIKey", err, storage.ErrNotFound)
	checkErr(t, "DeleteAPIKey twice", s.DeleteAPIKey(ctx, scoped.ID), storage.ErrNotFound)
	list, err = s.ListAPIKeys(ctx)
	mustOK(t, "ListAPIKeys", err)
	mustEqual(t, "ListAPIKeys after DeleteAPIKey", []storage.APIKey{global}, list)
}

func testLoginFailures(t *testing.T, s storage.Store) {
	ctx := t.Context()
	w := mustWorld(t, s, "w")
	other := mustCreateUser(t, s, userFixture(w.tenant.ID, "other", "other@example.com"))
	_, err := s.GetLoginFailures(ctx, w.user.ID)
	checkErr(t, "GetLoginFailures before any", err, storage.ErrNotFound)

	f := storage.LoginFailures{UserID: w.user.ID, Count: 1, FirstAt: t0, LastAt: t0}
	mustOK(t, "PutLoginFailures", s.PutLoginFailures(ctx, f))
	got, err := s.GetLoginFailures(ctx, w.user.ID)
	mustOK(t, "GetLoginFailures", err)
	mustEqual(t, "GetLoginFailures after PutLoginFailures", f, got)

	f.Count = 5
	f.LastAt = at(time.Minute)
	f.LockedUntil = at(4 * time.Minute)
	mustOK(t, "PutLoginFailures replacing", s.PutLoginFailures(ctx, f))
	got, err = s.GetLoginFailures(ctx, w.user.ID)
	mustOK(t, "GetLoginFailures", err)
	mustEqual(t, "GetLoginFailures after a replacing PutLoginFailures", f, got)
	_, err = s.GetLoginFailures(ctx, other.ID)
	checkErr(t, "GetLoginFailures of another user", err, storage.ErrNotFound)

	o := storage.LoginFailures{UserID: other.ID, Count: 2, FirstAt: t0, LastAt: t0}
	mustOK(t, "PutLoginFailures", s.PutLoginFailures(ctx, o))
	mustOK(t, "DeleteLoginFailures", s.DeleteLoginFailures(ctx, w.user.ID))
	_, err = s.GetLoginFailures(ctx, w.user.ID)
	checkErr(t, "GetLoginFailures after DeleteLoginFailures", err, storage.ErrNotFound)
	mustOK(t, "DeleteLoginFailures when there is none", s.DeleteLoginFailures(ctx, w.user.ID))
	got, err = s.GetLoginFailures(ctx, other.ID)
	mustOK(t, "GetLoginFailures of another user", err)
	mustEqual(t, "another user's failures after DeleteLoginFailures", o, got)
}

func testMeta(t *testing.T, s storage.Store) {
	ctx := t.Context()
	_, err := s.GetMeta(ctx, "kickstart")
	checkErr(t, "GetMeta of an unset key", err, storage.ErrNotFound)
	mustOK(t, "PutMeta", s.PutMeta(ctx, "kickstart", "done at 1"))
	mustOK(t, "PutMeta of another key", s.PutMeta(ctx, "bootstrap", `{"admin":"x"}`))
	mustErr(t, "PutMeta of a set key", s.PutMeta(ctx, "kickstart", "done at 2"), storage.ErrConflict)
	for key, want := range map[string]string{"kickstart": "done at 1", "bootstrap": `{"admin":"x"}`} {
		got, err := s.GetMeta(ctx, key)
		mustOK(t, "GetMeta", err)
		if got != want {
			t.Errorf("GetMeta(%q) = %q, want %q", key, got, want)
		}
	}
	mustOK(t, "PutMeta of an empty value", s.PutMeta(ctx, "empty", ""))
	got, err := s.GetMeta(ctx, "empty")
	mustOK(t, "GetMeta of an empty value", err)
	if got != "" {
		t.Errorf(`GetMeta("empty") = %q, want ""`, got)
	}
	mustErr(t, "PutMeta over an empty value", s.PutMeta(ctx, "empty", "x"), storage.ErrConflict)
}

func testGarbageCollect(t *testing.T, s storage.Store) {
	ctx := t.Context()
	w := mustWorld(t, s, "w")
	before := t0
	mk := func(name string, expires time.Time) storage.Session {
		x := sessionFixture(w.user, w.app.ID, name, at(-48*time.Hour))
		x.ExpiresAt = expires
		return mustCreateSession(t, s, x)
	}
	expired := mk("expired", at(-time.Hour))
	mustOK(t, "RotateSession", s.RotateSession(ctx, expired.ID, expired.TokenHash, rotation("expired", 1, at(-3*time.Hour))))
	// The rotation set the expiry; put it back in the past.
	expired = rotated(expired, rotation("expired", 1, at(-3*time.Hour)))
	mustOK(t, "TouchSession", s.TouchSession(ctx, expired.ID, storage.Touch{
		StartInstant: expired.StartInstant, ExpiresAt: at(-time.Hour), LastUsed: expired.LastUsed, Device: expired.Device,
	}))
	revokedBefore := mk("revoked-before", at(time.Hour))
	mustOK(t, "RotateSession", s.RotateSession(ctx, revokedBefore.ID, revokedBefore.TokenHash, rotation("revoked-before", 1, at(-3*time.Hour))))
	_, err := s.RevokeSessions(ctx, storage.SessionFilter{ID: revokedBefore.ID}, at(-time.Minute), "logout")
	mustOK(t, "RevokeSessions", err)
	revokedAfter := mk("revoked-after", at(time.Hour))
	_, err = s.RevokeSessions(ctx, storage.SessionFilter{ID: revokedAfter.ID}, at(time.Minute), "logout")
	mustOK(t, "RevokeSessions", err)
	live := mk("live", at(time.Hour))
	mustOK(t, "RotateSession", s.RotateSession(ctx, live.ID, live.TokenHash, rotation("live", 1, at(-3*time.Hour))))
	// (Its rotations moved its expiry to 30 days after them, after `before`.)
	mustOK(t, "RotateSession", s.RotateSession(ctx, live.ID, sum("live/1"), rotation("live", 2, at(-2*time.Hour))))
	forever := mk("no-expiry", time.Time{})

	other := mustCreateUser(t, s, userFixture(w.tenant.ID, "other", "other@example.com"))
	third := mustCreateUser(t, s, userFixture(w.tenant.ID, "third", "third@example.com"))
	fourth := mustCreateUser(t, s, userFixture(w.tenant.ID, "fourth", "fourth@example.com"))
	lockEnded := storage.LoginFailures{UserID: w.user.ID, Count: 5, FirstAt: at(-3 * time.Hour), LastAt: at(-2 * time.Hour), LockedUntil: at(-time.Hour)}
	stale := storage.LoginFailures{UserID: other.ID, Count: 2, FirstAt: at(-3 * time.Hour), LastAt: at(-2 * time.Hour)}
	locked := storage.LoginFailures{UserID: third.ID, Count: 5, FirstAt: at(-3 * time.Hour), LastAt: at(-2 * time.Hour), LockedUntil: at(time.Hour)}
	recent := storage.LoginFailures{UserID: fourth.ID, Count: 1, FirstAt: at(time.Second), LastAt: at(time.Second)}
	for _, f := range []storage.LoginFailures{lockEnded, stale, locked, recent} {
		mustOK(t, "PutLoginFailures", s.PutLoginFailures(ctx, f))
	}

	res, err := s.GarbageCollect(ctx, before)
	mustOK(t, "GarbageCollect", err)
	mustEqual(t, "GarbageCollect result", storage.GCResult{Sessions: 2, LoginFailures: 2}, res)

	for _, name := range []string{"expired", "revoked-before"} {
		_, err := s.GetSession(ctx, id(name))
		checkErr(t, "GetSession of a collected session", err, storage.ErrNotFound)
		mustNotFind(t, s, "FindSession of a collected session's current value", sum(name+"/1"))
		mustNotFind(t, s, "FindSession of a collected session's replaced value", sum(name+"/0"))
	}
	for _, x := range []storage.Session{revokedAfter, live, forever} {
		mustGetSession(t, s, x.ID)
	}
	mustFind(t, s, sum("live/2"), storage.MatchCurrent)
	mustFind(t, s, sum("live/1"), storage.MatchPrevious)
	mustFind(t, s, sum("live/0"), storage.MatchFormer)

	// The former values went with their session: a new session that reuses
	// a collected one's id does not inherit them.
	reborn := sessionFixture(w.user, w.app.ID, "expired", at(time.Hour))
	reborn.TokenHash = sum("reborn")
	mustCreateSession(t, s, reborn)
	mustNotFind(t, s, "FindSession of a collected value after its session id is reused", sum("expired/0"))
	mustNotFind(t, s, "FindSession of a collected value after its session id is reused", sum("expired/1"))

	for _, f := range []storage.LoginFailures{lockEnded, stale} {
		_, err := s.GetLoginFailures(ctx, f.UserID)
		checkErr(t, "GetLoginFailures of a collected record", err, storage.ErrNotFound)
	}
	for _, f := range []storage.LoginFailures{locked, recent} {
		got, err := s.GetLoginFailures(ctx, f.UserID)
		mustOK(t, "GetLoginFailures of a record in force", err)
		mustEqual(t, "login failures in force after GarbageCollect", f, got)
	}

	res, err = s.GarbageCollect(ctx, before)
	mustOK(t, "GarbageCollect again", err)
	mustEqual(t, "second GarbageCollect result", storage.GCResult{}, res)
}

func testTimezones(t *testing.T, s storage.Store) {
	ctx := t.Context()
	zone := time.FixedZone("UTC+05:30", 5*3600+1800)
	when := time.Date(2024, time.July, 1, 9, 30, 15, 123456789, zone)
	want := when.Truncate(time.Microsecond) // 123456000 ns: truncated, not rounded
	// Before the epoch, truncation is toward the past.
	early := time.Date(1969, time.December, 31, 23, 59, 59, 999999999, zone)
	wantEarly := early.Truncate(time.Microsecond)

	check := func(what string, got, want time.Time) {
		t.Helper()
		if !got.Equal(want) {
			t.Errorf("%s = %s, want the instant %s", what, got.Format(time.RFC3339Nano), want.UTC().Format(time.RFC3339Nano))
		}
		if got.Location() != time.UTC {
			t.Errorf("%s is in %v, want UTC", what, got.Location())
		}
	}

	w := mustWorld(t, s, "w")
	u := userFixture(w.tenant.ID, "tz", "tz@example.com")
	u.Inserted, u.Expiry, u.LastLogin = when, when, early
	mustCreateUser(t, s, u)
	got := mustGetUser(t, s, u.ID)
	check("User.Inserted", got.Inserted, want)
	check("User.Expiry", got.Expiry, want)
	check("User.LastLogin", got.LastLogin, wantEarly)
	check("User.Updated", got.Updated, u.Updated)
	if !got.Inserted.Equal(want) || got.Inserted.Equal(when) {
		t.Errorf("User.Inserted = %s: not truncated to the microsecond", got.Inserted.Format(time.RFC3339Nano))
	}

	g := regFixture(w.user, w.app.ID, "tz-reg", when)
	mustCreateRegistration(t, s, g)
	gotReg, err := s.GetRegistration(ctx, g.UserID, g.ApplicationID)
	mustOK(t, "GetRegistration", err)
	check("Registration.Inserted", gotReg.Inserted, want)

	x := sessionFixture(w.user, w.app.ID, "tz-s", when)
	x.ExpiresAt = when.Add(time.Hour)
	mustCreateSession(t, s, x)
	r := rotation("tz-s", 1, when.In(time.FixedZone("UTC-08:00", -8*3600)).Add(time.Minute))
	mustOK(t, "RotateSession", s.RotateSession(ctx, x.ID, x.TokenHash, r))
	_, err = s.RevokeSessions(ctx, storage.SessionFilter{ID: x.ID}, when.Add(2*time.Minute), "tz")
	mustOK(t, "RevokeSessions", err)
	gotS := mustGetSession(t, s, x.ID)
	check("Session.Inserted", gotS.Inserted, want)
	check("Session.RotatedAt", gotS.RotatedAt, want.Add(time.Minute))
	check("Session.RevokedAt", gotS.RevokedAt, want.Add(2*time.Minute))
	if !gotS.AuthTime.Equal(x.AuthTime.Truncate(time.Microsecond)) || gotS.AuthTime.Location() != time.UTC {
		t.Errorf("Session.AuthTime = %v", gotS.AuthTime)
	}

	k := keyFixture("tz-k", when)
	k.RetiredAt = early
	mustOK(t, "CreateKey", s.CreateKey(ctx, k))
	gotK, err := s.GetKey(ctx, k.ID)
	mustOK(t, "GetKey", err)
	check("SigningKey.Inserted", gotK.Inserted, want)
	check("SigningKey.RetiredAt", gotK.RetiredAt, wantEarly)
	if !gotK.ExpiresAt.IsZero() {
		t.Errorf("SigningKey.ExpiresAt = %v, want the zero time", gotK.ExpiresAt)
	}

	f := storage.LoginFailures{UserID: w.user.ID, Count: 1, FirstAt: when, LastAt: when, LockedUntil: when}
	mustOK(t, "PutLoginFailures", s.PutLoginFailures(ctx, f))
	gotF, err := s.GetLoginFailures(ctx, w.user.ID)
	mustOK(t, "GetLoginFailures", err)
	check("LoginFailures.LockedUntil", gotF.LockedUntil, want)

	// The zero time stays zero (and is not "in UTC").
	zero := userFixture(w.tenant.ID, "tz-zero", "")
	zero.Inserted, zero.Updated, zero.LastLogin, zero.PasswordUpdated, zero.Expiry = time.Time{}, time.Time{}, time.Time{}, time.Time{}, time.Time{}
	mustCreateUser(t, s, zero)
	gotZ := mustGetUser(t, s, zero.ID)
	for what, v := range map[string]time.Time{"Inserted": gotZ.Inserted, "Updated": gotZ.Updated,
		"LastLogin": gotZ.LastLogin, "PasswordUpdated": gotZ.PasswordUpdated, "Expiry": gotZ.Expiry} {
		if !v.IsZero() {
			t.Errorf("User.%s = %v, want the zero time", what, v)
		}
	}
}
