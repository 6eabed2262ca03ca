package storagetest

import (
	"errors"
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

func testLoginAttempts(t *testing.T, s storage.Store) {
	ctx := t.Context()
	w := mustWorld(t, s, "w")
	other := mustCreateTenant(t, s, "other")
	_, err := s.GetLoginAttempts(ctx, w.tenant.ID, "k")
	checkErr(t, "GetLoginAttempts before any", err, storage.ErrNotFound)

	// The first update sees a zero record with the tenant and key set.
	var seen storage.LoginAttempts
	// (A reservation's record: no failure yet, one check in flight.)
	a := storage.LoginAttempts{TenantID: w.tenant.ID, Key: "k", InFlight: 1, FirstAt: t0, Expires: at(time.Minute)}
	got, err := s.UpdateLoginAttempts(ctx, w.tenant.ID, "k", func(cur storage.LoginAttempts) (storage.LoginAttempts, error) {
		seen = cur
		return a, nil
	})
	mustOK(t, "UpdateLoginAttempts", err)
	mustEqual(t, "the record the first UpdateLoginAttempts sees", storage.LoginAttempts{TenantID: w.tenant.ID, Key: "k"}, seen)
	mustEqual(t, "UpdateLoginAttempts result", a, got)
	got, err = s.GetLoginAttempts(ctx, w.tenant.ID, "k")
	mustOK(t, "GetLoginAttempts", err)
	mustEqual(t, "GetLoginAttempts after UpdateLoginAttempts", a, got)

	// The next sees what the first stored, and may change every field; the
	// tenant and key stay.
	b := storage.LoginAttempts{TenantID: "ignored", Key: "ignored", Count: 5, InFlight: 2, FirstAt: t0,
		LastFailure: at(time.Second), LockedUntil: at(4 * time.Minute), Expires: at(4 * time.Minute)}
	_, err = s.UpdateLoginAttempts(ctx, w.tenant.ID, "k", func(cur storage.LoginAttempts) (storage.LoginAttempts, error) {
		seen = cur
		return b, nil
	})
	mustOK(t, "UpdateLoginAttempts replacing", err)
	mustEqual(t, "the record the second UpdateLoginAttempts sees", a, seen)
	b.TenantID, b.Key = w.tenant.ID, "k"
	got, err = s.GetLoginAttempts(ctx, w.tenant.ID, "k")
	mustOK(t, "GetLoginAttempts", err)
	mustEqual(t, "GetLoginAttempts after a replacing UpdateLoginAttempts", b, got)

	// An update whose function fails changes nothing.
	boom := errors.New("boom")
	_, err = s.UpdateLoginAttempts(ctx, w.tenant.ID, "k", func(cur storage.LoginAttempts) (storage.LoginAttempts, error) {
		return storage.LoginAttempts{Count: 99, Expires: at(time.Hour)}, boom
	})
	checkErr(t, "UpdateLoginAttempts whose function fails", err, boom)
	_, err = s.UpdateLoginAttempts(ctx, w.tenant.ID, "fresh", func(cur storage.LoginAttempts) (storage.LoginAttempts, error) {
		return storage.LoginAttempts{Count: 99, Expires: at(time.Hour)}, boom
	})
	checkErr(t, "UpdateLoginAttempts of a new key whose function fails", err, boom)
	_, err = s.GetLoginAttempts(ctx, w.tenant.ID, "fresh")
	checkErr(t, "GetLoginAttempts after a failed first update", err, storage.ErrNotFound)
	got, err = s.GetLoginAttempts(ctx, w.tenant.ID, "k")
	mustOK(t, "GetLoginAttempts", err)
	mustEqual(t, "GetLoginAttempts after a failed update", b, got)

	// A change of the checks in flight alone is stored.
	b.InFlight--
	_, err = s.UpdateLoginAttempts(ctx, w.tenant.ID, "k", func(cur storage.LoginAttempts) (storage.LoginAttempts, error) {
		cur.InFlight--
		return cur, nil
	})
	mustOK(t, "UpdateLoginAttempts of the checks in flight", err)
	got, err = s.GetLoginAttempts(ctx, w.tenant.ID, "k")
	mustOK(t, "GetLoginAttempts", err)
	mustEqual(t, "GetLoginAttempts after a change of the checks in flight", b, got)

	// An update that changes nothing leaves no record behind.
	got, err = s.UpdateLoginAttempts(ctx, w.tenant.ID, "untouched", func(cur storage.LoginAttempts) (storage.LoginAttempts, error) { return cur, nil })
	mustOK(t, "UpdateLoginAttempts that changes nothing", err)
	mustEqual(t, "UpdateLoginAttempts that changes nothing", storage.LoginAttempts{TenantID: w.tenant.ID, Key: "untouched"}, got)
	_, err = s.GetLoginAttempts(ctx, w.tenant.ID, "untouched")
	checkErr(t, "GetLoginAttempts after an update that changed nothing", err, storage.ErrNotFound)

	// Keys are per tenant.
	_, err = s.GetLoginAttempts(ctx, other.ID, "k")
	checkErr(t, "GetLoginAttempts of the same key in another tenant", err, storage.ErrNotFound)
	o := mustPutLoginAttempts(t, s, storage.LoginAttempts{TenantID: other.ID, Key: "k", Count: 2, FirstAt: t0, Expires: at(time.Minute)})
	mustOK(t, "DeleteLoginAttempts", s.DeleteLoginAttempts(ctx, w.tenant.ID, "k"))
	_, err = s.GetLoginAttempts(ctx, w.tenant.ID, "k")
	checkErr(t, "GetLoginAttempts after DeleteLoginAttempts", err, storage.ErrNotFound)
	mustOK(t, "DeleteLoginAttempts when there is none", s.DeleteLoginAttempts(ctx, w.tenant.ID, "k"))
	got, err = s.GetLoginAttempts(ctx, other.ID, "k")
	mustOK(t, "GetLoginAttempts of another tenant", err)
	mustEqual(t, "another tenant's record after DeleteLoginAttempts", o, got)
}

// testCollectLoginAttempts checks that CollectLoginAttempts deletes what
// expired, and only that.
func testCollectLoginAttempts(t *testing.T, s storage.Store) {
	ctx := t.Context()
	w := mustWorld(t, s, "w")
	now := at(time.Hour)
	lockEnded := mustPutLoginAttempts(t, s, storage.LoginAttempts{TenantID: w.tenant.ID, Key: "lock-ended", Count: 5, FirstAt: t0,
		LastFailure: t0, LockedUntil: at(3 * time.Minute), Expires: at(3 * time.Minute)})
	windowEnded := mustPutLoginAttempts(t, s, storage.LoginAttempts{TenantID: w.tenant.ID, Key: "window-ended", Count: 2, FirstAt: t0, Expires: at(time.Minute)})
	locked := mustPutLoginAttempts(t, s, storage.LoginAttempts{TenantID: w.tenant.ID, Key: "locked", Count: 5, FirstAt: at(59 * time.Minute),
		LockedUntil: at(62 * time.Minute), Expires: at(62 * time.Minute)})
	recent := mustPutLoginAttempts(t, s, storage.LoginAttempts{TenantID: w.tenant.ID, Key: "recent", Count: 1, FirstAt: now, Expires: now.Add(time.Minute)})
	edge := mustPutLoginAttempts(t, s, storage.LoginAttempts{TenantID: w.tenant.ID, Key: "edge", Count: 1, FirstAt: t0, Expires: now})

	n, err := s.CollectLoginAttempts(ctx, now)
	mustOK(t, "CollectLoginAttempts", err)
	mustEqual(t, "CollectLoginAttempts count", int64(2), n)
	for _, a := range []storage.LoginAttempts{lockEnded, windowEnded} {
		_, err := s.GetLoginAttempts(ctx, a.TenantID, a.Key)
		checkErr(t, "GetLoginAttempts of a collected record", err, storage.ErrNotFound)
	}
	for _, a := range []storage.LoginAttempts{locked, recent, edge} {
		got, err := s.GetLoginAttempts(ctx, a.TenantID, a.Key)
		mustOK(t, "GetLoginAttempts of a record in force", err)
		mustEqual(t, "a record in force after CollectLoginAttempts", a, got)
	}
	n, err = s.CollectLoginAttempts(ctx, now)
	mustOK(t, "CollectLoginAttempts again", err)
	mustEqual(t, "second CollectLoginAttempts count", int64(0), n)
}

// mustPutLoginAttempts stores a, replacing any record of its tenant and
// key, and returns it.
func mustPutLoginAttempts(t *testing.T, s storage.Store, a storage.LoginAttempts) storage.LoginAttempts {
	t.Helper()
	got, err := s.UpdateLoginAttempts(t.Context(), a.TenantID, a.Key, func(storage.LoginAttempts) (storage.LoginAttempts, error) { return a, nil })
	mustOK(t, "UpdateLoginAttempts", err)
	return got
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

	res, err := s.GarbageCollect(ctx, before)
	mustOK(t, "GarbageCollect", err)
	mustEqual(t, "GarbageCollect result", storage.GCResult{Sessions: 2}, res)

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

	mustPutLoginAttempts(t, s, storage.LoginAttempts{TenantID: w.tenant.ID, Key: "tz", Count: 1, FirstAt: when, LastFailure: when, LockedUntil: when, Expires: when})
	gotF, err := s.GetLoginAttempts(ctx, w.tenant.ID, "tz")
	mustOK(t, "GetLoginAttempts", err)
	check("LoginAttempts.LockedUntil", gotF.LockedUntil, want)
	check("LoginAttempts.Expires", gotF.Expires, want)

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
