package guard_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
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
	"github.com/latchid/latch/guard"
	"github.com/latchid/latch/internal/server"
)

// testPassword satisfies Latch's default password rules.
const testPassword = "correct horse battery staple"

// fakeClock is the injected clock of Latch and guard: it moves only when a
// test advances it.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *fakeClock { return &fakeClock{now: time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// syncBuffer is a goroutine-safe log sink.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// latch is a real Latch running in this process: a loopback port, a fresh
// SQLite database, the fake clock, and the bootstrap API key.
type latch struct {
	srv    *server.Server
	url    string
	key    string
	appID  string // the application Default
	clock  *fakeClock
	logs   *syncBuffer
	client *http.Client
	stop   func() // closes the server at once; safe to call twice
}

// startLatch starts Latch for one test and stops it when the test ends.
func startLatch(t testing.TB) *latch {
	t.Helper()
	return startNode(t, t.TempDir(), newClock(), "")
}

// startNode starts a Latch node over the data directory dir, with the
// issuer ("" for its own URL): a second node over the same directory
// shares the first one's database and master key, as nodes behind one
// URL do.
func startNode(t testing.TB, dir string, clock *fakeClock, issuer string) *latch {
	t.Helper()
	l := &latch{clock: clock, logs: &syncBuffer{}, client: &http.Client{Timeout: 30 * time.Second}}
	srv, err := server.Open(context.Background(), server.Config{
		Addr: "127.0.0.1:0", DataDir: dir, Now: l.clock.Now, Issuer: issuer,
		Logger: slog.New(slog.NewTextHandler(l.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	if err != nil {
		t.Fatalf("server.Open: %v", err)
	}
	l.srv, l.url = srv, srv.URL()
	served := make(chan error, 1)
	go func() { served <- srv.Serve() }()
	var once sync.Once
	l.stop = func() {
		once.Do(func() {
			if err := srv.Close(); err != nil {
				t.Errorf("close Latch: %v", err)
			}
			if err := <-served; err != nil {
				t.Errorf("Serve: %v", err)
			}
			l.client.CloseIdleConnections()
		})
	}
	t.Cleanup(func() {
		l.stop()
		if t.Failed() {
			t.Logf("Latch log:\n%s", l.logs.String())
		}
	})
	b, err := os.ReadFile(filepath.Join(dir, server.BootstrapKeyFile))
	if err != nil {
		t.Fatalf("read bootstrap key: %v", err)
	}
	l.key = strings.TrimSpace(string(b))
	var apps api.ApplicationResponse
	l.mustCall(t, "GET", "/api/application", nil, &apps)
	if len(apps.Applications) != 1 || apps.Applications[0].Name != "Default" {
		t.Fatalf("applications = %+v, want one named Default", apps.Applications)
	}
	l.appID = apps.Applications[0].ID
	return l
}

// call sends a request with the API key and decodes a 2xx answer into out.
func (l *latch) call(t testing.TB, method, path string, body, out any) (int, []byte) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, l.url+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", l.key)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := l.client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	if out != nil && res.StatusCode/100 == 2 {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: decode %s: %v", method, path, b, err)
		}
	}
	return res.StatusCode, b
}

// mustCall is call that insists on 200.
func (l *latch) mustCall(t testing.TB, method, path string, body, out any) {
	t.Helper()
	if code, b := l.call(t, method, path, body, out); code != http.StatusOK {
		t.Fatalf("%s %s: status %d: %s", method, path, code, b)
	}
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
	reg := map[string]any{"applicationId": appID}
	if roles != nil {
		reg["roles"] = roles
	}
	l.mustCall(t, "POST", "/api/user/registration", map[string]any{
		"user":         map[string]any{"email": email, "password": testPassword},
		"registration": reg,
	}, nil)
	return email
}

// login logs the user in to appID through Latch's Login API.
func (l *latch) login(t testing.TB, email, appID string) api.LoginResponse {
	t.Helper()
	var res api.LoginResponse
	l.mustCall(t, "POST", "/api/login", api.LoginRequest{LoginID: email, Password: testPassword, ApplicationID: appID}, &res)
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

// counter is an http.RoundTripper that counts the requests guard sends
// to Latch, by method and path, and can hold refresh calls back a little
// so that concurrent requests surely overlap.
type counter struct {
	base         http.RoundTripper // http.DefaultTransport when nil
	mu           sync.Mutex
	counts       map[string]int
	refreshDelay time.Duration
}

func (c *counter) RoundTrip(req *http.Request) (*http.Response, error) {
	c.mu.Lock()
	if c.counts == nil {
		c.counts = map[string]int{}
	}
	c.counts[req.Method+" "+req.URL.Path]++
	delay := c.refreshDelay
	c.mu.Unlock()
	if req.URL.Path == "/api/jwt/refresh" && delay > 0 {
		time.Sleep(delay)
	}
	if c.base != nil {
		return c.base.RoundTrip(req)
	}
	return http.DefaultTransport.RoundTrip(req)
}

// n returns the count of one "METHOD /path".
func (c *counter) n(key string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.counts[key]
}

// total returns the count of every request.
func (c *counter) total() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, v := range c.counts {
		n += v
	}
	return n
}

func (c *counter) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.counts = nil
}

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
	glog *syncBuffer
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
	f := &fixture{latch: l, rt: &counter{base: base}, glog: &syncBuffer{}}
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
		Logger:     slog.New(slog.NewTextHandler(f.glog, &slog.HandlerOptions{Level: slog.LevelDebug})),
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
