package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/latchid/latch/api"
	"github.com/latchid/latch/internal/latchtest"
	"github.com/latchid/latch/internal/loginpage/loginpagetest"
	"github.com/latchid/latch/internal/storefront"
)

func TestRun_LoginBrowserUsage(t *testing.T) {
	d := newDevice(t, newFakeStore(t))
	t.Setenv("MOBILE_CLIENT_ID", "")
	t.Setenv("MOBILE_LATCH_URL", "")
	opened := 0
	openBrowser = func(string) error { opened++; return nil }
	t.Cleanup(func() { openBrowser = systemBrowser })
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"login", "--browser"}, "--client-id"},
		{[]string{"login", "--browser", "--client-id", "app", "--password-stdin"}, "takes no password"},
		{[]string{"login", "--browser", "--client-id", "app", "ana@example.org"}, "no arguments"},
	} {
		r := d.run(tc.args...)
		if r.code != exitUsage || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("mobile %s: exit %d, stderr %q; want %d and %q", strings.Join(tc.args, " "), r.code, r.stderr, exitUsage, tc.want)
		}
	}
	if opened != 0 {
		t.Errorf("a usage error opened the browser %d times", opened)
	}
}

// TestRun_LoginBrowser logs in with login --browser against a real Latch
// and storefront, the "browser" being net/http with a cookie jar that
// fills the hosted form, and then uses the session through the
// storefront as after a password login.
func TestRun_LoginBrowser(t *testing.T) {
	l := latchtest.Start(t, latchtest.Options{})
	app := l.DefaultApplication(t)
	o := &app.OAuthConfiguration
	o.AuthorizedRedirectURLs = []string{"http://127.0.0.1/callback"}
	o.EnabledGrants = []string{"authorization_code", "refresh_token"}
	o.ClientAuthenticationPolicy = "NotRequired"
	o.RequireClientAuthentication = false
	o.ClientSecret = ""
	l.Do(t, l.APIKey, "PUT", "/api/application/"+app.ID, api.ApplicationRequest{Application: app}, http.StatusOK, nil)
	email := "browser@example.org"
	l.Register(t, app.ID, email)
	sf, err := storefront.Open(context.Background(), storefront.Config{
		Addr: "127.0.0.1:0", LatchURL: l.URL, ApplicationID: app.ID, APIKey: l.APIKey,
		DataDir: t.TempDir(), Logger: new(latchtest.LogBuffer).Logger(),
	})
	if err != nil {
		t.Fatalf("storefront.Open: %v", err)
	}
	served := make(chan error, 1)
	go func() { served <- sf.Serve() }()
	t.Cleanup(func() { sf.Close(); <-served })

	for _, k := range []string{"MOBILE_BACKEND", "MOBILE_STATE_DIR", "MOBILE_PASSWORD", "MOBILE_LOGIN_ID"} {
		t.Setenv(k, "")
	}
	t.Setenv("MOBILE_CLIENT_ID", app.ID)
	t.Setenv("MOBILE_LATCH_URL", l.URL)
	state := t.TempDir()
	browser := loginpagetest.NewBrowser(nil)
	var opened []string
	browserDone := make(chan error, 1)
	openBrowser = func(u string) error {
		opened = append(opened, u)
		go func() {
			// The user logs in on the page the app opened, and the
			// browser follows the redirect to the app's listener.
			loc, _, err := browser.Authorize(context.Background(), u, email, latchtest.Password)
			if err == nil {
				var p *loginpagetest.Page
				if p, err = browser.Get(context.Background(), loc.String()); err == nil && p.Status != http.StatusOK {
					err = fmt.Errorf("the app's listener answered %d: %s", p.Status, p.Body)
				}
			}
			browserDone <- err
		}()
		return nil
	}
	t.Cleanup(func() { openBrowser = systemBrowser })
	mobile := func(args ...string) result {
		var stdout, stderr bytes.Buffer
		all := append([]string{"--backend", sf.URL(), "--state", state}, args...)
		code := run(context.Background(), all, strings.NewReader(""), &stdout, &stderr)
		return result{code, stdout.String(), stderr.String()}
	}

	r := mobile("login", "--browser", "--json")
	if r.code != exitOK {
		t.Fatalf("login --browser: exit %d\nstdout: %s\nstderr: %s\nbrowser: %v", r.code, r.stdout, r.stderr, <-browserDone)
	}
	if err := <-browserDone; err != nil {
		t.Errorf("the browser: %v", err)
	}
	if len(opened) != 1 || !strings.HasPrefix(opened[0], l.URL+"/oauth2/authorize?") || !strings.Contains(r.stderr, opened[0]) {
		t.Errorf("opened %q; stderr %q: want the authorization URL opened and printed", opened, r.stderr)
	}
	out := decode[loginJSON](t, r.stdout)
	if out.User.Email != email || !out.RefreshToken || out.JWTExpiresAt.IsZero() {
		t.Errorf("login --browser --json: %+v", out)
	}
	if strings.Contains(r.stdout+r.stderr, latchtest.Password) {
		t.Errorf("the password was printed")
	}

	// The session works through the storefront, as after a password login.
	if r := mobile("add", "latch-mug", "2", "--json"); r.code != exitOK {
		t.Fatalf("add: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	s := decode[Session](t, mobile("tokens", "--json").stdout)
	if !s.LoggedIn || s.User != email {
		t.Errorf("tokens: %+v", s)
	}
	if r := mobile("logout"); r.code != exitOK {
		t.Errorf("logout: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

// TestRun_LoginBrowserGivesUp checks that login --browser stops waiting
// for a browser that never comes back, saying so, and stores nothing.
func TestRun_LoginBrowserGivesUp(t *testing.T) {
	l := latchtest.Start(t, latchtest.Options{})
	d := newDevice(t, newFakeStore(t))
	t.Setenv("MOBILE_CLIENT_ID", l.DefaultApplication(t).ID)
	t.Setenv("MOBILE_LATCH_URL", l.URL)
	openBrowser = func(string) error { return errors.New("no display") }
	wait := browserWait
	browserWait = 200 * time.Millisecond
	t.Cleanup(func() { openBrowser, browserWait = systemBrowser, wait })

	r := d.run("login", "--browser")
	if r.code != exitFailure || !strings.Contains(r.stderr, "no login in the browser within 200ms") {
		t.Errorf("login --browser with no browser: exit %d, stderr %q", r.code, r.stderr)
	}
	if !strings.Contains(r.stderr, "no browser started: no display") || !strings.Contains(r.stderr, l.URL+"/oauth2/authorize?") {
		t.Errorf("stderr %q: want the URL and why no browser started", r.stderr)
	}
	d.mustRun(exitLoginRequired, "tokens")
}
