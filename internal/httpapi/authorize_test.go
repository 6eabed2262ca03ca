package httpapi_test

import (
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/latchid/latch/internal/totp/totptest"

	"github.com/latchid/latch/api"
	"github.com/latchid/latch/internal/httpapi"
	"github.com/latchid/latch/internal/loginpage/loginpagetest"
	"github.com/latchid/latch/internal/server"
)

// codeVerifier is the PKCE verifier of RFC 7636's Appendix B.
const codeVerifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"

func challengeOf(verifier string) string {
	h := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(h[:])
}

// codeApp creates a public client of the authorization code grant with
// the redirect URIs given (https://app.example/cb when none).
func (e *env) codeApp(t *testing.T, redirects ...string) api.Application {
	t.Helper()
	if len(redirects) == 0 {
		redirects = []string{"https://app.example/cb"}
	}
	return e.mustCreateApp(t, map[string]any{"oauthConfiguration": map[string]any{
		"clientAuthenticationPolicy": "NotRequired", "enabledGrants": []string{"authorization_code", "refresh_token"},
		"authorizedRedirectURLs": redirects, "logoutURL": "https://app.example/bye", "generateRefreshTokens": true,
	}})
}

// authorizeURL is an authorization request of app with PKCE, whose
// parameters extra changes.
func (e *env) authorizeURL(app api.Application, extra url.Values) string {
	q := url.Values{"client_id": {app.ID}, "redirect_uri": {app.OAuthConfiguration.AuthorizedRedirectURLs[0]},
		"response_type": {"code"}, "scope": {"openid offline_access"}, "state": {"st-" + randomSuffix()},
		"nonce": {"n-" + randomSuffix()}, "code_challenge": {challengeOf(codeVerifier)}, "code_challenge_method": {"S256"}}
	for k, v := range extra {
		if len(v) == 0 || v[0] == "" {
			delete(q, k)
			continue
		}
		q[k] = v
	}
	return e.url + "/oauth2/authorize?" + q.Encode()
}

// exchange redeems a code at the token endpoint.
func (e *env) exchange(t *testing.T, app api.Application, code, verifier string) *response {
	t.Helper()
	f := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "client_id": {app.ID},
		"redirect_uri": {app.OAuthConfiguration.AuthorizedRedirectURLs[0]}}
	if verifier != "" {
		f.Set("code_verifier", verifier)
	}
	return e.do(t, "POST", "/oauth2/token", withForm(f))
}

// issuer is the issuer the discovery document names.
func (e *env) issuer(t *testing.T) string {
	t.Helper()
	var doc map[string]any
	e.do(t, "GET", "/.well-known/openid-configuration").wantJSON(t, 200, &doc)
	return doc["issuer"].(string)
}

// browser is a loginpagetest.Browser whose steps end the test on a
// transport error: the tests look at the pages it gets.
type browser struct {
	*loginpagetest.Browser
	t *testing.T
}

func newBrowser(t *testing.T) browser { return browser{loginpagetest.NewBrowser(nil), t} }

// get loads u.
func (b browser) get(u string) *loginpagetest.Page {
	b.t.Helper()
	p, err := b.Get(b.t.Context(), u)
	if err != nil {
		b.t.Fatal(err)
	}
	return p
}

// submit posts f with the fields set.
func (b browser) submit(f loginpagetest.Form, set url.Values) *loginpagetest.Page {
	b.t.Helper()
	p, err := b.Submit(b.t.Context(), f, set)
	if err != nil {
		b.t.Fatal(err)
	}
	return p
}

// authorize logs in on the login page of authorizeURL and returns where
// the page redirected to, with the page.
func (b browser) authorize(authorizeURL, loginID, password string) (*url.URL, *loginpagetest.Page) {
	b.t.Helper()
	loc, p, err := b.Authorize(b.t.Context(), authorizeURL, loginID, password)
	if err != nil {
		b.t.Fatalf("authorize: %v (%+v)", err, p)
	}
	return loc, p
}

// pageForm is the form on p.
func pageForm(t *testing.T, p *loginpagetest.Page) loginpagetest.Form {
	t.Helper()
	f, err := loginpagetest.ParseForm(p.URL, strings.NewReader(string(p.Body)))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestAuthorize_CodeFlow(t *testing.T) {
	t.Parallel()
	e := sharedEnv(t)
	app := e.codeApp(t)
	_, email := e.mustUser(t, app.ID)
	b := newBrowser(t)
	state := `st "&<>é ` + randomSuffix()
	loc, page := b.authorize(e.authorizeURL(app, url.Values{"state": {state}}), email, testPassword)
	if page.Status != http.StatusSeeOther {
		t.Errorf("the login form answered %d, want 303", page.Status)
	}
	q := loc.Query()
	if got := loc.Scheme + "://" + loc.Host + loc.Path; got != "https://app.example/cb" {
		t.Fatalf("redirected to %s", loc)
	}
	if q.Get("state") != state || q.Get("iss") != e.issuer(t) || q.Get("code") == "" {
		t.Fatalf("redirect query %v: want the code, the state untouched and iss %s", q, e.issuer(t))
	}
	var sso *http.Cookie
	for _, c := range page.Header.Values("Set-Cookie") {
		if strings.HasPrefix(c, "latch_sso=") {
			sso, _ = http.ParseSetCookie(c)
		}
	}
	if sso == nil || !sso.HttpOnly || sso.SameSite != http.SameSiteLaxMode || sso.Domain != "" || sso.MaxAge != 3600 || len(sso.Value) < 43 {
		t.Fatalf("SSO cookie %+v: want HttpOnly, SameSite=Lax, host-only, an hour, 256 bits", sso)
	}

	var tok api.AccessTokenResponse
	e.exchange(t, app, q.Get("code"), codeVerifier).wantJSON(t, 200, &tok)
	if tok.AccessToken == "" || tok.RefreshToken == "" || tok.IDToken == "" || tok.TokenType != "Bearer" {
		t.Fatalf("token response %+v", tok)
	}
	idc := claimsOf(t, tok.IDToken)
	if idc["aud"] != app.ID || idc["at_hash"] == nil || idc["auth_time"] == nil || idc["sid"] == nil || idc["nonce"] == nil {
		t.Fatalf("ID token claims %v", idc)
	}

	// The code is single-use: the second redemption is refused, and the
	// refresh token of the first is revoked with it.
	e.exchange(t, app, q.Get("code"), codeVerifier).wantOAuthError(t, 400, "invalid_grant")
	e.do(t, "POST", "/oauth2/token", withForm(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken},
		"client_id": {app.ID}})).wantOAuthError(t, 400, "invalid_grant")

	// A second application logs the user in on the SSO session, with no
	// page; prompt=login asks for the password again.
	other := e.codeApp(t, "https://other.example/cb")
	e.mustRegister(t, tok.UserID, other.ID)
	p := b.get(e.authorizeURL(other, nil))
	if p.Status != http.StatusFound || p.Location() == nil || p.Location().Query().Get("code") == "" {
		t.Fatalf("authorize with an SSO session: %d %s", p.Status, p.Body)
	}
	var tok2 api.AccessTokenResponse
	e.exchange(t, other, p.Location().Query().Get("code"), codeVerifier).wantJSON(t, 200, &tok2)
	if claimsOf(t, tok2.IDToken)["sid"] != idc["sid"] {
		t.Errorf("the second application's ID token names another SSO session")
	}
	p = b.get(e.authorizeURL(other, url.Values{"prompt": {"login"}}))
	if p.Status != http.StatusOK || !strings.Contains(string(p.Body), `name="password"`) {
		t.Fatalf("prompt=login with an SSO session: %d, want the login page", p.Status)
	}

	// Logout ends the SSO session: prompt=none then answers login_required.
	p = b.get(e.url + "/oauth2/logout?client_id=" + app.ID + "&post_logout_redirect_uri=" + url.QueryEscape("https://app.example/bye") + "&state=s9")
	if p.Status != http.StatusFound || p.Location().String() != "https://app.example/bye?state=s9" {
		t.Fatalf("logout: %d to %v", p.Status, p.Location())
	}
	p = b.get(e.authorizeURL(other, url.Values{"prompt": {"none"}, "state": {"s10"}}))
	if l := p.Location(); l == nil || l.Query().Get("error") != "login_required" || l.Query().Get("state") != "s10" || l.Query().Get("iss") == "" {
		t.Fatalf("prompt=none after logout: %d to %v", p.Status, l)
	}
}

func TestAuthorize_RedirectURIRefused(t *testing.T) {
	t.Parallel()
	e := sharedEnv(t)
	app := e.codeApp(t, "https://app.example/cb", "http://127.0.0.1/native", "com.example.app:/oauth2redirect")
	b := newBrowser(t)
	for _, uri := range []string{
		"", "https://app.example/cb/", "https://app.example/cbx", "https://app.example/cb/../x", "https://APP.example/cb",
		"https://app.example/cb#f", "https://evil@app.example/cb", "https://app.example/cb?x=1", "https://app.example:8443/cb",
		"https://app.example.evil.test/cb", "http://app.example/cb", "com.example.app:/other", "http://127.0.0.1:8080/other",
		"https://evil.example/cb",
	} {
		p := b.get(e.authorizeURL(app, url.Values{"redirect_uri": {uri}}))
		if p.Status != http.StatusBadRequest || p.Header.Get("Location") != "" || !strings.Contains(string(p.Body), "redirect_uri") {
			t.Errorf("redirect_uri %q: %d to %q, want a 400 page and no redirect", uri, p.Status, p.Header.Get("Location"))
		}
	}
	// Unknown client: a page too, whatever the redirect URI.
	p := b.get(e.url + "/oauth2/authorize?response_type=code&client_id=6b1c2e2a-0000-4000-8000-000000000000&redirect_uri=https://app.example/cb")
	if p.Status != http.StatusBadRequest || p.Header.Get("Location") != "" {
		t.Errorf("unknown client: %d to %q", p.Status, p.Header.Get("Location"))
	}
	// A repeated redirect_uri is refused on a page.
	p = b.get(e.authorizeURL(app, nil) + "&redirect_uri=" + url.QueryEscape("https://evil.example/cb"))
	if p.Status != http.StatusBadRequest || p.Header.Get("Location") != "" {
		t.Errorf("repeated redirect_uri: %d to %q", p.Status, p.Header.Get("Location"))
	}
	// The loopback URI takes any port; the private-use scheme exactly.
	for _, uri := range []string{"http://127.0.0.1:53117/native", "com.example.app:/oauth2redirect"} {
		p := b.get(e.authorizeURL(app, url.Values{"redirect_uri": {uri}}))
		if p.Status != http.StatusOK {
			t.Errorf("redirect_uri %q: %d, want the login page", uri, p.Status)
		}
	}
}

func TestAuthorize_ErrorsGoToTheClient(t *testing.T) {
	t.Parallel()
	e := sharedEnv(t)
	app := e.codeApp(t)
	iss := e.issuer(t)
	b := newBrowser(t)
	for _, tc := range []struct {
		name  string
		extra url.Values
		want  string
	}{
		{"plain PKCE", url.Values{"code_challenge_method": {"plain"}, "code_challenge": {codeVerifier}}, "invalid_request"},
		{"no PKCE, public client", url.Values{"code_challenge": {""}, "code_challenge_method": {""}}, "invalid_request"},
		{"implicit", url.Values{"response_type": {"token"}}, "unsupported_response_type"},
		{"repeated state", url.Values{"state": {"a", "b"}}, "invalid_request"},
	} {
		p := b.get(e.authorizeURL(app, tc.extra))
		l := p.Location()
		if p.Status != http.StatusFound || l == nil || l.Host != "app.example" || l.Query().Get("error") != tc.want || l.Query().Get("iss") != iss {
			t.Errorf("%s: %d to %v, want %s sent to the client with iss", tc.name, p.Status, l, tc.want)
		}
	}
	noGrant := e.mustCreateApp(t, map[string]any{"oauthConfiguration": map[string]any{
		"clientAuthenticationPolicy": "NotRequired", "authorizedRedirectURLs": []string{"https://app.example/cb"}}})
	p := b.get(e.authorizeURL(noGrant, nil))
	if l := p.Location(); l == nil || l.Query().Get("error") != "unauthorized_client" {
		t.Errorf("grant not enabled: %d to %v, want unauthorized_client", p.Status, l)
	}
}

func TestAuthorize_LoginPage(t *testing.T) {
	t.Parallel()
	e := sharedEnv(t)
	app := e.codeApp(t)
	_, email := e.mustUser(t, app.ID)
	b := newBrowser(t)
	p := b.get(e.authorizeURL(app, url.Values{"login_hint": {email}}))
	h := p.Header
	csp := h.Get("Content-Security-Policy")
	if p.Status != 200 || h.Get("X-Frame-Options") != "DENY" || !strings.Contains(csp, "frame-ancestors 'none'") ||
		!strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "form-action 'self' https://app.example") ||
		h.Get("Cache-Control") != "no-store" || h.Get("Referrer-Policy") != "no-referrer" {
		t.Fatalf("login page %d with headers %v", p.Status, h)
	}
	if !strings.Contains(string(p.Body), `value="`+email+`"`) {
		t.Errorf("the login_hint does not fill the login ID")
	}
	form := pageForm(t, p)

	// A wrong password: the page again, with the Login API's message.
	p = b.submit(form, url.Values{"loginId": {email}, "password": {"wrong password"}})
	if p.Status != http.StatusUnauthorized || !strings.Contains(string(p.Body), "Invalid login credentials.") ||
		!strings.Contains(string(p.Body), `aria-describedby="login-error"`) || p.Header.Get("Location") != "" {
		t.Fatalf("wrong password: %d %s", p.Status, p.Body)
	}

	// CSRF: the form posted from another browser (its own cookie, or
	// none) with this browser's token is refused, and logs no one in.
	for name, other := range map[string]browser{"no cookie": newBrowser(t), "another cookie": func() browser {
		o := newBrowser(t)
		o.get(e.authorizeURL(app, nil))
		return o
	}()} {
		p := other.submit(form, url.Values{"loginId": {email}, "password": {testPassword}})
		if p.Status != http.StatusForbidden || p.Header.Get("Location") != "" {
			t.Errorf("%s: the form with a token of another browser: %d to %q, want 403", name, p.Status, p.Header.Get("Location"))
		}
	}
	tampered := form
	tampered.Fields = url.Values{}
	for k, v := range form.Fields {
		tampered.Fields[k] = v
	}
	tampered.Fields.Set("form_token", "x"+form.Fields.Get("form_token")[1:])
	p = b.submit(tampered, url.Values{"loginId": {email}, "password": {testPassword}})
	if p.Status != http.StatusForbidden {
		t.Errorf("a tampered form token: %d, want 403", p.Status)
	}

	// The form, as this browser got it, logs in.
	p = b.submit(form, url.Values{"loginId": {email}, "password": {testPassword}})
	if p.Status != http.StatusSeeOther || p.Location() == nil || p.Location().Query().Get("code") == "" {
		t.Fatalf("the right password: %d %s", p.Status, p.Body)
	}
}

func TestAuthorize_TokenRefusals(t *testing.T) {
	t.Parallel()
	e := sharedEnv(t)
	app := e.codeApp(t)
	other := e.codeApp(t)
	_, email := e.mustUser(t, app.ID)
	b := newBrowser(t)
	code := func() string {
		loc, _ := b.authorize(e.authorizeURL(app, nil), email, testPassword)
		return loc.Query().Get("code")
	}
	e.exchange(t, app, code(), "").wantOAuthError(t, 400, "invalid_grant")
	e.exchange(t, app, code(), strings.Repeat("a", 43)).wantOAuthError(t, 400, "invalid_grant")
	e.exchange(t, app, code(), challengeOf(codeVerifier)).wantOAuthError(t, 400, "invalid_grant")
	c := code()
	e.exchange(t, other, c, codeVerifier).wantOAuthError(t, 400, "invalid_grant")
	e.exchange(t, app, c, codeVerifier).wantOAuthError(t, 400, "invalid_grant") // spent by the other client's try
	f := url.Values{"grant_type": {"authorization_code"}, "code": {code()}, "client_id": {app.ID},
		"redirect_uri": {"https://app.example/cb/"}, "code_verifier": {codeVerifier}}
	e.do(t, "POST", "/oauth2/token", withForm(f)).wantOAuthError(t, 400, "invalid_grant")
}

func TestAuthorize_Logout(t *testing.T) {
	t.Parallel()
	e := sharedEnv(t)
	app := e.codeApp(t)
	b := newBrowser(t)
	p := b.get(e.url + "/oauth2/logout?client_id=" + app.ID + "&post_logout_redirect_uri=" + url.QueryEscape("https://evil.example/"))
	if p.Status != http.StatusBadRequest || p.Header.Get("Location") != "" {
		t.Errorf("logout to an unregistered URI: %d to %q, want a page", p.Status, p.Header.Get("Location"))
	}
	p = b.get(e.url + "/oauth2/logout?client_id=" + app.ID)
	if p.Status != http.StatusFound || p.Header.Get("Location") != "https://app.example/bye" {
		t.Errorf("logout without a URI: %d to %q, want the logout URL", p.Status, p.Header.Get("Location"))
	}
	p = b.get(e.url + "/oauth2/logout")
	if p.Status != http.StatusOK || !strings.Contains(string(p.Body), "You are logged out.") || !strings.Contains(p.Header.Get("Set-Cookie"), "latch_sso=;") {
		t.Errorf("logout without a client: %d %q %s", p.Status, p.Header.Get("Set-Cookie"), p.Body)
	}
}

func TestAuthorize_Discovery(t *testing.T) {
	t.Parallel()
	e := sharedEnv(t)
	var doc map[string]any
	e.do(t, "GET", "/.well-known/openid-configuration").wantJSON(t, 200, &doc)
	for name, want := range map[string]string{
		"authorization_endpoint": e.url + "/oauth2/authorize", "end_session_endpoint": e.url + "/oauth2/logout",
	} {
		if doc[name] != want {
			t.Errorf("%s: %v, want %s", name, doc[name], want)
		}
	}
	if doc["authorization_response_iss_parameter_supported"] != true {
		t.Errorf("authorization_response_iss_parameter_supported: %v", doc["authorization_response_iss_parameter_supported"])
	}
	for name, want := range map[string]string{"response_types_supported": "code", "code_challenge_methods_supported": "S256",
		"grant_types_supported": "authorization_code", "response_modes_supported": "query"} {
		l, _ := doc[name].([]any)
		found := false
		for _, v := range l {
			found = found || v == want
		}
		if !found {
			t.Errorf("%s: %v, want %s in it", name, doc[name], want)
		}
	}
	if l, _ := doc["code_challenge_methods_supported"].([]any); len(l) != 1 {
		t.Errorf("code_challenge_methods_supported: %v, want S256 alone", l)
	}
}

func TestAuthorize_LoginPageUsesTheLoginRules(t *testing.T) {
	t.Parallel()
	e := sharedEnv(t)
	app := e.codeApp(t)
	_, email := e.mustUser(t, app.ID)
	b := newBrowser(t)
	p := b.get(e.authorizeURL(app, nil))
	form := pageForm(t, p)
	// The tenant's lockout: five failures, then the right password too is
	// refused, on the page and on the Login API alike.
	for range 5 {
		p = b.submit(form, url.Values{"loginId": {email}, "password": {"not the password"}})
	}
	p = b.submit(form, url.Values{"loginId": {email}, "password": {testPassword}})
	if p.Status != http.StatusConflict || !strings.Contains(string(p.Body), "locked") || p.Header.Get("Location") != "" {
		t.Fatalf("the right password after five failures: %d %s", p.Status, p.Body)
	}
	e.login(t, map[string]any{"loginId": email, "password": testPassword, "applicationId": app.ID}).wantStatus(t, http.StatusConflict)
}

func TestAuthorize_LoginStartsANewSSOSession(t *testing.T) {
	t.Parallel()
	e := sharedEnv(t)
	app := e.codeApp(t)
	_, email := e.mustUser(t, app.ID)
	b := newBrowser(t)
	ssoOf := func(p *loginpagetest.Page) string {
		for _, c := range p.Header.Values("Set-Cookie") {
			if v, ok := strings.CutPrefix(c, "latch_sso="); ok {
				return strings.SplitN(v, ";", 2)[0]
			}
		}
		return ""
	}
	_, p := b.authorize(e.authorizeURL(app, nil), email, testPassword)
	first := ssoOf(p)
	_, p = b.authorize(e.authorizeURL(app, url.Values{"prompt": {"login"}}), email, testPassword)
	second := ssoOf(p)
	if first == "" || second == "" || first == second {
		t.Fatalf("SSO cookies of two logins: %q, %q; want two values", first, second)
	}
	// The first value no longer logs anyone in.
	old := newBrowser(t)
	u, _ := url.Parse(e.url)
	old.Client.Jar.SetCookies(u, []*http.Cookie{{Name: "latch_sso", Value: first}})
	p = old.get(e.authorizeURL(app, url.Values{"prompt": {"none"}}))
	if l := p.Location(); l == nil || l.Query().Get("error") != "login_required" {
		t.Fatalf("the replaced SSO cookie: %d to %v, want login_required", p.Status, l)
	}
}

func TestAuthorize_LogoutWithIDTokenHint(t *testing.T) {
	t.Parallel()
	e := sharedEnv(t)
	app := e.codeApp(t)
	_, email := e.mustUser(t, app.ID)
	b := newBrowser(t)
	loc, _ := b.authorize(e.authorizeURL(app, nil), email, testPassword)
	var tok api.AccessTokenResponse
	e.exchange(t, app, loc.Query().Get("code"), codeVerifier).wantJSON(t, 200, &tok)
	for name, hint := range map[string]string{"access token": tok.AccessToken, "garbage": "a.b.c"} {
		p := b.get(e.url + "/oauth2/logout?id_token_hint=" + hint + "&post_logout_redirect_uri=" + url.QueryEscape("https://app.example/cb"))
		if p.Status != http.StatusBadRequest || p.Header.Get("Location") != "" {
			t.Errorf("id_token_hint of an %s: %d to %q, want a 400 page", name, p.Status, p.Header.Get("Location"))
		}
	}
	p := b.get(e.url + "/oauth2/logout?id_token_hint=" + tok.IDToken + "&post_logout_redirect_uri=" + url.QueryEscape("https://app.example/cb"))
	if p.Status != http.StatusFound || p.Header.Get("Location") != "https://app.example/cb" {
		t.Fatalf("logout with the ID token as hint: %d to %q", p.Status, p.Header.Get("Location"))
	}
}

func TestAuthorize_LoginPageRateLimited(t *testing.T) {
	t.Parallel()
	e := newEnvWith(t, func(c *server.Config) { c.RateLimits = httpapi.RateLimits{Login: 2} })
	app := e.codeApp(t)
	b := newBrowser(t)
	p := b.get(e.authorizeURL(app, nil))
	form := pageForm(t, p)
	codes := []int{}
	for range 3 {
		p := b.submit(form, url.Values{"loginId": {"nobody@example.org"}, "password": {"wrong password"}})
		codes = append(codes, p.Status)
		if p.Status == http.StatusTooManyRequests && p.Header.Get("Retry-After") == "" {
			t.Errorf("429 without Retry-After")
		}
	}
	if codes[0] != http.StatusUnauthorized || codes[2] != http.StatusTooManyRequests {
		t.Fatalf("three logins a minute past a limit of two: %v, want 401 first and 429 last", codes)
	}
}

// TestAuthorize_TwoFactor: a user with an authenticator method is asked
// for a code after the password; a wrong code asks again, a right one (or
// a recovery code) completes the login with a code for the client.
func TestAuthorize_TwoFactor(t *testing.T) {
	t.Parallel()
	e := sharedEnv(t)
	app := e.codeApp(t)
	userID, email := e.mustUser(t, app.ID)
	now := e.clock.Now()
	var sec api.SecretResponse
	e.do(t, "GET", "/api/two-factor/secret?loginId="+url.QueryEscape(email), withKey(e.key)).wantJSON(t, 200, &sec)
	var enabled api.TwoFactorResponse
	e.do(t, "POST", "/api/user/two-factor/"+userID, withKey(e.key), withJSON(map[string]any{"method": "authenticator",
		"code": totptest.Code(t, sec.SecretBase32Encoded, now), "secretBase32Encoded": sec.SecretBase32Encoded})).wantJSON(t, 200, &enabled)

	b := newBrowser(t)
	_, p, err := b.Authorize(t.Context(), e.authorizeURL(app, nil), email, testPassword)
	if err == nil || p.Status != http.StatusOK || !strings.Contains(string(p.Body), `autocomplete="one-time-code"`) || strings.Contains(p.Header.Get("Set-Cookie"), "latch_sso=") {
		t.Fatalf("the right password of a user with a method: %v %d, want the code page and no SSO session", err, p.Status)
	}
	form := pageForm(t, p)
	if form.Fields.Get("two_factor_id") == "" {
		t.Fatalf("the code form carries no two_factor_id: %v", form.Fields)
	}
	p = b.submit(form, url.Values{"code": {"000000"}})
	if p.Status != http.StatusUnauthorized || !strings.Contains(string(p.Body), "Invalid code.") || p.Header.Get("Location") != "" {
		t.Fatalf("a wrong code: %d %s", p.Status, p.Body)
	}
	// Another browser cannot finish this login with the form's fields.
	other := newBrowser(t)
	p = other.submit(form, url.Values{"code": {enabled.RecoveryCodes[0]}})
	if p.Status != http.StatusForbidden || p.Header.Get("Location") != "" {
		t.Fatalf("the code form posted from another browser: %d", p.Status)
	}
	p = b.submit(form, url.Values{"code": {enabled.RecoveryCodes[0]}})
	loc := p.Location()
	if p.Status != http.StatusSeeOther || loc == nil || loc.Query().Get("code") == "" {
		t.Fatalf("a recovery code: %d %s", p.Status, p.Body)
	}
	var tok api.AccessTokenResponse
	e.exchange(t, app, loc.Query().Get("code"), codeVerifier).wantJSON(t, 200, &tok)
	if tok.UserID != userID {
		t.Fatalf("tokens of %s, want %s", tok.UserID, userID)
	}
	// The twoFactorId is spent.
	p = b.submit(form, url.Values{"code": {enabled.RecoveryCodes[1]}})
	if p.Status != http.StatusUnauthorized || !strings.Contains(string(p.Body), `name="password"`) {
		t.Fatalf("a spent two_factor_id: %d, want the login form again", p.Status)
	}
}
