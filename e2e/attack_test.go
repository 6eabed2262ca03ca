package e2e_test

import (
	"bytes"
	"context"
	"crypto"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/latchid/latch/api"
	"github.com/latchid/latch/client"
	"github.com/latchid/latch/dpop"
	"github.com/latchid/latch/internal/demo"
	"github.com/latchid/latch/internal/latchtest"
	"github.com/latchid/latch/internal/storefront"
)

// The attacker's side of the article's steps 18-21, over real HTTP: Latch
// and the storefront in-process on loopback (startEnv), the user's devices
// running the client SDK (DPoP on, as apps get it by default), and a thief
// who sends what it stole with net/http alone.

// device is one of the user's devices: the app's client SDK with its own
// token store, and so its own DPoP key.
type device struct {
	name          string
	client        *client.Client
	store         *client.MemoryStore
	loginRequired atomic.Int32
}

// newDevice returns a logged-out device of the app, talking to the
// storefront on the demo's clock, its requests going through wrap when
// not nil.
func newDevice(env *demo.Env, name string, wrap func(http.RoundTripper) http.RoundTripper) *device {
	d := &device{name: name, store: new(client.MemoryStore)}
	var tr http.RoundTripper = http.DefaultTransport
	if wrap != nil {
		tr = wrap(tr)
	}
	d.client = &client.Client{
		BaseURL:         env.StoreURL,
		HTTPClient:      &http.Client{Transport: tr, Timeout: 10 * time.Second},
		Store:           d.store,
		Now:             env.Clock.Now,
		OnLoginRequired: func() { d.loginRequired.Add(1) },
	}
	return d
}

// login logs the device in through the storefront.
func (d *device) login(t *testing.T, ctx context.Context) client.Tokens {
	t.Helper()
	if _, err := d.client.Login(ctx, demo.Email, password); err != nil {
		t.Fatalf("%s: login: %v", d.name, err)
	}
	return d.tokens(t, ctx)
}

// tokens returns what the device holds.
func (d *device) tokens(t *testing.T, ctx context.Context) client.Tokens {
	t.Helper()
	tok, err := d.client.Tokens(ctx)
	if err != nil {
		t.Fatalf("%s holds no tokens: %v", d.name, err)
	}
	return tok
}

// get sends GET path to the storefront through the device's client, which
// attaches its tokens (and its proof), and returns the status; the body is
// discarded. A transport error is returned as such.
func (d *device) get(ctx context.Context, env *demo.Env, path string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, env.StoreURL+path, nil)
	if err != nil {
		return 0, err
	}
	resp, err := d.client.HTTP().Do(req)
	if err != nil {
		return 0, err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}

// mustGet is get, failing the test unless the storefront answers want.
func (d *device) mustGet(t *testing.T, ctx context.Context, env *demo.Env, path string, want int, why string) {
	t.Helper()
	status, err := d.get(ctx, env, path)
	if err != nil || status != want {
		t.Fatalf("%s: GET %s = %d (%v), want %d: %s", d.name, path, status, err, want, why)
	}
}

// loot is what a thief copied off a device: the tokens and, when it got
// that far, the device's DPoP key.
type loot struct {
	jwt, refreshToken string
	key               crypto.Signer // nil: the thief does not have the key
}

// steal copies a device's tokens, and its key when withKey.
func steal(t *testing.T, ctx context.Context, d *device, withKey bool) loot {
	t.Helper()
	tok := d.tokens(t, ctx)
	l := loot{jwt: tok.AccessToken, refreshToken: tok.RefreshToken}
	if withKey && len(tok.DPoPKey) > 0 {
		k, err := dpop.ParseKey(tok.DPoPKey)
		if err != nil {
			t.Fatalf("the stolen key: %v", err)
		}
		l.key = k
	}
	return l
}

// get sends GET path to the storefront as the thief, in raw net/http: the
// JWT (as DPoP with a fresh proof when the thief has a key and the JWT is
// bound, else as Bearer) and, when withRefresh, the refresh token.
func (l loot) get(t *testing.T, ctx context.Context, env *demo.Env, path string, withRefresh bool) response {
	t.Helper()
	h := []string{"Authorization", "Bearer " + l.jwt}
	if l.key != nil {
		proof, err := dpop.NewProof(l.key, http.MethodGet, env.StoreURL+path, dpop.ProofOptions{AccessToken: l.jwt, Now: env.Clock.Now()})
		if err != nil {
			t.Fatal(err)
		}
		h = append(h, dpop.Header, proof)
		if boundJKT(l.jwt) != "" {
			h[1] = "DPoP " + l.jwt
		}
	}
	if withRefresh {
		h = append(h, api.HeaderRefreshToken, l.refreshToken)
	}
	return send(t, ctx, http.MethodGet, env.StoreURL+path, nil, h...)
}

// sessionOf returns a JWT's sid: its session's (refresh token's) id.
func sessionOf(t *testing.T, jwt string) string {
	t.Helper()
	c, err := demo.Claims(jwt)
	if err != nil || c.SessionID == "" {
		t.Fatalf("a JWT without sid (%v)", err)
	}
	return c.SessionID
}

// userOf returns a JWT's sub.
func userOf(t *testing.T, jwt string) string {
	t.Helper()
	c, err := demo.Claims(jwt)
	if err != nil || c.Subject == "" {
		t.Fatalf("a JWT without sub (%v)", err)
	}
	return c.Subject
}

// live reports whether the session sid is live at Latch.
func live(t *testing.T, ctx context.Context, env *demo.Env, userID, sid string) bool {
	t.Helper()
	ids, err := env.LiveSessions(ctx, userID)
	if err != nil {
		t.Fatal(err)
	}
	return slices.Contains(ids, sid)
}

// admin sends a request to Latch with its admin API key and decodes a 2xx
// answer into out (when not nil).
func admin(t *testing.T, ctx context.Context, env *demo.Env, method, path string, body, out any) {
	t.Helper()
	r := send(t, ctx, method, env.LatchURL+path, body, "Authorization", env.APIKey)
	if r.status/100 != 2 {
		t.Fatalf("%s %s at Latch = %d %s", method, path, r.status, r.body)
	}
	if out != nil {
		if err := json.Unmarshal(r.body, out); err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
	}
}

// enableRevokeEvents turns on the tenant's jwt.refresh-token.revoke
// events, which Latch sends only for tenants that enable them.
func enableRevokeEvents(t *testing.T, ctx context.Context, env *demo.Env) {
	t.Helper()
	var tenants api.TenantResponse
	admin(t, ctx, env, "GET", "/api/tenant", nil, &tenants)
	for _, tn := range tenants.Tenants {
		admin(t, ctx, env, "PATCH", "/api/tenant/"+tn.ID, map[string]any{"tenant": map[string]any{
			"eventConfiguration": map[string]any{"events": map[string]any{
				api.EventJWTRefreshTokenRevoke: map[string]any{"enabled": true, "transactionType": "None"},
			}},
		}}, nil)
	}
}

// revocations is a webhook receiver registered at Latch for
// jwt.refresh-token.revoke: the operator's view of why sessions ended.
type revocations struct {
	ctx context.Context // the test's
	env *demo.Env       // the Latch that sends the events

	mu  sync.Mutex
	got []api.JWTRefreshTokenRevokeEvent
}

// watchRevocations starts a receiver and registers it at Latch.
func watchRevocations(t *testing.T, ctx context.Context, env *demo.Env) *revocations {
	t.Helper()
	rv := &revocations{ctx: ctx, env: env}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var ev api.EventRequest[api.JWTRefreshTokenRevokeEvent]
		if err := json.NewDecoder(r.Body).Decode(&ev); err == nil && ev.Event.Type == api.EventJWTRefreshTokenRevoke {
			rv.mu.Lock()
			rv.got = append(rv.got, ev.Event)
			rv.mu.Unlock()
		}
	}))
	t.Cleanup(srv.Close)
	enableRevokeEvents(t, ctx, env)
	admin(t, ctx, env, "POST", "/api/webhook", api.WebhookRequest{Webhook: api.Webhook{
		URL: srv.URL + "/revocations", Global: true, ConnectTimeout: 1000, ReadTimeout: 2000,
		EventsEnabled: map[string]bool{api.EventJWTRefreshTokenRevoke: true},
	}}, nil)
	return rv
}

// of returns the revocations received so far that name session sid.
func (rv *revocations) of(sid string) []api.JWTRefreshTokenRevokeEvent {
	rv.mu.Lock()
	defer rv.mu.Unlock()
	var out []api.JWTRefreshTokenRevokeEvent
	for _, ev := range rv.got {
		if ev.SessionID == sid {
			out = append(out, ev)
		}
	}
	return out
}

// wait waits (a few seconds at most) for the revocation of session sid
// and checks its reason.
func (rv *revocations) wait(t *testing.T, sid, reason string) {
	t.Helper()
	latchtest.WaitUntil(t, 10*time.Second, "a jwt.refresh-token.revoke event for session "+sid, func() bool { return len(rv.of(sid)) > 0 })
	if evs := rv.of(sid); evs[0].Reason != reason {
		t.Errorf("session %s was revoked for %q, want %q", sid, evs[0].Reason, reason)
	}
}

// none checks that no revocation of session sid arrived: once Latch's
// outbox has settled, every event it will send has reached the receiver.
func (rv *revocations) none(t *testing.T, sid string) {
	t.Helper()
	settled(t, rv.ctx, rv.env)
	if evs := rv.of(sid); len(evs) > 0 {
		t.Errorf("session %s was revoked (%q), want it untouched", sid, evs[0].Reason)
	}
}

// settled waits until no event in Latch's outbox has a delivery left to
// make (its Webhook Event Log has none Running). Every event is in the
// outbox once the request that caused it is answered, and a receiver has
// had a delivery before Latch records it: from then on, what the
// receivers got is all they will get, and what they did with it is done.
func settled(t *testing.T, ctx context.Context, env *demo.Env) {
	t.Helper()
	search := api.WebhookEventLogSearchRequest{Search: api.WebhookEventLogSearchCriteria{
		Start: 1, End: time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli(), EventResult: api.WebhookEventRunning, NumberOfResults: 1,
	}}
	var res api.WebhookEventLogSearchResponse
	latchtest.WaitUntil(t, 15*time.Second, "Latch's outbox to settle", func() bool {
		admin(t, ctx, env, "POST", "/api/system/webhook-event-log/search", search, &res)
		return res.Total == 0
	})
}

// loginAtLatch logs the user in directly at Latch with the storefront's
// API key (the flow's step 3).
func loginAtLatch(t *testing.T, ctx context.Context, env *demo.Env) api.LoginResponse {
	t.Helper()
	var login api.LoginResponse
	admin(t, ctx, env, "POST", "/api/login", api.LoginRequest{LoginID: demo.Email, Password: password, ApplicationID: env.AppID}, &login)
	if login.RefreshToken == "" || login.Token == "" {
		t.Fatal("Latch's login answer lacks the tokens")
	}
	return login
}

// TestAttack_ConcurrentRefreshOneSuccessor: many refreshes of one
// one-time-use refresh token at once (an app's parallel requests, or
// several backend instances) rotate it exactly once; every one of them
// gets the same successor. Unbound, and DPoP-bound with a fresh proof of
// the device key on each request.
func TestAttack_ConcurrentRefreshOneSuccessor(t *testing.T) {
	for _, bound := range []bool{false, true} {
		name := "unbound"
		if bound {
			name = "DPoP-bound"
		}
		t.Run(name, func(t *testing.T) { concurrentRefreshes(t, bound) })
	}
}

func concurrentRefreshes(t *testing.T, bound bool) {
	const n = 16
	ctx := testContext(t)
	env := startEnv(t, demo.Options{})
	rv := watchRevocations(t, ctx, env)
	refreshURL := env.LatchURL + "/api/jwt/refresh"
	var key crypto.Signer
	var login api.LoginResponse
	if bound {
		key = newKey(t)
		r := send(t, ctx, "POST", env.LatchURL+"/api/login", api.LoginRequest{LoginID: demo.Email, Password: password, ApplicationID: env.AppID},
			"Authorization", env.APIKey, dpop.Header, proofBy(t, env, key, "POST", env.LatchURL+"/api/login", "", 0))
		decode(t, "4", r, &login)
		jkt, _ := dpop.Thumbprint(key.Public())
		if r.status != http.StatusOK || boundJKT(login.Token) != jkt {
			t.Fatalf("a login with a proof at Latch = %d, want 200 and a JWT bound to the key", r.status)
		}
	} else {
		login = loginAtLatch(t, ctx, env)
	}
	sid := login.RefreshTokenID
	// refresh presents a refresh token at Latch, with a fresh proof of the
	// key when the session is bound.
	refresh := func(refreshToken string) (int, api.JWTRefreshResponse, []byte, error) {
		body, _ := json.Marshal(api.RefreshRequest{RefreshToken: refreshToken})
		req, _ := http.NewRequestWithContext(ctx, "POST", refreshURL, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if key != nil {
			p, err := dpop.NewProof(key, "POST", refreshURL, dpop.ProofOptions{Now: env.Clock.Now()})
			if err != nil {
				return 0, api.JWTRefreshResponse{}, nil, err
			}
			req.Header.Set(dpop.Header, p)
		}
		resp, err := rawClient.Do(req)
		if err != nil {
			return 0, api.JWTRefreshResponse{}, nil, err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		var res api.JWTRefreshResponse
		if err == nil && resp.StatusCode == http.StatusOK {
			err = json.Unmarshal(b, &res)
		}
		return resp.StatusCode, res, b, err
	}

	type result struct {
		status int
		res    api.JWTRefreshResponse
		body   []byte
		err    error
	}
	results := make(chan result, n)
	start := make(chan struct{})
	for range n {
		go func() {
			<-start
			status, res, body, err := refresh(login.RefreshToken)
			results <- result{status, res, body, err}
		}()
	}
	close(start)
	successors := map[string]int{}
	for range n {
		r := <-results
		if r.err != nil || r.status != http.StatusOK || r.res.Token == "" {
			t.Errorf("a concurrent refresh: %d %s (%v), want 200 with a JWT", r.status, r.body, r.err)
			continue
		}
		if r.res.RefreshTokenID != "" && r.res.RefreshTokenID != sid {
			t.Errorf("a concurrent refresh answered for session %s, want %s: the session id stays", r.res.RefreshTokenID, sid)
		}
		if c, err := demo.Claims(r.res.Token); err != nil || c.SessionID != sid {
			t.Errorf("a concurrent refresh's JWT has sid %q, want %s", c.SessionID, sid)
		}
		if boundJKT(r.res.Token) != boundJKT(login.Token) {
			t.Errorf("a concurrent refresh's JWT is bound to %q, want %q", boundJKT(r.res.Token), boundJKT(login.Token))
		}
		successors[r.res.RefreshToken]++
	}
	if len(successors) != 1 {
		t.Fatalf("%d concurrent refreshes got %d distinct refresh tokens, want all the same successor", n, len(successors))
	}
	var next string
	for next = range successors {
	}
	if next == "" || next == login.RefreshToken {
		t.Fatalf("the refresh token was not rotated")
	}

	// Exactly one rotation: the original value is still the session's
	// previous one (within the grace period it gets the same successor; a
	// second rotation would have made it reuse), and the successor is the
	// current one (it rotates, and the session goes on).
	if status, res, _, err := refresh(login.RefreshToken); err != nil || status != http.StatusOK || res.RefreshToken != next {
		t.Fatalf("the original value again within the grace period = %d (%v), the same successor: %v; want 200 and the same successor",
			status, err, res.RefreshToken == next)
	}
	status, res, _, err := refresh(next)
	if err != nil || status != http.StatusOK || res.RefreshToken == next || res.RefreshToken == "" {
		t.Fatalf("the successor = %d (%v), want 200 and a new rotation", status, err)
	}
	if status, again, _, err := refresh(res.RefreshToken); err != nil || status != http.StatusOK || again.RefreshToken == res.RefreshToken {
		t.Fatalf("the session's third value = %d (%v), want 200 and a rotation", status, err)
	}
	if !live(t, ctx, env, userOf(t, login.Token), sid) {
		t.Fatal("the session is not live after the concurrent refreshes")
	}
	rv.none(t, sid)
}

// boundJKT returns a JWT's cnf.jkt, unverified ("" when unbound).
func boundJKT(jwt string) string {
	c, err := demo.Claims(jwt)
	if err != nil || c.Confirmation == nil {
		return ""
	}
	return c.Confirmation.JKT
}

// TestAttack_LostResponseRetry: a refresh whose answer is lost on the way
// (the caller never sees the successor) is retried with the previous
// value; within Latch's grace period (or guard's reuse window) the retry
// gets the same successor, the session goes on, and nothing is mistaken
// for theft.
func TestAttack_LostResponseRetry(t *testing.T) {
	// lose returns a transport that delivers the request but loses the
	// answer of the first one that match selects, keeping it in lost.
	lose := func(match func(*http.Request) bool, lost *[]byte) func(http.RoundTripper) http.RoundTripper {
		var once sync.Once
		return func(next http.RoundTripper) http.RoundTripper {
			return roundTripFunc(func(req *http.Request) (*http.Response, error) {
				resp, err := next.RoundTrip(req)
				if err != nil || !match(req) {
					return resp, err
				}
				dropped := false
				once.Do(func() {
					b, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					*lost, dropped = b, true
				})
				if dropped {
					return nil, errors.New("connection reset (the answer was lost)")
				}
				return resp, nil
			})
		}
	}

	t.Run("between Store and Identity", func(t *testing.T) {
		ctx := testContext(t)
		var lost []byte
		env := startEnv(t, demo.Options{LatchTransport: lose(func(r *http.Request) bool { return r.URL.Path == "/api/jwt/refresh" }, &lost)})
		rv := watchRevocations(t, ctx, env)
		mobile := newDevice(env, "Mobile", nil)
		before := mobile.login(t, ctx)
		sid := sessionOf(t, before.AccessToken)
		env.Clock.Advance(demo.PastJWT)
		env.LatchCalls.Take()

		// Latch rotated the refresh token, and the Store never heard: it
		// tells the app to try again later, and the app keeps its tokens.
		if status, err := mobile.get(ctx, env, "/api/cart"); err != nil || status != http.StatusServiceUnavailable {
			t.Fatalf("Mobile's request whose refresh answer was lost = %d (%v), want 503", status, err)
		}
		wantLatchCalls(t, env, "10", "POST /api/jwt/refresh 0") // the Store saw no answer
		var rotated api.JWTRefreshResponse
		if err := json.Unmarshal(lost, &rotated); err != nil || rotated.RefreshToken == "" || rotated.RefreshToken == before.RefreshToken {
			t.Fatalf("the lost answer %q is not a rotation", lost)
		}
		if got := mobile.tokens(t, ctx); got.RefreshToken != before.RefreshToken {
			t.Fatal("Mobile changed its refresh token without an answer")
		}
		// The retry presents the previous value, within the grace period:
		// the same successor.
		mobile.mustGet(t, ctx, env, "/api/cart", http.StatusOK, "the retry within the grace period")
		xs := wantLatchCalls(t, env, "10", "POST /api/jwt/refresh 200")
		var retried api.JWTRefreshResponse
		if err := json.Unmarshal(xs[0].Body, &retried); err != nil || retried.RefreshToken != rotated.RefreshToken {
			t.Fatalf("the retry got another successor than the lost one, want the same")
		}
		if got := mobile.tokens(t, ctx); got.RefreshToken != rotated.RefreshToken {
			t.Fatal("Mobile does not hold the successor")
		}
		// The session carries on: past the grace period, the next refresh
		// rotates the successor.
		env.Clock.Advance(demo.PastJWT)
		mobile.mustGet(t, ctx, env, "/api/cart", http.StatusOK, "the next refresh")
		wantLatchCalls(t, env, "10", "POST /api/jwt/refresh 200")
		if got := mobile.tokens(t, ctx); got.RefreshToken == rotated.RefreshToken || sessionOf(t, got.AccessToken) != sid {
			t.Fatal("the next refresh did not rotate within the same session")
		}
		if !live(t, ctx, env, userOf(t, before.AccessToken), sid) || mobile.loginRequired.Load() != 0 {
			t.Fatal("the session ended")
		}
		rv.none(t, sid)
	})

	t.Run("between Store and app", func(t *testing.T) {
		ctx := testContext(t)
		var lost []byte
		env := startEnv(t, demo.Options{})
		rv := watchRevocations(t, ctx, env)
		mobile := newDevice(env, "Mobile", lose(func(r *http.Request) bool { return r.Header.Get(api.HeaderRefreshToken) != "" }, &lost))
		before := mobile.login(t, ctx)
		sid := sessionOf(t, before.AccessToken)
		env.Clock.Advance(demo.PastJWT)
		env.LatchCalls.Take()

		if _, err := mobile.get(ctx, env, "/api/cart"); err == nil {
			t.Fatal("the lost answer reached Mobile")
		}
		wantLatchCalls(t, env, "10", "POST /api/jwt/refresh 200")
		if got := mobile.tokens(t, ctx); got.RefreshToken != before.RefreshToken {
			t.Fatal("Mobile changed its refresh token without an answer")
		}
		// guard serves the retry the refresh it already made.
		mobile.mustGet(t, ctx, env, "/api/cart", http.StatusOK, "the retry")
		wantLatchCalls(t, env, "10")
		got := mobile.tokens(t, ctx)
		if got.RefreshToken == before.RefreshToken || sessionOf(t, got.AccessToken) != sid {
			t.Fatal("Mobile did not get the successor")
		}
		// Later still, past every window, the session goes on.
		env.Clock.Advance(demo.PastJWT)
		mobile.mustGet(t, ctx, env, "/api/cart", http.StatusOK, "the next refresh")
		wantLatchCalls(t, env, "10", "POST /api/jwt/refresh 200")
		if !live(t, ctx, env, userOf(t, before.AccessToken), sid) || mobile.loginRequired.Load() != 0 {
			t.Fatal("the session ended")
		}
		rv.none(t, sid)
	})
}

// twoDevices starts the system with a revocation watcher and the user
// logged in on two devices.
func twoDevices(t *testing.T, ctx context.Context) (*demo.Env, *revocations, *device, *device) {
	t.Helper()
	env := startEnv(t, demo.Options{})
	rv := watchRevocations(t, ctx, env)
	mobile, tablet := newDevice(env, "Mobile", nil), newDevice(env, "Tablet", nil)
	mobile.login(t, ctx)
	tablet.login(t, ctx)
	return env, rv, mobile, tablet
}

// untouched checks that the other device's session survived: live at
// Latch, not revoked, and refreshing.
func untouched(t *testing.T, ctx context.Context, env *demo.Env, rv *revocations, d *device) {
	t.Helper()
	tok := d.tokens(t, ctx)
	sid := sessionOf(t, tok.AccessToken)
	rv.none(t, sid)
	if !live(t, ctx, env, userOf(t, tok.AccessToken), sid) {
		t.Fatalf("%s's session was revoked too", d.name)
	}
	if jwtExpiry(t, tok.AccessToken).After(env.Clock.Now()) {
		env.Clock.Advance(demo.PastJWT)
	}
	d.mustGet(t, ctx, env, "/api/cart", http.StatusOK, d.name+" refreshes as usual")
	if got := d.tokens(t, ctx); got.RefreshToken == tok.RefreshToken || d.loginRequired.Load() != 0 {
		t.Fatalf("%s did not refresh", d.name)
	}
}

// TestAttack_ThiefFirst is steps 18-19 with the thief first: it copied
// the device (tokens and key: sender-constraining cannot help once the
// key is gone too) and refreshes before the app does. The article's attack
// works once; the app's own refresh then presents the rotated value, which
// is reuse: the whole session is revoked, the thief's rotated tokens with
// it, and the user's other device is untouched.
func TestAttack_ThiefFirst(t *testing.T) {
	ctx := testContext(t)
	env, rv, mobile, tablet := twoDevices(t, ctx)
	stolen := steal(t, ctx, mobile, true)
	sid, user := sessionOf(t, stolen.jwt), userOf(t, stolen.jwt)
	env.Clock.Advance(demo.PastJWT)
	env.LatchCalls.Take()

	r := stolen.get(t, ctx, env, "/api/cart", true)
	wantLatchCalls(t, env, "19", "POST /api/jwt/refresh 200")
	thiefRT := r.header.Get(api.HeaderRefreshToken)
	if r.status != http.StatusOK || thiefRT == "" || thiefRT == stolen.refreshToken {
		t.Fatalf("the thief's first refresh = %d, want 200 with rotated tokens (the article's attack, once)", r.status)
	}
	rv.none(t, sid)

	env.Clock.Advance(demo.PastGrace)
	mobile.mustGet(t, ctx, env, "/api/cart", http.StatusUnauthorized, "Mobile presents a rotated value: reuse")
	wantLatchCalls(t, env, "19", "POST /api/jwt/refresh 400")
	rv.wait(t, sid, "refresh token reuse")
	if live(t, ctx, env, user, sid) {
		t.Fatal("the session is live after reuse, want it revoked")
	}
	if mobile.loginRequired.Load() != 1 {
		t.Errorf("Mobile's OnLoginRequired ran %d times, want once", mobile.loginRequired.Load())
	}

	// The thief's rotated refresh token died with the session.
	thief := loot{jwt: r.header.Get(api.HeaderAccessToken), refreshToken: thiefRT, key: stolen.key}
	env.Clock.Advance(demo.PastJWT)
	if r := thief.get(t, ctx, env, "/api/cart", true); r.status != http.StatusUnauthorized || r.header.Get(api.HeaderAccessToken) != "" {
		t.Fatalf("the thief's rotated refresh token = %d, want 401 and no tokens", r.status)
	}
	wantLatchCalls(t, env, "19", "POST /api/jwt/refresh 400")

	untouched(t, ctx, env, rv, tablet)
}

// TestAttack_VictimFirst is steps 18-19 with the app first: it rotated the
// refresh token before the thief's copy comes back, after the grace
// period. Reuse: the whole session is revoked (the app must log in again),
// the thief gets nothing, and the other device is untouched.
func TestAttack_VictimFirst(t *testing.T) {
	ctx := testContext(t)
	env, rv, mobile, tablet := twoDevices(t, ctx)
	stolen := steal(t, ctx, mobile, true)
	sid, user := sessionOf(t, stolen.jwt), userOf(t, stolen.jwt)
	env.Clock.Advance(demo.PastJWT)
	env.LatchCalls.Take()

	mobile.mustGet(t, ctx, env, "/api/cart", http.StatusOK, "Mobile refreshes first")
	wantLatchCalls(t, env, "10", "POST /api/jwt/refresh 200")
	env.Clock.Advance(demo.PastGrace)

	r := stolen.get(t, ctx, env, "/api/cart", true)
	wantLatchCalls(t, env, "19", "POST /api/jwt/refresh 400")
	if r.status != http.StatusUnauthorized || r.header.Get(api.HeaderAccessToken) != "" || r.header.Get(api.HeaderRefreshToken) != "" {
		t.Fatalf("the thief's stale refresh token = %d, want 401 and no tokens", r.status)
	}
	rv.wait(t, sid, "refresh token reuse")
	if live(t, ctx, env, user, sid) {
		t.Fatal("the session is live after reuse, want it revoked")
	}
	// The app's JWT runs out, and its refresh token died with the session.
	env.Clock.Advance(demo.PastJWT)
	mobile.mustGet(t, ctx, env, "/api/cart", http.StatusUnauthorized, "Mobile's session was revoked")
	wantLatchCalls(t, env, "19", "POST /api/jwt/refresh 400")
	if mobile.loginRequired.Load() != 1 {
		t.Errorf("Mobile's OnLoginRequired ran %d times, want once", mobile.loginRequired.Load())
	}

	untouched(t, ctx, env, rv, tablet)
	// Mobile logs in again and carries on.
	mobile.login(t, ctx)
	mobile.mustGet(t, ctx, env, "/api/cart", http.StatusOK, "Mobile after logging in again")
}

// proofBy makes a DPoP proof by key for method and url, over jwt (when not
// empty), made at the demo's clock shifted by age.
func proofBy(t *testing.T, env *demo.Env, key crypto.Signer, method, url, jwt string, age time.Duration) string {
	t.Helper()
	p, err := dpop.NewProof(key, method, url, dpop.ProofOptions{AccessToken: jwt, Now: env.Clock.Now().Add(-age)})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// newKey makes a DPoP key: the thief's own.
func newKey(t *testing.T) crypto.Signer {
	t.Helper()
	k, err := dpop.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// wantRefused checks a 401 that hands out no token.
func wantRefused(t *testing.T, what string, r response) {
	t.Helper()
	if r.status != http.StatusUnauthorized || r.header.Get(api.HeaderAccessToken) != "" || r.header.Get(api.HeaderRefreshToken) != "" {
		t.Errorf("%s = %d (Access-Token %v, Refresh-Token %v), want 401 and no token", what, r.status,
			r.header.Get(api.HeaderAccessToken) != "", r.header.Get(api.HeaderRefreshToken) != "")
	}
	if r.header.Get("WWW-Authenticate") == "" {
		t.Errorf("%s: a 401 without WWW-Authenticate", what)
	}
}

// TestAttack_StolenRefreshTokenWithoutKey is steps 18-19 against a
// DPoP-bound session: the thief holds the refresh token and the expired
// JWT but not the device key. However it presents them, at the Store or
// at Latch directly, it gets no token; and since Latch refuses a bound
// refresh token without its key before looking at its rotation, the thief
// cannot get the victim's session revoked either: the honest device keeps
// refreshing.
func TestAttack_StolenRefreshTokenWithoutKey(t *testing.T) {
	ctx := testContext(t)
	env, rv, mobile, tablet := twoDevices(t, ctx)
	tok := mobile.tokens(t, ctx)
	if !tok.DPoPBound() {
		t.Fatal("Mobile's JWT is not bound to its key: the Store did not bind the login")
	}
	if c, _ := demo.Claims(tok.AccessToken); c.Confirmation.JKT != tok.DPoPThumbprint() {
		t.Fatal("Mobile's JWT is bound to another key than Mobile's")
	}
	stolen := steal(t, ctx, mobile, false)
	sid, user := sessionOf(t, stolen.jwt), userOf(t, stolen.jwt)
	thiefKey := newKey(t)
	cart := env.StoreURL + "/api/cart"
	env.Clock.Advance(demo.PastJWT)
	env.LatchCalls.Take()

	attempt := func(stage string) {
		t.Helper()
		for _, a := range []struct {
			name   string
			header []string
			latch  []string // the Store's calls to Latch
		}{
			{"the expired JWT as Bearer", []string{"Authorization", "Bearer " + stolen.jwt}, nil},
			{"the expired JWT as Bearer with the thief's proof", []string{"Authorization", "Bearer " + stolen.jwt,
				dpop.Header, proofBy(t, env, thiefKey, "GET", cart, stolen.jwt, 0)}, nil},
			{"the expired JWT as DPoP with the thief's proof", []string{"Authorization", "DPoP " + stolen.jwt,
				dpop.Header, proofBy(t, env, thiefKey, "GET", cart, stolen.jwt, 0)}, nil},
			{"the expired JWT as DPoP without a proof", []string{"Authorization", "DPoP " + stolen.jwt}, nil},
			// Without the JWT the Store cannot tell the session is bound:
			// it asks Latch, for the thief's key, and Latch refuses.
			{"no JWT, the thief's proof", []string{dpop.Header, proofBy(t, env, thiefKey, "GET", cart, "", 0)},
				[]string{"POST /api/jwt/refresh 400"}},
			{"no JWT, no proof", nil, []string{"POST /api/jwt/refresh 400"}},
		} {
			r := send(t, ctx, "GET", cart, nil, append(a.header, api.HeaderRefreshToken, stolen.refreshToken)...)
			wantRefused(t, stage+": the thief's refresh token with "+a.name, r)
			wantLatchCalls(t, env, "19", a.latch...)
		}
		// At Latch directly: with a proof of its own key, or as a backend
		// would, with the API key and its key's thumbprint.
		r := send(t, ctx, "POST", env.LatchURL+"/api/jwt/refresh", api.RefreshRequest{RefreshToken: stolen.refreshToken},
			dpop.Header, proofBy(t, env, thiefKey, "POST", env.LatchURL+"/api/jwt/refresh", "", 0))
		if r.status != http.StatusBadRequest {
			t.Errorf("%s: the thief's refresh at Latch with its own proof = %d %s, want 400", stage, r.status, r.body)
		}
		jkt, _ := dpop.Thumbprint(thiefKey.Public())
		r = send(t, ctx, "POST", env.LatchURL+"/api/jwt/refresh", api.RefreshRequest{RefreshToken: stolen.refreshToken, DPoPJKT: jkt},
			"Authorization", env.APIKey)
		if r.status != http.StatusBadRequest {
			t.Errorf("%s: the thief's refresh at Latch with dpopJkt of its own key = %d %s, want 400", stage, r.status, r.body)
		}
		if !live(t, ctx, env, user, sid) {
			t.Fatalf("%s: the thief without the key got Mobile's session revoked", stage)
		}
	}

	// The refresh token is still current: the thief goes first.
	attempt("before Mobile's refresh")
	mobile.mustGet(t, ctx, env, "/api/cart", http.StatusOK, "Mobile refreshes with its key")
	wantLatchCalls(t, env, "10", "POST /api/jwt/refresh 200")
	if got := mobile.tokens(t, ctx); got.RefreshToken == stolen.refreshToken || !got.DPoPBound() {
		t.Fatal("Mobile's refresh did not rotate, or lost the binding")
	}
	// The stolen value is now a rotated one, past the grace period: from
	// the key's holder that would be reuse; from the thief, nothing.
	env.Clock.Advance(demo.PastGrace)
	attempt("after Mobile's refresh")
	rv.none(t, sid)
	env.Clock.Advance(demo.PastJWT)
	mobile.mustGet(t, ctx, env, "/api/cart", http.StatusOK, "Mobile carries on")
	wantLatchCalls(t, env, "10", "POST /api/jwt/refresh 200")
	if mobile.loginRequired.Load() != 0 || !live(t, ctx, env, user, sid) {
		t.Fatal("Mobile's session ended")
	}
	untouched(t, ctx, env, rv, tablet)
}

// TestAttack_StolenJWTWithoutKey is steps 20-21 against a DPoP-bound JWT,
// still valid: without the device key it is refused however it is sent,
// with no call to Latch, while the device itself is served.
func TestAttack_StolenJWTWithoutKey(t *testing.T) {
	ctx := testContext(t)
	env := startEnv(t, demo.Options{})
	var mu sync.Mutex
	var sent []http.Header // what Mobile sent the Store
	mobile := newDevice(env, "Mobile", func(next http.RoundTripper) http.RoundTripper {
		return roundTripFunc(func(req *http.Request) (*http.Response, error) {
			mu.Lock()
			sent = append(sent, req.Header.Clone())
			mu.Unlock()
			return next.RoundTrip(req)
		})
	})
	tok := mobile.login(t, ctx)
	if !tok.DPoPBound() {
		t.Fatal("Mobile's JWT is not bound to its key")
	}
	deviceKey := steal(t, ctx, mobile, true).key
	mobile.mustGet(t, ctx, env, "/api/cart", http.StatusOK, "Mobile's own request")
	mu.Lock()
	used := sent[len(sent)-1]
	mu.Unlock()
	if used.Get("Authorization") != "DPoP "+tok.AccessToken || used.Get(dpop.Header) == "" {
		t.Fatal("Mobile did not send its JWT as DPoP with a proof")
	}
	env.LatchCalls.Take()

	jwt := tok.AccessToken
	cart := env.StoreURL + "/api/cart"
	thiefKey := newKey(t)
	const (
		bearer    = "The access token is DPoP-bound: present it with the DPoP scheme and a DPoP proof."
		noProof   = "The request carries no DPoP proof."
		otherKey  = "The DPoP proof is not signed by the key the token is bound to."
		replayed  = "The DPoP proof was used before."
		otherReq  = "The DPoP proof was made for another request."
		otherJWT  = "The DPoP proof was made for another access token."
		staleTime = "The DPoP proof is too old or from the future."
	)
	for _, a := range []struct {
		name   string
		header []string
		why    string // the refusal's error_description
	}{
		{"as Bearer", []string{"Authorization", "Bearer " + jwt}, bearer},
		{"as Bearer with the thief's proof", []string{"Authorization", "Bearer " + jwt, dpop.Header, proofBy(t, env, thiefKey, "GET", cart, jwt, 0)}, bearer},
		{"as DPoP without a proof", []string{"Authorization", "DPoP " + jwt}, noProof},
		{"as DPoP with the thief's proof", []string{"Authorization", "DPoP " + jwt, dpop.Header, proofBy(t, env, thiefKey, "GET", cart, jwt, 0)}, otherKey},
		{"with the device's proof, replayed", []string{"Authorization", used.Get("Authorization"), dpop.Header, used.Get(dpop.Header)}, replayed},
		// Proofs of the device key that were never used, but made for
		// another request.
		{"with the device's proof for another URL", []string{"Authorization", "DPoP " + jwt, dpop.Header, proofBy(t, env, deviceKey, "GET", env.StoreURL+"/api/products", jwt, 0)}, otherReq},
		{"with the device's proof for another method", []string{"Authorization", "DPoP " + jwt, dpop.Header, proofBy(t, env, deviceKey, "POST", cart, jwt, 0)}, otherReq},
		{"with the device's proof for another host", []string{"Authorization", "DPoP " + jwt, dpop.Header, proofBy(t, env, deviceKey, "GET", env.LatchURL+"/api/cart", jwt, 0)}, otherReq},
		{"with the device's proof for another JWT", []string{"Authorization", "DPoP " + jwt, dpop.Header, proofBy(t, env, deviceKey, "GET", cart, "another.jwt.value", 0)}, otherJWT},
		{"with a stale proof of the device", []string{"Authorization", "DPoP " + jwt, dpop.Header, proofBy(t, env, deviceKey, "GET", cart, jwt, 10*time.Minute)}, staleTime},
	} {
		r := send(t, ctx, "GET", cart, nil, a.header...)
		wantRefused(t, "the stolen JWT "+a.name, r)
		var body struct {
			Description string `json:"error_description"`
		}
		if json.Unmarshal(r.body, &body) != nil || body.Description != a.why {
			t.Errorf("the stolen JWT %s was refused with %q, want %q", a.name, body.Description, a.why)
		}
		wantLatchCalls(t, env, "21")
	}
	// The checks refused the proofs, not the JWT: a fresh proof of the
	// device key for this request is served, and so is the device.
	r := send(t, ctx, "GET", cart, nil, "Authorization", "DPoP "+jwt, dpop.Header, proofBy(t, env, deviceKey, "GET", cart, jwt, 0))
	if r.status != http.StatusOK {
		t.Fatalf("the JWT with a fresh proof of the device key = %d %s, want 200", r.status, r.body)
	}
	mobile.mustGet(t, ctx, env, "/api/cart", http.StatusOK, "Mobile is served")
	wantLatchCalls(t, env, "7")
}

// TestAttack_RevocationReachesStore is step 21 with revocation events: the
// storefront's webhook is registered at Latch, and revoking a session at
// Latch makes the Store refuse its JWT, unexpired and presented with the
// device key, within moments; the user's other device is served as
// before.
func TestAttack_RevocationReachesStore(t *testing.T) {
	ctx := testContext(t)
	env := startEnv(t, demo.Options{Storefront: func(c *storefront.Config) { c.RegisterWebhook = true }})
	var hooks api.WebhookResponse
	admin(t, ctx, env, "GET", "/api/webhook", nil, &hooks)
	registered := false
	for _, h := range hooks.Webhooks {
		registered = registered || (h.URL == env.StoreURL+storefront.EventsPath && h.EventsEnabled[api.EventJWTRefreshTokenRevoke])
	}
	if !registered {
		t.Fatalf("the storefront's webhook is not registered at Latch for %s: %+v", api.EventJWTRefreshTokenRevoke, hooks.Webhooks)
	}
	mobile, tablet := newDevice(env, "Mobile", nil), newDevice(env, "Tablet", nil)
	mobile.login(t, ctx)
	tablet.login(t, ctx)
	// The device is compromised: the thief has the key too, so the JWT
	// works for it as for the app, until it expires or is revoked.
	stolen := steal(t, ctx, mobile, true)
	sid := sessionOf(t, stolen.jwt)
	if r := stolen.get(t, ctx, env, "/api/cart", false); r.status != http.StatusOK {
		t.Fatalf("the stolen JWT with the device key = %d, want 200 before the revocation", r.status)
	}
	env.LatchCalls.Take()

	admin(t, ctx, env, "DELETE", "/api/jwt/refresh/"+sid, nil, nil)
	// Once Latch has recorded the event delivered, the Store acknowledged
	// it: from then on it refuses the JWT.
	settled(t, ctx, env)
	if !jwtExpiry(t, stolen.jwt).After(env.Clock.Now()) {
		t.Fatal("the JWT expired: the test proves nothing")
	}
	r := stolen.get(t, ctx, env, "/api/cart", false)
	if r.status != http.StatusUnauthorized {
		t.Fatalf("the stolen JWT after the Store acknowledged the revocation = %d %s, want 401", r.status, r.body)
	}
	var body struct {
		Description string `json:"error_description"`
	}
	json.Unmarshal(r.body, &body)
	if body.Description != "The access token has been revoked." {
		t.Errorf("the refusal says %q, want the revocation", body.Description)
	}
	wantLatchCalls(t, env, "21")
	// The device's own requests are refused too; with its refresh token
	// it learns the session is over.
	mobile.mustGet(t, ctx, env, "/api/cart", http.StatusUnauthorized, "Mobile's session was revoked")
	if mobile.loginRequired.Load() != 1 {
		t.Errorf("Mobile's OnLoginRequired ran %d times, want once", mobile.loginRequired.Load())
	}
	env.LatchCalls.Take()
	// The other device's JWT is still served, without a call to Latch.
	tablet.mustGet(t, ctx, env, "/api/cart", http.StatusOK, "Tablet's session is another one")
	wantLatchCalls(t, env, "7")
}

// TestAttack_ThiefLogout: a thief who copied Mobile's DPoP-bound refresh
// token, but not its key, tries to log the user out everywhere, through
// the Store and at Latch directly. Nothing ends: Mobile and Tablet carry
// on. Mobile itself, with its key, then logs out everywhere.
func TestAttack_ThiefLogout(t *testing.T) {
	ctx := testContext(t)
	env, rv, mobile, tablet := twoDevices(t, ctx)
	stolen := steal(t, ctx, mobile, false)
	sid, user := sessionOf(t, stolen.jwt), userOf(t, stolen.jwt)
	thiefKey := newKey(t)
	storeLogout, latchLogout := env.StoreURL+"/api/logout", env.LatchURL+"/api/logout"
	global := storefront.LogoutRequest{Global: true}

	for _, a := range []struct {
		name, url string
		body      any
		header    []string
	}{
		{"the Store, the refresh token alone", storeLogout, global, []string{api.HeaderRefreshToken, stolen.refreshToken}},
		{"the Store, the refresh token in the body", storeLogout, storefront.LogoutRequest{Global: true, RefreshToken: stolen.refreshToken}, nil},
		{"the Store, with the JWT as Bearer", storeLogout, global, []string{"Authorization", "Bearer " + stolen.jwt, api.HeaderRefreshToken, stolen.refreshToken}},
		{"the Store, with the thief's proof", storeLogout, global, []string{api.HeaderRefreshToken, stolen.refreshToken,
			dpop.Header, proofBy(t, env, thiefKey, "POST", storeLogout, "", 0)}},
		{"Latch", latchLogout + "?global=true&refreshToken=" + stolen.refreshToken, nil, nil},
		{"Latch, JSON", latchLogout, api.LogoutRequest{Global: true, RefreshToken: stolen.refreshToken}, nil},
		{"Latch, with the thief's proof", latchLogout, api.LogoutRequest{Global: true, RefreshToken: stolen.refreshToken},
			[]string{dpop.Header, proofBy(t, env, thiefKey, "POST", latchLogout, "", 0)}},
	} {
		if r := send(t, ctx, "POST", a.url, a.body, a.header...); r.status != http.StatusOK {
			t.Errorf("the thief's logout at %s = %d %s, want 200 (logout is no oracle)", a.name, r.status, r.body)
		}
		if !live(t, ctx, env, user, sid) {
			t.Fatalf("the thief's logout at %s ended Mobile's session", a.name)
		}
	}
	rv.none(t, sid)
	untouched(t, ctx, env, rv, tablet)
	env.Clock.Advance(demo.PastJWT)
	mobile.mustGet(t, ctx, env, "/api/cart", http.StatusOK, "Mobile carries on")

	if err := mobile.client.Logout(ctx, true); err != nil {
		t.Fatalf("Mobile's own logout everywhere: %v", err)
	}
	if live(t, ctx, env, user, sid) || live(t, ctx, env, user, sessionOf(t, tablet.tokens(t, ctx).AccessToken)) {
		t.Error("Mobile's logout everywhere left a session")
	}
}
