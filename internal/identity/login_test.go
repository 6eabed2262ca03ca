package identity

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/latchid/latch/api"
	"github.com/latchid/latch/internal/password"
	"github.com/latchid/latch/internal/storage"
)

// wantOutcome checks a login's outcome (0: ErrBadCredentials).
func wantOutcome(t *testing.T, what string, res LoginResult, err error, want LoginOutcome) {
	t.Helper()
	switch {
	case want == 0 && !errors.Is(err, ErrBadCredentials):
		t.Fatalf("%s: %v, %v; want ErrBadCredentials", what, res.Outcome, err)
	case want != 0 && err != nil:
		t.Fatalf("%s: %v", what, err)
	case want != 0 && res.Outcome != want:
		t.Fatalf("%s: outcome %v, want %v", what, res.Outcome, want)
	}
}

// TestLogin_Lockout: five wrong passwords within a minute lock the login
// ID for three minutes (the tenant defaults); while locked, the right
// password and a wrong one get the same answer and neither is checked;
// attempts do not extend the lock; afterwards the right password works,
// and the success clears the count.
func TestLogin_Lockout(t *testing.T) {
	e := newEnv(t)
	e.mustUser(t, "ana@example.org")
	lockStart := e.clock.Now()
	for i := range 5 {
		res, err := e.login("ana@example.org", "wrong password")
		wantOutcome(t, "wrong password", res, err, 0)
		if i < 4 {
			e.clock.Advance(10 * time.Second)
		}
	}
	lockedUntil := e.clock.Now().Add(3 * time.Minute)
	checked := e.PasswordChecks()
	if checked != 5 {
		t.Fatalf("%d passwords checked, want 5", checked)
	}

	e.clock.Advance(time.Minute)
	right, err := e.login("ana@example.org", testPassword)
	wantOutcome(t, "right password while locked", right, err, LoginPrevented)
	wrong, err := e.login("ana@example.org", "wrong password")
	wantOutcome(t, "wrong password while locked", wrong, err, LoginPrevented)
	if d := cmp.Diff(right, wrong); d != "" {
		t.Errorf("the right and a wrong password get different answers while locked (-right +wrong):\n%s", d)
	}
	want := []api.LoginPreventedResponse{{ActionID: lockoutActionID, Name: "Account Lock", LocalizedName: "Account Lock",
		Expiry: lockedUntil.UnixMilli(), Reason: "Too many failed login attempts", ReasonCode: "failed_authentication"}}
	if d := cmp.Diff(want, right.Response.Actions); d != "" {
		t.Errorf("actions (-want +got):\n%s", d)
	}
	if e.PasswordChecks() != checked {
		t.Errorf("%d passwords checked while locked, want none", e.PasswordChecks()-checked)
	}

	// The lock ends when it said, attempts notwithstanding.
	e.clock.Set(lockedUntil.Add(-time.Millisecond))
	res, err := e.login("ana@example.org", testPassword)
	wantOutcome(t, "right password a moment before the lock ends", res, err, LoginPrevented)
	e.clock.Set(lockedUntil)
	res, err = e.login("ana@example.org", testPassword)
	wantOutcome(t, "right password when the lock ends", res, err, LoginOK)
	_ = lockStart

	// The success cleared the count: four failures do not lock.
	for range 4 {
		res, err := e.login("ana@example.org", "wrong password")
		wantOutcome(t, "wrong password after the lock", res, err, 0)
	}
	res, err = e.login("ana@example.org", testPassword)
	wantOutcome(t, "right password after four failures", res, err, LoginOK)
}

// TestLogin_LockoutWindow: failures older than the window are forgotten.
func TestLogin_LockoutWindow(t *testing.T) {
	e := newEnv(t)
	e.mustUser(t, "ana@example.org")
	for range 4 {
		res, err := e.login("ana@example.org", "wrong password")
		wantOutcome(t, "wrong password", res, err, 0)
	}
	e.clock.Advance(time.Minute)
	for range 4 {
		res, err := e.login("ana@example.org", "wrong password")
		wantOutcome(t, "wrong password in a new window", res, err, 0)
	}
	res, err := e.login("ana@example.org", testPassword)
	wantOutcome(t, "right password", res, err, LoginOK)
}

// TestLogin_LockoutUnknownID: a login ID no user has locks after the same
// failures, with the same answer as a user's, so the lock tells nothing
// about which accounts exist.
func TestLogin_LockoutUnknownID(t *testing.T) {
	e := newEnv(t)
	e.mustUser(t, "ana@example.org")
	for range 5 {
		res, err := e.login("ana@example.org", "wrong password")
		wantOutcome(t, "known ID", res, err, 0)
		res, err = e.login("nobody@example.org", "wrong password")
		wantOutcome(t, "unknown ID", res, err, 0)
	}
	known, err := e.login("ana@example.org", testPassword)
	wantOutcome(t, "known ID, locked", known, err, LoginPrevented)
	unknown, err := e.login("nobody@example.org", testPassword)
	wantOutcome(t, "unknown ID, locked", unknown, err, LoginPrevented)
	if d := cmp.Diff(known, unknown); d != "" {
		t.Errorf("a locked known ID and a locked unknown one differ (-known +unknown):\n%s", d)
	}
}

// TestLogin_LockoutKey: the login ID is folded (an email's case does not
// open a new count) and kept only as a keyed hash.
func TestLogin_LockoutKey(t *testing.T) {
	e := newEnv(t)
	e.mustUser(t, "ana@example.org")
	for _, id := range []string{"ana@example.org", "Ana@Example.org", "ANA@EXAMPLE.ORG", "ana@EXAMPLE.org", "aNa@example.org"} {
		res, err := e.login(id, "wrong password")
		wantOutcome(t, id, res, err, 0)
	}
	res, err := e.login("ana@example.org", testPassword)
	wantOutcome(t, "right password after five failures in any case", res, err, LoginPrevented)

	tenant, err := e.store.ListTenants(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	a, err := e.store.GetLoginAttempts(e.ctx, tenant[0].ID, e.logins().key("ana@example.org"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(strings.ToLower(a.Key), "ana") || len(a.Key) != 64 {
		t.Errorf("key %q: want a hex SHA-256-sized keyed hash", a.Key)
	}
}

// parallelLogins runs a login of loginID with each password at once and
// returns how many ended with each outcome (0: ErrBadCredentials, -1:
// ErrBusy).
func parallelLogins(t *testing.T, e *env, loginID string, passwords []string) map[LoginOutcome]int {
	t.Helper()
	outcomes := make([]LoginOutcome, len(passwords))
	var wg sync.WaitGroup
	for i, pw := range passwords {
		wg.Go(func() {
			res, err := e.login(loginID, pw)
			switch {
			case errors.Is(err, ErrBadCredentials):
			case errors.Is(err, ErrBusy):
				outcomes[i] = -1
			case err != nil:
				t.Errorf("attempt %d: %v", i, err)
			default:
				outcomes[i] = res.Outcome
			}
		})
	}
	wg.Wait()
	count := map[LoginOutcome]int{}
	for _, o := range outcomes {
		count[o]++
	}
	return count
}

// repeat returns n copies of s.
func repeat(n int, s string) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = s
	}
	return out
}

// TestLogin_ParallelGuesses: any number of parallel attempts gets at most
// the threshold's number of passwords checked in a window; the others are
// refused as busy while checks run, as locked once five failed.
func TestLogin_ParallelGuesses(t *testing.T) {
	// Room for every attempt to wait for a hashing slot: under the race
	// detector a hash takes long.
	e := newEnv(t, withHashing(password.NewGate(2, 50, time.Minute)))
	e.mustUser(t, "ana@example.org")
	const attempts = 50
	count := parallelLogins(t, e, "ana@example.org", repeat(attempts, "wrong password"))
	if got := e.PasswordChecks(); got != 5 {
		t.Errorf("%d passwords checked under %d parallel attempts, want 5", got, attempts)
	}
	if count[0] != 5 || count[-1]+count[LoginPrevented] != attempts-5 {
		t.Errorf("outcomes %v; want 5 failures, %d busy or locked", count, attempts-5)
	}
	res, err := e.login("ana@example.org", testPassword)
	wantOutcome(t, "right password after five failures", res, err, LoginPrevented)
}

// TestLogin_ParallelRightPasswords: logins of one user at once, all with
// the right password, log in or are told to retry (busy), never locked,
// round after round; a mix of right and wrong passwords locks only when
// five wrong ones failed.
func TestLogin_ParallelRightPasswords(t *testing.T) {
	e := newEnv(t, withHashing(password.NewGate(2, 50, time.Minute)))
	e.mustUser(t, "ana@example.org")
	tenants, err := e.store.ListTenants(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	noneInFlight := func(what string) {
		t.Helper()
		a, err := e.store.GetLoginAttempts(e.ctx, tenants[0].ID, e.logins().key("ana@example.org"))
		if err != nil && !errors.Is(err, storage.ErrNotFound) {
			t.Fatal(err)
		}
		if a.InFlight != 0 || e.clock.Now().Before(a.LockedUntil) {
			t.Errorf("%s: %+v; want no check in flight, no lock", what, a)
		}
	}
	for round := range 3 {
		count := parallelLogins(t, e, "ana@example.org", repeat(10, testPassword))
		if count[LoginOK] == 0 || count[LoginOK]+count[-1] != 10 {
			t.Errorf("round %d: 10 right passwords at once: %v; want logins and busy answers only", round, count)
		}
		noneInFlight("after the right passwords")
	}

	mixed := append(repeat(4, "wrong password"), repeat(6, testPassword)...)
	count := parallelLogins(t, e, "ana@example.org", mixed)
	if count[LoginPrevented] != 0 || count[0] > 4 || count[LoginOK]+count[0]+count[-1] != 10 {
		t.Errorf("4 wrong and 6 right passwords at once: %v; want no lock", count)
	}
	noneInFlight("after 4 wrong and 6 right passwords")
	res, err := e.login("ana@example.org", testPassword)
	wantOutcome(t, "right password after the mix", res, err, LoginOK)

	count = parallelLogins(t, e, "ana@example.org", repeat(5, "wrong password"))
	if count[0] != 5 {
		t.Fatalf("5 wrong passwords at once: %v; want 5 failures", count)
	}
	res, err = e.login("ana@example.org", testPassword)
	wantOutcome(t, "right password after 5 failures", res, err, LoginPrevented)
}

// TestLogin_LockoutKeepsSessions: an anonymous guesser who locks a user
// out does not end the user's sessions (onLoginPrevented is not applied
// to the failed-login lock).
func TestLogin_LockoutKeepsSessions(t *testing.T) {
	e := newEnv(t)
	e.mustUser(t, "ana@example.org")
	before, err := e.login("ana@example.org", testPassword)
	wantOutcome(t, "login", before, err, LoginOK)
	for range 5 {
		res, err := e.login("ana@example.org", "wrong password")
		wantOutcome(t, "wrong password", res, err, 0)
	}
	res, err := e.login("ana@example.org", testPassword)
	wantOutcome(t, "locked", res, err, LoginPrevented)
	if _, err := e.Refresh(e.ctx, RefreshInput{RefreshToken: before.Response.RefreshToken}); err != nil {
		t.Errorf("refresh of a session from before the lock: %v", err)
	}
}

// TestLogin_FailuresLookAlike: an unknown ID, a wrong password, a wrong
// password for a user imported with a cheap scheme and a user without a
// password each check one password and store the same record.
func TestLogin_FailuresLookAlike(t *testing.T) {
	e := newEnv(t)
	e.mustUser(t, "ana@example.org")
	if err := e.ImportUsers(e.ctx, "", api.ImportRequest{Users: []api.User{{
		Email: "imported@example.org", EncryptionScheme: "salted-sha256", Factor: 1, Active: true, // "password"
		Salt: "4MTVxbvk8swI0ys2Lf4saeR3swRvn0f2", Password: "wLAU6Ma/KdGKjOhvQaKD6G3NSlpzDUxj8iJjA6FdjsA=",
	}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.CreateUser(e.ctx, "", "", api.UserRequest{User: api.User{Email: "nopassword@example.org"}, SendSetPasswordEmail: true}); err != nil {
		t.Fatal(err)
	}
	tenants, err := e.store.ListTenants(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	var records []storage.LoginAttempts
	for _, id := range []string{"nobody@example.org", "ana@example.org", "imported@example.org", "nopassword@example.org"} {
		before := e.PasswordChecks()
		res, err := e.login(id, "wrong password")
		wantOutcome(t, id, res, err, 0)
		if n := e.PasswordChecks() - before; n != 1 {
			t.Errorf("%s: %d passwords checked, want 1", id, n)
		}
		a, err := e.store.GetLoginAttempts(e.ctx, tenants[0].ID, e.logins().key(id))
		if err != nil {
			t.Fatalf("%s: %v", id, err)
		}
		a.Key = ""
		records = append(records, a)
	}
	for i, a := range records[1:] {
		if d := cmp.Diff(records[0], a); d != "" {
			t.Errorf("record %d differs from the unknown ID's (-unknown +got):\n%s", i+1, d)
		}
	}
	// The imported user's right password still works.
	res, err := e.login("imported@example.org", "password")
	wantOutcome(t, "imported user (not registered), right password", res, err, LoginNotRegistered)
}

// TestLogin_Busy: with every hashing slot taken, a login is refused with
// ErrBusy: at once, counting nothing, when the queue is full too; after
// its wait, with its slot given back, when there was room to wait.
func TestLogin_Busy(t *testing.T) {
	for _, tc := range []struct {
		name  string
		queue int
	}{
		{"queue full", 0},
		{"wait ended", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			gate := password.NewGate(1, tc.queue, time.Millisecond)
			e := newEnv(t, withHashing(gate))
			e.mustUser(t, "ana@example.org")
			release, err := gate.Enter(e.ctx)
			if err != nil {
				t.Fatal(err)
			}
			_, err = e.login("ana@example.org", testPassword)
			if !errors.Is(err, ErrBusy) {
				t.Fatalf("login with no hashing slot: %v, want ErrBusy", err)
			}
			tenants, _ := e.store.ListTenants(e.ctx)
			a, err := e.store.GetLoginAttempts(e.ctx, tenants[0].ID, e.logins().key("ana@example.org"))
			if (err != nil && !errors.Is(err, storage.ErrNotFound)) || a.Count != 0 || a.InFlight != 0 || !a.LockedUntil.IsZero() {
				t.Errorf("a refused login counted an attempt: %+v, %v", a, err)
			}
			release()
			res, err := e.login("ana@example.org", testPassword)
			wantOutcome(t, "login with a free slot", res, err, LoginOK)
		})
	}
}
