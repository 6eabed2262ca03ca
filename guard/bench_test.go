package guard_test

import (
	"context"
	"crypto/ecdsa"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/latchid/latch/api"
	"github.com/latchid/latch/guard"
	"github.com/latchid/latch/internal/jws/jwstest"
)

// newRawVerifier takes Latch's ES256 key for token out of Latch's JWKS:
// the floor guard's check is measured against is one ECDSA P-256
// verification of the token's signing input, hash included, with nothing
// parsed.
func newRawVerifier(b *testing.B, l *latch, token string) *jwstest.RawES256 {
	b.Helper()
	res, err := http.Get(l.url + "/.well-known/jwks.json")
	if err != nil {
		b.Fatal(err)
	}
	defer res.Body.Close()
	doc, err := io.ReadAll(res.Body)
	if err != nil {
		b.Fatal(err)
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(doc, &set); err != nil {
		b.Fatal(err)
	}
	kid := headerOf(b, token)["kid"].(string)
	keys := set.Key(kid)
	if len(keys) != 1 {
		b.Fatalf("kid %s: %d keys", kid, len(keys))
	}
	pub, ok := keys[0].Key.(*ecdsa.PublicKey)
	if !ok || headerOf(b, token)["alg"] != "ES256" {
		b.Fatalf("Latch's default key is %T, not ES256", keys[0].Key)
	}
	return jwstest.NewRawES256(b, pub, token)
}

// BenchmarkRawVerify is the floor: ECDSA verification of the signing input
// of a Latch JWT, nothing else.
func BenchmarkRawVerify(b *testing.B) {
	f := newFixture(b)
	v := newRawVerifier(b, f.latch, f.session(b).Token)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if !v.Verify() {
			b.Fatal("raw verify failed")
		}
	}
}

// BenchmarkVerify is guard's whole check of a Latch JWT with a warm key
// set: parsing, header rules, claims, key lookup, signature. The metric
// x-raw-verify is its cost over BenchmarkRawVerify's, measured alongside
// (interleaved, so that a busy machine slows both alike); DESIGN.md asks
// that it stay close to 1.
func BenchmarkVerify(b *testing.B) {
	f := newFixture(b)
	token := f.session(b).Token
	ctx := context.Background()
	verify := func() error { _, err := f.g.Verify(ctx, token); return err }
	if err := verify(); err != nil { // warms the key set
		b.Fatal(err)
	}
	ratio := newRawVerifier(b, f.latch, token).Ratio(b, verify)
	calls := f.rt.total()
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if err := verify(); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(ratio, "x-raw-verify")
	if n := f.rt.total() - calls; n != 0 {
		b.Fatalf("%d calls to Latch with a warm key set", n)
	}
}

// BenchmarkRefresh is the refresh path of Handler against in-process
// Latch: an expired JWT and a one-time-use refresh token come in, guard
// calls /api/jwt/refresh, verifies the new JWT, and serves; the next
// request presents the rotated token. latch-calls/op must be 1.
func BenchmarkRefresh(b *testing.B) {
	f := newFixture(b)
	f.jwtConfig(b, f.appID, api.RefreshOneTimeUse)
	login := f.session(b)
	h := f.g.Handler(&backend{})
	serve(h, request(login.Token, "")) // warms the key set
	f.clock.Advance(ttl + guard.DefaultLeeway + time.Second)
	f.rt.reset()
	rt := login.RefreshToken
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		rec := serve(h, request(login.Token, rt))
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
		rt = rec.Header().Get(api.HeaderRefreshToken)
	}
	b.StopTimer()
	b.ReportMetric(float64(f.rt.n(refreshCall))/float64(b.N), "latch-calls/op")
}
