package storefront_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/latchid/latch/api"
	"github.com/latchid/latch/client"
	"github.com/latchid/latch/internal/latchtest"
	"github.com/latchid/latch/internal/storefront"
)

// The app's side, through the client SDK: login, the cart, a refresh the
// SDK adopts, logout, and the end of a session that Latch revoked.
func TestClientSDK(t *testing.T) {
	e := newEnv(t)
	e.oneTimeUse(t)
	email, id := e.newUser(t)
	ctx := context.Background()
	var loginRequired atomic.Int32
	c := &client.Client{
		BaseURL:         e.url,
		Now:             e.clock.Now,
		OnLoginRequired: func() { loginRequired.Add(1) },
	}

	// Bad credentials and the lockout reach the app as *client.APIError.
	_, err := c.Login(ctx, email, "wrong "+testPassword)
	var apiErr *client.APIError
	if !errors.As(err, &apiErr) || apiErr.Status != http.StatusUnauthorized || apiErr.Message != "Invalid login credentials." {
		t.Fatalf("Login with a wrong password: %v, want a 401 APIError with the message", err)
	}

	user, err := c.Login(ctx, email, testPassword)
	if err != nil {
		t.Fatalf("Login: %v", err)
	}
	if user.ID != id {
		t.Errorf("user %s, want %s", user.ID, id)
	}
	hc := c.HTTP()
	getCart := func() (*http.Response, storefront.Cart) {
		t.Helper()
		res, err := hc.Get(e.url + "/api/cart")
		if err != nil {
			t.Fatalf("GET /api/cart: %v", err)
		}
		defer res.Body.Close()
		var cart storefront.Cart
		if res.StatusCode == http.StatusOK {
			if err := json.NewDecoder(res.Body).Decode(&cart); err != nil {
				t.Fatal(err)
			}
		}
		return res, cart
	}
	body, _ := json.Marshal(storefront.AddItemRequest{SKU: "latch-tshirt", Quantity: 2})
	res, err := hc.Post(e.url+"/api/cart/items", "application/json", bytes.NewReader(body))
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("POST /api/cart/items: %v %v", res, err)
	}
	res.Body.Close()
	if res, cart := getCart(); res.StatusCode != http.StatusOK || cart.TotalCents != 5000 {
		t.Fatalf("cart: status %d, %+v", res.StatusCode, cart)
	}

	// The JWT expires: the SDK sends the refresh token, the storefront
	// refreshes, and the SDK adopts the new JWT and the rotated refresh
	// token.
	before, _ := c.Tokens(ctx)
	e.clock.Advance(afterExpiry)
	e.rt.Reset()
	if res, cart := getCart(); res.StatusCode != http.StatusOK || len(cart.Items) != 1 {
		t.Fatalf("cart after expiry: status %d, %+v", res.StatusCode, cart)
	}
	after, err := c.Tokens(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if after.AccessToken == before.AccessToken || after.RefreshToken == before.RefreshToken || after.RefreshToken == "" {
		t.Errorf("the SDK did not adopt the refreshed tokens")
	}
	if n := e.rt.N(refreshCall); n != 1 {
		t.Errorf("%d refreshes, want 1", n)
	}
	e.rt.Reset()
	getCart()
	if n := e.rt.N(refreshCall); n != 0 {
		t.Errorf("%d refreshes with the adopted JWT, want 0", n)
	}

	// Latch revokes the session: at the next refresh the storefront
	// answers 401 and the SDK asks for a login.
	e.revokeAll(t, id)
	e.clock.Advance(afterExpiry)
	if res, _ := getCart(); res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("cart after revocation: status %d, want 401", res.StatusCode)
	}
	if n := loginRequired.Load(); n != 1 {
		t.Errorf("OnLoginRequired called %d times, want 1", n)
	}
	if _, err := c.Tokens(ctx); !errors.Is(err, client.ErrLoginRequired) {
		t.Errorf("Tokens after the session ended: %v, want ErrLoginRequired", err)
	}

	// Step 17, then "log out everywhere".
	if _, err := c.Login(ctx, email, testPassword); err != nil {
		t.Fatalf("Login again: %v", err)
	}
	tok, _ := c.Tokens(ctx)
	if err := c.Logout(ctx, true); err != nil {
		t.Fatalf("Logout: %v", err)
	}
	if !e.refused(t, tok.AccessToken, tok.RefreshToken) {
		t.Errorf("the refresh token survived Logout")
	}
}

// The application id and API key of standalone storefronts, which
// fakeLatch knows.
const (
	fakeAppID  = "6b1f0e3a-2c4d-4e8f-9a1b-3c5d7e9f1a2b"
	fakeAPIKey = "the-api-key"
)

// fakeLatch plays a Latch that knows the application fakeAppID and the API
// key fakeAPIKey, enough for the check storefront.Open makes (GET
// /api/application/{id}), and hands every other request to h (404 when h
// is nil). It stops when the test ends.
func fakeLatch(t *testing.T, h http.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if id, ok := strings.CutPrefix(r.URL.Path, "/api/application/"); ok && r.Method == http.MethodGet {
			switch {
			case r.Header.Get("Authorization") != fakeAPIKey:
				w.WriteHeader(http.StatusUnauthorized)
			case id != fakeAppID:
				w.WriteHeader(http.StatusNotFound)
			default:
				w.Header().Set("Content-Type", "application/json")
				json.NewEncoder(w).Encode(api.ApplicationResponse{Application: &api.Application{ID: id, Name: "Store", Active: true}})
			}
			return
		}
		if h == nil {
			http.NotFound(w, r)
			return
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// standalone starts a storefront in front of a Latch that the test plays
// (fakeLatch), with the issuer given so that it looks nothing up.
func standalone(t *testing.T, latchURL string) (*storefront.Server, *latchtest.LogBuffer) {
	t.Helper()
	return standaloneWith(t, storefront.Config{LatchURL: latchURL})
}

// standaloneWith is standalone with the other fields of cfg; a cfg
// without a LatchURL stands in front of a fakeLatch that knows nothing
// more than the application.
func standaloneWith(t *testing.T, cfg storefront.Config) (*storefront.Server, *latchtest.LogBuffer) {
	t.Helper()
	logs := &latchtest.LogBuffer{}
	if cfg.LatchURL == "" {
		cfg.LatchURL = fakeLatch(t, nil).URL
	}
	cfg.Addr, cfg.ApplicationID = "127.0.0.1:0", fakeAppID
	cfg.APIKey, cfg.DataDir, cfg.Issuer = fakeAPIKey, t.TempDir(), "http://latch.test"
	cfg.Logger = logs.Logger()
	sf, err := storefront.Open(context.Background(), cfg)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	go sf.Serve()
	t.Cleanup(func() {
		sf.Close()
		if strings.Contains(logs.String(), testPassword) {
			t.Errorf("the storefront logged the password")
		}
		if t.Failed() {
			t.Logf("storefront log:\n%s", logs)
		}
	})
	return sf, logs
}

// postLogin posts credentials to a storefront.
func postLogin(t *testing.T, base string, header map[string]string) response {
	t.Helper()
	e := &env{url: base, hc: &http.Client{Timeout: 30 * time.Second}}
	return e.do(t, req{method: "POST", path: "/api/login", header: header,
		body: storefront.LoginRequest{LoginID: "ana@example.org", Password: testPassword}})
}

// Each answer of Latch's two-factor login, as the storefront maps it.
func TestLoginTwoFactor_LatchStatuses(t *testing.T) {
	var (
		mu     sync.Mutex
		status int
		answer string
	)
	fake := fakeLatch(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if answer != "" {
			w.Header().Set("Content-Type", "application/json")
		}
		w.WriteHeader(status)
		io.WriteString(w, answer)
	}))
	sf, _ := standalone(t, fake.URL)
	for _, tt := range []struct {
		latchStatus int
		latchBody   string
		status      int
		code        string
	}{
		{421, `{"fieldErrors":{"code":[{"code":"[invalid]code","message":"no"}]}}`, 401, storefront.CodeInvalidTwoFactorCode},
		{404, "", 401, storefront.CodeTwoFactorExpired},
		{409, `{}`, 409, storefront.CodeLoginPrevented},
		{423, "", 423, storefront.CodeAccountLocked},
		{410, "", 403, storefront.CodeAccountExpired},
		{400, `{"fieldErrors":{"code":[{"code":"[blank]code","message":"no"}]}}`, 400, storefront.CodeInvalidRequest},
		{400, `{"fieldErrors":{"applicationId":[{"code":"[invalid]applicationId","message":"no"}]}}`, 500, storefront.CodeInternal},
		{401, "", 500, storefront.CodeInternal},
		{200, `{"user":{"id":"u"}}`, 500, storefront.CodeInternal}, // no token
		{503, "", 503, storefront.CodeUnavailable},
		{429, "", 503, storefront.CodeUnavailable},
	} {
		t.Run(strconv.Itoa(tt.latchStatus)+tt.code, func(t *testing.T) {
			mu.Lock()
			status, answer = tt.latchStatus, tt.latchBody
			mu.Unlock()
			e := &env{url: sf.URL(), hc: &http.Client{Timeout: 30 * time.Second}}
			res := e.do(t, req{method: "POST", path: "/api/login/two-factor", body: storefront.TwoFactorLoginRequest{TwoFactorID: "t", Code: "123456"}})
			wantError(t, res, tt.status, tt.code)
		})
	}
}

// Each answer of Latch's Login API, as the storefront maps it.
func TestLogin_LatchStatuses(t *testing.T) {
	var (
		mu     sync.Mutex
		status int
		answer string
		got    *http.Request
		gotReq api.LoginRequest
	)
	fake := fakeLatch(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		got, gotReq = r, api.LoginRequest{}
		json.NewDecoder(r.Body).Decode(&gotReq)
		if answer != "" {
			w.Header().Set("Content-Type", "application/json")
		}
		w.WriteHeader(status)
		io.WriteString(w, answer)
	}))
	sf, _ := standalone(t, fake.URL)

	lockEnd := time.Now().Add(time.Hour).Truncate(time.Millisecond)
	tests := []struct {
		latchStatus int
		latchBody   string
		status      int
		code        string
	}{
		{404, "", 401, storefront.CodeInvalidCredentials},
		{409, `{"actions":[{"actionId":"x","name":"Account Lock","expiry":` + jsonInt(lockEnd.UnixMilli()) + `}]}`, 409, storefront.CodeLoginPrevented},
		{409, `{}`, 409, storefront.CodeLoginPrevented},
		{423, "", 423, storefront.CodeAccountLocked},
		{410, "", 403, storefront.CodeAccountExpired},
		{202, `{"user":{"id":"u"}}`, 403, storefront.CodeNotRegistered},
		{203, `{"changePasswordId":"c"}`, 403, storefront.CodePasswordChangeRequired},
		{212, `{"user":{"id":"u"}}`, 403, storefront.CodeLoginIncomplete},
		{242, `{"twoFactorId":"t"}`, 403, storefront.CodeLoginIncomplete},
		{400, `{"fieldErrors":{"applicationId":[{"code":"[invalid]applicationId","message":"no"}]}}`, 500, storefront.CodeInternal},
		{401, "", 500, storefront.CodeInternal},
		{200, `{"user":{"id":"u"}}`, 500, storefront.CodeInternal}, // no token
		{500, "", 503, storefront.CodeUnavailable},
		{502, "", 503, storefront.CodeUnavailable},
		{503, `{"generalErrors":[{"code":"[Busy]","message":"busy"}]}`, 503, storefront.CodeUnavailable},
		{429, "", 503, storefront.CodeUnavailable},
	}
	for _, tt := range tests {
		t.Run(strconv.Itoa(tt.latchStatus), func(t *testing.T) {
			mu.Lock()
			status, answer = tt.latchStatus, tt.latchBody
			mu.Unlock()
			res := postLogin(t, sf.URL(), map[string]string{"User-Agent": "ShopApp/1"})
			body := wantError(t, res, tt.status, tt.code)
			if tt.status == http.StatusServiceUnavailable && res.Header.Get("Retry-After") == "" {
				t.Errorf("503 without Retry-After")
			}
			if tt.latchStatus == 409 && strings.Contains(tt.latchBody, "expiry") {
				if body.LockExpirationInstant != lockEnd.UnixMilli() || !strings.Contains(body.Message, lockEnd.UTC().Format(time.RFC3339)) {
					t.Errorf("409 body %+v, want the lock's end", body)
				}
				if res.Header.Get("Retry-After") == "" {
					t.Errorf("409 without Retry-After")
				}
			}
		})
	}

	// What the storefront sent Latch.
	mu.Lock()
	defer mu.Unlock()
	if got.URL.Path != "/api/login" || got.Header.Get("Authorization") != "the-api-key" {
		t.Errorf("request %s with Authorization %q, want /api/login with the API key", got.URL.Path, got.Header.Get("Authorization"))
	}
	want := api.LoginRequest{
		LoginID: "ana@example.org", Password: testPassword, ApplicationID: "6b1f0e3a-2c4d-4e8f-9a1b-3c5d7e9f1a2b", IPAddress: "127.0.0.1",
		MetaData: &api.MetaData{Device: api.DeviceInfo{Description: "ShopApp/1", LastAccessedAddress: "127.0.0.1"}},
	}
	if diff := cmp.Diff(want, gotReq); diff != "" {
		t.Errorf("login request to Latch (-want +got):\n%s", diff)
	}

	// A long User-Agent is cut to 255 bytes of valid UTF-8; none, no device.
	status, answer = http.StatusNotFound, ""
	mu.Unlock()
	long := "App/1 " + strings.Repeat("é", 200)
	postLogin(t, sf.URL(), map[string]string{"User-Agent": long})
	mu.Lock()
	desc := gotReq.MetaData.Device.Description
	if len(desc) > 255 || len(desc) < 250 || !utf8.ValidString(desc) || !strings.HasPrefix(long, desc) {
		t.Errorf("device description of %d bytes, valid %v: want a prefix of the User-Agent of at most 255 bytes", len(desc), utf8.ValidString(desc))
	}
	mu.Unlock()
	postLogin(t, sf.URL(), map[string]string{"User-Agent": ""})
	mu.Lock()
	if gotReq.MetaData != nil {
		t.Errorf("metaData %+v without a User-Agent, want none", gotReq.MetaData)
	}
}

func jsonInt(n int64) string { b, _ := json.Marshal(n); return string(b) }

// A storefront whose Latch has gone away answers 503.
func TestLogin_LatchUnreachable(t *testing.T) {
	fake := fakeLatch(t, nil)
	sf, _ := standalone(t, fake.URL)
	fake.Close()
	res := postLogin(t, sf.URL(), nil)
	wantError(t, res, http.StatusServiceUnavailable, storefront.CodeUnavailable)
	if res.Header.Get("Retry-After") == "" {
		t.Errorf("503 without Retry-After")
	}
	e := &env{url: sf.URL(), hc: http.DefaultClient}
	res = e.do(t, req{method: "POST", path: "/api/logout", refresh: "some-refresh-token"})
	wantError(t, res, http.StatusServiceUnavailable, storefront.CodeUnavailable)
}

// Without Config.Issuer the storefront reads it from Latch; when Latch
// fails to tell it at start (past the check of the application id and
// API key) it starts all the same, answers 503, and looks again later.
func TestIssuerDiscovery(t *testing.T) {
	restore := storefront.SetDiscoveryRetry(0)
	t.Cleanup(restore)
	e := newEnv(t)
	email, _ := e.newUser(t)
	target, _ := url.Parse(e.latch.URL)
	proxy := httputil.NewSingleHostReverseProxy(target)
	var up atomic.Bool
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !up.Load() && !strings.HasPrefix(r.URL.Path, "/api/application/") {
			http.Error(w, "down", http.StatusBadGateway)
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	defer front.Close()

	sf := e.startStorefront(t, storefront.Config{LatchURL: front.URL, DataDir: t.TempDir()})
	e.url = sf.URL()
	if !strings.Contains(e.logs.String(), "issuer is unknown") {
		t.Errorf("no warning that the issuer is unknown")
	}
	wantError(t, e.do(t, req{method: "GET", path: "/api/cart", jwt: "whatever"}), http.StatusServiceUnavailable, storefront.CodeUnavailable)
	wantError(t, e.do(t, req{method: "POST", path: "/api/login", body: storefront.LoginRequest{LoginID: email, Password: testPassword}}),
		http.StatusServiceUnavailable, storefront.CodeUnavailable)
	e.do(t, req{method: "GET", path: "/api/products"}) // the catalogue needs no Latch

	up.Store(true)
	lr := e.login(t, email)
	e.add(t, lr.Token, "latch-cap", 1)
	if c := e.cart(t, lr.Token); len(c.Items) != 1 {
		t.Errorf("cart %+v", c)
	}
}

// The database keeps carts across restarts, and the catalogue is seeded
// once.
func TestPersistence(t *testing.T) {
	e := newEnv(t)
	email, _ := e.newUser(t)
	dir := t.TempDir()
	first := e.startStorefront(t, storefront.Config{DataDir: dir})
	e.url = first.URL()
	lr := e.login(t, email)
	want := e.add(t, lr.Token, "latch-mug", 3)
	var before storefront.ProductsResponse
	e.do(t, req{method: "GET", path: "/api/products"}).decode(t, &before)
	if err := first.Shutdown(context.Background()); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}

	second := e.startStorefront(t, storefront.Config{DataDir: dir})
	e.url = second.URL()
	if diff := cmp.Diff(want, e.cart(t, lr.Token)); diff != "" {
		t.Errorf("cart after a restart (-want +got):\n%s", diff)
	}
	var after storefront.ProductsResponse
	e.do(t, req{method: "GET", path: "/api/products"}).decode(t, &after)
	if diff := cmp.Diff(before, after); diff != "" {
		t.Errorf("catalogue after a restart (-before +after):\n%s", diff)
	}
}

func TestOpen_Errors(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	ok := storefront.Config{Addr: "127.0.0.1:0", LatchURL: fakeLatch(t, nil).URL, ApplicationID: fakeAppID, APIKey: fakeAPIKey,
		DataDir: t.TempDir(), Issuer: "http://latch.test", Logger: slog.New(slog.DiscardHandler)}
	tests := map[string]func(*storefront.Config){
		"BusyPort":        func(c *storefront.Config) { c.Addr = busy.Addr().String() },
		"NoApplicationID": func(c *storefront.Config) { c.ApplicationID = "" },
		"BadLatchURL":     func(c *storefront.Config) { c.LatchURL = "ftp://latch" },
		"RelativeURL":     func(c *storefront.Config) { c.LatchURL = "/latch" },
		"NegativeWait":    func(c *storefront.Config) { c.LatchWait = -time.Second },
	}
	for name, change := range tests {
		t.Run(name, func(t *testing.T) {
			cfg := ok
			change(&cfg)
			start := time.Now()
			sf, err := storefront.Open(context.Background(), cfg)
			if err == nil {
				sf.Close()
				t.Fatal("Open succeeded")
			}
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("Open took %v to fail", d)
			}
		})
	}
	// Shutdown and Close before and after Serve, more than once.
	sf, err := storefront.Open(context.Background(), ok)
	if err != nil {
		t.Fatal(err)
	}
	if err := sf.Shutdown(context.Background()); err != nil {
		t.Errorf("Shutdown: %v", err)
	}
	if err := sf.Serve(); err != nil {
		t.Errorf("Serve after Shutdown: %v", err)
	}
	if err := sf.Close(); err != nil {
		t.Errorf("Close after Shutdown: %v", err)
	}
}

func TestDefaultConfig(t *testing.T) {
	want := storefront.Config{Addr: "127.0.0.1:8080", LatchURL: "http://127.0.0.1:9011", DataDir: "./storefront-data", LatchWait: 30 * time.Second}
	if diff := cmp.Diff(want, storefront.DefaultConfig()); diff != "" {
		t.Errorf("DefaultConfig (-want +got):\n%s", diff)
	}
}

// Neither the password nor a token ever reaches the log, whatever the
// request.
func TestLog_NoSecrets(t *testing.T) {
	e := newEnv(t)
	e.oneTimeUse(t)
	email, _ := e.newUser(t)
	lr := e.login(t, email)
	e.do(t, req{method: "POST", path: "/api/login", body: storefront.LoginRequest{LoginID: email, Password: testPassword + "!"}})
	e.do(t, req{method: "POST", path: "/api/login", body: `{"loginId":"` + email + `","password":"` + testPassword + `" oops}`})
	e.do(t, req{method: "POST", path: "/api/login", body: `{"loginId":"` + email + `","password":` + testPassword + `}`})
	e.do(t, req{method: "POST", path: "/api/cart/items", jwt: lr.Token, body: `{"sku":"` + lr.RefreshToken + `","quantity":1}`})
	e.clock.Advance(afterExpiry)
	res := e.do(t, req{method: "GET", path: "/api/cart", jwt: lr.Token, refresh: lr.RefreshToken})
	rotated := res.Header.Get(api.HeaderRefreshToken)
	e.do(t, req{method: "POST", path: "/api/logout", jwt: res.Header.Get(api.HeaderAccessToken), refresh: rotated})
	e.clock.Advance(afterExpiry)
	e.do(t, req{method: "GET", path: "/api/cart", jwt: lr.Token, refresh: rotated}) // refused

	logs := e.logs.String()
	if !strings.Contains(logs, "msg=login") || !strings.Contains(logs, "msg=logout") {
		t.Fatalf("the log lacks the login and logout lines:\n%s", logs)
	}
	for name, secret := range map[string]string{
		"password": testPassword, "JWT": lr.Token, "refresh token": lr.RefreshToken, "rotated refresh token": rotated,
	} {
		if secret != "" && strings.Contains(logs, secret) {
			t.Errorf("the log shows the %s", name)
		}
	}
}

// The database and its WAL and shared-memory files are the owner's only,
// whatever the umask lets through: they hold every user's cart.
func TestDatabaseFileModes(t *testing.T) {
	e := newEnv(t)
	dir := t.TempDir()
	e.startStorefront(t, storefront.Config{DataDir: dir})
	for _, name := range []string{storefront.DatabaseFile, storefront.DatabaseFile + "-wal", storefront.DatabaseFile + "-shm"} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if mode := fi.Mode().Perm(); mode != 0o600 {
			t.Errorf("%s has mode %#o, want 0600", name, mode)
		}
	}
}

// Open checks the application id and the API key at Latch, and refuses to
// start, saying which is wrong, rather than listen and answer every login
// 500. The key never shows in the error or the log.
func TestOpen_ChecksApplicationAndKey(t *testing.T) {
	e := newEnv(t)
	other := ""
	{
		var res api.TenantResponse
		e.admin(t, "POST", "/api/tenant", map[string]any{"tenant": map[string]any{"name": "Other"}}, &res)
		other = res.Tenant.ID
	}
	apiKey := func(key map[string]any) string {
		var res api.APIKeyResponse
		e.admin(t, "POST", "/api/api-key", map[string]any{"apiKey": key}, &res)
		return res.APIKey.Key
	}
	otherTenantKey := apiKey(map[string]any{"tenantId": other})
	loginOnlyKey := apiKey(map[string]any{"permissions": map[string]any{"endpoints": map[string]any{"/api/login": []string{"POST"}}}})
	readKey := apiKey(map[string]any{"permissions": map[string]any{"endpoints": map[string]any{
		"/api/application": []string{"GET"}, "/api/login": []string{"POST"}, "/api/jwt/refresh": []string{"DELETE"}}}})
	tests := []struct {
		name, appID, key string
		want             error
	}{
		{"WrongKey", e.appID, "not-the-key-but-long-enough-1234567890", storefront.ErrAPIKeyRefused},
		{"KeyWithoutApplicationRead", e.appID, loginOnlyKey, storefront.ErrAPIKeyRefused},
		{"UnknownApplication", "3f8d2a4c-5b6e-4f70-8a9b-0c1d2e3f4a5b", e.latch.APIKey, storefront.ErrUnknownApplication},
		{"NotAnApplicationID", "shop", e.latch.APIKey, storefront.ErrUnknownApplication},
		{"ApplicationOfAnotherTenant", e.appID, otherTenantKey, storefront.ErrUnknownApplication},
		{"Right", e.appID, e.latch.APIKey, nil},
		{"RightWithALeastKey", e.appID, readKey, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			logs := &latchtest.LogBuffer{}
			start := time.Now()
			sf, err := storefront.Open(context.Background(), storefront.Config{Addr: "127.0.0.1:0", LatchURL: e.latch.URL,
				ApplicationID: tt.appID, APIKey: tt.key, DataDir: t.TempDir(), Logger: logs.Logger(), LatchWait: time.Minute})
			if err == nil {
				defer sf.Close()
			}
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Fatalf("Open: %v, want %v", err, tt.want)
			}
			if err == nil {
				return
			}
			if d := time.Since(start); d > 10*time.Second {
				t.Errorf("Open took %v to refuse", d)
			}
			if strings.Contains(err.Error(), tt.key) || strings.Contains(logs.String(), tt.key) {
				t.Errorf("the API key shows: %v\n%s", err, logs)
			}
			if tt.want == storefront.ErrUnknownApplication && !strings.Contains(err.Error(), tt.appID) {
				t.Errorf("error %q does not name the application id", err)
			}
		})
	}
}

// Open waits up to LatchWait for a Latch that cannot be reached, then
// starts once it answers, or refuses to start.
func TestOpen_WaitsForLatch(t *testing.T) {
	defer storefront.SetLatchCheckRetry(10 * time.Millisecond)()
	e := newEnv(t)
	target, _ := url.Parse(e.latch.URL)
	proxy := httputil.NewSingleHostReverseProxy(target)
	var up atomic.Bool
	asked := make(chan struct{}, 1)
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !up.Load() {
			select {
			case asked <- struct{}{}:
			default:
			}
			http.Error(w, "down", http.StatusBadGateway)
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	defer front.Close()

	// Latch comes up while Open waits.
	go func() {
		<-asked
		up.Store(true)
	}()
	sf := e.startStorefront(t, storefront.Config{LatchURL: front.URL, DataDir: t.TempDir(), LatchWait: time.Minute})
	if !strings.Contains(e.logs.String(), "waiting for Latch") {
		t.Errorf("no warning that the storefront waits for Latch:\n%s", e.logs)
	}
	e.url = sf.URL()
	email, _ := e.newUser(t)
	e.login(t, email)

	// Latch stays away: Open gives up after LatchWait, or at once without one.
	up.Store(false)
	for _, wait := range []time.Duration{0, 50 * time.Millisecond} {
		start := time.Now()
		sf, err := storefront.Open(context.Background(), storefront.Config{Addr: "127.0.0.1:0", LatchURL: front.URL, ApplicationID: e.appID,
			APIKey: e.latch.APIKey, DataDir: t.TempDir(), Logger: slog.New(slog.DiscardHandler), LatchWait: wait})
		if err == nil {
			sf.Close()
			t.Fatalf("Open with Latch away (wait %v) succeeded", wait)
		}
		if !strings.Contains(err.Error(), front.URL) || !strings.Contains(err.Error(), "did not answer") {
			t.Errorf("error %q does not say that Latch at %s did not answer", err, front.URL)
		}
		if d := time.Since(start); d > wait+10*time.Second {
			t.Errorf("Open took %v to give up after %v", d, wait)
		}
	}
	// A context that ends stops the wait.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := storefront.Open(ctx, storefront.Config{Addr: "127.0.0.1:0", LatchURL: front.URL, ApplicationID: e.appID,
		APIKey: e.latch.APIKey, DataDir: t.TempDir(), Logger: slog.New(slog.DiscardHandler), LatchWait: time.Hour}); err == nil {
		t.Error("Open with an ended context succeeded")
	}
}
