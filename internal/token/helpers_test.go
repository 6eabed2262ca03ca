package token

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/latchid/latch/internal/jws"
)

// Test key IDs of the fixed key ring.
const (
	kidES256 = "es256-test"
	kidRS256 = "rs256-test"
	kidEdDSA = "eddsa-test"
	kidHS256 = "hs256-test"
)

// rsa2048PKCS8 is a fixed 2048-bit RSA test key (PKCS#8 DER, base64), so
// that fuzz seeds and benchmarks are reproducible without generating RSA
// keys at test time.
const rsa2048PKCS8 = `
MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQDABF2KxrkrmVy1
wrech+mVhZF2bxxZO642sT9oT2xGA7qdYTqXHrGM7M6qwvyNSrQYxc3RHNUJn/zs
krFRrHPLVgA7b4VnkZhGbUsWdr/uVtYtMRo5YXGB79bF2XB30tEiG0NAlgbQ656b
+1KgUHQ90sFXaH01rKiL6PJsZfMsGdBpugWu2JHL4GWZLYjJJkKpOy5wp/ebfW7i
FMelHnU3xVfqACTM9/Ayd1y4qI2tMoMzE4YuXw/V21ThgAv2m7FSDaRitEQHQbdh
TEzsMt5IL8IC6Pcnrnnaq/D3wNHUhFcvhRWYmWuSdJnSNV9uvLt9vdkCOMtoF75v
cxUEhVtJAgMBAAECggEAC0+2haL97C2VTTfH7TascfHJBzsLESP3jU0/uPtaG33D
aTCobO09Sa9MNWRV0FT4QFqsAdzlnTLe3r4oJ/GKw2MGPHoYrRM3RIl9BOPAnApi
2jgBnXkPYLd/kBl7tfNQp+Zcky9t/gdYnpkIMwgfm4y7daoNcN4CR8up4ZeCjbRq
yMzbl3VDdpAbOKAcziLJIKaMxOHYSSTQ172Wy9au5gFqdDsrHHKhp917gzsNKu84
1tIHDW9mS+CdfDk0seFhvJYBSY0rYLaQy1BsEwaKy7aWM9joNtsVsvFt/Vx0LOSY
G+AEyt2lA+XWKfPgJfTeMqjG0wXAGrKlwN8kzMR3SQKBgQDmH0OUoKu+vVVvFNhP
VM0a3/fmcGU0kDMAEAygFFUtPAMFpWpR8Q21ZGCqfZReK7QUW9nrlZM9w0AF+CSm
SgIhMUPdbk53siTwyAZpjrdYWEN08OBaolMsT9dI5xG2hPkqjW+wYaCyLVBf1GIH
yPzI0lgKoEa7r9w/5TvfXLkx3wKBgQDVnCLG4i1Wid0GS1nFcKl7ukEFYA9RA507
jFVvqQByPlAxn2kWCMHoD8rhCts4nQI6Rr6siT/su6LdmUwhFQK2JdhJCilDFDiR
9Ou/VEp3PmLpqlcHmtfiYkM+W/A1nNqirXr7Xq8sJDCZqxzOkvupJCZFfQGMIZ14
YgRC4Qyn1wKBgG8VoHXaqY1FsDwS/+grs2bJvs1KbFBXW4coOC/+IK/ZTEwpcY1k
o41wiwlB3aEnz6IURLnoVk92NS2sf2SWTTjgozX8zXwSTqq8o/vInNDUqpuEu4iE
20mEsRPMF0zYG79izwuB1SStoyLfTwMbDouSnlVi0UJAvj1J1wEXrX5ZAoGBAM0S
AV0YJFiRMAzr5/ohx8QNsoB7kRjAtIFHn3n8MH59DjYliRhrPeUQzD+yUXWPXmUe
J82yUhlupdPCaRDVf+3odTThuW05i3msPWtIe9jwnrsfGkAlyp3+ofnK/9gohslo
bMnIQ7nH4JSWbqhu+YWPO+K4OPUUDH5W8ypVrfWvAoGAAizGC/uYoPq8FD79U2Ki
xd+CLRW3E+7GeRQOF3f7S6FYdew8+Nl770CHmOdlhdgEcKQPH4xpN+i9Q4Z0CujP
A9rlG6tFhKzFQICsp1MNZnOeYnuBbyN1CvspFMhSJTtnUE60ZAfEwSCw0Qo5Vahj
pTIz3KOJD++oLXjKEjzhRDQ=
`

// fixedKeys returns a deterministic key ring with one key per algorithm,
// indexed by algorithm.
func fixedKeys(tb testing.TB) map[string]*Key {
	tb.Helper()
	ecPriv, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), sha256Bytes("latch test es256"))
	if err != nil {
		tb.Fatal(err)
	}
	ecDER, err := x509.MarshalPKCS8PrivateKey(ecPriv)
	if err != nil {
		tb.Fatal(err)
	}
	edDER, err := x509.MarshalPKCS8PrivateKey(ed25519.NewKeyFromSeed(sha256Bytes("latch test eddsa")))
	if err != nil {
		tb.Fatal(err)
	}
	rsaDER, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(rsa2048PKCS8), ""))
	if err != nil {
		tb.Fatal(err)
	}
	keys := map[string]*Key{}
	for _, c := range []struct {
		id, alg string
		der     []byte
	}{
		{kidES256, ES256, ecDER},
		{kidRS256, RS256, rsaDER},
		{kidEdDSA, EdDSA, edDER},
		{kidHS256, HS256, sha256Bytes("latch test hs256")},
	} {
		k, err := ParseKey(c.id, c.alg, c.der)
		if err != nil {
			tb.Fatalf("ParseKey(%s): %v", c.alg, err)
		}
		keys[c.alg] = k
	}
	return keys
}

// keySetOf returns a StaticKeySet holding every key of m.
func keySetOf(m map[string]*Key) StaticKeySet {
	var s StaticKeySet
	for _, alg := range SupportedAlgorithms() {
		if k, ok := m[alg]; ok {
			s = append(s, k)
		}
	}
	return s
}

func sha256Bytes(s string) []byte {
	sum := sha256.Sum256([]byte(s))
	return sum[:]
}

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// signRaw builds a compact JWS over the exact header and payload bytes
// given, signed with k's private key under alg using the standard library
// directly. It lets tests craft headers go-jose would never produce.
func signRaw(tb testing.TB, k *Key, alg, headerJSON, payloadJSON string) string {
	tb.Helper()
	input := b64(headerJSON) + "." + b64(payloadJSON)
	sig := rawSignature(tb, k.private, alg, []byte(input))
	return input + "." + base64.RawURLEncoding.EncodeToString(sig)
}

// rawSignature signs input with priv (or, for HS256, with any []byte
// secret) as alg prescribes; an ECDSA signature with s in the lower half.
func rawSignature(tb testing.TB, priv any, alg string, input []byte) []byte {
	tb.Helper()
	digest := sha256.Sum256(input)
	switch alg {
	case ES256:
		p := priv.(*ecdsa.PrivateKey)
		r, s, err := ecdsa.Sign(rand.Reader, p, digest[:])
		if err != nil {
			tb.Fatal(err)
		}
		sig := make([]byte, 64)
		r.FillBytes(sig[:32])
		s.FillBytes(sig[32:])
		// Low S, as Sign makes it: Verify refuses the other.
		return jws.LowS(ES256, sig)
	case RS256:
		sig, err := rsa.SignPKCS1v15(nil, priv.(*rsa.PrivateKey), crypto.SHA256, digest[:])
		if err != nil {
			tb.Fatal(err)
		}
		return sig
	case EdDSA:
		return ed25519.Sign(priv.(ed25519.PrivateKey), input)
	case HS256:
		m := hmac.New(sha256.New, priv.([]byte))
		m.Write(input)
		return m.Sum(nil)
	}
	tb.Fatalf("rawSignature: unsupported alg %q", alg)
	return nil
}
