package client_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/latchid/latch/api"
	"github.com/latchid/latch/client"
	"github.com/latchid/latch/internal/latchtest"
	"github.com/latchid/latch/internal/loginpage/loginpagetest"
	"github.com/latchid/latch/internal/server"
	"github.com/latchid/latch/internal/storefront"
)

// The browser flow against the real thing: a Latch and the storefront in
// this process, the "browser" net/http with a cookie jar that fills and
// posts the hosted login form (loginpagetest), as a browser without
// JavaScript does, and follows the redirect to the loopback listener.

// redirectURL is the loopback redirect URI the tests register: any port
// matches it (RFC 8252 §7.3).
const redirectURL = "http://127.0.0.1/callback"

// codeEnv is a Latch whose application Default may use the code flow as
// a public client, and a storefront for that application.
type codeEnv struct {
	clock      *latchtest.Clock
	latch      *latchtest.Latch
	appID      string
	storefront string // its URL
}

func newCodeEnv(t *testing.T) *codeEnv {
	t.Helper()
	e := &codeEnv{clock: latchtest.NewClock(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))}
	e.latch = latchtest.Start(t, latchtest.Options{Clock: e.clock})
	app := e.latch.DefaultApplication(t)
	e.appID = app.ID
	EnableCodeFlow(t, e.latch, app)
	logs := &latchtest.LogBuffer{}
	sf, err := storefront.Open(context.Background(), storefront.Config{
		Addr:          "127.0.0.1:0",
		LatchURL:      e.latch.URL,
		ApplicationID: e.appID,
		APIKey:        e.latch.APIKey,
		DataDir:       t.TempDir(),
		Logger:        logs.Logger(),
		Now:           e.clock.Now,
	})
	if err != nil {
		t.Fatalf("storefront.Open: %v", err)
	}
	served := make(chan error, 1)
	go func() { served <- sf.Serve() }()
	t.Cleanup(func() {
		if err := sf.Close(); err != nil {
			t.Errorf("close storefront: %v", err)
		}
		if err := <-served; err != nil {
			t.Errorf("storefront Serve: %v", err)
		}
		if t.Failed() {
			t.Logf("storefront log:\n%s", logs)
		}
	})
	e.storefront = sf.URL()
	return e
}

// EnableCodeFlow lets app use the authorization code grant as a public
// client (PKCE, no secret) with the loopback redirect URL.
func EnableCodeFlow(t *testing.T, l *latchtest.Latch, app api.Application) {
	t.Helper()
	o := &app.OAuthConfiguration
	o.AuthorizedRedirectURLs = []string{redirectURL}
	o.EnabledGrants = []string{"authorization_code", "refresh_token", "password"}
	o.ClientAuthenticationPolicy = "NotRequired"
	o.RequireClientAuthentication = false
	o.ClientSecret = ""
	l.Do(t, l.APIKey, "PUT", "/api/application/"+app.ID, api.ApplicationRequest{Application: app}, http.StatusOK, nil)
}

var codeUserSeq atomic.Int64

// newUser registers a user for the application and returns the email.
func (e *codeEnv) newUser(t *testing.T) string {
	t.Helper()
	email := fmt.Sprintf("browser%d@example.org", codeUserSeq.Add(1))
	e.latch.Register(t, e.appID, email)
	return email
}

// client is a Client of the storefront, on the shared clock.
func (e *codeEnv) client() *client.Client {
	return &client.Client{BaseURL: e.storefront, Now: e.clock.Now}
}

// logIn plays the user in a browser without JavaScript: it opens the
// authorization URL, fills the login form and submits it, follows the
// redirect to the loopback listener, and returns the page it answers.
func logIn(ctx context.Context, b *loginpagetest.Browser, authURL, email string) (*loginpagetest.Page, error) {
	loc, p, err := b.Authorize(ctx, authURL, email, latchtest.Password)
	if err != nil {
		if p != nil {
			err = fmt.Errorf("%w: %d %s", err, p.Status, p.Body)
		}
		return nil, err
	}
	return b.Get(ctx, loc.String())
}

// follow plays a browser that holds a session at Latch, or is asked for
// no page: it opens the authorization URL, which must redirect, and
// follows the redirect to the loopback listener.
func follow(ctx context.Context, b *loginpagetest.Browser, authURL string) (*loginpagetest.Page, error) {
	p, err := b.Get(ctx, authURL)
	if err != nil {
		return nil, err
	}
	loc := p.Location()
	if loc == nil {
		return nil, fmt.Errorf("GET %s: %d without a redirect: %s", authURL, p.Status, p.Body)
	}
	return b.Get(ctx, loc.String())
}

// opener returns a BrowserLogin.Open that runs step in the background
// (Open must not wait for the login) and reports its result on done.
func opener(ctx context.Context, step func(ctx context.Context, authURL string) (*loginpagetest.Page, error)) (open func(string) error, done <-chan *loginpagetest.Page, failed <-chan error) {
	pages, errs := make(chan *loginpagetest.Page, 1), make(chan error, 1)
	return func(u string) error {
		go func() {
			p, err := step(ctx, u)
			if err != nil {
				errs <- err
				return
			}
			pages <- p
		}()
		return nil
	}, pages, errs
}

// testCtx bounds a test's login: a failure, not a speed target, with
// room for a busy machine.
func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// TestLoginWithBrowser walks the flow end to end: the hosted page in the
// "browser", the redirect to the SDK's loopback listener, the code
// exchanged with PKCE and a DPoP proof, the tokens stored bound to the
// device key, and then used and refreshed through the storefront exactly
// as Login's are.
func TestLoginWithBrowser(t *testing.T) {
	t.Parallel()
	e := newCodeEnv(t)
	email := e.newUser(t)
	ctx := testCtx(t)
	c := e.client()
	b := loginpagetest.NewBrowser(nil)
	var authURL string
	open, pages, failed := opener(ctx, func(ctx context.Context, u string) (*loginpagetest.Page, error) {
		authURL = u
		return logIn(ctx, b, u, email)
	})
	user, err := c.LoginWithBrowser(ctx, client.BrowserLogin{Issuer: e.latch.URL, ClientID: e.appID, Open: open})
	if err != nil {
		select {
		case ferr := <-failed:
			t.Fatalf("LoginWithBrowser: %v (the browser: %v)", err, ferr)
		default:
		}
		t.Fatalf("LoginWithBrowser: %v", err)
	}
	page := <-pages
	if page.Status != http.StatusOK || page.URL.Hostname() != "127.0.0.1" || !strings.Contains(string(page.Body), "close this window") {
		t.Errorf("the browser ended on %s (%d): %s", page.URL, page.Status, page.Body)
	}
	if user.Email != email || user.ID == "" {
		t.Errorf("user %+v, want %s", user, email)
	}

	// The authorization request: PKCE S256, state, nonce, the device key.
	q := mustURL(t, authURL).Query()
	for _, k := range []string{"state", "nonce", "code_challenge", "dpop_jkt"} {
		if q.Get(k) == "" {
			t.Errorf("the authorization URL has no %s", k)
		}
	}
	if q.Get("code_challenge_method") != "S256" || !strings.HasPrefix(q.Get("redirect_uri"), "http://127.0.0.1:") {
		t.Errorf("authorization URL %s", authURL)
	}

	// Stored as Login stores: bound to the device key, with a refresh token.
	tok, err := c.Tokens(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !tok.DPoPBound() || tok.DPoPThumbprint() == "" || q.Get("dpop_jkt") != tok.DPoPThumbprint() {
		t.Errorf("JWT bound %v to %q; dpop_jkt %q", tok.DPoPBound(), tok.DPoPThumbprint(), q.Get("dpop_jkt"))
	}
	if claims, _ := tok.Claims(); claims.Confirmation == nil || claims.Confirmation.JKT != tok.DPoPThumbprint() || claims.ApplicationID != e.appID {
		t.Errorf("claims %+v: want cnf.jkt the device key's, for the application", claims)
	}
	if tok.RefreshToken == "" || tok.User == nil || tok.User.Email != email {
		t.Errorf("stored tokens: refresh token %v, user %+v", tok.RefreshToken != "", tok.User)
	}

	// Through the storefront: the cart with the JWT and a proof, then,
	// once the JWT has expired, a refresh by guard at Latch.
	cart := func() {
		t.Helper()
		resp, err := c.HTTP().Get(e.storefront + "/api/cart")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if err := client.CheckResponse(resp); err != nil {
			t.Fatalf("GET /api/cart: %v", err)
		}
	}
	cart()
	e.clock.Advance(time.Hour)
	cart()
	after, err := c.Tokens(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if after.AccessToken == tok.AccessToken || !after.DPoPBound() || after.DPoPThumbprint() != tok.DPoPThumbprint() {
		t.Errorf("after the refresh: new JWT %v, bound %v to the same key %v",
			after.AccessToken != tok.AccessToken, after.DPoPBound(), after.DPoPThumbprint() == tok.DPoPThumbprint())
	}
}

// TestLoginWithBrowser_SSOAndPrompt checks the SSO session through the
// SDK: a second login in the same browser needs no form, prompt=login
// asks for the password again, and prompt=none in a browser without a
// session comes back as login_required.
func TestLoginWithBrowser_SSOAndPrompt(t *testing.T) {
	t.Parallel()
	e := newCodeEnv(t)
	email := e.newUser(t)
	ctx := testCtx(t)
	b := loginpagetest.NewBrowser(nil)
	cfg := client.BrowserLogin{Issuer: e.latch.URL, ClientID: e.appID}

	login := func(cfg client.BrowserLogin, step func(context.Context, string) (*loginpagetest.Page, error)) (*client.Client, *loginpagetest.Page, error) {
		c := e.client()
		open, pages, failed := opener(ctx, step)
		cfg.Open = open
		_, err := c.LoginWithBrowser(ctx, cfg)
		select {
		case p := <-pages:
			return c, p, err
		case ferr := <-failed:
			return c, nil, errors.Join(err, ferr)
		}
	}
	fill := func(ctx context.Context, u string) (*loginpagetest.Page, error) { return logIn(ctx, b, u, email) }
	again := func(ctx context.Context, u string) (*loginpagetest.Page, error) { return follow(ctx, b, u) }

	if _, _, err := login(cfg, fill); err != nil {
		t.Fatalf("first login: %v", err)
	}
	// The browser holds a session at Latch: no form this time.
	c, p, err := login(cfg, again)
	if err != nil || p.URL.Hostname() != "127.0.0.1" {
		t.Fatalf("second login in the same browser: %v (ended on %v)", err, p)
	}
	if _, err := c.Tokens(ctx); err != nil {
		t.Errorf("after the SSO login: %v", err)
	}
	// prompt=login: the form again, whatever the session.
	forced := cfg
	forced.Prompt = "login"
	if _, _, err := login(forced, fill); err != nil {
		t.Errorf("prompt=login: %v", err)
	}
	// prompt=none in a new browser: login_required, and nothing stored.
	none := cfg
	none.Prompt = "none"
	fresh := loginpagetest.NewBrowser(nil)
	c, _, err = login(none, func(ctx context.Context, u string) (*loginpagetest.Page, error) { return follow(ctx, fresh, u) })
	var ae *client.AuthorizationError
	if !errors.As(err, &ae) || ae.Code != "login_required" {
		t.Errorf("prompt=none without a session: %v, want login_required", err)
	}
	if _, err := c.Tokens(ctx); !errors.Is(err, client.ErrLoginRequired) {
		t.Errorf("after login_required, Tokens: %v", err)
	}
}

// TestLoginWithBrowser_ForgedRedirect checks that a request to the
// loopback listener without the login's state (from any local process)
// is refused and does not end the login, which then completes.
func TestLoginWithBrowser_ForgedRedirect(t *testing.T) {
	t.Parallel()
	e := newCodeEnv(t)
	email := e.newUser(t)
	ctx := testCtx(t)
	c := e.client()
	b := loginpagetest.NewBrowser(nil)
	forged := make(chan int, 1)
	open, _, failed := opener(ctx, func(ctx context.Context, u string) (*loginpagetest.Page, error) {
		redirect := mustURL(t, u).Query().Get("redirect_uri")
		resp, err := http.Get(redirect + "?code=forged&state=guessed&iss=" + url.QueryEscape(e.latch.URL))
		if err != nil {
			return nil, err
		}
		resp.Body.Close()
		forged <- resp.StatusCode
		return logIn(ctx, b, u, email)
	})
	user, err := c.LoginWithBrowser(ctx, client.BrowserLogin{Issuer: e.latch.URL, ClientID: e.appID, Open: open})
	if err != nil {
		t.Fatalf("LoginWithBrowser: %v %v", err, failedErr(failed))
	}
	if st := <-forged; st != http.StatusBadRequest {
		t.Errorf("the forged redirect: %d, want 400", st)
	}
	if user.Email != email {
		t.Errorf("user %+v", user)
	}
}

// TestLoginWithBrowser_GivesUp checks that the wait ends with ctx, and
// that the listener is closed then.
func TestLoginWithBrowser_GivesUp(t *testing.T) {
	t.Parallel()
	e := newCodeEnv(t)
	ctx, cancel := context.WithCancel(testCtx(t))
	var redirect string
	_, err := e.client().LoginWithBrowser(ctx, client.BrowserLogin{Issuer: e.latch.URL, ClientID: e.appID, Open: func(u string) error {
		redirect = mustURL(t, u).Query().Get("redirect_uri")
		cancel() // the user never comes back
		return nil
	}})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("LoginWithBrowser: %v, want context.Canceled", err)
	}
	if conn, err := net.DialTimeout("tcp", mustURL(t, redirect).Host, time.Second); err == nil {
		conn.Close()
		t.Errorf("the loopback listener %s is still open", redirect)
	}

	// An opener that fails fails the login, and closes the listener too.
	boom := errors.New("no browser")
	_, err = e.client().LoginWithBrowser(testCtx(t), client.BrowserLogin{Issuer: e.latch.URL, ClientID: e.appID, Open: func(u string) error {
		redirect = mustURL(t, u).Query().Get("redirect_uri")
		return boom
	}})
	if !errors.Is(err, boom) {
		t.Errorf("LoginWithBrowser with a failing Open: %v", err)
	}
	if conn, err := net.DialTimeout("tcp", mustURL(t, redirect).Host, time.Second); err == nil {
		conn.Close()
		t.Errorf("the loopback listener %s is still open", redirect)
	}
}

// TestLoginWithBrowser_Config checks what is refused before anything is
// sent.
func TestLoginWithBrowser_Config(t *testing.T) {
	t.Parallel()
	c := &client.Client{BaseURL: "https://shop.example.com"}
	open := func(string) error { t.Error("Open called"); return nil }
	for _, tc := range []struct {
		name  string
		b     client.BrowserLogin
		field string
		is    error
	}{
		{"no Open", client.BrowserLogin{Issuer: "https://auth.example.com", ClientID: "app"}, "BrowserLogin.Open", client.ErrNotSet},
		{"no ClientID", client.BrowserLogin{Issuer: "https://auth.example.com", Open: open}, "BrowserLogin.ClientID", client.ErrNotSet},
		{"no Issuer", client.BrowserLogin{ClientID: "app", Open: open}, "BrowserLogin.Issuer", client.ErrNotSet},
		{"http Issuer", client.BrowserLogin{Issuer: "http://auth.example.com", ClientID: "app", Open: open}, "BrowserLogin.Issuer", client.ErrInsecureHTTP},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.LoginWithBrowser(t.Context(), tc.b)
			var ce *client.ConfigError
			if !errors.As(err, &ce) || ce.Field != tc.field || !errors.Is(err, tc.is) {
				t.Errorf("LoginWithBrowser: %v, want a ConfigError for %s (%v)", err, tc.field, tc.is)
			}
		})
	}
}

func failedErr(failed <-chan error) error {
	select {
	case err := <-failed:
		return fmt.Errorf("(the browser: %w)", err)
	default:
		return nil
	}
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// TestLoginWithBrowser_DPoPNonce checks the code exchange against a
// Latch that requires a server nonce in DPoP proofs: the first proof is
// answered use_dpop_nonce, and the exchange is sent again, once, with
// the nonce.
func TestLoginWithBrowser_DPoPNonce(t *testing.T) {
	t.Parallel()
	l := latchtest.Start(t, latchtest.Options{Config: server.Config{DPoPNonces: true}})
	app := l.DefaultApplication(t)
	EnableCodeFlow(t, l, app)
	email := fmt.Sprintf("nonce%d@example.org", codeUserSeq.Add(1))
	l.Register(t, app.ID, email)
	ctx := testCtx(t)
	var tokenCalls atomic.Int32
	c := &client.Client{BaseURL: "http://127.0.0.1:1", HTTPClient: &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		if r.URL.Path == "/oauth2/token" {
			tokenCalls.Add(1)
		}
		return http.DefaultTransport.RoundTrip(r)
	})}}
	b := loginpagetest.NewBrowser(nil)
	open, _, failed := opener(ctx, func(ctx context.Context, u string) (*loginpagetest.Page, error) { return logIn(ctx, b, u, email) })
	if _, err := c.LoginWithBrowser(ctx, client.BrowserLogin{Issuer: l.URL, ClientID: app.ID, Open: open}); err != nil {
		t.Fatalf("LoginWithBrowser: %v %v", err, failedErr(failed))
	}
	if n := tokenCalls.Load(); n != 2 {
		t.Errorf("%d token requests, want 2 (the first answered use_dpop_nonce)", n)
	}
	if tok, err := c.Tokens(ctx); err != nil || !tok.DPoPBound() {
		t.Errorf("tokens: bound %v, %v", tok.DPoPBound(), err)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
