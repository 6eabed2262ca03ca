package rotation

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/latchid/latch/api"
	"github.com/latchid/latch/internal/storage"
)

// t0 is the login; every time below counts from it.
var t0 = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)

func at(d time.Duration) time.Time { return t0.Add(d) }

// policy is a refresh token of 60 minutes, capped at 90 under
// SlidingWindowWithMaximumLifetime, with a grace period of 30 s.
func policy(oneTimeUse bool, expiration string, revokeOnReuse bool) Policy {
	return Policy{OneTimeUse: oneTimeUse, Expiration: expiration, TTL: time.Hour, MaxLifetime: 90 * time.Minute,
		Grace: 30 * time.Second, RevokeOnReuse: revokeOnReuse}
}

func TestPolicy_Expiry(t *testing.T) {
	for _, tc := range []struct {
		name       string
		expiration string
		usedAt     time.Duration // after login
		want       time.Duration // expiry, after login
	}{
		{"Fixed at login", api.ExpirationFixed, 0, time.Hour},
		{"Fixed does not move on use", api.ExpirationFixed, 50 * time.Minute, time.Hour},
		{"unknown policy is Fixed", "", 50 * time.Minute, time.Hour},
		{"SlidingWindow moves on use", api.ExpirationSlidingWindow, 50 * time.Minute, 110 * time.Minute},
		{"SlidingWindow has no cap", api.ExpirationSlidingWindow, 10 * time.Hour, 11 * time.Hour},
		{"SlidingWindowWithMaximumLifetime moves", api.ExpirationSlidingWindowMaximum, 20 * time.Minute, 80 * time.Minute},
		{"SlidingWindowWithMaximumLifetime is capped", api.ExpirationSlidingWindowMaximum, 50 * time.Minute, 90 * time.Minute},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := policy(false, tc.expiration, false).Expiry(t0, at(tc.usedAt))
			if want := at(tc.want); !got.Equal(want) {
				t.Errorf("expiry = %v after login, want %v", got.Sub(t0), tc.want)
			}
		})
	}
}

// TestPolicy_Decide is the rule, for every usage policy, expiration
// policy and state of the value presented. The session was used last
// 10 minutes after the login; the refresh comes 50 minutes after it.
func TestPolicy_Decide(t *testing.T) {
	now := at(50 * time.Minute)
	usages := []struct {
		name       string
		oneTimeUse bool
	}{{api.RefreshReusable, false}, {api.RefreshOneTimeUse, true}}
	// The session's times after a refresh with its current value, by
	// usage and expiration policy: a rotation always restarts the start
	// instant, a touch only under a sliding window; the expiry stays an
	// hour after the login under Fixed, moves to an hour after now under
	// SlidingWindow, and to 90 minutes after the login (the cap) under
	// SlidingWindowWithMaximumLifetime.
	type times struct{ start, expires time.Duration }
	written := map[bool]map[string]times{
		false: {
			api.ExpirationFixed:                {10 * time.Minute, 60 * time.Minute},
			api.ExpirationSlidingWindow:        {50 * time.Minute, 110 * time.Minute},
			api.ExpirationSlidingWindowMaximum: {50 * time.Minute, 90 * time.Minute},
		},
		true: {
			api.ExpirationFixed:                {50 * time.Minute, 60 * time.Minute},
			api.ExpirationSlidingWindow:        {50 * time.Minute, 110 * time.Minute},
			api.ExpirationSlidingWindowMaximum: {50 * time.Minute, 90 * time.Minute},
		},
	}
	live := storage.Session{ID: "s", ApplicationID: "a", Inserted: t0, StartInstant: at(10 * time.Minute),
		ExpiresAt: at(60 * time.Minute), RotatedAt: at(10 * time.Minute), Generation: 1}
	with := func(change func(*storage.Session)) storage.Session {
		s := live
		change(&s)
		return s
	}
	rotatedAgo := func(d time.Duration) storage.Session {
		return with(func(s *storage.Session) { s.RotatedAt = now.Add(-d) })
	}
	const (
		current = iota // Rotate or Touch, by the usage policy
		retry
		reuse
		refuse
	)
	states := []struct {
		name  string
		sess  storage.Session
		match storage.Match
		want  int
	}{
		{"current", live, storage.MatchCurrent, current},
		{"current, never rotated", with(func(s *storage.Session) { s.RotatedAt, s.Generation = time.Time{}, 0 }), storage.MatchCurrent, current},
		{"current, a microsecond before expiry", with(func(s *storage.Session) { s.ExpiresAt = now.Add(time.Microsecond) }), storage.MatchCurrent, current},
		{"previous, just rotated", rotatedAgo(0), storage.MatchPrevious, retry},
		{"previous, within grace", rotatedAgo(10 * time.Second), storage.MatchPrevious, retry},
		{"previous, at the grace period's end", rotatedAgo(30 * time.Second), storage.MatchPrevious, retry},
		{"previous, after grace", rotatedAgo(30*time.Second + time.Microsecond), storage.MatchPrevious, reuse},
		{"previous, long after grace", rotatedAgo(time.Hour), storage.MatchPrevious, reuse},
		{"former, within grace of the last rotation", rotatedAgo(time.Second), storage.MatchFormer, reuse},
		{"former, after grace", rotatedAgo(time.Hour), storage.MatchFormer, reuse},
		{"current, expired", with(func(s *storage.Session) { s.ExpiresAt = now }), storage.MatchCurrent, refuse},
		{"previous within grace, expired", with(func(s *storage.Session) { s.ExpiresAt, s.RotatedAt = now, now }), storage.MatchPrevious, refuse},
		{"former, expired", with(func(s *storage.Session) { s.ExpiresAt = now.Add(-time.Minute) }), storage.MatchFormer, refuse},
		{"current, revoked", with(func(s *storage.Session) { s.RevokedAt = at(40 * time.Minute) }), storage.MatchCurrent, refuse},
		{"previous within grace, revoked", with(func(s *storage.Session) { s.RevokedAt, s.RotatedAt = now, now }), storage.MatchPrevious, refuse},
		{"former, revoked", with(func(s *storage.Session) { s.RevokedAt = at(40 * time.Minute) }), storage.MatchFormer, refuse},
		{"current, of no application", with(func(s *storage.Session) { s.ApplicationID = "" }), storage.MatchCurrent, refuse},
	}
	for _, usage := range usages {
		for _, expiration := range []string{api.ExpirationFixed, api.ExpirationSlidingWindow, api.ExpirationSlidingWindowMaximum} {
			for _, revoke := range []bool{false, true} {
				p := policy(usage.oneTimeUse, expiration, revoke)
				for _, st := range states {
					t.Run(fmt.Sprintf("%s/%s/revoke=%v/%s", usage.name, expiration, revoke, st.name), func(t *testing.T) {
						var want Decision
						switch st.want {
						case current:
							w := written[usage.oneTimeUse][expiration]
							want = Decision{Action: Touch, StartInstant: at(w.start), ExpiresAt: at(w.expires)}
							if usage.oneTimeUse {
								want.Action = Rotate
							}
						case retry:
							want = Decision{Action: Retry}
						case reuse:
							want = Decision{Action: Reuse, Revoke: revoke}
						case refuse:
							want = Decision{Action: Refuse}
						}
						if d := cmp.Diff(want, p.Decide(st.sess, st.match, now)); d != "" {
							t.Errorf("decision (-want +got):\n%s", d)
						}
					})
				}
			}
		}
	}
}

// TestPolicy_DecideNoGrace: without a grace period the previous value is
// reuse from the instant of the rotation.
func TestPolicy_DecideNoGrace(t *testing.T) {
	now := at(time.Minute)
	sess := storage.Session{ApplicationID: "a", Inserted: t0, StartInstant: now, ExpiresAt: at(time.Hour), RotatedAt: now, Generation: 1}
	for _, tc := range []struct {
		name   string
		revoke bool
	}{{"kept", false}, {"revoked", true}} {
		t.Run(tc.name, func(t *testing.T) {
			p := Policy{OneTimeUse: true, Expiration: api.ExpirationFixed, TTL: time.Hour, RevokeOnReuse: tc.revoke}
			got := p.Decide(sess, storage.MatchPrevious, now)
			if want := (Decision{Action: Reuse, Revoke: tc.revoke}); got != want {
				t.Errorf("Decide = %+v, want %+v", got, want)
			}
		})
	}
}

func TestPolicyOf(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  api.JWTConfiguration
		want Policy
	}{
		{"FusionAuth's defaults", api.JWTConfiguration{
			RefreshTokenTimeToLiveInMinutes: 43200, RefreshTokenUsagePolicy: api.RefreshReusable,
			RefreshTokenExpirationPolicy: api.ExpirationFixed,
		}, Policy{Expiration: api.ExpirationFixed, TTL: 30 * 24 * time.Hour}},
		{"every setting", api.JWTConfiguration{
			RefreshTokenTimeToLiveInMinutes:        60,
			RefreshTokenUsagePolicy:                api.RefreshOneTimeUse,
			RefreshTokenExpirationPolicy:           api.ExpirationSlidingWindowMaximum,
			RefreshTokenSlidingWindowConfiguration: api.SlidingWindowConfiguration{MaximumTimeToLiveInMinutes: 90},
			RefreshTokenOneTimeUseConfiguration:    api.OneTimeUseConfiguration{GracePeriodInSeconds: 30},
			RefreshTokenRevocationPolicy:           api.RevocationPolicy{OnOneTimeTokenReuse: true},
		}, Policy{OneTimeUse: true, Expiration: api.ExpirationSlidingWindowMaximum, TTL: time.Hour,
			MaxLifetime: 90 * time.Minute, Grace: 30 * time.Second, RevokeOnReuse: true}},
		{"other revocations do not revoke on reuse", api.JWTConfiguration{
			RefreshTokenUsagePolicy:      api.RefreshOneTimeUse,
			RefreshTokenRevocationPolicy: api.RevocationPolicy{OnLoginPrevented: true, OnPasswordChanged: true, OnMultiFactorEnable: true},
		}, Policy{OneTimeUse: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := PolicyOf(tc.cfg); got != tc.want {
				t.Errorf("PolicyOf =\n%+v\nwant\n%+v", got, tc.want)
			}
		})
	}
}

func TestAction_String(t *testing.T) {
	for a, want := range map[Action]string{Refuse: "Refuse", Rotate: "Rotate", Touch: "Touch", Retry: "Retry", Reuse: "Reuse", Action(9): "Action(?)"} {
		if got := a.String(); got != want {
			t.Errorf("%d: String = %q, want %q", int(a), got, want)
		}
	}
}
