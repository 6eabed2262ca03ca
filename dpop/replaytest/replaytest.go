// Package replaytest is a conformance suite for implementations of
// dpop.ReplayCache: a cache over Redis, a database or anything else runs
// the same checks as dpop.MemoryReplayCache, from its own test:
//
//	func TestConformance(t *testing.T) {
//		replaytest.Run(t, func(t *testing.T, now func() time.Time) dpop.ReplayCache {
//			return mycache.New(..., mycache.Config{Now: now}) // empty, cleaned up by t.Cleanup
//		})
//	}
//
// The suite controls time: the cache it is handed must judge expiry by
// the clock now, as a Verifier's cache should use the Verifier's clock.
// The clock starts at the real time, in whole milliseconds, and only
// moves forward, by seconds or more, so a cache that also expires its
// records in real time (Redis TTLs, say, set from expires minus now)
// keeps every record the suite looks for. Every expiry the suite passes
// is in whole milliseconds: a cache may keep times at that precision. The
// suite never uses a jti at the exact instant its record expires.
package replaytest

import (
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/latchid/latch/dpop"
	"github.com/latchid/latch/internal/fakeclock"
)

// Run checks the documented behaviour of a dpop.ReplayCache, in
// subtests, each with a cache of its own from open: open returns a new,
// empty cache whose clock is now, and arranges with t.Cleanup for what
// must be released or deleted afterwards. Every subtest calls open
// exactly once. The checks:
//
//   - Use of a jti is fresh the first time, and not fresh again while its
//     record has not expired, whatever expiry the later calls pass; other
//     jtis (of any bytes, as the Verifier passes a hash) are apart.
//   - Once the record has expired, Use is fresh again, and records the
//     jti anew.
//   - Use with an expiry that has already passed is fresh (the record has
//     expired at once), but not for a jti recorded and not expired.
//   - The client is for accounting only: a jti recorded for one client is
//     not fresh for another, and one client's jtis are apart from
//     another's only by their values.
//   - Of N concurrent Use calls with one jti, exactly one is fresh, round
//     after round, whatever clients they name; concurrent calls with
//     different jtis are all fresh (run with -race).
//
// The suite stays within any per-client bound of at least 64 records,
// so a cache that bounds each client's share (dpop.MemoryReplayCache's
// MaxPerClient) passes with its default.
func Run(t *testing.T, open func(t *testing.T, now func() time.Time) dpop.ReplayCache) {
	tests := []struct {
		name string
		fn   func(*testing.T, dpop.ReplayCache, *fakeclock.Clock)
	}{
		{"FreshOnce", testFreshOnce},
		{"Apart", testApart},
		{"Clients", testClients},
		{"Expiry", testExpiry},
		{"PastExpiry", testPastExpiry},
		{"ConcurrentSameJTI", testConcurrentSameJTI},
		{"ConcurrentDistinct", testConcurrentDistinct},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClock()
			cache := open(t, c.Now)
			if cache == nil {
				t.Fatal("open returned a nil cache")
			}
			tt.fn(t, cache, c)
		})
	}
}

// newClock is the suite's clock: it starts at the real time, in whole
// milliseconds (so that a store that also sets real TTLs keeps every
// record the suite looks for), and moves only when a test moves it, and
// only forward.
func newClock() *fakeclock.Clock {
	return fakeclock.New(time.UnixMilli(time.Now().UnixMilli()))
}

// client is the client the suite's calls name, unless a test says
// otherwise: a thumbprint, as a Verifier passes for a proof with an
// access token.
const client = "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"

// use calls Use for client and fails the test on an error.
func use(t *testing.T, cache dpop.ReplayCache, jti string, expires time.Time) bool {
	t.Helper()
	return useFor(t, cache, client, jti, expires)
}

// useFor calls Use for a client and fails the test on an error.
func useFor(t *testing.T, cache dpop.ReplayCache, client, jti string, expires time.Time) bool {
	t.Helper()
	fresh, err := cache.Use(t.Context(), client, jti, expires)
	if err != nil {
		t.Fatalf("Use(%q, %q, %v): %v", client, jti, expires, err)
	}
	return fresh
}

// expectUse checks the freshness Use reports.
func expectUse(t *testing.T, what string, cache dpop.ReplayCache, jti string, expires time.Time, want bool) {
	t.Helper()
	if got := use(t, cache, jti, expires); got != want {
		t.Errorf("%s: Use(%q) fresh = %v, want %v", what, jti, got, want)
	}
}

// window is a DPoP Verifier's: a proof is recorded for its window and
// skew past its iat, a minute and a half by default.
const window = 90 * time.Second

func testFreshOnce(t *testing.T, cache dpop.ReplayCache, c *fakeclock.Clock) {
	exp := c.Now().Add(window)
	expectUse(t, "first use", cache, "jti-1", exp, true)
	expectUse(t, "second use", cache, "jti-1", exp, false)
	expectUse(t, "third use", cache, "jti-1", exp, false)
	expectUse(t, "use with a later expiry", cache, "jti-1", exp.Add(time.Hour), false)
	expectUse(t, "use with an earlier expiry", cache, "jti-1", exp.Add(-time.Minute), false)
	expectUse(t, "another jti", cache, "jti-2", exp, true)
	expectUse(t, "another jti, again", cache, "jti-2", exp, false)
	c.Set(exp.Add(-time.Millisecond))
	expectUse(t, "a millisecond before expiry", cache, "jti-1", exp, false)
}

func testApart(t *testing.T, cache dpop.ReplayCache, c *fakeclock.Clock) {
	exp := c.Now().Add(window)
	// What the Verifier passes is a base64url SHA-256; a cache stores the
	// value as it comes, so any bytes must work, and none be confused.
	jtis := []string{
		"n4bQgYhMfWWaL-qgxVrQFaO_TxsrC4Is0V1sFbDwCgg",
		"n4bQgYhMfWWaL-qgxVrQFaO_TxsrC4Is0V1sFbDwCgh",
		"n4bQgYhMfWWaL-qgxVrQFaO_TxsrC4Is0V1sFbDwCg",
		"N4BQGYHMFWWAL-QGXVRQFAO_TXSRC4IS0V1SFBDWCGG",
		"a", "a:", "a b", "{a}*?[]\\", "\x00\xff", "ünïcødé ✓",
		strings.Repeat("long-", 200),
	}
	for i, jti := range jtis {
		expectUse(t, fmt.Sprintf("jti %d, first use", i), cache, jti, exp, true)
	}
	for i, jti := range jtis {
		expectUse(t, fmt.Sprintf("jti %d, second use", i), cache, jti, exp, false)
	}
}

func testClients(t *testing.T, cache dpop.ReplayCache, c *fakeclock.Clock) {
	exp := c.Now().Add(window)
	clients := []string{client, "198.51.100.7", "2001:db8::/64", ""}
	for i, cl := range clients {
		if !useFor(t, cache, cl, fmt.Sprintf("own-%d", i), exp) {
			t.Errorf("client %q, its own jti: not fresh", cl)
		}
	}
	// A proof recorded for one client is a replay for any other: a
	// replayed proof may come from another address than the original.
	for _, cl := range clients {
		for j := range clients {
			if useFor(t, cache, cl, fmt.Sprintf("own-%d", j), exp) {
				t.Errorf("client %q, the jti recorded for client %d: fresh again", cl, j)
			}
		}
	}
}

func testExpiry(t *testing.T, cache dpop.ReplayCache, c *fakeclock.Clock) {
	t0 := c.Now()
	exp := t0.Add(window)
	longer := t0.Add(3 * window)
	expectUse(t, "first use", cache, "short", exp, true)
	expectUse(t, "first use", cache, "long", longer, true)

	c.Set(exp.Add(-time.Millisecond))
	expectUse(t, "a millisecond before expiry", cache, "short", exp, false)
	c.Set(exp.Add(time.Millisecond))
	exp2 := c.Now().Add(window)
	expectUse(t, "a millisecond after expiry", cache, "short", exp2, true)
	expectUse(t, "once recorded anew", cache, "short", exp2, false)
	expectUse(t, "a longer record, past the shorter one's expiry", cache, "long", longer, false)

	c.Set(exp2.Add(-time.Millisecond))
	expectUse(t, "the renewed record, a millisecond before its expiry", cache, "short", exp2, false)
	c.Set(exp2.Add(time.Second))
	expectUse(t, "the renewed record, after its expiry", cache, "short", c.Now().Add(window), true)

	c.Set(longer.Add(-time.Millisecond))
	expectUse(t, "a millisecond before the longer expiry", cache, "long", longer, false)
	c.Set(longer.Add(time.Millisecond))
	expectUse(t, "a millisecond after the longer expiry", cache, "long", c.Now().Add(window), true)
}

func testPastExpiry(t *testing.T, cache dpop.ReplayCache, c *fakeclock.Clock) {
	now := c.Now()
	past := now.Add(-time.Second)
	expectUse(t, "an expiry already passed", cache, "gone", past, true)
	expectUse(t, "an expiry already passed, again", cache, "gone", past, true)
	expectUse(t, "then with an expiry to come", cache, "gone", now.Add(window), true)
	expectUse(t, "then again", cache, "gone", now.Add(window), false)
	expectUse(t, "a recorded jti, with an expiry already passed", cache, "gone", past, false)
}

func testConcurrentSameJTI(t *testing.T, cache dpop.ReplayCache, c *fakeclock.Clock) {
	const n, rounds = 32, 8
	exp := c.Now().Add(window)
	ctx := t.Context()
	for r := range rounds {
		jti := fmt.Sprintf("race-%d", r)
		var fresh, failed atomic.Int32
		var wg sync.WaitGroup
		start := make(chan struct{})
		for g := range n {
			wg.Go(func() {
				<-start
				ok, err := cache.Use(ctx, fmt.Sprintf("client-%d", g%4), jti, exp)
				switch {
				case err != nil:
					failed.Add(1)
					t.Errorf("concurrent Use(%q): %v", jti, err)
				case ok:
					fresh.Add(1)
				}
			})
		}
		close(start)
		wg.Wait()
		if f := fresh.Load(); f != 1 || failed.Load() != 0 {
			t.Errorf("round %d: %d of %d concurrent Use calls with one jti were fresh, want exactly 1", r, f, n)
		}
		expectUse(t, "after the race", cache, jti, exp, false)
	}
}

func testConcurrentDistinct(t *testing.T, cache dpop.ReplayCache, c *fakeclock.Clock) {
	const n = 64
	exp := c.Now().Add(window)
	ctx := t.Context()
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			jti := fmt.Sprintf("distinct-%d", i)
			for k := range 2 {
				ok, err := cache.Use(ctx, fmt.Sprintf("client-%d", i%8), jti, exp)
				if err != nil {
					t.Errorf("Use(%q): %v", jti, err)
					return
				}
				if want := k == 0; ok != want {
					t.Errorf("Use(%q) call %d amid others: fresh = %v, want %v", jti, k+1, ok, want)
				}
			}
		})
	}
	close(start)
	wg.Wait()
}
