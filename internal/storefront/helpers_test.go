package storefront_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/latchid/latch/api"
	"github.com/latchid/latch/internal/latchtest"
	"github.com/latchid/latch/internal/storefront"
)

// testPassword satisfies Latch's default password rules. It must never
// appear in the storefront's log.
const testPassword = latchtest.Password

// jwtTTL is the lifetime of the JWTs of Latch's default tenant.
const jwtTTL = 15 * time.Minute

// afterExpiry moves a clock past a JWT's expiry, guard's leeway and
// guard's reuse window of refreshes.
const afterExpiry = jwtTTL + 2*time.Minute

const (
	jwksCall    = "GET /.well-known/jwks.json"
	refreshCall = "POST /api/jwt/refresh"
	loginCall   = "POST /api/login"
	logoutCall  = "POST /api/logout"
)

// env is a real Latch and a storefront in front of it, in this process,
// sharing one fake clock.
type env struct {
	clock *latchtest.Clock
	latch *latchtest.Latch
	appID string // the application Default
	rt    *latchtest.Counter
	sf    *storefront.Server
	url   string // the storefront's
	logs  *latchtest.LogBuffer
	hc    *http.Client
}

// settled waits until no event in Latch's outbox has a delivery left to
// make (its Webhook Event Log finds none Running). Every event is in the
// outbox once the request that caused it is answered, and Latch records a
// delivery only once the storefront acknowledged it, having recorded the
// revocation: from then on a storefront that got the event refuses the
// revoked session's JWTs.
func (e *env) settled(t *testing.T) {
	t.Helper()
	running := api.WebhookEventLogSearchCriteria{
		Start: 1, End: time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli(), EventResult: api.WebhookEventRunning, NumberOfResults: 1,
	}
	latchtest.WaitUntil(t, 15*time.Second, "Latch's outbox to settle", func() bool {
		res, err := e.latch.Server.Identity().SearchEventLog(t.Context(), "", running)
		if err != nil {
			t.Fatalf("search Latch's outbox: %v", err)
		}
		return res.Total == 0
	})
}

// userSeq makes emails unique.
var userSeq atomic.Int64

// newEnv starts Latch and a storefront for its application Default; both
// stop when the test ends, and the test fails if the storefront's log
// shows the test password.
func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{
		clock: latchtest.NewClock(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)),
		rt:    &latchtest.Counter{}, logs: &latchtest.LogBuffer{}, hc: &http.Client{Timeout: 30 * time.Second},
	}
	e.latch = latchtest.Start(t, latchtest.Options{Clock: e.clock})
	e.appID = e.latch.DefaultApplication(t).ID
	e.sf = e.startStorefront(t, storefront.Config{DataDir: t.TempDir()})
	e.url = e.sf.URL()
	t.Cleanup(func() {
		if strings.Contains(e.logs.String(), testPassword) {
			t.Errorf("the storefront logged the password")
		}
		if t.Failed() {
			t.Logf("storefront log:\n%s", e.logs)
		}
	})
	return e
}

// startStorefront opens and serves a storefront for Latch's application
// Default with e's clock, counter and log; cfg may set the data directory
// and other fields. It stops when the test ends.
func (e *env) startStorefront(t *testing.T, cfg storefront.Config) *storefront.Server {
	t.Helper()
	cfg.Addr = "127.0.0.1:0"
	if cfg.LatchURL == "" {
		cfg.LatchURL = e.latch.URL
	}
	if cfg.ApplicationID == "" {
		cfg.ApplicationID = e.appID
	}
	if cfg.APIKey == "" {
		cfg.APIKey = e.latch.APIKey
	}
	cfg.HTTPClient = &http.Client{Transport: e.rt, Timeout: 30 * time.Second}
	cfg.Logger = e.logs.Logger()
	cfg.Now = e.clock.Now
	sf, err := storefront.Open(context.Background(), cfg)
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
	})
	return sf
}

// admin calls Latch's API with the API key, insists on 200 and decodes
// the answer into out.
func (e *env) admin(t *testing.T, method, path string, body, out any) {
	t.Helper()
	e.latch.Do(t, e.latch.APIKey, method, path, body, http.StatusOK, out)
}

// newUser creates a user registered for the application Default and
// returns the email and the user id.
func (e *env) newUser(t *testing.T) (email, id string) {
	t.Helper()
	email = fmt.Sprintf("shopper%d@example.org", userSeq.Add(1))
	return email, e.latch.Register(t, e.appID, email)
}

// oneTimeUse switches the application Default to one-time-use refresh
// tokens.
func (e *env) oneTimeUse(t *testing.T) {
	t.Helper()
	e.admin(t, "PATCH", "/api/application/"+e.appID, map[string]any{"application": map[string]any{
		"jwtConfiguration": map[string]any{"enabled": true, "refreshTokenUsagePolicy": api.RefreshOneTimeUse},
	}}, nil)
}

// revokeAll revokes every refresh token of the user at Latch.
func (e *env) revokeAll(t *testing.T, userID string) {
	t.Helper()
	e.admin(t, "DELETE", "/api/jwt/refresh?userId="+userID, nil, nil)
}

// response is an answer of the storefront, its body read.
type response struct {
	*http.Response
	body []byte
}

// decode decodes the body into v.
func (r response) decode(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %q: %v", r.body, err)
	}
}

// req describes a request to the storefront.
type req struct {
	method, path string
	body         any    // marshalled to JSON unless a string, sent as is
	jwt          string // Authorization: Bearer, when set
	refresh      string // Refresh-Token, when set
	header       map[string]string
}

// do sends a request to the storefront over real HTTP.
func (e *env) do(t *testing.T, r req) response {
	t.Helper()
	var rd io.Reader
	switch b := r.body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	hr, err := http.NewRequest(r.method, e.url+r.path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if rd != nil {
		hr.Header.Set("Content-Type", "application/json")
	}
	if r.jwt != "" {
		hr.Header.Set("Authorization", "Bearer "+r.jwt)
	}
	if r.refresh != "" {
		hr.Header.Set(api.HeaderRefreshToken, r.refresh)
	}
	for k, v := range r.header {
		hr.Header.Set(k, v)
	}
	res, err := e.hc.Do(hr)
	if err != nil {
		t.Fatalf("%s %s: %v", r.method, r.path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	if ct := res.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("%s %s: Content-Type %q, want application/json", r.method, r.path, ct)
	}
	return response{res, b}
}

// login logs the user in through the storefront and insists on 200.
func (e *env) login(t *testing.T, email string) api.LoginResponse {
	t.Helper()
	res := e.do(t, req{method: "POST", path: "/api/login", body: storefront.LoginRequest{LoginID: email, Password: testPassword}})
	if res.StatusCode != http.StatusOK {
		t.Fatalf("login: status %d: %s", res.StatusCode, res.body)
	}
	var lr api.LoginResponse
	res.decode(t, &lr)
	if lr.Token == "" || lr.RefreshToken == "" || lr.User == nil || lr.TokenExpirationInstant == 0 {
		t.Fatalf("login answer lacks a field: %s", res.body)
	}
	return lr
}

// cart reads the cart with the tokens and insists on 200.
func (e *env) cart(t *testing.T, jwt string) storefront.Cart {
	t.Helper()
	res := e.do(t, req{method: "GET", path: "/api/cart", jwt: jwt})
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET /api/cart: status %d: %s", res.StatusCode, res.body)
	}
	var c storefront.Cart
	res.decode(t, &c)
	return c
}

// add puts quantity of sku in the cart and insists on 200.
func (e *env) add(t *testing.T, jwt, sku string, quantity int) storefront.Cart {
	t.Helper()
	res := e.do(t, req{method: "POST", path: "/api/cart/items", jwt: jwt, body: storefront.AddItemRequest{SKU: sku, Quantity: quantity}})
	if res.StatusCode != http.StatusOK {
		t.Fatalf("POST /api/cart/items: status %d: %s", res.StatusCode, res.body)
	}
	var c storefront.Cart
	res.decode(t, &c)
	return c
}

// wantError asserts a JSON error answer: the status and the error code,
// and a message.
func wantError(t *testing.T, res response, status int, code string) storefront.ErrorResponse {
	t.Helper()
	if res.StatusCode != status {
		t.Fatalf("%s %s: status %d, want %d; body %s", res.Request.Method, res.Request.URL.Path, res.StatusCode, status, res.body)
	}
	var body struct {
		storefront.ErrorResponse
		Description string `json:"error_description"`
	}
	res.decode(t, &body)
	if body.Error != code || (body.Message == "" && body.Description == "") {
		t.Errorf("%s %s: body %s, want error %q and a message", res.Request.Method, res.Request.URL.Path, res.body, code)
	}
	return body.ErrorResponse
}

// wantLoginAgain asserts guard's 401: WWW-Authenticate, a JSON body, and
// no new tokens.
func wantLoginAgain(t *testing.T, res response) {
	t.Helper()
	wantError(t, res, http.StatusUnauthorized, "invalid_token")
	if !strings.HasPrefix(res.Header.Get("WWW-Authenticate"), "Bearer") {
		t.Errorf("WWW-Authenticate %q, want a Bearer challenge", res.Header.Get("WWW-Authenticate"))
	}
	for _, h := range []string{api.HeaderAccessToken, api.HeaderRefreshToken} {
		if res.Header.Get(h) != "" {
			t.Errorf("a refusal carries %s", h)
		}
	}
}
