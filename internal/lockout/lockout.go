// Package lockout holds the failed-login rule: how many passwords a login
// ID may have checked in a window, and when a lock starts and ends.
//
// The record is kept per tenant and login ID, whether or not a user has
// that ID, so that an unknown ID locks after the same failures with the
// same answer as a known one, and the lock tells nothing about which
// accounts exist. It counts two things in the current window: the checks
// that failed (Count) and the checks running now (InFlight).
//
// A check takes an in-flight slot before it runs (Reserve), and only
// while failures and in-flight checks together stay below Threshold, so
// that any number of parallel attempts, on any nodes, gets at most
// Threshold wrong passwords checked in a window. An attempt refused only
// because the slots are taken is not locked out: it gets Crowded, a
// transient answer that says nothing about the password (the caller
// retries in a moment). A lock starts only when completed failures reach
// the threshold (Fail); parallel logins with the right password never
// lock anyone out. Every finished check gives its slot back: a failure
// turns it into a failure, a check that never ran or ended without a
// verdict on the password is released (Release), and a success deletes
// the record (the right password lifts a lock and clears the failures).
// A node that dies mid-check leaks its slot only until the window ends,
// when the next attempt starts a new window with no slot taken.
//
// While a lock lasts no password is checked: every attempt gets the same
// answer, the right password included, and no attempt extends the lock,
// so its end is the same for everyone who asks.
//
// The functions are pure: the caller reads and writes the record
// (storage.Store.UpdateLoginAttempts runs each atomically). A reservation
// comes before the caller waits for a hashing slot, so that a flood of
// parallel attempts is refused at once rather than queued; one that then
// gets no slot is released.
package lockout

import (
	"time"

	"github.com/latchid/latch/internal/storage"
)

// Policy is a tenant's failedAuthenticationConfiguration as durations.
type Policy struct {
	// Threshold is the number of failed checks that starts the lock, and
	// the number of checks that may be failed or running at once in a
	// window. Zero turns the lockout off (failures are still counted).
	Threshold int
	// Window is how long the checks of a window count, from its first.
	Window time.Duration
	// Duration is how long a lock lasts; zero turns the lockout off.
	Duration time.Duration
}

// Verdict is what Reserve decides about a login attempt.
type Verdict int

const (
	// Granted: the password may be checked; the attempt holds an in-flight
	// slot until Fail or Release, or a success deletes the record.
	Granted Verdict = iota
	// Locked: the login ID is locked; every attempt gets the same answer.
	Locked
	// Crowded: failures and checks in flight fill the window's threshold;
	// the attempt may retry in a moment. It is no lock, and no password
	// was checked.
	Crowded
)

// String names v.
func (v Verdict) String() string {
	switch v {
	case Granted:
		return "granted"
	case Locked:
		return "locked"
	case Crowded:
		return "crowded"
	}
	return "unknown"
}

// on reports whether the policy ever locks.
func (p Policy) on() bool { return p.Threshold > 0 && p.Duration > 0 }

// Locked reports whether a refuses every attempt at now.
func (p Policy) Locked(a storage.LoginAttempts, now time.Time) bool {
	return now.Before(a.LockedUntil)
}

// Admit decides, without changing a, what Reserve would answer at now.
func (p Policy) Admit(a storage.LoginAttempts, now time.Time) Verdict {
	switch {
	case p.Locked(a, now):
		return Locked
	case p.fresh(a, now) || !p.on():
		return Granted
	case a.Count+a.InFlight >= p.Threshold:
		return Crowded
	}
	return Granted
}

// fresh reports whether an attempt at now starts a new window: there is
// no record, its window passed, or its lock ended.
func (p Policy) fresh(a storage.LoginAttempts, now time.Time) bool {
	return a.FirstAt.IsZero() || !a.LockedUntil.IsZero() || !now.Before(a.FirstAt.Add(p.Window))
}

// Reserve decides whether a login attempt at now may have its password
// checked, and returns the record to store: unchanged unless Granted;
// when Granted, with one more check in flight, in the current window or
// a new one (after the window passed or a lock ended, with no failure
// and no slot carried over).
func (p Policy) Reserve(a storage.LoginAttempts, now time.Time) (storage.LoginAttempts, Verdict) {
	v := p.Admit(a, now)
	if v != Granted {
		return a, v
	}
	if p.fresh(a, now) {
		a = storage.LoginAttempts{TenantID: a.TenantID, Key: a.Key, FirstAt: now}
	}
	a.InFlight++
	a.Expires = p.expires(a)
	return a, Granted
}

// Release gives back the slot of reserved, a reservation whose check
// never ran (no hashing slot was free) or ended without a verdict on the
// password (an error, an expired or inactive account), on a, the record
// as it is now. A record that moved on to another window, or is gone,
// is left alone.
func (p Policy) Release(a, reserved storage.LoginAttempts) storage.LoginAttempts {
	if !p.sameWindow(a, reserved) {
		return a
	}
	a.InFlight--
	a.Expires = p.expires(a)
	return a
}

// Fail records that the check of reserved failed at now, on a, the
// record as it is now: its slot becomes a failure, and the failure that
// reaches the threshold starts the lock (a window locks once: a lock is
// never extended or restarted by the checks that were running). A failure whose window moved on, or whose record is gone (a
// success of the same login ID deleted it), counts in the current record,
// starting a window if there is none.
func (p Policy) Fail(a, reserved storage.LoginAttempts, now time.Time) storage.LoginAttempts {
	switch {
	case p.sameWindow(a, reserved):
		a.InFlight--
	case a.FirstAt.IsZero():
		a.FirstAt = now
	}
	a.Count++
	a.LastFailure = now
	if p.on() && a.Count >= p.Threshold && a.LockedUntil.IsZero() {
		a.LockedUntil = now.Add(p.Duration)
	}
	a.Expires = p.expires(a)
	return a
}

// sameWindow reports whether reserved's slot is still counted in a.
func (p Policy) sameWindow(a, reserved storage.LoginAttempts) bool {
	return a.InFlight > 0 && !a.FirstAt.IsZero() && a.FirstAt.Equal(reserved.FirstAt)
}

// expires is when a stops mattering: the end of its window or its lock.
func (p Policy) expires(a storage.LoginAttempts) time.Time {
	end := a.FirstAt.Add(p.Window)
	if a.LockedUntil.After(end) {
		return a.LockedUntil
	}
	return end
}
