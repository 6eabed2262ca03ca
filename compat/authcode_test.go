package compat_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/latchid/latch/internal/loginpage/loginpagetest"
	"github.com/latchid/latch/internal/server"
)

// Known values of the authorization code tests' kickstart.
const (
	acTenantID     = "2f6e0d1c-3b4a-4c5d-8e9f-0a1b2c3d4e5f"
	acNativeAppID  = "7a6b5c4d-3e2f-4a1b-9c8d-7e6f5a4b3c2d"
	acWebAppID     = "0b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e"
	acWebSecret    = "compat-authcode-web-client-secret-0123456"
	acAPIKey       = "compat-authcode-api-key-0123456789abcdefg"
	acUserID       = "5c4b3a2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d"
	acUserEmail    = "browser.user@example.org"
	acUserPassword = "browser user passphrase 9012"
	// acNativeRedirect is the native app's registered loopback redirect:
	// it listens on whatever port it gets (RFC 8252 §7.3).
	acNativeRedirect = "http://127.0.0.1/callback"
	acWebRedirect    = "https://web.example/cb"
)

// authcodeKickstart is a FusionAuth kickstart: a native app (a public
// client, PKCE required, a loopback redirect URI), a web app (a
// confidential client with a secret), both with the authorization_code
// and refresh_token grants and refresh tokens for offline_access, and a
// user registered for both.
func authcodeKickstart(t *testing.T) []byte {
	t.Helper()
	type obj = map[string]any
	app := func(name, secretPolicy string, redirect string) obj {
		o := obj{"clientAuthenticationPolicy": secretPolicy, "enabledGrants": []string{"authorization_code", "refresh_token"},
			"generateRefreshTokens": true, "authorizedRedirectURLs": []string{redirect}}
		if secretPolicy == "Required" {
			o["clientSecret"] = "#{webSecret}"
		}
		return obj{"application": obj{"name": name, "oauthConfiguration": o}}
	}
	f := obj{
		"variables": obj{"defaultTenantId": acTenantID, "nativeAppId": acNativeAppID, "webAppId": acWebAppID, "webSecret": acWebSecret,
			"apiKey": acAPIKey, "userId": acUserID, "userEmail": acUserEmail, "userPassword": acUserPassword},
		"apiKeys": []obj{{"key": "#{apiKey}", "description": "compat: authorization code"}},
		"requests": []obj{
			{"method": "POST", "url": "/api/application/#{nativeAppId}", "body": app("native app", "NotRequired", acNativeRedirect)},
			{"method": "POST", "url": "/api/application/#{webAppId}", "body": app("web app", "Required", acWebRedirect)},
			{"method": "POST", "url": "/api/user/registration/#{userId}", "body": obj{
				"user":         obj{"email": "#{userEmail}", "password": "#{userPassword}"},
				"registration": obj{"applicationId": "#{nativeAppId}"}, "skipVerification": true,
			}},
			{"method": "POST", "url": "/api/user/registration/#{userId}", "body": obj{
				"registration": obj{"applicationId": "#{webAppId}"},
			}},
		},
	}
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// loopbackApp is a native app's redirect listener on a loopback port of
// its own: it keeps the query of the last redirect it received.
type loopbackApp struct {
	*httptest.Server
	got chan url.Values
}

func newLoopbackApp(t *testing.T) *loopbackApp {
	a := &loopbackApp{got: make(chan url.Values, 1)}
	a.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/callback" {
			http.NotFound(w, r)
			return
		}
		a.got <- r.URL.Query()
		_, _ = w.Write([]byte("You can close this window."))
	}))
	t.Cleanup(a.Close)
	return a
}

// TestGoAuthorizationCode drives the authorization code flow with
// golang.org/x/oauth2 and go-oidc, unmodified, as a native app does
// (RFC 8252): the endpoints from discovery, AuthCodeURL with an S256
// challenge and a nonce, the hosted login page submitted by a browser
// (a cookie jar, the form read from the page's HTML), the redirect to
// the app's loopback listener, Exchange with the verifier, the ID token
// verified with its nonce and at_hash, a refresh, the code refused a
// second time; then a web app logs in on the SSO session, without the
// password, with its client secret.
func TestGoAuthorizationCode(t *testing.T) {
	l := startLatch(t, authcodeKickstart(t), server.Config{})
	ctx := goClientContext(t, nil)
	provider, err := oidc.NewProvider(ctx, l.URL)
	if err != nil {
		t.Fatal(err)
	}
	if provider.Endpoint().AuthURL != l.URL+"/oauth2/authorize" {
		t.Fatalf("authorization endpoint %q", provider.Endpoint().AuthURL)
	}
	native := newLoopbackApp(t)
	conf := &oauth2.Config{ClientID: acNativeAppID, Endpoint: provider.Endpoint(), RedirectURL: native.URL + "/callback",
		Scopes: []string{oidc.ScopeOpenID, oidc.ScopeOfflineAccess}}
	browser := loginpagetest.NewBrowser(nil)

	verifier, state, nonce := oauth2.GenerateVerifier(), rand.Text(), rand.Text()
	authURL := conf.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier), oidc.Nonce(nonce))
	q := authorizeInBrowser(t, ctx, browser, native, authURL, acUserEmail, acUserPassword)
	if q.Get("state") != state || q.Get("iss") != l.URL || q.Get("code") == "" {
		t.Fatalf("the redirect to the app: %v; want the code, the state and iss %s", q, l.URL)
	}
	tok, err := conf.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(describe(err))
	}
	rawID, _ := tok.Extra("id_token").(string)
	idt, err := provider.Verifier(&oidc.Config{ClientID: acNativeAppID}).Verify(ctx, rawID)
	if err != nil {
		t.Fatal(err)
	}
	if idt.Nonce != nonce || idt.Subject != acUserID {
		t.Fatalf("ID token nonce %q sub %q, want %q %q", idt.Nonce, idt.Subject, nonce, acUserID)
	}
	if err := idt.VerifyAccessToken(tok.AccessToken); err != nil {
		t.Fatalf("at_hash: %v", err)
	}
	refreshed, err := conf.TokenSource(ctx, expired(tok)).Token()
	if err != nil || refreshed.AccessToken == tok.AccessToken || refreshed.RefreshToken == "" {
		t.Fatalf("refresh: %v", describe(err))
	}
	_, err = conf.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(verifier))
	if re := retrieveError(t, err); re.ErrorCode != "invalid_grant" {
		t.Fatalf("the code a second time: %v, want invalid_grant", err)
	}
	// Its reuse ended the session the code started: the refresh token too.
	if _, err := conf.TokenSource(ctx, expired(refreshed)).Token(); err == nil {
		t.Fatal("the refresh token outlived the reuse of its code")
	}

	// A wrong verifier is refused (and spends the code).
	verifier, state = oauth2.GenerateVerifier(), rand.Text()
	q = authorizeInBrowser(t, ctx, browser, native, conf.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier)), "", "")
	_, err = conf.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(oauth2.GenerateVerifier()))
	if re := retrieveError(t, err); re.ErrorCode != "invalid_grant" {
		t.Fatalf("a wrong verifier: %v, want invalid_grant", err)
	}

	// The web app: the same browser, no password (the SSO session), its
	// secret in the Authorization header, PKCE all the same.
	web := &oauth2.Config{ClientID: acWebAppID, ClientSecret: acWebSecret, RedirectURL: acWebRedirect,
		Endpoint: oauth2.Endpoint{AuthURL: provider.Endpoint().AuthURL, TokenURL: provider.Endpoint().TokenURL, AuthStyle: oauth2.AuthStyleInHeader},
		Scopes:   []string{oidc.ScopeOpenID}}
	verifier, state, nonce = oauth2.GenerateVerifier(), rand.Text(), rand.Text()
	p, err := browser.Get(ctx, web.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier), oidc.Nonce(nonce)))
	if err != nil {
		t.Fatal(err)
	}
	loc := p.Location()
	if p.Status != http.StatusFound || loc == nil || loc.Host != "web.example" || loc.Query().Get("state") != state {
		t.Fatalf("the web app with an SSO session: %d to %v, want its code at once", p.Status, loc)
	}
	webTok, err := web.Exchange(ctx, loc.Query().Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(describe(err))
	}
	webID, err := provider.Verifier(&oidc.Config{ClientID: acWebAppID}).Verify(ctx, webTok.Extra("id_token").(string))
	if err != nil || webID.Nonce != nonce || webTok.RefreshToken != "" {
		t.Fatalf("the web app's ID token: %v (nonce %q), refresh token %q (none without offline_access)", err, webID.Nonce, webTok.RefreshToken)
	}
	// The native app's code is worth nothing to the web app.
	verifier, state = oauth2.GenerateVerifier(), rand.Text()
	q = authorizeInBrowser(t, ctx, browser, native, conf.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier)), "", "")
	webWithNativeRedirect := *web
	webWithNativeRedirect.RedirectURL = conf.RedirectURL
	_, err = webWithNativeRedirect.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(verifier))
	if re := retrieveError(t, err); re.ErrorCode != "invalid_grant" {
		t.Fatalf("another client's code: %v, want invalid_grant", err)
	}
}

// authorizeInBrowser opens authURL in the browser, logs in on the page
// when it is shown (loginID and password; "" when an SSO session is
// expected), follows the redirect to the app's loopback listener, and
// returns what the listener received.
func authorizeInBrowser(t *testing.T, ctx context.Context, b *loginpagetest.Browser, app *loopbackApp, authURL, loginID, password string) url.Values {
	t.Helper()
	loc, p, err := b.Authorize(ctx, authURL, loginID, password)
	if err != nil {
		t.Fatalf("authorize: %v (%d %s)", err, p.Status, p.Body)
	}
	if loc.Host == "" || loc.Scheme != "http" || loc.Hostname() != "127.0.0.1" {
		t.Fatalf("redirected to %s, want the app's loopback listener", loc)
	}
	if _, err := b.Get(ctx, loc.String()); err != nil {
		t.Fatal(err)
	}
	select {
	case q := <-app.got:
		return q
	default:
		t.Fatalf("the app's listener received nothing from %s", loc)
		return nil
	}
}

// TestOAuth4WebAPIAuthorizationCode runs
// compat/oauth4webapi/authcode.test.mjs: oauth4webapi's authorization
// code functions, unmodified, against Latch's hosted login page and token
// endpoint (PKCE, iss, dpop_jkt, the nonce, a code used twice). It needs
// node and npm, as TestOAuth4WebAPI does.
func TestOAuth4WebAPIAuthorizationCode(t *testing.T) {
	project := nodeProject(t, "oauth4webapi", "oauth4webapi")
	l := startLatch(t, authcodeKickstart(t), server.Config{})
	project.test(t, "authcode.test.mjs",
		"LATCH_URL="+l.URL,
		"LATCH_CLIENT_ID="+acNativeAppID,
		"LATCH_REDIRECT_URI="+acNativeRedirect,
		"LATCH_LOGIN_ID="+acUserEmail,
		"LATCH_PASSWORD="+acUserPassword,
	)
}
