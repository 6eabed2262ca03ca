package identity

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"testing"
	"time"

	"github.com/latchid/latch/api"
	"github.com/latchid/latch/internal/totp"
)

func TestNeedsSecondFactor(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		policy  string
		methods int
		trusted bool
		want    SecondStep
	}{
		{api.MultiFactorEnabled, 0, false, NoSecondStep},
		{api.MultiFactorEnabled, 1, false, CodeStep},
		{api.MultiFactorEnabled, 2, true, NoSecondStep},
		{api.MultiFactorRequired, 0, false, EnrollFirst},
		{api.MultiFactorRequired, 0, true, EnrollFirst},
		{api.MultiFactorRequired, 1, false, CodeStep},
		{api.MultiFactorRequired, 1, true, NoSecondStep},
		{api.MultiFactorDisabled, 1, false, NoSecondStep},
		{api.MultiFactorDisabled, 0, false, NoSecondStep},
	} {
		if got := NeedsSecondFactor(c.policy, c.methods, c.trusted); got != c.want {
			t.Errorf("NeedsSecondFactor(%s, %d, %v) = %v, want %v", c.policy, c.methods, c.trusted, got, c.want)
		}
	}
}

func TestLoginPolicy(t *testing.T) {
	t.Parallel()
	tenant := func(p string) api.Tenant {
		return api.Tenant{MultiFactorConfiguration: api.TenantMultiFactorConfiguration{LoginPolicy: p}}
	}
	app := func(p string) *api.Application {
		return &api.Application{MultiFactorConfiguration: &api.ApplicationMultiFactorConfiguration{LoginPolicy: p}}
	}
	for _, c := range []struct {
		name   string
		tenant api.Tenant
		app    *api.Application
		want   string
	}{
		{"defaults", tenant(""), nil, api.MultiFactorEnabled},
		{"tenant", tenant(api.MultiFactorRequired), nil, api.MultiFactorRequired},
		{"application without a policy", tenant(api.MultiFactorRequired), &api.Application{}, api.MultiFactorRequired},
		{"application with an empty policy", tenant(api.MultiFactorDisabled), app(""), api.MultiFactorDisabled},
		{"application overrides", tenant(api.MultiFactorRequired), app(api.MultiFactorDisabled), api.MultiFactorDisabled},
		{"application overrides the default", tenant(""), app(api.MultiFactorRequired), api.MultiFactorRequired},
	} {
		if got := LoginPolicy(c.tenant, c.app); got != c.want {
			t.Errorf("%s: %s, want %s", c.name, got, c.want)
		}
	}
}

// tfUser is a user of the Default application with an authenticator method.
type tfUser struct {
	id, email string
	secret    []byte
	methodID  string
	recovery  []string
}

// mustTwoFactorUser imports a user and enables a method with a code of
// the current step.
func (e *loginsEnv) mustTwoFactorUser(t *testing.T, email string) tfUser {
	t.Helper()
	u := e.importUser(t, email, true)
	secret, err := totp.NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	code, _ := totp.Code(secret, e.clock.Now())
	res, err := e.EnableTwoFactor(e.ctx, "", u.ID, api.TwoFactorRequest{Method: "authenticator", Code: code, Secret: totp.Base64(secret)})
	if err != nil {
		t.Fatalf("enable: %v", err)
	}
	ms, err := e.store.ListTwoFactorMethods(e.ctx, u.ID)
	if err != nil || len(ms) != 1 {
		t.Fatalf("methods %v, %v", ms, err)
	}
	return tfUser{id: u.ID, email: email, secret: secret, methodID: ms[0].ID, recovery: res.RecoveryCodes}
}

// code is the user's code at the clock's time plus d.
func (e *loginsEnv) code(t *testing.T, u tfUser, d time.Duration) string {
	t.Helper()
	c, err := totp.Code(u.secret, e.clock.Now().Add(d))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// firstStep logs u in and expects 242.
func (e *loginsEnv) firstStep(t *testing.T, u tfUser, c Client) string {
	t.Helper()
	res, err := e.Login(e.ctx, LoginInput{Request: api.LoginRequest{LoginID: u.email, Password: cheapPassword, ApplicationID: e.app.ID}, Client: c})
	wantOutcome(t, "first step", res, err, LoginTwoFactor)
	if res.Response.TwoFactorID == "" || res.Response.Token != "" || len(res.Response.Methods) != 1 {
		t.Fatalf("242 answer %+v", res.Response)
	}
	return res.Response.TwoFactorID
}

// secondStep completes a login.
func (e *loginsEnv) secondStep(id, code string, c Client) (LoginResult, error) {
	return e.TwoFactorLogin(e.ctx, TwoFactorLoginInput{Request: api.TwoFactorLoginRequest{TwoFactorID: id, Code: code}, Client: c})
}

// TestTwoFactor_Lockout: a wrong code counts as a wrong password does; the
// right password neither counts nor clears the failures, so a new first
// step buys no more guesses; once locked, the right code is refused.
func TestTwoFactor_Lockout(t *testing.T) {
	t.Parallel()
	e := newLoginsEnv(t)
	e.editTenant(t, func(tn *api.Tenant) {
		tn.FailedAuthenticationConfiguration = api.FailedAuthenticationConfiguration{TooManyAttempts: 3, ResetCountInSeconds: 600, ActionDuration: 10, ActionDurationUnit: "MINUTES"}
	})
	u := e.mustTwoFactorUser(t, "locked@example.org")
	id := e.firstStep(t, u, Client{})
	if got := e.attempts(t, u.email).Count; got != 0 {
		t.Errorf("after the right password: %d attempts counted, want 0", got)
	}
	for i := range 2 {
		if _, err := e.secondStep(id, "000000", Client{}); !errors.Is(err, ErrTwoFactorCode) {
			t.Fatalf("wrong code %d: %v", i, err)
		}
	}
	if got := e.attempts(t, u.email).Count; got != 2 {
		t.Errorf("after two wrong codes: %d attempts counted, want 2", got)
	}
	id = e.firstStep(t, u, Client{}) // the right password again
	if a := e.attempts(t, u.email); a.Count != 2 || !a.LockedUntil.IsZero() {
		t.Errorf("after the right password: %+v, want 2 failures and no lock", a)
	}
	if _, err := e.secondStep(id, "111111", Client{}); !errors.Is(err, ErrTwoFactorCode) {
		t.Fatalf("third wrong code: %v", err)
	}
	res, err := e.secondStep(id, e.code(t, u, 30*time.Second), Client{})
	wantOutcome(t, "the right code while locked", res, err, LoginPrevented)
	res, err = e.Login(e.ctx, LoginInput{Request: api.LoginRequest{LoginID: u.email, Password: cheapPassword, ApplicationID: e.app.ID}})
	wantOutcome(t, "the right password while locked", res, err, LoginPrevented)

	// After the lock, the right code completes the login and clears the failures.
	e.clock.Advance(10 * time.Minute)
	res, err = e.secondStep(e.firstStep(t, u, Client{}), e.code(t, u, 0), Client{})
	wantOutcome(t, "after the lock", res, err, LoginOK)
	if a := e.attempts(t, u.email); a.Count != 0 {
		t.Errorf("after a two-factor login: %+v, want no record", a)
	}
}

// TestTwoFactor_ID: a twoFactorId is worthless to another client, for
// another application or after its lifetime (the tenant's, 300 s by
// default), and is spent by its success.
func TestTwoFactor_ID(t *testing.T) {
	t.Parallel()
	e := newLoginsEnv(t)
	u := e.mustTwoFactorUser(t, "id@example.org")
	ana := Client{Address: "203.0.113.7", DPoPJKT: "jkt-ana"}
	id := e.firstStep(t, u, ana)
	stored, err := e.store.GetTwoFactorLogin(e.ctx, hashTwoFactorID(id))
	if err != nil {
		t.Fatal(err)
	}
	if s := sha256.Sum256([]byte(id)); !bytes.Equal(stored.Hash, s[:]) || len(id) < 22 {
		t.Errorf("twoFactorId %q stored as %x: want its SHA-256, and 128 random bits at least", id, stored.Hash)
	}
	if got := stored.Expires.Sub(stored.Inserted); got != DefaultTwoFactorIDTTL {
		t.Errorf("lifetime %v, want %v", got, DefaultTwoFactorIDTTL)
	}
	code := e.code(t, u, 30*time.Second)
	for _, c := range []struct {
		name string
		in   TwoFactorLoginInput
	}{
		{"another address", TwoFactorLoginInput{Client: Client{Address: "198.51.100.1", DPoPJKT: ana.DPoPJKT}}},
		{"another DPoP key", TwoFactorLoginInput{Client: Client{Address: ana.Address, DPoPJKT: "jkt-mallory"}}},
		{"no DPoP key", TwoFactorLoginInput{Client: Client{Address: ana.Address}}},
		{"another application", TwoFactorLoginInput{Client: ana, Request: api.TwoFactorLoginRequest{ApplicationID: NewID()}}},
		{"another tenant", TwoFactorLoginInput{Client: ana, TenantID: NewID()}},
		{"an unknown id", TwoFactorLoginInput{Client: ana, Request: api.TwoFactorLoginRequest{TwoFactorID: "x" + id}}},
	} {
		c.in.Request.Code = code
		if c.in.Request.TwoFactorID == "" {
			c.in.Request.TwoFactorID = id
		}
		if _, err := e.TwoFactorLogin(e.ctx, c.in); !errors.Is(err, ErrTwoFactorIDInvalid) {
			t.Errorf("%s: %v, want ErrTwoFactorIDInvalid", c.name, err)
		}
	}
	res, err := e.secondStep(id, code, ana)
	wantOutcome(t, "the first step's client", res, err, LoginOK)
	if res.Response.Token == "" || res.Response.RefreshToken == "" {
		t.Errorf("no tokens: %+v", res.Response)
	}
	if _, err := e.secondStep(id, e.code(t, u, -30*time.Second), ana); !errors.Is(err, ErrTwoFactorIDInvalid) {
		t.Errorf("a spent twoFactorId: %v", err)
	}

	// The tenant's lifetime.
	e.editTenant(t, func(tn *api.Tenant) { tn.ExternalIdentifierConfiguration.TwoFactorIDTimeToLiveInSeconds = 60 })
	e.clock.Advance(time.Minute) // past the codes used so far
	id = e.firstStep(t, u, Client{})
	e.clock.Advance(time.Minute)
	if _, err := e.secondStep(id, e.code(t, u, 0), Client{}); !errors.Is(err, ErrTwoFactorIDInvalid) {
		t.Errorf("an expired twoFactorId: %v", err)
	}
}

// TestTwoFactor_Codes: a TOTP code is accepted once per window, a step
// before or after the current one too, not two; a recovery code once;
// the right password of a user without a method needs no code.
func TestTwoFactor_Codes(t *testing.T) {
	t.Parallel()
	e := newLoginsEnv(t)
	u := e.mustTwoFactorUser(t, "codes@example.org")
	for _, c := range []struct {
		name string
		code string
		err  error
	}{
		{"the enabling code again", e.code(t, u, 0), ErrTwoFactorCode},
		{"two steps ahead", e.code(t, u, time.Minute), ErrTwoFactorCode},
		{"two steps behind", e.code(t, u, -time.Minute), ErrTwoFactorCode},
		{"a step ahead", e.code(t, u, 30*time.Second), nil},
		{"a step ahead again", e.code(t, u, 30*time.Second), ErrTwoFactorCode},
		{"a step behind", e.code(t, u, -30*time.Second), nil},
		{"a recovery code", u.recovery[3], nil},
		{"that recovery code again", u.recovery[3], ErrTwoFactorCode},
	} {
		id := e.firstStep(t, u, Client{})
		_, err := e.secondStep(id, c.code, Client{})
		if !errors.Is(err, c.err) || (c.err == nil && err != nil) {
			t.Errorf("%s: %v, want %v", c.name, err, c.err)
		}
	}
	plain := e.importUser(t, "plain@example.org", true)
	res, err := e.Login(e.ctx, LoginInput{Request: api.LoginRequest{LoginID: plain.Email, Password: cheapPassword, ApplicationID: e.app.ID}})
	wantOutcome(t, "a user without a method", res, err, LoginOK)
}

// TestTwoFactor_AtRest: the TOTP secret is stored only sealed under the
// master key (for its user and method), recovery codes only as keyed
// hashes.
func TestTwoFactor_AtRest(t *testing.T) {
	t.Parallel()
	e := newLoginsEnv(t)
	u := e.mustTwoFactorUser(t, "rest@example.org")
	ms, err := e.store.ListTwoFactorMethods(e.ctx, u.id)
	if err != nil {
		t.Fatal(err)
	}
	sealed := ms[0].SecretSealed
	for _, form := range [][]byte{u.secret, []byte(totp.Base32(u.secret)), []byte(totp.Base64(u.secret))} {
		if bytes.Contains(sealed, form) {
			t.Errorf("the stored secret holds it in the clear (%q)", form)
		}
	}
	if got, err := e.sealer.Open(sealed, secretAD(u.id, ms[0].ID)); err != nil || !bytes.Equal(got, u.secret) {
		t.Errorf("open the sealed secret: %x, %v", got, err)
	}
	if _, err := e.sealer.Open(sealed, secretAD(NewID(), ms[0].ID)); err == nil {
		t.Error("the sealed secret opens for another user")
	}
	plain := sha256.Sum256([]byte(normalizeRecoveryCode(u.recovery[0])))
	if ok, err := e.store.UseRecoveryCode(e.ctx, u.id, plain[:]); err != nil || ok {
		t.Errorf("a recovery code's plain SHA-256 spends it: %v, %v", ok, err)
	}
	if n, _ := e.store.CountRecoveryCodes(e.ctx, u.id); n != 10 {
		t.Errorf("%d recovery codes stored, want 10", n)
	}
}

// TestTwoFactor_Trust: trustComputer gives a twoFactorTrustId that skips
// the code until it expires (the tenant's lifetime), for its user only.
func TestTwoFactor_Trust(t *testing.T) {
	t.Parallel()
	e := newLoginsEnv(t)
	e.editTenant(t, func(tn *api.Tenant) { tn.ExternalIdentifierConfiguration.TwoFactorTrustIDTimeToLiveInSeconds = 3600 })
	u := e.mustTwoFactorUser(t, "trust@example.org")
	other := e.mustTwoFactorUser(t, "other@example.org")
	id := e.firstStep(t, u, Client{})
	res, err := e.TwoFactorLogin(e.ctx, TwoFactorLoginInput{Request: api.TwoFactorLoginRequest{TwoFactorID: id, Code: e.code(t, u, 30*time.Second), TrustComputer: true}})
	wantOutcome(t, "second step", res, err, LoginOK)
	trust := res.Response.TwoFactorTrustID
	if trust == "" {
		t.Fatal("no twoFactorTrustId")
	}
	login := func(who tfUser) (LoginResult, error) {
		return e.Login(e.ctx, LoginInput{Request: api.LoginRequest{LoginID: who.email, Password: cheapPassword, ApplicationID: e.app.ID, TwoFactorTrustID: trust}})
	}
	res, err = login(u)
	wantOutcome(t, "trusted", res, err, LoginOK)
	res, err = login(other)
	wantOutcome(t, "another user's trust", res, err, LoginTwoFactor)
	e.clock.Advance(time.Hour)
	res, err = login(u)
	wantOutcome(t, "an expired trust", res, err, LoginTwoFactor)
}

// TestTwoFactor_Policy: Required refuses the login of a user without a
// method, clearly, and only after the right password; Disabled needs no
// code; the application's policy overrides the tenant's; the password
// grant answers two_factor_required with the twoFactorId.
func TestTwoFactor_Policy(t *testing.T) {
	t.Parallel()
	e := newLoginsEnv(t)
	u := e.mustTwoFactorUser(t, "policy@example.org")
	plain := e.importUser(t, "nomethod@example.org", true)
	login := func(email, pw string) (LoginResult, error) {
		return e.Login(e.ctx, LoginInput{Request: api.LoginRequest{LoginID: email, Password: pw, ApplicationID: e.app.ID}})
	}
	e.editTenant(t, func(tn *api.Tenant) { tn.MultiFactorConfiguration.LoginPolicy = api.MultiFactorRequired })
	e.clock.Advance(2 * time.Second) // past the cache's bound
	_, err := login(plain.Email, cheapPassword)
	wantCodes(t, "Required, no method", err, "[TwoFactorRequired]")
	res, err := login(plain.Email, "wrong")
	wantOutcome(t, "Required, no method, wrong password", res, err, 0)

	app := e.app.Application
	app.MultiFactorConfiguration = &api.ApplicationMultiFactorConfiguration{LoginPolicy: api.MultiFactorDisabled}
	app.OAuthConfiguration.EnabledGrants = []string{GrantPassword}
	if _, err := e.UpdateApplication(e.ctx, "", app.ID, app); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(2 * time.Second)
	res, err = login(u.email, cheapPassword)
	wantOutcome(t, "the application disables it", res, err, LoginOK)

	app.MultiFactorConfiguration.LoginPolicy = api.MultiFactorEnabled
	if _, err := e.UpdateApplication(e.ctx, "", app.ID, app); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(2 * time.Second)
	res, err = login(plain.Email, cheapPassword)
	wantOutcome(t, "the application's Enabled overrides the tenant's Required", res, err, LoginOK)
	_, err = e.Login(e.ctx, LoginInput{OAuth: true, Request: api.LoginRequest{LoginID: u.email, Password: cheapPassword, ApplicationID: app.ID}})
	var oe *api.OAuthError
	if !errors.As(err, &oe) || oe.Code != api.OAuthTwoFactorRequired || oe.TwoFactorID == "" || len(oe.TwoFactorMethods) != 1 {
		t.Fatalf("password grant: %v, want two_factor_required with an id and the method", err)
	}
	res, err = e.secondStep(oe.TwoFactorID, e.code(t, u, 30*time.Second), Client{})
	wantOutcome(t, "the password grant's twoFactorId", res, err, LoginOK)
}

// TestTwoFactor_EventsAndRevocation: enabling and removing a method are
// announced; the 242 is not a login success, the second step is; with
// onMultiFactorEnable, enabling a method revokes the user's refresh tokens.
func TestTwoFactor_EventsAndRevocation(t *testing.T) {
	t.Parallel()
	e := newLoginsEnv(t)
	tn := e.enableEvents(t, false, api.EventUserTwoFactorMethodAdd, api.EventUserTwoFactorMethodRemove, api.EventUserLoginSuccess,
		api.EventJWTRefreshTokenRevoke)
	tn.JWTConfiguration.RefreshTokenRevocationPolicy.OnMultiFactorEnable = true
	if _, err := e.UpdateTenant(e.ctx, tn.ID, tn); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(2 * time.Second)
	plain := e.importUser(t, "events@example.org", true)
	res, err := e.Login(e.ctx, LoginInput{Request: api.LoginRequest{LoginID: plain.Email, Password: cheapPassword, ApplicationID: e.app.ID}})
	wantOutcome(t, "before", res, err, LoginOK)
	sid := res.Response.RefreshTokenID

	secret, _ := totp.NewSecret()
	code, _ := totp.Code(secret, e.clock.Now())
	if _, err := e.EnableTwoFactor(e.ctx, "", plain.ID, api.TwoFactorRequest{Method: "authenticator", Code: code, SecretBase32Encoded: totp.Base32(secret)}); err != nil {
		t.Fatal(err)
	}
	sess, err := e.store.GetSession(e.ctx, sid)
	if err != nil || sess.RevokedAt.IsZero() || sess.RevokeReason != ReasonMultiFactorEnabled {
		t.Errorf("session after enabling: %+v, %v; want revoked (%s)", sess, err, ReasonMultiFactorEnabled)
	}
	added := outbox[api.UserTwoFactorMethodEvent](t, e.env, api.EventUserTwoFactorMethodAdd)
	if len(added) != 1 || added[0].User == nil || added[0].User.ID != plain.ID || added[0].Method.Method != "authenticator" || added[0].Method.ID == "" {
		t.Fatalf("user.two-factor.method.add events %+v", added)
	}
	before := len(outbox[api.UserLoginSuccessEvent](t, e.env, api.EventUserLoginSuccess))
	u := tfUser{id: plain.ID, email: plain.Email, secret: secret, methodID: added[0].Method.ID}
	id := e.firstStep(t, u, Client{})
	if n := len(outbox[api.UserLoginSuccessEvent](t, e.env, api.EventUserLoginSuccess)); n != before {
		t.Errorf("the 242 announced a login success")
	}
	e.clock.Advance(time.Second)
	if _, err := e.secondStep(id, e.code(t, u, 30*time.Second), Client{}); err != nil {
		t.Fatal(err)
	}
	if n := len(outbox[api.UserLoginSuccessEvent](t, e.env, api.EventUserLoginSuccess)); n != before+1 {
		t.Errorf("%d login successes after the second step, want %d", n, before+1)
	}
	if err := e.DisableTwoFactor(e.ctx, "", u.id, api.TwoFactorDisableRequest{MethodID: u.methodID, Code: e.code(t, u, -30*time.Second)}); err != nil {
		t.Fatal(err)
	}
	removed := outbox[api.UserTwoFactorMethodEvent](t, e.env, api.EventUserTwoFactorMethodRemove)
	if len(removed) != 1 || removed[0].Method.ID != u.methodID {
		t.Errorf("user.two-factor.method.remove events %+v", removed)
	}
	if n, _ := e.store.CountRecoveryCodes(e.ctx, u.id); n != 0 {
		t.Errorf("%d recovery codes after the last method went", n)
	}
}

// TestTwoFactor_Validation: unknown policies and negative lifetimes are
// refused with field errors.
func TestTwoFactor_Validation(t *testing.T) {
	t.Parallel()
	e := newLoginsEnv(t)
	tn := e.tenant
	tn.MultiFactorConfiguration.LoginPolicy = "Sometimes"
	tn.ExternalIdentifierConfiguration.TwoFactorIDTimeToLiveInSeconds = -1
	_, err := e.UpdateTenant(e.ctx, tn.ID, tn)
	wantCodes(t, "tenant", err, "[invalid]tenant.multiFactorConfiguration.loginPolicy", "[invalid]tenant.externalIdentifierConfiguration")
	app := e.app.Application
	app.MultiFactorConfiguration = &api.ApplicationMultiFactorConfiguration{LoginPolicy: "enabled"}
	_, err = e.UpdateApplication(e.ctx, "", app.ID, app)
	wantCodes(t, "application", err, "[invalid]application.multiFactorConfiguration.loginPolicy")
	for _, bad := range []api.TwoFactorRequest{
		{Method: "authenticator", Code: "123456", Secret: "c2hvcnQ="},
		{Method: "authenticator", Code: "123456", SecretBase32Encoded: "not base32!"},
	} {
		_, err := e.EnableTwoFactor(e.ctx, "", NewID(), bad)
		var ae *api.Errors
		if !errors.As(err, &ae) {
			t.Errorf("enable with %+v: %v, want a field error", bad, err)
		}
	}
}
