package identity

import (
	"fmt"
	"testing"
	"time"

	"github.com/latchid/latch/api"
)

// TestLogin_LockoutPolicy: the lock follows the tenant's
// failedAuthenticationConfiguration: its threshold, its window (counted
// from the window's first failure) and its duration in the unit named;
// a threshold or a duration of zero never locks. Each case has a tenant of
// its own, and the lock of one tenant is not another's.
func TestLogin_LockoutPolicy(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.mustImport(t, "", api.User{Email: "ana@example.org"})
	type step struct {
		after time.Duration // since the previous step
		pw    string
		want  LoginOutcome // 0: bad credentials
	}
	const wrong = "wrong password"
	for _, tc := range []struct {
		name             string
		attempts, window int
		length           int64
		unit             string
		steps            []step
		lockedFor        time.Duration // the lock's length, 0 for none
	}{
		{"threshold 2, an hour", 2, 30, 1, "HOURS", []step{
			{0, wrong, 0}, {29 * time.Second, wrong, 0}, {0, testPassword, LoginPrevented},
			{time.Hour - time.Millisecond, testPassword, LoginPrevented}, {time.Millisecond, testPassword, LoginOK},
		}, time.Hour},
		{"window passed", 2, 30, 1, "HOURS", []step{
			{0, wrong, 0}, {30 * time.Second, wrong, 0}, {0, testPassword, LoginOK},
		}, 0},
		{"threshold 1, a day", 1, 60, 1, "DAYS", []step{
			{0, wrong, 0}, {23 * time.Hour, testPassword, LoginPrevented}, {time.Hour, testPassword, LoginOK},
		}, 24 * time.Hour},
		{"weeks", 1, 60, 2, "WEEKS", []step{{0, wrong, 0}}, 14 * 24 * time.Hour},
		{"threshold 0: off", 0, 60, 3, "MINUTES", []step{
			{0, wrong, 0}, {0, wrong, 0}, {0, testPassword, LoginOK},
		}, 0},
		{"duration 0: off", 1, 60, 0, "MINUTES", []step{
			{0, wrong, 0}, {0, wrong, 0}, {0, testPassword, LoginOK},
		}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tn := e.mustTenant(t, tc.name, func(tn *api.Tenant) {
				tn.FailedAuthenticationConfiguration = api.FailedAuthenticationConfiguration{
					TooManyAttempts: tc.attempts, ResetCountInSeconds: tc.window, ActionDuration: tc.length, ActionDurationUnit: tc.unit,
				}
			})
			e.mustImport(t, tn.ID, api.User{Email: "ana@example.org"})
			var lockStart time.Time
			for i, s := range tc.steps {
				e.clock.Advance(s.after)
				if s.pw == wrong && lockStart.IsZero() && i == tc.attempts-1 {
					lockStart = e.clock.Now()
				}
				res, err := e.Login(e.ctx, LoginInput{TenantID: tn.ID, Request: api.LoginRequest{LoginID: "ana@example.org", Password: s.pw}})
				wantOutcome(t, fmt.Sprintf("step %d", i+1), res, err, s.want)
				if s.want == LoginPrevented {
					if want := lockStart.Add(tc.lockedFor).UnixMilli(); len(res.Response.Actions) != 1 || res.Response.Actions[0].Expiry != want {
						t.Errorf("step %d: actions %+v, want one ending at %d", i+1, res.Response.Actions, want)
					}
				}
			}
			a, err := e.store.GetLoginAttempts(e.ctx, tn.ID, e.logins().key("ana@example.org"))
			if tc.steps[len(tc.steps)-1].pw == wrong {
				if err != nil || a.LockedUntil.Sub(lockStart) != tc.lockedFor {
					t.Errorf("attempts %+v, %v: want locked for %v", a, err, tc.lockedFor)
				}
			}
			// The default tenant's user is not locked by any of this.
			res, err := e.login("ana@example.org", testPassword)
			wantOutcome(t, "the default tenant's user", res, err, LoginNotRegistered)
		})
	}
}
