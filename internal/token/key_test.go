package token

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"strings"
	"testing"

	jose "github.com/go-jose/go-jose/v4"
)

func TestSupportedAlgorithms(t *testing.T) {
	got := SupportedAlgorithms()
	want := []string{ES256, RS256, EdDSA, HS256}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("SupportedAlgorithms() = %v, want %v", got, want)
	}
	got[0] = "none" // callers cannot alter the package's list
	if SupportedAlgorithms()[0] != ES256 {
		t.Fatal("SupportedAlgorithms shares its backing array")
	}
}

func TestGenerateKey(t *testing.T) {
	tests := []struct {
		alg       string
		symmetric bool
		kty, crv  string
	}{
		{ES256, false, "EC", "P-256"},
		{RS256, false, "RSA", ""},
		{EdDSA, false, "OKP", "Ed25519"},
		{HS256, true, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.alg, func(t *testing.T) {
			k, err := GenerateKey("kid-"+tt.alg, tt.alg)
			if err != nil {
				t.Fatal(err)
			}
			if k.ID != "kid-"+tt.alg || k.Algorithm != tt.alg {
				t.Fatalf("key = %q/%q", k.ID, k.Algorithm)
			}
			if k.Symmetric() != tt.symmetric {
				t.Fatalf("Symmetric() = %v", k.Symmetric())
			}
			jwk, ok := k.PublicJWK()
			pemText, pemOK := k.PublicKeyPEM()
			tp := k.Thumbprint()
			if tt.symmetric {
				if ok || pemOK || tp != "" {
					t.Fatalf("HMAC key published: jwk=%v pem=%v thumbprint=%q", ok, pemOK, tp)
				}
				secret, _ := k.MarshalPrivate()
				if len(secret) != 32 {
					t.Fatalf("HS256 secret is %d bytes", len(secret))
				}
				return
			}
			if !ok || !pemOK || tp == "" {
				t.Fatalf("asymmetric key not published: jwk=%v pem=%v thumbprint=%q", ok, pemOK, tp)
			}

			// JWK: public members only, with use/alg/kid.
			raw, err := json.Marshal(jwk)
			if err != nil {
				t.Fatal(err)
			}
			var m map[string]any
			if err := json.Unmarshal(raw, &m); err != nil {
				t.Fatal(err)
			}
			if m["kty"] != tt.kty || m["use"] != "sig" || m["alg"] != tt.alg || m["kid"] != k.ID {
				t.Fatalf("JWK = %s", raw)
			}
			if tt.crv != "" && m["crv"] != tt.crv {
				t.Fatalf("JWK crv = %v, want %s", m["crv"], tt.crv)
			}
			for _, private := range []string{"d", "p", "q", "dp", "dq", "qi", "k"} {
				if _, leaked := m[private]; leaked {
					t.Fatalf("JWK leaks private member %q: %s", private, raw)
				}
			}
			if tt.alg == RS256 {
				if n, _ := base64.RawURLEncoding.DecodeString(m["n"].(string)); len(n)*8 < 2048 {
					t.Fatalf("RSA modulus is %d bits", len(n)*8)
				}
			}

			// PEM: one SubjectPublicKeyInfo block matching the key.
			if !strings.HasPrefix(pemText, "-----BEGIN PUBLIC KEY-----\n") || !strings.HasSuffix(pemText, "-----END PUBLIC KEY-----\n") {
				t.Fatalf("PEM = %q", pemText)
			}
			block, rest := pem.Decode([]byte(pemText))
			if block == nil || len(rest) != 0 {
				t.Fatalf("PEM does not decode cleanly: %q", pemText)
			}
			pub, err := x509.ParsePKIXPublicKey(block.Bytes)
			if err != nil {
				t.Fatal(err)
			}
			if !pub.(interface{ Equal(crypto.PublicKey) bool }).Equal(k.public()) {
				t.Fatal("PEM public key differs from the key")
			}

			// Thumbprint agrees with go-jose's own computation on the JWK.
			sum, err := jwk.Thumbprint(crypto.SHA256)
			if err != nil {
				t.Fatal(err)
			}
			if want := base64.RawURLEncoding.EncodeToString(sum); tp != want {
				t.Fatalf("Thumbprint() = %q, want %q", tp, want)
			}
		})
	}
}

func TestGenerateKeyRefuses(t *testing.T) {
	for _, c := range []struct{ id, alg string }{
		{"k", "none"}, {"k", ""}, {"k", "HS512"}, {"k", "es256"}, {"k", "RS384"}, {"", ES256},
	} {
		if k, err := GenerateKey(c.id, c.alg); err == nil {
			t.Errorf("GenerateKey(%q, %q) = %v, want error", c.id, c.alg, k)
		}
	}
}

func TestParseKeyRoundTrip(t *testing.T) {
	for _, alg := range SupportedAlgorithms() {
		t.Run(alg, func(t *testing.T) {
			k, err := GenerateKey("orig", alg)
			if err != nil {
				t.Fatal(err)
			}
			der, err := k.MarshalPrivate()
			if err != nil {
				t.Fatal(err)
			}
			parsed, err := ParseKey("orig", alg, der)
			if err != nil {
				t.Fatal(err)
			}
			again, err := parsed.MarshalPrivate()
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(der, again) {
				t.Fatal("MarshalPrivate(ParseKey(b)) != b")
			}
			if parsed.Thumbprint() != k.Thumbprint() {
				t.Fatal("thumbprint changed across ParseKey")
			}
			// A token signed by the parsed key verifies with the original.
			tok, err := Sign(parsed, TypeAccessToken, map[string]any{"sub": "x"})
			if err != nil {
				t.Fatal(err)
			}
			if _, _, err := Verify(tok, StaticKeySet{k}, TypeAccessToken); err != nil {
				t.Fatalf("Verify: %v", err)
			}
			// ParseKey does not alias its input.
			der[len(der)-1] ^= 0xff
			if got, _ := parsed.MarshalPrivate(); !bytes.Equal(got, again) {
				t.Fatal("ParseKey aliases its input")
			}
		})
	}
}

func TestParseKeyRefusesMismatch(t *testing.T) {
	keys := fixedKeys(t)
	der := func(alg string) []byte {
		b, err := keys[alg].MarshalPrivate()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	pkcs8 := func(priv any) []byte {
		b, err := x509.MarshalPKCS8PrivateKey(priv)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	rsa1024, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	rsaPriv := keys[RS256].private.(*rsa.PrivateKey)
	ecPriv := keys[ES256].private.(*ecdsa.PrivateKey)
	sec1, err := x509.MarshalECPrivateKey(ecPriv)
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name, id, alg string
		private       []byte
	}{
		{"RSA bytes as ES256", "k", ES256, der(RS256)},
		{"EC bytes as RS256", "k", RS256, der(ES256)},
		{"Ed25519 bytes as ES256", "k", ES256, der(EdDSA)},
		{"EC bytes as EdDSA", "k", EdDSA, der(ES256)},
		{"P-384 as ES256", "k", ES256, pkcs8(p384)},
		{"RSA 1024 as RS256", "k", RS256, pkcs8(rsa1024)},
		{"PKCS#1 RSA", "k", RS256, x509.MarshalPKCS1PrivateKey(rsaPriv)},
		{"SEC 1 EC", "k", ES256, sec1},
		{"short HS256 secret", "k", HS256, make([]byte, 31)},
		{"empty HS256 secret", "k", HS256, nil},
		{"garbage", "k", ES256, []byte("not a key")},
		{"empty", "k", EdDSA, nil},
		{"unsupported alg", "k", "none", der(ES256)},
		{"lowercase alg", "k", "es256", der(ES256)},
		{"empty id", "", ES256, der(ES256)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if k, err := ParseKey(tt.id, tt.alg, tt.private); err == nil {
				t.Fatalf("ParseKey = %+v, want error", k)
			} else if !strings.HasPrefix(err.Error(), "token: ") {
				t.Fatalf("error %q lacks the package prefix", err)
			}
		})
	}
}

func TestKeyMisuseIsSafe(t *testing.T) {
	keys := fixedKeys(t)
	// A key whose Algorithm was changed after construction is refused, not
	// used with the wrong algorithm.
	bad := *keys[RS256]
	bad.Algorithm = HS256
	if _, err := Sign(&bad, TypeAccessToken, map[string]any{}); err == nil {
		t.Fatal("Sign with inconsistent key succeeded")
	}
	if _, ok := bad.PublicJWK(); ok {
		t.Fatal("PublicJWK of inconsistent key")
	}
	var zero Key
	if _, err := Sign(&zero, TypeAccessToken, map[string]any{}); err == nil {
		t.Fatal("Sign with zero key succeeded")
	}
	if _, err := Sign(nil, TypeAccessToken, map[string]any{}); err == nil {
		t.Fatal("Sign with nil key succeeded")
	}
	if _, err := zero.MarshalPrivate(); err == nil {
		t.Fatal("MarshalPrivate of zero key succeeded")
	}
	if zero.Thumbprint() != "" {
		t.Fatal("Thumbprint of zero key")
	}
	if _, ok := zero.PublicKeyPEM(); ok {
		t.Fatal("PublicKeyPEM of zero key")
	}
}

// TestThumbprintRFC7638 checks the example of RFC 7638 §3.1.
func TestThumbprintRFC7638(t *testing.T) {
	const example = `{
		"kty": "RSA",
		"n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
		"e": "AQAB",
		"alg": "RS256",
		"kid": "2011-04-29"
	}`
	var jwk jose.JSONWebKey
	if err := json.Unmarshal([]byte(example), &jwk); err != nil {
		t.Fatal(err)
	}
	const want = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
	if got := thumbprint(jwk.Key); got != want {
		t.Fatalf("thumbprint = %q, want %q", got, want)
	}
	if got := thumbprint(nil); got != "" {
		t.Fatalf("thumbprint(nil) = %q", got)
	}
}

func TestMarshalPrivateHMACIsACopy(t *testing.T) {
	k := fixedKeys(t)[HS256]
	a, err := k.MarshalPrivate()
	if err != nil {
		t.Fatal(err)
	}
	a[0] ^= 0xff
	b, _ := k.MarshalPrivate()
	if bytes.Equal(a, b) {
		t.Fatal("MarshalPrivate exposes the secret's backing array")
	}
}
