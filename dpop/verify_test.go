package dpop_test

import (
	"context"
	"crypto"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/latchid/latch/dpop"
)

// Every algorithm: a proof NewProof makes verifies, and Verify reports its
// key, thumbprint, jti and iat.
func TestVerify_RoundTrip(t *testing.T) {
	for _, alg := range dpop.SupportedAlgorithms() {
		t.Run(alg, func(t *testing.T) {
			k := key(alg)
			v := newVerifier(t, dpop.Config{Algorithms: dpop.SupportedAlgorithms()})
			proof := mustProof(t, k, "GET", testURL, dpop.ProofOptions{AccessToken: testToken, JTI: "round-trip"})
			jkt, err := dpop.Thumbprint(k.Public())
			if err != nil {
				t.Fatal(err)
			}
			p, err := v.Verify(context.Background(), proof, dpop.Request{Method: "GET", URL: testURL, AccessToken: testToken, BoundJKT: jkt})
			if err != nil {
				t.Fatal(err)
			}
			got := dpop.Proof{JKT: p.JKT, JTI: p.JTI, IssuedAt: p.IssuedAt}
			want := dpop.Proof{JKT: jkt, JTI: "round-trip", IssuedAt: t0}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("proof (-want +got):\n%s", diff)
			}
			if !k.Public().(interface{ Equal(crypto.PublicKey) bool }).Equal(p.Key) {
				t.Errorf("Key is %v, not the signer's", p.Key)
			}
			hdr, cl := decode(t, proof)
			if diff := cmp.Diff(map[string]any{"typ": "dpop+jwt", "alg": alg, "jwk": jwkOf(t, k.Public())}, hdr); diff != "" {
				t.Errorf("header (-want +got):\n%s", diff)
			}
			wantClaims := map[string]any{"jti": "round-trip", "htm": "GET", "htu": testURL, "iat": float64(t0.Unix()), "ath": dpop.AccessTokenHash(testToken)}
			if diff := cmp.Diff(wantClaims, cl); diff != "" {
				t.Errorf("claims (-want +got):\n%s", diff)
			}
		})
	}
}

// decode returns a compact JWS's header and claims.
func decode(t *testing.T, jws string) (hdr, cl map[string]any) {
	t.Helper()
	parts := strings.Split(jws, ".")
	for i, dst := range []*map[string]any{&hdr, &cl} {
		b, err := b64.DecodeString(parts[i])
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, dst); err != nil {
			t.Fatal(err)
		}
	}
	return hdr, cl
}

// The published examples of RFC 9449 verify at their iat, and the key's
// thumbprint is the jkt the RFC gives for it (§6.1, Figures 8 and 9).
func TestVerify_RFC9449Examples(t *testing.T) {
	const rfcJKT = "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"
	const rfcAccessToken = "Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU"
	tests := []struct {
		name, proof, method, url, token, jti string
		iat                                  int64
	}{
		{
			// §4.1 Figure 2 and §5 Figure 5: a token request.
			name: "token request",
			proof: "eyJ0eXAiOiJkcG9wK2p3dCIsImFsZyI6IkVTMjU2IiwiandrIjp7Imt0eSI6Ik" +
				"VDIiwieCI6Imw4dEZyaHgtMzR0VjNoUklDUkRZOXpDa0RscEJoRjQyVVFVZldWQVdCR" +
				"nMiLCJ5IjoiOVZFNGpmX09rX282NHpiVFRsY3VOSmFqSG10NnY5VERWclUwQ2R2R1JE" +
				"QSIsImNydiI6IlAtMjU2In19.eyJqdGkiOiItQndDM0VTYzZhY2MybFRjIiwiaHRtIj" +
				"oiUE9TVCIsImh0dSI6Imh0dHBzOi8vc2VydmVyLmV4YW1wbGUuY29tL3Rva2VuIiwia" +
				"WF0IjoxNTYyMjYyNjE2fQ.2-GxA6T8lP4vfrg8v-FdWP0A0zdrj8igiMLvqRMUvwnQg" +
				"4PtFLbdLXiOSsX0x7NVY-FNyJK70nfbV37xRZT3Lg",
			method: "POST", url: "https://server.example.com/token",
			jti: "-BwC3ESc6acc2lTc", iat: 1562262616,
		},
		{
			// §5 Figure 7: a refresh request with the same key.
			name: "refresh request",
			proof: "eyJ0eXAiOiJkcG9wK2p3dCIsImFsZyI6IkVTMjU2IiwiandrIjp7Imt0eSI6Ik" +
				"VDIiwieCI6Imw4dEZyaHgtMzR0VjNoUklDUkRZOXpDa0RscEJoRjQyVVFVZldWQVdCR" +
				"nMiLCJ5IjoiOVZFNGpmX09rX282NHpiVFRsY3VOSmFqSG10NnY5VERWclUwQ2R2R1JE" +
				"QSIsImNydiI6IlAtMjU2In19.eyJqdGkiOiItQndDM0VTYzZhY2MybFRjIiwiaHRtIj" +
				"oiUE9TVCIsImh0dSI6Imh0dHBzOi8vc2VydmVyLmV4YW1wbGUuY29tL3Rva2VuIiwia" +
				"WF0IjoxNTYyMjY1Mjk2fQ.pAqut2IRDm_De6PR93SYmGBPXpwrAk90e8cP2hjiaG5Qs" +
				"GSuKDYW7_X620BxqhvYC8ynrrvZLTk41mSRroapUA",
			method: "POST", url: "https://server.example.com/token",
			jti: "-BwC3ESc6acc2lTc", iat: 1562265296,
		},
		{
			// §7.1 Figures 13 and 14: a resource request with ath.
			name: "resource request",
			proof: "eyJ0eXAiOiJkcG9wK2p3dCIsImFsZyI6IkVTMjU2IiwiandrIjp7Imt0eSI6Ik" +
				"VDIiwieCI6Imw4dEZyaHgtMzR0VjNoUklDUkRZOXpDa0RscEJoRjQyVVFVZldWQVdCR" +
				"nMiLCJ5IjoiOVZFNGpmX09rX282NHpiVFRsY3VOSmFqSG10NnY5VERWclUwQ2R2R1JE" +
				"QSIsImNydiI6IlAtMjU2In19.eyJqdGkiOiJlMWozVl9iS2ljOC1MQUVCIiwiaHRtIj" +
				"oiR0VUIiwiaHR1IjoiaHR0cHM6Ly9yZXNvdXJjZS5leGFtcGxlLm9yZy9wcm90ZWN0Z" +
				"WRyZXNvdXJjZSIsImlhdCI6MTU2MjI2MjYxOCwiYXRoIjoiZlVIeU8ycjJaM0RaNTNF" +
				"c05yV0JiMHhXWG9hTnk1OUlpS0NBcWtzbVFFbyJ9.2oW9RP35yRqzhrtNP86L-Ey71E" +
				"OptxRimPPToA1plemAgR6pxHF8y6-yqyVnmcw6Fy1dqd-jfxSYoMxhAJpLjA",
			method: "GET", url: "https://resource.example.org/protectedresource", token: rfcAccessToken,
			jti: "e1j3V_bKic8-LAEB", iat: 1562262618,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			now := func() time.Time { return time.Unix(tt.iat, 0) }
			v := newVerifier(t, dpop.Config{Now: now})
			p, err := v.Verify(context.Background(), tt.proof, dpop.Request{Method: tt.method, URL: tt.url, AccessToken: tt.token, BoundJKT: rfcJKT})
			if err != nil {
				t.Fatal(err)
			}
			got := dpop.Proof{JKT: p.JKT, JTI: p.JTI, IssuedAt: p.IssuedAt}
			if diff := cmp.Diff(dpop.Proof{JKT: rfcJKT, JTI: tt.jti, IssuedAt: time.Unix(tt.iat, 0)}, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			if _, err := v.Verify(context.Background(), tt.proof, dpop.Request{Method: tt.method, URL: tt.url, AccessToken: tt.token}); !errors.Is(err, dpop.ErrReplay) {
				t.Errorf("second Verify: %v, want ErrReplay", err)
			}
		})
	}
	// Figure 14's ath is the hash of the access token of Figure 13.
	if got, want := dpop.AccessTokenHash(rfcAccessToken), "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo"; got != want {
		t.Errorf("AccessTokenHash = %s, want %s", got, want)
	}
}

// The attacker's table: each forgery fails with its own error.
func TestVerify_Refuses(t *testing.T) {
	es := key("ES256")
	other := key("ES256b")
	ed := key("EdDSA")
	jwk := func() map[string]any { return jwkOf(t, es.Public()) }
	with := func(m map[string]any, kv ...any) map[string]any {
		for i := 0; i < len(kv); i += 2 {
			if kv[i+1] == nil {
				delete(m, kv[i].(string))
			} else {
				m[kv[i].(string)] = kv[i+1]
			}
		}
		return m
	}
	hdr := func(kv ...any) map[string]any { return with(header(t, "ES256", es), kv...) }
	cl := func(kv ...any) map[string]any { return with(claims(), kv...) }
	valid := mustProof(t, es, testMethod, testURL, dpop.ProofOptions{})
	parts := strings.Split(valid, ".")
	validClaims := `{"jti":"j1","htm":"POST","htu":"` + testURL + `","iat":1700000000}`
	jwkJSON, _ := json.Marshal(jwk())

	tests := []struct {
		name  string
		proof string
		req   dpop.Request // zero: testMethod, testURL
		want  error
	}{
		// The JWS.
		{name: "empty", proof: "", want: dpop.ErrMalformed},
		{name: "two parts", proof: parts[0] + "." + parts[1], want: dpop.ErrMalformed},
		{name: "four parts", proof: valid + ".x", want: dpop.ErrMalformed},
		{name: "JWE (five parts)", proof: parts[0] + ".." + parts[1] + ".." + parts[2], want: dpop.ErrMalformed},
		{name: "JSON serialization", proof: `{"protected":"` + parts[0] + `","payload":"` + parts[1] + `","signature":"` + parts[2] + `"}`, want: dpop.ErrMalformed},
		{name: "padded base64", proof: parts[0] + "=." + parts[1] + "." + parts[2], want: dpop.ErrMalformed},
		{name: "standard base64", proof: parts[0] + "." + parts[1] + ".+/" + parts[2][2:], want: dpop.ErrMalformed},
		{name: "oversized", proof: forge(t, "ES256", es, hdr("pad", strings.Repeat("a", dpop.MaxProofSize)), cl()), want: dpop.ErrMalformed},
		{name: "header not JSON", proof: forge(t, "ES256", es, "not json", cl()), want: dpop.ErrMalformed},
		{name: "header an array", proof: forge(t, "ES256", es, "[1]", cl()), want: dpop.ErrMalformed},
		{name: "duplicate header member", proof: forge(t, "ES256", es, `{"typ":"dpop+jwt","alg":"ES256","alg":"none","jwk":`+string(jwkJSON)+`}`, cl()), want: dpop.ErrMalformed},
		{name: "escaped duplicate header member", proof: forge(t, "ES256", es, `{"typ":"dpop+jwt","alg":"ES256","\u0061lg":"ES256","jwk":`+string(jwkJSON)+`}`, cl()), want: dpop.ErrMalformed},
		{name: "data after header", proof: forge(t, "ES256", es, `{"typ":"dpop+jwt","alg":"ES256","jwk":`+string(jwkJSON)+`}{}`, cl()), want: dpop.ErrMalformed},

		// typ.
		{name: "typ JWT", proof: forge(t, "ES256", es, hdr("typ", "JWT"), cl()), want: dpop.ErrType},
		{name: "typ at+jwt", proof: forge(t, "ES256", es, hdr("typ", "at+jwt"), cl()), want: dpop.ErrType},
		{name: "no typ", proof: forge(t, "ES256", es, hdr("typ", nil), cl()), want: dpop.ErrType},
		{name: "typ not a string", proof: forge(t, "ES256", es, hdr("typ", 1), cl()), want: dpop.ErrType},

		// Key sources other than the embedded jwk.
		{name: "jku", proof: forge(t, "ES256", es, hdr("jku", "https://evil.example/jwks"), cl()), want: dpop.ErrHeader},
		{name: "x5u", proof: forge(t, "ES256", es, hdr("x5u", "https://evil.example/cert"), cl()), want: dpop.ErrHeader},
		{name: "x5c", proof: forge(t, "ES256", es, hdr("x5c", []string{"MIIB"}), cl()), want: dpop.ErrHeader},
		{name: "x5t#S256", proof: forge(t, "ES256", es, hdr("x5t#S256", "abc"), cl()), want: dpop.ErrHeader},
		{name: "crit", proof: forge(t, "ES256", es, hdr("crit", []string{"exp"}, "exp", 1), cl()), want: dpop.ErrHeader},
		{name: "b64", proof: forge(t, "ES256", es, hdr("b64", false, "crit", nil), cl()), want: dpop.ErrHeader},
		{name: "kid only", proof: forge(t, "ES256", es, hdr("jwk", nil, "kid", "k1"), cl()), want: dpop.ErrKey},

		// alg.
		{name: "alg none", proof: forge(t, "none", nil, hdr("alg", "none"), cl()), want: dpop.ErrAlgorithm},
		{name: "alg None", proof: forge(t, "none", nil, hdr("alg", "None"), cl()), want: dpop.ErrAlgorithm},
		{name: "HS256 with an oct jwk", proof: forge(t, "HS256", nil, hdr("alg", "HS256", "jwk", map[string]any{"kty": "oct", "k": b64.EncodeToString(hmacSecret)}), cl()), want: dpop.ErrAlgorithm},
		{name: "HS256 with the EC jwk", proof: forge(t, "HS256", nil, hdr("alg", "HS256"), cl()), want: dpop.ErrAlgorithm},
		{name: "no alg", proof: forge(t, "ES256", es, hdr("alg", nil), cl()), want: dpop.ErrAlgorithm},
		{name: "alg not allowed (ES384)", proof: forge(t, "ES384", key("ES384"), header(t, "ES384", key("ES384")), cl()), want: dpop.ErrAlgorithm},
		{name: "ES256 with an Ed25519 jwk", proof: forge(t, "EdDSA", ed, with(header(t, "EdDSA", ed), "alg", "ES256"), cl()), want: dpop.ErrAlgorithm},
		{name: "EdDSA with an EC jwk", proof: forge(t, "ES256", es, hdr("alg", "EdDSA"), cl()), want: dpop.ErrAlgorithm},
		{name: "RS256 with an EC jwk", proof: forge(t, "ES256", es, hdr("alg", "RS256"), cl()), want: dpop.ErrAlgorithm},
		{name: "jwk alg differs", proof: forge(t, "ES256", es, hdr("jwk", with(jwk(), "alg", "ES384")), cl()), want: dpop.ErrAlgorithm},

		// jwk.
		{name: "no jwk", proof: forge(t, "ES256", es, hdr("jwk", nil), cl()), want: dpop.ErrKey},
		{name: "jwk with d", proof: forge(t, "ES256", es, hdr("jwk", jwkOf(t, es)), cl()), want: dpop.ErrKey},
		{name: "RSA jwk with private members", proof: forge(t, "RS256", key("RS256"), with(header(t, "RS256", key("RS256")), "jwk", jwkOf(t, key("RS256"))), cl()), req: dpop.Request{}, want: dpop.ErrKey},
		{name: "Ed25519 jwk with d", proof: forge(t, "EdDSA", ed, with(header(t, "EdDSA", ed), "jwk", jwkOf(t, ed)), cl()), want: dpop.ErrKey},
		{name: "jwk not an object", proof: forge(t, "ES256", es, hdr("jwk", "eyJ..."), cl()), want: dpop.ErrKey},
		{name: "jwk oct", proof: forge(t, "ES256", es, hdr("jwk", map[string]any{"kty": "oct"}), cl()), want: dpop.ErrKey},
		{name: "jwk without kty", proof: forge(t, "ES256", es, hdr("jwk", with(jwk(), "kty", nil)), cl()), want: dpop.ErrKey},
		{name: "jwk point off the curve", proof: forge(t, "ES256", es, hdr("jwk", with(jwk(), "y", jwk()["x"])), cl()), want: dpop.ErrKey},
		{name: "jwk short coordinate", proof: forge(t, "ES256", es, hdr("jwk", with(jwk(), "x", "AAAA")), cl()), want: dpop.ErrKey},
		{name: "jwk for encryption", proof: forge(t, "ES256", es, hdr("jwk", with(jwk(), "use", "enc")), cl()), want: dpop.ErrKey},
		{name: "jwk duplicate member", proof: forge(t, "ES256", es, hdr("jwk", json.RawMessage(strings.Replace(string(jwkJSON), "{", `{"x":"AAAA",`, 1))), cl()), want: dpop.ErrKey},
		{name: "jwk RSA too small", proof: forge(t, "RS256", key("RS256"), with(header(t, "RS256", key("RS256")), "jwk", map[string]any{"kty": "RSA", "e": "AQAB", "n": b64.EncodeToString(make1024())}), cl()), want: dpop.ErrKey},

		// The signature.
		{name: "signed by another key", proof: forge(t, "ES256", other, hdr(), cl()), want: dpop.ErrSignature},
		{name: "no signature", proof: forge(t, "none", nil, hdr(), cl()), want: dpop.ErrSignature},
		{name: "signature of another proof", proof: parts[0] + "." + b64.EncodeToString([]byte(validClaims)) + "." + parts[2], want: dpop.ErrSignature},
		{name: "signature in ASN.1", proof: parts[0] + "." + parts[1] + "." + b64.EncodeToString(append([]byte{0x30, 0x44, 0x02, 0x20}, make([]byte, 66)...)), want: dpop.ErrSignature},

		// Claims.
		{name: "payload not JSON", proof: forge(t, "ES256", es, hdr(), "nope"), want: dpop.ErrMalformed},
		{name: "no jti", proof: forge(t, "ES256", es, hdr(), cl("jti", nil)), want: dpop.ErrMalformed},
		{name: "empty jti", proof: forge(t, "ES256", es, hdr(), cl("jti", "")), want: dpop.ErrMalformed},
		{name: "jti too long", proof: forge(t, "ES256", es, hdr(), cl("jti", strings.Repeat("j", dpop.MaxJTILength+1))), want: dpop.ErrMalformed},
		{name: "jti a number", proof: forge(t, "ES256", es, hdr(), cl("jti", 7)), want: dpop.ErrMalformed},
		{name: "no htm", proof: forge(t, "ES256", es, hdr(), cl("htm", nil)), want: dpop.ErrMalformed},
		{name: "HTM not htm", proof: forge(t, "ES256", es, hdr(), cl("htm", nil, "HTM", testMethod)), want: dpop.ErrMalformed},
		{name: "no htu", proof: forge(t, "ES256", es, hdr(), cl("htu", nil)), want: dpop.ErrMalformed},
		{name: "no iat", proof: forge(t, "ES256", es, hdr(), cl("iat", nil)), want: dpop.ErrMalformed},
		{name: "iat a string", proof: forge(t, "ES256", es, hdr(), cl("iat", "1700000000")), want: dpop.ErrMalformed},
		{name: "iat negative", proof: forge(t, "ES256", es, hdr(), cl("iat", -1)), want: dpop.ErrMalformed},
		{name: "iat huge", proof: forge(t, "ES256", es, hdr(), cl("iat", 1e300)), want: dpop.ErrMalformed},
		{name: "duplicate claim", proof: forge(t, "ES256", es, hdr(), `{"jti":"j","htm":"POST","htu":"https://evil.example/","htu":"`+testURL+`","iat":1700000000}`), want: dpop.ErrMalformed},

		// htm and htu.
		{name: "other method", proof: forge(t, "ES256", es, hdr(), cl("htm", "GET")), want: dpop.ErrMethod},
		{name: "method in lower case", proof: forge(t, "ES256", es, hdr(), cl("htm", "post")), want: dpop.ErrMethod},
		{name: "other host", proof: forge(t, "ES256", es, hdr(), cl("htu", "https://evil.example.com/api/cart/items")), want: dpop.ErrURL},
		{name: "other path", proof: forge(t, "ES256", es, hdr(), cl("htu", "https://api.example.com/api/cart")), want: dpop.ErrURL},
		{name: "path with trailing slash", proof: forge(t, "ES256", es, hdr(), cl("htu", testURL+"/")), want: dpop.ErrURL},
		{name: "path case", proof: forge(t, "ES256", es, hdr(), cl("htu", "https://api.example.com/API/cart/items")), want: dpop.ErrURL},
		{name: "other scheme", proof: forge(t, "ES256", es, hdr(), cl("htu", "http://api.example.com/api/cart/items")), want: dpop.ErrURL},
		{name: "other port", proof: forge(t, "ES256", es, hdr(), cl("htu", "https://api.example.com:8443/api/cart/items")), want: dpop.ErrURL},
		{name: "relative htu", proof: forge(t, "ES256", es, hdr(), cl("htu", "/api/cart/items")), want: dpop.ErrURL},
		{name: "htu with user info", proof: forge(t, "ES256", es, hdr(), cl("htu", "https://u:p@api.example.com/api/cart/items")), want: dpop.ErrURL},

		// iat.
		{name: "iat too old", proof: forge(t, "ES256", es, hdr(), cl("iat", t0.Add(-dpop.DefaultWindow-time.Second).Unix())), want: dpop.ErrIssuedAt},
		{name: "iat in the future", proof: forge(t, "ES256", es, hdr(), cl("iat", t0.Add(dpop.DefaultSkew+time.Second).Unix())), want: dpop.ErrIssuedAt},

		// ath and the key binding.
		{name: "ath missing with a token", proof: mustProof(t, es, testMethod, testURL, dpop.ProofOptions{}), req: dpop.Request{AccessToken: testToken}, want: dpop.ErrAccessTokenHash},
		{name: "ath of another token", proof: mustProof(t, es, testMethod, testURL, dpop.ProofOptions{AccessToken: "other"}), req: dpop.Request{AccessToken: testToken}, want: dpop.ErrAccessTokenHash},
		{name: "ath not a string", proof: forge(t, "ES256", es, hdr(), cl("ath", 1)), req: dpop.Request{AccessToken: testToken}, want: dpop.ErrAccessTokenHash},
		{name: "bound to another key", proof: mustProof(t, es, testMethod, testURL, dpop.ProofOptions{AccessToken: testToken}), req: dpop.Request{AccessToken: testToken, BoundJKT: mustThumbprint(t, other.Public())}, want: dpop.ErrKeyMismatch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := newVerifier(t, dpop.Config{})
			req := tt.req
			if req.Method == "" {
				req.Method, req.URL = testMethod, testURL
			}
			p, err := v.Verify(context.Background(), tt.proof, req)
			t.Logf("%v", err)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Verify = %v, %v; want %v", p, err, tt.want)
			}
			if p != nil {
				t.Errorf("Verify returned a proof with an error")
			}
			// Exactly one sentinel matches.
			n := 0
			for _, s := range sentinels {
				if errors.Is(err, s) {
					n++
				}
			}
			if n != 1 {
				t.Errorf("%v matches %d sentinels", err, n)
			}
		})
	}
}

// sentinels are Verify's errors.
var sentinels = []error{
	dpop.ErrMalformed, dpop.ErrType, dpop.ErrHeader, dpop.ErrAlgorithm, dpop.ErrKey, dpop.ErrSignature,
	dpop.ErrMethod, dpop.ErrURL, dpop.ErrIssuedAt, dpop.ErrReplay, dpop.ErrAccessTokenHash,
	dpop.ErrKeyMismatch, dpop.ErrUseNonce,
}

// make1024 is a 1024-bit modulus-shaped number.
func make1024() []byte {
	b := make([]byte, 128)
	b[0], b[127] = 0xc5, 0x01
	return b
}

func mustThumbprint(t testing.TB, pub crypto.PublicKey) string {
	t.Helper()
	jkt, err := dpop.Thumbprint(pub)
	if err != nil {
		t.Fatal(err)
	}
	return jkt
}

// What the proof may differ in from the request and still verify.
func TestVerify_Accepts(t *testing.T) {
	es := key("ES256")
	tests := []struct {
		name     string
		htu, url string
		typ      string
		extra    map[string]any // more header members
		iat      time.Time
	}{
		{name: "same URL", htu: testURL, url: testURL},
		{name: "request query ignored", htu: testURL, url: testURL + "?page=2#top"},
		{name: "htu query ignored", htu: testURL + "?a=1", url: testURL + "?b=2"},
		{name: "htu fragment ignored", htu: testURL + "#frag", url: testURL},
		{name: "uppercase host", htu: "https://API.Example.COM/api/cart/items", url: testURL},
		{name: "uppercase scheme", htu: "HTTPS://api.example.com/api/cart/items", url: testURL},
		{name: "default https port in htu", htu: "https://api.example.com:443/api/cart/items", url: testURL},
		{name: "default https port in request", htu: testURL, url: "https://api.example.com:443/api/cart/items"},
		{name: "default http port", htu: "http://localhost:80/x", url: "http://localhost/x"},
		{name: "explicit other port", htu: "http://localhost:8080/x", url: "http://LOCALHOST:8080/x"},
		{name: "empty path", htu: "https://api.example.com", url: "https://api.example.com/"},
		{name: "percent-encoding case", htu: "https://api.example.com/a%2fb", url: "https://api.example.com/a%2Fb"},
		{name: "IPv6 host", htu: "https://[::1]:443/x", url: "https://[::1]/x"},
		{name: "typ application/dpop+jwt", htu: testURL, url: testURL, typ: "application/dpop+jwt"},
		{name: "typ in upper case", htu: testURL, url: testURL, typ: "DPoP+JWT"},
		{name: "kid beside jwk", htu: testURL, url: testURL, extra: map[string]any{"kid": "device-1"}},
		{name: "unknown header", htu: testURL, url: testURL, extra: map[string]any{"x-ext": true}},
		{name: "iat at the window's edge", htu: testURL, url: testURL, iat: t0.Add(-dpop.DefaultWindow)},
		{name: "iat at the skew's edge", htu: testURL, url: testURL, iat: t0.Add(dpop.DefaultSkew)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := header(t, "ES256", es)
			if tt.typ != "" {
				h["typ"] = tt.typ
			}
			for k, v := range tt.extra {
				h[k] = v
			}
			c := claims()
			c["htu"] = tt.htu
			if !tt.iat.IsZero() {
				c["iat"] = tt.iat.Unix()
			}
			v := newVerifier(t, dpop.Config{})
			if _, err := v.Verify(context.Background(), forge(t, "ES256", es, h, c), dpop.Request{Method: testMethod, URL: tt.url}); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// A proof is accepted once; a junk proof (one that fails any check) does
// not use up its jti, and one client's jti does not block another's.
func TestVerify_Replay(t *testing.T) {
	ctx := context.Background()
	es, other := key("ES256"), key("ES256b")
	req := dpop.Request{Method: testMethod, URL: testURL, AccessToken: testToken}
	opts := dpop.ProofOptions{AccessToken: testToken, JTI: "same-jti"}
	cache := &dpop.MemoryReplayCache{Now: fixedNow}
	v := newVerifier(t, dpop.Config{Replay: cache})

	// Junk with the jti to come: wrong htm, signed by another key, wrong
	// ath, from the future.
	junk := []string{
		mustProof(t, es, "GET", testURL, opts),
		forge(t, "ES256", other, header(t, "ES256", es), map[string]any{"jti": "same-jti", "htm": testMethod, "htu": testURL, "iat": t0.Unix(), "ath": dpop.AccessTokenHash(testToken)}),
		mustProof(t, es, testMethod, testURL, dpop.ProofOptions{AccessToken: "other", JTI: "same-jti"}),
		mustProof(t, es, testMethod, testURL, dpop.ProofOptions{AccessToken: testToken, JTI: "same-jti", Now: t0.Add(time.Hour)}),
	}
	for i, j := range junk {
		if _, err := v.Verify(ctx, j, req); err == nil || errors.Is(err, dpop.ErrReplay) {
			t.Fatalf("junk %d: %v", i, err)
		}
	}
	if n := cache.Len(); n != 0 {
		t.Fatalf("junk filled the cache: %d entries", n)
	}

	proof := mustProof(t, es, testMethod, testURL, opts)
	if _, err := v.Verify(ctx, proof, req); err != nil {
		t.Fatalf("first use: %v", err)
	}
	if _, err := v.Verify(ctx, proof, req); !errors.Is(err, dpop.ErrReplay) {
		t.Fatalf("second use: %v, want ErrReplay", err)
	}
	// Another proof with the same key and jti (a new signature) is a replay too.
	if _, err := v.Verify(ctx, mustProof(t, es, testMethod, testURL, opts), req); !errors.Is(err, dpop.ErrReplay) {
		t.Fatalf("same jti, new signature: %v, want ErrReplay", err)
	}
	// Another key may use the same jti.
	if _, err := v.Verify(ctx, mustProof(t, other, testMethod, testURL, opts), req); err != nil {
		t.Fatalf("same jti, other key: %v", err)
	}
}

// 16 goroutines verify one proof at once: exactly one succeeds, the others
// see ErrReplay.
func TestVerify_Concurrent(t *testing.T) {
	v := newVerifier(t, dpop.Config{})
	proof := mustProof(t, key("ES256"), testMethod, testURL, dpop.ProofOptions{})
	var ok, replay atomic.Int32
	var wg sync.WaitGroup
	start := make(chan struct{})
	for range 16 {
		wg.Go(func() {
			<-start
			_, err := v.Verify(context.Background(), proof, dpop.Request{Method: testMethod, URL: testURL})
			switch {
			case err == nil:
				ok.Add(1)
			case errors.Is(err, dpop.ErrReplay):
				replay.Add(1)
			default:
				t.Error(err)
			}
		})
	}
	close(start)
	wg.Wait()
	if ok.Load() != 1 || replay.Load() != 15 {
		t.Errorf("%d succeeded, %d replays; want 1 and 15", ok.Load(), replay.Load())
	}
}

// With a NonceSource, a proof must carry a current nonce; the error hands
// out the one to use.
func TestVerify_Nonce(t *testing.T) {
	now := t0
	clock := func() time.Time { return now }
	nonces, err := dpop.NewHMACNonces([]byte(strings.Repeat("s", 32)), 5*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	nonces.Now = clock
	foreign, err := dpop.NewHMACNonces([]byte(strings.Repeat("t", 32)), 5*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	foreign.Now = clock
	// issuedAt returns the nonce current at t0+d.
	issuedAt := func(d time.Duration) string {
		now = t0.Add(d)
		defer func() { now = t0 }()
		return nonces.Current()
	}
	current, next, prev, older := nonces.Current(), issuedAt(5*time.Minute), issuedAt(-5*time.Minute), issuedAt(-10*time.Minute)
	if current == prev || current == next || prev == older {
		t.Fatal("nonces of different buckets are equal")
	}

	tests := []struct {
		name  string
		nonce string
		want  error // nil: accepted
	}{
		{"current", current, nil},
		{"previous bucket", prev, nil},
		{"none", "", dpop.ErrUseNonce},
		{"two buckets old", older, dpop.ErrUseNonce},
		{"next bucket", next, dpop.ErrUseNonce},
		{"another secret's", foreign.Current(), dpop.ErrUseNonce},
		{"garbage", "eyJ7S_zG.eyJH0-Z.HX4w-7v", dpop.ErrUseNonce},
		{"tampered", current[:len(current)-2] + "AA", dpop.ErrUseNonce},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := newVerifier(t, dpop.Config{Nonce: nonces, Now: clock})
			proof := mustProof(t, key("ES256"), testMethod, testURL, dpop.ProofOptions{Nonce: tt.nonce, Now: now})
			_, err := v.Verify(context.Background(), proof, dpop.Request{Method: testMethod, URL: testURL})
			if !errors.Is(err, tt.want) {
				t.Fatalf("Verify: %v, want %v", err, tt.want)
			}
			if err == nil {
				return
			}
			var ne *dpop.NonceError
			if !errors.As(err, &ne) {
				t.Fatalf("%v is not a *NonceError", err)
			}
			if ne.Nonce != current {
				t.Errorf("NonceError.Nonce = %q, want the current %q", ne.Nonce, current)
			}
		})
	}
	// Without a NonceSource, a nonce claim is ignored.
	v := newVerifier(t, dpop.Config{})
	if _, err := v.Verify(context.Background(), mustProof(t, key("ES256"), testMethod, testURL, dpop.ProofOptions{Nonce: "whatever"}), dpop.Request{Method: testMethod, URL: testURL}); err != nil {
		t.Fatal(err)
	}
}

// A proof that fails for want of a nonce does not use up its jti: the
// client may retry the same jti with the nonce.
func TestVerify_NonceErrorKeepsJTI(t *testing.T) {
	nonces, err := dpop.NewHMACNonces(make([]byte, 32), 0)
	if err != nil {
		t.Fatal(err)
	}
	nonces.Now = fixedNow
	v := newVerifier(t, dpop.Config{Nonce: nonces})
	req := dpop.Request{Method: testMethod, URL: testURL}
	_, err = v.Verify(context.Background(), mustProof(t, key("ES256"), testMethod, testURL, dpop.ProofOptions{JTI: "j"}), req)
	var ne *dpop.NonceError
	if !errors.As(err, &ne) {
		t.Fatalf("Verify: %v, want a *NonceError", err)
	}
	if _, err := v.Verify(context.Background(), mustProof(t, key("ES256"), testMethod, testURL, dpop.ProofOptions{JTI: "j", Nonce: ne.Nonce}), req); err != nil {
		t.Fatal(err)
	}
}

// Window and Skew are configurable.
func TestVerify_Window(t *testing.T) {
	v := newVerifier(t, dpop.Config{Window: 5 * time.Minute, Skew: time.Minute})
	for _, tt := range []struct {
		iat  time.Time
		want error
	}{
		{t0.Add(-5 * time.Minute), nil},
		{t0.Add(-5*time.Minute - time.Second), dpop.ErrIssuedAt},
		{t0.Add(time.Minute), nil},
		{t0.Add(time.Minute + time.Second), dpop.ErrIssuedAt},
	} {
		proof := mustProof(t, key("ES256"), testMethod, testURL, dpop.ProofOptions{Now: tt.iat})
		if _, err := v.Verify(context.Background(), proof, dpop.Request{Method: testMethod, URL: testURL}); !errors.Is(err, tt.want) {
			t.Errorf("iat %s: %v, want %v", tt.iat.Sub(t0), err, tt.want)
		}
	}
}

// The replay cache's errors reach the caller, and are not mistaken for a
// bad proof.
func TestVerify_ReplayCacheError(t *testing.T) {
	v := newVerifier(t, dpop.Config{Replay: &dpop.MemoryReplayCache{MaxEntries: 1, Now: fixedNow}})
	req := dpop.Request{Method: testMethod, URL: testURL}
	if _, err := v.Verify(context.Background(), mustProof(t, key("ES256"), testMethod, testURL, dpop.ProofOptions{}), req); err != nil {
		t.Fatal(err)
	}
	_, err := v.Verify(context.Background(), mustProof(t, key("ES256"), testMethod, testURL, dpop.ProofOptions{}), req)
	if !errors.Is(err, dpop.ErrReplayCacheFull) {
		t.Fatalf("Verify: %v, want ErrReplayCacheFull", err)
	}
	for _, s := range sentinels {
		if errors.Is(err, s) {
			t.Errorf("%v matches %v", err, s)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := v.Verify(ctx, mustProof(t, key("ES256"), testMethod, testURL, dpop.ProofOptions{}), req); !errors.Is(err, context.Canceled) {
		t.Errorf("Verify with a cancelled context: %v", err)
	}
}

// A request the caller got wrong is an error of its own.
func TestVerify_BadRequest(t *testing.T) {
	v := newVerifier(t, dpop.Config{})
	proof := mustProof(t, key("ES256"), testMethod, testURL, dpop.ProofOptions{})
	for _, req := range []dpop.Request{
		{Method: "", URL: testURL},
		{Method: testMethod, URL: "/api/cart/items"},
		{Method: testMethod, URL: "ftp://api.example.com/x"},
		{Method: testMethod, URL: ""},
	} {
		_, err := v.Verify(context.Background(), proof, req)
		if err == nil {
			t.Errorf("%+v: no error", req)
		}
		for _, s := range sentinels {
			if errors.Is(err, s) {
				t.Errorf("%+v: %v blames the proof", req, err)
			}
		}
	}
}

func TestNewVerifier(t *testing.T) {
	cache := &dpop.MemoryReplayCache{}
	tests := []struct {
		name string
		cfg  dpop.Config
		ok   bool
		algs []string
	}{
		{"defaults", dpop.Config{Replay: cache}, true, []string{"ES256", "EdDSA", "RS256"}},
		{"ES256 only", dpop.Config{Replay: cache, Algorithms: []string{"ES256"}}, true, []string{"ES256"}},
		{"no replay cache", dpop.Config{}, false, nil},
		{"HS256", dpop.Config{Replay: cache, Algorithms: []string{"ES256", "HS256"}}, false, nil},
		{"none", dpop.Config{Replay: cache, Algorithms: []string{"none"}}, false, nil},
		{"empty algorithms", dpop.Config{Replay: cache, Algorithms: []string{}}, false, nil},
		{"negative window", dpop.Config{Replay: cache, Window: -time.Second}, false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := dpop.NewVerifier(tt.cfg)
			if (err == nil) != tt.ok {
				t.Fatalf("NewVerifier: %v", err)
			}
			if err == nil {
				if diff := cmp.Diff(tt.algs, v.Algorithms()); diff != "" {
					t.Errorf("Algorithms (-want +got):\n%s", diff)
				}
			}
		})
	}
}
