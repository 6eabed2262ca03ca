package httpapi_test

import (
	"bytes"
	"crypto/pbkdf2"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/latchid/latch/api"
	"github.com/latchid/latch/internal/password"
	"github.com/latchid/latch/internal/server"
)

func TestLogin_OK(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	appID := e.mustAppWithRoles(t)
	userID, email := e.mustUser(t, appID, "admin", "user")
	now := e.clock.Now()

	r := e.login(t, map[string]any{"loginId": email, "password": testPassword, "applicationId": appID})
	var res api.LoginResponse
	r.wantJSON(t, 200, &res)
	if got := r.Header.Get("Cache-Control"); got != "no-store" {
		t.Errorf("Cache-Control = %q, want no-store", got)
	}
	if res.Token == "" || res.RefreshToken == "" || res.RefreshTokenID == "" {
		t.Fatalf("login answer lacks token, refreshToken or refreshTokenId: %s", r.Body)
	}
	if want := now.Add(900 * time.Second).UnixMilli(); res.TokenExpirationInstant != want {
		t.Errorf("tokenExpirationInstant = %d, want %d (now + 900 s)", res.TokenExpirationInstant, want)
	}
	if res.User == nil || res.User.ID != userID || res.User.Email != email || !res.User.Active {
		t.Fatalf("user = %+v, want the active user %s", res.User, userID)
	}
	if res.User.LastLoginInstant != now.UnixMilli() {
		t.Errorf("user.lastLoginInstant = %d, want %d", res.User.LastLoginInstant, now.UnixMilli())
	}
	if len(res.User.Registrations) != 1 || res.User.Registrations[0].ApplicationID != appID {
		t.Errorf("user.registrations = %+v, want the one registration", res.User.Registrations)
	}
	assertNoSecrets(t, r.Body, true)

	c := claimsOf(t, res.Token)
	for name, want := range map[string]any{
		"aud": appID, "applicationId": appID, "sub": userID, "sid": res.RefreshTokenID, "tid": e.tenantID,
		"authenticationType": "PASSWORD", "email": email, "email_verified": true, "iss": e.url,
	} {
		if !cmp.Equal(c[name], want) {
			t.Errorf("claim %s = %v, want %v", name, c[name], want)
		}
	}
	if diff := cmp.Diff([]any{"admin", "user"}, c["roles"]); diff != "" {
		t.Errorf("roles (-want +got):\n%s", diff)
	}
	if got := intClaim(t, c, "auth_time"); got != now.Unix() {
		t.Errorf("auth_time = %d, want %d", got, now.Unix())
	}
	if got := intClaim(t, c, "iat"); got != now.Unix() {
		t.Errorf("iat = %d, want %d", got, now.Unix())
	}
	if got := intClaim(t, c, "exp"); got != now.Unix()+900 {
		t.Errorf("exp = %d, want %d", got, now.Unix()+900)
	}
	if c["jti"] == "" || c["jti"] == nil {
		t.Errorf("no jti")
	}
	h := headerOf(t, res.Token)
	if h["alg"] != "ES256" || h["typ"] != "at+jwt" || h["kid"] == nil {
		t.Errorf("JWT header = %v, want ES256, typ at+jwt and a kid", h)
	}
	e.validate(t, res.Token).wantJSON(t, 200, nil)
}

func TestLogin_NotRegistered(t *testing.T) {
	t.Parallel()
	e := sharedEnv(t)
	appID := e.mustAppWithRoles(t)
	userID, email := e.mustUser(t, "")

	var res api.LoginResponse
	e.login(t, map[string]any{"loginId": email, "password": testPassword, "applicationId": appID}).wantJSON(t, 202, &res)
	if res.User == nil || res.User.ID != userID {
		t.Fatalf("202 user = %+v", res.User)
	}
	if res.RefreshToken != "" || res.RefreshTokenID != "" {
		t.Errorf("202 carries a refresh token")
	}
	if res.Token == "" {
		t.Fatal("202 carries no token")
	}
	c := claimsOf(t, res.Token)
	for _, name := range []string{"applicationId", "roles", "sid"} {
		if _, ok := c[name]; ok {
			t.Errorf("202 token has claim %s = %v", name, c[name])
		}
	}
	e.validate(t, res.Token).wantJSON(t, 200, nil)
}

func TestLogin_WithoutApplication(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, email := e.mustUser(t, e.appID)

	// The tenant requires an API key when no application is named.
	e.do(t, "POST", "/api/login", withJSON(map[string]any{"loginId": email, "password": testPassword})).wantEmpty(t, 401)

	var res api.LoginResponse
	e.login(t, map[string]any{"loginId": email, "password": testPassword}).wantJSON(t, 200, &res)
	if res.Token == "" || res.RefreshToken != "" {
		t.Fatalf("login without an application: token %q refreshToken %q; want a token and no refresh token", res.Token, res.RefreshToken)
	}
	if c := claimsOf(t, res.Token); c["applicationId"] != nil || c["aud"] != nil {
		t.Errorf("token without an application has application claims: %v", c)
	}

	// Once the tenant stops requiring it, no key is needed.
	e.mustPatchTenant(t, e.tenantID, map[string]any{"loginConfiguration": map[string]any{"requireAuthentication": false}})
	e.do(t, "POST", "/api/login", withJSON(map[string]any{"loginId": email, "password": testPassword})).wantJSON(t, 200, nil)
}

func TestLogin_PasswordChangeRequired(t *testing.T) {
	t.Parallel()
	e := sharedEnv(t)
	email := "change-" + randomSuffix() + "@example.org" // the server is shared
	u := e.mustCreateUser(t, email, map[string]any{"passwordChangeRequired": true})
	e.mustRegister(t, u.ID, e.appID)

	r := e.login(t, map[string]any{"loginId": email, "password": testPassword, "applicationId": e.appID})
	var res api.LoginResponse
	r.wantJSON(t, 203, &res)
	if res.ChangePasswordID == "" || res.ChangePasswordReason != "Administrative" {
		t.Errorf("203 = %s, want a changePasswordId and reason Administrative", r.Body)
	}
	if res.Token != "" || res.RefreshToken != "" {
		t.Errorf("203 carries tokens: %s", r.Body)
	}
	// A wrong password reveals nothing.
	e.login(t, map[string]any{"loginId": email, "password": "wrong password", "applicationId": e.appID}).wantEmpty(t, 404)
}

func TestLogin_BadRequest(t *testing.T) {
	t.Parallel()
	e := sharedEnv(t)
	_, email := e.mustUser(t, e.appID)
	for _, tc := range []struct {
		name  string
		body  map[string]any
		codes []string
	}{
		{"blank loginId", map[string]any{"password": testPassword}, []string{"[blank]loginId"}},
		{"blank password", map[string]any{"loginId": email}, []string{"[blank]password"}},
		{"both blank", map[string]any{"loginId": "", "password": ""}, []string{"[blank]loginId", "[blank]password"}},
		{"malformed applicationId", map[string]any{"loginId": email, "password": testPassword, "applicationId": "not-a-uuid"}, []string{"[couldNotConvert]applicationId"}},
		{"unknown applicationId", map[string]any{"loginId": email, "password": testPassword, "applicationId": "00000000-0000-4000-8000-000000000000"}, []string{"[invalid]applicationId"}},
		{"unknown loginIdTypes", map[string]any{"loginId": email, "password": testPassword, "loginIdTypes": []string{"phoneNumber"}}, []string{"[invalid]loginIdTypes"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e.login(t, tc.body).wantErrors(t, tc.codes...)
		})
	}
}

func TestLogin_APIKey(t *testing.T) {
	t.Parallel()
	e := sharedEnv(t)
	appID := e.mustAppWithRoles(t) // requireAuthentication defaults to true
	_, email := e.mustUser(t, appID)
	body := map[string]any{"loginId": email, "password": testPassword, "applicationId": appID}

	e.do(t, "POST", "/api/login", withJSON(body)).wantEmpty(t, 401)
	e.do(t, "POST", "/api/login", withJSON(body), withKey("not-the-key-not-the-key-not-the-key")).wantEmpty(t, 401)
	e.do(t, "POST", "/api/login", withJSON(body), withKey("")).wantEmpty(t, 401) // a blank header is no key
	e.do(t, "POST", "/api/login", withJSON(body), withKey(e.key)).wantJSON(t, 200, nil)

	// An application that does not require authentication: no key needed,
	// but a key that is sent is still checked.
	e.mustPatchApp(t, appID, map[string]any{"loginConfiguration": map[string]any{"requireAuthentication": false}})
	e.do(t, "POST", "/api/login", withJSON(body)).wantJSON(t, 200, nil)
	e.do(t, "POST", "/api/login", withJSON(body), withKey("")).wantJSON(t, 200, nil) // the TS client's apiKey ""
	e.do(t, "POST", "/api/login", withJSON(body), withKey("not-the-key-not-the-key-not-the-key")).wantEmpty(t, 401)

	// An unknown application id without a key is refused before anything is revealed.
	e.do(t, "POST", "/api/login", withJSON(map[string]any{"loginId": email, "password": testPassword,
		"applicationId": "00000000-0000-4000-8000-000000000000"})).wantEmpty(t, 401)
}

func TestLogin_UnknownUserAndWrongPasswordLookAlike(t *testing.T) {
	t.Parallel()
	e := sharedEnv(t)
	_, email := e.mustUser(t, e.appID)

	nobody := "nobody-" + randomSuffix() + "@example.org" // a login ID of its own: the server is shared
	unknown := e.login(t, map[string]any{"loginId": nobody, "password": testPassword, "applicationId": e.appID})
	wrong := e.login(t, map[string]any{"loginId": email, "password": "wrong password", "applicationId": e.appID})
	unknown.wantEmpty(t, 404)
	wrong.wantEmpty(t, 404)
	for _, h := range []string{"Content-Type", "Content-Length", "Cache-Control", "WWW-Authenticate", "Set-Cookie"} {
		if unknown.Header.Get(h) != wrong.Header.Get(h) {
			t.Errorf("header %s: unknown user %q, wrong password %q", h, unknown.Header.Get(h), wrong.Header.Get(h))
		}
	}
}

// TestLogin_Lockout checks the lock on the wire (its rules are
// internal/identity's and internal/lockout's tests): while a login ID is
// locked, the right password and a wrong one get byte for byte the same
// 409, and so does a login ID no user has.
func TestLogin_Lockout(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.mustPatchTenant(t, e.tenantID, map[string]any{"failedAuthenticationConfiguration": map[string]any{"tooManyAttempts": 2}})
	_, email := e.mustUser(t, e.appID)
	body := func(loginID, pw string) map[string]any {
		return map[string]any{"loginId": loginID, "password": pw, "applicationId": e.appID}
	}
	for _, id := range []string{email, "nobody@example.org"} {
		e.login(t, body(id, "wrong password")).wantEmpty(t, 404)
		e.login(t, body(id, "wrong password")).wantEmpty(t, 404)
	}
	lockedUntil := e.clock.Now().Add(3 * time.Minute).UnixMilli()

	right := e.login(t, body(email, testPassword))
	var res api.LoginResponse
	right.wantJSON(t, 409, &res)
	if len(res.Actions) != 1 || res.Actions[0].Expiry != lockedUntil || res.Actions[0].ActionID == "" {
		t.Errorf("409 = %s, want one action that expires at %d", right.Body, lockedUntil)
	}
	if res.Token != "" || res.RefreshToken != "" || res.User != nil {
		t.Errorf("409 reveals more than the actions: %s", right.Body)
	}
	for name, r := range map[string]*response{
		"a wrong password":          e.login(t, body(email, "wrong password")),
		"an unknown ID's password":  e.login(t, body("nobody@example.org", testPassword)),
		"an unknown ID, wrong":      e.login(t, body("nobody@example.org", "wrong password")),
		"the right one, once again": e.login(t, body(email, testPassword)),
	} {
		if r.Status != right.Status || !bytes.Equal(r.Body, right.Body) {
			t.Errorf("%s: %s, want what the right password got: %s", name, r, right)
		}
		for _, h := range []http.Header{r.Header, right.Header} {
			h.Del("Date")
		}
		if d := cmp.Diff(right.Header, r.Header); d != "" {
			t.Errorf("%s: headers differ from the right password's (-right +got):\n%s", name, d)
		}
	}
}

// TestLogin_Busy: when every hashing slot is taken and the queue is full,
// the Login API answers 503 with Retry-After and FusionAuth's error JSON,
// and the password grant temporarily_unavailable.
func TestLogin_Busy(t *testing.T) {
	t.Parallel()
	gate := password.NewGate(1, 0, time.Second)
	e := newEnvWith(t, func(c *server.Config) { c.Hashing = gate })
	a := e.mustOAuthApp(t, nil)
	release, err := gate.Enter(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer release()

	r := e.login(t, map[string]any{"loginId": a.email, "password": testPassword, "applicationId": e.appID})
	var errs api.Errors
	r.wantJSON(t, 503, &errs)
	if len(errs.GeneralErrors) != 1 || errs.GeneralErrors[0].Code != "[Busy]" || r.Header.Get("Retry-After") == "" {
		t.Errorf("busy login: %s (Retry-After %q)", r, r.Header.Get("Retry-After"))
	}
	r = e.token(t, url.Values{"grant_type": {"password"}, "username": {a.email}, "password": {testPassword}}, withBasic(a.id, a.secret))
	var oe api.OAuthError
	r.wantJSON(t, 503, &oe)
	if oe.Code != "temporarily_unavailable" || r.Header.Get("Retry-After") == "" {
		t.Errorf("busy password grant: %s (Retry-After %q)", r, r.Header.Get("Retry-After"))
	}
}

func TestLogin_Expired(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	expiry := e.clock.Now().Add(time.Hour).UnixMilli()
	u := e.mustCreateUser(t, "expiring@example.org", map[string]any{"expiry": expiry})
	e.mustRegister(t, u.ID, e.appID)
	first := e.mustLogin(t, "expiring@example.org", e.appID)

	e.clock.Advance(2 * time.Hour)
	e.login(t, map[string]any{"loginId": "expiring@example.org", "password": testPassword, "applicationId": e.appID}).wantEmpty(t, 410)
	e.login(t, map[string]any{"loginId": "expiring@example.org", "password": "wrong password", "applicationId": e.appID}).wantEmpty(t, 404)
	e.refreshRefused(t, first.RefreshToken)
}

func TestLogin_Deactivated(t *testing.T) {
	t.Parallel()
	e := sharedEnv(t)
	userID, email := e.mustUser(t, e.appID)
	first := e.mustLogin(t, email, e.appID)

	e.do(t, "DELETE", "/api/user/"+userID, withKey(e.key)).wantEmpty(t, 200)
	e.login(t, map[string]any{"loginId": email, "password": testPassword, "applicationId": e.appID}).wantEmpty(t, 423)
	e.login(t, map[string]any{"loginId": email, "password": "wrong password", "applicationId": e.appID}).wantEmpty(t, 404)
	e.refreshRefused(t, first.RefreshToken)
}

func TestLogin_NoJWT(t *testing.T) {
	t.Parallel()
	e := sharedEnv(t)
	userID, email := e.mustUser(t, e.appID)
	var list api.RefreshTokensResponse
	e.do(t, "GET", "/api/jwt/refresh?userId="+userID, withKey(e.key)).wantJSON(t, 200, &list)
	before := len(list.RefreshTokens) // the registration's
	var res api.LoginResponse
	r := e.login(t, map[string]any{"loginId": email, "password": testPassword, "applicationId": e.appID, "noJWT": true})
	r.wantJSON(t, 200, &res)
	if res.Token != "" || res.RefreshToken != "" || res.RefreshTokenID != "" || res.TokenExpirationInstant != 0 {
		t.Errorf("noJWT login carries tokens: %s", r.Body)
	}
	if res.User == nil || res.User.ID != userID {
		t.Errorf("noJWT login user = %+v", res.User)
	}
	if c := r.Header.Values("Set-Cookie"); len(c) != 0 {
		t.Errorf("noJWT login sets cookies %v", c)
	}
	e.do(t, "GET", "/api/jwt/refresh?userId="+userID, withKey(e.key)).wantJSON(t, 200, &list)
	if len(list.RefreshTokens) != before {
		t.Errorf("noJWT login made %d refresh tokens", len(list.RefreshTokens)-before)
	}
}

func TestLogin_MetaDataDevice(t *testing.T) {
	t.Parallel()
	e := sharedEnv(t)
	_, email := e.mustUser(t, e.appID)
	var res api.LoginResponse
	e.login(t, map[string]any{
		"loginId": email, "password": testPassword, "applicationId": e.appID, "ipAddress": "203.0.113.7",
		"metaData": map[string]any{"device": map[string]any{"name": "Ana's phone", "type": "MOBILE", "description": "Shop app 3.2"}},
	}).wantJSON(t, 200, &res)

	var got api.RefreshTokenResponse
	e.do(t, "GET", "/api/jwt/refresh/"+res.RefreshTokenID, withKey(e.key)).wantJSON(t, 200, &got)
	d := got.RefreshToken.MetaData.Device
	if d.Name != "Ana's phone" || d.Type != "MOBILE" || d.Description != "Shop app 3.2" || d.LastAccessedAddress != "203.0.113.7" {
		t.Errorf("stored device = %+v", d)
	}
	if got.RefreshToken.Token != "" {
		t.Errorf("the refresh token value is returned")
	}
}

// The Go client's zero values: every boolean, and empty nested objects.
func TestLogin_GoClientZeroValues(t *testing.T) {
	t.Parallel()
	e := sharedEnv(t)
	_, email := e.mustUser(t, e.appID)
	body := `{"loginId":"` + email + `","password":"` + testPassword + `","applicationId":"` + e.appID + `",` +
		`"noJWT":false,"newDevice":false,"metaData":{"device":{}},"eventInfo":{"location":{}},"ipAddress":"","twoFactorTrustId":""}`
	var res api.LoginResponse
	e.do(t, "POST", "/api/login", withKey(e.key), withJSON(body)).wantJSON(t, 200, &res)
	if res.RefreshToken == "" {
		t.Error("no refresh token")
	}
}

func TestLogin_EmailCaseInsensitive(t *testing.T) {
	t.Parallel()
	e := sharedEnv(t)
	mixed := "Ana.Mixed-" + randomSuffix() + "@Example.org"
	u := e.mustCreateUser(t, mixed)
	if u.Email != strings.ToLower(mixed) {
		t.Errorf("stored email = %q, want it lower-cased", u.Email)
	}
	e.mustRegister(t, u.ID, e.appID)
	// Any case logs in (every variation, and that a login ID is used as
	// given, untrimmed, are internal/identity's TestLogin_Requests).
	e.mustLogin(t, strings.ToUpper(mixed), e.appID)
}

func TestLogin_Username(t *testing.T) {
	t.Parallel()
	e := sharedEnv(t)
	name := "Named-" + randomSuffix()
	u := e.mustCreateUser(t, strings.ToLower(name)+"@example.org", map[string]any{"username": name})
	e.mustRegister(t, u.ID, e.appID)
	res := e.mustLogin(t, strings.ToLower(name), e.appID)
	if c := claimsOf(t, res.Token); c["preferred_username"] != name {
		t.Errorf("preferred_username = %v, want %s", c["preferred_username"], name)
	}
}

// TestLogin_TenantHeader checks X-FusionAuth-TenantId on the Login API:
// its absence with two tenants, a malformed or unknown tenant, and a
// header that hides the application. Which tenant's users a login finds
// is internal/identity's TestLogin_Tenants.
func TestLogin_TenantHeader(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, email := e.mustUser(t, e.appID)
	other := e.mustCreateTenant(t, "Second")

	// Two tenants: a login without an application must name one.
	body := map[string]any{"loginId": email, "password": testPassword}
	e.login(t, body).wantErrors(t, "[TenantIdRequired]")
	e.login(t, body, withTenant(e.tenantID)).wantJSON(t, 200, nil)
	e.login(t, body, withTenant("not-a-uuid")).wantErrors(t, "[invalid]tenantId")
	e.login(t, body, withTenant("00000000-0000-4000-8000-000000000000")).wantErrors(t, "[invalid]tenantId")

	// A header naming another tenant hides the application.
	withApp := map[string]any{"loginId": email, "password": testPassword, "applicationId": e.appID}
	e.login(t, withApp, withTenant(other)).wantErrors(t, "[invalid]applicationId")

	// The same email in the second tenant is another user, whose token
	// names its tenant.
	h, err := testPasswordHash()
	if err != nil {
		t.Fatal(err)
	}
	e.do(t, "POST", "/api/user/import", withKey(e.key), withTenant(other), withJSON(map[string]any{"users": []map[string]any{{
		"email": email, "password": h.Hash, "encryptionScheme": h.Scheme, "active": true}}})).wantEmpty(t, 200)
	var lr api.LoginResponse
	e.login(t, body, withTenant(other)).wantJSON(t, 200, &lr)
	if lr.User.TenantID != other {
		t.Errorf("login in the second tenant found a user of %s, want %s", lr.User.TenantID, other)
	}
	if c := claimsOf(t, lr.Token); c["tid"] != other {
		t.Errorf("tid = %v, want %s", c["tid"], other)
	}
}

// A user imported with a FusionAuth PBKDF2 hash logs in, and the user's
// encryptionScheme shows the upgrade to argon2id (the rehash rule is
// internal/identity's TestImportUsers_Schemes).
func TestLogin_RehashOnLogin(t *testing.T) {
	t.Parallel()
	e := sharedEnv(t)
	salt := []byte("0123456789abcdef")
	key, err := pbkdf2.Key(sha256.New, "imported password", salt, 24000, 32)
	if err != nil {
		t.Fatal(err)
	}
	userID, email := uuid.NewString(), "imported-"+randomSuffix()+"@example.org"
	e.do(t, "POST", "/api/user/import", withKey(e.key), withJSON(map[string]any{"users": []map[string]any{{
		"id": userID, "email": email, "password": base64.StdEncoding.EncodeToString(key),
		"salt": base64.StdEncoding.EncodeToString(salt), "factor": 24000, "encryptionScheme": "salted-pbkdf2-hmac-sha256",
		"active": true, "registrations": []map[string]any{{"applicationId": e.appID}},
	}}})).wantEmpty(t, 200)

	scheme := func() string {
		var res api.UserResponse
		r := e.do(t, "GET", "/api/user/"+userID, withKey(e.key))
		r.wantJSON(t, 200, &res)
		assertNoSecrets(t, r.Body, false)
		return res.User.EncryptionScheme
	}
	if got := scheme(); got != "salted-pbkdf2-hmac-sha256" {
		t.Fatalf("scheme before login = %q", got)
	}
	e.login(t, map[string]any{"loginId": email, "password": "imported password", "applicationId": e.appID}).wantJSON(t, 200, nil)
	if got := scheme(); got != "argon2id" {
		t.Fatalf("scheme after a login = %q, want argon2id", got)
	}
}

// assertNoSecrets fails if a JSON body carries a password hash, salt or
// factor anywhere, or (unless allowed) an encryptionScheme.
func assertNoSecrets(t testing.TB, body []byte, noScheme bool) {
	t.Helper()
	for _, name := range []string{`"password"`, `"salt"`, `"factor"`} {
		if bytes.Contains(body, []byte(name)) {
			t.Errorf("body carries %s: %s", name, body)
		}
	}
	if noScheme && bytes.Contains(body, []byte(`"encryptionScheme"`)) {
		t.Errorf("body carries encryptionScheme: %s", body)
	}
	if bytes.Contains(body, []byte("$argon2id$")) || strings.Contains(string(body), "argon2id$") {
		t.Errorf("body carries a hash: %s", body)
	}
}

func TestLogin_RegisteredWithoutRoles(t *testing.T) {
	t.Parallel()
	e := sharedEnv(t)
	_, email := e.mustUser(t, e.appID)
	login := e.mustLogin(t, email, e.appID)
	roles, ok := claimsOf(t, login.Token)["roles"]
	if !ok {
		t.Fatal("a registered user's token has no roles claim")
	}
	if list, isList := roles.([]any); !isList || len(list) != 0 {
		t.Errorf("roles = %#v, want []", roles)
	}
}
