package storagetest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/latchid/latch/internal/storage"
)

// methodFixture is a two-factor method of u named name.
func methodFixture(u storage.User, name string, inserted time.Time) storage.TwoFactorMethod {
	return storage.TwoFactorMethod{ID: name, UserID: u.ID, Method: "authenticator", SecretSealed: []byte("sealed:" + name), Inserted: inserted}
}

// testTwoFactorMethods: create, list (oldest first, per user), conflict,
// delete, and the cascade of a user's deletion.
func testTwoFactorMethods(t *testing.T, s storage.Store) {
	ctx := t.Context()
	w := mustWorld(t, s, "w")
	other := mustCreateUser(t, s, userFixture(w.tenant.ID, "other", "other@example.com"))
	a, b := methodFixture(w.user, "AAAA", at(time.Second)), methodFixture(w.user, "BBBB", t0)
	mustOK(t, "CreateTwoFactorMethod a", s.CreateTwoFactorMethod(ctx, a))
	mustOK(t, "CreateTwoFactorMethod b", s.CreateTwoFactorMethod(ctx, b))
	mustOK(t, "CreateTwoFactorMethod of another user, same id", s.CreateTwoFactorMethod(ctx, methodFixture(other, "AAAA", t0)))
	mustErr(t, "CreateTwoFactorMethod of an existing id", s.CreateTwoFactorMethod(ctx, a), storage.ErrConflict)
	mustErr(t, "CreateTwoFactorMethod of an unknown user",
		s.CreateTwoFactorMethod(ctx, methodFixture(storage.User{ID: id("nobody")}, "CCCC", t0)), storage.ErrNotFound)
	if err := s.CreateTwoFactorMethod(ctx, storage.TwoFactorMethod{ID: "DDDD", UserID: w.user.ID, Method: "authenticator", Inserted: t0}); err == nil {
		t.Error("CreateTwoFactorMethod without a sealed secret: no error")
	}

	got, err := s.ListTwoFactorMethods(ctx, w.user.ID)
	mustOK(t, "ListTwoFactorMethods", err)
	mustEqual(t, "ListTwoFactorMethods", []storage.TwoFactorMethod{b, a}, got)
	got, err = s.ListTwoFactorMethods(ctx, id("nobody"))
	mustOK(t, "ListTwoFactorMethods of an unknown user", err)
	mustEqual(t, "methods of an unknown user", 0, len(got))

	mustOK(t, "DeleteTwoFactorMethod", s.DeleteTwoFactorMethod(ctx, w.user.ID, "BBBB"))
	mustErr(t, "DeleteTwoFactorMethod again", s.DeleteTwoFactorMethod(ctx, w.user.ID, "BBBB"), storage.ErrNotFound)
	mustErr(t, "DeleteTwoFactorMethod of another user's id", s.DeleteTwoFactorMethod(ctx, w.user.ID, "ZZZZ"), storage.ErrNotFound)
	got, _ = s.ListTwoFactorMethods(ctx, w.user.ID)
	mustEqual(t, "methods after the deletion", []storage.TwoFactorMethod{a}, got)

	// Deleting a user deletes its methods, codes, logins and trusts.
	mustOK(t, "ReplaceRecoveryCodes", s.ReplaceRecoveryCodes(ctx, other.ID, [][]byte{sum("r1")}))
	mustOK(t, "CreateTwoFactorLogin", s.CreateTwoFactorLogin(ctx, loginFixture(other, "gone")))
	mustOK(t, "CreateTwoFactorTrust", s.CreateTwoFactorTrust(ctx, storage.TwoFactorTrust{Hash: sum("trust gone"), UserID: other.ID, Inserted: t0, Expires: at(time.Hour)}))
	mustOK(t, "DeleteUser", s.DeleteUser(ctx, other.ID))
	got, _ = s.ListTwoFactorMethods(ctx, other.ID)
	mustEqual(t, "methods of a deleted user", 0, len(got))
	n, err := s.CountRecoveryCodes(ctx, other.ID)
	mustOK(t, "CountRecoveryCodes", err)
	mustEqual(t, "recovery codes of a deleted user", 0, n)
	_, err = s.GetTwoFactorLogin(ctx, sum("2fa:gone"))
	mustErr(t, "GetTwoFactorLogin of a deleted user", err, storage.ErrNotFound)
	_, err = s.GetTwoFactorTrust(ctx, sum("trust gone"))
	mustErr(t, "GetTwoFactorTrust of a deleted user", err, storage.ErrNotFound)
}

// testRecoveryCodes: replace, count, spend once, replace again (the old
// codes stop working), clear.
func testRecoveryCodes(t *testing.T, s storage.Store) {
	ctx := t.Context()
	w := mustWorld(t, s, "w")
	count := func(want int) {
		t.Helper()
		n, err := s.CountRecoveryCodes(ctx, w.user.ID)
		mustOK(t, "CountRecoveryCodes", err)
		mustEqual(t, "recovery codes", want, n)
	}
	use := func(what string, code string, want bool) {
		t.Helper()
		ok, err := s.UseRecoveryCode(ctx, w.user.ID, sum(code))
		mustOK(t, what, err)
		mustEqual(t, what, want, ok)
	}
	count(0)
	mustOK(t, "ReplaceRecoveryCodes", s.ReplaceRecoveryCodes(ctx, w.user.ID, [][]byte{sum("r1"), sum("r2"), sum("r3")}))
	count(3)
	use("UseRecoveryCode r2", "r2", true)
	use("UseRecoveryCode r2 again", "r2", false)
	use("UseRecoveryCode of a code never issued", "nope", false)
	count(2)
	mustOK(t, "ReplaceRecoveryCodes again", s.ReplaceRecoveryCodes(ctx, w.user.ID, [][]byte{sum("s1"), sum("s2")}))
	use("UseRecoveryCode of a replaced code", "r1", false)
	use("UseRecoveryCode s1", "s1", true)
	count(1)
	mustOK(t, "ReplaceRecoveryCodes with none", s.ReplaceRecoveryCodes(ctx, w.user.ID, nil))
	count(0)
	mustErr(t, "ReplaceRecoveryCodes of an unknown user", s.ReplaceRecoveryCodes(ctx, id("nobody"), [][]byte{sum("x")}), storage.ErrNotFound)
	mustErr(t, "ReplaceRecoveryCodes of an unknown user, none", s.ReplaceRecoveryCodes(ctx, id("nobody"), nil), storage.ErrNotFound)

	// In a transaction that rolls back, nothing is replaced.
	mustOK(t, "ReplaceRecoveryCodes", s.ReplaceRecoveryCodes(ctx, w.user.ID, [][]byte{sum("t1")}))
	errRollback := errors.New("roll back")
	err := s.Tx(ctx, func(tx storage.Store) error {
		if err := tx.ReplaceRecoveryCodes(ctx, w.user.ID, [][]byte{sum("u1"), sum("u2")}); err != nil {
			return err
		}
		return errRollback
	})
	if !errors.Is(err, errRollback) {
		t.Fatalf("Tx: %v, want the function's error", err)
	}
	count(1)
	use("UseRecoveryCode after a rolled back replacement", "t1", true)
}

// testTwoFactorCodes: a code is used once per (user, method, step) until
// its record expires.
func testTwoFactorCodes(t *testing.T, s storage.Store) {
	ctx := t.Context()
	w := mustWorld(t, s, "w")
	use := func(what, user, method string, step int64, now, expires time.Time, want bool) {
		t.Helper()
		fresh, err := s.UseTwoFactorCode(ctx, user, method, step, now, expires)
		mustOK(t, what, err)
		mustEqual(t, what, want, fresh)
	}
	u := w.user.ID
	use("first use", u, "AAAA", 100, t0, at(time.Minute), true)
	use("second use", u, "AAAA", 100, at(time.Second), at(time.Minute), false)
	use("next step", u, "AAAA", 101, at(time.Second), at(time.Minute), true)
	use("another method", u, "BBBB", 100, at(time.Second), at(time.Minute), true)
	use("another user", id("u2"), "AAAA", 100, at(time.Second), at(time.Minute), true)
	use("use at the expiry", u, "AAAA", 100, at(time.Minute), at(2*time.Minute), true)
	use("use after the takeover", u, "AAAA", 100, at(time.Minute), at(2*time.Minute), false)

	n, err := s.CollectTwoFactor(ctx, at(90*time.Second))
	mustOK(t, "CollectTwoFactor", err)
	mustEqual(t, "records collected", int64(3), n)
	use("use after its record was kept", u, "AAAA", 100, at(95*time.Second), at(3*time.Minute), false)
}

// loginFixture is a waiting login of u whose id is "2fa:"+name.
func loginFixture(u storage.User, name string) storage.TwoFactorLogin {
	return storage.TwoFactorLogin{Hash: sum("2fa:" + name), TenantID: u.TenantID, UserID: u.ID, ApplicationID: id("app"),
		LoginKey: "key-" + name, Address: "203.0.113.7", DPoPJKT: "jkt-" + name, Inserted: t0, Expires: at(5 * time.Minute)}
}

// testTwoFactorLogins: create, get, delete once; trusts; collection.
func testTwoFactorLogins(t *testing.T, s storage.Store) {
	ctx := t.Context()
	w := mustWorld(t, s, "w")
	l := loginFixture(w.user, "a")
	mustOK(t, "CreateTwoFactorLogin", s.CreateTwoFactorLogin(ctx, l))
	mustErr(t, "CreateTwoFactorLogin again", s.CreateTwoFactorLogin(ctx, l), storage.ErrConflict)
	bare := storage.TwoFactorLogin{Hash: sum("2fa:bare"), TenantID: w.tenant.ID, UserID: w.user.ID, Inserted: t0, Expires: at(time.Minute)}
	mustOK(t, "CreateTwoFactorLogin without application, key or client", s.CreateTwoFactorLogin(ctx, bare))
	mustErr(t, "CreateTwoFactorLogin of an unknown user",
		s.CreateTwoFactorLogin(ctx, loginFixture(storage.User{ID: id("nobody"), TenantID: w.tenant.ID}, "x")), storage.ErrNotFound)
	got, err := s.GetTwoFactorLogin(ctx, l.Hash)
	mustOK(t, "GetTwoFactorLogin", err)
	mustEqual(t, "GetTwoFactorLogin", l, got)
	got, err = s.GetTwoFactorLogin(ctx, bare.Hash)
	mustOK(t, "GetTwoFactorLogin bare", err)
	mustEqual(t, "GetTwoFactorLogin bare", bare, got)
	_, err = s.GetTwoFactorLogin(ctx, sum("2fa:none"))
	mustErr(t, "GetTwoFactorLogin of an unknown hash", err, storage.ErrNotFound)
	mustOK(t, "DeleteTwoFactorLogin", s.DeleteTwoFactorLogin(ctx, l.Hash))
	mustErr(t, "DeleteTwoFactorLogin again", s.DeleteTwoFactorLogin(ctx, l.Hash), storage.ErrNotFound)
	_, err = s.GetTwoFactorLogin(ctx, l.Hash)
	mustErr(t, "GetTwoFactorLogin after the deletion", err, storage.ErrNotFound)

	tr := storage.TwoFactorTrust{Hash: sum("trust"), UserID: w.user.ID, Inserted: t0, Expires: at(30 * 24 * time.Hour)}
	mustOK(t, "CreateTwoFactorTrust", s.CreateTwoFactorTrust(ctx, tr))
	mustErr(t, "CreateTwoFactorTrust again", s.CreateTwoFactorTrust(ctx, tr), storage.ErrConflict)
	gotTr, err := s.GetTwoFactorTrust(ctx, tr.Hash)
	mustOK(t, "GetTwoFactorTrust", err)
	mustEqual(t, "GetTwoFactorTrust", tr, gotTr)
	mustOK(t, "DeleteTwoFactorTrusts", s.DeleteTwoFactorTrusts(ctx, w.user.ID))
	_, err = s.GetTwoFactorTrust(ctx, tr.Hash)
	mustErr(t, "GetTwoFactorTrust after DeleteTwoFactorTrusts", err, storage.ErrNotFound)

	// Collection deletes what expired before the given time, and only that.
	mustOK(t, "CreateTwoFactorTrust", s.CreateTwoFactorTrust(ctx, storage.TwoFactorTrust{Hash: sum("short"), UserID: w.user.ID, Inserted: t0, Expires: at(time.Minute)}))
	mustOK(t, "CreateTwoFactorLogin", s.CreateTwoFactorLogin(ctx, loginFixture(w.user, "long")))
	n, err := s.CollectTwoFactor(ctx, at(2*time.Minute))
	mustOK(t, "CollectTwoFactor", err)
	mustEqual(t, "records collected", int64(2), n) // bare and the short trust
	_, err = s.GetTwoFactorLogin(ctx, bare.Hash)
	mustErr(t, "GetTwoFactorLogin of a collected login", err, storage.ErrNotFound)
	_, err = s.GetTwoFactorLogin(ctx, sum("2fa:long"))
	mustOK(t, "GetTwoFactorLogin of a login not expired", err)
}

// RunTwoFactorNodes races the one-time uses of two-factor records over
// a and b, two stores on one database (two nodes): of concurrent uses of
// one code, one recovery code or one waiting login, spread over both,
// exactly one succeeds.
func RunTwoFactorNodes(t *testing.T, a, b storage.Store) {
	ctx := withTimeout(t, time.Minute)
	w := mustWorld(t, a, "nodes")
	nodes := []storage.Store{a, b}
	errUsed := errors.New("used")
	for round := range 5 {
		step := int64(1000 + round)
		errs := race(racers, func(i int) error {
			fresh, err := nodes[i%2].UseTwoFactorCode(ctx, w.user.ID, "AAAA", step, t0, at(time.Minute))
			if err == nil && !fresh {
				err = errUsed
			}
			return err
		})
		oneWinner(t, fmt.Sprintf("round %d: UseTwoFactorCode", round), errs, errUsed)

		code := fmt.Sprint("recovery", round)
		mustOK(t, "ReplaceRecoveryCodes", a.ReplaceRecoveryCodes(ctx, w.user.ID, [][]byte{sum(code)}))
		errs = race(racers, func(i int) error {
			ok, err := nodes[i%2].UseRecoveryCode(ctx, w.user.ID, sum(code))
			if err == nil && !ok {
				err = errUsed
			}
			return err
		})
		oneWinner(t, fmt.Sprintf("round %d: UseRecoveryCode", round), errs, errUsed)

		l := loginFixture(w.user, fmt.Sprint("raced", round))
		mustOK(t, "CreateTwoFactorLogin", a.CreateTwoFactorLogin(ctx, l))
		errs = race(racers, func(i int) error { return nodes[i%2].DeleteTwoFactorLogin(ctx, l.Hash) })
		oneWinner(t, fmt.Sprintf("round %d: DeleteTwoFactorLogin", round), errs, storage.ErrNotFound)
	}
}

// testTwoFactorRaces runs RunTwoFactorNodes with s as both nodes.
func testTwoFactorRaces(t *testing.T, s storage.Store) { RunTwoFactorNodes(t, s, s) }
