package mobile

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/latchid/latch/api"
	"github.com/latchid/latch/client"
	"github.com/latchid/latch/internal/latchtest"
	"github.com/latchid/latch/internal/storefront"
)

// The Session against the real thing: a Latch and the storefront (the
// article's backend, built on guard) in this process, talking HTTP on
// loopback, sharing a fake clock with the Session's client.

const (
	// jwtTTL is the lifetime of the JWTs of Latch's default tenant.
	jwtTTL = 15 * time.Minute
	// afterExpiry moves a clock past a JWT's expiry, guard's leeway and
	// guard's reuse window of refreshes.
	afterExpiry = jwtTTL + 2*time.Minute

	refreshCall = "POST /api/jwt/refresh"
)

// env is a Latch and a storefront for its application Default.
type env struct {
	clock *latchtest.Clock
	latch *latchtest.Latch
	appID string
	rt    *latchtest.Counter // the storefront's calls to Latch
	url   string             // the storefront's
}

func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{clock: latchtest.NewClock(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)), rt: &latchtest.Counter{}}
	e.latch = latchtest.Start(t, latchtest.Options{Clock: e.clock})
	e.appID = e.latch.DefaultApplication(t).ID
	logs := &latchtest.LogBuffer{}
	sf, err := storefront.Open(context.Background(), storefront.Config{
		Addr:          "127.0.0.1:0",
		LatchURL:      e.latch.URL,
		ApplicationID: e.appID,
		APIKey:        e.latch.APIKey,
		DataDir:       t.TempDir(),
		HTTPClient:    &http.Client{Transport: e.rt, Timeout: 30 * time.Second},
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
		if strings.Contains(logs.String(), latchtest.Password) {
			t.Errorf("the storefront logged the password")
		}
		if t.Failed() {
			t.Logf("storefront log:\n%s", logs)
		}
	})
	e.url = sf.URL()
	return e
}

var userSeq atomic.Int64

// newUser registers a user for the application with roles and returns
// the email and the id.
func (e *env) newUser(t *testing.T, roles ...string) (email, id string) {
	t.Helper()
	email = fmt.Sprintf("phone%d@example.org", userSeq.Add(1))
	return email, e.latch.Register(t, e.appID, email, roles...)
}

// session makes a Session with the storefront, its tokens in dir, on the
// shared clock.
func (e *env) session(t *testing.T, dir string) (*Session, *handler) {
	t.Helper()
	s, err := newSession(config{baseURL: e.url, dir: dir, now: e.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	h := new(handler)
	s.SetLoginRequiredHandler(h)
	return s, h
}

// handler is a LoginRequiredHandler that counts its calls, as an app's
// Kotlin or Swift object would show the login form.
type handler struct{ n atomic.Int32 }

func (h *handler) LoginRequired() { h.n.Add(1) }

// do calls s.Do and insists on an answer.
func do(t *testing.T, s *Session, method, path string, body any) *Response {
	t.Helper()
	var b []byte
	var ct string
	if body != nil {
		var err error
		if b, err = json.Marshal(body); err != nil {
			t.Fatal(err)
		}
		ct = "application/json"
	}
	res, err := s.Do(method, path, b, ct)
	if err != nil {
		t.Fatalf("Do %s %s: %v", method, path, err)
	}
	return res
}

// cart reads the cart through s and insists on 200.
func cart(t *testing.T, s *Session) storefront.Cart {
	t.Helper()
	res := do(t, s, "GET", "/api/cart", nil)
	if err := res.Check(); err != nil {
		t.Fatalf("GET /api/cart: %v", err)
	}
	if ct := res.Header("content-type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
	var c storefront.Cart
	if err := json.Unmarshal(res.Body(), &c); err != nil {
		t.Fatalf("cart %q: %v", res.Text(), err)
	}
	return c
}

// tokens returns what the Session's client holds.
func tokens(t *testing.T, s *Session) client.Tokens {
	t.Helper()
	tok, err := s.c.Tokens(context.Background())
	if err != nil {
		t.Fatalf("Tokens: %v", err)
	}
	return tok
}

// The article's walk through the Session: login, the cart with the JWT
// and a DPoP proof, a refresh once the JWT has expired, logout.
func TestSession_Walk(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	email, id := e.newUser(t)
	s, h := e.session(t, t.TempDir())
	if s.LoggedIn() {
		t.Fatal("LoggedIn before Login")
	}

	u, err := s.Login(email, latchtest.Password)
	if err != nil {
		t.Fatalf("Login: %v", err)
	}
	if u.ID != id || u.Email != email || u.Username != "" {
		t.Errorf("user %q %q %q, want %q %q", u.ID, u.Email, u.Username, id, email)
	}
	if !s.LoggedIn() {
		t.Error("not LoggedIn after Login")
	}
	first := tokens(t, s)
	if !first.DPoPBound() {
		t.Error("the JWT is not bound to the device key")
	}

	// The cart, with the JWT and a proof; nothing to refresh.
	e.rt.Reset()
	if c := cart(t, s); len(c.Items) != 0 {
		t.Errorf("new cart %+v", c)
	}
	res := do(t, s, "POST", "/api/cart/items", storefront.AddItemRequest{SKU: "latch-mug", Quantity: 2})
	if res.Status() != http.StatusOK {
		t.Fatalf("add: %d %s", res.Status(), res.Text())
	}
	if n := e.rt.N(refreshCall); n != 0 {
		t.Errorf("%d refreshes with a fresh JWT", n)
	}

	// The JWT expires: the next request refreshes it, and the cart is there.
	e.clock.Advance(afterExpiry)
	if c := cart(t, s); len(c.Items) != 1 || c.Items[0].SKU != "latch-mug" || c.Items[0].Quantity != 2 {
		t.Errorf("cart after the refresh %+v", c)
	}
	if n := e.rt.N(refreshCall); n != 1 {
		t.Errorf("%d refreshes, want 1", n)
	}
	second := tokens(t, s)
	if second.AccessToken == first.AccessToken || !second.DPoPBound() {
		t.Errorf("the Session kept the expired JWT, or the new one is unbound")
	}
	if u, err := s.User(); err != nil || u.ID != id {
		t.Errorf("User after the refresh: %+v, %v", u, err)
	}

	// Logout: the session ends here and at Latch; the JWT no longer works.
	if err := s.Logout(false); err != nil {
		t.Fatalf("Logout: %v", err)
	}
	if s.LoggedIn() {
		t.Error("LoggedIn after Logout")
	}
	if _, err := s.User(); !IsLoginRequired(err) {
		t.Errorf("User after Logout: %v, want login required", err)
	}
	res = do(t, s, "GET", "/api/cart", nil)
	err = res.Check()
	if res.Status() != http.StatusUnauthorized || StatusOf(err) != http.StatusUnauthorized || CodeOf(err) != "invalid_token" {
		t.Errorf("cart after Logout: %d %s, Check %v", res.Status(), res.Text(), err)
	}
	if n := h.n.Load(); n != 0 {
		t.Errorf("LoginRequired called %d times after the user's own Logout", n)
	}
	// Logging out again is no error.
	if err := s.Logout(false); err != nil {
		t.Errorf("second Logout: %v", err)
	}
}

// The roles come from the JWT of the backend's application.
func TestSession_Roles(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, name := range []string{"admin", "shopper", "support"} {
		e.latch.Do(t, e.latch.APIKey, "POST", "/api/application/"+e.appID+"/role",
			map[string]any{"role": map[string]any{"name": name}}, http.StatusOK, nil)
	}
	email, _ := e.newUser(t, "shopper", "support")
	s, _ := e.session(t, t.TempDir())
	u, err := s.Login(email, latchtest.Password)
	if err != nil {
		t.Fatalf("Login: %v", err)
	}
	var got []string
	for i := range u.RoleCount() {
		got = append(got, u.Role(i))
	}
	if strings.Join(got, ",") != "shopper,support" {
		t.Errorf("roles %q, want shopper, support", got)
	}
	for role, want := range map[string]bool{"shopper": true, "support": true, "admin": false, "": false} {
		if u.HasRole(role) != want {
			t.Errorf("HasRole(%q) = %v", role, !want)
		}
	}
	for _, i := range []int{-1, u.RoleCount(), 1 << 30} {
		if r := u.Role(i); r != "" {
			t.Errorf("Role(%d) = %q, want \"\"", i, r)
		}
	}
}

// Refused logins are errors that carry the backend's status, code and
// message, and leave no session.
func TestSession_LoginRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	email, _ := e.newUser(t)
	s, _ := e.session(t, t.TempDir())
	for _, tc := range []struct {
		name, login, password string
		status                int
		code                  string
	}{
		{"WrongPassword", email, "not the password at all", http.StatusUnauthorized, storefront.CodeInvalidCredentials},
		{"UnknownUser", "nobody@example.org", latchtest.Password, http.StatusUnauthorized, storefront.CodeInvalidCredentials},
		{"NoPassword", email, "", http.StatusBadRequest, storefront.CodeInvalidRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u, err := s.Login(tc.login, tc.password)
			if err == nil {
				t.Fatalf("Login succeeded: %+v", u)
			}
			if StatusOf(err) != tc.status || CodeOf(err) != tc.code || MessageOf(err) == "" {
				t.Errorf("StatusOf %d, CodeOf %q, MessageOf %q; want %d %q and a message (err %v)", StatusOf(err), CodeOf(err), MessageOf(err), tc.status, tc.code, err)
			}
			if IsLoginRequired(err) {
				t.Errorf("IsLoginRequired(%v)", err)
			}
			if strings.Contains(err.Error(), latchtest.Password) || (tc.password != "" && strings.Contains(err.Error(), tc.password)) {
				t.Errorf("the error shows the password: %v", err)
			}
			if s.LoggedIn() {
				t.Error("LoggedIn after a refused Login")
			}
		})
	}
}

// When the backend ends the session elsewhere, the next request that
// needs a refresh finds out: 401, the handler is told once, the Session
// holds no session. Then the user logs in again.
func TestSession_EndedElsewhere(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		end  func(t *testing.T, e *env, email, id string)
	}{
		{"GlobalLogoutOnAnotherDevice", func(t *testing.T, e *env, email, _ string) {
			other, _ := e.session(t, t.TempDir())
			if _, err := other.Login(email, latchtest.Password); err != nil {
				t.Fatalf("Login on the other device: %v", err)
			}
			if err := other.Logout(true); err != nil {
				t.Fatalf("global Logout: %v", err)
			}
		}},
		{"RevokedAtLatch", func(t *testing.T, e *env, _, id string) {
			e.latch.Do(t, e.latch.APIKey, "DELETE", "/api/jwt/refresh?userId="+id, nil, http.StatusOK, nil)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			email, id := e.newUser(t)
			s, h := e.session(t, t.TempDir())
			if _, err := s.Login(email, latchtest.Password); err != nil {
				t.Fatalf("Login: %v", err)
			}
			cart(t, s)

			tc.end(t, e, email, id)
			e.clock.Advance(afterExpiry)
			res := do(t, s, "GET", "/api/cart", nil)
			if res.Status() != http.StatusUnauthorized || res.Header("WWW-Authenticate") == "" {
				t.Errorf("cart: %d %s, want 401 with WWW-Authenticate", res.Status(), res.Text())
			}
			if n := h.n.Load(); n != 1 {
				t.Errorf("LoginRequired called %d times, want 1", n)
			}
			if s.LoggedIn() {
				t.Error("LoggedIn after the backend ended the session")
			}
			if _, err := s.User(); !IsLoginRequired(err) {
				t.Errorf("User: %v, want login required", err)
			}
			// More requests: no session to end, the handler is not told again.
			do(t, s, "GET", "/api/cart", nil)
			if n := h.n.Load(); n != 1 {
				t.Errorf("LoginRequired called %d times after a second request, want 1", n)
			}

			if _, err := s.Login(email, latchtest.Password); err != nil {
				t.Fatalf("Login again: %v", err)
			}
			cart(t, s)
		})
	}
}

// A Session made later with the same directory, as the app after a
// restart, picks the session up; one for another backend does not.
func TestSession_Persists(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	email, id := e.newUser(t)
	dir := filepath.Join(t.TempDir(), "latch") // NewSession creates it
	s, _ := e.session(t, dir)
	if _, err := s.Login(email, latchtest.Password); err != nil {
		t.Fatalf("Login: %v", err)
	}
	do(t, s, "POST", "/api/cart/items", storefront.AddItemRequest{SKU: "latch-cap", Quantity: 1})
	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("directory: %v, %v; want mode 0700", fi, err)
	}

	restarted, _ := e.session(t, dir)
	if !restarted.LoggedIn() {
		t.Fatal("the restarted Session is not logged in")
	}
	if u, err := restarted.User(); err != nil || u.ID != id || u.Email != email {
		t.Errorf("User: %+v, %v", u, err)
	}
	if c := cart(t, restarted); len(c.Items) != 1 {
		t.Errorf("cart %+v", c)
	}
	if tokens(t, restarted).DPoPThumbprint() != tokens(t, s).DPoPThumbprint() {
		t.Error("the restarted Session has another device key")
	}

	other, err := NewSession("https://shop.example.com", dir, false)
	if err != nil {
		t.Fatal(err)
	}
	if other.LoggedIn() {
		t.Error("a Session with another backend found this one's session")
	}
}

// Parallel requests with an expired JWT cost one refresh, under the
// one-time-use policy where a second one would revoke the session.
func TestSession_ConcurrentRefresh(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.latch.Do(t, e.latch.APIKey, "PATCH", "/api/application/"+e.appID, map[string]any{"application": map[string]any{
		"jwtConfiguration": map[string]any{"enabled": true, "refreshTokenUsagePolicy": api.RefreshOneTimeUse},
	}}, http.StatusOK, nil)
	email, _ := e.newUser(t)
	s, h := e.session(t, t.TempDir())
	if _, err := s.Login(email, latchtest.Password); err != nil {
		t.Fatalf("Login: %v", err)
	}
	e.clock.Advance(afterExpiry)
	e.rt.Reset()
	e.rt.SetRefreshDelay(50 * time.Millisecond)

	var wg sync.WaitGroup
	for range 6 {
		wg.Go(func() {
			res, err := s.Do("GET", "/api/cart", nil, "")
			if err != nil {
				t.Errorf("Do: %v", err)
			} else if err := res.Check(); err != nil {
				t.Errorf("cart: %v", err)
			}
		})
	}
	wg.Wait()
	if n := e.rt.N(refreshCall); n != 1 {
		t.Errorf("%d refreshes, want 1", n)
	}
	if n := h.n.Load(); n != 0 {
		t.Errorf("LoginRequired called %d times", n)
	}
}

// SetTimeoutMillis bounds each call; zero lifts the bound.
func TestSession_Timeout(t *testing.T) {
	t.Parallel()
	const delay = 300 * time.Millisecond
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body) // so that the server notices a client gone
		select {
		case <-r.Context().Done():
		case <-time.After(delay):
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte(`{"ok":true}`))
		}
	}))
	t.Cleanup(srv.Close)
	s, err := newSession(config{baseURL: srv.URL, dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		ms      int
		timeout bool
	}{
		{50, true},
		{0, false},
		{-1, false},
		{int((10 * delay).Milliseconds()), false},
	} {
		s.SetTimeoutMillis(tc.ms)
		start := time.Now()
		res, err := s.Do("GET", "/slow", nil, "")
		switch {
		case tc.timeout && (!errors.Is(err, context.DeadlineExceeded) || StatusOf(err) != 0):
			t.Errorf("timeout %d ms: Do = %v, want a deadline error without a status", tc.ms, err)
		case tc.timeout && time.Since(start) >= delay:
			t.Errorf("timeout %d ms: Do took %v", tc.ms, time.Since(start))
		case !tc.timeout && (err != nil || res.Status() != http.StatusOK || res.Text() != `{"ok":true}`):
			t.Errorf("timeout %d ms: Do = %+v, %v; want the answer", tc.ms, res, err)
		}
	}
	s.SetTimeoutMillis(50)
	if _, err := s.Login("ana@example.org", "password"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Login: %v, want a deadline error", err)
	}
}

func TestNewSession_Refused(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, tc := range []struct {
		name, baseURL, dir string
		insecure           bool
		is                 error // nil: any error
	}{
		{"NoBaseURL", "", dir, false, client.ErrNotSet},
		{"NoDir", "https://shop.example.com", "", false, nil},
		{"InsecureHTTP", "http://shop.example.com", dir, false, client.ErrInsecureHTTP},
		{"NotHTTP", "ftp://shop.example.com", dir, false, nil},
		{"Query", "https://shop.example.com/?a=b", dir, false, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := NewSession(tc.baseURL, tc.dir, tc.insecure)
			if err == nil || (tc.is != nil && !errors.Is(err, tc.is)) {
				t.Errorf("NewSession(%q, %q, %v) = %v, %v; want an error (%v)", tc.baseURL, tc.dir, tc.insecure, s, err, tc.is)
			}
		})
	}
	for _, base := range []string{"http://shop.example.com", "https://shop.example.com/", "http://127.0.0.1:8080", "http://localhost"} {
		if _, err := NewSession(base, dir, strings.Contains(base, "shop")); err != nil {
			t.Errorf("NewSession(%q): %v", base, err)
		}
	}
}

// Do takes paths only, so that a request never leaves the backend.
func TestSession_DoPath(t *testing.T) {
	t.Parallel()
	s, err := NewSession("https://shop.example.com", t.TempDir(), false)
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"", "api/cart", "https://evil.example/api/cart", "?x=1"} {
		if res, err := s.Do("GET", path, nil, ""); err == nil {
			t.Errorf("Do(%q) = %+v, want an error", path, res)
		}
	}
	if _, err := s.Do("BAD METHOD", "/api/cart", nil, ""); err == nil {
		t.Error("Do with a bad method succeeded")
	}
}

// What Java, Kotlin or Swift can make without NewSession (a no-argument
// constructor), and nil, fail or answer zero values without panicking:
// a panic would end the app.
func TestZeroValues(t *testing.T) {
	t.Parallel()
	for name, s := range map[string]*Session{"Zero": {}, "Nil": nil} {
		t.Run(name, func(t *testing.T) {
			s.SetTimeoutMillis(10)
			s.SetLoginRequiredHandler(nil)
			if s.LoggedIn() {
				t.Error("LoggedIn")
			}
			if _, err := s.Login("a", "b"); err == nil {
				t.Error("Login succeeded")
			}
			if _, err := s.User(); err == nil {
				t.Error("User succeeded")
			}
			if _, err := s.Do("GET", "/", nil, ""); err == nil {
				t.Error("Do succeeded")
			}
			if err := s.Logout(true); err == nil {
				t.Error("Logout succeeded")
			}
		})
	}
	for name, u := range map[string]*User{"Zero": {}, "Nil": nil} {
		if u.RoleCount() != 0 || u.Role(0) != "" || u.HasRole("") {
			t.Errorf("%s User has roles", name)
		}
	}
	for name, r := range map[string]*Response{"Zero": {}, "Nil": nil} {
		if r.Status() != 0 || r.Body() != nil || r.Text() != "" || r.Header("X") != "" {
			t.Errorf("%s Response is not empty", name)
		}
		if err := r.Check(); err == nil || StatusOf(err) != 0 {
			t.Errorf("%s Response: Check() = %v", name, err)
		}
	}
	for _, err := range []error{nil, errors.New("x"), client.ErrLoginRequired} {
		if StatusOf(err) != 0 || CodeOf(err) != "" || MessageOf(err) != "" {
			t.Errorf("%v reads as a backend answer", err)
		}
	}
	if IsLoginRequired(nil) || !IsLoginRequired(fmt.Errorf("x: %w", client.ErrLoginRequired)) {
		t.Error("IsLoginRequired")
	}
}
