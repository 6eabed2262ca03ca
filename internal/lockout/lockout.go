// Package lockout holds the failed-login rule: how many passwords a login
// ID may have checked in a window, and when a lock starts and ends.
//
// The count is kept per tenant and login ID, whether or not a user has
// that ID, so that an unknown ID locks after the same failures with the
// same answer as a known one, and the lock tells nothing about which
// accounts exist. A password check is reserved (counted) before it runs,
// so that any number of parallel attempts gets at most Threshold checks
// in a window: the reservation that reaches the threshold starts the
// lock, which the right password lifts (the login succeeds and the record
// is deleted) and a wrong one leaves in force. While a lock lasts no
// password is checked: every attempt gets the same answer, the right
// password included, and no attempt extends the lock, so its end is the
// same for everyone who asks.
//
// The functions are pure: the caller reads and writes the record
// (storage.Store.UpdateLoginAttempts runs Reserve atomically). A
// reservation comes before the caller waits for a hashing slot, so that a
// flood of parallel attempts is refused at once rather than queued; one
// that then gets no slot is released.
package lockout

import (
	"time"

	"github.com/latchid/latch/internal/storage"
)

// Policy is a tenant's failedAuthenticationConfiguration as durations.
type Policy struct {
	// Threshold is the number of password checks a window allows; the
	// check that reaches it starts the lock unless it succeeds. Zero turns
	// the lockout off (attempts are still counted).
	Threshold int
	// Window is how long the checks of a window count, from its first.
	Window time.Duration
	// Duration is how long a lock lasts; zero turns the lockout off.
	Duration time.Duration
}

// on reports whether the policy ever locks.
func (p Policy) on() bool { return p.Threshold > 0 && p.Duration > 0 }

// Locked reports whether a refuses every attempt at now.
func (p Policy) Locked(a storage.LoginAttempts, now time.Time) bool {
	return now.Before(a.LockedUntil)
}

// Reserve decides whether a login attempt at now may have its password
// checked, and returns the record to store either way: refused while a
// lock lasts (the record unchanged); otherwise counted, in the current
// window or a new one (after the window passed or a lock ended), and, if
// it reaches the threshold, starting the lock.
func (p Policy) Reserve(a storage.LoginAttempts, now time.Time) (storage.LoginAttempts, bool) {
	if p.Locked(a, now) {
		return a, false
	}
	if a.Count == 0 || !a.LockedUntil.IsZero() || !now.Before(a.FirstAt.Add(p.Window)) {
		a = storage.LoginAttempts{TenantID: a.TenantID, Key: a.Key, FirstAt: now}
	}
	a.Count++
	if p.on() && a.Count >= p.Threshold {
		a.LockedUntil = now.Add(p.Duration)
	}
	a.Expires = p.expires(a)
	return a, true
}

// Release undoes reserved, a reservation whose check never ran (no
// hashing slot was free), on a, the record as it is now: the count goes
// back down, and a lock that the reservation started is lifted. A record
// that moved on to another window is left alone.
func (p Policy) Release(a, reserved storage.LoginAttempts) storage.LoginAttempts {
	if a.Count == 0 || !a.FirstAt.Equal(reserved.FirstAt) {
		return a
	}
	a.Count--
	if !reserved.LockedUntil.IsZero() && a.LockedUntil.Equal(reserved.LockedUntil) {
		a.LockedUntil = time.Time{}
	}
	a.Expires = p.expires(a)
	return a
}

// Fail records that a reserved check at now failed. A record that is
// gone (a success of the same login ID deleted it meanwhile) starts
// again with this failure.
func (p Policy) Fail(a storage.LoginAttempts, now time.Time) storage.LoginAttempts {
	if a.Count == 0 {
		a.Count, a.FirstAt = 1, now
	}
	a.LastFailure = now
	a.Expires = p.expires(a)
	return a
}

// expires is when a stops mattering: the end of its window or its lock.
func (p Policy) expires(a storage.LoginAttempts) time.Time {
	end := a.FirstAt.Add(p.Window)
	if a.LockedUntil.After(end) {
		return a.LockedUntil
	}
	return end
}
