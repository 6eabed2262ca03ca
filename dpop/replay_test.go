package dpop_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/latchid/latch/dpop"
)

// One client at its share is refused alone (ErrTooManyProofs) until its
// records expire; the cache as a whole is refused (ErrReplayCacheFull)
// only when MaxEntries records are held, which takes several clients; no
// unexpired record is ever forgotten.
func TestMemoryReplayCache_Shares(t *testing.T) {
	ctx := context.Background()
	now := t0
	c := &dpop.MemoryReplayCache{MaxEntries: 10, MaxPerClient: 4, Now: func() time.Time { return now }}
	use := func(client, jti string) error {
		fresh, err := c.Use(ctx, client, jti, now.Add(time.Minute))
		if err == nil && !fresh {
			return dpop.ErrReplay
		}
		return err
	}
	steps := []struct {
		client, jti string
		want        error
	}{
		// The flooder fills its share, and is refused alone.
		{"flooder", "f1", nil},
		{"flooder", "f2", nil},
		{"flooder", "f3", nil},
		{"flooder", "f4", nil},
		{"flooder", "f5", dpop.ErrTooManyProofs},
		{"flooder", "f6", dpop.ErrTooManyProofs},
		{"app", "a1", nil},
		{"app", "a2", nil},
		// A recorded proof is a replay whoever sends it, a full share or not.
		{"flooder", "f1", dpop.ErrReplay},
		{"app", "f2", dpop.ErrReplay},
		{"flooder", "a1", dpop.ErrReplay},
		// A refused jti was not recorded.
		{"app", "f5", nil},
		// Three clients fill the cache (4 + 3 + 3): then everyone waits.
		{"third", "t1", nil},
		{"third", "t2", nil},
		{"third", "t3", nil},
		{"app", "a3", dpop.ErrReplayCacheFull},
		{"fourth", "x1", dpop.ErrReplayCacheFull},
		{"flooder", "f7", dpop.ErrTooManyProofs},
	}
	for i, s := range steps {
		if err := use(s.client, s.jti); !errors.Is(err, s.want) || (s.want == nil && err != nil) {
			t.Fatalf("step %d: Use(%s, %s) = %v, want %v", i, s.client, s.jti, err, s.want)
		}
	}
	if n := c.Len(); n != 10 {
		t.Errorf("Len = %d, want 10", n)
	}
	// A minute on, every record has expired: every share is whole again,
	// and the jtis may be used anew.
	now = now.Add(time.Minute)
	for i := range 4 {
		if err := use("flooder", fmt.Sprintf("f%d", i+1)); err != nil {
			t.Fatalf("after expiry, flooder's jti %d: %v", i+1, err)
		}
	}
	if err := use("flooder", "f9"); !errors.Is(err, dpop.ErrTooManyProofs) {
		t.Errorf("after expiry, the fifth of the flooder's: %v, want ErrTooManyProofs", err)
	}
	if err := use("app", "a4"); err != nil {
		t.Errorf("after expiry, the app: %v", err)
	}
}

// A flood of proofs from one client, as many a second as it can send,
// with one key or a new key each time, leaves another client served: a
// MemoryReplayCache with its default bounds, behind a Verifier, charges
// a proof with an access token to its key and one without to the
// Request.Client that the caller names.
func TestMemoryReplayCache_FloodCostsTheFlooder(t *testing.T) {
	ctx := context.Background()
	cache := &dpop.MemoryReplayCache{Now: fixedNow}
	v := newVerifier(t, dpop.Config{Replay: cache})
	app := key("ES256b")
	appProof := func(i int) string {
		return mustProof(t, app, testMethod, testURL, dpop.ProofOptions{JTI: fmt.Sprintf("app-%d", i)})
	}
	// flood sends n proofs by one key, with new jtis, and returns how many
	// were accepted and how many refused with ErrTooManyProofs.
	flood := func(req dpop.Request, n int, proof func(i int) string) (ok, tooMany int) {
		for i := range n {
			_, err := v.Verify(ctx, proof(i), req)
			switch {
			case err == nil:
				ok++
			case errors.Is(err, dpop.ErrTooManyProofs):
				tooMany++
			default:
				t.Fatalf("flood proof %d: %v", i, err)
			}
		}
		return ok, tooMany
	}

	// One key, with a token: charged to the key.
	flooder := key("ES256")
	ok, tooMany := flood(dpop.Request{Method: testMethod, URL: testURL}, dpop.DefaultReplayCacheShare+50, func(i int) string {
		return mustProof(t, flooder, testMethod, testURL, dpop.ProofOptions{JTI: fmt.Sprintf("one-key-%d", i)})
	})
	if ok != dpop.DefaultReplayCacheShare || tooMany != 50 {
		t.Errorf("one key: %d accepted, %d refused; want %d and 50", ok, tooMany, dpop.DefaultReplayCacheShare)
	}
	if _, err := v.Verify(ctx, appProof(1), dpop.Request{Method: testMethod, URL: testURL}); err != nil {
		t.Fatalf("another client, after a flood by one key: %v", err)
	}

	// A new key for every proof, without a token (a login): charged to
	// the client's address. Signing hundreds of keys is slow; the share is
	// what matters, so the second cache keeps a small one.
	small := &dpop.MemoryReplayCache{MaxPerClient: 20, Now: fixedNow}
	v = newVerifier(t, dpop.Config{Replay: small})
	login := dpop.Request{Method: testMethod, URL: testURL, Client: "203.0.113.9"}
	ok, tooMany = flood(login, 30, func(i int) string {
		k, err := dpop.GenerateKey()
		if err != nil {
			t.Fatal(err)
		}
		return mustProof(t, k, testMethod, testURL, dpop.ProofOptions{})
	})
	if ok != 20 || tooMany != 10 {
		t.Errorf("a new key for every proof, from one address: %d accepted, %d refused; want 20 and 10", ok, tooMany)
	}
	for _, req := range []dpop.Request{
		{Method: testMethod, URL: testURL, Client: "198.51.100.4"}, // another address's login
		{Method: testMethod, URL: testURL},                         // a client charged to its key
	} {
		if _, err := v.Verify(ctx, appProof(len(req.Client)), req); err != nil {
			t.Errorf("another client (%q), after a flood from one address: %v", req.Client, err)
		}
	}
}

// Check applies the checks and records nothing; Record then accepts the
// proof once.
func TestVerifier_CheckThenRecord(t *testing.T) {
	ctx := context.Background()
	cache := &dpop.MemoryReplayCache{Now: fixedNow}
	v := newVerifier(t, dpop.Config{Replay: cache})
	req := dpop.Request{Method: testMethod, URL: testURL, AccessToken: testToken}
	proof := mustProof(t, key("ES256"), testMethod, testURL, dpop.ProofOptions{AccessToken: testToken})

	var checked []*dpop.Proof
	for range 3 {
		p, err := v.Check(ctx, proof, req)
		if err != nil {
			t.Fatalf("Check: %v", err)
		}
		checked = append(checked, p)
	}
	if n := cache.Len(); n != 0 {
		t.Fatalf("Check recorded %d proofs", n)
	}
	if c := checked[0].Client; c != checked[0].JKT {
		t.Errorf("Client %q, want the key's thumbprint %q", c, checked[0].JKT)
	}
	req.Client = "192.0.2.1"
	if p, err := v.Check(ctx, proof, req); err != nil || p.Client != req.Client {
		t.Errorf("Check with Request.Client: %v, Client %q", err, p.Client)
	}
	if _, err := v.Check(ctx, proof, dpop.Request{Method: "GET", URL: testURL}); !errors.Is(err, dpop.ErrMethod) {
		t.Errorf("Check against another request: %v, want ErrMethod", err)
	}
	if err := v.Record(ctx, checked[0]); err != nil {
		t.Fatalf("Record: %v", err)
	}
	if n := cache.Len(); n != 1 {
		t.Errorf("Record recorded %d proofs, want 1", n)
	}
	if err := v.Record(ctx, checked[1]); !errors.Is(err, dpop.ErrReplay) {
		t.Errorf("second Record of the proof: %v, want ErrReplay", err)
	}
	if _, err := v.Verify(ctx, proof, req); !errors.Is(err, dpop.ErrReplay) {
		t.Errorf("Verify of a recorded proof: %v, want ErrReplay", err)
	}

	// What is recorded is the key's thumbprint and the jti: another
	// Verifier on the cache refuses the proof too.
	other := newVerifier(t, dpop.Config{Replay: cache})
	if err := other.Record(ctx, checked[2]); !errors.Is(err, dpop.ErrReplay) {
		t.Errorf("Record by another Verifier on the cache: %v, want ErrReplay", err)
	}
	for name, p := range map[string]*dpop.Proof{"nil": nil, "empty": {}} {
		if err := v.Record(ctx, p); err == nil || errors.Is(err, dpop.ErrReplay) {
			t.Errorf("Record of a %s proof: %v, want a misuse error", name, err)
		}
	}
}
