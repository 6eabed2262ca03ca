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

func TestReserve(t *testing.T) {
	rec := func(count int, first, locked time.Time) storage.LoginAttempts {
		a := storage.LoginAttempts{TenantID: "t", Key: "k", Count: count, FirstAt: first, LockedUntil: locked}
		a.Expires = policy.expires(a)
		return a
	}
	for _, tc := range []struct {
		name    string
		policy  Policy
		cur     storage.LoginAttempts
		now     time.Time
		want    storage.LoginAttempts
		granted bool
	}{
		{"the first attempt", policy, storage.LoginAttempts{TenantID: "t", Key: "k"}, t0,
			rec(1, t0, time.Time{}), true},
		{"within the window", policy, rec(2, t0, time.Time{}), at(30 * time.Second),
			rec(3, t0, time.Time{}), true},
		{"the threshold's check starts the lock", policy, rec(4, t0, time.Time{}), at(59 * time.Second),
			rec(5, t0, at(59*time.Second+3*time.Minute)), true},
		{"locked: refused, unchanged", policy, rec(5, t0, at(3*time.Minute)), at(time.Minute),
			rec(5, t0, at(3*time.Minute)), false},
		{"locked: refused up to the last instant", policy, rec(5, t0, at(3*time.Minute)), at(3*time.Minute - time.Microsecond),
			rec(5, t0, at(3*time.Minute)), false},
		{"a lock that ended: a new window", policy, rec(5, t0, at(3*time.Minute)), at(3 * time.Minute),
			rec(1, at(3*time.Minute), time.Time{}), true},
		{"the window passed: a new one", policy, rec(4, t0, time.Time{}), at(time.Minute),
			rec(1, at(time.Minute), time.Time{}), true},
		{"a threshold of one locks at the first check", Policy{Threshold: 1, Window: time.Minute, Duration: time.Minute},
			storage.LoginAttempts{TenantID: "t", Key: "k"}, t0,
			storage.LoginAttempts{TenantID: "t", Key: "k", Count: 1, FirstAt: t0, LockedUntil: at(time.Minute), Expires: at(time.Minute)}, true},
		{"lockout off: counted, never locked", Policy{Window: time.Minute}, rec(50, t0, time.Time{}), at(time.Second),
			rec(51, t0, time.Time{}), true},
		{"no duration: never locked", Policy{Threshold: 1, Window: time.Minute}, rec(0, time.Time{}, time.Time{}), t0,
			rec(1, t0, time.Time{}), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, granted := tc.policy.Reserve(tc.cur, tc.now)
			if granted != tc.granted {
				t.Errorf("granted = %v, want %v", granted, tc.granted)
			}
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("record (-want +got):\n%s", d)
			}
		})
	}
}

// TestReserve_Sequence walks a login ID through failures, a lock, its end
// and the next window, as the attempts of a guesser would.
func TestReserve_Sequence(t *testing.T) {
	a := storage.LoginAttempts{TenantID: "t", Key: "k"}
	granted := 0
	var ok bool
	for i := range 50 { // 50 attempts within the window: 5 checks
		if a, ok = policy.Reserve(a, at(time.Duration(i)*time.Second)); ok {
			granted++
			a = policy.Fail(a, at(time.Duration(i)*time.Second))
		}
	}
	if granted != 5 {
		t.Fatalf("%d checks granted in one window, want 5", granted)
	}
	lockedUntil := at(4*time.Second + 3*time.Minute)
	if !a.LockedUntil.Equal(lockedUntil) {
		t.Fatalf("locked until %v, want %v (the fifth check's time + 3 minutes, not extended)", a.LockedUntil, lockedUntil)
	}
	if !policy.Locked(a, lockedUntil.Add(-time.Microsecond)) || policy.Locked(a, lockedUntil) {
		t.Error("Locked is wrong around the lock's end")
	}
	if !a.Expires.Equal(lockedUntil) {
		t.Errorf("expires %v, want the lock's end %v", a.Expires, lockedUntil)
	}
	if _, ok := policy.Reserve(a, lockedUntil); !ok {
		t.Error("refused after the lock ended")
	}
}

func TestFail(t *testing.T) {
	a, _ := policy.Reserve(storage.LoginAttempts{TenantID: "t", Key: "k"}, t0)
	got := policy.Fail(a, at(time.Second))
	want := a
	want.LastFailure = at(time.Second)
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("Fail (-want +got):\n%s", d)
	}
	// The record went away (a success deleted it): the failure counts anew.
	got = policy.Fail(storage.LoginAttempts{TenantID: "t", Key: "k"}, at(time.Second))
	want = storage.LoginAttempts{TenantID: "t", Key: "k", Count: 1, FirstAt: at(time.Second), LastFailure: at(time.Second), Expires: at(time.Second + time.Minute)}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("Fail of a deleted record (-want +got):\n%s", d)
	}
}

func TestRelease(t *testing.T) {
	fresh := storage.LoginAttempts{TenantID: "t", Key: "k"}
	first, _ := policy.Reserve(fresh, t0)
	if got := policy.Release(first, first); got.Count != 0 {
		t.Errorf("the only reservation released: count %d, want 0", got.Count)
	}

	// Four reserved and failed; the fifth reservation starts the lock, and
	// its release lifts it.
	a := fresh
	for i := range 4 {
		a, _ = policy.Reserve(a, at(time.Duration(i)*time.Second))
		a = policy.Fail(a, at(time.Duration(i)*time.Second))
	}
	before := a
	fifth, ok := policy.Reserve(a, at(5*time.Second))
	if !ok || fifth.LockedUntil.IsZero() {
		t.Fatalf("the fifth reservation: granted %v, locked until %v", ok, fifth.LockedUntil)
	}
	if d := cmp.Diff(before, policy.Release(fifth, fifth)); d != "" {
		t.Errorf("released fifth reservation (-before +got):\n%s", d)
	}

	// A record that moved on to a new window is left alone.
	later, _ := policy.Reserve(fifth, at(10*time.Minute))
	if d := cmp.Diff(later, policy.Release(later, fifth)); d != "" {
		t.Errorf("release of an old window's reservation changed the record (-want +got):\n%s", d)
	}
}
