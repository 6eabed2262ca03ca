package browser_test

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/latchid/latch/api"
	"github.com/latchid/latch/client"
	"github.com/latchid/latch/internal/latchtest"
	"github.com/latchid/latch/internal/totp"
)

// redirectURL is the loopback redirect URI the tests register: any port
// matches it (RFC 8252 §7.3).
const redirectURL = "http://127.0.0.1/callback"

// tabTimeout bounds each test's browser actions: a failure, not a
// speed target, with room for a busy machine.
const tabTimeout = 2 * time.Minute

// codeLatch starts a Latch whose application Default may use the code
// flow as a public client with the loopback redirect URL, and registers
// a user for it; it returns the Latch, the application's id and the
// user's email.
func codeLatch(t *testing.T) (*latchtest.Latch, string, string) {
	t.Helper()
	l := latchtest.Start(t, latchtest.Options{})
	app := l.DefaultApplication(t)
	o := &app.OAuthConfiguration
	o.AuthorizedRedirectURLs = []string{redirectURL}
	o.EnabledGrants = []string{"authorization_code", "refresh_token"}
	o.ClientAuthenticationPolicy = "NotRequired"
	o.RequireClientAuthentication = false
	o.ClientSecret = ""
	l.Do(t, l.APIKey, "PUT", "/api/application/"+app.ID, api.ApplicationRequest{Application: app}, http.StatusOK, nil)
	email := "ana@example.org"
	l.Register(t, app.ID, email)
	return l, app.ID, email
}

// logInWithKeyboard plays the user on the hosted login page in the tab:
// it opens authURL, keeps a screenshot of the page, focuses the labelled
// fields and types into them, submits with Enter, and waits for the
// browser to reach the loopback redirect URI; it returns the text of the
// page there. With a code, it expects the page that asks for the second
// factor after the password, and types the code there.
func logInWithKeyboard(t *testing.T, ctx context.Context, authURL, email, code, screenshotName string) (string, error) {
	if err := chromedp.Do(ctx,
		chromedp.Navigate(authURL),
		chromedp.WaitVisible(labelledInput("password")),
	); err != nil {
		return "", fmt.Errorf("the login page: %w", err)
	}
	screenshot(t, ctx, screenshotName)
	if err := chromedp.Do(ctx,
		chromedp.Focus(labelledInput("email")),
		chromedp.KeyEvent(email),
		chromedp.Focus(labelledInput("password")),
		chromedp.KeyEvent(latchtest.Password),
		chromedp.KeyEvent(kb.Enter),
	); err != nil {
		return "", fmt.Errorf("fill and submit the form: %w", err)
	}
	if code != "" {
		if err := chromedp.Do(ctx, chromedp.WaitVisible(labelledInput("authentication code"))); err != nil {
			return "", fmt.Errorf("the second factor's page: %w", err)
		}
		screenshot(t, ctx, "code-"+screenshotName)
		if err := chromedp.Do(ctx,
			chromedp.Focus(labelledInput("authentication code")),
			chromedp.KeyEvent(code),
			chromedp.KeyEvent(kb.Enter),
		); err != nil {
			return "", fmt.Errorf("type the code: %w", err)
		}
	}
	redirect := mustParse(t, authURL).Query().Get("redirect_uri")
	for {
		loc, err := chromedp.Run(ctx, chromedp.Location())
		if err != nil {
			return "", fmt.Errorf("waiting for the redirect: %w", err)
		}
		if strings.Contains(loc, latchtest.Password) {
			return "", fmt.Errorf("the password is in the URL %s", loc)
		}
		if strings.HasPrefix(loc, redirect) {
			break
		}
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("the browser stayed on %s", loc)
		case <-time.After(50 * time.Millisecond):
		}
	}
	return chromedp.Run(ctx, chromedp.Text(chromedp.CSS("body")))
}

// loginInBrowser runs the client SDK's LoginWithBrowser with the tab as
// the system browser, and checks that the tokens it stores are bound to
// the device key.
func loginInBrowser(t *testing.T, tab context.Context, l *latchtest.Latch, appID, email, code, screenshotName string) {
	t.Helper()
	c := &client.Client{BaseURL: "http://127.0.0.1:1"} // the backend is not used here
	type result struct {
		text string
		err  error
	}
	browser := make(chan result, 1)
	user, err := c.LoginWithBrowser(tab, client.BrowserLogin{Issuer: l.URL, ClientID: appID, Open: func(u string) error {
		go func() {
			text, err := logInWithKeyboard(t, tab, u, email, code, screenshotName)
			browser <- result{text, err}
		}()
		return nil
	}})
	var b result
	select {
	case b = <-browser:
	case <-tab.Done():
		b.err = tab.Err()
	}
	if err != nil || b.err != nil {
		t.Fatalf("LoginWithBrowser: %v; the browser: %v", err, b.err)
	}
	if !strings.Contains(b.text, "close this window") {
		t.Errorf("the browser ended on %q", b.text)
	}
	if user.Email != email {
		t.Errorf("user %+v, want %s", user, email)
	}
	tok, err := c.Tokens(tab)
	if err != nil {
		t.Fatal(err)
	}
	if !tok.DPoPBound() || tok.RefreshToken == "" {
		t.Errorf("tokens: DPoP-bound %v, refresh token %v; want both", tok.DPoPBound(), tok.RefreshToken != "")
	}
}

// TestHostedLogin logs in on the hosted page in Chromium, with the
// keyboard, through the client SDK's loopback redirect.
func TestHostedLogin(t *testing.T) {
	t.Parallel()
	tab := newTab(t, tabTimeout)
	if run, err := scriptsRun(t, tab); err != nil || !run {
		t.Fatalf("scripts do not run in a new tab: %v, %v", run, err)
	}
	l, appID, email := codeLatch(t)
	loginInBrowser(t, tab, l, appID, email, "", "login-page.png")
}

// TestHostedLogin_NoJavaScript checks that the page works with
// JavaScript off.
func TestHostedLogin_NoJavaScript(t *testing.T) {
	t.Parallel()
	tab := newTab(t, tabTimeout)
	disableScripts(t, tab)
	if run, err := scriptsRun(t, tab); err != nil || run {
		t.Fatalf("scripts run in the tab: %v, %v", run, err)
	}
	l, appID, email := codeLatch(t)
	loginInBrowser(t, tab, l, appID, email, "", "login-page-no-javascript.png")
}

// TestHostedLogin_SecondFactor logs in as a user with an authenticator:
// after the password the page asks for the code, which the user types
// (here one of the recovery codes, which stays valid however long the
// test takes).
func TestHostedLogin_SecondFactor(t *testing.T) {
	t.Parallel()
	tab := newTab(t, tabTimeout)
	l, appID, email := codeLatch(t)
	var user api.UserResponse
	l.Do(t, l.APIKey, "GET", "/api/user?email="+url.QueryEscape(email), nil, http.StatusOK, &user)
	var sec api.SecretResponse
	l.Do(t, l.APIKey, "GET", "/api/two-factor/secret?loginId="+url.QueryEscape(email), nil, http.StatusOK, &sec)
	secret, err := totp.ParseBase32(sec.SecretBase32Encoded)
	if err != nil {
		t.Fatal(err)
	}
	code, err := totp.Code(secret, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	var enabled api.TwoFactorResponse
	l.Do(t, l.APIKey, "POST", "/api/user/two-factor/"+user.User.ID, map[string]any{
		"method": "authenticator", "code": code, "secretBase32Encoded": sec.SecretBase32Encoded,
	}, http.StatusOK, &enabled)
	if len(enabled.RecoveryCodes) == 0 {
		t.Fatal("no recovery codes")
	}
	loginInBrowser(t, tab, l, appID, email, enabled.RecoveryCodes[0], "login-page-two-factor.png")
}

// TestHostedLogin_Framed checks that a page of another origin cannot
// frame the login page (clickjacking): the frame stays empty, while a
// page that allows framing, beside it, shows its form.
func TestHostedLogin_Framed(t *testing.T) {
	t.Parallel()
	tab := newTab(t, tabTimeout)
	l, appID, _ := codeLatch(t)
	login := authorizeURL(t, l, appID)

	// The URL does show the login form, in a tab of its own.
	if err := chromedp.Do(tab, chromedp.Navigate(login), chromedp.WaitVisible(labelledInput("password"))); err != nil {
		t.Fatalf("the login page on its own: %v", err)
	}

	control := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, `<!doctype html><title>control</title><form><label for=p>Password</label><input id=p type=password></form>`)
	}))
	t.Cleanup(control.Close)
	attacker := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><title>attacker</title><iframe id=control src="%s"></iframe><iframe id=login src="%s"></iframe>`,
			html.EscapeString(control.URL), html.EscapeString(login))
	}))
	t.Cleanup(attacker.Close)
	if err := chromedp.Do(tab, chromedp.Navigate(attacker.URL)); err != nil {
		t.Fatal(err)
	}
	// Navigate returns after the load event, which waits for the frames.
	inputs, err := framedInputs(tab)
	if err != nil {
		t.Fatal(err)
	}
	screenshot(t, tab, "framed.png")
	if got := strings.Join(inputs["control"], ","); got != "password" {
		t.Fatalf("the control frame holds inputs %q, want a password field: the check cannot see into frames", got)
	}
	if got := inputs["login"]; len(got) != 0 {
		t.Errorf("the framed login page rendered its form (inputs %q)", got)
	}
}

// authorizeURL is an authorization request for appID with PKCE and the
// loopback redirect URI (at a port nobody listens on).
func authorizeURL(t *testing.T, l *latchtest.Latch, appID string) string {
	t.Helper()
	verifier := rand.Text() + rand.Text()
	sum := sha256.Sum256([]byte(verifier))
	q := url.Values{
		"response_type":         {"code"},
		"client_id":             {appID},
		"redirect_uri":          {"http://127.0.0.1:9/callback"},
		"scope":                 {"openid offline_access"},
		"state":                 {rand.Text()},
		"code_challenge":        {base64.RawURLEncoding.EncodeToString(sum[:])},
		"code_challenge_method": {"S256"},
	}
	return l.URL + "/oauth2/authorize?" + q.Encode()
}

func mustParse(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
