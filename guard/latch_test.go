package guard_test

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/latchid/latch/api"
	"github.com/latchid/latch/guard"
	"github.com/latchid/latch/internal/latchtest"
	"github.com/latchid/latch/internal/server"
)

// testPassword satisfies Latch's default password rules.
const testPassword = latchtest.Password

// newClock returns the injected clock of Latch and guard, at the tests'
// epoch: it moves only when a test advances it.
func newClock() *latchtest.Clock {
	return latchtest.NewClock(time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC))
}

// latch is a real Latch running in this process (a loopback port, a fresh
// SQLite database, the bootstrap API key) with the names guard's tests
// use.
type latch struct {
	*latchtest.Latch
	url   string // Latch.URL
	appID string // the application Default
	clock *latchtest.Clock
}

// startLatch starts Latch for one test, on the fake clock, and stops it
// when the test ends.
func startLatch(t testing.TB) *latch {
	t.Helper()
	return startNode(t, t.TempDir(), newClock(), "")
}

// startNode starts a Latch node over the data directory dir, with the
// issuer ("" for its own URL): a second node over the same directory
// shares the first one's database and master key, as nodes behind one
// URL do.
func startNode(t testing.TB, dir string, clock *latchtest.Clock, issuer string) *latch {
	t.Helper()
	l := latchtest.Start(t, latchtest.Options{Clock: clock, Config: server.Config{DataDir: dir, Issuer: issuer}})
	return &latch{Latch: l, url: l.URL, appID: l.DefaultApplication(t).ID, clock: clock}
}

// mustCall calls Latch's API with the API key, insists on 200 and
// decodes the answer into out.
func (l *latch) mustCall(t testing.TB, method, path string, body, out any) {
	t.Helper()
	l.Do(t, l.APIKey, method, path, body, http.StatusOK, out)
}

// jwtConfig gives the application its own jwtConfiguration: 60 s JWTs,
// 60 minute refresh tokens, the usage policy, and any extra members.
func (l *latch) jwtConfig(t testing.TB, appID, policy string, extra ...map[string]any) {
	t.Helper()
	cfg := map[string]any{
		"enabled": true, "timeToLiveInSeconds": 60, "refreshTokenTimeToLiveInMinutes": 60,
		"refreshTokenUsagePolicy": policy,
	}
	for _, x := range extra {
		maps.Copy(cfg, x)
	}
	l.mustCall(t, "PATCH", "/api/application/"+appID, map[string]any{"application": map[string]any{"jwtConfiguration": cfg}}, nil)
}

// ttl is the JWT lifetime jwtConfig sets.
const ttl = 60 * time.Second

// userSeq makes emails unique within a database.
var userSeq atomic.Int64

// newUser creates a user registered for appID with roles (nil: the
// application's default roles) and returns the email.
func (l *latch) newUser(t testing.TB, appID string, roles ...string) string {
	t.Helper()
	email := fmt.Sprintf("user%d@example.org", userSeq.Add(1))
	l.Register(t, appID, email, roles...)
	return email
}

// login logs the user in to appID through Latch's Login API.
func (l *latch) login(t testing.TB, email, appID string) api.LoginResponse {
	t.Helper()
	res := l.Login(t, appID, email)
	if res.Token == "" || res.RefreshToken == "" {
		t.Fatalf("login: token or refresh token missing: %+v", res)
	}
	return res
}

// session is a user of the application Default, logged in.
func (l *latch) session(t testing.TB) api.LoginResponse {
	t.Helper()
	return l.login(t, l.newUser(t, l.appID), l.appID)
}

// counter counts the requests guard sends to Latch, and can hold refresh
// calls back a little so that concurrent requests surely overlap.
type counter struct{ latchtest.Counter }

// n returns the count of one "METHOD /path".
func (c *counter) n(call string) int { return c.N(call) }

// total returns the count of every request.
func (c *counter) total() int { return c.Total() }

// reset forgets the counts.
func (c *counter) reset() { c.Reset() }

const (
	jwksCall    = "GET /.well-known/jwks.json"
	refreshCall = "POST /api/jwt/refresh"
)

// fixture is a Guard in front of a real Latch, with the requests it sends
// counted and its log captured.
type fixture struct {
	*latch
	g    *guard.Guard
	rt   *counter
	glog *latchtest.LogBuffer
}

// newFixture starts Latch and a Guard for its application Default;
// change adjusts the guard's Config.
func newFixture(t testing.TB, change ...func(*guard.Config)) *fixture {
	t.Helper()
	f := attach(t, startLatch(t), nil)
	f.g = f.guard(t, change...)
	return f
}

// attach makes a fixture around a running Latch, its requests sent
// through base (http.DefaultTransport when nil), with no Guard yet.
func attach(t testing.TB, l *latch, base http.RoundTripper) *fixture {
	f := &fixture{latch: l, rt: &counter{latchtest.Counter{Base: base}}, glog: &latchtest.LogBuffer{}}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("guard log:\n%s", f.glog.String())
		}
	})
	return f
}

// guard returns another Guard for the same Latch, sharing the counter
// and the log.
func (f *fixture) guard(t testing.TB, change ...func(*guard.Config)) *guard.Guard {
	t.Helper()
	cfg := guard.Config{
		Issuer:     f.url,
		Audience:   f.appID,
		LatchURL:   f.url,
		HTTPClient: &http.Client{Transport: f.rt, Timeout: 30 * time.Second},
		Now:        f.clock.Now,
		Logger:     f.glog.Logger(),
	}
	for _, c := range change {
		c(&cfg)
	}
	g, err := guard.New(cfg)
	if err != nil {
		t.Fatalf("guard.New: %v", err)
	}
	return g
}

// noTokensLogged fails the test if guard's log shows any of the tokens.
func (f *fixture) noTokensLogged(t testing.TB, tokens ...string) {
	t.Helper()
	logs := f.glog.String()
	for _, tok := range tokens {
		if tok != "" && strings.Contains(logs, tok) {
			t.Errorf("guard logged a token")
		}
	}
}

// backend is a handler behind guard: it counts its calls and answers
// with the subject of the claims guard put in the context.
type backend struct{ calls atomic.Int64 }

func (b *backend) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b.calls.Add(1)
	claims, ok := guard.ClaimsFrom(r.Context())
	if !ok {
		http.Error(w, "no claims", http.StatusInternalServerError)
		return
	}
	fmt.Fprintf(w, "cart of %s", claims.Subject)
}

// request builds a request with a bearer JWT and a refresh token, each
// left out when empty.
func request(jwt, refreshToken string) *http.Request {
	r := httptest.NewRequest("GET", "/api/cart", nil)
	if jwt != "" {
		r.Header.Set("Authorization", "Bearer "+jwt)
	}
	if refreshToken != "" {
		r.Header.Set(api.HeaderRefreshToken, refreshToken)
	}
	return r
}

// serve runs one request through h.
func serve(h http.Handler, r *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	return rec
}

// wantRefusal asserts a JSON refusal: the status, the JSON error code,
// and the WWW-Authenticate challenge ("" for none).
func wantRefusal(t testing.TB, rec *httptest.ResponseRecorder, status int, code, challenge string) {
	t.Helper()
	if rec.Code != status {
		t.Fatalf("status %d, want %d; body %s", rec.Code, status, rec.Body)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q, want application/json", ct)
	}
	var body struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatalf("body %q: %v", rec.Body, err)
	}
	if body.Error != code || body.Description == "" {
		t.Errorf("body %+v, want error %q and a description", body, code)
	}
	if got := rec.Header().Get("WWW-Authenticate"); challenge != "*" && got != challenge {
		t.Errorf("WWW-Authenticate %q, want %q", got, challenge)
	}
	for _, h := range []string{api.HeaderAccessToken, api.HeaderRefreshToken} {
		if v := rec.Header().Get(h); v != "" {
			t.Errorf("refusal carries %s", h)
		}
	}
}

// invalidToken is the challenge of a 401 for a token that is no good.
func invalidToken(desc string) string {
	return `Bearer error="invalid_token", error_description="` + desc + `"`
}
