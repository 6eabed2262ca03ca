package server_test

import (
	"crypto/tls"
	"encoding/json"
	"io"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/latchid/latch/api"
	"github.com/latchid/latch/internal/httpapi"
	"github.com/latchid/latch/internal/latchtest"
	"github.com/latchid/latch/internal/server"
)

func TestTLS(t *testing.T) {
	t.Parallel()
	certs := t.TempDir()
	certFile, keyFile, pool := latchtest.TLSCert(t, certs)
	l := startLatch(t, t.TempDir(), server.Config{TLSCert: certFile, TLSKey: keyFile})
	if !strings.HasPrefix(l.Server.URL(), "https://") {
		t.Fatalf("URL %s, want https", l.Server.URL())
	}
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	resp, err := c.Get(l.Server.URL() + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.TLS == nil || resp.TLS.Version != tls.VersionTLS13 {
		t.Errorf("TLS state %+v, want TLS 1.3 negotiated", resp.TLS)
	}
	var doc map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	if iss, _ := doc["issuer"].(string); !strings.HasPrefix(iss, "https://") {
		t.Errorf("issuer %q, want an https issuer by default", iss)
	}

	old := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{
		RootCAs: pool, MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS11,
	}}}
	if resp, err := old.Get(l.Server.URL() + "/api/status"); err == nil {
		resp.Body.Close()
		t.Error("a TLS 1.1 client was served")
	}
	plain := &http.Client{Timeout: 10 * time.Second}
	if resp, err := plain.Get("http://" + l.Server.Addr() + "/api/status"); err == nil {
		if resp.StatusCode < 400 {
			t.Errorf("plain HTTP answered %d on the TLS port", resp.StatusCode)
		}
		resp.Body.Close()
	}
}

func TestTLSRefusesHalfAConfiguration(t *testing.T) {
	t.Parallel()
	certFile, _, _ := latchtest.TLSCert(t, t.TempDir())
	if _, _, err := openLatch(t, t.TempDir(), server.Config{TLSCert: certFile}); err == nil || !strings.Contains(err.Error(), "tls") {
		t.Errorf("Open with a certificate and no key: %v, want a tls error", err)
	}
	if _, _, err := openLatch(t, t.TempDir(), server.Config{TLSCert: "/nonexistent.pem", TLSKey: "/nonexistent.key"}); err == nil {
		t.Error("Open with missing certificate files succeeded")
	}
}

func TestRateLimitLogin(t *testing.T) {
	t.Parallel()
	clock := newTestClock()
	l := startLatch(t, t.TempDir(), server.Config{Now: clock.Now, RateLimits: httpapi.RateLimits{Login: 3}})
	app := l.DefaultApplication(t).ID
	l.Register(t, app, "ana@example.org")
	login := func(ip, loginID string) (int, http.Header, []byte) {
		t.Helper()
		body, _ := json.Marshal(api.LoginRequest{LoginID: loginID, Password: testPassword, ApplicationID: app, IPAddress: ip})
		req, _ := http.NewRequest("POST", l.Server.URL()+"/api/login", strings.NewReader(string(body)))
		req.Header.Set("Authorization", l.APIKey)
		req.Header.Set("Content-Type", "application/json")
		resp, err := l.Client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, resp.Header, b
	}
	// The backend vouches (API key) for three end users at three addresses:
	// each has a budget of its own. (Each tries its own unknown login ID,
	// below the lockout's threshold.)
	for _, ip := range []string{"198.51.100.1", "198.51.100.2", "198.51.100.3"} {
		for i := 0; i < 3; i++ {
			if code, _, b := login(ip, "nobody-"+ip+"@example.org"); code != 404 {
				t.Fatalf("login %d from %s: %d %s, want 404", i, ip, code, b)
			}
		}
	}
	code, h, b := login("198.51.100.1", "ana@example.org")
	if code != http.StatusTooManyRequests {
		t.Fatalf("fourth login from one address: %d %s, want 429", code, b)
	}
	if h.Get("Retry-After") != "20" {
		t.Errorf("Retry-After %q, want 20 (3 a minute)", h.Get("Retry-After"))
	}
	var errs api.Errors
	if err := json.Unmarshal(b, &errs); err != nil || len(errs.GeneralErrors) != 1 || errs.GeneralErrors[0].Code != "[RateLimited]" {
		t.Errorf("body %s, want a [RateLimited] general error", b)
	}
	clock.Advance(20 * time.Second)
	if code, _, b := login("198.51.100.1", "ana@example.org"); code != 200 {
		t.Errorf("login after Retry-After: %d %s, want 200", code, b)
	}
}

func TestRateLimitTokenEndpointAndProxies(t *testing.T) {
	t.Parallel()
	clock := newTestClock()
	l := startLatch(t, t.TempDir(), server.Config{
		Now: clock.Now, RateLimits: httpapi.RateLimits{Token: 2},
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("10.0.0.0/8")},
	})
	token := func(forwardedFor string) (int, []byte) {
		t.Helper()
		form := url.Values{"grant_type": {"password"}, "username": {"x"}, "password": {"y"}, "client_id": {"00000000-0000-4000-8000-000000000000"}}
		req, _ := http.NewRequest("POST", l.Server.URL()+"/oauth2/token", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if forwardedFor != "" {
			req.Header.Set("X-Forwarded-For", forwardedFor)
		}
		resp, err := l.Client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&m)
		b, _ := json.Marshal(m)
		return resp.StatusCode, b
	}
	for i := 0; i < 2; i++ {
		if code, b := token("203.0.113.9"); code == http.StatusTooManyRequests {
			t.Fatalf("request %d limited early: %s", i, b)
		}
	}
	code, b := token("203.0.113.9, 10.0.0.1")
	if code != http.StatusTooManyRequests || !strings.Contains(string(b), `"error":"temporarily_unavailable"`) {
		t.Fatalf("third request from one forwarded client: %d %s, want 429 temporarily_unavailable", code, b)
	}
	// The proxy is trusted, so another forwarded client has its own budget.
	if code, b := token("203.0.113.10"); code == http.StatusTooManyRequests {
		t.Errorf("another client behind the trusted proxy was limited: %s", b)
	}
}

// The client writes the left end of X-Forwarded-For: rotating it neither
// escapes the login limit nor puts a false address into the session.
func TestForwardedForSpoofing(t *testing.T) {
	t.Parallel()
	clock := newTestClock()
	l := startLatch(t, t.TempDir(), server.Config{
		Now: clock.Now, RateLimits: httpapi.RateLimits{Login: 2},
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")},
	})
	app := l.DefaultApplication(t).ID
	l.Register(t, app, "ana@example.org")
	login := func(loginID string, forwardedFor ...string) (int, []byte) {
		t.Helper()
		body, _ := json.Marshal(api.LoginRequest{LoginID: loginID, Password: testPassword, ApplicationID: app})
		req, _ := http.NewRequest("POST", l.Server.URL()+"/api/login", strings.NewReader(string(body)))
		req.Header.Set("Authorization", l.APIKey) // no ipAddress: the request's own address counts
		req.Header.Set("Content-Type", "application/json")
		for _, v := range forwardedFor {
			req.Header.Add("X-Forwarded-For", v)
		}
		resp, err := l.Client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}

	// The proxy appends 203.0.113.20 to what the client sent.
	code, b := login("ana@example.org", "198.51.100.66, 203.0.113.20")
	var lr api.LoginResponse
	if err := json.Unmarshal(b, &lr); code != http.StatusOK || err != nil || lr.RefreshTokenID == "" {
		t.Fatalf("login: %d %s", code, b)
	}
	var rt api.RefreshTokenResponse
	l.Do(t, l.APIKey, "GET", "/api/jwt/refresh/"+lr.RefreshTokenID, nil, 200, &rt)
	if got := rt.RefreshToken.MetaData.Device.LastAccessedAddress; got != "203.0.113.20" {
		t.Errorf("session address %q, want 203.0.113.20", got)
	}

	// A client at 203.0.113.9 rotates the leftmost entry, on one line or two.
	if code, b := login("nobody@example.org", "198.51.100.1, 203.0.113.9"); code != http.StatusNotFound {
		t.Fatalf("first login: %d %s, want 404", code, b)
	}
	if code, b := login("nobody@example.org", "198.51.100.2", "203.0.113.9"); code != http.StatusNotFound {
		t.Fatalf("second login: %d %s, want 404", code, b)
	}
	if code, b := login("nobody@example.org", "198.51.100.3, 203.0.113.9"); code != http.StatusTooManyRequests {
		t.Errorf("third login with a rotated leftmost entry: %d %s, want 429", code, b)
	}
}
