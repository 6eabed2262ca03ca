package jws

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"math/big"
	"strings"
	"testing"
)

// signed is a compact JWS over header and payload, signed by sign.
func signed(t *testing.T, header string, sign func(input []byte) []byte) JWS {
	t.Helper()
	input := part(header) + "." + part(`{"sub":"s"}`)
	j, err := Parse(input + "." + Encoding.EncodeToString(sign([]byte(input))))
	if err != nil {
		t.Fatal(err)
	}
	return j
}

// ecSign signs with priv, giving r || s with s as low or high as asked.
func ecSign(t *testing.T, alg string, priv *ecdsa.PrivateKey, hash crypto.Hash, high bool) func([]byte) []byte {
	return func(input []byte) []byte {
		h := hash.New()
		h.Write(input)
		r, s, err := ecdsa.Sign(rand.Reader, priv, h.Sum(nil))
		if err != nil {
			t.Fatal(err)
		}
		n, size := ecdsaOrder(alg)
		if half := new(big.Int).Rsh(n, 1); (s.Cmp(half) > 0) != high {
			s.Sub(n, s)
		}
		sig := make([]byte, 2*size)
		r.FillBytes(sig[:size])
		s.FillBytes(sig[size:])
		return sig
	}
}

// Every algorithm with its own key verifies; a changed signing input, a
// high-S twin, another key type or an unknown algorithm does not.
func TestVerify(t *testing.T) {
	t.Parallel()
	ec256, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ec384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	ec521, _ := ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
	edPub, edPriv, _ := ed25519.GenerateKey(rand.Reader)
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	secret := []byte("0123456789abcdef0123456789abcdef")
	rsaSign := func(hash crypto.Hash, pss bool) func([]byte) []byte {
		return func(input []byte) []byte {
			h := hash.New()
			h.Write(input)
			var sig []byte
			var err error
			if pss {
				sig, err = rsa.SignPSS(rand.Reader, rsaKey, hash, h.Sum(nil), nil)
			} else {
				sig, err = rsa.SignPKCS1v15(rand.Reader, rsaKey, hash, h.Sum(nil))
			}
			if err != nil {
				t.Fatal(err)
			}
			return sig
		}
	}
	hmacSign := func(hash crypto.Hash) func([]byte) []byte {
		return func(input []byte) []byte { m := hmac.New(hash.New, secret); m.Write(input); return m.Sum(nil) }
	}
	for _, tc := range []struct {
		name, alg string
		key       any
		sign      func([]byte) []byte
		want      error // nil: verifies; also for VerifyEitherS unless highS
		highS     bool  // VerifyEitherS accepts it
	}{
		{"ES256", "ES256", &ec256.PublicKey, ecSign(t, "ES256", ec256, crypto.SHA256, false), nil, false},
		{"ES384", "ES384", &ec384.PublicKey, ecSign(t, "ES384", ec384, crypto.SHA384, false), nil, false},
		{"ES512", "ES512", &ec521.PublicKey, ecSign(t, "ES512", ec521, crypto.SHA512, false), nil, false},
		{"ES256 high-S", "ES256", &ec256.PublicKey, ecSign(t, "ES256", ec256, crypto.SHA256, true), ErrSignature, true},
		{"ES384 high-S", "ES384", &ec384.PublicKey, ecSign(t, "ES384", ec384, crypto.SHA384, true), ErrSignature, true},
		{"ES256 with a P-384 key", "ES256", &ec384.PublicKey, ecSign(t, "ES256", ec256, crypto.SHA256, false), ErrAlgorithm, false},
		{"ES256 with another key", "ES256", &ec256.PublicKey, ecSign(t, "ES256", mustEC(t), crypto.SHA256, false), ErrSignature, false},
		{"ES256 short signature", "ES256", &ec256.PublicKey, func([]byte) []byte { return make([]byte, 63) }, ErrSignature, false},
		{"EdDSA", "EdDSA", edPub, func(in []byte) []byte { return ed25519.Sign(edPriv, in) }, nil, false},
		{"EdDSA with an EC key", "EdDSA", &ec256.PublicKey, func(in []byte) []byte { return ed25519.Sign(edPriv, in) }, ErrAlgorithm, false},
		{"RS256", "RS256", &rsaKey.PublicKey, rsaSign(crypto.SHA256, false), nil, false},
		{"RS512", "RS512", &rsaKey.PublicKey, rsaSign(crypto.SHA512, false), nil, false},
		{"PS256", "PS256", &rsaKey.PublicKey, rsaSign(crypto.SHA256, true), nil, false},
		{"PS256 signature as RS256", "RS256", &rsaKey.PublicKey, rsaSign(crypto.SHA256, true), ErrSignature, false},
		{"RS256 with an HMAC secret", "RS256", secret, hmacSign(crypto.SHA256), ErrAlgorithm, false},
		{"HS256", "HS256", secret, hmacSign(crypto.SHA256), nil, false},
		{"HS384", "HS384", secret, hmacSign(crypto.SHA384), nil, false},
		{"HS256 as HS384", "HS384", secret, hmacSign(crypto.SHA256), ErrSignature, false},
		{"HS256 keyed with a public key", "HS256", &ec256.PublicKey, hmacSign(crypto.SHA256), ErrAlgorithm, false},
		{"none", "none", secret, func([]byte) []byte { return nil }, ErrAlgorithm, false},
		{"unknown", "ES256K", &ec256.PublicKey, ecSign(t, "ES256", ec256, crypto.SHA256, false), ErrAlgorithm, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			j := signed(t, `{"alg":"`+tc.alg+`"}`, tc.sign)
			if err := Verify(tc.alg, tc.key, &j); !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Errorf("Verify = %v, want %v", err, tc.want)
			}
			wantEither := tc.want
			if tc.highS {
				wantEither = nil
			}
			if err := VerifyEitherS(tc.alg, tc.key, &j); !errors.Is(err, wantEither) || (wantEither == nil) != (err == nil) {
				t.Errorf("VerifyEitherS = %v, want %v", err, wantEither)
			}
			if tc.want == nil {
				// The same signature over another payload.
				other := j
				other.SigningInput = strings.Replace(j.SigningInput, ".", ".e30", 1)
				if err := Verify(tc.alg, tc.key, &other); !errors.Is(err, ErrSignature) {
					t.Errorf("another signing input: %v", err)
				}
			}
		})
	}
}

func mustEC(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// The one list: jwk is refused except where the key travels in it.
func TestRefused(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		header   string
		embedded bool
		want     string // "": none refused
	}{
		{`{"alg":"ES256","kid":"k"}`, false, ""},
		{`{"alg":"ES256","jwk":{}}`, true, ""},
		{`{"alg":"ES256","kid":"k","jwk":{}}`, true, ""},
		{`{"alg":"ES256","jwk":{}}`, false, "jwk"},
		{`{"alg":"ES256","jku":"https://x"}`, false, "jku"},
		{`{"alg":"ES256","jwk":{},"jku":"https://x"}`, true, "jku"},
		{`{"alg":"ES256","x5u":"https://x"}`, true, "x5u"},
		{`{"alg":"ES256","x5c":[]}`, false, "x5c"},
		{`{"alg":"ES256","x5t":"a"}`, false, "x5t"},
		{`{"alg":"ES256","x5t#S256":"a"}`, true, "x5t#S256"},
		{`{"alg":"ES256","crit":["exp"]}`, false, "crit"},
		{`{"alg":"ES256","b64":false}`, true, "b64"},
		{`{"alg":"ES256","JKU":"https://x"}`, false, ""}, // names are exact
	} {
		j, err := Parse(compact(tc.header, "{}"))
		if err != nil {
			t.Fatal(err)
		}
		name, found := j.Refused(tc.embedded)
		if name != tc.want || found != (tc.want != "") {
			t.Errorf("%s (embedded %v): %q %v, want %q", tc.header, tc.embedded, name, found, tc.want)
		}
	}
}

// JWK public keys: the forms Latch and DPoP clients publish, and what
// must be refused.
func TestPublicKey(t *testing.T) {
	t.Parallel()
	ec := mustEC(t)
	pt, _ := ec.PublicKey.Bytes()
	x, y := Encoding.EncodeToString(pt[1:33]), Encoding.EncodeToString(pt[33:])
	edPub, _, _ := ed25519.GenerateKey(rand.Reader)
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	n := Encoding.EncodeToString(rsaKey.N.Bytes())
	for _, tc := range []struct {
		jwk  string
		want string // "": accepted; else part of the error
	}{
		{`{"kty":"EC","crv":"P-256","x":"` + x + `","y":"` + y + `"}`, ""},
		{`{"kty":"EC","crv":"P-256","x":"` + x + `","y":"` + y + `","d":"AAAA"}`, ""}, // private members ignored
		{`{"kty":"OKP","crv":"Ed25519","x":"` + Encoding.EncodeToString(edPub) + `"}`, ""},
		{`{"kty":"RSA","n":"` + n + `","e":"AQAB"}`, ""},
		{`{"kty":"EC","crv":"P-256","x":"` + y + `","y":"` + x + `"}`, "not a P-256 point"},
		{`{"kty":"EC","crv":"P-384","x":"` + x + `","y":"` + y + `"}`, "not 48 bytes"},
		{`{"kty":"EC","crv":"secp256k1","x":"` + x + `","y":"` + y + `"}`, "unsupported crv"},
		{`{"kty":"EC","crv":"P-256","x":"` + x + `"}`, `no "y"`},
		{`{"kty":"EC","crv":"P-256","x":"` + x + `=","y":"` + y + `"}`, "not base64url"},
		{`{"kty":"OKP","crv":"X25519","x":"` + Encoding.EncodeToString(edPub) + `"}`, "unsupported crv"},
		{`{"kty":"RSA","n":"AA` + n + `","e":"AQAB"}`, "leading zeros"},
		{`{"kty":"RSA","n":"` + n[:200] + `","e":"AQAB"}`, "RSA modulus of"},
		{`{"kty":"RSA","n":"` + n + `","e":"Ag"}`, "invalid RSA exponent"},
		{`{"kty":"oct","k":"c2VjcmV0"}`, "symmetric key"},
		{`{"crv":"P-256","x":"` + x + `","y":"` + y + `"}`, "no kty"},
		{`{"kty":7}`, "not a string"},
	} {
		o, err := DecodeObject([]byte(tc.jwk))
		if err != nil {
			t.Fatal(err)
		}
		pub, err := o.PublicKey()
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v", tc.jwk, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: %v, want %q", tc.jwk, err, tc.want)
		case tc.want == "" && pub == nil:
			t.Errorf("%s: no key", tc.jwk)
		}
	}
}
