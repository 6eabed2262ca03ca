package lockout

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/latchid/latch/internal/storage"
)

var t0 = time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)

func at(d time.Duration) time.Time { return t0.Add(d) }

// FusionAuth's defaults, and Latch's: 5 failures within 60 s lock for 3
// minutes.
var policy = Policy{Threshold: 5, Window: time.Minute, Duration: 3 * time.Minute}

var none = storage.LoginAttempts{TenantID: "t", Key: "k"}

// rec is a record of the test policy.
func rec(failures, inFlight int, first, locked time.Time) storage.LoginAttempts {
	a := storage.LoginAttempts{TenantID: "t", Key: "k", Count: failures, InFlight: inFlight, FirstAt: first, LockedUntil: locked}
	a.Expires = policy.expires(a)
	return a
}

func TestReserve(t *testing.T) {
	for _, tc := range []struct {
		name   string
		policy Policy
		cur    storage.LoginAttempts
		now    time.Time
		want   storage.LoginAttempts
		v      Verdict
	}{
		{"the first attempt", policy, none, t0, rec(0, 1, t0, time.Time{}), Granted},
		{"within the window", policy, rec(2, 1, t0, time.Time{}), at(30 * time.Second),
			rec(2, 2, t0, time.Time{}), Granted},
		{"the last slot of the threshold", policy, rec(4, 0, t0, time.Time{}), at(59 * time.Second),
			rec(4, 1, t0, time.Time{}), Granted},
		{"a reservation starts no lock", policy, rec(0, 4, t0, time.Time{}), at(time.Second),
			rec(0, 5, t0, time.Time{}), Granted},
		{"checks in flight fill the threshold: crowded, unchanged", policy, rec(0, 5, t0, time.Time{}), at(time.Second),
			rec(0, 5, t0, time.Time{}), Crowded},
		{"failures and checks in flight fill it: crowded", policy, rec(3, 2, t0, time.Time{}), at(time.Second),
			rec(3, 2, t0, time.Time{}), Crowded},
		{"leaked slots last until the window ends", policy, rec(0, 5, t0, time.Time{}), at(time.Minute),
			rec(0, 1, at(time.Minute), time.Time{}), Granted},
		{"locked: refused, unchanged", policy, rec(5, 0, t0, at(3*time.Minute)), at(time.Minute),
			rec(5, 0, t0, at(3*time.Minute)), Locked},
		{"locked: refused up to the last instant", policy, rec(5, 0, t0, at(3*time.Minute)), at(3*time.Minute - time.Microsecond),
			rec(5, 0, t0, at(3*time.Minute)), Locked},
		{"a lock that ended: a new window", policy, rec(5, 1, t0, at(3*time.Minute)), at(3 * time.Minute),
			rec(0, 1, at(3*time.Minute), time.Time{}), Granted},
		{"the window passed: a new one", policy, rec(4, 1, t0, time.Time{}), at(time.Minute),
			rec(0, 1, at(time.Minute), time.Time{}), Granted},
		{"lockout off: never crowded", Policy{Window: time.Minute}, rec(50, 3, t0, time.Time{}), at(time.Second),
			rec(50, 4, t0, time.Time{}), Granted},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if v := tc.policy.Admit(tc.cur, tc.now); v != tc.v {
				t.Errorf("Admit = %v, want %v", v, tc.v)
			}
			got, v := tc.policy.Reserve(tc.cur, tc.now)
			if v != tc.v {
				t.Errorf("Reserve = %v, want %v", v, tc.v)
			}
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("record (-want +got):\n%s", d)
			}
		})
	}
}

func TestFail(t *testing.T) {
	for _, tc := range []struct {
		name     string
		cur      storage.LoginAttempts
		reserved storage.LoginAttempts
		now      time.Time
		want     storage.LoginAttempts
	}{
		{"the slot becomes a failure", rec(1, 2, t0, time.Time{}), rec(0, 1, t0, time.Time{}), at(time.Second),
			withFailure(rec(2, 1, t0, time.Time{}), at(time.Second))},
		{"the threshold's failure starts the lock", rec(4, 1, t0, time.Time{}), rec(4, 1, t0, time.Time{}), at(10 * time.Second),
			withFailure(rec(5, 0, t0, at(10*time.Second+3*time.Minute)), at(10*time.Second))},
		{"a failure during the lock does not extend it", rec(5, 1, t0, at(3*time.Minute)), rec(3, 2, t0, time.Time{}), at(time.Minute),
			withFailure(rec(6, 0, t0, at(3*time.Minute)), at(time.Minute))},
		{"a failure after the lock ended does not restart it", rec(5, 1, t0, at(3*time.Minute)), rec(3, 2, t0, time.Time{}), at(4 * time.Minute),
			withFailure(rec(6, 0, t0, at(3*time.Minute)), at(4*time.Minute))},
		{"the window moved on: counted in the new one, its slots untouched", rec(0, 2, at(time.Minute), time.Time{}), rec(2, 1, t0, time.Time{}), at(61 * time.Second),
			withFailure(rec(1, 2, at(time.Minute), time.Time{}), at(61*time.Second))},
		{"the record is gone (a login deleted it): a new window", none, rec(0, 1, t0, time.Time{}), at(time.Second),
			withFailure(rec(1, 0, at(time.Second), time.Time{}), at(time.Second))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if d := cmp.Diff(tc.want, policy.Fail(tc.cur, tc.reserved, tc.now)); d != "" {
				t.Errorf("Fail (-want +got):\n%s", d)
			}
		})
	}
}

func withFailure(a storage.LoginAttempts, at time.Time) storage.LoginAttempts {
	a.LastFailure = at
	return a
}

func TestRelease(t *testing.T) {
	for _, tc := range []struct {
		name     string
		cur      storage.LoginAttempts
		reserved storage.LoginAttempts
		want     storage.LoginAttempts
	}{
		{"the slot is given back", rec(2, 3, t0, time.Time{}), rec(2, 1, t0, time.Time{}), rec(2, 2, t0, time.Time{})},
		{"no failure is counted", rec(0, 1, t0, time.Time{}), rec(0, 1, t0, time.Time{}), rec(0, 0, t0, time.Time{})},
		{"the window moved on: left alone", rec(0, 1, at(time.Minute), time.Time{}), rec(0, 1, t0, time.Time{}), rec(0, 1, at(time.Minute), time.Time{})},
		{"the record is gone: left alone", none, rec(0, 1, t0, time.Time{}), none},
		{"no slot left (taken by a new window at the same instant): left alone", rec(3, 0, t0, time.Time{}), rec(0, 1, t0, time.Time{}), rec(3, 0, t0, time.Time{})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if d := cmp.Diff(tc.want, policy.Release(tc.cur, tc.reserved)); d != "" {
				t.Errorf("Release (-want +got):\n%s", d)
			}
		})
	}
}

// attempt is one login attempt of a simulation: its reservation, and
// whether it was granted.
type attempt struct {
	reserved storage.LoginAttempts
	granted  bool
}

// reserveAll reserves n attempts at now, all before any check ends (the
// worst case of parallel attempts), and counts the verdicts.
func reserveAll(a *storage.LoginAttempts, n int, now time.Time) ([]attempt, map[Verdict]int) {
	out := make([]attempt, n)
	verdicts := map[Verdict]int{}
	for i := range out {
		var v Verdict
		*a, v = policy.Reserve(*a, now)
		out[i] = attempt{reserved: *a, granted: v == Granted}
		verdicts[v]++
	}
	return out, verdicts
}

// TestParallelGuesses: 50 wrong passwords at once get 5 checks; the rest
// are crowded out, not locked; the five failures then lock the login ID.
func TestParallelGuesses(t *testing.T) {
	a := none
	attempts, verdicts := reserveAll(&a, 50, t0)
	if verdicts[Granted] != 5 || verdicts[Crowded] != 45 {
		t.Fatalf("50 parallel attempts: %v; want 5 granted, 45 crowded", verdicts)
	}
	if policy.Locked(a, t0) {
		t.Fatal("locked before any check failed")
	}
	for _, at := range attempts {
		if at.granted {
			a = policy.Fail(a, at.reserved, t0.Add(time.Second))
		}
	}
	if !policy.Locked(a, at(time.Second)) || a.InFlight != 0 || a.Count != 5 {
		t.Fatalf("after 5 failures: %+v; want locked, 5 failures, none in flight", a)
	}
	if _, v := policy.Reserve(a, at(2*time.Second)); v != Locked {
		t.Errorf("an attempt after the lock: %v, want locked", v)
	}
}

// TestParallelRightPasswords: logins of one user with the right password,
// ten at a time, again and again, are granted or crowded out and never
// locked; a login deletes the record, as the caller does.
func TestParallelRightPasswords(t *testing.T) {
	a := none
	logins := 0
	for round := range 20 {
		now := at(time.Duration(round) * 5 * time.Second)
		attempts, verdicts := reserveAll(&a, 10, now)
		if verdicts[Locked] != 0 {
			t.Fatalf("round %d: %v; want none locked", round, verdicts)
		}
		for _, at := range attempts {
			if at.granted {
				logins++
				a = none // the login deletes the record
			}
		}
	}
	if logins < 20 || policy.Locked(a, at(2*time.Minute)) {
		t.Errorf("%d logins in 20 rounds, locked %v; want one a round at least, not locked", logins, policy.Locked(a, at(2*time.Minute)))
	}

	// Ten at once, none of which ends before the last is reserved, and
	// then released (an expired account, say): no lock, nothing left.
	a = none
	attempts, _ := reserveAll(&a, 10, t0)
	for _, at := range attempts {
		if at.granted {
			a = policy.Release(a, at.reserved)
		}
	}
	if policy.Locked(a, t0) || a.Count != 0 || a.InFlight != 0 {
		t.Errorf("after 10 checks released: %+v; want no failure, none in flight", a)
	}
}

// TestMixedPasswords: right and wrong passwords at once lock only when
// the wrong ones reach the threshold.
func TestMixedPasswords(t *testing.T) {
	a := none
	// Four wrong passwords and six right ones at once; the right ones that
	// are granted end last, the wrong ones fail first.
	attempts, _ := reserveAll(&a, 10, t0)
	for i, at := range attempts[:4] {
		if !at.granted {
			t.Fatalf("attempt %d not granted", i)
		}
		a = policy.Fail(a, at.reserved, t0)
	}
	if policy.Locked(a, t0) {
		t.Fatal("locked after 4 failures")
	}
	if v := policy.Admit(a, t0); v != Crowded {
		t.Errorf("4 failures and 1 in flight: %v, want crowded", v)
	}
	a = policy.Release(a, attempts[4].reserved) // a right password, account inactive
	if policy.Locked(a, t0) || a.InFlight != 0 {
		t.Fatalf("after 4 failures and a release: %+v", a)
	}
	// The fifth wrong one locks.
	a, v := policy.Reserve(a, at(time.Second))
	if v != Granted {
		t.Fatalf("the fifth check: %v", v)
	}
	a = policy.Fail(a, a, at(time.Second))
	if !policy.Locked(a, at(time.Second)) {
		t.Error("not locked after 5 failures")
	}
}
