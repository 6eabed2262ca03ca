package storefront_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/latchid/latch/internal/totp/totptest"

	"github.com/latchid/latch/api"
	"github.com/latchid/latch/dpop"
	"github.com/latchid/latch/internal/storefront"
)

// code is the authenticator's code for secret a time step after the last
// one used: Latch accepts each code once.
func (e *env) code(t *testing.T, secret string) string {
	t.Helper()
	e.clock.Advance(30 * time.Second)
	return totptest.Code(t, secret, e.clock.Now())
}

// enableTwoFactor turns the authenticator on for the user of jwt through
// the storefront and returns the secret and the recovery codes.
func (e *env) enableTwoFactor(t *testing.T, jwt string) (secret string, recovery []string) {
	t.Helper()
	res := e.do(t, req{method: "POST", path: "/api/account/two-factor/secret", jwt: jwt})
	if res.StatusCode != http.StatusOK {
		t.Fatalf("POST /api/account/two-factor/secret: %d %s", res.StatusCode, res.body)
	}
	var s storefront.TwoFactorSecretResponse
	res.decode(t, &s)
	res = e.do(t, req{method: "POST", path: "/api/account/two-factor", jwt: jwt,
		body: storefront.EnableTwoFactorRequest{Secret: s.Secret, Code: e.code(t, s.Secret)}})
	if res.StatusCode != http.StatusOK {
		t.Fatalf("POST /api/account/two-factor: %d %s", res.StatusCode, res.body)
	}
	var en storefront.EnableTwoFactorResponse
	res.decode(t, &en)
	return s.Secret, en.RecoveryCodes
}

// pendingLogin logs in with the password and insists on 202.
func (e *env) pendingLogin(t *testing.T, email string, header map[string]string) storefront.TwoFactorPendingResponse {
	t.Helper()
	res := e.do(t, req{method: "POST", path: "/api/login", body: storefront.LoginRequest{LoginID: email, Password: testPassword}, header: header})
	if res.StatusCode != http.StatusAccepted {
		t.Fatalf("login of a user with a second factor: %d %s, want 202", res.StatusCode, res.body)
	}
	if strings.Contains(string(res.body), "token") && !strings.Contains(string(res.body), "twoFactorId") {
		t.Fatalf("the 202 carries a token: %s", res.body)
	}
	var p storefront.TwoFactorPendingResponse
	res.decode(t, &p)
	if p.TwoFactorID == "" || len(p.Methods) != 1 || p.Methods[0].Method != api.TwoFactorAuthenticator || p.Methods[0].ID == "" {
		t.Fatalf("the 202 is not {twoFactorId, methods:[authenticator]}: %s", res.body)
	}
	var raw map[string]any
	res.decode(t, &raw)
	for _, k := range []string{"token", "refreshToken", "user"} {
		if _, ok := raw[k]; ok {
			t.Errorf("the 202 carries %q", k)
		}
	}
	return p
}

func TestTwoFactor_EnrolAndLogin(t *testing.T) {
	e := newEnv(t)
	email, _ := e.newUser(t)
	lr := e.login(t, email)

	res := e.do(t, req{method: "GET", path: "/api/account/two-factor", jwt: lr.Token})
	var st storefront.TwoFactorStatus
	res.decode(t, &st)
	if res.StatusCode != http.StatusOK || st.Enabled || st.Methods == nil {
		t.Fatalf("status before: %d %s", res.StatusCode, res.body)
	}
	wantError(t, e.do(t, req{method: "POST", path: "/api/account/two-factor/secret"}), http.StatusUnauthorized, "invalid_token")

	res = e.do(t, req{method: "POST", path: "/api/account/two-factor/secret", jwt: lr.Token})
	var s storefront.TwoFactorSecretResponse
	res.decode(t, &s)
	u, err := url.Parse(s.URI)
	if err != nil || u.Scheme != "otpauth" || u.Host != "totp" || u.Query().Get("secret") != s.Secret ||
		u.Query().Get("issuer") != storefront.TOTPIssuer || !strings.HasSuffix(u.Path, ":"+email) ||
		u.Query().Get("digits") != "6" || u.Query().Get("period") != "30" || u.Query().Get("algorithm") != "SHA1" {
		t.Fatalf("the secret's URI %q does not describe it (secret %q)", s.URI, s.Secret)
	}
	// A wrong code enables nothing.
	wrong := fmt.Sprintf("%06d", (atoi(totptest.Code(t, s.Secret, e.clock.Now()))+500_000)%1_000_000)
	wantError(t, e.do(t, req{method: "POST", path: "/api/account/two-factor", jwt: lr.Token,
		body: storefront.EnableTwoFactorRequest{Secret: s.Secret, Code: wrong}}), http.StatusBadRequest, storefront.CodeInvalidTwoFactorCode)
	res = e.do(t, req{method: "POST", path: "/api/account/two-factor", jwt: lr.Token,
		body: storefront.EnableTwoFactorRequest{Secret: strings.ToLower(s.Secret), Code: e.code(t, s.Secret)}})
	var en storefront.EnableTwoFactorResponse
	res.decode(t, &en)
	if res.StatusCode != http.StatusOK || len(en.RecoveryCodes) != 10 {
		t.Fatalf("enable: %d %s, want 200 and 10 recovery codes", res.StatusCode, res.body)
	}
	res = e.do(t, req{method: "GET", path: "/api/account/two-factor", jwt: lr.Token})
	res.decode(t, &st)
	if !st.Enabled || len(st.Methods) != 1 || st.Methods[0].Method != api.TwoFactorAuthenticator {
		t.Fatalf("status after: %s", res.body)
	}

	// The password alone: 202, and no token.
	p := e.pendingLogin(t, email, nil)
	e.rt.Reset()
	// A wrong code: 401, and the twoFactorId stays usable.
	wrong = fmt.Sprintf("%06d", (atoi(totptest.Code(t, s.Secret, e.clock.Now()))+1)%1_000_000)
	wantError(t, e.do(t, req{method: "POST", path: "/api/login/two-factor",
		body: storefront.TwoFactorLoginRequest{TwoFactorID: p.TwoFactorID, Code: wrong}}), http.StatusUnauthorized, storefront.CodeInvalidTwoFactorCode)
	res = e.do(t, req{method: "POST", path: "/api/login/two-factor",
		body: storefront.TwoFactorLoginRequest{TwoFactorID: p.TwoFactorID, Code: e.code(t, s.Secret)}})
	var done storefront.LoginResponse
	res.decode(t, &done)
	if res.StatusCode != http.StatusOK || done.Token == "" || done.RefreshToken == "" || done.User == nil || done.User.Email != email || done.TwoFactorTrustID != "" {
		t.Fatalf("second step: %d %s", res.StatusCode, res.body)
	}
	if n := e.rt.N("POST /api/two-factor/login"); n != 2 || e.rt.N(loginCall) != 0 {
		t.Errorf("the second steps called Latch's two-factor login %d times and its login %d times, want 2 and 0", n, e.rt.N(loginCall))
	}
	e.cart(t, done.Token)
	// The twoFactorId is spent.
	wantError(t, e.do(t, req{method: "POST", path: "/api/login/two-factor",
		body: storefront.TwoFactorLoginRequest{TwoFactorID: p.TwoFactorID, Code: e.code(t, s.Secret)}}), http.StatusUnauthorized, storefront.CodeTwoFactorExpired)

	// A recovery code works once in place of a code.
	p = e.pendingLogin(t, email, nil)
	res = e.do(t, req{method: "POST", path: "/api/login/two-factor", body: storefront.TwoFactorLoginRequest{TwoFactorID: p.TwoFactorID, Code: en.RecoveryCodes[0]}})
	if res.StatusCode != http.StatusOK {
		t.Fatalf("second step with a recovery code: %d %s", res.StatusCode, res.body)
	}
	p = e.pendingLogin(t, email, nil)
	wantError(t, e.do(t, req{method: "POST", path: "/api/login/two-factor",
		body: storefront.TwoFactorLoginRequest{TwoFactorID: p.TwoFactorID, Code: en.RecoveryCodes[0]}}), http.StatusUnauthorized, storefront.CodeInvalidTwoFactorCode)

	// Disable: a wrong code changes nothing; a recovery code turns it off.
	wantError(t, e.do(t, req{method: "DELETE", path: "/api/account/two-factor", jwt: done.Token,
		body: storefront.DisableTwoFactorRequest{Code: wrong}}), http.StatusBadRequest, storefront.CodeInvalidTwoFactorCode)
	res = e.do(t, req{method: "DELETE", path: "/api/account/two-factor", jwt: done.Token, body: storefront.DisableTwoFactorRequest{Code: en.RecoveryCodes[1]}})
	if res.StatusCode != http.StatusOK {
		t.Fatalf("disable: %d %s", res.StatusCode, res.body)
	}
	wantError(t, e.do(t, req{method: "DELETE", path: "/api/account/two-factor", jwt: done.Token,
		body: storefront.DisableTwoFactorRequest{Code: "123456"}}), http.StatusNotFound, storefront.CodeNotFound)
	e.login(t, email) // the password alone again

	// Nothing secret reached the log.
	log := e.logs.String()
	for _, v := range append([]string{s.Secret, p.TwoFactorID, done.Token}, en.RecoveryCodes...) {
		if strings.Contains(log, v) {
			t.Errorf("the storefront logged a secret, code or id: %q", v)
		}
	}
}

func atoi(s string) int {
	var n int
	fmt.Sscanf(s, "%d", &n)
	return n
}

// trustDevice: the second step with trustDevice answers a trust id, with
// which the next login of the same user needs no code. A twoFactorId
// expires after Latch's default five minutes.
func TestTwoFactor_TrustDevice(t *testing.T) {
	e := newEnv(t)
	email, _ := e.newUser(t)
	secret, _ := e.enableTwoFactor(t, e.login(t, email).Token)
	p := e.pendingLogin(t, email, nil)
	res := e.do(t, req{method: "POST", path: "/api/login/two-factor",
		body: storefront.TwoFactorLoginRequest{TwoFactorID: p.TwoFactorID, Code: e.code(t, secret), TrustDevice: true}})
	var done storefront.LoginResponse
	res.decode(t, &done)
	if res.StatusCode != http.StatusOK || done.TwoFactorTrustID == "" {
		t.Fatalf("second step with trustDevice: %d %s, want a twoFactorTrustId", res.StatusCode, res.body)
	}
	res = e.do(t, req{method: "POST", path: "/api/login", body: storefront.LoginRequest{LoginID: email, Password: testPassword, TwoFactorTrustID: done.TwoFactorTrustID}})
	if res.StatusCode != http.StatusOK {
		t.Fatalf("login with the trust id: %d %s, want 200", res.StatusCode, res.body)
	}
	// The trust id is no password: a wrong password with it is refused.
	res = e.do(t, req{method: "POST", path: "/api/login", body: storefront.LoginRequest{LoginID: email, Password: "not the password", TwoFactorTrustID: done.TwoFactorTrustID}})
	wantError(t, res, http.StatusUnauthorized, storefront.CodeInvalidCredentials)
	// Without it, the code is due; and a twoFactorId lasts five minutes.
	p = e.pendingLogin(t, email, nil)
	e.clock.Advance(5*time.Minute + time.Second)
	wantError(t, e.do(t, req{method: "POST", path: "/api/login/two-factor",
		body: storefront.TwoFactorLoginRequest{TwoFactorID: p.TwoFactorID, Code: totptest.Code(t, secret, e.clock.Now())}}), http.StatusUnauthorized, storefront.CodeTwoFactorExpired)
	if strings.Contains(e.logs.String(), done.TwoFactorTrustID) {
		t.Error("the storefront logged the trust id")
	}
}

// DPoP: the second step's proof binds the tokens; the twoFactorId is
// bound to the first step's key, so another key's proof gets nothing.
func TestTwoFactor_DPoP(t *testing.T) {
	e := newEnv(t)
	email, _ := e.newUser(t)
	secret, _ := e.enableTwoFactor(t, e.login(t, email).Token)
	d, other := newDevice(t), newDevice(t)
	p := e.pendingLogin(t, email, map[string]string{dpop.Header: e.proof(t, d, "POST", "/api/login", "")})
	code := e.code(t, secret)
	res := e.do(t, req{method: "POST", path: "/api/login/two-factor", body: storefront.TwoFactorLoginRequest{TwoFactorID: p.TwoFactorID, Code: code},
		header: map[string]string{dpop.Header: e.proof(t, other, "POST", "/api/login/two-factor", "")}})
	wantError(t, res, http.StatusUnauthorized, storefront.CodeTwoFactorExpired)
	res = e.do(t, req{method: "POST", path: "/api/login/two-factor", body: storefront.TwoFactorLoginRequest{TwoFactorID: p.TwoFactorID, Code: e.code(t, secret)},
		header: map[string]string{dpop.Header: "not a proof"}})
	wantError(t, res, http.StatusBadRequest, storefront.CodeInvalidDPoPProof)

	p = e.pendingLogin(t, email, map[string]string{dpop.Header: e.proof(t, d, "POST", "/api/login", "")})
	res = e.do(t, req{method: "POST", path: "/api/login/two-factor", body: storefront.TwoFactorLoginRequest{TwoFactorID: p.TwoFactorID, Code: e.code(t, secret)},
		header: map[string]string{dpop.Header: e.proof(t, d, "POST", "/api/login/two-factor", "")}})
	var done storefront.LoginResponse
	res.decode(t, &done)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("second step with the first step's key: %d %s", res.StatusCode, res.body)
	}
	e.cartDPoP(t, d, done.Token)
	wantError(t, e.do(t, req{method: "GET", path: "/api/cart", jwt: done.Token}), http.StatusUnauthorized, "invalid_token")
}

// Failed codes count toward Latch's lockout, which passes through as the
// login's does: 409 with the lock's end, and then the right code is
// refused too.
func TestTwoFactor_Lockout(t *testing.T) {
	e := newEnv(t)
	email, _ := e.newUser(t)
	secret, _ := e.enableTwoFactor(t, e.login(t, email).Token)
	p := e.pendingLogin(t, email, nil)
	valid := map[string]bool{}
	for _, d := range []time.Duration{-30 * time.Second, 0, 30 * time.Second} {
		valid[totptest.Code(t, secret, e.clock.Now().Add(d))] = true
	}
	var last response
	for i := 1; i < 20; i++ {
		guess := fmt.Sprintf("%06d", 111111*(i%9+1)-i)
		if valid[guess] {
			continue
		}
		last = e.do(t, req{method: "POST", path: "/api/login/two-factor", body: storefront.TwoFactorLoginRequest{TwoFactorID: p.TwoFactorID, Code: guess}})
		if last.StatusCode != http.StatusUnauthorized {
			break
		}
	}
	body := wantError(t, last, http.StatusConflict, storefront.CodeLoginPrevented)
	if body.LockExpirationInstant == 0 || last.Header.Get("Retry-After") == "" {
		t.Errorf("the lockout's 409 carries no lock expiry or Retry-After: %s", last.body)
	}
	res := e.do(t, req{method: "POST", path: "/api/login/two-factor", body: storefront.TwoFactorLoginRequest{TwoFactorID: p.TwoFactorID, Code: totptest.Code(t, secret, e.clock.Now())}})
	wantError(t, res, http.StatusConflict, storefront.CodeLoginPrevented)
}

// Malformed second steps are refused without a call to Latch.
func TestTwoFactor_BadRequests(t *testing.T) {
	e := newEnv(t)
	email, _ := e.newUser(t)
	jwt := e.login(t, email).Token
	e.rt.Reset()
	for _, tc := range []struct {
		name string
		r    req
	}{
		{"no body", req{method: "POST", path: "/api/login/two-factor"}},
		{"not JSON", req{method: "POST", path: "/api/login/two-factor", body: "code=1"}},
		{"no code", req{method: "POST", path: "/api/login/two-factor", body: storefront.TwoFactorLoginRequest{TwoFactorID: "x"}}},
		{"no twoFactorId", req{method: "POST", path: "/api/login/two-factor", body: storefront.TwoFactorLoginRequest{Code: "123456"}}},
		{"control character", req{method: "POST", path: "/api/login/two-factor", body: storefront.TwoFactorLoginRequest{TwoFactorID: "x", Code: "12\x003456"}}},
		{"long code", req{method: "POST", path: "/api/login/two-factor", body: storefront.TwoFactorLoginRequest{TwoFactorID: "x", Code: strings.Repeat("1", 65)}}},
		{"long twoFactorId", req{method: "POST", path: "/api/login/two-factor", body: storefront.TwoFactorLoginRequest{TwoFactorID: strings.Repeat("x", 257), Code: "1"}}},
		{"login with a bad trust id", req{method: "POST", path: "/api/login", body: storefront.LoginRequest{LoginID: email, Password: testPassword, TwoFactorTrustID: "a\nb"}}},
		{"enable: no secret", req{method: "POST", path: "/api/account/two-factor", jwt: jwt, body: storefront.EnableTwoFactorRequest{Code: "123456"}}},
		{"enable: secret not base32", req{method: "POST", path: "/api/account/two-factor", jwt: jwt, body: storefront.EnableTwoFactorRequest{Secret: "not base32 at all 0189!", Code: "123456"}}},
		{"enable: short secret", req{method: "POST", path: "/api/account/two-factor", jwt: jwt, body: storefront.EnableTwoFactorRequest{Secret: "GEZDGNBV", Code: "123456"}}},
		{"enable: no code", req{method: "POST", path: "/api/account/two-factor", jwt: jwt, body: storefront.EnableTwoFactorRequest{Secret: "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"}}},
		{"disable: no code", req{method: "DELETE", path: "/api/account/two-factor", jwt: jwt, body: storefront.DisableTwoFactorRequest{}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := e.do(t, tc.r)
			if res.StatusCode != http.StatusBadRequest && res.StatusCode != http.StatusUnsupportedMediaType {
				t.Fatalf("status %d %s, want 400", res.StatusCode, res.body)
			}
		})
	}
	for call, n := range e.rt.Counts() {
		if strings.Contains(call, "two-factor") || call == loginCall || strings.HasPrefix(call, "GET /api/user/") {
			t.Errorf("malformed requests called Latch: %s × %d", call, n)
		}
	}
}
