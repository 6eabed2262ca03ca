package dpop_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/latchid/latch/dpop"
)

// t0 is the tests' clock.
var t0 = time.Unix(1_700_000_000, 0)

func fixedNow() time.Time { return t0 }

const (
	testMethod = "POST"
	testURL    = "https://api.example.com/api/cart/items"
	testToken  = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ1MSJ9.c2ln"
)

var b64 = base64.RawURLEncoding

// keys are generated once: RSA generation is slow.
var keys = sync.OnceValue(func() map[string]crypto.Signer {
	must := func(k crypto.Signer, err error) crypto.Signer {
		if err != nil {
			panic(err)
		}
		return k
	}
	_, ed, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		panic(err)
	}
	return map[string]crypto.Signer{
		"ES256":  must(ecdsa.GenerateKey(elliptic.P256(), rand.Reader)),
		"ES256b": must(ecdsa.GenerateKey(elliptic.P256(), rand.Reader)),
		"ES384":  must(ecdsa.GenerateKey(elliptic.P384(), rand.Reader)),
		"ES512":  must(ecdsa.GenerateKey(elliptic.P521(), rand.Reader)),
		"EdDSA":  ed,
		"RS256":  must(rsa.GenerateKey(rand.Reader, 2048)),
	}
})

func key(name string) crypto.Signer { return keys()[name] }

// newVerifier returns a verifier on the tests' clock with a fresh memory
// cache on the same clock, unless cfg brings its own.
func newVerifier(t testing.TB, cfg dpop.Config) *dpop.Verifier {
	t.Helper()
	if cfg.Now == nil {
		cfg.Now = fixedNow
	}
	if cfg.Replay == nil {
		cfg.Replay = &dpop.MemoryReplayCache{Now: cfg.Now}
	}
	v, err := dpop.NewVerifier(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// mustProof makes a proof with NewProof at t0.
func mustProof(t testing.TB, k crypto.Signer, method, url string, opts dpop.ProofOptions) string {
	t.Helper()
	if opts.Now.IsZero() {
		opts.Now = t0
	}
	p, err := dpop.NewProof(k, method, url, opts)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// jwkOf returns pub as a JWK object, as go-jose writes it.
func jwkOf(t testing.TB, pub crypto.PublicKey) map[string]any {
	t.Helper()
	b, err := json.Marshal(jose.JSONWebKey{Key: pub})
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// claims are valid claims for testMethod and testURL at t0.
func claims() map[string]any {
	return map[string]any{"jti": "jti-" + rand.Text(), "htm": testMethod, "htu": testURL, "iat": t0.Unix()}
}

// header is a valid header for k.
func header(t testing.TB, alg string, k crypto.Signer) map[string]any {
	return map[string]any{"typ": "dpop+jwt", "alg": alg, "jwk": jwkOf(t, k.Public())}
}

// forge builds a compact JWS from any header and claims (maps, or raw
// JSON as json.RawMessage or string), signed by k with alg as named,
// whatever the header says. alg "none" signs nothing; HS256 uses secret.
func forge(t testing.TB, alg string, k crypto.Signer, hdr, cl any) string {
	t.Helper()
	enc := func(v any) string {
		switch v := v.(type) {
		case string:
			return b64.EncodeToString([]byte(v))
		case json.RawMessage:
			return b64.EncodeToString(v)
		}
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return b64.EncodeToString(b)
	}
	input := enc(hdr) + "." + enc(cl)
	return input + "." + b64.EncodeToString(rawSign(t, alg, k, []byte(input)))
}

// hmacSecret signs the HS256 forgeries.
var hmacSecret = []byte("0123456789abcdef0123456789abcdef")

// rawSign signs input as JWS alg with k, with the standard library only.
func rawSign(t testing.TB, alg string, k crypto.Signer, input []byte) []byte {
	t.Helper()
	hashes := map[string]crypto.Hash{"ES256": crypto.SHA256, "ES384": crypto.SHA384, "ES512": crypto.SHA512, "RS256": crypto.SHA256}
	switch alg {
	case "none":
		return nil
	case "HS256":
		m := hmac.New(sha256.New, hmacSecret)
		m.Write(input)
		return m.Sum(nil)
	case "EdDSA":
		return ed25519.Sign(k.(ed25519.PrivateKey), input)
	}
	h := hashes[alg].New()
	h.Write(input)
	digest := h.Sum(nil)
	switch k := k.(type) {
	case *ecdsa.PrivateKey:
		r, s, err := ecdsa.Sign(rand.Reader, k, digest)
		if err != nil {
			t.Fatal(err)
		}
		size := (k.Curve.Params().BitSize + 7) / 8
		out := make([]byte, 2*size)
		r.FillBytes(out[:size])
		s.FillBytes(out[size:])
		return out
	case *rsa.PrivateKey:
		sig, err := rsa.SignPKCS1v15(rand.Reader, k, hashes[alg], digest)
		if err != nil {
			t.Fatal(err)
		}
		return sig
	}
	t.Fatalf("rawSign: %s with %T", alg, k)
	return nil
}

// alwaysFresh is a ReplayCache that never remembers, for benchmarks and
// fuzzing, where the same proof is verified many times.
type alwaysFresh struct{}

func (alwaysFresh) Use(context.Context, string, string, time.Time) (bool, error) { return true, nil }

// bigB64 decodes a base64url big-endian integer.
func bigB64(s string) *big.Int {
	b, err := b64.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return new(big.Int).SetBytes(b)
}
