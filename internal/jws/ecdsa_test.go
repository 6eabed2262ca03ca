package jws

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	_ "crypto/sha512"
	"encoding/asn1"
	"errors"
	"math/big"
	"testing"
)

// ecdsaJWS signs digest with priv and returns the JWS form of the
// signature (r || s, each size bytes).
func ecdsaJWS(t *testing.T, priv *ecdsa.PrivateKey, digest []byte, size int) []byte {
	t.Helper()
	r, s, err := ecdsa.Sign(rand.Reader, priv, digest)
	if err != nil {
		t.Fatal(err)
	}
	sig := make([]byte, 2*size)
	r.FillBytes(sig[:size])
	s.FillBytes(sig[size:])
	return sig
}

func verifyJWS(pub *ecdsa.PublicKey, digest, sig []byte) bool {
	size := len(sig) / 2
	return ecdsa.Verify(pub, digest, new(big.Int).SetBytes(sig[:size]), new(big.Int).SetBytes(sig[size:]))
}

// Signatures with random s, of every ECDSA algorithm: LowS makes each one
// low, its twin verifies as well, and it is the same for a signature and
// its twin, so that every message has one low-S signature.
func TestLowS(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		alg   string
		curve elliptic.Curve
		hash  crypto.Hash
	}{
		{"ES256", elliptic.P256(), crypto.SHA256},
		{"ES384", elliptic.P384(), crypto.SHA384},
		{"ES512", elliptic.P521(), crypto.SHA512},
	} {
		t.Run(tc.alg, func(t *testing.T) {
			priv, err := ecdsa.GenerateKey(tc.curve, rand.Reader)
			if err != nil {
				t.Fatal(err)
			}
			n, size := ecdsaOrder(tc.alg)
			h := tc.hash.New()
			h.Write([]byte("payload"))
			digest := h.Sum(nil)
			var high int
			for range 64 {
				sig := ecdsaJWS(t, priv, digest, size)
				if HighS(tc.alg, sig) {
					high++
				}
				orig := bytes.Clone(sig)
				low := LowS(tc.alg, sig)
				if !bytes.Equal(sig, orig) {
					t.Fatal("LowS modified its argument")
				}
				if HighS(tc.alg, low) || !verifyJWS(&priv.PublicKey, digest, low) {
					t.Fatalf("LowS(%x) = %x: high, or does not verify", sig, low)
				}
				// The twin: same r, n−s.
				twin := bytes.Clone(low)
				new(big.Int).Sub(n, new(big.Int).SetBytes(low[size:])).FillBytes(twin[size:])
				if !HighS(tc.alg, twin) || !verifyJWS(&priv.PublicKey, digest, twin) {
					t.Fatalf("the twin of %x is not a high-S signature that verifies", low)
				}
				if !bytes.Equal(LowS(tc.alg, twin), low) {
					t.Fatal("LowS of the twin is not the low-S signature")
				}
			}
			// ecdsa.Sign picks s at random: about half are high.
			if high == 0 || high == 64 {
				t.Errorf("%d of 64 signatures high", high)
			}
		})
	}
}

// The boundary: s = n/2 (rounded down) is low, one more is high.
func TestHighS_Boundary(t *testing.T) {
	t.Parallel()
	n, size := ecdsaOrder("ES256")
	half := new(big.Int).Rsh(n, 1)
	sig := make([]byte, 2*size)
	sig[0] = 1
	for _, tc := range []struct {
		s    *big.Int
		high bool
	}{
		{big.NewInt(1), false},
		{half, false},
		{new(big.Int).Add(half, big.NewInt(1)), true},
		{new(big.Int).Sub(n, big.NewInt(1)), true},
	} {
		tc.s.FillBytes(sig[size:])
		if got := HighS("ES256", sig); got != tc.high {
			t.Errorf("HighS(s = %x) = %v", tc.s, got)
		}
	}
}

// Other algorithms, and signatures of the wrong length, are never high.
func TestHighS_NotECDSA(t *testing.T) {
	t.Parallel()
	all := bytes.Repeat([]byte{0xff}, 64)
	for _, tc := range []struct {
		alg string
		sig []byte
	}{
		{"RS256", all}, {"EdDSA", all}, {"HS256", all}, {"none", all}, {"", all}, {"es256", all},
		{"ES256", all[:63]}, {"ES256", append(bytes.Clone(all), 0xff)}, {"ES256", nil},
		{"ES384", all}, {"ES512", all},
	} {
		if HighS(tc.alg, tc.sig) {
			t.Errorf("HighS(%q, %d bytes) = true", tc.alg, len(tc.sig))
		}
		if got := LowS(tc.alg, tc.sig); !bytes.Equal(got, tc.sig) {
			t.Errorf("LowS(%q, %d bytes) changed it", tc.alg, len(tc.sig))
		}
	}
}

// asn1Signature makes the DER that encoding/asn1 makes of the same two
// numbers, for every length and top bit the halves of a JWS signature can
// have.
func TestASN1Signature(t *testing.T) {
	t.Parallel()
	full := func(size int, first byte) []byte {
		b := make([]byte, size)
		for i := range b {
			b[i] = 0x5a
		}
		b[0] = first
		return b
	}
	for _, tc := range []struct {
		name string
		r, s []byte
	}{
		{"zero", make([]byte, 32), make([]byte, 32)},
		{"top bit set", full(32, 0x80), full(32, 0xff)},
		{"top bit clear", full(32, 0x7f), full(32, 0x01)},
		{"leading zeros", append(make([]byte, 5), full(27, 0x90)...), append(make([]byte, 31), 1)},
		{"P-384", full(48, 0xc0), full(48, 0x10)},
		{"P-521, long form length", full(66, 0x01), full(66, 0x01)},
		{"P-521, zero-padded halves", append(make([]byte, 1), full(65, 0xff)...), append(make([]byte, 1), full(65, 0xff)...)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want, err := asn1.Marshal(struct{ R, S *big.Int }{new(big.Int).SetBytes(tc.r), new(big.Int).SetBytes(tc.s)})
			if err != nil {
				t.Fatal(err)
			}
			var buf [maxDERSignature]byte
			if got := asn1Signature(buf[:0], tc.r, tc.s); !bytes.Equal(got, want) {
				t.Errorf("asn1Signature = %x, want %x", got, want)
			}
		})
	}
}

// Halves out of range are refused as ecdsa.Verify refuses them: zero, and
// r or s at or above the order.
func TestVerify_ECDSAOutOfRange(t *testing.T) {
	t.Parallel()
	priv := mustEC(t)
	j := signed(t, `{"alg":"ES256"}`, ecSign(t, "ES256", priv, crypto.SHA256, false))
	n := elliptic.P256().Params().N.FillBytes(make([]byte, 32))
	for _, tc := range []struct {
		name string
		r, s []byte
	}{
		{"r zero", make([]byte, 32), j.Signature[32:]},
		{"s zero", j.Signature[:32], make([]byte, 32)},
		{"r the order", n, j.Signature[32:]},
		{"r all ones", bytes.Repeat([]byte{0xff}, 32), j.Signature[32:]},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bad := j
			bad.Signature = append(append([]byte(nil), tc.r...), tc.s...)
			if err := VerifyEitherS("ES256", &priv.PublicKey, &bad); !errors.Is(err, ErrSignature) {
				t.Errorf("VerifyEitherS = %v, want ErrSignature", err)
			}
		})
	}
	if err := Verify("ES256", &priv.PublicKey, &j); err != nil {
		t.Fatalf("the signature itself: %v", err)
	}
}

// BenchmarkParseVerify is the work every verifier of Latch does for an
// ES256 token: Parse and Verify.
func BenchmarkParseVerify(b *testing.B) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	input := Encoding.EncodeToString([]byte(`{"alg":"ES256","kid":"k1","typ":"at+jwt"}`)) + "." +
		Encoding.EncodeToString([]byte(`{"aud":"3c219e58-ed0e-4b18-ad48-f4f92793ae32","exp":1765000000,"iat":1764996400,"iss":"acme.com","sub":"2fa6fe8c-6de0-4a2b-9d6c-6d0c2d5d5d5d","jti":"0c8b1b1e-0f0e-4f6a-8d2c-1b2b3c4d5e6f","roles":["user"]}`))
	digest := sha256.Sum256([]byte(input))
	r, s, err := ecdsa.Sign(rand.Reader, priv, digest[:])
	if err != nil {
		b.Fatal(err)
	}
	if half := new(big.Int).Rsh(priv.Params().N, 1); s.Cmp(half) > 0 {
		s.Sub(priv.Params().N, s)
	}
	sig := make([]byte, 64)
	r.FillBytes(sig[:32])
	s.FillBytes(sig[32:])
	token := input + "." + Encoding.EncodeToString(sig)
	b.ReportAllocs()
	for b.Loop() {
		j, err := Parse(token)
		if err != nil {
			b.Fatal(err)
		}
		if err := Verify("ES256", &priv.PublicKey, &j); err != nil {
			b.Fatal(err)
		}
	}
}
