package httpapi_test

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/latchid/latch/internal/totp/totptest"

	"github.com/google/uuid"

	"github.com/latchid/latch/api"
)

// TestTwoFactor_Flow drives a user through FusionAuth's two-factor APIs
// over HTTP: a secret, enabling with a code, the 242 of a login, the
// second step with a code, a recovery code and a trusted computer, and
// disabling; every code is an authenticator app's (rfc6238). The shared
// server's clock does not move, so each TOTP code is one of the three
// steps around it, each accepted once.
func TestTwoFactor_Flow(t *testing.T) {
	t.Parallel()
	e := sharedEnv(t)
	userID, email := e.mustUser(t, e.appID)
	now := e.clock.Now()

	var sec api.SecretResponse
	e.do(t, "GET", "/api/two-factor/secret?loginId="+url.QueryEscape(email), withKey(e.key)).wantJSON(t, 200, &sec)
	if sec.Secret == "" || sec.SecretBase32Encoded == "" {
		t.Fatalf("secret response %+v", sec)
	}
	uri, err := url.Parse(sec.OTPAuthURI)
	if err != nil || uri.Scheme != "otpauth" || uri.Host != "totp" || uri.Query().Get("secret") != sec.SecretBase32Encoded ||
		!strings.HasSuffix(uri.Path, ":"+email) || uri.Query().Get("digits") != "6" || uri.Query().Get("period") != "30" {
		t.Errorf("otpauth URI %q", sec.OTPAuthURI)
	}

	enable := "/api/user/two-factor/" + userID
	body := func(code string) map[string]any {
		return map[string]any{"method": "authenticator", "code": code, "secretBase32Encoded": sec.SecretBase32Encoded}
	}
	e.do(t, "POST", enable, withKey(e.key), withJSON(map[string]any{"method": "email", "email": email})).
		wantErrors(t, "[invalid]method", "[blank]code")
	e.do(t, "POST", enable, withKey(e.key), withJSON(map[string]any{"method": "authenticator"})).
		wantErrors(t, "[blank]secret", "[blank]code")
	e.do(t, "POST", enable, withKey(e.key), withJSON(body(totptest.Code(t, sec.SecretBase32Encoded, now.Add(-2*time.Minute))))).wantStatus(t, 421)
	e.do(t, "POST", enable, withJSON(body(totptest.Code(t, sec.SecretBase32Encoded, now)))).wantStatus(t, 401)

	var enabled api.TwoFactorResponse
	e.do(t, "POST", enable, withKey(e.key), withJSON(body(totptest.Code(t, sec.SecretBase32Encoded, now)))).wantJSON(t, 200, &enabled)
	if len(enabled.RecoveryCodes) != 10 {
		t.Fatalf("recovery codes %v, want 10", enabled.RecoveryCodes)
	}

	// The user carries its method, never the secret.
	r := e.do(t, "GET", "/api/user/"+userID, withKey(e.key))
	var ur api.UserResponse
	r.wantJSON(t, 200, &ur)
	if ur.User.TwoFactor == nil || len(ur.User.TwoFactor.Methods) != 1 {
		t.Fatalf("user.twoFactor = %+v, want one method", ur.User.TwoFactor)
	}
	m := ur.User.TwoFactor.Methods[0]
	if m.Method != "authenticator" || m.ID == "" || m.Authenticator == nil ||
		*m.Authenticator != (api.AuthenticatorConfiguration{Algorithm: "HmacSHA1", CodeLength: 6, TimeStep: 30}) {
		t.Errorf("method %+v", m)
	}
	if strings.Contains(string(r.Body), sec.SecretBase32Encoded) || strings.Contains(string(r.Body), sec.Secret) {
		t.Errorf("GET user shows the secret: %s", r.Body)
	}

	// The login waits for a code: 242, no token.
	first := func() api.LoginResponse {
		t.Helper()
		var lr api.LoginResponse
		e.login(t, map[string]any{"loginId": email, "password": testPassword, "applicationId": e.appID}).wantJSON(t, 242, &lr)
		if lr.TwoFactorID == "" || lr.Token != "" || lr.RefreshToken != "" || len(lr.Methods) != 1 || lr.Methods[0].ID != m.ID {
			t.Fatalf("242 answer %+v", lr)
		}
		return lr
	}
	second := func(id, code string, extra map[string]any) *response {
		t.Helper()
		b := map[string]any{"twoFactorId": id, "code": code, "applicationId": e.appID}
		for k, v := range extra {
			b[k] = v
		}
		return e.do(t, "POST", "/api/two-factor/login", withKey(e.key), withJSON(b))
	}
	lr := first()
	var errs api.Errors
	second(lr.TwoFactorID, "000000", nil).wantJSON(t, 421, &errs)
	if len(errs.FieldErrors["code"]) != 1 {
		t.Errorf("421 body %+v, want a field error of code", errs)
	}
	// The code that enabled the method is spent for its window.
	second(lr.TwoFactorID, totptest.Code(t, sec.SecretBase32Encoded, now), nil).wantStatus(t, 421)
	second("not-a-two-factor-id", totptest.Code(t, sec.SecretBase32Encoded, now.Add(30*time.Second)), nil).wantStatus(t, 404)
	var done api.LoginResponse
	second(lr.TwoFactorID, totptest.Code(t, sec.SecretBase32Encoded, now.Add(30*time.Second)), map[string]any{"trustComputer": true}).
		wantJSON(t, 200, &done)
	if done.Token == "" || done.RefreshToken == "" || done.User == nil || done.User.ID != userID || done.TwoFactorTrustID == "" {
		t.Fatalf("two-factor login answer %+v", done)
	}
	// The twoFactorId is spent.
	second(lr.TwoFactorID, enabled.RecoveryCodes[0], nil).wantStatus(t, 404)

	// A trusted computer skips the code.
	var trusted api.LoginResponse
	e.login(t, map[string]any{"loginId": email, "password": testPassword, "applicationId": e.appID, "twoFactorTrustId": done.TwoFactorTrustID}).
		wantJSON(t, 200, &trusted)
	if trusted.Token == "" {
		t.Errorf("login with a trust: %+v", trusted)
	}

	// A recovery code works once, as typed (lower case).
	lr = first()
	second(lr.TwoFactorID, strings.ToLower(enabled.RecoveryCodes[1]), nil).wantJSON(t, 200, &done)
	lr = first()
	second(lr.TwoFactorID, enabled.RecoveryCodes[1], nil).wantStatus(t, 421)
	var count api.TwoFactorRecoveryCodeResponse
	e.do(t, "GET", "/api/user/two-factor/recovery-code/"+userID, withKey(e.key)).wantJSON(t, 200, &count)
	if count.RecoveryCodeCount == nil || *count.RecoveryCodeCount != 9 || len(count.RecoveryCodes) != 0 {
		t.Errorf("GET recovery codes: %+v, want a count of 9", count)
	}
	var fresh api.TwoFactorRecoveryCodeResponse
	e.do(t, "POST", "/api/user/two-factor/recovery-code/"+userID, withKey(e.key)).wantJSON(t, 200, &fresh)
	if len(fresh.RecoveryCodes) != 10 {
		t.Fatalf("POST recovery codes: %+v", fresh)
	}
	second(lr.TwoFactorID, enabled.RecoveryCodes[2], nil).wantStatus(t, 421) // replaced
	second(lr.TwoFactorID, fresh.RecoveryCodes[0], nil).wantJSON(t, 200, &done)

	// Disabling takes a code of the method; the last method takes the
	// recovery codes with it.
	disable := "/api/user/two-factor/" + userID + "?methodId=" + m.ID + "&code="
	e.do(t, "DELETE", disable+"123456", withKey(e.key)).wantStatus(t, 421)
	e.do(t, "DELETE", "/api/user/two-factor/"+userID+"?methodId=ZZZZ&code=123456", withKey(e.key)).wantErrors(t, "[invalid]methodId")
	e.do(t, "DELETE", disable+totptest.Code(t, sec.SecretBase32Encoded, now.Add(-30*time.Second)), withKey(e.key)).wantEmpty(t, 200)
	e.do(t, "GET", "/api/user/"+userID, withKey(e.key)).wantJSON(t, 200, &ur)
	if ur.User.TwoFactor != nil {
		t.Errorf("user.twoFactor after disabling: %+v", ur.User.TwoFactor)
	}
	e.do(t, "GET", "/api/user/two-factor/recovery-code/"+userID, withKey(e.key)).wantJSON(t, 200, &count)
	if *count.RecoveryCodeCount != 0 {
		t.Errorf("recovery codes after disabling: %d", *count.RecoveryCodeCount)
	}
	e.mustLogin(t, email, e.appID)
	e.do(t, "POST", "/api/user/two-factor/recovery-code/"+userID, withKey(e.key)).wantErrors(t, "[TwoFactorNotEnabled]")
	e.do(t, "POST", "/api/user/two-factor/"+uuid.NewString(), withKey(e.key), withJSON(body(totptest.Code(t, sec.SecretBase32Encoded, now)))).wantEmpty(t, 404)
}

// TestTwoFactor_UserJWT: with the user's own JWT, the secret comes with
// its otpauth URI, and the user enables and disables a method without
// naming itself.
func TestTwoFactor_UserJWT(t *testing.T) {
	t.Parallel()
	e := sharedEnv(t)
	userID, email := e.mustUser(t, e.appID)
	jwt := e.mustLogin(t, email, e.appID).Token
	now := e.clock.Now()

	var sec api.SecretResponse
	e.do(t, "GET", "/api/two-factor/secret", withBearer(jwt)).wantJSON(t, 200, &sec)
	if !strings.Contains(sec.OTPAuthURI, url.PathEscape(email)) && !strings.Contains(sec.OTPAuthURI, email) {
		t.Errorf("otpauth URI %q does not name %s", sec.OTPAuthURI, email)
	}
	e.do(t, "GET", "/api/two-factor/secret").wantStatus(t, 401)
	var enabled api.TwoFactorResponse
	e.do(t, "POST", "/api/user/two-factor", withBearer(jwt), withJSON(map[string]any{"method": "authenticator",
		"code": totptest.Code(t, sec.SecretBase32Encoded, now), "secret": sec.Secret})).wantJSON(t, 200, &enabled)
	if len(enabled.RecoveryCodes) != 10 {
		t.Fatalf("recovery codes %v", enabled.RecoveryCodes)
	}
	var ur api.UserResponse
	e.do(t, "GET", "/api/user/"+userID, withKey(e.key)).wantJSON(t, 200, &ur)
	if ur.User.TwoFactor == nil || len(ur.User.TwoFactor.Methods) != 1 {
		t.Fatalf("user.twoFactor = %+v", ur.User.TwoFactor)
	}
	// A second method comes without recovery codes.
	var sec2 api.SecretResponse
	e.do(t, "GET", "/api/two-factor/secret", withKey(e.key)).wantJSON(t, 200, &sec2)
	if sec2.OTPAuthURI != "" {
		t.Errorf("a secret for an API key without loginId has a URI: %q", sec2.OTPAuthURI)
	}
	var again api.TwoFactorResponse
	e.do(t, "POST", "/api/user/two-factor", withBearer(jwt), withJSON(map[string]any{"method": "authenticator",
		"code": totptest.Code(t, sec2.SecretBase32Encoded, now), "secretBase32Encoded": sec2.SecretBase32Encoded})).wantJSON(t, 200, &again)
	if len(again.RecoveryCodes) != 0 {
		t.Errorf("second method came with recovery codes %v", again.RecoveryCodes)
	}
	// A recovery code removes a method (JSON body form).
	e.do(t, "DELETE", "/api/user/two-factor", withBearer(jwt), withJSON(map[string]any{"methodId": ur.User.TwoFactor.Methods[0].ID,
		"code": enabled.RecoveryCodes[0]})).wantEmpty(t, 200)
	e.do(t, "GET", "/api/user/"+userID, withKey(e.key)).wantJSON(t, 200, &ur)
	if ur.User.TwoFactor == nil || len(ur.User.TwoFactor.Methods) != 1 {
		t.Fatalf("after removing one of two methods: %+v", ur.User.TwoFactor)
	}
	// Wrong codes count toward the lockout (five by default): then 409,
	// the right code included, and the login ID is locked.
	remove := func(code string) *response {
		return e.do(t, "DELETE", "/api/user/two-factor?methodId="+ur.User.TwoFactor.Methods[0].ID+"&code="+code, withBearer(jwt))
	}
	for range 5 {
		remove("000000").wantStatus(t, 421)
	}
	remove(totptest.Code(t, sec2.SecretBase32Encoded, now.Add(30*time.Second))).wantEmpty(t, 409)
	e.login(t, map[string]any{"loginId": email, "password": testPassword, "applicationId": e.appID}).wantStatus(t, 409)
}

// mustTwoFactorUser creates a user of the Default application with an
// authenticator method enabled with the code of the clock's step; it
// returns the user's email and base32 secret.
func (e *env) mustTwoFactorUser(t *testing.T) (string, string) {
	t.Helper()
	return e.mustTwoFactorUserOf(t, e.appID)
}

// mustTwoFactorUserOf is mustTwoFactorUser for a user of appID.
func (e *env) mustTwoFactorUserOf(t *testing.T, appID string) (string, string) {
	t.Helper()
	userID, email := e.mustUser(t, appID)
	var sec api.SecretResponse
	e.do(t, "GET", "/api/two-factor/secret", withKey(e.key)).wantJSON(t, 200, &sec)
	e.do(t, "POST", "/api/user/two-factor/"+userID, withKey(e.key), withJSON(map[string]any{"method": "authenticator",
		"code": totptest.Code(t, sec.SecretBase32Encoded, e.clock.Now()), "secretBase32Encoded": sec.SecretBase32Encoded})).wantJSON(t, 200, nil)
	return email, sec.SecretBase32Encoded
}

// TestTwoFactor_DPoP: a login whose first step was bound to a DPoP key
// (a proof, or the dpopJkt an API key vouches for) completes only with
// that key, and its tokens are bound to it.
func TestTwoFactor_DPoP(t *testing.T) {
	t.Parallel()
	e := sharedEnv(t)
	device, other := newDeviceKey(t), newDeviceKey(t)
	code := func(secret string) string { return totptest.Code(t, secret, e.clock.Now().Add(30*time.Second)) }

	t.Run("proof", func(t *testing.T) {
		email, secret := e.mustTwoFactorUser(t)
		var lr api.LoginResponse
		e.login(t, map[string]any{"loginId": email, "password": testPassword, "applicationId": e.appID},
			withDPoP(device.proof(t, e, "POST", "/api/login"))).wantJSON(t, 242, &lr)
		body := map[string]any{"twoFactorId": lr.TwoFactorID, "code": code(secret)}
		e.do(t, "POST", "/api/two-factor/login", withJSON(body)).wantEmpty(t, 404)
		e.do(t, "POST", "/api/two-factor/login", withJSON(body), withDPoP(other.proof(t, e, "POST", "/api/two-factor/login"))).wantEmpty(t, 404)
		var done api.LoginResponse
		e.do(t, "POST", "/api/two-factor/login", withJSON(body), withDPoP(device.proof(t, e, "POST", "/api/two-factor/login"))).
			wantJSON(t, 200, &done)
		if got := cnfJKT(t, done.Token); got != device.jkt {
			t.Errorf("token bound to %q, want the device's %q", got, device.jkt)
		}
	})
	t.Run("dpopJkt vouched by an API key", func(t *testing.T) {
		email, secret := e.mustTwoFactorUser(t)
		var lr api.LoginResponse
		e.login(t, map[string]any{"loginId": email, "password": testPassword, "applicationId": e.appID, "dpopJkt": device.jkt}).
			wantJSON(t, 242, &lr)
		body := map[string]any{"twoFactorId": lr.TwoFactorID, "code": code(secret), "dpopJkt": device.jkt}
		e.do(t, "POST", "/api/two-factor/login", withJSON(body)).wantStatus(t, 401) // dpopJkt without an API key, as on /api/login
		body["dpopJkt"] = other.jkt
		e.do(t, "POST", "/api/two-factor/login", withKey(e.key), withJSON(body)).wantEmpty(t, 404)
		body["dpopJkt"] = device.jkt
		var done api.LoginResponse
		e.do(t, "POST", "/api/two-factor/login", withKey(e.key), withJSON(body)).wantJSON(t, 200, &done)
		if got := cnfJKT(t, done.Token); got != device.jkt {
			t.Errorf("token bound to %q, want %q", got, device.jkt)
		}
	})
}

// TestTwoFactor_PasswordGrant: the password grant of a user who must give
// a code answers RFC 6749's error two_factor_required with the
// twoFactorId and methods, and no token.
func TestTwoFactor_PasswordGrant(t *testing.T) {
	t.Parallel()
	e := sharedEnv(t)
	a := e.mustOAuthApp(t, nil)
	email, secret := e.mustTwoFactorUserOf(t, a.id)
	f := url.Values{"grant_type": {"password"}, "username": {email}, "password": {testPassword}}
	oe := e.token(t, f, withBasic(a.id, a.secret)).wantOAuthError(t, 400, "two_factor_required")
	if oe.TwoFactorID == "" || len(oe.TwoFactorMethods) != 1 {
		t.Fatalf("two_factor_required without the id or methods: %+v", oe)
	}
	var done api.LoginResponse
	e.do(t, "POST", "/api/two-factor/login", withJSON(map[string]any{"twoFactorId": oe.TwoFactorID,
		"code": totptest.Code(t, secret, e.clock.Now().Add(30*time.Second))})).wantJSON(t, 200, &done)
	if done.Token == "" {
		t.Errorf("no token: %+v", done)
	}
}
