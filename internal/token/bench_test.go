package token

import (
	"crypto/ecdsa"
	"crypto/sha256"
	"encoding/asn1"
	"encoding/base64"
	"math/big"
	"strings"
	"testing"
)

// benchClaims is a typical access-token payload.
var benchClaims = map[string]any{
	"iss": "https://latch.example", "sub": "6f1c9f5e-5a0b-4f7e-9d2c-0f1e2d3c4b5a",
	"aud": "3c219e58-ed0e-4b18-ad48-f4f92793ae32", "exp": 1700003600, "iat": 1700000000,
	"jti": "b1a4c2d3-e4f5-4a6b-8c7d-9e0f1a2b3c4d", "roles": []string{"admin", "user"},
	"applicationId": "3c219e58-ed0e-4b18-ad48-f4f92793ae32", "scope": "openid offline_access",
}

func BenchmarkSign(b *testing.B) {
	keys := fixedKeys(b)
	for _, alg := range SupportedAlgorithms() {
		b.Run(alg, func(b *testing.B) {
			k := keys[alg]
			for b.Loop() {
				if _, err := Sign(k, TypeAccessToken, benchClaims); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkVerify(b *testing.B) {
	keys := fixedKeys(b)
	set := keySetOf(keys)
	for _, alg := range SupportedAlgorithms() {
		b.Run(alg, func(b *testing.B) {
			tok, err := Sign(keys[alg], TypeAccessToken, benchClaims)
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(tok)))
			for b.Loop() {
				if _, _, err := Verify(tok, set, TypeAccessToken); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkRawES256Verify is the floor for BenchmarkVerify/ES256: hashing
// the same signing input and ecdsa.VerifyASN1, with no parsing, so that
// Verify's overhead can be reported as a ratio.
func BenchmarkRawES256Verify(b *testing.B) {
	k := fixedKeys(b)[ES256]
	tok, err := Sign(k, TypeAccessToken, benchClaims)
	if err != nil {
		b.Fatal(err)
	}
	dot := strings.LastIndexByte(tok, '.')
	input := []byte(tok[:dot])
	sig, err := base64.RawURLEncoding.DecodeString(tok[dot+1:])
	if err != nil || len(sig) != 64 {
		b.Fatalf("bad signature: %v", err)
	}
	der, err := asn1.Marshal(struct{ R, S *big.Int }{
		new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:]),
	})
	if err != nil {
		b.Fatal(err)
	}
	pub := &k.private.(*ecdsa.PrivateKey).PublicKey
	b.SetBytes(int64(len(tok)))
	for b.Loop() {
		digest := sha256.Sum256(input)
		if !ecdsa.VerifyASN1(pub, digest[:], der) {
			b.Fatal("signature does not verify")
		}
	}
}
