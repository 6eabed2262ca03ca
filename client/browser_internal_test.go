package client

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"
)

func TestCodeChallenge_AgreesWithXOAuth2(t *testing.T) {
	for range 20 {
		v := randomString()
		if len(v) != 43 || strings.Trim(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") != "" {
			t.Fatalf("verifier %q: want 43 characters of RFC 7636's alphabet", v)
		}
		if got, want := codeChallenge(v), oauth2.S256ChallengeFromVerifier(v); got != want {
			t.Fatalf("codeChallenge(%q) = %q, x/oauth2 says %q", v, got, want)
		}
	}
}

func TestAuthRequest_URL(t *testing.T) {
	key, err := newDeviceKey()
	if err != nil {
		t.Fatal(err)
	}
	r, err := newAuthRequest(BrowserLogin{ClientID: "app-1", LoginHint: "ana@example.org", Prompt: "login", RedirectPath: "cb"}, key)
	if err != nil {
		t.Fatal(err)
	}
	r.redirectURI = "http://127.0.0.1:5555" + r.redirectPath
	u := mustParse(t, r.url("https://auth.example.com/oauth2/authorize?tenantId=t1"))
	q := u.Query()
	want := map[string]string{
		"tenantId":              "t1", // the endpoint's own query is kept
		"response_type":         "code",
		"client_id":             "app-1",
		"redirect_uri":          "http://127.0.0.1:5555/cb",
		"scope":                 DefaultBrowserScope,
		"state":                 r.state,
		"nonce":                 r.nonce,
		"code_challenge":        oauth2.S256ChallengeFromVerifier(r.verifier),
		"code_challenge_method": "S256",
		"dpop_jkt":              r.jkt,
		"login_hint":            "ana@example.org",
		"prompt":                "login",
	}
	for k, v := range want {
		if q.Get(k) != v {
			t.Errorf("%s = %q, want %q", k, q.Get(k), v)
		}
	}
	if len(q) != len(want) {
		t.Errorf("query %v has %d parameters, want %d", q, len(q), len(want))
	}
	if u.Host != "auth.example.com" || u.Path != "/oauth2/authorize" {
		t.Errorf("URL %s: want the endpoint's host and path", u)
	}
	if strings.Contains(u.String(), r.verifier) {
		t.Errorf("the authorization URL carries the PKCE verifier")
	}
	if len(r.jkt) != 43 || r.state == r.nonce || len(r.state) < 43 {
		t.Errorf("jkt %q, state %q, nonce %q: want a thumbprint and two distinct 256-bit values", r.jkt, r.state, r.nonce)
	}

	noKey, err := newAuthRequest(BrowserLogin{ClientID: "app-1"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if q := mustParse(t, noKey.url("https://auth.example.com/oauth2/authorize")).Query(); q.Has("dpop_jkt") || q.Has("login_hint") || q.Has("prompt") {
		t.Errorf("without a key, a hint and a prompt: %v, want no dpop_jkt, login_hint or prompt", q)
	}
	if noKey.redirectPath != DefaultRedirectPath {
		t.Errorf("redirect path %q, want %q", noKey.redirectPath, DefaultRedirectPath)
	}
}

func TestRedirectHandler_Decide(t *testing.T) {
	const issuer = "https://auth.example.com"
	for _, tc := range []struct {
		name        string
		query       string
		issRequired bool
		code        string
		errCode     string // an *AuthorizationError's
		errText     string // another error's
	}{
		{name: "code", query: "code=abc&iss=" + url.QueryEscape(issuer), issRequired: true, code: "abc"},
		{name: "code, iss not promised and absent", query: "code=abc", code: "abc"},
		{name: "iss promised and absent", query: "code=abc", issRequired: true, errText: "carries no iss"},
		{name: "another issuer (mix-up)", query: "code=abc&iss=https://evil.example", errText: `issuer "https://evil.example"`},
		{name: "another issuer's error", query: "error=access_denied&iss=https://evil.example", errText: `issuer "https://evil.example"`},
		{name: "two issuers", query: "code=abc&iss=" + url.QueryEscape(issuer) + "&iss=https://evil.example", errText: "issuer"},
		{name: "issuer differs in case", query: "code=abc&iss=HTTPS://auth.example.com", errText: "issuer"},
		{name: "error", query: "error=access_denied&error_description=The+user+said+no&iss=" + url.QueryEscape(issuer), errCode: "access_denied"},
		{name: "error wins over code", query: "error=login_required&code=abc&iss=" + url.QueryEscape(issuer), errCode: "login_required"},
		{name: "neither", query: "iss=" + url.QueryEscape(issuer), errText: "neither code nor error"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := &redirectHandler{issuer: issuer, issRequired: tc.issRequired}
			q, err := url.ParseQuery(tc.query)
			if err != nil {
				t.Fatal(err)
			}
			res := h.decide(q)
			var ae *AuthorizationError
			switch {
			case tc.code != "":
				if res.err != nil || res.code != tc.code {
					t.Fatalf("decide = %q, %v; want code %q", res.code, res.err, tc.code)
				}
			case tc.errCode != "":
				if !errors.As(res.err, &ae) || ae.Code != tc.errCode || res.code != "" {
					t.Fatalf("decide = %q, %v; want an AuthorizationError %s", res.code, res.err, tc.errCode)
				}
			default:
				if res.err == nil || errors.As(res.err, &ae) || !strings.Contains(res.err.Error(), tc.errText) || res.code != "" {
					t.Fatalf("decide = %q, %v; want an error with %q", res.code, res.err, tc.errText)
				}
			}
		})
	}
}

// TestRedirectHandler_OnlyTheLoginsState checks that a request to the
// loopback listener ends the wait only when it carries the login's state
// on the redirect path: any local process can reach the listener.
func TestRedirectHandler_OnlyTheLoginsState(t *testing.T) {
	h := &redirectHandler{path: "/callback", state: "s3cret-state", issuer: "https://auth.example.com", done: make(chan redirectResult, 1)}
	for _, tc := range []struct {
		method, target string
		status         int
	}{
		{"GET", "/callback?code=stolen", http.StatusBadRequest},
		{"GET", "/callback?code=stolen&state=guess", http.StatusBadRequest},
		{"GET", "/callback?code=stolen&state=s3cret-stat", http.StatusBadRequest},
		{"GET", "/other?code=abc&state=s3cret-state", http.StatusNotFound},
		{"POST", "/callback?code=abc&state=s3cret-state", http.StatusMethodNotAllowed},
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(tc.method, tc.target, nil))
		if rec.Code != tc.status {
			t.Errorf("%s %s: %d, want %d", tc.method, tc.target, rec.Code, tc.status)
		}
		if len(h.done) != 0 {
			t.Fatalf("%s %s ended the wait", tc.method, tc.target)
		}
	}

	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/callback?code=abc&state=s3cret-state&iss=https%3A%2F%2Fauth.example.com", nil))
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "close this window") {
		t.Errorf("the redirect: %d %q, want 200 and a page that says the app has it", rec.Code, rec.Body.String())
	}
	for _, h := range []string{"Cache-Control", "Referrer-Policy", "Content-Security-Policy"} {
		if rec.Header().Get(h) == "" {
			t.Errorf("the page has no %s", h)
		}
	}
	if res := <-h.done; res.code != "abc" || res.err != nil {
		t.Errorf("result %q, %v; want the code", res.code, res.err)
	}

	// A replay of the redirect (a reload) changes nothing.
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/callback?code=again&state=s3cret-state", nil))
	if rec.Code != http.StatusConflict {
		t.Errorf("a second redirect: %d, want 409", rec.Code)
	}
	if len(h.done) != 0 {
		t.Errorf("the second redirect was taken: %+v", <-h.done)
	}
}
