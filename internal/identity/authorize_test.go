package identity

import (
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/latchid/latch/api"
	"github.com/latchid/latch/internal/storage"
	"github.com/latchid/latch/internal/token"
)

func TestRedirectURIAllowed(t *testing.T) {
	registered := []string{
		"https://app.example/cb",
		"https://app.example/cb?x=1",
		"com.example.app:/oauth2redirect",
		"http://127.0.0.1/native",
		"http://[::1]:8400/native6",
		"http://localhost:3000/dev",
	}
	for _, tc := range []struct {
		uri  string
		want bool
	}{
		{"https://app.example/cb", true},
		{"https://app.example/cb?x=1", true},
		{"com.example.app:/oauth2redirect", true},
		{"http://127.0.0.1:51004/native", true},     // loopback: any port (RFC 8252 §7.3)
		{"http://127.0.0.1/native", true},           // and none
		{"http://[::1]:1234/native6", true},         // IPv6 loopback, another port
		{"http://localhost:3000/dev", true},         // exactly as registered
		{"http://localhost:3001/dev", false},        // localhost is a name, not a loopback literal: port matters
		{"https://app.example/cb/", false},          // path
		{"https://app.example/cbx", false},          // prefix
		{"https://app.example/cb/../evil", false},   // path traversal
		{"https://APP.example/cb", false},           // case
		{"HTTPS://app.example/cb", false},           // scheme case
		{"https://app.example/cb#frag", false},      // fragment
		{"https://app.example/cb#", false},          // empty fragment
		{"https://evil@app.example/cb", false},      // userinfo
		{"https://app.example.evil.test/cb", false}, // host suffix
		{"https://app.example:443/cb", false},       // explicit port on a non-loopback URI
		{"https://app.example:8443/cb", false},      // port on a non-loopback URI
		{"https://app.example/cb?x=2", false},       // query
		{"https://app.example/cb?", false},          // empty query
		{"https://app.example/cb?x=1&y=2", false},   // extra query
		{"http://app.example/cb", false},            // scheme downgrade
		{"com.example.app:/oauth2redirect/x", false},
		{"com.example.evil:/oauth2redirect", false},
		{"http://127.0.0.1:51004/native/x", false}, // loopback, other path
		{"http://127.0.0.1:51004/native?q=1", false},
		{"http://127.0.0.2:51004/native", false},
		{"http://evil@127.0.0.1:51004/native", false},
		{"https://127.0.0.1:51004/native", false}, // loopback rule is for http only
		{"http://[::1]:1234/native", false},       // the registered loopback is 127.0.0.1
		{"https://app.example/cb ", false},
		{"", false},
	} {
		if got := RedirectURIAllowed(registered, tc.uri); got != tc.want {
			t.Errorf("RedirectURIAllowed(%q) = %v, want %v", tc.uri, got, tc.want)
		}
	}
}

// s256 is the S256 code challenge of a verifier.
func s256(verifier string) string {
	h := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(h[:])
}

func TestCheckAuthorizeParameters(t *testing.T) {
	public := api.Application{OAuthConfiguration: api.OAuthConfiguration{
		ClientAuthenticationPolicy: api.ClientAuthNotRequired, EnabledGrants: []string{GrantAuthorizationCode}}}
	confidential := api.Application{OAuthConfiguration: api.OAuthConfiguration{
		ClientAuthenticationPolicy: api.ClientAuthRequired, EnabledGrants: []string{GrantAuthorizationCode}}}
	noGrant := api.Application{OAuthConfiguration: api.OAuthConfiguration{ClientAuthenticationPolicy: api.ClientAuthRequired}}
	challenge := s256(strings.Repeat("v", 43))
	ok := AuthorizeRequest{ResponseType: "code", CodeChallenge: challenge, CodeChallengeMethod: "S256", Scope: "openid offline_access"}
	with := func(f func(*AuthorizeRequest)) AuthorizeRequest { r := ok; f(&r); return r }
	for _, tc := range []struct {
		name string
		app  api.Application
		req  AuthorizeRequest
		want string
	}{
		{"OK", public, ok, ""},
		{"no response_type", public, with(func(r *AuthorizeRequest) { r.ResponseType = "" }), "invalid_request"},
		{"token response_type", public, with(func(r *AuthorizeRequest) { r.ResponseType = "token" }), "unsupported_response_type"},
		{"fragment mode", public, with(func(r *AuthorizeRequest) { r.ResponseMode = "fragment" }), "invalid_request"},
		{"grant disabled", noGrant, ok, "unauthorized_client"},
		{"plain PKCE", public, with(func(r *AuthorizeRequest) { r.CodeChallengeMethod = "plain" }), "invalid_request"},
		{"PKCE without method (plain)", public, with(func(r *AuthorizeRequest) { r.CodeChallengeMethod = "" }), "invalid_request"},
		{"method without challenge", public, with(func(r *AuthorizeRequest) { r.CodeChallenge = "" }), "invalid_request"},
		{"short challenge", public, with(func(r *AuthorizeRequest) { r.CodeChallenge = "abc" }), "invalid_request"},
		{"public client without PKCE", public, with(func(r *AuthorizeRequest) { r.CodeChallenge, r.CodeChallengeMethod = "", "" }), "invalid_request"},
		{"confidential client without PKCE", confidential, with(func(r *AuthorizeRequest) { r.CodeChallenge, r.CodeChallengeMethod = "", "" }), ""},
		{"bad prompt", public, with(func(r *AuthorizeRequest) { r.Prompt = "consent" }), "invalid_request"},
		{"bad dpop_jkt", public, with(func(r *AuthorizeRequest) { r.DPoPJKT = "x" }), "invalid_request"},
		{"good dpop_jkt", public, with(func(r *AuthorizeRequest) { r.DPoPJKT = challenge }), ""},
		{"bad scope", public, with(func(r *AuthorizeRequest) { r.Scope = "openid \"x\"" }), "invalid_scope"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := checkAuthorizeParameters(tc.req, tc.app)
			var ae *AuthorizeError
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("got %v, want no error", err)
			case tc.want != "" && (!errors.As(err, &ae) || ae.Code != tc.want || !ae.Redirect):
				t.Fatalf("got %v, want %s sent to the redirect URI", err, tc.want)
			}
		})
	}
}

func TestCheckRedemption(t *testing.T) {
	verifier := strings.Repeat("a", 43)
	now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	code := storage.AuthorizationCode{ApplicationID: "app", RedirectURI: "https://app.example/cb", CodeChallenge: s256(verifier),
		Created: now, ExpiresAt: now.Add(CodeTTL)}
	in := ExchangeInput{App: api.Application{ID: "app"}, RedirectURI: "https://app.example/cb", Verifier: verifier}
	for _, tc := range []struct {
		name   string
		change func(c *storage.AuthorizationCode, in *ExchangeInput) time.Time
		want   string
	}{
		{"OK", func(*storage.AuthorizationCode, *ExchangeInput) time.Time { return now }, ""},
		{"59 s old", func(*storage.AuthorizationCode, *ExchangeInput) time.Time { return now.Add(59 * time.Second) }, ""},
		{"60 s old", func(*storage.AuthorizationCode, *ExchangeInput) time.Time { return now.Add(60 * time.Second) }, "expired_authorization_code"},
		{"another client", func(_ *storage.AuthorizationCode, in *ExchangeInput) time.Time { in.App.ID = "other"; return now }, "client_id_mismatch"},
		{"another redirect URI", func(_ *storage.AuthorizationCode, in *ExchangeInput) time.Time {
			in.RedirectURI += "/"
			return now
		}, "redirect_uri_mismatch"},
		{"missing verifier", func(_ *storage.AuthorizationCode, in *ExchangeInput) time.Time { in.Verifier = ""; return now }, "missing_pkce_code_verifier"},
		{"wrong verifier", func(_ *storage.AuthorizationCode, in *ExchangeInput) time.Time {
			in.Verifier = strings.Repeat("b", 43)
			return now
		}, "invalid_pkce_code_verifier"},
		{"the challenge as verifier (plain)", func(c *storage.AuthorizationCode, in *ExchangeInput) time.Time {
			in.Verifier = c.CodeChallenge
			return now
		}, "invalid_pkce_code_verifier"},
		{"verifier without challenge", func(c *storage.AuthorizationCode, in *ExchangeInput) time.Time {
			c.CodeChallenge, in.Authenticated = "", true
			return now
		}, "invalid_pkce_code_verifier"},
		{"no PKCE, unauthenticated", func(c *storage.AuthorizationCode, in *ExchangeInput) time.Time {
			c.CodeChallenge, in.Verifier = "", ""
			return now
		}, "client_authentication_missing"},
		{"no PKCE, authenticated", func(c *storage.AuthorizationCode, in *ExchangeInput) time.Time {
			c.CodeChallenge, in.Verifier, in.Authenticated = "", "", true
			return now
		}, ""},
		{"dpop_jkt without proof", func(c *storage.AuthorizationCode, in *ExchangeInput) time.Time { c.DPoPJKT = "k1"; return now }, "invalid_dpop_jkt"},
		{"dpop_jkt, other key", func(c *storage.AuthorizationCode, in *ExchangeInput) time.Time {
			c.DPoPJKT, in.Client.DPoPJKT = "k1", "k2"
			return now
		}, "invalid_dpop_jkt"},
		{"dpop_jkt, its key", func(c *storage.AuthorizationCode, in *ExchangeInput) time.Time {
			c.DPoPJKT, in.Client.DPoPJKT = "k1", "k1"
			return now
		}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, i := code, in
			at := tc.change(&c, &i)
			err := checkRedemption(c, i, at)
			var oe *api.OAuthError
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("got %v, want no error", err)
			case tc.want != "" && (!errors.As(err, &oe) || oe.Reason != tc.want):
				t.Fatalf("got %v, want %s", err, tc.want)
			}
		})
	}
}

// codeEnv is an env whose Default application is a public client of the
// authorization code grant, with a registered user logged in to an SSO
// session.
type codeEnv struct {
	*env
	az  Authorization
	sso storage.SSOSession
}

const testVerifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"

func newCodeEnv(t *testing.T) *codeEnv {
	t.Helper()
	e := newEnv(t)
	a := e.app
	a.OAuthConfiguration.ClientAuthenticationPolicy = api.ClientAuthNotRequired
	a.OAuthConfiguration.EnabledGrants = []string{GrantAuthorizationCode, GrantRefreshToken}
	a.OAuthConfiguration.AuthorizedRedirectURLs = []string{"https://app.example/cb"}
	app, err := e.UpdateApplication(e.ctx, "", a.ID, a)
	if err != nil {
		t.Fatal(err)
	}
	e.app = app
	uid := e.mustImport(t, "", api.User{Email: "code@example.org", Registrations: registered(app.ID)})
	az, err := e.CheckAuthorization(e.ctx, AuthorizeRequest{ResponseType: "code", ClientID: app.ID, RedirectURI: "https://app.example/cb",
		Scope: "openid offline_access", Nonce: "n-0S6_WzA2Mj", CodeChallenge: s256(testVerifier), CodeChallengeMethod: "S256"})
	if err != nil {
		t.Fatal(err)
	}
	_, sso, err := e.StartSSOSession(e.ctx, az.Tenant, uid)
	if err != nil {
		t.Fatal(err)
	}
	return &codeEnv{env: e, az: az, sso: sso}
}

func (e *codeEnv) exchange(code string) (ExchangeResult, error) {
	return e.ExchangeCode(e.ctx, ExchangeInput{Code: code, RedirectURI: "https://app.example/cb", Verifier: testVerifier, App: e.app})
}

func TestExchangeCode(t *testing.T) {
	t.Parallel()
	e := newCodeEnv(t)
	code, err := e.IssueCode(e.ctx, e.az, e.sso)
	if err != nil {
		t.Fatal(err)
	}
	res, err := e.exchange(code)
	if err != nil {
		t.Fatal(err)
	}
	if res.Token == "" || res.RefreshToken == "" || res.IDToken == "" {
		t.Fatalf("exchange gave %+v, want an access, a refresh and an ID token", res)
	}
	payload, _, err := token.Verify(res.IDToken, verifier{e.Service}, token.TypeJWT)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"nonce":"n-0S6_WzA2Mj"`, `"sid":"` + e.sso.ID + `"`, `"at_hash":`, `"auth_time":`} {
		if !strings.Contains(string(payload), want) {
			t.Errorf("ID token %s lacks %s", payload, want)
		}
	}
	if _, err := e.Refresh(e.ctx, RefreshInput{RefreshToken: res.RefreshToken, ClientID: e.app.ID, OAuth: true}); err != nil {
		t.Fatalf("refresh with the code's refresh token: %v", err)
	}

	// The second use is refused and ends the session the first started.
	_, err = e.exchange(code)
	var oe *api.OAuthError
	if !errors.As(err, &oe) || oe.Code != api.OAuthInvalidGrant {
		t.Fatalf("second exchange: %v, want invalid_grant", err)
	}
	sess, err := e.store.GetSession(e.ctx, res.RefreshTokenID)
	if err != nil {
		t.Fatal(err)
	}
	if sess.RevokedAt.IsZero() || sess.RevokeReason != ReasonTokenReuse {
		t.Fatalf("session after the code's reuse: revoked %v for %q, want revoked for reuse", sess.RevokedAt, sess.RevokeReason)
	}
	if claims, err := e.Introspect(e.ctx, e.app.ID, res.Token, ""); err != nil || claims["active"] != false {
		t.Fatalf("introspection of the first use's access token: %v %v, want inactive", claims, err)
	}
}

func TestExchangeCodeExpires(t *testing.T) {
	t.Parallel()
	e := newCodeEnv(t)
	code, err := e.IssueCode(e.ctx, e.az, e.sso)
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(CodeTTL)
	_, err = e.exchange(code)
	var oe *api.OAuthError
	if !errors.As(err, &oe) || oe.Reason != "expired_authorization_code" {
		t.Fatalf("exchange after %v: %v, want expired_authorization_code", CodeTTL, err)
	}
}

func TestExchangeCodeSpentByRefusal(t *testing.T) {
	t.Parallel()
	e := newCodeEnv(t)
	code, err := e.IssueCode(e.ctx, e.az, e.sso)
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.ExchangeCode(e.ctx, ExchangeInput{Code: code, RedirectURI: "https://app.example/cb", Verifier: strings.Repeat("x", 43), App: e.app})
	var oe *api.OAuthError
	if !errors.As(err, &oe) || oe.Reason != "invalid_pkce_code_verifier" {
		t.Fatalf("wrong verifier: %v", err)
	}
	if _, err := e.exchange(code); !errors.As(err, &oe) || oe.Reason != "invalid_authorization_code" {
		t.Fatalf("the right verifier after a wrong one: %v, want the code spent", err)
	}
}

func TestSSOSession(t *testing.T) {
	t.Parallel()
	e := newCodeEnv(t)
	raw, _, err := e.StartSSOSession(e.ctx, e.az.Tenant, e.sso.UserID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.SSOSession(e.ctx, e.az.Tenant, raw); err != nil {
		t.Fatalf("a fresh SSO session: %v", err)
	}
	e.clock.Advance(DefaultSSOSessionTTL - time.Second) // used just in time: it lives on
	if _, err := e.SSOSession(e.ctx, e.az.Tenant, raw); err != nil {
		t.Fatalf("an SSO session used within its lifetime: %v", err)
	}
	e.clock.Advance(DefaultSSOSessionTTL)
	if _, err := e.SSOSession(e.ctx, e.az.Tenant, raw); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("an SSO session unused for its lifetime: %v, want ErrNotFound", err)
	}
	raw, _, err = e.StartSSOSession(e.ctx, e.az.Tenant, e.sso.UserID)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.EndSSOSession(e.ctx, raw); err != nil {
		t.Fatal(err)
	}
	if _, err := e.SSOSession(e.ctx, e.az.Tenant, raw); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("an ended SSO session: %v, want ErrNotFound", err)
	}
	if e.CheckFormToken(raw, e.FormToken(raw+"x")) || !e.CheckFormToken(raw, e.FormToken(raw)) || e.CheckFormToken("", e.FormToken("")) {
		t.Fatal("form tokens are not bound to their cookie")
	}
}

func TestSSOSessionEndsWithTheUser(t *testing.T) {
	t.Parallel()
	e := newCodeEnv(t)
	raw, _, err := e.StartSSOSession(e.ctx, e.az.Tenant, e.sso.UserID)
	if err != nil {
		t.Fatal(err)
	}
	u, err := e.store.GetUser(e.ctx, e.sso.UserID)
	if err != nil {
		t.Fatal(err)
	}
	u.Active = false
	if err := e.store.UpdateUser(e.ctx, u); err != nil {
		t.Fatal(err)
	}
	if _, err := e.SSOSession(e.ctx, e.az.Tenant, raw); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("the SSO session of a deactivated user: %v, want ErrNotFound", err)
	}
}

// FuzzRedirectURIAllowed: whatever the URI, one that is allowed has no
// fragment and no userinfo, and is a registered URI exactly or a loopback
// URI that differs from a registered one in its port alone.
func FuzzRedirectURIAllowed(f *testing.F) {
	registered := []string{"https://app.example/cb", "http://127.0.0.1/native", "http://[::1]:80/n6", "com.example.app:/r"}
	for _, s := range []string{"https://app.example/cb", "http://127.0.0.1:8080/native", "http://[::1]:1/n6", "https://app.example/cb#x",
		"http://u@127.0.0.1:1/native", "http://127.0.0.1:1/native?", "com.example.app:/r", "http://127.0.0.1:/native"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, uri string) {
		if !RedirectURIAllowed(registered, uri) {
			return
		}
		if strings.Contains(uri, "#") || strings.Contains(uri, "@") {
			t.Fatalf("%q allowed, with a fragment or userinfo", uri)
		}
		for _, r := range registered {
			if r == uri {
				return
			}
		}
		u, err := url.Parse(uri)
		if err != nil || u.Scheme != "http" || (u.Hostname() != "127.0.0.1" && u.Hostname() != "::1") {
			t.Fatalf("%q allowed, neither registered nor a loopback URI", uri)
		}
		for _, r := range registered {
			ru, _ := url.Parse(r)
			if ru.Scheme == u.Scheme && ru.Hostname() == u.Hostname() && ru.Path == u.Path && ru.RawQuery == u.RawQuery {
				return
			}
		}
		t.Fatalf("%q allowed, and no registered loopback URI differs from it in the port alone", uri)
	})
}
