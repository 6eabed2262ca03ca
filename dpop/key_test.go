package dpop_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"io"
	"strings"
	"testing"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/google/go-cmp/cmp"

	"github.com/latchid/latch/dpop"
)

// RFC 7638 §3.1's example: the thumbprint of its RSA key.
func TestThumbprint_RFC7638(t *testing.T) {
	n := "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiF" +
		"V4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9" +
		"c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1" +
		"jF44-csFCur-kEgU8awapJzKnqDKgw"
	got, err := dpop.Thumbprint(&rsa.PublicKey{N: bigB64(n), E: 65537})
	if err != nil {
		t.Fatal(err)
	}
	if want := "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"; got != want {
		t.Errorf("Thumbprint = %s, want %s", got, want)
	}
}

// RFC 9449's example key has the jkt of its §6.1.
func TestThumbprint_RFC9449(t *testing.T) {
	pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), append(append([]byte{4},
		mustB64(t, "l8tFrhx-34tV3hRICRDY9zCkDlpBhF42UQUfWVAWBFs")...),
		mustB64(t, "9VE4jf_Ok_o64zbTTlcuNJajHmt6v9TDVrU0CdvGRDA")...))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := mustThumbprint(t, pub), "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"; got != want {
		t.Errorf("Thumbprint = %s, want %s", got, want)
	}
}

func mustB64(t *testing.T, s string) []byte {
	t.Helper()
	b, err := b64.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Thumbprint agrees with go-jose's for every supported key type, and
// refuses what it cannot encode.
func TestThumbprint_GoJose(t *testing.T) {
	for _, name := range []string{"ES256", "ES384", "ES512", "EdDSA", "RS256"} {
		pub := key(name).Public()
		jk := jose.JSONWebKey{Key: pub}
		sum, err := jk.Thumbprint(crypto.SHA256)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := mustThumbprint(t, pub), b64.EncodeToString(sum); got != want {
			t.Errorf("%s: Thumbprint = %s, go-jose %s", name, got, want)
		}
	}
	p224, err := ecdsa.GenerateKey(elliptic.P224(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	for _, pub := range []crypto.PublicKey{nil, p224.Public(), small.Public(), ed25519.PublicKey{1, 2}, "key"} {
		if jkt, err := dpop.Thumbprint(pub); err == nil {
			t.Errorf("Thumbprint(%T) = %s, want an error", pub, jkt)
		}
	}
}

// MarshalKey and ParseKey round-trip every supported key, and the parsed
// key signs proofs with the same thumbprint.
func TestMarshalKey(t *testing.T) {
	gen, err := dpop.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	if gen.Curve != elliptic.P256() {
		t.Errorf("GenerateKey: curve %s", gen.Curve.Params().Name)
	}
	for name, k := range map[string]crypto.Signer{"generated": gen, "ES384": key("ES384"), "EdDSA": key("EdDSA"), "RS256": key("RS256")} {
		t.Run(name, func(t *testing.T) {
			der, err := dpop.MarshalKey(k)
			if err != nil {
				t.Fatal(err)
			}
			back, err := dpop.ParseKey(der)
			if err != nil {
				t.Fatal(err)
			}
			if !k.(interface{ Equal(crypto.PrivateKey) bool }).Equal(back) {
				t.Fatal("ParseKey(MarshalKey(k)) differs from k")
			}
			v := newVerifier(t, dpop.Config{Algorithms: dpop.SupportedAlgorithms()})
			p, err := v.Verify(context.Background(), mustProof(t, back, "GET", testURL, dpop.ProofOptions{}), dpop.Request{Method: "GET", URL: testURL})
			if err != nil {
				t.Fatal(err)
			}
			if p.JKT != mustThumbprint(t, k.Public()) {
				t.Error("the parsed key has another thumbprint")
			}
		})
	}
	p224, err := ecdsa.GenerateKey(elliptic.P224(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := dpop.MarshalKey(p224); err == nil {
		t.Error("MarshalKey(P-224): no error")
	}
	der, err := x509.MarshalPKCS8PrivateKey(p224)
	if err != nil {
		t.Fatal(err)
	}
	for name, der := range map[string][]byte{"P-224": der, "garbage": []byte("not DER"), "empty": nil} {
		if _, err := dpop.ParseKey(der); err == nil {
			t.Errorf("ParseKey(%s): no error", name)
		}
	}
}

// opaqueSigner hides its key, as a hardware-backed signer does: NewProof
// may only call Public and Sign.
type opaqueSigner struct{ k crypto.Signer }

func (s opaqueSigner) Public() crypto.PublicKey { return s.k.Public() }
func (s opaqueSigner) Sign(r io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	return s.k.Sign(r, digest, opts)
}

// Proofs interoperate with go-jose both ways: go-jose verifies what
// NewProof signs, with any crypto.Signer, and Verify accepts what go-jose
// signs.
func TestProof_GoJose(t *testing.T) {
	for _, alg := range dpop.SupportedAlgorithms() {
		t.Run(alg, func(t *testing.T) {
			k := opaqueSigner{key(alg)}
			proof := mustProof(t, k, testMethod, testURL, dpop.ProofOptions{})
			jws, err := jose.ParseSignedCompact(proof, []jose.SignatureAlgorithm{jose.SignatureAlgorithm(alg)})
			if err != nil {
				t.Fatal(err)
			}
			hdr := jws.Signatures[0].Protected
			if hdr.JSONWebKey == nil || !hdr.JSONWebKey.IsPublic() {
				t.Fatalf("jwk header %v is not a public key", hdr.JSONWebKey)
			}
			if _, err := jws.Verify(k.Public()); err != nil {
				t.Fatalf("go-jose: %v", err)
			}

			signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.SignatureAlgorithm(alg), Key: key(alg)},
				(&jose.SignerOptions{EmbedJWK: true}).WithType("dpop+jwt"))
			if err != nil {
				t.Fatal(err)
			}
			payload := `{"jti":"go-jose","htm":"POST","htu":"` + testURL + `","iat":1700000000}`
			obj, err := signer.Sign([]byte(payload))
			if err != nil {
				t.Fatal(err)
			}
			compact, err := obj.CompactSerialize()
			if err != nil {
				t.Fatal(err)
			}
			v := newVerifier(t, dpop.Config{Algorithms: dpop.SupportedAlgorithms()})
			if _, err := v.Verify(context.Background(), compact, dpop.Request{Method: testMethod, URL: testURL}); err != nil {
				t.Fatalf("Verify of go-jose's proof: %v", err)
			}
		})
	}
}

// NewProof writes htu without query, fragment and user information, and
// refuses what it cannot make a proof of.
func TestNewProof(t *testing.T) {
	for _, tt := range []struct{ url, htu string }{
		{"https://api.example.com/a/b?q=1#f", "https://api.example.com/a/b"},
		{"https://user:secret@api.example.com/a", "https://api.example.com/a"},
		{"https://api.example.com", "https://api.example.com/"},
		{"HTTP://Example.com:8080/x%2fy", "http://Example.com:8080/x%2fy"},
	} {
		_, cl := decode(t, mustProof(t, key("ES256"), "GET", tt.url, dpop.ProofOptions{}))
		if cl["htu"] != tt.htu {
			t.Errorf("NewProof(%q): htu %q, want %q", tt.url, cl["htu"], tt.htu)
		}
	}

	// Fresh jtis of at least 96 bits.
	seen := map[string]bool{}
	for range 100 {
		_, cl := decode(t, mustProof(t, key("ES256"), "GET", testURL, dpop.ProofOptions{}))
		jti := cl["jti"].(string)
		if len(mustB64(t, jti)) < 12 || seen[jti] {
			t.Fatalf("jti %q is short or repeated", jti)
		}
		seen[jti] = true
	}

	p224, err := ecdsa.GenerateKey(elliptic.P224(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name        string
		key         crypto.Signer
		method, url string
		opts        dpop.ProofOptions
	}{
		{"nil key", nil, "GET", testURL, dpop.ProofOptions{}},
		{"P-224 key", p224, "GET", testURL, dpop.ProofOptions{}},
		{"no method", key("ES256"), "", testURL, dpop.ProofOptions{}},
		{"method with a space", key("ES256"), "GET /", testURL, dpop.ProofOptions{}},
		{"relative URL", key("ES256"), "GET", "/api/cart", dpop.ProofOptions{}},
		{"ftp URL", key("ES256"), "GET", "ftp://example.com/", dpop.ProofOptions{}},
		{"unparseable URL", key("ES256"), "GET", "https://exa mple.com/%zz", dpop.ProofOptions{}},
		{"long jti", key("ES256"), "GET", testURL, dpop.ProofOptions{JTI: strings.Repeat("j", dpop.MaxJTILength+1)}},
		{"failing signer", failingSigner{key("ES256")}, "GET", testURL, dpop.ProofOptions{}},
	} {
		if p, err := dpop.NewProof(tt.key, tt.method, tt.url, tt.opts); err == nil {
			t.Errorf("%s: NewProof = %s, want an error", tt.name, p)
		}
	}
}

type failingSigner struct{ crypto.Signer }

func (failingSigner) Sign(io.Reader, []byte, crypto.SignerOpts) ([]byte, error) {
	return nil, errors.New("the secure element said no")
}

func TestAccessTokenHash(t *testing.T) {
	got := []string{dpop.AccessTokenHash("a"), dpop.AccessTokenHash("b")}
	want := []string{"ypeBEsobvcr6wjGzmiPcTaeG7_gUfE5yuYB3ha_uSLs", "PiPoFgA5WUoziU9lZOGxNIu9egCI1CxKy3PurtWcAJ0"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
