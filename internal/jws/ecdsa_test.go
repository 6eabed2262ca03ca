package jws

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	_ "crypto/sha256"
	_ "crypto/sha512"
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
