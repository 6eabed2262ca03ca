package storagetest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/latchid/latch/api"
	"github.com/latchid/latch/internal/storage"
)

var (
	errBoom  = errors.New("storagetest: boom")
	errInner = errors.New("storagetest: inner")
)

// txFixture is the state that txWrites changes.
type txFixture struct {
	w        world
	reg      storage.Registration
	rotating storage.Session
	revoking storage.Session
}

// txWrites makes one write of every kind on tx (new records named after n,
// changes to f's records), checking along the way that tx reads its own
// writes.
func txWrites(ctx context.Context, tx storage.Store, f txFixture, n string) error {
	tn := tenantFixture("tx-tenant-" + n)
	a := appFixture(tn.ID, "tx-app-"+n)
	u := userFixture(tn.ID, "tx-user-"+n, n+"@tx.example.com")
	x := sessionFixture(u, a.ID, "tx-session-"+n, t0)
	changed := f.w.user
	changed.Profile.FirstName = "Changed " + n
	steps := []struct {
		what string
		do   func() error
	}{
		{"CreateTenant", func() error { return tx.CreateTenant(ctx, tn) }},
		{"UpdateTenant", func() error { tn.Name = "Updated " + n; return tx.UpdateTenant(ctx, tn) }},
		{"CreateApplication", func() error { return tx.CreateApplication(ctx, a) }},
		{"CreateUser", func() error { return tx.CreateUser(ctx, u) }},
		{"CreateRegistration", func() error { return tx.CreateRegistration(ctx, regFixture(u, a.ID, "tx-reg-"+n, t0)) }},
		{"CreateSession", func() error { return tx.CreateSession(ctx, x) }},
		{"UpdateUser", func() error { return tx.UpdateUser(ctx, changed) }},
		{"DeleteRegistration", func() error { return tx.DeleteRegistration(ctx, f.reg.UserID, f.reg.ApplicationID) }},
		{"RotateSession", func() error {
			return tx.RotateSession(ctx, f.rotating.ID, f.rotating.TokenHash, rotation("rotating", 1, at(time.Minute)))
		}},
		{"RevokeSessions", func() error {
			_, err := tx.RevokeSessions(ctx, storage.SessionFilter{ID: f.revoking.ID}, at(time.Minute), "tx")
			return err
		}},
		{"UpdateLoginAttempts", func() error {
			_, err := tx.UpdateLoginAttempts(ctx, f.w.tenant.ID, "tx-"+n, func(a storage.LoginAttempts) (storage.LoginAttempts, error) {
				a.Count, a.FirstAt, a.Expires = 3, t0, at(time.Hour)
				return a, nil
			})
			return err
		}},
		{"PutMeta", func() error { return tx.PutMeta(ctx, "tx-"+n, n) }},
		{"CreateKey", func() error { return tx.CreateKey(ctx, keyFixture("tx-key-"+n, t0)) }},
		{"CreateAPIKey", func() error { return tx.CreateAPIKey(ctx, apiKeyFixture("", "tx-api-key-"+n, t0)) }},
		// Reads inside the transaction see its writes.
		{"GetTenant in tx", func() error {
			got, err := tx.GetTenant(ctx, tn.ID)
			if err == nil && got.Name != tn.Name {
				err = fmt.Errorf("name %q, want %q", got.Name, tn.Name)
			}
			return err
		}},
		{"GetUserByEmail in tx", func() error { _, err := tx.GetUserByEmail(ctx, tn.ID, u.Email); return err }},
		{"FindSession of the rotated value in tx", func() error {
			_, m, err := tx.FindSession(ctx, sum("rotating/1"))
			if err == nil && m != storage.MatchCurrent {
				err = fmt.Errorf("match %v", m)
			}
			return err
		}},
		{"ListSessions in tx", func() error {
			xs, err := tx.ListSessions(ctx, storage.SessionFilter{ID: f.revoking.ID})
			if err == nil && len(xs) != 0 {
				err = errors.New("lists a session revoked in the transaction")
			}
			return err
		}},
		{"GetRegistration in tx", func() error {
			_, err := tx.GetRegistration(ctx, f.reg.UserID, f.reg.ApplicationID)
			if errors.Is(err, storage.ErrNotFound) {
				return nil
			}
			return fmt.Errorf("deleted registration: err = %v, want ErrNotFound", err)
		}},
		{"GetMeta in tx", func() error { _, err := tx.GetMeta(ctx, "tx-"+n); return err }},
	}
	for _, st := range steps {
		if err := st.do(); err != nil {
			return fmt.Errorf("%s: %w", st.what, err)
		}
	}
	return nil
}

// checkTxWrites checks that txWrites(..., n) took effect (committed) or did
// not (rolled back), wholly.
func checkTxWrites(t *testing.T, s storage.Store, f txFixture, n string, committed bool) {
	t.Helper()
	ctx := t.Context()
	state := "rolled back"
	if committed {
		state = "committed"
	}
	present := func(what string, err error) {
		t.Helper()
		if committed {
			if err != nil {
				t.Errorf("%s write: %s: %v", state, what, err)
			}
		} else {
			checkErr(t, state+" write: "+what, err, storage.ErrNotFound)
		}
	}
	_, err := s.GetTenant(ctx, id("tx-tenant-"+n))
	present("GetTenant", err)
	_, err = s.GetApplication(ctx, id("tx-app-"+n))
	present("GetApplication", err)
	_, err = s.GetUser(ctx, id("tx-user-"+n))
	present("GetUser", err)
	_, err = s.GetRegistration(ctx, id("tx-user-"+n), id("tx-app-"+n))
	present("GetRegistration", err)
	_, err = s.GetSession(ctx, id("tx-session-"+n))
	present("GetSession", err)
	_, err = s.GetLoginAttempts(ctx, f.w.tenant.ID, "tx-"+n)
	present("GetLoginAttempts", err)
	_, err = s.GetMeta(ctx, "tx-"+n)
	present("GetMeta", err)
	_, err = s.GetKey(ctx, id("tx-key-"+n))
	present("GetKey", err)
	_, err = s.GetAPIKey(ctx, id("tx-api-key-"+n))
	present("GetAPIKey", err)
	_, _, err = s.FindSession(ctx, sum("rotating/1"))
	present("FindSession of the rotated value", err)

	_, err = s.GetRegistration(ctx, f.reg.UserID, f.reg.ApplicationID)
	if committed {
		checkErr(t, "committed DeleteRegistration", err, storage.ErrNotFound)
	} else if err != nil {
		t.Errorf("rolled back DeleteRegistration: %v", err)
	}
	u := mustGetUser(t, s, f.w.user.ID)
	rot := mustGetSession(t, s, f.rotating.ID)
	rev := mustGetSession(t, s, f.revoking.ID)
	if committed {
		if u.Profile.FirstName != "Changed "+n {
			t.Errorf("committed UpdateUser: first name %q", u.Profile.FirstName)
		}
		if rot.Generation != 1 {
			t.Errorf("committed RotateSession: generation %d", rot.Generation)
		}
		if rev.RevokedAt.IsZero() {
			t.Errorf("committed RevokeSessions: session not revoked")
		}
	} else {
		mustEqual(t, "user after a rolled back UpdateUser", f.w.user, u)
		mustEqual(t, "session after a rolled back RotateSession", f.rotating, rot)
		mustEqual(t, "session after a rolled back RevokeSessions", f.revoking, rev)
	}
}

func testTxCommitRollback(t *testing.T, s storage.Store) {
	ctx := withTimeout(t, time.Minute) // a Tx that waits for itself fails, not hangs
	w := mustWorld(t, s, "w")
	f := txFixture{
		w:        w,
		reg:      mustCreateRegistration(t, s, regFixture(w.user, w.app.ID, "w-reg", t0)),
		rotating: mustCreateSession(t, s, sessionFixture(w.user, w.app.ID, "rotating", t0)),
		revoking: mustCreateSession(t, s, sessionFixture(w.user, w.app.ID, "revoking", t0)),
	}

	// fn's error rolls back every write, and comes back from Tx.
	err := s.Tx(ctx, func(tx storage.Store) error {
		if err := txWrites(ctx, tx, f, "rb"); err != nil {
			return err
		}
		return errBoom
	})
	if !errors.Is(err, errBoom) {
		t.Fatalf("Tx whose function fails: err = %v, want %v", err, errBoom)
	}
	checkTxWrites(t, s, f, "rb", false)

	// A nil error commits them all.
	mustOK(t, "Tx", s.Tx(ctx, func(tx storage.Store) error { return txWrites(ctx, tx, f, "ok") }))
	checkTxWrites(t, s, f, "ok", true)

	// A storage error inside rolls back what came before it.
	err = s.Tx(ctx, func(tx storage.Store) error {
		if err := tx.CreateTenant(ctx, tenantFixture("before-conflict")); err != nil {
			return err
		}
		return tx.CreateTenant(ctx, w.tenant)
	})
	checkErr(t, "Tx returning a conflict", err, storage.ErrConflict)
	_, err = s.GetTenant(ctx, id("before-conflict"))
	checkErr(t, "write before a conflict in a failed Tx", err, storage.ErrNotFound)

	// A nested Tx joins the outer one: it sees the outer writes, and its
	// writes go with the outer outcome.
	for _, commit := range []bool{false, true} {
		outer, inner := fmt.Sprintf("nest-outer-%v", commit), fmt.Sprintf("nest-inner-%v", commit)
		err := s.Tx(ctx, func(tx storage.Store) error {
			if err := tx.CreateTenant(ctx, tenantFixture(outer)); err != nil {
				return err
			}
			err := tx.Tx(ctx, func(tx2 storage.Store) error {
				if _, err := tx2.GetTenant(ctx, id(outer)); err != nil {
					return fmt.Errorf("nested Tx does not see the outer write: %w", err)
				}
				return tx2.CreateTenant(ctx, tenantFixture(inner))
			})
			if err != nil {
				return err
			}
			if _, err := tx.GetTenant(ctx, id(inner)); err != nil {
				return fmt.Errorf("outer Tx does not see the nested write: %w", err)
			}
			if !commit {
				return errBoom
			}
			return nil
		})
		for _, name := range []string{outer, inner} {
			_, gerr := s.GetTenant(ctx, id(name))
			if commit {
				mustOK(t, "nested Tx", err)
				if gerr != nil {
					t.Errorf("committed nested Tx: %s: %v", name, gerr)
				}
			} else {
				if !errors.Is(err, errBoom) {
					t.Fatalf("failed nested Tx: err = %v, want %v", err, errBoom)
				}
				checkErr(t, "rolled back nested Tx: "+name, gerr, storage.ErrNotFound)
			}
		}
	}
	err = s.Tx(ctx, func(tx storage.Store) error {
		if err := tx.Tx(ctx, func(storage.Store) error { return errInner }); !errors.Is(err, errInner) {
			return fmt.Errorf("nested Tx returned %v, want %v", err, errInner)
		}
		return nil
	})
	mustOK(t, "Tx with a failing nested Tx", err)

	// A panic rolls back, and leaves the store usable.
	func() {
		defer func() {
			if p := recover(); p != errBoom {
				t.Errorf("Tx whose function panics: recovered %v, want the panic to go through", p)
			}
		}()
		_ = s.Tx(ctx, func(tx storage.Store) error {
			if err := tx.CreateTenant(ctx, tenantFixture("panicked")); err != nil {
				return err
			}
			panic(errBoom)
		})
	}()
	_, err = s.GetTenant(ctx, id("panicked"))
	checkErr(t, "write of a panicked Tx", err, storage.ErrNotFound)
	quick := withTimeout(t, 10*time.Second)
	mustOK(t, "write after a panicked Tx", s.CreateTenant(quick, tenantFixture("after-panic")))
	mustOK(t, "Tx after a panicked Tx", s.Tx(quick, func(tx storage.Store) error {
		return tx.PutMeta(quick, "after-panic", "ok")
	}))
}

func testErrors(t *testing.T, s storage.Store) {
	ctx := withTimeout(t, time.Minute)
	w := mustWorld(t, s, "w")
	named := userFixture(w.tenant.ID, "named", "named@example.com")
	named.Username = "named"
	mustCreateUser(t, s, named)
	reg := mustCreateRegistration(t, s, regFixture(w.user, w.app.ID, "reg", t0))
	x := mustCreateSession(t, s, sessionFixture(w.user, w.app.ID, "s", t0))
	mustOK(t, "RotateSession", s.RotateSession(ctx, x.ID, x.TokenHash, rotation("s", 1, at(time.Minute))))
	gone := mustCreateSession(t, s, sessionFixture(w.user, w.app.ID, "gone", t0))
	_, err := s.RevokeSessions(ctx, storage.SessionFilter{ID: gone.ID}, at(time.Minute), "test")
	mustOK(t, "RevokeSessions", err)
	key := keyFixture("key", t0)
	mustOK(t, "CreateKey", s.CreateKey(ctx, key))
	ak := apiKeyFixture("", "api-key", t0)
	mustOK(t, "CreateAPIKey", s.CreateAPIKey(ctx, ak))
	mustOK(t, "PutMeta", s.PutMeta(ctx, "set", "x"))

	missing := id("missing")
	missingUser := userFixture(w.tenant.ID, "missing", "missing@example.com")
	taken := w.user
	taken.Email = "NAMED@example.com"
	takenName := w.user
	takenName.Username = "NAMED"
	dupRegID := regFixture(named, w.app.ID, "reg", t0)
	dupSessID := sessionFixture(w.user, w.app.ID, "s", t0)
	dupSessID.TokenHash = sum("fresh")
	dupSessHash := sessionFixture(w.user, w.app.ID, "s-2", t0)
	dupSessHash.TokenHash = sum("s/1")
	dupKid := keyFixture("key-2", t0)
	dupKid.Kid = key.Kid
	dupAKHash := apiKeyFixture("", "api-key-2", t0)
	dupAKHash.Hash = ak.Hash
	dupAKID := apiKeyFixture("", "api-key", t0)
	dupAKID.Hash = sum("fresh")
	rot := rotation("s", 2, at(time.Hour))

	cases := []struct {
		name string
		call func(storage.Store) error
		want error
	}{
		{"CreateTenant", func(s storage.Store) error { return s.CreateTenant(ctx, w.tenant) }, storage.ErrConflict},
		{"GetTenant", func(s storage.Store) error { _, err := s.GetTenant(ctx, missing); return err }, storage.ErrNotFound},
		{"UpdateTenant", func(s storage.Store) error { return s.UpdateTenant(ctx, api.Tenant{ID: missing}) }, storage.ErrNotFound},
		{"DeleteTenant", func(s storage.Store) error { return s.DeleteTenant(ctx, missing) }, storage.ErrNotFound},

		{"CreateApplication", func(s storage.Store) error { return s.CreateApplication(ctx, w.app) }, storage.ErrConflict},
		{"GetApplication", func(s storage.Store) error { _, err := s.GetApplication(ctx, missing); return err }, storage.ErrNotFound},
		{"UpdateApplication", func(s storage.Store) error { return s.UpdateApplication(ctx, appFixture(w.tenant.ID, "missing")) }, storage.ErrNotFound},
		{"DeleteApplication", func(s storage.Store) error { return s.DeleteApplication(ctx, missing) }, storage.ErrNotFound},

		{"CreateUser id", func(s storage.Store) error { return s.CreateUser(ctx, w.user) }, storage.ErrConflict},
		{"CreateUser email", func(s storage.Store) error {
			return s.CreateUser(ctx, userFixture(w.tenant.ID, "other", "Named@Example.com"))
		}, storage.ErrConflict},
		{"CreateUser username", func(s storage.Store) error {
			u := userFixture(w.tenant.ID, "other", "")
			u.Username = "Named"
			return s.CreateUser(ctx, u)
		}, storage.ErrConflict},
		{"GetUser", func(s storage.Store) error { _, err := s.GetUser(ctx, missing); return err }, storage.ErrNotFound},
		{"GetUserByEmail", func(s storage.Store) error {
			_, err := s.GetUserByEmail(ctx, w.tenant.ID, "missing@example.com")
			return err
		}, storage.ErrNotFound},
		{"GetUserByUsername", func(s storage.Store) error { _, err := s.GetUserByUsername(ctx, w.tenant.ID, "missing"); return err }, storage.ErrNotFound},
		{"UpdateUser missing", func(s storage.Store) error { return s.UpdateUser(ctx, missingUser) }, storage.ErrNotFound},
		{"UpdateUser email", func(s storage.Store) error { return s.UpdateUser(ctx, taken) }, storage.ErrConflict},
		{"UpdateUser username", func(s storage.Store) error { return s.UpdateUser(ctx, takenName) }, storage.ErrConflict},
		{"DeleteUser", func(s storage.Store) error { return s.DeleteUser(ctx, missing) }, storage.ErrNotFound},

		{"CreateRegistration pair", func(s storage.Store) error {
			return s.CreateRegistration(ctx, regFixture(w.user, w.app.ID, "reg-2", t0))
		}, storage.ErrConflict},
		{"CreateRegistration id", func(s storage.Store) error { return s.CreateRegistration(ctx, dupRegID) }, storage.ErrConflict},
		{"GetRegistration", func(s storage.Store) error { _, err := s.GetRegistration(ctx, named.ID, w.app.ID); return err }, storage.ErrNotFound},
		{"UpdateRegistration", func(s storage.Store) error {
			return s.UpdateRegistration(ctx, regFixture(named, w.app.ID, "reg-3", t0))
		}, storage.ErrNotFound},
		{"DeleteRegistration", func(s storage.Store) error { return s.DeleteRegistration(ctx, named.ID, reg.ApplicationID) }, storage.ErrNotFound},

		{"CreateSession id", func(s storage.Store) error { return s.CreateSession(ctx, dupSessID) }, storage.ErrConflict},
		{"CreateSession hash", func(s storage.Store) error { return s.CreateSession(ctx, dupSessHash) }, storage.ErrConflict},
		{"GetSession", func(s storage.Store) error { _, err := s.GetSession(ctx, missing); return err }, storage.ErrNotFound},
		{"FindSession", func(s storage.Store) error { _, _, err := s.FindSession(ctx, sum("unknown")); return err }, storage.ErrNotFound},
		{"RotateSession stale", func(s storage.Store) error { return s.RotateSession(ctx, x.ID, x.TokenHash, rot) }, storage.ErrStale},
		{"RotateSession revoked", func(s storage.Store) error {
			return s.RotateSession(ctx, gone.ID, gone.TokenHash, rotation("gone", 1, at(time.Hour)))
		}, storage.ErrStale},
		{"RotateSession missing", func(s storage.Store) error { return s.RotateSession(ctx, missing, x.TokenHash, rot) }, storage.ErrNotFound},
		{"TouchSession revoked", func(s storage.Store) error {
			return s.TouchSession(ctx, gone.ID, storage.Touch{LastUsed: at(time.Hour), ExpiresAt: at(2 * time.Hour)})
		}, storage.ErrStale},
		{"TouchSession missing", func(s storage.Store) error {
			return s.TouchSession(ctx, missing, storage.Touch{LastUsed: at(time.Hour)})
		}, storage.ErrNotFound},

		{"CreateKey id", func(s storage.Store) error { return s.CreateKey(ctx, key) }, storage.ErrConflict},
		{"CreateKey kid", func(s storage.Store) error { return s.CreateKey(ctx, dupKid) }, storage.ErrConflict},
		{"GetKey", func(s storage.Store) error { _, err := s.GetKey(ctx, missing); return err }, storage.ErrNotFound},
		{"UpdateKey", func(s storage.Store) error { return s.UpdateKey(ctx, keyFixture("missing", t0)) }, storage.ErrNotFound},
		{"DeleteKey", func(s storage.Store) error { return s.DeleteKey(ctx, missing) }, storage.ErrNotFound},

		{"CreateAPIKey id", func(s storage.Store) error { return s.CreateAPIKey(ctx, dupAKID) }, storage.ErrConflict},
		{"CreateAPIKey hash", func(s storage.Store) error { return s.CreateAPIKey(ctx, dupAKHash) }, storage.ErrConflict},
		{"GetAPIKey", func(s storage.Store) error { _, err := s.GetAPIKey(ctx, missing); return err }, storage.ErrNotFound},
		{"GetAPIKeyByHash", func(s storage.Store) error { _, err := s.GetAPIKeyByHash(ctx, sum("unknown")); return err }, storage.ErrNotFound},
		{"DeleteAPIKey", func(s storage.Store) error { return s.DeleteAPIKey(ctx, missing) }, storage.ErrNotFound},

		{"GetLoginAttempts", func(s storage.Store) error { _, err := s.GetLoginAttempts(ctx, w.tenant.ID, "none"); return err }, storage.ErrNotFound},
		{"UpdateLoginAttempts of a missing tenant", func(s storage.Store) error {
			_, err := s.UpdateLoginAttempts(ctx, missing, "k", func(a storage.LoginAttempts) (storage.LoginAttempts, error) {
				a.Count, a.Expires = 1, at(time.Hour)
				return a, nil
			})
			return err
		}, storage.ErrNotFound},

		{"GetMeta", func(s storage.Store) error { _, err := s.GetMeta(ctx, "unset"); return err }, storage.ErrNotFound},
		{"PutMeta", func(s storage.Store) error { return s.PutMeta(ctx, "set", "y") }, storage.ErrConflict},
	}
	for _, c := range cases {
		checkErr(t, c.name, c.call(s), c.want)
		// The same inside a transaction, whose error Tx passes on.
		checkErr(t, c.name+" in Tx", s.Tx(ctx, func(tx storage.Store) error { return c.call(tx) }), c.want)
	}
}

func testPingClose(t *testing.T, s storage.Store) {
	ctx := withTimeout(t, time.Minute)
	mustOK(t, "Ping", s.Ping(ctx))
	mustOK(t, "Tx", s.Tx(ctx, func(tx storage.Store) error {
		if err := tx.Ping(ctx); err != nil {
			return fmt.Errorf("Ping in Tx: %w", err)
		}
		if err := tx.Close(); err == nil {
			return errors.New("Close on a transaction: no error")
		}
		return tx.PutMeta(ctx, "after-close-attempt", "x")
	}))
	if _, err := s.GetMeta(ctx, "after-close-attempt"); err != nil {
		t.Errorf("GetMeta after a Tx that tried Close: %v", err)
	}
	mustOK(t, "Ping after Tx", s.Ping(ctx))
}
