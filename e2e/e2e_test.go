package e2e_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/latchid/latch/api"
	"github.com/latchid/latch/internal/demo"
	"github.com/latchid/latch/internal/latchtest"
	"github.com/latchid/latch/internal/storefront"
)

// password is the user's password in the tests that choose it; it must
// never be printed or logged.
const password = latchtest.Password

// testContext returns a context that ends with the test or after a minute.
func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// secrets collects every credential that crosses a wire it watches: API
// keys, JWTs, refresh tokens and DPoP proofs in headers, and JWTs and
// refresh tokens in login and refresh bodies.
type secrets struct {
	mu  sync.Mutex
	set map[string]bool
}

func (s *secrets) add(v string) {
	v = strings.TrimSpace(strings.TrimPrefix(strings.TrimPrefix(v, "Bearer "), "DPoP "))
	if len(v) < 16 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.set == nil {
		s.set = map[string]bool{}
	}
	s.set[v] = true
}

func (s *secrets) addBody(b []byte) {
	var v struct {
		Token        string `json:"token"`
		RefreshToken string `json:"refreshToken"`
	}
	if json.Unmarshal(b, &v) == nil {
		s.add(v.Token)
		s.add(v.RefreshToken)
	}
}

// wrap returns a transport that records the secrets of what passes
// through next.
func (s *secrets) wrap(next http.RoundTripper) http.RoundTripper {
	return roundTripFunc(func(req *http.Request) (*http.Response, error) {
		s.add(req.Header.Get("Authorization"))
		s.add(req.Header.Get(api.HeaderRefreshToken))
		s.add(req.Header.Get(api.HeaderDPoP)) // a proof
		resp, err := next.RoundTrip(req)
		if err != nil {
			return nil, err
		}
		s.add(resp.Header.Get(api.HeaderAccessToken))
		s.add(resp.Header.Get(api.HeaderRefreshToken))
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return nil, err
		}
		s.addBody(b)
		resp.Body = io.NopCloser(bytes.NewReader(b))
		return resp, nil
	})
}

// leaked returns how many of the secrets text contains.
func (s *secrets) leaked(text string) (n, of int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for v := range s.set {
		if strings.Contains(text, v) {
			n++
		}
	}
	return n, len(s.set)
}

// stepLine matches a printed message or action: its step number, actor,
// and for a message the arrow and the receiver.
var stepLine = regexp.MustCompile(`^ *(\d+(?:-\d+)?)  (\S+) +(?:→ (\S+))?`)

func TestArticleSteps_Client(t *testing.T) {
	var out, logs latchtest.LogBuffer
	var seen secrets
	res, err := demo.Run(testContext(t), demo.Options{
		Out:             &out,
		Dir:             t.TempDir(),
		Password:        password,
		Logger:          logs.Logger(),
		LatchTransport:  seen.wrap,
		MobileTransport: seen.wrap,
	})
	t.Logf("demo output:\n%s", out.String())
	if err != nil {
		t.Fatalf("demo.Run: %v", err)
	}

	// Every step of the article was walked, and printed as a numbered line.
	covered := map[string]bool{}
	for _, s := range res.Steps {
		covered[s] = true
	}
	printed := map[string]bool{}
	for _, line := range strings.Split(out.String(), "\n") {
		if m := stepLine.FindStringSubmatch(line); m != nil {
			printed[m[1]] = true
		}
	}
	for i := 1; i <= 21; i++ {
		s := strconv.Itoa(i)
		if !covered[s] || !printed[s] {
			t.Errorf("step %d: walked %v, printed %v; want both", i, covered[s], printed[s])
		}
	}
	// The lines read like the sequence diagram.
	for _, want := range []string{
		"   2  Mobile    → Store     POST /api/login",
		"   3  Store     → Identity  POST /api/login",
		"   4  Identity  → Store     200",
		"   7  Store       verifies the JWT and the proof locally: no call to Identity",
		"  10  Store     → Identity  POST /api/jwt/refresh",
		"  15  Identity  → Store     400 [invalid]refreshToken",
		`  16  Store     → Mobile    401                         WWW-Authenticate: DPoP error="invalid_token"`,
		"  19  Store     → Attacker  401",
		"  21  Store     → Attacker  200",
		"  21  Store     → Attacker  401",
		// Latch's answers: DPoP, reuse detection, revocation events.
		"  19  Store     → Attacker  401                         \"The access token is DPoP-bound",
		"  19  Identity  → Store     400 [invalid]refreshToken   the session is bound to the key",
		"  19  Identity  → Store     POST /latch/events          jwt.refresh-token.revoke: session ",
		"  21  Store     → Attacker  401                         \"The DPoP proof was used before.\"",
		"  21  Operator  → Identity  DELETE /api/jwt/refresh/{id}",
		"  21  Store     → Attacker  401                         \"The access token has been revoked.\"",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the output lacks %q", want)
		}
	}

	// No secret is printed or logged: not the password, not the API key,
	// not one of the JWTs and refresh tokens that crossed the wire.
	if strings.Contains(out.String(), password) || strings.Contains(logs.String(), password) {
		t.Errorf("the password was printed or logged")
	}
	if n, of := seen.leaked(out.String()); n > 0 || of < 10 {
		t.Errorf("%d of %d tokens and keys seen on the wire are in the output (want 0 of at least 10)", n, of)
	}
	if n, of := seen.leaked(logs.String()); n > 0 {
		t.Errorf("%d of %d tokens and keys seen on the wire are in Latch's and the storefront's logs", n, of)
	}
	if res.Dir != "" {
		t.Errorf("Result.Dir = %q without Keep", res.Dir)
	}
}

// TestArticleSteps_ClientQuiet checks that a quiet walk that succeeds prints
// one line that says so, and that Keep keeps the data.
func TestArticleSteps_ClientQuiet(t *testing.T) {
	var out latchtest.LogBuffer
	parent := t.TempDir()
	res, err := demo.Run(testContext(t), demo.Options{Out: &out, Quiet: true, Keep: true, Dir: parent})
	if err != nil {
		t.Fatalf("demo.Run: %v\n%s", err, out.String())
	}
	if lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n"); len(lines) != 2 ||
		!strings.HasPrefix(lines[0], "All ") || !strings.Contains(lines[0], "scenes behaved as described") ||
		!strings.HasPrefix(lines[1], "Data kept in "+res.Dir) {
		t.Errorf("a quiet walk with Keep printed %q, want that all scenes passed and where the data is kept", out.String())
	}
	for _, f := range []string{"latch/latch.db", "storefront/" + storefront.DatabaseFile, "kickstart.json"} {
		if _, err := os.Stat(filepath.Join(res.Dir, f)); err != nil {
			t.Errorf("kept data: %v", err)
		}
	}
	ks, err := os.ReadFile(filepath.Join(res.Dir, "kickstart.json"))
	if err != nil || !strings.Contains(string(ks), "#{ENV.") {
		t.Errorf("the kickstart file should name its secrets as ENV placeholders, not hold them (err %v)", err)
	}
}

// TestArticleSteps_ClientFails checks that the walk cannot pass vacuously:
// when Latch, the storefront or the wire misbehave, it fails and names the
// step that did not behave as described.
func TestArticleSteps_ClientFails(t *testing.T) {
	onRefresh := func(f func(*http.Request, http.RoundTripper) (*http.Response, error)) func(http.RoundTripper) http.RoundTripper {
		return func(next http.RoundTripper) http.RoundTripper {
			return roundTripFunc(func(req *http.Request) (*http.Response, error) {
				if req.URL.Path == "/api/jwt/refresh" {
					return f(req, next)
				}
				return next.RoundTrip(req)
			})
		}
	}
	stripHeader := func(name string) func(http.RoundTripper) http.RoundTripper {
		return func(next http.RoundTripper) http.RoundTripper {
			return roundTripFunc(func(req *http.Request) (*http.Response, error) {
				resp, err := next.RoundTrip(req)
				if err == nil {
					resp.Header.Del(name)
				}
				return resp, err
			})
		}
	}
	// rewriteBody returns a transport that lets edit change the JSON body
	// of requests to path before they reach Latch.
	rewriteBody := func(path string, edit func(map[string]any)) func(http.RoundTripper) http.RoundTripper {
		return func(next http.RoundTripper) http.RoundTripper {
			return roundTripFunc(func(req *http.Request) (*http.Response, error) {
				if req.URL.Path != path || req.Body == nil {
					return next.RoundTrip(req)
				}
				var body map[string]any
				b, err := io.ReadAll(req.Body)
				req.Body.Close()
				if err != nil || json.Unmarshal(b, &body) != nil {
					return nil, fmt.Errorf("rewrite %s: the body is not JSON", path)
				}
				edit(body)
				b, _ = json.Marshal(body)
				req = req.Clone(req.Context())
				req.Body, req.ContentLength = io.NopCloser(bytes.NewReader(b)), int64(len(b))
				req.GetBody = nil
				return next.RoundTrip(req)
			})
		}
	}
	// The key of the first login the Store binds (Mobile's), for a Latch
	// that refreshes a bound session for whatever key it is told.
	var firstKey struct {
		sync.Mutex
		jkt string
	}
	anyKey := func(next http.RoundTripper) http.RoundTripper {
		login := rewriteBody("/api/login", func(b map[string]any) {
			firstKey.Lock()
			defer firstKey.Unlock()
			if jkt, _ := b["dpopJkt"].(string); firstKey.jkt == "" {
				firstKey.jkt = jkt
			}
		})(next)
		return rewriteBody("/api/jwt/refresh", func(b map[string]any) {
			firstKey.Lock()
			defer firstKey.Unlock()
			if _, ok := b["dpopJkt"]; ok {
				b["dpopJkt"] = firstKey.jkt
			}
		})(login)
	}
	for _, tc := range []struct {
		name     string
		opts     demo.Options
		wantStep string
	}{
		{
			name:     "reuse detection off",
			opts:     demo.Options{RevocationPolicy: func(p *api.RevocationPolicy) { p.OnOneTimeTokenReuse = false }},
			wantStep: "19",
		},
		{
			name:     "refresh tokens reusable",
			opts:     demo.Options{Application: func(a *api.Application) { a.JWTConfiguration.RefreshTokenUsagePolicy = api.RefreshReusable }},
			wantStep: "11",
		},
		{
			name:     "JWTs that live an hour",
			opts:     demo.Options{Application: func(a *api.Application) { a.JWTConfiguration.TimeToLiveInSeconds = 3600 }},
			wantStep: "4",
		},
		{
			name:     "the Store on its own clock",
			opts:     demo.Options{Storefront: func(c *storefront.Config) { c.Now = nil }},
			wantStep: "10",
		},
		{
			name: "Identity unavailable for refreshes",
			opts: demo.Options{LatchTransport: onRefresh(func(req *http.Request, _ http.RoundTripper) (*http.Response, error) {
				return &http.Response{StatusCode: http.StatusServiceUnavailable, Header: http.Header{}, Body: http.NoBody, Request: req}, nil
			})},
			wantStep: "11",
		},
		{
			name: "Identity accepts an expired refresh token",
			opts: demo.Options{LatchTransport: onRefresh(func(req *http.Request, next http.RoundTripper) (*http.Response, error) {
				resp, err := next.RoundTrip(req)
				if err != nil || resp.StatusCode != http.StatusBadRequest {
					return resp, err
				}
				// A made-up success: a JWT that is not Latch's.
				resp.Body.Close()
				return &http.Response{StatusCode: http.StatusOK, Header: http.Header{"Content-Type": {"application/json"}},
					Body: io.NopCloser(strings.NewReader(`{"token":"a.b.c","refreshToken":"forged-forged-forged"}`)), Request: req}, nil
			})},
			wantStep: "15",
		},
		{
			name:     "the Store's Refresh-Token header lost",
			opts:     demo.Options{MobileTransport: stripHeader(api.HeaderRefreshToken)},
			wantStep: "12",
		},
		{
			name:     "the Store's WWW-Authenticate lost",
			opts:     demo.Options{MobileTransport: stripHeader("WWW-Authenticate")},
			wantStep: "16",
		},
		{
			name:     "Identity ignores the app's key at login",
			opts:     demo.Options{LatchTransport: rewriteBody("/api/login", func(b map[string]any) { delete(b, "dpopJkt") })},
			wantStep: "4",
		},
		{
			name:     "Identity refreshes a bound session for another key",
			opts:     demo.Options{LatchTransport: anyKey},
			wantStep: "19",
		},
		{
			name: "revocation events do not reach the Store",
			opts: demo.Options{EventTransport: func(http.RoundTripper) http.RoundTripper {
				return roundTripFunc(func(*http.Request) (*http.Response, error) { return nil, errors.New("connection refused") })
			}},
			wantStep: "19",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out latchtest.LogBuffer
			opts := tc.opts
			opts.Out, opts.Quiet, opts.Dir = &out, true, t.TempDir()
			_, err := demo.Run(testContext(t), opts)
			t.Logf("%v\nquiet output:\n%s", err, out.String())
			var se *demo.StepError
			if !errors.As(err, &se) {
				t.Fatalf("demo.Run = %v, want a *demo.StepError\n%s", err, out.String())
			}
			if se.Step != tc.wantStep {
				t.Errorf("failed at step %s, want %s: %v\n%s", se.Step, tc.wantStep, err, out.String())
			}
			if !strings.Contains(err.Error(), "step "+tc.wantStep+" (") {
				t.Errorf("the error %q does not name step %s", err, tc.wantStep)
			}
			// Quiet, it prints the failing scene and the failure, nothing else.
			got := out.String()
			if !strings.Contains(got, "✗ FAILED") || strings.Count(got, "── ") != 1 || strings.Contains(got, "Latch demo:") {
				t.Errorf("quiet output of a failure:\n%s\nwant the failing scene's heading and lines and the failure only", got)
			}
		})
	}
}

// response is what a raw request got.
type response struct {
	status int
	header http.Header
	body   []byte
}

// rawClient sends requests with net/http alone: no SDK.
var rawClient = &http.Client{Timeout: 10 * time.Second}

// send sends method url with a JSON body (when not nil) and the headers
// given as name, value pairs.
func send(t *testing.T, ctx context.Context, method, url string, body any, header ...string) response {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := rawClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, url, err)
	}
	return response{resp.StatusCode, resp.Header, b}
}

// decode decodes r's JSON body into v, failing the step otherwise.
func decode(t *testing.T, step string, r response, v any) {
	t.Helper()
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("step %s: Content-Type %q, want application/json", step, ct)
	}
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("step %s: body %s: %v", step, r.body, err)
	}
}

// wantLatchCalls takes the storefront's calls to Latch and checks them,
// key-set fetches and guard's catch-ups on revocations aside (both come
// when guard needs them, not with a step), against want ("METHOD /path
// status").
func wantLatchCalls(t *testing.T, env *demo.Env, step string, want ...string) []demo.Exchange {
	t.Helper()
	var got []string
	var xs []demo.Exchange
	for _, x := range env.LatchCalls.Take() {
		if (x.Call() == "GET /.well-known/jwks.json" || x.Call() == "POST /api/system/webhook-event-log/search") &&
			x.Status == http.StatusOK {
			continue
		}
		got = append(got, fmt.Sprintf("%s %d", x.Call(), x.Status))
		xs = append(xs, x)
	}
	if strings.Join(got, ", ") != strings.Join(want, ", ") {
		t.Fatalf("step %s: the Store's calls to Latch were [%s], want [%s]", step, strings.Join(got, ", "), strings.Join(want, ", "))
	}
	return xs
}

// startEnv starts Latch and the storefront in-process, stopped when the
// test ends.
func startEnv(t *testing.T, opts demo.Options) *demo.Env {
	t.Helper()
	opts.Dir, opts.Password = t.TempDir(), password
	env, err := demo.Start(testContext(t), opts)
	if err != nil {
		t.Fatalf("demo.Start: %v", err)
	}
	t.Cleanup(func() {
		if err := env.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return env
}

// jwtExpiry returns a JWT's exp, unverified.
func jwtExpiry(t *testing.T, jwt string) time.Time {
	t.Helper()
	c, err := demo.Claims(jwt)
	if err != nil {
		t.Fatalf("JWT: %v", err)
	}
	return time.Unix(c.Expiry, 0)
}

func TestArticleSteps_RawHTTP(t *testing.T) {
	ctx := testContext(t)
	env := startEnv(t, demo.Options{})
	env.LatchCalls.Take() // the storefront's look-up of Latch's issuer
	store := env.StoreURL
	cart := store + "/api/cart"

	// Steps 2-5: the login, relayed to Latch with the application id and API key.
	r := send(t, ctx, "POST", store+"/api/login", storefront.LoginRequest{LoginID: demo.Email, Password: password})
	if r.status != http.StatusOK {
		t.Fatalf("step 5: POST /api/login = %d %s, want 200", r.status, r.body)
	}
	var login api.LoginResponse
	decode(t, "5", r, &login)
	if login.User == nil || login.User.Email != demo.Email || login.Token == "" || login.RefreshToken == "" {
		t.Fatalf("step 5: login answer lacks the user, the JWT or the refresh token: %s", r.body)
	}
	if got, want := time.UnixMilli(login.TokenExpirationInstant), env.Clock.Now().Add(demo.JWTLifetime); !got.Equal(want) {
		t.Errorf("step 5: tokenExpirationInstant %v, want %v", got, want)
	}
	if exp := jwtExpiry(t, login.Token); !exp.Equal(env.Clock.Now().Add(demo.JWTLifetime)) {
		t.Errorf("step 4: the JWT expires at %v, want in %v", exp, demo.JWTLifetime)
	}
	xs := wantLatchCalls(t, env, "3", "POST /api/login 200")
	var relayed api.LoginRequest
	if err := json.Unmarshal(xs[0].RequestBody, &relayed); err != nil || relayed.ApplicationID != env.AppID || relayed.Password != password {
		t.Errorf("step 3: the Store's login at Latch does not carry the credentials and the application id")
	}
	if xs[0].RequestHeader.Get("Authorization") != env.APIKey {
		t.Errorf("step 3: the Store's login at Latch does not carry the API key")
	}
	var issued api.LoginResponse
	if err := json.Unmarshal(xs[0].Body, &issued); err != nil || issued.Token != login.Token || issued.RefreshToken != login.RefreshToken {
		t.Errorf("step 4-5: the Store did not hand Latch's tokens on unchanged")
	}

	// Without a JWT the cart is refused.
	r = send(t, ctx, "GET", cart, nil)
	if r.status != http.StatusUnauthorized || r.header.Get("WWW-Authenticate") != "Bearer" {
		t.Errorf("GET /api/cart without a JWT = %d, WWW-Authenticate %q; want 401, Bearer", r.status, r.header.Get("WWW-Authenticate"))
	}
	wantLatchCalls(t, env, "6")

	// Steps 6-8: a valid JWT is verified locally.
	r = send(t, ctx, "GET", cart, nil, "Authorization", "Bearer "+login.Token)
	if r.status != http.StatusOK {
		t.Fatalf("step 8: GET /api/cart = %d %s, want 200", r.status, r.body)
	}
	var c storefront.Cart
	decode(t, "8", r, &c)
	if c.Items == nil || len(c.Items) != 0 || c.TotalCents != 0 {
		t.Errorf("step 8: a new user's cart = %s, want empty items", r.body)
	}
	if r.header.Get(api.HeaderAccessToken) != "" || r.header.Get(api.HeaderRefreshToken) != "" {
		t.Errorf("step 8: tokens in the answer to a valid JWT")
	}
	wantLatchCalls(t, env, "7") // the key set, fetched once, aside
	r = send(t, ctx, "POST", store+"/api/cart/items", storefront.AddItemRequest{SKU: "sticker-pack", Quantity: 3}, "Authorization", "Bearer "+login.Token)
	if r.status != http.StatusOK {
		t.Fatalf("step 8: POST /api/cart/items = %d %s", r.status, r.body)
	}
	decode(t, "8", r, &c)
	if len(c.Items) != 1 || c.Items[0].SKU != "sticker-pack" || c.Items[0].Quantity != 3 || c.TotalCents != 1200 {
		t.Errorf("step 8: cart %s, want 3 sticker packs for 1200", r.body)
	}
	if xs := env.LatchCalls.Take(); len(xs) != 0 {
		t.Errorf("step 7: the Store called Latch %d times for a valid JWT with the keys cached, want none", len(xs))
	}

	// Steps 9-12: the JWT expired; the Store refreshes it.
	env.Clock.Advance(demo.PastJWT)
	r = send(t, ctx, "GET", cart, nil, "Authorization", "Bearer "+login.Token)
	if r.status != http.StatusUnauthorized || !strings.Contains(r.header.Get("WWW-Authenticate"), `error="invalid_token"`) {
		t.Errorf("an expired JWT alone = %d, WWW-Authenticate %q; want 401 invalid_token", r.status, r.header.Get("WWW-Authenticate"))
	}
	wantLatchCalls(t, env, "9")
	r = send(t, ctx, "GET", cart, nil, "Authorization", "Bearer "+login.Token, api.HeaderRefreshToken, login.RefreshToken)
	if r.status != http.StatusOK {
		t.Fatalf("step 12: GET /api/cart with an expired JWT and the refresh token = %d %s, want 200", r.status, r.body)
	}
	xs = wantLatchCalls(t, env, "10", "POST /api/jwt/refresh 200")
	var presented api.RefreshRequest
	if err := json.Unmarshal(xs[0].RequestBody, &presented); err != nil || presented.RefreshToken != login.RefreshToken {
		t.Errorf("step 10: the Store presented another refresh token")
	}
	var refreshed api.JWTRefreshResponse
	if err := json.Unmarshal(xs[0].Body, &refreshed); err != nil {
		t.Fatalf("step 11: %v", err)
	}
	newJWT, newRT := r.header.Get(api.HeaderAccessToken), r.header.Get(api.HeaderRefreshToken)
	switch {
	case newJWT == "" || newJWT == login.Token || newJWT != refreshed.Token:
		t.Fatalf("step 12: Access-Token is not Latch's new JWT")
	case newRT == "" || newRT == login.RefreshToken || newRT != refreshed.RefreshToken:
		t.Fatalf("step 12: Refresh-Token is not Latch's rotated refresh token")
	case r.header.Get("Cache-Control") != "no-store":
		t.Errorf("step 12: Cache-Control %q on an answer carrying tokens, want no-store", r.header.Get("Cache-Control"))
	}
	if exp := jwtExpiry(t, newJWT); !exp.Equal(env.Clock.Now().Add(demo.JWTLifetime)) {
		t.Errorf("step 11: the new JWT expires at %v, want in %v", exp, demo.JWTLifetime)
	}
	decode(t, "12", r, &c)
	if len(c.Items) != 1 {
		t.Errorf("step 12: the cart after the refresh = %s", r.body)
	}
	// A request sent with the old tokens meanwhile (the app's parallel
	// request) gets the same new tokens, with no second call to Latch.
	r = send(t, ctx, "GET", cart, nil, "Authorization", "Bearer "+login.Token, api.HeaderRefreshToken, login.RefreshToken)
	if r.status != http.StatusOK || r.header.Get(api.HeaderAccessToken) != newJWT || r.header.Get(api.HeaderRefreshToken) != newRT {
		t.Errorf("a parallel request with the old tokens = %d, want 200 with the same new tokens", r.status)
	}
	wantLatchCalls(t, env, "10")
	// The new JWT alone now does.
	r = send(t, ctx, "GET", cart, nil, "Authorization", "Bearer "+newJWT)
	if r.status != http.StatusOK || r.header.Get(api.HeaderAccessToken) != "" {
		t.Errorf("step 6 with the new JWT = %d, want 200 without new tokens", r.status)
	}
	wantLatchCalls(t, env, "7")

	// Steps 13-16: the refresh token expired too.
	env.Clock.Advance(demo.PastRefresh)
	r = send(t, ctx, "GET", cart, nil, "Authorization", "Bearer "+newJWT, api.HeaderRefreshToken, newRT)
	xs = wantLatchCalls(t, env, "14", "POST /api/jwt/refresh 400")
	var errs api.Errors
	if err := json.Unmarshal(xs[0].Body, &errs); err != nil || !strings.Contains(errs.Error(), "[invalid]refreshToken") {
		t.Errorf("step 15: Latch's refusal %s, want [invalid]refreshToken", xs[0].Body)
	}
	if r.status != http.StatusUnauthorized {
		t.Fatalf("step 16: GET /api/cart with an expired refresh token = %d %s, want 401", r.status, r.body)
	}
	if h := r.header.Get("WWW-Authenticate"); !strings.HasPrefix(h, `Bearer error="invalid_token"`) {
		t.Errorf("step 16: WWW-Authenticate %q, want Bearer error=\"invalid_token\"", h)
	}
	var refusal struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	decode(t, "16", r, &refusal)
	if refusal.Error != "invalid_token" || !strings.Contains(refusal.Description, "log in again") {
		t.Errorf("step 16: body %s, want invalid_token telling the user to log in again", r.body)
	}
	if r.header.Get(api.HeaderAccessToken) != "" || r.header.Get(api.HeaderRefreshToken) != "" {
		t.Errorf("step 16: tokens in a 401")
	}

	// Step 17: back to the login form; the user logs in again.
	r = send(t, ctx, "POST", store+"/api/login", storefront.LoginRequest{LoginID: demo.Email, Password: password})
	var again api.LoginResponse
	decode(t, "17", r, &again)
	if r.status != http.StatusOK || again.Token == "" || again.RefreshToken == newRT {
		t.Fatalf("step 17: logging in again = %d, want 200 with a new session", r.status)
	}
	wantLatchCalls(t, env, "17", "POST /api/login 200")
	r = send(t, ctx, "GET", cart, nil, "Authorization", "Bearer "+again.Token)
	decode(t, "17", r, &c)
	if r.status != http.StatusOK || len(c.Items) != 1 || c.Items[0].Quantity != 3 {
		t.Errorf("the cart after logging in again = %d %s, want the same 3 sticker packs", r.status, r.body)
	}
}

func TestParallelRequestsOneRefresh(t *testing.T) {
	const n = 8
	// Hold Latch's answer to the refresh until all n requests are on the
	// wire, so that they overlap the refresh in flight.
	var sent sync.WaitGroup
	sent.Add(n)
	allSent := make(chan struct{})
	go func() { sent.Wait(); close(allSent) }()
	env := startEnv(t, demo.Options{LatchTransport: func(next http.RoundTripper) http.RoundTripper {
		return roundTripFunc(func(req *http.Request) (*http.Response, error) {
			if req.URL.Path == "/api/jwt/refresh" {
				select {
				case <-allSent:
				case <-req.Context().Done():
					return nil, req.Context().Err()
				}
			}
			return next.RoundTrip(req)
		})
	}})
	ctx := testContext(t)
	r := send(t, ctx, "POST", env.StoreURL+"/api/login", storefront.LoginRequest{LoginID: demo.Email, Password: password})
	var login api.LoginResponse
	decode(t, "5", r, &login)
	// Fetch the key set first, so that only refreshes remain to count.
	if r := send(t, ctx, "GET", env.StoreURL+"/api/cart", nil, "Authorization", "Bearer "+login.Token); r.status != http.StatusOK {
		t.Fatalf("GET /api/cart = %d", r.status)
	}
	env.LatchCalls.Take()
	env.Clock.Advance(demo.PastJWT)

	counted := roundTripFunc(func(req *http.Request) (*http.Response, error) {
		sent.Done()
		return http.DefaultTransport.RoundTrip(req)
	})
	hc := &http.Client{Transport: counted, Timeout: 30 * time.Second}
	type result struct {
		status      int
		jwt, rt     string
		err         error
		cartMatches bool
	}
	results := make(chan result, n)
	start := make(chan struct{})
	for range n {
		go func() {
			<-start
			req, _ := http.NewRequestWithContext(ctx, "GET", env.StoreURL+"/api/cart", nil)
			req.Header.Set("Authorization", "Bearer "+login.Token)
			req.Header.Set(api.HeaderRefreshToken, login.RefreshToken)
			resp, err := hc.Do(req)
			if err != nil {
				results <- result{err: err}
				return
			}
			defer resp.Body.Close()
			var c storefront.Cart
			err = json.NewDecoder(resp.Body).Decode(&c)
			results <- result{status: resp.StatusCode, jwt: resp.Header.Get(api.HeaderAccessToken),
				rt: resp.Header.Get(api.HeaderRefreshToken), err: err, cartMatches: c.Items != nil}
		}()
	}
	close(start)
	var jwts, rts = map[string]int{}, map[string]int{}
	for range n {
		res := <-results
		if res.err != nil || res.status != http.StatusOK || !res.cartMatches {
			t.Errorf("a parallel request: status %d, err %v; want 200 with the cart", res.status, res.err)
			continue
		}
		jwts[res.jwt]++
		rts[res.rt]++
	}
	refreshes := 0
	var issued api.JWTRefreshResponse
	for _, x := range env.LatchCalls.Take() {
		if x.Call() == "POST /api/jwt/refresh" {
			refreshes++
			json.Unmarshal(x.Body, &issued)
		}
	}
	if refreshes != 1 {
		t.Errorf("%d parallel requests with one expired JWT made %d calls to Latch's refresh, want 1", n, refreshes)
	}
	if len(jwts) != 1 || jwts[issued.Token] != n || issued.Token == "" {
		t.Errorf("the %d requests were served %d distinct JWTs, want all %d the one Latch issued", n, len(jwts), n)
	}
	if len(rts) != 1 || rts[issued.RefreshToken] != n || issued.RefreshToken == login.RefreshToken {
		t.Errorf("the %d requests got %d distinct refresh tokens, want all the one rotated refresh token", n, len(rts))
	}
}

// goBuild builds the package pkg (relative to the module root) into dir.
func goBuild(t *testing.T, ctx context.Context, dir, pkg string) string {
	t.Helper()
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to build the binaries with")
	}
	out := filepath.Join(dir, filepath.Base(pkg))
	cmd := exec.CommandContext(ctx, gobin, "build", "-o", out, pkg)
	cmd.Dir = ".."
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, b)
	}
	return out
}

// process is a child process whose stderr (its log) is collected.
type process struct {
	cmd *exec.Cmd
	log latchtest.LogBuffer
}

// startProcess runs bin with args and env (on top of an environment
// without LATCH_ and STOREFRONT_ variables), stopped when the test ends.
func startProcess(t *testing.T, bin string, env []string, args ...string) *process {
	t.Helper()
	p := &process{cmd: exec.Command(bin, args...)}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "LATCH_") && !strings.HasPrefix(kv, "STOREFRONT_") {
			p.cmd.Env = append(p.cmd.Env, kv)
		}
	}
	p.cmd.Env = append(p.cmd.Env, env...)
	p.cmd.Stderr = &p.log
	p.cmd.Stdout = &p.log
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	t.Cleanup(func() {
		// Interrupt for a graceful stop; kill if it takes too long.
		p.cmd.Process.Signal(os.Interrupt)
		done := make(chan error, 1)
		go func() { done <- p.cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			p.cmd.Process.Kill()
			<-done
			t.Errorf("%s did not stop on an interrupt within 10s; killed", filepath.Base(bin))
		}
		if t.Failed() {
			t.Logf("%s log:\n%s", filepath.Base(bin), p.log.String())
		}
	})
	return p
}

// listening waits until the process logs msg with its listen address,
// and returns the address.
func (p *process) listening(t *testing.T, msg string) string {
	t.Helper()
	re := regexp.MustCompile(`msg="` + regexp.QuoteMeta(msg) + `" addr=(127\.0\.0\.1:\d+)`)
	var m []string
	if !latchtest.Poll(20*time.Second, func() bool { m = re.FindStringSubmatch(p.log.String()); return m != nil }) {
		t.Fatalf("no %q in the log within 20s:\n%s", msg, p.log.String())
	}
	return m[1]
}

func TestRealBinaries(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binaries")
	}
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	bin := t.TempDir()
	latchBin := goBuild(t, ctx, bin, "./cmd/latch")
	storefrontBin := goBuild(t, ctx, bin, "./cmd/storefront")

	// Latch, set up on its first start: the application Default and the
	// bootstrap API key in its data directory.
	latchData := t.TempDir()
	latch := startProcess(t, latchBin, nil, "serve", "--addr", "127.0.0.1:0", "--data", latchData)
	latchURL := "http://" + latch.listening(t, "latch listening")
	key := latchtest.BootstrapKey(t, latchData)
	r := send(t, ctx, "GET", latchURL+"/api/application", nil, "Authorization", key)
	var apps api.ApplicationResponse
	decode(t, "setup", r, &apps)
	if len(apps.Applications) != 1 {
		t.Fatalf("applications: %s", r.body)
	}
	appID := apps.Applications[0].ID
	r = send(t, ctx, "POST", latchURL+"/api/user/registration", map[string]any{
		"user":         map[string]any{"email": demo.Email, "password": password},
		"registration": map[string]any{"applicationId": appID},
	}, "Authorization", key)
	if r.status != http.StatusOK {
		t.Fatalf("register the user: %d %s", r.status, r.body)
	}

	// The storefront, with the key in its environment rather than its flags.
	sf := startProcess(t, storefrontBin, []string{"STOREFRONT_API_KEY=" + key},
		"--addr", "127.0.0.1:0", "--latch", latchURL, "--application-id", appID, "--data", t.TempDir())
	store := "http://" + sf.listening(t, "storefront listening")

	// Steps 2-5.
	r = send(t, ctx, "POST", store+"/api/login", storefront.LoginRequest{LoginID: demo.Email, Password: password})
	var login api.LoginResponse
	decode(t, "5", r, &login)
	if r.status != http.StatusOK || login.Token == "" || login.RefreshToken == "" || login.User == nil || login.User.Email != demo.Email {
		t.Fatalf("step 5: login = %d %s", r.status, r.body)
	}
	// Steps 6-8.
	r = send(t, ctx, "POST", store+"/api/cart/items", storefront.AddItemRequest{SKU: "latch-cap", Quantity: 1}, "Authorization", "Bearer "+login.Token)
	var c storefront.Cart
	decode(t, "8", r, &c)
	if r.status != http.StatusOK || len(c.Items) != 1 || c.Items[0].SKU != "latch-cap" {
		t.Fatalf("step 8: add to cart = %d %s", r.status, r.body)
	}
	r = send(t, ctx, "GET", store+"/api/cart", nil, "Authorization", "Bearer "+login.Token)
	decode(t, "8", r, &c)
	if r.status != http.StatusOK || len(c.Items) != 1 {
		t.Fatalf("step 8: GET /api/cart = %d %s", r.status, r.body)
	}
	// Log out: the refresh token is revoked at Latch.
	r = send(t, ctx, "POST", store+"/api/logout", storefront.LogoutRequest{}, "Authorization", "Bearer "+login.Token, api.HeaderRefreshToken, login.RefreshToken)
	if r.status != http.StatusOK || strings.TrimSpace(string(r.body)) != "{}" {
		t.Fatalf("logout = %d %s, want 200 {}", r.status, r.body)
	}
	r = send(t, ctx, "POST", latchURL+"/api/jwt/refresh", api.RefreshRequest{RefreshToken: login.RefreshToken})
	if r.status != http.StatusBadRequest {
		t.Errorf("Latch's refresh of the logged-out refresh token = %d, want 400", r.status)
	}
	r = send(t, ctx, "GET", store+"/api/cart", nil, "Authorization", "Bearer not-a-jwt", api.HeaderRefreshToken, login.RefreshToken)
	if r.status != http.StatusUnauthorized {
		t.Errorf("the Store's answer to the logged-out refresh token = %d, want 401", r.status)
	}
	// Neither process logged the password or a token.
	for _, p := range []*process{latch, sf} {
		for _, secret := range []string{password, login.Token, login.RefreshToken, key} {
			if strings.Contains(p.log.String(), secret) {
				t.Errorf("%s logged a secret", filepath.Base(p.cmd.Path))
			}
		}
	}

	// `latch demo --quiet` as a process: one line, exit 0.
	cmd := exec.CommandContext(ctx, latchBin, "demo", "--quiet", "--dir", t.TempDir())
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		t.Fatalf("latch demo --quiet: %v\nstdout:\n%s\nstderr:\n%s", err, out.String(), errOut.String())
	}
	if got := out.String(); strings.Count(got, "\n") != 1 || !strings.HasPrefix(got, "All ") || !strings.Contains(got, "scenes behaved as described") {
		t.Errorf("latch demo --quiet printed:\n%s\nwant one line saying all scenes passed", got)
	}
	// And without --quiet, every step.
	cmd = exec.CommandContext(ctx, latchBin, "demo", "--dir", t.TempDir())
	out.Reset()
	cmd.Stdout = &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("latch demo: %v\n%s", err, out.String())
	}
	sc := bufio.NewScanner(&out)
	steps := map[string]bool{}
	for sc.Scan() {
		if m := stepLine.FindStringSubmatch(sc.Text()); m != nil {
			steps[m[1]] = true
		}
	}
	for i := 1; i <= 21; i++ {
		if !steps[strconv.Itoa(i)] {
			t.Errorf("latch demo printed no line for step %d", i)
		}
	}
}
