// Package rotation holds the refresh-token rule: what a refresh does with
// a session, given how the value presented matched it, the policy that
// rules it and the time.
//
// A session that is revoked, expired or of no application refuses every
// value. Otherwise its current value refreshes: under OneTimeUse it
// rotates (the session gets a successor value, and the presented one
// becomes its previous), under Reusable it is touched (the session's use
// is recorded and, under a sliding window, its expiry moves). The previous
// value within the grace period after the rotation is an honest retry (a
// lost answer, a parallel request) and is handed the current value, with
// nothing written. Any other value the session once had (the previous one
// after the grace period, or an older one) is reuse: someone holds a
// copy, and the refresh is refused; under the tenant's onOneTimeTokenReuse
// the session is revoked, for the copy's holder and its owner alike.
//
// The functions are pure: the caller loads the session and the policy,
// asks Decide, and makes the one write the Decision names. That the
// rotation happens exactly once, of any number of concurrent refreshes,
// is the store's part (storage.Store.RotateSession).
package rotation

import (
	"time"

	"github.com/latchid/latch/api"
	"github.com/latchid/latch/internal/storage"
)

// Policy is what rules a session's refresh tokens: the usage and
// expiration policies of a jwtConfiguration, as durations, and the
// tenant's revocation on reuse.
type Policy struct {
	// OneTimeUse rotates the value on every refresh; otherwise it is
	// Reusable.
	OneTimeUse bool
	// Expiration is the refreshTokenExpirationPolicy: api.ExpirationFixed
	// (and any value not known), api.ExpirationSlidingWindow or
	// api.ExpirationSlidingWindowMaximum.
	Expiration string
	// TTL is the refresh token's time to live: from the login under Fixed,
	// from the last use under a sliding window.
	TTL time.Duration
	// MaxLifetime caps a sliding window, from the login, under
	// SlidingWindowWithMaximumLifetime.
	MaxLifetime time.Duration
	// Grace is how long after a rotation the previous value is a retry;
	// zero makes it reuse at once.
	Grace time.Duration
	// RevokeOnReuse revokes a session whose former value is presented
	// (the tenant's onOneTimeTokenReuse).
	RevokeOnReuse bool
}

// PolicyOf returns the Policy of a resolved jwtConfiguration (the one
// that rules the session: its application's when enabled, else its
// tenant's, with the tenant's revocation policy either way).
func PolicyOf(cfg api.JWTConfiguration) Policy {
	return Policy{
		OneTimeUse:    cfg.RefreshTokenUsagePolicy == api.RefreshOneTimeUse,
		Expiration:    cfg.RefreshTokenExpirationPolicy,
		TTL:           time.Duration(cfg.RefreshTokenTimeToLiveInMinutes) * time.Minute,
		MaxLifetime:   time.Duration(cfg.RefreshTokenSlidingWindowConfiguration.MaximumTimeToLiveInMinutes) * time.Minute,
		Grace:         time.Duration(cfg.RefreshTokenOneTimeUseConfiguration.GracePeriodInSeconds) * time.Second,
		RevokeOnReuse: cfg.RefreshTokenRevocationPolicy.OnOneTimeTokenReuse,
	}
}

// Expiry returns when a session that began at inserted (the login) and
// is used at now expires.
func (p Policy) Expiry(inserted, now time.Time) time.Time {
	switch p.Expiration {
	case api.ExpirationSlidingWindow:
		return now.Add(p.TTL)
	case api.ExpirationSlidingWindowMaximum:
		limit := inserted.Add(p.MaxLifetime)
		if e := now.Add(p.TTL); e.Before(limit) {
			return e
		}
		return limit
	default:
		return inserted.Add(p.TTL)
	}
}

// Action is what a refresh does.
type Action int

const (
	// Refuse: the session is revoked, expired or of no application.
	// Nothing is written.
	Refuse Action = iota
	// Rotate: issue a successor value (storage.Store.RotateSession).
	Rotate
	// Touch: keep the value, record the use (storage.Store.TouchSession).
	Touch
	// Retry: the previous value within the grace period; hand back the
	// current value (the sealed successor). Nothing is written.
	Retry
	// Reuse: a value the session no longer has. Refused, and the session
	// revoked when Decision.Revoke says so.
	Reuse
)

var actionNames = [...]string{Refuse: "Refuse", Rotate: "Rotate", Touch: "Touch", Retry: "Retry", Reuse: "Reuse"}

// String returns the action's name.
func (a Action) String() string {
	if a >= 0 && int(a) < len(actionNames) {
		return actionNames[a]
	}
	return "Action(?)"
}

// Decision is what a refresh does, and the session's new times when it
// writes any.
type Decision struct {
	Action Action
	// StartInstant and ExpiresAt are the session's, after a Rotate or a
	// Touch; zero otherwise.
	StartInstant time.Time
	ExpiresAt    time.Time
	// Revoke, with Reuse, revokes the session.
	Revoke bool
}

// Live reports whether a session takes any value at now: neither revoked
// nor expired.
func Live(sess storage.Session, now time.Time) bool {
	return sess.RevokedAt.IsZero() && now.Before(sess.ExpiresAt)
}

// Refreshable reports whether a session may be refreshed at now: live,
// and of an application.
func Refreshable(sess storage.Session, now time.Time) bool {
	return Live(sess, now) && sess.ApplicationID != ""
}

// Decide returns what a refresh at now does with sess, which the value
// presented matched as match.
func (p Policy) Decide(sess storage.Session, match storage.Match, now time.Time) Decision {
	switch {
	case !Refreshable(sess, now):
		return Decision{Action: Refuse}
	case match == storage.MatchCurrent && p.OneTimeUse:
		return Decision{Action: Rotate, StartInstant: now, ExpiresAt: p.Expiry(sess.Inserted, now)}
	case match == storage.MatchCurrent:
		start := sess.StartInstant
		if p.Expiration == api.ExpirationSlidingWindow || p.Expiration == api.ExpirationSlidingWindowMaximum {
			start = now
		}
		return Decision{Action: Touch, StartInstant: start, ExpiresAt: p.Expiry(sess.Inserted, now)}
	case p.InGrace(sess, match, now):
		return Decision{Action: Retry}
	default:
		return Decision{Action: Reuse, Revoke: p.RevokeOnReuse}
	}
}

// InGrace reports whether a value that matched sess as match is the
// previous one, presented within the grace period after the rotation:
// an honest retry, not reuse. It holds under either usage policy, for a
// session rotated before its policy became Reusable.
func (p Policy) InGrace(sess storage.Session, match storage.Match, now time.Time) bool {
	return match == storage.MatchPrevious && p.Grace > 0 && now.Sub(sess.RotatedAt) <= p.Grace
}
