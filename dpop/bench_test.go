package dpop_test

import (
	"context"
	"crypto/ecdsa"
	"strconv"
	"testing"
	"time"

	"github.com/latchid/latch/dpop"
	"github.com/latchid/latch/internal/jws/jwstest"
)

// newRawVerifier is the floor Verify is measured against: one ECDSA P-256
// verification of proof's signing input, hash included, with nothing
// parsed.
func newRawVerifier(b *testing.B, proof string) *jwstest.RawES256 {
	b.Helper()
	return jwstest.NewRawES256(b, key("ES256").Public().(*ecdsa.PublicKey), proof)
}

// benchProof is an ES256 proof with ath, as an app sends with every
// request.
func benchProof(b *testing.B) string {
	return mustProof(b, key("ES256"), "GET", testURL, dpop.ProofOptions{AccessToken: testToken})
}

// BenchmarkRawVerify is the floor: ECDSA verification of a proof's signing
// input, nothing else.
func BenchmarkRawVerify(b *testing.B) {
	v := newRawVerifier(b, benchProof(b))
	b.ReportAllocs()
	for b.Loop() {
		if !v.Verify() {
			b.Fatal("raw verify failed")
		}
	}
}

// BenchmarkVerify is Verify's whole check of an ES256 proof with ath and a
// key binding: parsing, header rules, key decoding, signature, claims,
// thumbprint. The replay cache is one that always answers fresh, so that
// one proof can be verified b.N times; BenchmarkMemoryReplayCache measures
// the cache. The metric x-raw-verify is Verify's cost over
// BenchmarkRawVerify's, measured alongside (interleaved, so that a busy
// machine slows both alike); DESIGN.md asks that it stay close to 1.
func BenchmarkVerify(b *testing.B) {
	proof := benchProof(b)
	v := newVerifier(b, dpop.Config{Replay: alwaysFresh{}})
	req := dpop.Request{Method: "GET", URL: testURL, AccessToken: testToken, BoundJKT: mustThumbprint(b, key("ES256").Public())}
	ctx := context.Background()
	verify := func() error { _, err := v.Verify(ctx, proof, req); return err }
	ratio := newRawVerifier(b, proof).Ratio(b, verify)
	b.ReportAllocs()
	for b.Loop() {
		if err := verify(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(ratio, "x-raw-verify")
}

// BenchmarkMemoryReplayCache is one Use of a new key in a cache that
// holds a window's worth of keys, from 256 clients, and drops expired
// ones as it goes.
func BenchmarkMemoryReplayCache(b *testing.B) {
	now := t0
	c := &dpop.MemoryReplayCache{Now: func() time.Time { return now }}
	ctx := context.Background()
	keys := make([]string, 1<<16)
	for i := range keys {
		keys[i] = strconv.Itoa(i)
	}
	clients := keys[:256]
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		// One Use per millisecond of the clock, kept for a minute: the
		// cache settles at 60,000 entries, about 234 a client.
		now = now.Add(time.Millisecond)
		if _, err := c.Use(ctx, clients[i%len(clients)], keys[i%len(keys)]+"/"+strconv.Itoa(i/len(keys)), now.Add(time.Minute)); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkNewProof is what an app spends per request.
func BenchmarkNewProof(b *testing.B) {
	k := key("ES256")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := dpop.NewProof(k, "GET", testURL, dpop.ProofOptions{AccessToken: testToken}); err != nil {
			b.Fatal(err)
		}
	}
}
