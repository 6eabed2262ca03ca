package guard_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/latchid/latch/dpop"
	"github.com/latchid/latch/guard"
	"github.com/latchid/latch/internal/fakeclock"
)

// Tests that a flood of DPoP proofs from one client costs that client
// only: guard's in-memory replay cache gives each key with a valid bound
// JWT, and each client address otherwise, a share of its own. The caches
// here are small (a share of 20, room for 50), so that the floods, of
// twice the whole cache, stay quick; before shares, each would have
// filled the cache and had everyone answered 503.

// floodCache is the small replay cache of these tests, on clock.
func floodCache(clock *fakeclock.Clock) *dpop.MemoryReplayCache {
	return &dpop.MemoryReplayCache{MaxEntries: 50, MaxPerClient: 20, Now: clock.Now}
}

// from sets the peer address of r.
func from(r *http.Request, addr string) *http.Request {
	r.RemoteAddr = addr
	return r
}

// countCodes serves n requests and counts their statuses.
func countCodes(h http.Handler, n int, req func(i int) *http.Request) map[int]int {
	codes := map[int]int{}
	for i := range n {
		codes[serve(h, req(i)).Code]++
	}
	return codes
}

func TestDPoP_FloodCostsTheFlooder(t *testing.T) {
	t.Parallel()
	app := newDevice(t)
	appJWT := boundToken(t, app.jkt, epoch.Add(10*time.Minute))
	// served: the app, with its valid bound JWT, from its own address.
	served := func(t *testing.T, g *guard.Guard) {
		t.Helper()
		r := from(dpopRequest(appJWT, app.proof(t, "GET", cartURL, appJWT), ""), "198.51.100.20:443")
		if rec := serve(g.Handler(&backend{}), r); rec.Code != http.StatusOK {
			t.Fatalf("the app, after the flood: %d %s", rec.Code, rec.Body)
		}
	}

	t.Run("OneKeyWithValidJWT", func(t *testing.T) {
		t.Parallel()
		clock := fakeclock.New(epoch)
		g := staticGuard(t, func(c *guard.Config) { c.Now, c.DPoP.Replay = clock.Now, floodCache(clock) })
		flooder := newDevice(t)
		jwt := boundToken(t, flooder.jkt, epoch.Add(10*time.Minute))
		codes := countCodes(g.Handler(&backend{}), 100, func(int) *http.Request {
			return from(dpopRequest(jwt, flooder.proof(t, "GET", cartURL, jwt, atClock(clock)), ""), "203.0.113.9:1234")
		})
		if codes[http.StatusOK] != 20 || codes[http.StatusTooManyRequests] != 80 {
			t.Fatalf("the flood: %v, want 20 served and 80 refused 429", codes)
		}
		served(t, g)
		// From the same address, another key with its own valid JWT is
		// another client too.
		other := newDevice(t)
		otherJWT := boundToken(t, other.jkt, epoch.Add(10*time.Minute))
		if rec := serve(g.Handler(&backend{}), from(dpopRequest(otherJWT, other.proof(t, "GET", cartURL, otherJWT), ""), "203.0.113.9:1234")); rec.Code != http.StatusOK {
			t.Errorf("another key at the flooder's address: %d %s", rec.Code, rec.Body)
		}
		// Once the flooder's proofs have expired, it is served again.
		clock.Advance(dpop.DefaultWindow + guard.DefaultLeeway + time.Second)
		if rec := serve(g.Handler(&backend{}), from(dpopRequest(jwt, flooder.proof(t, "GET", cartURL, jwt, atClock(clock)), ""), "203.0.113.9:1234")); rec.Code != http.StatusOK {
			t.Errorf("the flooder, a window later: %d %s", rec.Code, rec.Body)
		}
	})

	t.Run("NewKeysForRefreshes", func(t *testing.T) {
		t.Parallel()
		// Expired JWTs claiming a new key each, a refresh token and a proof
		// by that key: nothing vouches for the key, so the proofs are
		// charged to the address, and past its share they reach neither
		// the cache nor Latch.
		l := newRefreshLatch(t, "the-api-key", app.jkt)
		clock := fakeclock.New(epoch)
		g := dpopGuard(t, l.url, func(c *guard.Config) { c.Now, c.DPoP.Replay = clock.Now, floodCache(clock) })
		codes := countCodes(g.Handler(&backend{}), 100, func(i int) *http.Request {
			d := newDevice(t)
			jwt := boundToken(t, d.jkt, epoch.Add(-time.Hour))
			return from(dpopRequest(jwt, d.proof(t, "GET", cartURL, jwt), fmt.Sprintf("made-up-%d", i)), "203.0.113.9:1234")
		})
		if codes[http.StatusUnauthorized] != 20 || codes[http.StatusTooManyRequests] != 80 {
			t.Fatalf("the flood: %v, want 20 refused by Latch (401) and 80 refused 429", codes)
		}
		if n := l.calls.Load(); n != 20 {
			t.Errorf("%d calls to Latch, want 20", n)
		}
		served(t, g)
		// The app's own refresh, from another address, goes through.
		expired := boundToken(t, app.jkt, epoch.Add(-time.Hour))
		r := from(dpopRequest(expired, app.proof(t, "GET", cartURL, expired), "rt-0"), "198.51.100.20:443")
		if rec := serve(g.Handler(&backend{}), r); rec.Code != http.StatusOK {
			t.Errorf("the app's refresh, after the flood: %d %s", rec.Code, rec.Body)
		}
	})

	t.Run("NewKeysForLogins", func(t *testing.T) {
		t.Parallel()
		clock := fakeclock.New(epoch)
		g := staticGuard(t, func(c *guard.Config) { c.Now, c.DPoP.Replay = clock.Now, floodCache(clock) })
		login := func(addr string) error {
			r := from(httptest.NewRequest("POST", "/api/login", nil), addr)
			r.Header.Set(dpop.Header, newDevice(t).proof(t, "POST", "http://example.com/api/login", ""))
			_, err := g.VerifyProof(r)
			return err
		}
		// One client's IPv6 addresses are one /64.
		var ok, tooMany int
		for i := range 100 {
			switch err := login(fmt.Sprintf("[2001:db8:1:2::%x]:1234", i+1)); {
			case err == nil:
				ok++
			case errors.Is(err, dpop.ErrTooManyProofs) && errors.Is(err, guard.ErrDPoPReplayUnavailable):
				tooMany++
			default:
				t.Fatalf("login %d: %v", i, err)
			}
		}
		if ok != 20 || tooMany != 80 {
			t.Fatalf("the flood: %d accepted, %d refused; want 20 and 80", ok, tooMany)
		}
		for _, addr := range []string{"198.51.100.20:443", "[2001:db8:1:3::1]:443"} {
			if err := login(addr); err != nil {
				t.Errorf("a login from %s, after the flood: %v", addr, err)
			}
		}
		served(t, g)
	})

	t.Run("BehindAProxy", func(t *testing.T) {
		t.Parallel()
		// Every request comes from the proxy; ClientAddress names the
		// client the proxy reports.
		clock := fakeclock.New(epoch)
		g := staticGuard(t, func(c *guard.Config) {
			c.Now, c.DPoP.Replay = clock.Now, floodCache(clock)
			c.ClientAddress = func(r *http.Request) string { return r.Header.Get("X-Real-IP") }
		})
		login := func(client string) error {
			r := from(httptest.NewRequest("POST", "/api/login", nil), "10.0.0.1:5000")
			r.Header.Set("X-Real-IP", client)
			r.Header.Set(dpop.Header, newDevice(t).proof(t, "POST", "http://example.com/api/login", ""))
			_, err := g.VerifyProof(r)
			return err
		}
		for range 20 {
			if err := login("203.0.113.9"); err != nil {
				t.Fatal(err)
			}
		}
		if err := login("203.0.113.9"); !errors.Is(err, dpop.ErrTooManyProofs) {
			t.Fatalf("past the flooder's share: %v, want ErrTooManyProofs", err)
		}
		if err := login("198.51.100.20"); err != nil {
			t.Errorf("another client behind the proxy: %v", err)
		}
	})
}

// A client at its share is answered 429 with Retry-After and guard's JSON
// refusal; its handler does not run.
func TestDPoP_TooManyProofsAnswer(t *testing.T) {
	t.Parallel()
	clock := fakeclock.New(epoch)
	g := staticGuard(t, func(c *guard.Config) {
		c.Now, c.DPoP.Replay = clock.Now, &dpop.MemoryReplayCache{MaxPerClient: 1, Now: clock.Now}
	})
	d := newDevice(t)
	jwt := boundToken(t, d.jkt, epoch.Add(10*time.Minute))
	b := &backend{}
	if rec := serve(g.Handler(b), dpopRequest(jwt, d.proof(t, "GET", cartURL, jwt), "")); rec.Code != http.StatusOK {
		t.Fatalf("first: %d %s", rec.Code, rec.Body)
	}
	rec := serve(g.Handler(b), dpopRequest(jwt, d.proof(t, "GET", cartURL, jwt), ""))
	wantRefusal(t, rec, http.StatusTooManyRequests, "temporarily_unavailable", "")
	if rec.Header().Get("Retry-After") == "" {
		t.Error("no Retry-After")
	}
	if b.calls.Load() != 1 {
		t.Errorf("the handler ran %d times, want 1", b.calls.Load())
	}
}

// atClock makes a proof at the clock's time.
func atClock(c *fakeclock.Clock) func(*dpop.ProofOptions) {
	return func(o *dpop.ProofOptions) { o.Now = c.Now() }
}
