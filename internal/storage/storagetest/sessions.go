package storagetest

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/latchid/latch/api"
	"github.com/latchid/latch/internal/storage"
)

func testSessionCreateFind(t *testing.T, s storage.Store) {
	ctx := t.Context()
	w := mustWorld(t, s, "w")

	x := mustCreateSession(t, s, sessionFixture(w.user, w.app.ID, "s1", t0))
	mustEqual(t, "GetSession after CreateSession", x, mustGetSession(t, s, x.ID))
	mustEqual(t, "FindSession of the current value", x, mustFind(t, s, x.TokenHash, storage.MatchCurrent))

	// A session without an application (a tenant-level login).
	y := sessionFixture(w.user, "", "s2", at(time.Second))
	y.Scopes = nil
	y.DPoPJKT = ""
	y.Device = api.DeviceInfo{}
	mustCreateSession(t, s, y)
	mustEqual(t, "GetSession of a session without application", y, mustGetSession(t, s, y.ID))
	mustEqual(t, "FindSession of a session without application", y, mustFind(t, s, y.TokenHash, storage.MatchCurrent))

	mustNotFind(t, s, "FindSession of an unknown hash", sum("never issued"))
	_, err := s.GetSession(ctx, id("s-missing"))
	checkErr(t, "GetSession of a missing id", err, storage.ErrNotFound)

	dupID := sessionFixture(w.user, w.app.ID, "s1", t0)
	dupID.TokenHash = sum("fresh value")
	mustErr(t, "CreateSession with a taken id", s.CreateSession(ctx, dupID), storage.ErrConflict)
	mustNotFind(t, s, "FindSession of a refused session's hash", dupID.TokenHash)
	dupHash := sessionFixture(w.user, w.app.ID, "s3", t0)
	dupHash.TokenHash = x.TokenHash
	mustErr(t, "CreateSession with a taken token hash", s.CreateSession(ctx, dupHash), storage.ErrConflict)
	_, err = s.GetSession(ctx, dupHash.ID)
	checkErr(t, "GetSession of a refused session", err, storage.ErrNotFound)
	mustEqual(t, "session after refused creates", x, mustGetSession(t, s, x.ID))
}

func testSessionRotate(t *testing.T, s storage.Store) {
	ctx := t.Context()
	w := mustWorld(t, s, "w")
	x := mustCreateSession(t, s, sessionFixture(w.user, w.app.ID, "s", t0))
	bystander := mustCreateSession(t, s, sessionFixture(w.user, w.app.ID, "bystander", t0))
	h0 := x.TokenHash

	r1 := rotation("s", 1, at(time.Minute))
	mustOK(t, "RotateSession", s.RotateSession(ctx, x.ID, h0, r1))
	x = rotated(x, r1)
	mustEqual(t, "GetSession after one rotation", x, mustGetSession(t, s, x.ID))
	if x.Generation != 1 {
		t.Fatalf("test bug: generation %d", x.Generation)
	}
	mustEqual(t, "FindSession of the new value", x, mustFind(t, s, r1.TokenHash, storage.MatchCurrent))
	prev := mustFind(t, s, h0, storage.MatchPrevious)
	mustEqual(t, "FindSession of the replaced value", x, prev)
	if !prev.RotatedAt.Equal(r1.RotatedAt) {
		t.Errorf("FindSession of the replaced value: RotatedAt = %v, want %v", prev.RotatedAt, r1.RotatedAt)
	}

	// A stale presented value changes nothing.
	mustErr(t, "RotateSession with the replaced value", s.RotateSession(ctx, x.ID, h0, rotation("s", 9, at(2*time.Minute))), storage.ErrStale)
	mustErr(t, "RotateSession with a value never issued", s.RotateSession(ctx, x.ID, sum("forged"), rotation("s", 9, at(2*time.Minute))), storage.ErrStale)
	mustErr(t, "RotateSession with another session's value",
		s.RotateSession(ctx, x.ID, bystander.TokenHash, rotation("s", 9, at(2*time.Minute))), storage.ErrStale)
	mustEqual(t, "GetSession after refused rotations", x, mustGetSession(t, s, x.ID))
	mustNotFind(t, s, "FindSession of a refused rotation's value", sum("s/9"))

	r2 := rotation("s", 2, at(3*time.Minute))
	mustOK(t, "second RotateSession", s.RotateSession(ctx, x.ID, r1.TokenHash, r2))
	x = rotated(x, r2)
	mustEqual(t, "GetSession after two rotations", x, mustGetSession(t, s, x.ID))
	mustEqual(t, "FindSession of the newest value", x, mustFind(t, s, r2.TokenHash, storage.MatchCurrent))
	mustEqual(t, "FindSession of the previous value", x, mustFind(t, s, r1.TokenHash, storage.MatchPrevious))
	mustEqual(t, "FindSession of the first value", x, mustFind(t, s, h0, storage.MatchFormer))

	r3 := rotation("s", 3, at(4*time.Minute))
	mustOK(t, "third RotateSession", s.RotateSession(ctx, x.ID, r2.TokenHash, r3))
	x = rotated(x, r3)
	mustFind(t, s, r3.TokenHash, storage.MatchCurrent)
	mustFind(t, s, r2.TokenHash, storage.MatchPrevious)
	mustFind(t, s, r1.TokenHash, storage.MatchFormer)
	mustFind(t, s, h0, storage.MatchFormer)

	mustErr(t, "RotateSession of a missing session",
		s.RotateSession(ctx, id("s-missing"), r3.TokenHash, rotation("missing", 1, at(time.Hour))), storage.ErrNotFound)
	mustEqual(t, "bystander after the rotations", bystander, mustGetSession(t, s, bystander.ID))

	// A revoked session does not rotate, and is still found.
	revokedAt := at(5 * time.Minute)
	_, err := s.RevokeSessions(ctx, storage.SessionFilter{ID: x.ID}, revokedAt, "logout")
	mustOK(t, "RevokeSessions", err)
	x = revoked(x, revokedAt, "logout")
	mustErr(t, "RotateSession of a revoked session", s.RotateSession(ctx, x.ID, r3.TokenHash, rotation("s", 4, at(6*time.Minute))), storage.ErrStale)
	mustEqual(t, "GetSession of a revoked session after a refused rotation", x, mustGetSession(t, s, x.ID))
	mustEqual(t, "FindSession of a revoked session", x, mustFind(t, s, r3.TokenHash, storage.MatchCurrent))
	mustNotFind(t, s, "FindSession of a revoked session's refused rotation", sum("s/4"))
}

func testSessionTouch(t *testing.T, s storage.Store) {
	ctx := t.Context()
	w := mustWorld(t, s, "w")
	x := mustCreateSession(t, s, sessionFixture(w.user, w.app.ID, "s", t0))
	other := mustCreateSession(t, s, sessionFixture(w.user, w.app.ID, "other", t0))

	touch := storage.Touch{
		StartInstant: at(time.Hour),
		ExpiresAt:    at(31 * 24 * time.Hour),
		LastUsed:     at(time.Hour),
		Device:       api.DeviceInfo{Name: "Laptop", Type: "BROWSER", LastAccessedAddress: "192.0.2.1"},
	}
	mustOK(t, "TouchSession", s.TouchSession(ctx, x.ID, touch))
	x.StartInstant, x.ExpiresAt, x.LastUsed, x.Device = touch.StartInstant, touch.ExpiresAt, touch.LastUsed, touch.Device
	mustEqual(t, "GetSession after TouchSession (token hash and generation unchanged)", x, mustGetSession(t, s, x.ID))
	mustEqual(t, "FindSession after TouchSession", x, mustFind(t, s, x.TokenHash, storage.MatchCurrent))
	mustEqual(t, "other session after TouchSession", other, mustGetSession(t, s, other.ID))

	mustErr(t, "TouchSession of a missing session", s.TouchSession(ctx, id("s-missing"), touch), storage.ErrNotFound)

	_, err := s.RevokeSessions(ctx, storage.SessionFilter{ID: x.ID}, at(2*time.Hour), "revoked")
	mustOK(t, "RevokeSessions", err)
	x = revoked(x, at(2*time.Hour), "revoked")
	later := touch
	later.LastUsed = at(3 * time.Hour)
	mustErr(t, "TouchSession of a revoked session", s.TouchSession(ctx, x.ID, later), storage.ErrStale)
	mustEqual(t, "GetSession of a revoked session after a refused touch", x, mustGetSession(t, s, x.ID))
}

func testSessionRevokeFilters(t *testing.T, s storage.Store) {
	ctx := t.Context()
	t1 := mustCreateTenant(t, s, "t1")
	t2 := mustCreateTenant(t, s, "t2")
	a1 := mustCreateApp(t, s, t1.ID, "a1")
	a2 := mustCreateApp(t, s, t1.ID, "a2")
	a3 := mustCreateApp(t, s, t2.ID, "a3")
	u1 := mustCreateUser(t, s, userFixture(t1.ID, "u1", "u1@example.com"))
	u2 := mustCreateUser(t, s, userFixture(t1.ID, "u2", "u2@example.com"))
	u3 := mustCreateUser(t, s, userFixture(t2.ID, "u3", "u3@example.com"))

	// Inserted out of creation order, to check "oldest first".
	all := map[string]storage.Session{}
	for _, c := range []struct {
		name string
		user storage.User
		app  string
		ago  time.Duration
	}{
		{"s1", u1, a1.ID, 6 * time.Hour},
		{"s2", u1, a2.ID, 2 * time.Hour},
		{"s3", u2, a1.ID, 4 * time.Hour},
		{"s4", u2, a2.ID, 3 * time.Hour},
		{"s5", u3, a3.ID, 5 * time.Hour},
		{"s6", u1, "", 1 * time.Hour},
	} {
		all[c.name] = mustCreateSession(t, s, sessionFixture(c.user, c.app, c.name, t0.Add(-c.ago)))
	}
	sessions := func(names ...string) []storage.Session {
		var out []storage.Session
		for _, n := range names {
			out = append(out, all[n])
		}
		return out
	}

	for _, c := range []struct {
		f    storage.SessionFilter
		want []string
	}{
		{storage.SessionFilter{ID: all["s3"].ID}, []string{"s3"}},
		{storage.SessionFilter{UserID: u1.ID}, []string{"s1", "s2", "s6"}},
		{storage.SessionFilter{ApplicationID: a1.ID}, []string{"s1", "s3"}},
		{storage.SessionFilter{UserID: u1.ID, ApplicationID: a2.ID}, []string{"s2"}},
		{storage.SessionFilter{TenantID: t1.ID}, []string{"s1", "s3", "s4", "s2", "s6"}},
		{storage.SessionFilter{TenantID: t2.ID, UserID: u1.ID}, nil},
		{storage.SessionFilter{UserID: id("nobody")}, nil},
	} {
		mustEqual(t, "ListSessions", sessions(c.want...), mustListSessions(t, s, c.f))
	}

	// An empty filter revokes nothing.
	got, err := s.RevokeSessions(ctx, storage.SessionFilter{}, t0, "everything")
	mustOK(t, "RevokeSessions with an empty filter", err)
	mustEqual(t, "RevokeSessions with an empty filter", nil, got)
	for name, x := range all {
		mustEqual(t, "session "+name+" after RevokeSessions with an empty filter", x, mustGetSession(t, s, x.ID))
	}

	step := 0
	revoke := func(f storage.SessionFilter, want ...string) {
		t.Helper()
		step++
		when := at(time.Duration(step) * time.Minute)
		reason := "reason " + string(rune('a'+step))
		got, err := s.RevokeSessions(ctx, f, when, reason)
		mustOK(t, "RevokeSessions", err)
		for _, n := range want {
			all[n] = revoked(all[n], when, reason)
		}
		// In any order: the contract does not say.
		if d := cmp.Diff(sessions(want...), got, cmpopts.EquateEmpty(),
			cmpopts.SortSlices(func(a, b storage.Session) bool { return a.ID < b.ID })); d != "" {
			t.Errorf("sessions RevokeSessions returns: mismatch (-want +got):\n%s", d)
		}
		for _, n := range want {
			mustEqual(t, "GetSession of revoked "+n, all[n], mustGetSession(t, s, all[n].ID))
			mustEqual(t, "FindSession of revoked "+n, all[n], mustFind(t, s, all[n].TokenHash, storage.MatchCurrent))
		}
	}
	revoke(storage.SessionFilter{ID: all["s1"].ID}, "s1")
	revoke(storage.SessionFilter{ID: all["s1"].ID}) // already revoked: not again
	mustEqual(t, "ListSessions leaves out revoked sessions", sessions("s2", "s6"),
		mustListSessions(t, s, storage.SessionFilter{UserID: u1.ID}))
	revoke(storage.SessionFilter{UserID: u2.ID, ApplicationID: a2.ID}, "s4")
	revoke(storage.SessionFilter{ApplicationID: a1.ID}, "s3")
	revoke(storage.SessionFilter{UserID: u1.ID}, "s2", "s6")
	revoke(storage.SessionFilter{TenantID: t1.ID})
	mustEqual(t, "ListSessions of tenant 2 before its revocation", sessions("s5"),
		mustListSessions(t, s, storage.SessionFilter{TenantID: t2.ID}))
	revoke(storage.SessionFilter{TenantID: t2.ID}, "s5")

	for _, f := range []storage.SessionFilter{{TenantID: t1.ID}, {TenantID: t2.ID}, {UserID: u1.ID}, {ApplicationID: a1.ID}} {
		mustEqual(t, "ListSessions after revoking everything", nil, mustListSessions(t, s, f))
	}
	// Revocation marks; it does not delete.
	for name, x := range all {
		mustEqual(t, "GetSession of revoked "+name, x, mustGetSession(t, s, x.ID))
	}
}

// testSessionOwner: FindSessionOwner finds a session with its user and its
// registration, by any value it had, registered or not, in a transaction
// as outside one.
func testSessionOwner(t *testing.T, s storage.Store) {
	ctx := t.Context()
	w := mustWorld(t, s, "w")
	reg := mustCreateRegistration(t, s, regFixture(w.user, w.app.ID, "w-reg", t0))
	x := mustCreateSession(t, s, sessionFixture(w.user, w.app.ID, "s", t0))
	h0 := x.TokenHash

	requireRegistered := func(what string, o storage.SessionOwner) {
		t.Helper()
		if !o.Registered {
			t.Fatalf("%s: Registered = false, want true", what)
		}
		mustEqual(t, what+": registration", reg, o.Registration)
		mustEqual(t, what+": user", w.user, o.User)
	}
	requireRegistered("current value", mustFindOwner(t, s, h0, x, storage.MatchCurrent))
	r1, r2 := rotation("s", 1, at(time.Minute)), rotation("s", 2, at(2*time.Minute))
	mustOK(t, "RotateSession", s.RotateSession(ctx, x.ID, h0, r1))
	mustOK(t, "RotateSession", s.RotateSession(ctx, x.ID, r1.TokenHash, r2))
	x = rotated(rotated(x, r1), r2)
	requireRegistered("newest value", mustFindOwner(t, s, r2.TokenHash, x, storage.MatchCurrent))
	requireRegistered("previous value", mustFindOwner(t, s, r1.TokenHash, x, storage.MatchPrevious))
	requireRegistered("first value", mustFindOwner(t, s, h0, x, storage.MatchFormer))

	// Not registered: for an application the user has no registration
	// for, or none at all.
	other := mustCreateApp(t, s, w.tenant.ID, "w-other-app")
	y := mustCreateSession(t, s, sessionFixture(w.user, other.ID, "unregistered", t0))
	if o := mustFindOwner(t, s, y.TokenHash, y, storage.MatchCurrent); o.Registered {
		t.Errorf("session of an application without registration: Registered = true")
	}
	z := sessionFixture(w.user, "", "no-app", t0)
	z.Scopes, z.DPoPJKT, z.Device = nil, "", api.DeviceInfo{}
	mustCreateSession(t, s, z)
	if o := mustFindOwner(t, s, z.TokenHash, z, storage.MatchCurrent); o.Registered {
		t.Errorf("session without application: Registered = true")
	}
	mustNotFind(t, s, "FindSessionOwner of an unknown hash", sum("never issued"))

	// A transaction sees its own registration; once it is deleted, the
	// session is found unregistered.
	err := s.Tx(ctx, func(tx storage.Store) error {
		g := regFixture(w.user, other.ID, "w-other-reg", t0)
		if err := tx.CreateRegistration(ctx, g); err != nil {
			return err
		}
		o, m, err := tx.FindSessionOwner(ctx, y.TokenHash)
		if err != nil {
			return err
		}
		if m != storage.MatchCurrent || !o.Registered || o.Registration.ID != g.ID {
			t.Errorf("FindSessionOwner in the transaction that registered: match %v, Registered %v, registration %q; want current, true, %q",
				m, o.Registered, o.Registration.ID, g.ID)
		}
		return nil
	})
	mustOK(t, "Tx", err)
	mustOK(t, "DeleteRegistration", s.DeleteRegistration(ctx, w.user.ID, w.app.ID))
	if o := mustFindOwner(t, s, r2.TokenHash, x, storage.MatchCurrent); o.Registered {
		t.Errorf("session after DeleteRegistration: Registered = true")
	}
	// A revoked session is found too: the caller decides.
	_, err = s.RevokeSessions(ctx, storage.SessionFilter{ID: x.ID}, at(time.Hour), "test")
	mustOK(t, "RevokeSessions", err)
	if o := mustFindOwner(t, s, r2.TokenHash, mustGetSession(t, s, x.ID), storage.MatchCurrent); o.Session.RevokedAt.IsZero() {
		t.Errorf("revoked session found unrevoked")
	}
}
