package identity

import (
	"testing"
	"time"

	"github.com/latchid/latch/api"
)

// oneTimeUse switches the default tenant's refresh tokens to OneTimeUse
// with a grace period.
func (e *env) oneTimeUse(t *testing.T, grace int) {
	t.Helper()
	tenants, err := e.ListTenants(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	tn := tenants[0]
	tn.JWTConfiguration.RefreshTokenUsagePolicy = api.RefreshOneTimeUse
	tn.JWTConfiguration.RefreshTokenOneTimeUseConfiguration.GracePeriodInSeconds = grace
	if _, err := e.UpdateTenant(e.ctx, tn.ID, tn); err != nil {
		t.Fatal(err)
	}
}

// session logs ana in, bound to jkt when it is not empty.
func (e *env) session(t *testing.T, jkt string) LoginResult {
	t.Helper()
	res, err := e.Login(e.ctx, LoginInput{Request: api.LoginRequest{LoginID: "ana@example.org", Password: testPassword, ApplicationID: e.app.ID},
		Client: Client{DPoPJKT: jkt}})
	wantOutcome(t, "login", res, err, LoginOK)
	return res
}

// live reports whether a refresh token's session is live.
func (e *env) live(t *testing.T, res LoginResult) bool {
	t.Helper()
	_, err := e.GetSession(e.ctx, "", res.Response.RefreshTokenID)
	return err == nil
}

const (
	deviceKey = "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"
	otherKey  = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
)

// TestLogout_BoundWithoutKey: a copy of a DPoP-bound refresh token without
// a proof of its key ends no session, not even its own; with the key it
// logs out everywhere.
func TestLogout_BoundWithoutKey(t *testing.T) {
	e := newEnv(t)
	e.mustUser(t, "ana@example.org")
	phone := e.session(t, deviceKey)
	laptop := e.session(t, "")
	for _, tc := range []struct {
		name string
		in   LogoutInput
	}{
		{"no proof, global", LogoutInput{RefreshToken: phone.Response.RefreshToken, Global: true}},
		{"no proof", LogoutInput{RefreshToken: phone.Response.RefreshToken}},
		{"another key, global", LogoutInput{RefreshToken: phone.Response.RefreshToken, Global: true, DPoPJKT: otherKey}},
	} {
		if err := e.Logout(e.ctx, tc.in); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if !e.live(t, phone) || !e.live(t, laptop) {
			t.Fatalf("%s: a session ended (phone %v, laptop %v)", tc.name, e.live(t, phone), e.live(t, laptop))
		}
	}
	if _, err := e.Refresh(e.ctx, RefreshInput{RefreshToken: phone.Response.RefreshToken, Client: Client{DPoPJKT: deviceKey}}); err != nil {
		t.Fatalf("the device's refresh after the thief's logouts: %v", err)
	}
	if err := e.Logout(e.ctx, LogoutInput{RefreshToken: phone.Response.RefreshToken, Global: true, DPoPJKT: deviceKey}); err != nil {
		t.Fatal(err)
	}
	if e.live(t, phone) || e.live(t, laptop) {
		t.Errorf("the device's global logout left a session (phone %v, laptop %v)", e.live(t, phone), e.live(t, laptop))
	}
}

// TestLogout_RotatedValue: under OneTimeUse, the previous value within the
// grace period is its owner's (a refresh whose answer was lost), and logs
// out as asked; after the grace period, or an older value, it is reuse:
// its session is revoked as a refresh with it would, and the user's other
// sessions live on.
func TestLogout_RotatedValue(t *testing.T) {
	for _, tc := range []struct {
		name        string
		after       time.Duration // from the rotation to the logout
		wantPhone   bool
		wantLaptop  bool
		wantCurrent bool // the phone's current value still refreshes
	}{
		{"within the grace period: the owner's global logout", 10 * time.Second, false, false, false},
		{"after the grace period: reuse, the phone's session only", 31 * time.Second, false, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			e.oneTimeUse(t, 30)
			e.mustUser(t, "ana@example.org")
			phone := e.session(t, "")
			laptop := e.session(t, "")
			rotated, err := e.Refresh(e.ctx, RefreshInput{RefreshToken: phone.Response.RefreshToken})
			if err != nil || !rotated.Rotated {
				t.Fatalf("refresh: %+v, %v", rotated, err)
			}
			e.clock.Advance(tc.after)
			if err := e.Logout(e.ctx, LogoutInput{RefreshToken: phone.Response.RefreshToken, Global: true}); err != nil {
				t.Fatal(err)
			}
			if e.live(t, phone) != tc.wantPhone || e.live(t, laptop) != tc.wantLaptop {
				t.Errorf("phone live %v, laptop live %v; want %v, %v", e.live(t, phone), e.live(t, laptop), tc.wantPhone, tc.wantLaptop)
			}
			_, err = e.Refresh(e.ctx, RefreshInput{RefreshToken: rotated.RefreshToken})
			if (err == nil) != tc.wantCurrent {
				t.Errorf("refresh with the current value after the logout: %v", err)
			}
		})
	}
}

// TestLogout_RotatedValueTenantPolicy: an application whose own
// jwtConfiguration carries an all-false revocation policy (as FusionAuth's
// Go client sends it) leaves the tenant's reuse detection on: a rotated
// value presented to logout after the grace period revokes its session.
func TestLogout_RotatedValueTenantPolicy(t *testing.T) {
	e := newEnv(t)
	e.oneTimeUse(t, 30)
	app := e.app
	app.JWTConfiguration = api.JWTConfiguration{
		Enabled: true, TimeToLiveInSeconds: 300, RefreshTokenTimeToLiveInMinutes: 60,
		RefreshTokenUsagePolicy: api.RefreshOneTimeUse, RefreshTokenExpirationPolicy: api.ExpirationFixed,
		RefreshTokenOneTimeUseConfiguration: api.OneTimeUseConfiguration{GracePeriodInSeconds: 10},
	}
	if _, err := e.UpdateApplication(e.ctx, "", app.ID, app); err != nil {
		t.Fatal(err)
	}
	e.mustUser(t, "ana@example.org")
	phone := e.session(t, "")
	rotated, err := e.Refresh(e.ctx, RefreshInput{RefreshToken: phone.Response.RefreshToken})
	if err != nil || !rotated.Rotated {
		t.Fatalf("refresh: %+v, %v", rotated, err)
	}
	e.clock.Advance(11 * time.Second) // past the application's grace period, within the tenant's
	if err := e.Logout(e.ctx, LogoutInput{RefreshToken: phone.Response.RefreshToken}); err != nil {
		t.Fatal(err)
	}
	if e.live(t, phone) {
		t.Error("the session lives on after its rotated value was reused")
	}
}
