package guard_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/latchid/latch/internal/jws"
)

// Tokens are made by hand here, not with go-jose, so that tests can put
// anything in a header: duplicate names, refused parameters, any alg.

// signFunc signs a JWS signing input.
type signFunc func(t testing.TB, input []byte) []byte

func es256Key(priv *ecdsa.PrivateKey) signFunc {
	return func(t testing.TB, input []byte) []byte {
		h := sha256.Sum256(input)
		r, s, err := ecdsa.Sign(rand.Reader, priv, h[:])
		if err != nil {
			t.Fatal(err)
		}
		sig := make([]byte, 64)
		r.FillBytes(sig[:32])
		s.FillBytes(sig[32:])
		return jws.LowS("ES256", sig) // as Latch signs: guard refuses high S
	}
}

// es256Key384 signs ES384 (P-384, SHA-384).
func es256Key384(priv *ecdsa.PrivateKey) signFunc {
	return func(t testing.TB, input []byte) []byte {
		h := sha512.Sum384(input)
		r, s, err := ecdsa.Sign(rand.Reader, priv, h[:])
		if err != nil {
			t.Fatal(err)
		}
		sig := make([]byte, 96)
		r.FillBytes(sig[:48])
		s.FillBytes(sig[48:])
		return jws.LowS("ES384", sig)
	}
}

// pemOf is the PEM SubjectPublicKeyInfo of pub: what an attacker keys
// HS256 with in the algorithm-confusion attack.
func pemOf(t testing.TB, pub any) []byte {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

func rs256Key(priv *rsa.PrivateKey) signFunc {
	return func(t testing.TB, input []byte) []byte {
		h := sha256.Sum256(input)
		sig, err := rsa.SignPKCS1v15(rand.Reader, priv, crypto.SHA256, h[:])
		if err != nil {
			t.Fatal(err)
		}
		return sig
	}
}

func edKey(priv ed25519.PrivateKey) signFunc {
	return func(t testing.TB, input []byte) []byte { return ed25519.Sign(priv, input) }
}

func hs256Key(secret []byte) signFunc {
	return func(t testing.TB, input []byte) []byte {
		m := hmac.New(sha256.New, secret)
		m.Write(input)
		return m.Sum(nil)
	}
}

// encodeSegment is the base64url JSON of v; a string is taken as raw JSON.
func encodeSegment(t testing.TB, v any) string {
	t.Helper()
	b, ok := v.(string)
	if !ok {
		j, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		b = string(j)
	}
	return base64.RawURLEncoding.EncodeToString([]byte(b))
}

// signToken makes a compact JWS of header and payload (maps, or raw JSON
// strings) signed by sign.
func signToken(t testing.TB, sign signFunc, header, payload any) string {
	t.Helper()
	input := encodeSegment(t, header) + "." + encodeSegment(t, payload)
	return input + "." + base64.RawURLEncoding.EncodeToString(sign(t, []byte(input)))
}

// segment decodes part i of a compact JWS as a JSON object.
func segment(t testing.TB, token string, i int) map[string]any {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(strings.Split(token, ".")[i])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func headerOf(t testing.TB, token string) map[string]any  { return segment(t, token, 0) }
func payloadOf(t testing.TB, token string) map[string]any { return segment(t, token, 1) }

// flip returns the signature segment sig with one bit of its first byte
// flipped, still strict base64url.
func flip(sig string) string {
	b, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil || len(b) == 0 {
		return "AAAA"
	}
	b[0] ^= 1
	return base64.RawURLEncoding.EncodeToString(b)
}

// highSTwin is token, an ECDSA JWT (ES256 or ES384), with its
// signature's s replaced by n−s: the same token under a second signature,
// which plain ECDSA verification accepts.
func highSTwin(t testing.TB, token string) string {
	t.Helper()
	i := strings.LastIndex(token, ".")
	sig, err := base64.RawURLEncoding.DecodeString(token[i+1:])
	if err != nil {
		t.Fatal(err)
	}
	curve := elliptic.P256()
	if len(sig) == 96 {
		curve = elliptic.P384()
	}
	size := len(sig) / 2
	s := new(big.Int).SetBytes(sig[size:])
	s.Sub(curve.Params().N, s).FillBytes(sig[size:])
	return token[:i+1] + base64.RawURLEncoding.EncodeToString(sig)
}

// tamperSignature flips a bit of token's signature.
func tamperSignature(token string) string {
	i := strings.LastIndex(token, ".")
	return token[:i+1] + flip(token[i+1:])
}

// forgeKey signs the forged tokens of forge: a key Latch never published.
var forgeKey = func() *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	return k
}()

// forge makes a token for f's guard whose claims all pass but whose kid is
// kid and whose key is not Latch's.
func forge(t testing.TB, f *fixture, kid string) string {
	t.Helper()
	now := f.clock.Now().Unix()
	return signToken(t, es256Key(forgeKey), map[string]any{"alg": "ES256", "kid": kid, "typ": "at+jwt"}, map[string]any{
		"iss": f.url, "aud": f.appID, "sub": "forged", "iat": now, "exp": now + 60,
	})
}

// epoch is the fixed clock of the tests that need no Latch.
var epoch = time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)
