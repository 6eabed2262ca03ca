package dpop_test

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/latchid/latch/dpop"
)

var writeSeeds = flag.Bool("write-seeds", false, "rewrite the fuzz seed corpora in testdata/fuzz")

// fuzzRequest is the request every fuzzed proof is checked against.
var fuzzRequest = dpop.Request{Method: testMethod, URL: testURL, AccessToken: testToken}

// verifySeeds are proofs for fuzzRequest at t0: valid ones, and one of
// each kind of forgery.
func verifySeeds(t testing.TB) map[string]string {
	es, ed, rs := key("ES256"), key("EdDSA"), key("RS256")
	cl := func() map[string]any {
		c := claims()
		c["ath"] = dpop.AccessTokenHash(testToken)
		return c
	}
	withHdr := func(alg string, k any, kv ...any) map[string]any {
		h := map[string]any{"typ": "dpop+jwt", "alg": alg, "jwk": jwkOf(t, k)}
		for i := 0; i < len(kv); i += 2 {
			if kv[i+1] == nil {
				delete(h, kv[i].(string))
			} else {
				h[kv[i].(string)] = kv[i+1]
			}
		}
		return h
	}
	opts := dpop.ProofOptions{AccessToken: testToken}
	return map[string]string{
		"valid-es256":    mustProof(t, es, testMethod, testURL, opts),
		"valid-eddsa":    mustProof(t, ed, testMethod, testURL, opts),
		"valid-rs256":    mustProof(t, rs, testMethod, testURL, opts),
		"valid-nonce":    mustProof(t, es, testMethod, testURL, dpop.ProofOptions{AccessToken: testToken, Nonce: "n0nce"}),
		"alg-none":       forge(t, "none", nil, withHdr("none", es.Public()), cl()),
		"hs256-oct":      forge(t, "HS256", nil, map[string]any{"typ": "dpop+jwt", "alg": "HS256", "jwk": map[string]any{"kty": "oct", "k": b64.EncodeToString(hmacSecret)}}, cl()),
		"jwk-private":    forge(t, "ES256", es, withHdr("ES256", es), cl()),
		"jku":            forge(t, "ES256", es, withHdr("ES256", es.Public(), "jku", "https://evil.example/jwks"), cl()),
		"kid-only":       forge(t, "ES256", es, withHdr("ES256", es.Public(), "jwk", nil, "kid", "k"), cl()),
		"wrong-typ":      forge(t, "ES256", es, withHdr("ES256", es.Public(), "typ", "JWT"), cl()),
		"alg-confusion":  forge(t, "EdDSA", ed, withHdr("ES256", ed.Public()), cl()),
		"other-signer":   forge(t, "ES256", key("ES256b"), withHdr("ES256", es.Public()), cl()),
		"duplicate-alg":  forge(t, "ES256", es, `{"typ":"dpop+jwt","alg":"ES256","alg":"none"}`, cl()),
		"escaped-names":  forge(t, "ES256", es, withHdr("ES256", es.Public()), `{"jti":"j","\u0068tm":"POST","htu":"`+testURL+`","iat":1700000000.5}`),
		"normalised-htu": mustProof(t, es, testMethod, "https://API.example.com:443/api/cart/items?q#f", opts),
		"old-iat":        forge(t, "ES256", es, withHdr("ES256", es.Public()), map[string]any{"jti": "j", "htm": "POST", "htu": testURL, "iat": 1}),
		"rfc9449-fig2":   "eyJ0eXAiOiJkcG9wK2p3dCIsImFsZyI6IkVTMjU2IiwiandrIjp7Imt0eSI6IkVDIiwieCI6Imw4dEZyaHgtMzR0VjNoUklDUkRZOXpDa0RscEJoRjQyVVFVZldWQVdCRnMiLCJ5IjoiOVZFNGpmX09rX282NHpiVFRsY3VOSmFqSG10NnY5VERWclUwQ2R2R1JEQSIsImNydiI6IlAtMjU2In19.eyJqdGkiOiItQndDM0VTYzZhY2MybFRjIiwiaHRtIjoiUE9TVCIsImh0dSI6Imh0dHBzOi8vc2VydmVyLmV4YW1wbGUuY29tL3Rva2VuIiwiaWF0IjoxNTYyMjYyNjE2fQ.2-GxA6T8lP4vfrg8v-FdWP0A0zdrj8igiMLvqRMUvwnQg4PtFLbdLXiOSsX0x7NVY-FNyJK70nfbV37xRZT3Lg",
		"not-a-jws":      "a.b",
		"empty-sig":      "e30.e30.",
		"five-parts-jwe": "eyJhbGciOiJSU0EtT0FFUCJ9.a.b.c.d",
	}
}

// FuzzVerify: no input makes Verify panic; a proof it accepts is
// consistent, and every refusal is exactly one of its errors.
func FuzzVerify(f *testing.F) {
	for _, s := range verifySeeds(f) {
		f.Add(s)
	}
	v := newVerifier(f, dpop.Config{Algorithms: dpop.SupportedAlgorithms(), Replay: alwaysFresh{}})
	f.Fuzz(func(t *testing.T, proof string) {
		p, err := v.Verify(context.Background(), proof, fuzzRequest)
		if err != nil {
			if p != nil {
				t.Fatal("a proof and an error")
			}
			n := 0
			for _, s := range sentinels {
				if errors.Is(err, s) {
					n++
				}
			}
			if n != 1 {
				t.Fatalf("%v matches %d sentinels", err, n)
			}
			return
		}
		if len(proof) > dpop.MaxProofSize || p.JTI == "" || len(p.JTI) > dpop.MaxJTILength {
			t.Fatalf("accepted a proof of %d bytes with jti %q", len(proof), p.JTI)
		}
		if jkt, err := dpop.Thumbprint(p.Key); err != nil || jkt != p.JKT {
			t.Fatalf("JKT %s, Thumbprint(Key) %s, %v", p.JKT, jkt, err)
		}
		if d := p.IssuedAt.Sub(t0); d > dpop.DefaultSkew || -d > dpop.DefaultWindow {
			t.Fatalf("accepted iat %s", p.IssuedAt)
		}
	})
}

// headerSeeds are DPoP header values, several separated by NUL.
func headerSeeds(t testing.TB) map[string]string {
	proof := mustProof(t, key("ES256"), testMethod, testURL, dpop.ProofOptions{})
	return map[string]string{
		"one":        proof,
		"padded":     " \t" + proof + "\t ",
		"two":        proof + "\x00" + proof,
		"list":       proof + ", " + proof,
		"empty":      "\x00",
		"blank":      "   ",
		"three-junk": "a\x00b\x00c",
	}
}

// FuzzFromHeader: FromHeader returns a proof only for exactly one
// non-empty value without a list, trimmed, within the size limit.
func FuzzFromHeader(f *testing.F) {
	for _, s := range headerSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		h := http.Header{}
		var values []string
		if raw != "" {
			values = strings.Split(raw, "\x00")
		}
		for _, v := range values {
			h.Add(dpop.Header, v)
		}
		got, err := dpop.FromHeader(h)
		if err != nil {
			if got != "" {
				t.Fatal("a value and an error")
			}
			if !errors.Is(err, dpop.ErrNoProof) && !errors.Is(err, dpop.ErrMalformed) {
				t.Fatalf("unexpected error %v", err)
			}
			if errors.Is(err, dpop.ErrNoProof) != (len(values) == 0) {
				t.Fatalf("%d values: %v", len(values), err)
			}
			return
		}
		if len(values) != 1 || got == "" || len(got) > dpop.MaxProofSize || strings.Contains(got, ",") ||
			got != strings.Trim(values[0], " \t") {
			t.Fatalf("FromHeader(%q) = %q", values, got)
		}
	})
}

// TestWriteFuzzSeeds rewrites testdata/fuzz from the seeds above when run
// with -write-seeds; the proofs are signed with keys made at run time.
func TestWriteFuzzSeeds(t *testing.T) {
	if !*writeSeeds {
		t.Skip("run with -write-seeds to rewrite the fuzz seed corpora")
	}
	for target, seeds := range map[string]map[string]string{"FuzzVerify": verifySeeds(t), "FuzzFromHeader": headerSeeds(t)} {
		dir := filepath.Join("testdata", "fuzz", target)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for name, s := range seeds {
			body := fmt.Sprintf("go test fuzz v1\nstring(%q)\n", s)
			if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}
