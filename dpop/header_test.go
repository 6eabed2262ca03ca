package dpop_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/latchid/latch/dpop"
)

func TestFromHeader(t *testing.T) {
	proof := mustProof(t, key("ES256"), testMethod, testURL, dpop.ProofOptions{})
	tests := []struct {
		name   string
		values []string // nil: no DPoP header
		want   string
		err    error
	}{
		{name: "one", values: []string{proof}, want: proof},
		{name: "surrounding whitespace", values: []string{" \t" + proof + " "}, want: proof},
		{name: "none", values: nil, err: dpop.ErrNoProof},
		{name: "two", values: []string{proof, proof}, err: dpop.ErrMalformed},
		{name: "one empty", values: []string{""}, err: dpop.ErrMalformed},
		{name: "one blank", values: []string{"  "}, err: dpop.ErrMalformed},
		{name: "a list in one", values: []string{proof + ", " + proof}, err: dpop.ErrMalformed},
		{name: "oversized", values: []string{strings.Repeat("a", dpop.MaxProofSize+1)}, err: dpop.ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			for _, v := range tt.values {
				h.Add("dpop", v) // header names are case-insensitive
			}
			got, err := dpop.FromHeader(h)
			if !errors.Is(err, tt.err) || got != tt.want {
				t.Errorf("FromHeader = %q, %v; want %q, %v", got, err, tt.want, tt.err)
			}
		})
	}
}

// The two sides together over HTTP: the client signs for the URL it
// calls, the server verifies against the URL it serves.
func TestHTTP(t *testing.T) {
	v := newVerifier(t, dpop.Config{Now: time.Now, Replay: &dpop.MemoryReplayCache{}})
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, err := dpop.FromHeader(r.Header)
		if err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		token, _ := strings.CutPrefix(r.Header.Get("Authorization"), "DPoP ")
		p, err := v.Verify(r.Context(), raw, dpop.Request{Method: r.Method, URL: srv.URL + r.URL.RequestURI(), AccessToken: token})
		if err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		w.Write([]byte(p.JKT))
	}))
	defer srv.Close()

	k := key("ES256")
	call := func(proof string) (int, string) {
		req, _ := http.NewRequest("GET", srv.URL+"/api/cart?x=1", nil)
		req.Header.Set("Authorization", "DPoP "+testToken)
		req.Header.Set(dpop.Header, proof)
		res, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, err := io.ReadAll(res.Body)
		if err != nil {
			t.Fatal(err)
		}
		return res.StatusCode, string(body)
	}
	proof, err := dpop.NewProof(k, "GET", srv.URL+"/api/cart?x=1", dpop.ProofOptions{AccessToken: testToken})
	if err != nil {
		t.Fatal(err)
	}
	if code, body := call(proof); code != 200 || body != mustThumbprint(t, k.Public()) {
		t.Fatalf("%d %s", code, body)
	}
	if code, body := call(proof); code != 401 || !strings.Contains(body, "replayed") {
		t.Fatalf("replay: %d %s", code, body)
	}
}

func TestMemoryReplayCache(t *testing.T) {
	ctx := context.Background()
	now := t0
	c := &dpop.MemoryReplayCache{MaxEntries: 3, Now: func() time.Time { return now }}
	use := func(key string, ttl time.Duration) (bool, error) { return c.Use(ctx, "client-"+key, key, now.Add(ttl)) }
	mustUse := func(key string, ttl time.Duration, want bool) {
		t.Helper()
		fresh, err := use(key, ttl)
		if err != nil || fresh != want {
			t.Fatalf("Use(%s) = %v, %v; want %v", key, fresh, err, want)
		}
	}
	mustUse("a", time.Minute, true)
	mustUse("a", time.Minute, false)
	mustUse("b", 2*time.Minute, true)
	mustUse("c", 3*time.Minute, true)
	if _, err := use("d", time.Minute); !errors.Is(err, dpop.ErrReplayCacheFull) {
		t.Fatalf("Use on a full cache: %v", err)
	}
	mustUse("b", time.Minute, false) // still remembered after the refusal
	mustUse("x", -time.Second, true) // expired already: nothing to remember
	mustUse("x", -time.Second, true)

	now = now.Add(time.Minute) // a expires
	mustUse("a", time.Minute, true)
	if n := c.Len(); n != 3 {
		t.Errorf("Len = %d, want 3", n)
	}
	now = now.Add(10 * time.Minute) // all expire
	mustUse("e", time.Minute, true)
	if n := c.Len(); n != 1 {
		t.Errorf("Len = %d after expiry, want 1", n)
	}

	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := c.Use(cancelled, "client", "f", now.Add(time.Minute)); !errors.Is(err, context.Canceled) {
		t.Errorf("Use with a cancelled context: %v", err)
	}
}

// The zero MemoryReplayCache works, and many goroutines racing on the
// same keys see exactly one fresh use of each.
func TestMemoryReplayCache_Concurrent(t *testing.T) {
	var c dpop.MemoryReplayCache
	const keys, workers = 100, 16
	var mu sync.Mutex
	fresh := map[string]int{}
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := range keys {
				k := string(rune('A'+i%60)) + string(rune('A'+i/60))
				ok, err := c.Use(context.Background(), "client", k, time.Now().Add(time.Minute))
				if err != nil {
					t.Error(err)
					return
				}
				if ok {
					mu.Lock()
					fresh[k]++
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	if len(fresh) != keys {
		t.Errorf("%d keys used, want %d", len(fresh), keys)
	}
	for k, n := range fresh {
		if n != 1 {
			t.Errorf("key %s fresh %d times", k, n)
		}
	}
}

func TestHMACNonces(t *testing.T) {
	now := t0
	clock := func() time.Time { return now }
	secret := []byte(strings.Repeat("k", 32))
	a, err := dpop.NewHMACNonces(secret, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	b, err := dpop.NewHMACNonces(secret, time.Minute) // another node, same secret
	if err != nil {
		t.Fatal(err)
	}
	a.Now, b.Now = clock, clock
	n := a.Current()
	if n != b.Current() || !b.Valid(n) {
		t.Fatal("two nodes with one secret disagree")
	}
	for _, c := range n {
		if !strings.ContainsRune("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", c) {
			t.Fatalf("nonce %q is not base64url (NQCHAR)", n)
		}
	}
	now = now.Add(time.Minute) // the next bucket: still valid
	if !a.Valid(n) || a.Current() == n {
		t.Error("the previous bucket's nonce is refused, or the nonce did not change")
	}
	now = now.Add(time.Minute) // two buckets on: stale
	if a.Valid(n) {
		t.Error("a nonce two buckets old is valid")
	}
	for _, bad := range []string{"", "x", n + "A", strings.ToUpper(n)} {
		if a.Valid(bad) {
			t.Errorf("Valid(%q)", bad)
		}
	}

	// The secret is copied: changing the caller's slice changes nothing.
	now = t0
	secret[0] = 'z'
	if !a.Valid(n) {
		t.Error("NewHMACNonces kept the caller's secret slice")
	}

	for _, tt := range []struct {
		secret []byte
		bucket time.Duration
	}{
		{make([]byte, 31), 0},
		{nil, 0},
		{make([]byte, 32), -time.Minute},
		{make([]byte, 32), time.Millisecond},
	} {
		if _, err := dpop.NewHMACNonces(tt.secret, tt.bucket); err == nil {
			t.Errorf("NewHMACNonces(%d bytes, %s): no error", len(tt.secret), tt.bucket)
		}
	}
}
