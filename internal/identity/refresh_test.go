package identity

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/latchid/latch/api"
	"github.com/latchid/latch/internal/storage"
)

// refreshEnv is an env whose Default tenant has the refresh-token policy a
// test asks for, with one active user registered for the Default
// application. Its sessions are made as a login makes them, without the
// password check, so that no test pays for a hash.
type refreshEnv struct {
	*env
	userID string
}

// newRefreshEnv returns a refreshEnv whose tenant's jwtConfiguration is
// Latch's default changed by policy (nil: unchanged).
func newRefreshEnv(t *testing.T, policy func(*api.JWTConfiguration), opts ...envOption) *refreshEnv {
	t.Helper()
	e := newEnv(t, opts...)
	if policy != nil {
		tenants, err := e.ListTenants(e.ctx)
		if err != nil {
			t.Fatal(err)
		}
		tn := tenants[0]
		policy(&tn.JWTConfiguration)
		if _, err := e.UpdateTenant(e.ctx, tn.ID, tn); err != nil {
			t.Fatal(err)
		}
	}
	err := e.ImportUsers(e.ctx, "", api.ImportRequest{Users: []api.User{{
		Email: "ana@example.org", Active: true, Registrations: []api.UserRegistration{{ApplicationID: e.app.ID}},
	}}})
	if err != nil {
		t.Fatal(err)
	}
	u, err := e.FindUser(e.ctx, "", "ana@example.org", "")
	if err != nil {
		t.Fatal(err)
	}
	return &refreshEnv{env: e, userID: u.ID}
}

// oneTimeUse is a policy: OneTimeUse with a grace period of grace seconds
// and the tenant's reuse revocation as revoke says.
func oneTimeUse(grace int, revoke bool) func(*api.JWTConfiguration) {
	return func(c *api.JWTConfiguration) {
		c.RefreshTokenUsagePolicy = api.RefreshOneTimeUse
		c.RefreshTokenOneTimeUseConfiguration.GracePeriodInSeconds = grace
		c.RefreshTokenRevocationPolicy.OnOneTimeTokenReuse = revoke
	}
}

// start makes a session for the user, as a password login does, bound to
// the DPoP key jkt when it is not empty, and returns its id and value.
func (e *refreshEnv) start(t *testing.T, jkt string) (id, value string) {
	t.Helper()
	u, err := e.store.GetUser(e.ctx, e.userID)
	if err != nil {
		t.Fatal(err)
	}
	app, err := e.store.GetApplication(e.ctx, e.app.ID)
	if err != nil {
		t.Fatal(err)
	}
	tn, err := e.store.GetTenant(e.ctx, app.TenantID)
	if err != nil {
		t.Fatal(err)
	}
	sess, raw, err := e.newSession(e.ctx, tn, app.Application, u, api.AuthPassword, nil, Client{DPoPJKT: jkt})
	if err != nil {
		t.Fatal(err)
	}
	return sess.ID, raw
}

// refresh refreshes value, proving the DPoP key jkt when it is not empty.
func (e *refreshEnv) refresh(value, jkt string) (RefreshResult, error) {
	return e.Refresh(e.ctx, RefreshInput{RefreshToken: value, Client: Client{DPoPJKT: jkt, Address: "192.0.2.1"}})
}

// mustRefresh refreshes value, which must succeed.
func (e *refreshEnv) mustRefresh(t *testing.T, what, value, jkt string) RefreshResult {
	t.Helper()
	res, err := e.refresh(value, jkt)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return res
}

// refused checks that refreshing value is refused as an invalid token.
func (e *refreshEnv) refused(t *testing.T, what, value, jkt string) {
	t.Helper()
	if res, err := e.refresh(value, jkt); !errors.Is(err, ErrRefreshTokenInvalid) {
		t.Fatalf("%s: %+v, %v; want ErrRefreshTokenInvalid", what, res, err)
	}
}

// stored returns the session as the store has it, revoked or not.
func (e *refreshEnv) stored(t *testing.T, id string) storage.Session {
	t.Helper()
	sess, err := e.store.GetSession(e.ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	return sess
}

// boundTo returns the thumbprint of the DPoP key an access token is bound
// to ("" for none), from its claims once it verified.
func (e *refreshEnv) boundTo(t *testing.T, tok string) string {
	t.Helper()
	c, err := e.ValidateToken(e.ctx, tok)
	if err != nil {
		t.Fatalf("the new access token: %v", err)
	}
	cnf, _ := c["cnf"].(map[string]any)
	jkt, _ := cnf["jkt"].(string)
	return jkt
}

// TestRefresh_Policies: for every usage and expiration policy, a session
// used 20 and 50 minutes after the login (a refresh token of 60 minutes,
// capped at 90 under SlidingWindowWithMaximumLifetime) keeps or rotates
// its value, and lives exactly as long as its policy says.
func TestRefresh_Policies(t *testing.T) {
	for _, tc := range []struct {
		name        string
		usage       string
		expiration  string
		wantStart   time.Duration // stored start instant after the uses, from the login
		wantExpires time.Duration // stored expiry after the uses, from the login
	}{
		{"Reusable Fixed", api.RefreshReusable, api.ExpirationFixed, 0, 60 * time.Minute},
		{"Reusable SlidingWindow", api.RefreshReusable, api.ExpirationSlidingWindow, 50 * time.Minute, 110 * time.Minute},
		{"Reusable SlidingWindowWithMaximumLifetime", api.RefreshReusable, api.ExpirationSlidingWindowMaximum, 50 * time.Minute, 90 * time.Minute},
		{"OneTimeUse Fixed", api.RefreshOneTimeUse, api.ExpirationFixed, 50 * time.Minute, 60 * time.Minute},
		{"OneTimeUse SlidingWindow", api.RefreshOneTimeUse, api.ExpirationSlidingWindow, 50 * time.Minute, 110 * time.Minute},
		{"OneTimeUse SlidingWindowWithMaximumLifetime", api.RefreshOneTimeUse, api.ExpirationSlidingWindowMaximum, 50 * time.Minute, 90 * time.Minute},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newRefreshEnv(t, func(c *api.JWTConfiguration) {
				c.RefreshTokenUsagePolicy, c.RefreshTokenExpirationPolicy = tc.usage, tc.expiration
				c.RefreshTokenTimeToLiveInMinutes = 60
				c.RefreshTokenSlidingWindowConfiguration.MaximumTimeToLiveInMinutes = 90
			})
			login := e.clock.Now()
			id, value := e.start(t, "")
			oneTime := tc.usage == api.RefreshOneTimeUse
			for i, at := range []time.Duration{20 * time.Minute, 50 * time.Minute} {
				e.clock.Set(login.Add(at))
				res := e.mustRefresh(t, "refresh", value, "")
				if res.Rotated != oneTime || (res.RefreshToken == value) == oneTime || res.RefreshTokenID != id {
					t.Fatalf("refresh %d: rotated %v, same value %v, id %s; want rotated %v, id %s",
						i+1, res.Rotated, res.RefreshToken == value, res.RefreshTokenID, oneTime, id)
				}
				if res.Token == "" || res.TokenType != "Bearer" || res.UserID != e.userID {
					t.Fatalf("refresh %d: token %q, type %q, user %s", i+1, res.Token, res.TokenType, res.UserID)
				}
				value = res.RefreshToken
			}
			sess := e.stored(t, id)
			if want := login.Add(tc.wantStart); !sess.StartInstant.Equal(want) {
				t.Errorf("start instant %v after login, want %v", sess.StartInstant.Sub(login), tc.wantStart)
			}
			if want := login.Add(tc.wantExpires); !sess.ExpiresAt.Equal(want) {
				t.Errorf("expires %v after login, want %v", sess.ExpiresAt.Sub(login), tc.wantExpires)
			}
			if want := map[bool]int{false: 0, true: 2}[oneTime]; sess.Generation != want {
				t.Errorf("generation %d, want %d", sess.Generation, want)
			}
			if !sess.LastUsed.Equal(login.Add(50*time.Minute)) || sess.Device.LastAccessedAddress != "192.0.2.1" {
				t.Errorf("last used %v after login from %q, want 50m0s from 192.0.2.1", sess.LastUsed.Sub(login), sess.Device.LastAccessedAddress)
			}
			e.clock.Set(login.Add(tc.wantExpires - time.Microsecond))
			if live, err := e.RefreshTokenLive(e.ctx, value); err != nil || !live {
				t.Errorf("a microsecond before expiry: live %v, %v", live, err)
			}
			e.clock.Set(login.Add(tc.wantExpires))
			e.refused(t, "at expiry", value, "")
			if live, err := e.RefreshTokenLive(e.ctx, value); err != nil || live {
				t.Errorf("at expiry: live %v, %v", live, err)
			}
		})
	}
}

// TestRefresh_GraceAndReuse: under OneTimeUse, the previous value within
// the grace period (30 s) gets the current one and rotates nothing; the
// previous value after it, an older value, or the previous one when
// there is no grace period, is reuse: refused and, under the tenant's
// onOneTimeTokenReuse, its session revoked, and only its own.
func TestRefresh_GraceAndReuse(t *testing.T) {
	for _, tc := range []struct {
		name      string
		grace     int
		rotations int           // before the old value is presented
		after     time.Duration // from the last rotation
		retry     bool          // handed the current value; else reuse
	}{
		{"previous at once", 30, 1, 0, true},
		{"previous within grace", 30, 1, 10 * time.Second, true},
		{"previous at the grace period's end", 30, 1, 30 * time.Second, true},
		{"previous after grace", 30, 1, 30*time.Second + time.Microsecond, false},
		{"former within grace of the last rotation", 30, 2, time.Second, false},
		{"previous without a grace period", 0, 1, 0, false},
	} {
		for _, revoke := range []bool{true, false} {
			name := tc.name + map[bool]string{true: ", revoked on reuse", false: ", kept on reuse"}[revoke]
			t.Run(name, func(t *testing.T) {
				e := newRefreshEnv(t, oneTimeUse(tc.grace, revoke))
				other, otherValue := e.start(t, "")
				id, old := e.start(t, "")
				current := old
				for range tc.rotations {
					current = e.mustRefresh(t, "rotation", current, "").RefreshToken
				}
				e.clock.Advance(tc.after)
				res, err := e.refresh(old, "")
				sess := e.stored(t, id)
				if tc.retry {
					if err != nil || res.RefreshToken != current || !res.Rotated || res.Token == "" {
						t.Fatalf("retry: %+v, %v; want the current value", res, err)
					}
					if sess.Generation != tc.rotations || !sess.RevokedAt.IsZero() {
						t.Errorf("after a retry: generation %d, revoked %v; want %d, live", sess.Generation, sess.RevokedAt, tc.rotations)
					}
					e.mustRefresh(t, "the current value after a retry", current, "")
					return
				}
				if !errors.Is(err, ErrRefreshTokenInvalid) {
					t.Fatalf("reuse: %+v, %v; want ErrRefreshTokenInvalid", res, err)
				}
				if revoke {
					if sess.RevokedAt.IsZero() || sess.RevokeReason != ReasonTokenReuse {
						t.Errorf("after reuse: revoked at %v for %q; want revoked for %q", sess.RevokedAt, sess.RevokeReason, ReasonTokenReuse)
					}
					e.refused(t, "the current value after reuse", current, "")
				} else {
					if !sess.RevokedAt.IsZero() || sess.Generation != tc.rotations {
						t.Errorf("after reuse: revoked at %v, generation %d; want live, %d", sess.RevokedAt, sess.Generation, tc.rotations)
					}
					e.mustRefresh(t, "the current value after reuse", current, "")
				}
				if s := e.stored(t, other); !s.RevokedAt.IsZero() {
					t.Error("reuse revoked the user's other session")
				}
				e.mustRefresh(t, "the other session", otherValue, "")
			})
		}
	}
}

// TestRefresh_ReuseIsTheTenantsRule: an application whose own
// jwtConfiguration is enabled rules the usage policy and the grace
// period, but its all-false revocation policy (as FusionAuth's Go client
// sends it) leaves the tenant's reuse detection on; and the tenant's off
// stays off whatever the application says.
func TestRefresh_ReuseIsTheTenantsRule(t *testing.T) {
	for _, tc := range []struct {
		name         string
		tenantRevoke bool
		appRevoke    bool
	}{
		{"tenant on, application off", true, false},
		{"tenant off, application on", false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newRefreshEnv(t, oneTimeUse(30, tc.tenantRevoke))
			app := e.app
			app.JWTConfiguration = api.JWTConfiguration{
				Enabled: true, TimeToLiveInSeconds: 300, RefreshTokenTimeToLiveInMinutes: 60,
				RefreshTokenUsagePolicy: api.RefreshOneTimeUse, RefreshTokenExpirationPolicy: api.ExpirationFixed,
				RefreshTokenOneTimeUseConfiguration: api.OneTimeUseConfiguration{GracePeriodInSeconds: 10},
				RefreshTokenRevocationPolicy:        api.RevocationPolicy{OnOneTimeTokenReuse: tc.appRevoke},
			}
			if _, err := e.UpdateApplication(e.ctx, "", app.ID, app); err != nil {
				t.Fatal(err)
			}
			id, old := e.start(t, "")
			e.mustRefresh(t, "rotation", old, "")
			e.clock.Advance(11 * time.Second) // past the application's grace period, within the tenant's
			e.refused(t, "reuse", old, "")
			if revoked := !e.stored(t, id).RevokedAt.IsZero(); revoked != tc.tenantRevoke {
				t.Errorf("revoked %v, want %v (the tenant's)", revoked, tc.tenantRevoke)
			}
		})
	}
}

// TestRefresh_ReusablePreviousValue: a session rotated under OneTimeUse
// whose tenant then made tokens Reusable keeps the rotation's rule for
// the value it replaced: a retry within the grace period, reuse after.
func TestRefresh_ReusablePreviousValue(t *testing.T) {
	e := newRefreshEnv(t, oneTimeUse(30, true))
	id, old := e.start(t, "")
	current := e.mustRefresh(t, "rotation", old, "").RefreshToken
	tenants, err := e.ListTenants(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	tn := tenants[0]
	tn.JWTConfiguration.RefreshTokenUsagePolicy = api.RefreshReusable
	if _, err := e.UpdateTenant(e.ctx, tn.ID, tn); err != nil {
		t.Fatal(err)
	}
	if res := e.mustRefresh(t, "current, now reusable", current, ""); res.Rotated || res.RefreshToken != current {
		t.Errorf("a reusable refresh rotated: %+v", res)
	}
	if res := e.mustRefresh(t, "previous within grace", old, ""); res.RefreshToken != current {
		t.Errorf("the previous value within grace got %q, want the current value", res.RefreshToken)
	}
	e.clock.Advance(31 * time.Second)
	e.refused(t, "previous after grace", old, "")
	if e.stored(t, id).RevokedAt.IsZero() {
		t.Error("reuse after grace left the session live")
	}
}

// TestRefresh_Dead: revoked, expired and unknown values are refused, and
// a revoked or expired session's former values are no reuse: nothing is
// written.
func TestRefresh_Dead(t *testing.T) {
	e := newRefreshEnv(t, oneTimeUse(30, true))
	revokedID, revokedOld := e.start(t, "")
	revokedCurrent := e.mustRefresh(t, "rotation", revokedOld, "").RefreshToken
	if _, err := e.Revoke(e.ctx, RevokeSelector{ID: revokedID}, ReasonRevoked); err != nil {
		t.Fatal(err)
	}
	expiredID, expiredOld := e.start(t, "")
	expiredCurrent := e.mustRefresh(t, "rotation", expiredOld, "").RefreshToken
	e.clock.Advance(time.Duration(DefaultRefreshTokenTTLMinutes) * time.Minute)
	for _, tc := range []struct{ name, value string }{
		{"revoked, current", revokedCurrent},
		{"revoked, previous", revokedOld},
		{"expired, current", expiredCurrent},
		{"expired, previous", expiredOld},
		{"unknown", "c2VjcmV0LXRoYXQtbm8tc2Vzc2lvbi1oYXMtYXQtYWxsLTAwMDAwMDAwMDAwMDA"},
	} {
		t.Run(tc.name, func(t *testing.T) { e.refused(t, tc.name, tc.value, "") })
	}
	if s := e.stored(t, revokedID); s.RevokeReason != ReasonRevoked || s.Generation != 1 {
		t.Errorf("revoked session: reason %q, generation %d; want %q, 1", s.RevokeReason, s.Generation, ReasonRevoked)
	}
	if s := e.stored(t, expiredID); !s.RevokedAt.IsZero() || s.Generation != 1 {
		t.Errorf("expired session: revoked at %v, generation %d; want unrevoked, 1", s.RevokedAt, s.Generation)
	}
}

const thiefKey = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"

// TestRefresh_DPoPBound: a session bound to a DPoP key refreshes only
// with a proof of that key, and its new access tokens are bound to it.
// Without the proof (a copy of the value, even a rotated one after the
// grace period) it is refused and nothing is written: a thief cannot end
// the owner's session. With the key, a rotated value is reuse as ever.
func TestRefresh_DPoPBound(t *testing.T) {
	e := newRefreshEnv(t, oneTimeUse(30, true))
	const deviceKey = "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"
	id, old := e.start(t, deviceKey)
	for _, jkt := range []string{"", thiefKey} {
		e.refused(t, "current value, key "+jkt, old, jkt)
	}
	if s := e.stored(t, id); s.Generation != 0 || !s.RevokedAt.IsZero() {
		t.Fatalf("refused refreshes wrote: generation %d, revoked at %v", s.Generation, s.RevokedAt)
	}
	res := e.mustRefresh(t, "with the device's key", old, deviceKey)
	if jkt := e.boundTo(t, res.Token); res.TokenType != "DPoP" || jkt != deviceKey {
		t.Errorf("token type %q, bound to %q; want DPoP bound to the device's key", res.TokenType, jkt)
	}
	current := res.RefreshToken
	e.clock.Advance(time.Minute) // past the grace period: old is a former value
	for _, jkt := range []string{"", thiefKey} {
		e.refused(t, "rotated value, key "+jkt, old, jkt)
	}
	if s := e.stored(t, id); !s.RevokedAt.IsZero() || s.Generation != 1 {
		t.Fatalf("the thief's reuse without the key: generation %d, revoked at %v; want 1, live", s.Generation, s.RevokedAt)
	}
	e.mustRefresh(t, "the owner after the thief", current, deviceKey)
	e.clock.Advance(time.Minute)
	e.refused(t, "the first value again, with the key", old, deviceKey)
	if s := e.stored(t, id); s.RevokeReason != ReasonTokenReuse {
		t.Errorf("reuse with the key: revoke reason %q, want %q", s.RevokeReason, ReasonTokenReuse)
	}
}

// TestRefresh_DPoPUnbound: a session bound to no key gives an access
// token bound to the key a client proves at the refresh, and stays
// unbound (RFC 9449 §5): the next refresh without a proof is a Bearer's.
func TestRefresh_DPoPUnbound(t *testing.T) {
	e := newRefreshEnv(t, nil)
	_, value := e.start(t, "")
	res := e.mustRefresh(t, "with a key", value, thiefKey)
	if jkt := e.boundTo(t, res.Token); res.TokenType != "DPoP" || jkt != thiefKey {
		t.Errorf("token type %q, bound to %q; want DPoP bound to the proved key", res.TokenType, jkt)
	}
	res = e.mustRefresh(t, "without a key", value, "")
	if jkt := e.boundTo(t, res.Token); res.TokenType != "Bearer" || jkt != "" {
		t.Errorf("token type %q, bound to %q; want Bearer, unbound", res.TokenType, jkt)
	}
}

// TestRefresh_Admit: Admit is asked once, with the session's id, for a
// value that proves to be a live session's, and for no other; its refusal
// ends the refresh as it is, before anything is written, a reuse's
// revocation included.
func TestRefresh_Admit(t *testing.T) {
	e := newRefreshEnv(t, oneTimeUse(30, true))
	errLimited := errors.New("limited")
	type call struct {
		asked []string
		err   error
	}
	admit := func(c *call) func(context.Context, string) error {
		return func(_ context.Context, id string) error {
			c.asked = append(c.asked, id)
			return c.err
		}
	}
	liveID, live := e.start(t, "")
	boundID, bound := e.start(t, thiefKey)
	reusedID, reusedOld := e.start(t, "")
	e.mustRefresh(t, "rotation", reusedOld, "")
	revokedID, revoked := e.start(t, "")
	if _, err := e.Revoke(e.ctx, RevokeSelector{ID: revokedID}, ReasonRevoked); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(time.Minute) // past the grace period
	for _, tc := range []struct {
		name    string
		in      RefreshInput
		refusal error
		want    error
		asked   []string
	}{
		{"live, refused", RefreshInput{RefreshToken: live}, errLimited, errLimited, []string{liveID}},
		{"bound, refused", RefreshInput{RefreshToken: bound, Client: Client{DPoPJKT: thiefKey}}, errLimited, errLimited, []string{boundID}},
		{"reuse, refused", RefreshInput{RefreshToken: reusedOld}, errLimited, errLimited, []string{reusedID}},
		{"bound, without its key", RefreshInput{RefreshToken: bound}, nil, ErrRefreshTokenInvalid, nil},
		{"revoked", RefreshInput{RefreshToken: revoked}, nil, ErrRefreshTokenInvalid, nil},
		{"another tenant", RefreshInput{RefreshToken: live, TenantID: NewID()}, nil, ErrRefreshTokenInvalid, nil},
		{"another client", RefreshInput{RefreshToken: live, ClientID: NewID(), OAuth: true}, nil, ErrRefreshTokenInvalid, nil},
		{"unknown", RefreshInput{RefreshToken: "bm8tc3VjaC1yZWZyZXNoLXRva2VuLWF0LWFsbC0wMDAwMDAwMDAwMDAwMDAwMDA"}, nil, ErrRefreshTokenInvalid, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &call{err: tc.refusal}
			tc.in.Admit = admit(c)
			if _, err := e.Refresh(e.ctx, tc.in); !errors.Is(err, tc.want) {
				t.Errorf("Refresh: %v, want %v", err, tc.want)
			}
			if len(c.asked) != len(tc.asked) || (len(c.asked) == 1 && c.asked[0] != tc.asked[0]) {
				t.Errorf("Admit asked for %v, want %v", c.asked, tc.asked)
			}
		})
	}
	for id, gen := range map[string]int{liveID: 0, boundID: 0, reusedID: 1} {
		if s := e.stored(t, id); s.Generation != gen || !s.RevokedAt.IsZero() {
			t.Errorf("session %s after refused admissions: generation %d, revoked at %v; want %d, live", id, s.Generation, s.RevokedAt, gen)
		}
	}
	c := &call{}
	if _, err := e.Refresh(e.ctx, RefreshInput{RefreshToken: live, Admit: admit(c)}); err != nil || len(c.asked) != 1 {
		t.Errorf("admitted: %v, Admit asked %d times", err, len(c.asked))
	}
}

// TestRefresh_OneTimeUseConcurrent: of many concurrent refreshes of one
// value, exactly one rotates it, and every one gets the same successor
// (the others are within the grace period), each admitted once.
func TestRefresh_OneTimeUseConcurrent(t *testing.T) {
	e := newRefreshEnv(t, oneTimeUse(30, true))
	id, value := e.start(t, "")
	const n = 8
	var (
		wg      sync.WaitGroup
		results [n]RefreshResult
		errs    [n]error
		admits  [n]int
	)
	for i := range n {
		wg.Go(func() {
			results[i], errs[i] = e.Refresh(e.ctx, RefreshInput{RefreshToken: value,
				Admit: func(context.Context, string) error { admits[i]++; return nil }})
		})
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil || results[i].RefreshToken != results[0].RefreshToken || results[i].RefreshToken == value || admits[i] != 1 {
			t.Errorf("refresh %d: %v, the first's successor %v, admitted %d times", i, errs[i], results[i].RefreshToken == results[0].RefreshToken, admits[i])
		}
	}
	if s := e.stored(t, id); s.Generation != 1 || !s.RevokedAt.IsZero() {
		t.Errorf("generation %d, revoked at %v; want 1, live", s.Generation, s.RevokedAt)
	}
}

// TestRefresh_Refused: a live session's value is refused when what stands
// behind the session no longer takes it (an application that is inactive
// or no longer allows the refresh asked for, a user inactive or expired, a
// registration gone: each changed in the store alone, so that no
// revocation hides the refresh's own check), and a request that asks for
// more than the session holds, or a blank value or negative lifetime, is
// a validation error. Nothing is written.
func TestRefresh_Refused(t *testing.T) {
	var invalidScope *api.OAuthError
	var validation *api.Errors
	for _, tc := range []struct {
		name   string
		change func(t *testing.T, e *refreshEnv, app *storage.Application, u *storage.User)
		in     RefreshInput // RefreshToken is set to the session's value
		want   any          // ErrRefreshTokenInvalid, or a pointer to the error type
	}{
		{"application inactive", func(t *testing.T, e *refreshEnv, app *storage.Application, u *storage.User) {
			app.Active = false
		}, RefreshInput{}, ErrRefreshTokenInvalid},
		{"allowTokenRefresh off", func(t *testing.T, e *refreshEnv, app *storage.Application, u *storage.User) {
			app.LoginConfiguration.AllowTokenRefresh = false
		}, RefreshInput{}, ErrRefreshTokenInvalid},
		{"refresh_token grant off", func(t *testing.T, e *refreshEnv, app *storage.Application, u *storage.User) {
			app.OAuthConfiguration.EnabledGrants = []string{GrantPassword}
		}, RefreshInput{OAuth: true}, ErrRefreshTokenInvalid},
		{"user inactive", func(t *testing.T, e *refreshEnv, app *storage.Application, u *storage.User) {
			u.Active = false
		}, RefreshInput{}, ErrRefreshTokenInvalid},
		{"user expired", func(t *testing.T, e *refreshEnv, app *storage.Application, u *storage.User) {
			u.Expiry = e.clock.Now()
		}, RefreshInput{}, ErrRefreshTokenInvalid},
		{"registration gone", func(t *testing.T, e *refreshEnv, app *storage.Application, u *storage.User) {
			if err := e.store.DeleteRegistration(e.ctx, u.ID, app.ID); err != nil {
				t.Fatal(err)
			}
		}, RefreshInput{}, ErrRefreshTokenInvalid},
		{"a longer time to live than configured", nil, RefreshInput{TTL: time.Duration(DefaultAccessTokenTTLSeconds+1) * time.Second}, &validation},
		{"a scope not granted", nil, RefreshInput{OAuth: true, Scopes: []string{"offline_access", "admin"}}, &invalidScope},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newRefreshEnv(t, oneTimeUse(30, true))
			app, err := e.store.GetApplication(e.ctx, e.app.ID)
			if err != nil {
				t.Fatal(err)
			}
			app.LoginConfiguration.AllowTokenRefresh = true
			app.OAuthConfiguration.EnabledGrants = []string{GrantPassword, GrantRefreshToken}
			if err := e.store.UpdateApplication(e.ctx, app); err != nil {
				t.Fatal(err)
			}
			u, err := e.store.GetUser(e.ctx, e.userID)
			if err != nil {
				t.Fatal(err)
			}
			tn, err := e.store.GetTenant(e.ctx, app.TenantID)
			if err != nil {
				t.Fatal(err)
			}
			sess, value, err := e.newSession(e.ctx, tn, app.Application, u, api.AuthPassword, []string{"offline_access"}, Client{})
			if err != nil {
				t.Fatal(err)
			}
			if tc.change != nil {
				tc.change(t, e, &app, &u)
				if err := e.store.UpdateApplication(e.ctx, app); err != nil {
					t.Fatal(err)
				}
				if err := e.store.UpdateUser(e.ctx, u); err != nil {
					t.Fatal(err)
				}
			}
			in := tc.in
			in.RefreshToken = value
			_, err = e.Refresh(e.ctx, in)
			switch want := tc.want.(type) {
			case error:
				if !errors.Is(err, want) {
					t.Errorf("Refresh: %v, want %v", err, want)
				}
			default:
				if !errors.As(err, want) {
					t.Errorf("Refresh: %v (%T), want a %T", err, err, want)
				}
			}
			if s := e.stored(t, sess.ID); s.Generation != 0 || !s.RevokedAt.IsZero() {
				t.Errorf("a refused refresh wrote: generation %d, revoked at %v", s.Generation, s.RevokedAt)
			}
		})
	}
	e := newRefreshEnv(t, nil)
	for _, in := range []RefreshInput{{}, {RefreshToken: "x", TTL: -time.Second}} {
		if _, err := e.Refresh(e.ctx, in); !errors.As(err, &validation) {
			t.Errorf("Refresh(%+v): %v, want a validation error", in, err)
		}
	}
}

// TestRefresh_Events: under a tenant that announces refreshes and
// revocations to a webhook, a rotation commits with its jwt.refresh event
// (naming the session, never the refresh token's value), a retry within
// the grace period announces its new JWT too, and reuse revokes with a
// jwt.refresh-token.revoke event; each wakes the dispatcher once.
func TestRefresh_Events(t *testing.T) {
	var woken int
	e := newRefreshEnv(t, oneTimeUse(30, true), func(c *Config) { c.OnEnqueue = func() { woken++ } })
	tenants, err := e.ListTenants(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	tn := tenants[0]
	tn.EventConfiguration.Events = map[string]api.EventConfigurationData{
		api.EventJWTRefresh: {Enabled: true}, api.EventJWTRefreshTokenRevoke: {Enabled: true},
	}
	if _, err := e.UpdateTenant(e.ctx, tn.ID, tn); err != nil {
		t.Fatal(err)
	}
	_, err = e.CreateWebhook(e.ctx, "", api.Webhook{URL: "https://hooks.example.org/latch", Global: true,
		EventsEnabled: map[string]bool{api.EventJWTRefresh: true, api.EventJWTRefreshTokenRevoke: true}})
	if err != nil {
		t.Fatal(err)
	}
	events := func(typ string) []storage.LoggedEvent {
		t.Helper()
		list, _, err := e.store.SearchEvents(e.ctx, storage.EventQuery{Type: typ, Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		return list
	}
	id, old := e.start(t, "")
	current := e.mustRefresh(t, "rotation", old, "").RefreshToken
	e.mustRefresh(t, "retry", old, "")
	refreshes := events(api.EventJWTRefresh)
	if len(refreshes) != 2 || woken != 2 {
		t.Fatalf("%d jwt.refresh events, dispatcher woken %d times; want 2, 2", len(refreshes), woken)
	}
	for _, ev := range refreshes {
		var body api.EventRequest[api.JWTRefreshEvent]
		if err := json.Unmarshal(ev.Payload, &body); err != nil {
			t.Fatal(err)
		}
		if body.Event.RefreshToken != id || body.Event.UserID != e.userID || strings.Contains(string(ev.Payload), old) || strings.Contains(string(ev.Payload), current) {
			t.Errorf("jwt.refresh event names session %q, user %q (want %s, %s), or carries a refresh token's value: %s",
				body.Event.RefreshToken, body.Event.UserID, id, e.userID, ev.Payload)
		}
	}
	e.clock.Advance(time.Minute)
	e.refused(t, "reuse", old, "")
	if revokes := events(api.EventJWTRefreshTokenRevoke); len(revokes) != 1 || woken != 3 || !strings.Contains(string(revokes[0].Payload), ReasonTokenReuse) {
		t.Errorf("%d jwt.refresh-token.revoke events, dispatcher woken %d times; want 1 for %q, 3", len(revokes), woken, ReasonTokenReuse)
	}
	if len(events(api.EventJWTRefresh)) != 2 {
		t.Error("a refused refresh announced a refresh")
	}
}
