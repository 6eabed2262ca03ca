package storefront_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/latchid/latch/api"
	"github.com/latchid/latch/dpop"
	"github.com/latchid/latch/guard/redisstore"
	"github.com/latchid/latch/internal/faultproxy"
	"github.com/latchid/latch/internal/latchtest"
	"github.com/latchid/latch/internal/redistest"
	"github.com/latchid/latch/internal/storefront"
)

// Several storefronts behind one URL share guard's revocations and DPoP
// replay cache through Redis (Config.RedisURL), with a real Latch and a
// real Redis.

// testRedis returns the URL of the test Redis (redistest) for storefronts
// of the application appID, whose keys it deletes when the test ends
// (after the storefronts started later have closed).
func testRedis(t *testing.T, appID string) (redisURL string, rdb *redis.Client) {
	t.Helper()
	rdb = redistest.Client(t)
	prefix := storefront.RedisKeyPrefix + appID + ":"
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		// The application id is a UUID: no glob character to escape.
		keys, err := redisKeys(ctx, rdb, prefix)
		if err == nil && len(keys) > 0 {
			err = rdb.Del(ctx, keys...).Err()
		}
		if err != nil {
			t.Errorf("cleanup of %s*: %v", prefix, err)
		}
	})
	return "redis://" + redistest.Addr(t) + "/0", rdb
}

// redisKeys lists the keys that start with prefix.
func redisKeys(ctx context.Context, rdb *redis.Client, prefix string) ([]string, error) {
	var keys []string
	iter := rdb.Scan(ctx, 0, prefix+"*", 1000).Iterator()
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
	}
	return keys, iter.Err()
}

// instances starts two storefronts for Latch's application Default behind
// one URL, the first's (with the webhook registered for the first only
// when webhook is set), over the Redis at redisURL or, when it is empty,
// each with guard's in-memory stores; it returns a client of each.
func (e *env) instances(t *testing.T, redisURL string, webhook bool) (a, b *env) {
	t.Helper()
	sa := e.startStorefront(t, storefront.Config{DataDir: t.TempDir(), RedisURL: redisURL, RegisterWebhook: webhook})
	if sa.PublicURL() != sa.URL() {
		t.Fatalf("public URL %q, listening at %q", sa.PublicURL(), sa.URL())
	}
	sb := e.startStorefront(t, storefront.Config{DataDir: t.TempDir(), RedisURL: redisURL, PublicURL: sa.PublicURL()})
	return &env{url: sa.URL(), hc: e.hc, clock: e.clock}, &env{url: sb.URL(), hc: e.hc, clock: e.clock}
}

// replayAtB logs a user in at a with a DPoP proof, reads the cart at a
// with a second proof, and then sends both requests, proofs and all, to b:
// it returns b's answers to the replayed login and cart requests.
func (e *env) replayAtB(t *testing.T, a, b *env) (login, cart response) {
	t.Helper()
	email, _ := e.newUser(t)
	d := newDevice(t)
	// The proofs name a's URL: the one URL both instances are behind.
	loginReq := req{method: "POST", path: "/api/login", body: storefront.LoginRequest{LoginID: email, Password: testPassword},
		header: map[string]string{dpop.Header: a.proof(t, d, "POST", "/api/login", "")}}
	res := a.do(t, loginReq)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("login with a proof at A: status %d: %s", res.StatusCode, res.body)
	}
	var lr struct{ Token string }
	res.decode(t, &lr)
	cartReq := a.dpopReq(t, d, "GET", "/api/cart", lr.Token, "")
	if res := a.do(t, cartReq); res.StatusCode != http.StatusOK {
		t.Fatalf("cart with a proof at A: status %d: %s", res.StatusCode, res.body)
	}
	cart = b.do(t, cartReq)
	login = b.do(t, loginReq)
	// b takes the same JWT with a fresh proof: only the replay is refused.
	if res := b.do(t, a.dpopReq(t, d, "GET", "/api/cart", lr.Token, "")); res.StatusCode != http.StatusOK {
		t.Fatalf("cart with a fresh proof at B: status %d: %s", res.StatusCode, res.body)
	}
	return login, cart
}

// A DPoP proof accepted by one instance is refused by the other when they
// share Redis; with guard's in-memory caches the other accepts it again.
func TestRedis_SharedDPoPReplay(t *testing.T) {
	e := newEnv(t)
	redisURL, rdb := testRedis(t, e.appID)
	a, b := e.instances(t, redisURL, false)

	login, cart := e.replayAtB(t, a, b)
	wantError(t, login, http.StatusBadRequest, "invalid_dpop_proof")
	wantError(t, cart, http.StatusUnauthorized, "invalid_dpop_proof")
	var body struct {
		Description string `json:"error_description"`
	}
	cart.decode(t, &body)
	if body.Description != "The DPoP proof was used before." || !strings.HasPrefix(cart.Header.Get("WWW-Authenticate"), "DPoP") {
		t.Errorf("refusal of the replayed proof: %s, WWW-Authenticate %q", cart.body, cart.Header.Get("WWW-Authenticate"))
	}

	// The proofs are kept under the application's prefix.
	prefix := storefront.RedisKeyPrefix + e.appID + ":"
	keys, err := redisKeys(t.Context(), rdb, prefix+"dpop:")
	if err != nil || len(keys) < 3 { // two logins and three cart reads, the replays refused
		t.Errorf("keys under %sdpop: %q, %v; want the proofs accepted", prefix, keys, err)
	}
	logs := e.logs.String()
	if !strings.Contains(logs, "revocations and DPoP replay are shared in Redis") || !strings.Contains(logs, "prefix="+prefix) {
		t.Errorf("the log does not say that Redis is shared, under %s:\n%s", prefix, logs)
	}

	// Without Redis, the other instance accepts both replays.
	c, d := e.instances(t, "", false)
	login, cart = e.replayAtB(t, c, d)
	if login.StatusCode != http.StatusOK || cart.StatusCode != http.StatusOK {
		t.Errorf("without Redis, replays at the other instance: login %d %s, cart %d %s; want both accepted",
			login.StatusCode, login.body, cart.StatusCode, cart.body)
	}
}

// A revocation event that reaches one instance only (the webhook is
// registered for it alone) makes the other refuse the revoked session's
// JWT when they share Redis; with guard's in-memory stores the other
// keeps accepting it.
func TestRedis_SharedRevocation(t *testing.T) {
	e := newEnv(t)
	redisURL, _ := testRedis(t, e.appID)
	a, b := e.instances(t, redisURL, true)
	c, d := e.instances(t, "", true) // without Redis, for contrast
	email, _ := e.newUser(t)
	lr := a.login(t, email)
	other := b.login(t, email) // another session of the user
	for _, s := range []*env{a, b, c, d} {
		s.cart(t, lr.Token)
	}

	e.admin(t, "DELETE", "/api/jwt/refresh/"+latchtest.Claims[api.Claims](t, lr.Token).SessionID, nil, nil)
	// Latch delivers the event to a and c only.
	e.settled(t)
	for _, s := range []*env{a, c} {
		if res := s.do(t, req{method: "GET", path: "/api/cart", jwt: lr.Token}); res.StatusCode != http.StatusUnauthorized {
			t.Fatalf("%s acknowledged the revocation and still serves the JWT: %d %s", s.url, res.StatusCode, res.body)
		}
	}
	res := b.do(t, req{method: "GET", path: "/api/cart", jwt: lr.Token})
	wantLoginAgain(t, res)
	var body struct {
		Description string `json:"error_description"`
	}
	res.decode(t, &body)
	if body.Description != "The access token has been revoked." {
		t.Errorf("refusal at B: %s", res.body)
	}
	// The user's other session goes on, at both.
	a.cart(t, other.Token)
	b.cart(t, other.Token)

	// Without Redis, the instance the event did not reach accepts the
	// revoked session's JWT until it expires.
	if res := d.do(t, req{method: "GET", path: "/api/cart", jwt: lr.Token}); res.StatusCode != http.StatusOK {
		t.Errorf("without Redis, the other instance: status %d, want 200 (the revocation is its alone): %s", res.StatusCode, res.body)
	}
}

// A Redis URL that does not parse, or a Redis that does not answer, fails
// Open, with an error that names the address and never the password.
func TestOpen_RedisErrors(t *testing.T) {
	const password = "hunter2-s3cret"
	tests := []struct {
		name, url string
		want      []string
	}{
		{"Scheme", "ftp://:" + password + "@127.0.0.1:6379", []string{"RedisURL", "scheme"}},
		{"Port", "redis://:" + password + "@127.0.0.1:port/0", []string{"RedisURL", "port"}},
		{"Database", "redis://:" + password + "@127.0.0.1:6379/db", []string{"RedisURL", "database"}},
		{"Unreachable", "redis://:" + password + "@127.0.0.1:1/0", []string{"Redis at 127.0.0.1:1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			logs := &latchtest.LogBuffer{}
			sf, err := storefront.Open(context.Background(), storefront.Config{Addr: "127.0.0.1:0", ApplicationID: "app", APIKey: "key",
				DataDir: t.TempDir(), Issuer: "http://latch.test", RedisURL: tt.url, Logger: logs.Logger()})
			if err == nil {
				sf.Close()
				t.Fatal("Open succeeded")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			if strings.Contains(err.Error(), password) || strings.Contains(logs.String(), password) {
				t.Errorf("the password shows: %v", err)
			}
		})
	}
}

// A Redis that stops answering, then one that dies: the requests that
// need it (every guarded one: guard looks the session's revocations up)
// are answered 503 with Retry-After within about a second
// (redisstore.DefaultTimeout), never held for go-redis's own timeouts
// and retries, nor left without an answer; the storefront serves them
// again when Redis is back.
func TestRedis_Faults(t *testing.T) {
	e := newEnv(t)
	testRedis(t, e.appID) // the keys' cleanup
	p := faultproxy.Start(t, redistest.Addr(t))
	sf := e.startStorefront(t, storefront.Config{DataDir: t.TempDir(), RedisURL: "redis://" + p.Addr() + "/0"})
	s := &env{url: sf.URL(), hc: e.hc, clock: e.clock}
	email, _ := e.newUser(t)
	lr := s.login(t, email)
	s.cart(t, lr.Token)

	for _, fault := range []struct {
		name      string
		fail, fix func()
	}{
		{"frozen", p.Freeze, p.Thaw},
		{"dead", p.Kill, func() { p.Revive(t) }},
	} {
		fault.fail()
		for range 3 {
			start := time.Now()
			res := s.do(t, req{method: "GET", path: "/api/cart", jwt: lr.Token})
			if d := time.Since(start); d > redisstore.DefaultTimeout+3*time.Second {
				t.Errorf("%s Redis: answered after %v", fault.name, d)
			}
			wantError(t, res, http.StatusServiceUnavailable, storefront.CodeUnavailable)
			if res.Header.Get("Retry-After") == "" {
				t.Errorf("%s Redis: 503 without Retry-After", fault.name)
			}
		}
		fault.fix()
		s.cart(t, lr.Token)
	}
}
