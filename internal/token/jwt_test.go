package token

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/big"
	"strings"
	"testing"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/latchid/latch/internal/jws"
)

// sentinels are the errors every Verify failure must wrap one of.
var sentinels = []error{ErrMalformed, ErrUnknownKey, ErrAlgorithm, ErrHeader, ErrSignature}

func TestSignVerifyRoundTrip(t *testing.T) {
	keys := fixedKeys(t)
	set := keySetOf(keys)
	claims := map[string]any{
		"iss": "https://latch.example", "sub": "user-1", "aud": []string{"app"},
		"exp": 1700000600, "iat": 1700000000, "jti": "j1", "roles": []string{"admin"},
	}
	wantPayload, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	for _, alg := range SupportedAlgorithms() {
		t.Run(alg, func(t *testing.T) {
			k := keys[alg]
			tok, err := Sign(k, TypeAccessToken, claims)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Count(tok, ".") != 2 {
				t.Fatalf("not compact: %q", tok)
			}
			// Header is exactly {alg, kid, typ:"at+jwt"}.
			hdr, err := base64.RawURLEncoding.DecodeString(strings.SplitN(tok, ".", 2)[0])
			if err != nil {
				t.Fatal(err)
			}
			var h map[string]any
			if err := json.Unmarshal(hdr, &h); err != nil {
				t.Fatal(err)
			}
			if len(h) != 3 || h["alg"] != alg || h["kid"] != k.ID || h["typ"] != "at+jwt" {
				t.Fatalf("header = %s", hdr)
			}
			payload, kid, err := Verify(tok, set, TypeAccessToken)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if kid != k.ID {
				t.Fatalf("kid = %q, want %q", kid, k.ID)
			}
			if !bytes.Equal(payload, wantPayload) {
				t.Fatalf("payload = %s, want %s", payload, wantPayload)
			}
			var c Claims
			if err := json.Unmarshal(payload, &c); err != nil {
				t.Fatal(err)
			}
			if c.Subject != "user-1" || !c.Audience.Contains("app") || c.Expiry != 1700000600 {
				t.Fatalf("claims = %+v", c)
			}
		})
	}
}

func TestSignStructClaims(t *testing.T) {
	k := fixedKeys(t)[ES256]
	in := Claims{Issuer: "i", Subject: "s", Audience: Audience{"a"}, Expiry: 2, IssuedAt: 1, ID: "j"}
	tok, err := Sign(k, TypeAccessToken, in)
	if err != nil {
		t.Fatal(err)
	}
	payload, _, err := Verify(tok, StaticKeySet{k}, TypeAccessToken)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"iss":"i","sub":"s","aud":"a","exp":2,"iat":1,"jti":"j"}`; string(payload) != want {
		t.Fatalf("payload = %s, want %s", payload, want)
	}
}

func TestSignRefusesNonObjectClaims(t *testing.T) {
	k := fixedKeys(t)[ES256]
	for _, claims := range []any{nil, "x", 1, []string{"a"}, []byte("{}"), json.RawMessage(`[1]`), func() {}} {
		if tok, err := Sign(k, TypeAccessToken, claims); err == nil {
			t.Errorf("Sign(%T) = %q, want error", claims, tok)
		}
	}
	if _, err := Sign(k, TypeAccessToken, json.RawMessage(`{"sub":"x"}`)); err != nil {
		t.Errorf("Sign(json.RawMessage object): %v", err)
	}
}

// TestJWKSInterop feeds the published JWKS to go-jose independently and
// checks that it verifies Latch's tokens by kid.
func TestJWKSInterop(t *testing.T) {
	keys := fixedKeys(t)
	generated, err := GenerateKey("generated-es256", ES256)
	if err != nil {
		t.Fatal(err)
	}
	all := append(keySetOf(keys), generated)

	var jwks jose.JSONWebKeySet
	for _, k := range all {
		if jwk, ok := k.PublicJWK(); ok {
			jwks.Keys = append(jwks.Keys, jwk)
		}
	}
	if len(jwks.Keys) != 4 {
		t.Fatalf("published %d keys, want 4 (HMAC must not be published)", len(jwks.Keys))
	}
	doc, err := json.Marshal(jwks)
	if err != nil {
		t.Fatal(err)
	}
	var relying jose.JSONWebKeySet
	if err := json.Unmarshal(doc, &relying); err != nil {
		t.Fatal(err)
	}

	for _, k := range all {
		if k.Symmetric() {
			continue
		}
		t.Run(k.ID, func(t *testing.T) {
			tok, err := Sign(k, TypeAccessToken, map[string]any{"sub": "interop", "exp": 1})
			if err != nil {
				t.Fatal(err)
			}
			parsed, err := jwt.ParseSigned(tok, []jose.SignatureAlgorithm{jose.SignatureAlgorithm(k.Algorithm)})
			if err != nil {
				t.Fatal(err)
			}
			var c jwt.Claims
			if err := parsed.Claims(&relying, &c); err != nil {
				t.Fatalf("go-jose could not verify with the JWKS: %v", err)
			}
			if c.Subject != "interop" {
				t.Fatalf("sub = %q", c.Subject)
			}
			// The single JWK too, after a JSON round trip of its own.
			jwk, _ := k.PublicJWK()
			b, _ := json.Marshal(jwk)
			var single jose.JSONWebKey
			if err := json.Unmarshal(b, &single); err != nil {
				t.Fatal(err)
			}
			if !single.IsPublic() || single.KeyID != k.ID || single.Algorithm != k.Algorithm || single.Use != "sig" {
				t.Fatalf("JWK = %s", b)
			}
			if err := parsed.Claims(single, &c); err != nil {
				t.Fatalf("go-jose could not verify with the JWK: %v", err)
			}
		})
	}
}

// TestVerifyTypes: Verify takes a token only as the type it was signed
// as. An access token is at+jwt (RFC 9068 §2.1) in any case, with or
// without "application/"; a JWT with another typ, or none, is not one.
func TestVerifyTypes(t *testing.T) {
	k := fixedKeys(t)[ES256]
	for _, tc := range []struct {
		typ        string // the header's, as JSON; "" for none
		accessOK   bool   // Verify(..., TypeAccessToken)
		plainJWTOK bool   // Verify(..., TypeJWT)
	}{
		{`"at+jwt"`, true, false},
		{`"AT+JWT"`, true, false},
		{`"application/at+jwt"`, true, false},
		{`"Application/At+Jwt"`, true, false},
		{`"JWT"`, false, true},
		{`"jwt"`, false, true},
		{`"Application/JWT"`, false, true},
		{"", false, true},
		{`"at+jwt+jwt"`, false, false},
		{`"dpop+jwt"`, false, false},
		{`"secevent+jwt"`, false, false},
		{`""`, false, false},
		{`null`, false, false},
	} {
		t.Run(tc.typ, func(t *testing.T) {
			hdr := `{"alg":"ES256","kid":"` + k.ID + `"`
			if tc.typ != "" {
				hdr += `,"typ":` + tc.typ
			}
			hdr += `}`
			tok := signRaw(t, k, ES256, hdr, `{"sub":"x"}`)
			for _, v := range []struct {
				typ string
				ok  bool
			}{{TypeAccessToken, tc.accessOK}, {TypeJWT, tc.plainJWTOK}} {
				_, _, err := Verify(tok, StaticKeySet{k}, v.typ)
				switch {
				case v.ok && err != nil:
					t.Errorf("Verify as %s: %v", v.typ, err)
				case !v.ok && !errors.Is(err, ErrHeader):
					t.Errorf("Verify as %s = %v, want ErrHeader", v.typ, err)
				}
			}
		})
	}
}

// TestSignTypes: Sign writes the type it is given, which Verify then
// demands: an ID token (TypeJWT), signed by the same key with the same
// claims as an access token, is no access token, nor the reverse.
func TestSignTypes(t *testing.T) {
	keys := fixedKeys(t)
	set := keySetOf(keys)
	claims := map[string]any{"iss": "https://latch.example", "sub": "user-1", "aud": "app", "exp": 1700000600}
	for _, alg := range SupportedAlgorithms() {
		t.Run(alg, func(t *testing.T) {
			for _, typ := range []string{TypeAccessToken, TypeJWT} {
				tok, err := Sign(keys[alg], typ, claims)
				if err != nil {
					t.Fatal(err)
				}
				var h map[string]any
				hdr, _ := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[0])
				if err := json.Unmarshal(hdr, &h); err != nil || h["typ"] != typ {
					t.Fatalf("header %s, want typ %q", hdr, typ)
				}
				other := TypeJWT
				if typ == TypeJWT {
					other = TypeAccessToken
				}
				if _, _, err := Verify(tok, set, typ); err != nil {
					t.Errorf("Verify %s as %s: %v", typ, typ, err)
				}
				if _, _, err := Verify(tok, set, other); !errors.Is(err, ErrHeader) {
					t.Errorf("Verify %s as %s = %v, want ErrHeader", typ, other, err)
				}
			}
		})
	}
	for _, typ := range []string{"", "jwt", "at+JWT", "id_token+jwt", "dpop+jwt"} {
		if tok, err := Sign(keys[ES256], typ, claims); err == nil {
			t.Errorf("Sign(typ %q) = %q, want an error", typ, tok)
		}
	}
}

// TestSignLowS: every ES256 signature Sign makes has s in the lower half
// (ecdsa.Sign alone gives a high s about half the time), and the twin of
// each, the same token with s replaced by n−s, is refused by Verify,
// although go-jose's plain ECDSA check takes it: one token, one string.
func TestSignLowS(t *testing.T) {
	k := fixedKeys(t)[ES256]
	set := StaticKeySet{k}
	n := elliptic.P256().Params().N
	for i := range 128 {
		tok, err := Sign(k, TypeAccessToken, map[string]any{"sub": "user", "exp": 9999999999, "i": i})
		if err != nil {
			t.Fatal(err)
		}
		dot := strings.LastIndexByte(tok, '.')
		sig, err := base64.RawURLEncoding.DecodeString(tok[dot+1:])
		if err != nil || len(sig) != 64 {
			t.Fatalf("signature %q: %v", tok[dot+1:], err)
		}
		if jws.HighS(ES256, sig) {
			t.Fatalf("token %d has a high-S signature", i)
		}
		twinSig := bytes.Clone(sig)
		new(big.Int).Sub(n, new(big.Int).SetBytes(sig[32:])).FillBytes(twinSig[32:])
		twin := tok[:dot+1] + base64.RawURLEncoding.EncodeToString(twinSig)
		if _, _, err := Verify(twin, set, TypeAccessToken); !errors.Is(err, ErrSignature) {
			t.Fatalf("Verify(high-S twin) = %v, want ErrSignature", err)
		}
		parsed, err := jose.ParseSignedCompact(twin, []jose.SignatureAlgorithm{jose.ES256})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := parsed.Verify(k.public()); err != nil {
			t.Fatalf("the twin is no valid ECDSA signature, so the test proves nothing: %v", err)
		}
	}
}

// TestVerifyAttacks is the attacker table: every token must be refused with
// the listed sentinel, and never panic.
func TestVerifyAttacks(t *testing.T) {
	keys := fixedKeys(t)
	set := keySetOf(keys)
	es, rs, ed, hs := keys[ES256], keys[RS256], keys[EdDSA], keys[HS256]
	const payload = `{"sub":"admin","exp":9999999999}`
	hdr := func(alg, kid string, extra ...string) string {
		h := `{"alg":"` + alg + `","kid":"` + kid + `","typ":"at+jwt"`
		for _, e := range extra {
			h += "," + e
		}
		return h + "}"
	}
	valid, err := Sign(es, TypeAccessToken, map[string]any{"sub": "user", "exp": 9999999999})
	if err != nil {
		t.Fatal(err)
	}
	validParts := strings.Split(valid, ".")
	idToken, err := Sign(es, TypeJWT, map[string]any{"sub": "user", "exp": 9999999999})
	if err != nil {
		t.Fatal(err)
	}
	highS := func(tok string) string {
		p := strings.Split(tok, ".")
		sig, _ := base64.RawURLEncoding.DecodeString(p[2])
		new(big.Int).Sub(elliptic.P256().Params().N, new(big.Int).SetBytes(sig[32:])).FillBytes(sig[32:])
		p[2] = base64.RawURLEncoding.EncodeToString(sig)
		return strings.Join(p, ".")
	}

	// Public keys in the forms an attacker would use as an HMAC secret.
	pubPEM := func(k *Key) []byte { s, _ := k.PublicKeyPEM(); return []byte(s) }
	pubDER := func(k *Key) []byte { b, _ := x509.MarshalPKIXPublicKey(k.public()); return b }
	pubJWK := func(k *Key) []byte { j, _ := k.PublicJWK(); b, _ := json.Marshal(j); return b }
	hmacWith := func(secret []byte, kid string) string {
		input := b64(hdr(HS256, kid)) + "." + b64(payload)
		return input + "." + base64.RawURLEncoding.EncodeToString(rawSignature(t, secret, HS256, []byte(input)))
	}

	// An attacker's own keys.
	evilEC, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	evil := &Key{ID: es.ID, Algorithm: ES256, private: evilEC}
	evilJWK, _ := (&Key{ID: "evil", Algorithm: ES256, private: evilEC}).PublicJWK()
	evilJWKJSON, _ := json.Marshal(evilJWK)
	evilCertDER := selfSignedCert(t, evilEC)

	tamperSig := func(tok string) string {
		p := strings.Split(tok, ".")
		sig, _ := base64.RawURLEncoding.DecodeString(p[2])
		sig[len(sig)/2] ^= 0x01
		p[2] = base64.RawURLEncoding.EncodeToString(sig)
		return strings.Join(p, ".")
	}
	tamperPayload := func(tok string) string {
		p := strings.Split(tok, ".")
		p[1] = b64(`{"sub":"admin","exp":9999999999}`)
		return strings.Join(p, ".")
	}
	jsonSerialized := func() string {
		signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: es.private},
			(&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", es.ID))
		if err != nil {
			t.Fatal(err)
		}
		jws, err := signer.Sign([]byte(payload))
		if err != nil {
			t.Fatal(err)
		}
		return jws.FullSerialize()
	}

	type attack struct {
		name  string
		token string
		keys  KeySet
		want  error
	}
	tests := []attack{
		// alg
		{"alg none, empty signature", b64(hdr("none", es.ID)) + "." + b64(payload) + ".", set, ErrAlgorithm},
		{"alg none, some signature", b64(hdr("none", es.ID)) + "." + b64(payload) + ".AAAA", set, ErrAlgorithm},
		{"alg None", b64(hdr("None", es.ID)) + "." + b64(payload) + ".", set, ErrAlgorithm},
		{"alg NONE, no kid", b64(`{"alg":"NONE"}`) + "." + b64(payload) + ".", set, ErrAlgorithm},
		{"alg missing", signRaw(t, es, ES256, `{"kid":"`+es.ID+`"}`, payload), set, ErrAlgorithm},
		{"alg null", signRaw(t, es, ES256, `{"alg":null,"kid":"`+es.ID+`"}`, payload), set, ErrAlgorithm},
		{"alg lowercase", signRaw(t, es, ES256, hdr("es256", es.ID), payload), set, ErrAlgorithm},
		{"alg ES384", signRaw(t, es, ES256, hdr("ES384", es.ID), payload), set, ErrAlgorithm},
		{"alg not a string", signRaw(t, es, ES256, `{"alg":["ES256"],"kid":"`+es.ID+`"}`, payload), set, ErrMalformed},
		{"HS256 keyed with RSA public PEM", hmacWith(pubPEM(rs), rs.ID), set, ErrAlgorithm},
		{"HS256 keyed with RSA public DER", hmacWith(pubDER(rs), rs.ID), set, ErrAlgorithm},
		{"HS256 keyed with RSA public JWK", hmacWith(pubJWK(rs), rs.ID), set, ErrAlgorithm},
		{"HS256 keyed with EC public PEM", hmacWith(pubPEM(es), es.ID), set, ErrAlgorithm},
		{"HS256 keyed with EC public DER", hmacWith(pubDER(es), es.ID), set, ErrAlgorithm},
		{"HS256 keyed with Ed25519 public PEM", hmacWith(pubPEM(ed), ed.ID), set, ErrAlgorithm},
		{"RS256 token for an ES256 kid", signRaw(t, rs, RS256, hdr(RS256, es.ID), payload), set, ErrAlgorithm},
		{"EdDSA token for an ES256 kid", signRaw(t, ed, EdDSA, hdr(EdDSA, es.ID), payload), set, ErrAlgorithm},
		{"ES256 token for an HS256 kid", signRaw(t, es, ES256, hdr(ES256, hs.ID), payload), set, ErrAlgorithm},
		{"ES256 token for an RS256 kid", signRaw(t, es, ES256, hdr(ES256, rs.ID), payload), set, ErrAlgorithm},

		// kid
		{"missing kid", signRaw(t, es, ES256, `{"alg":"ES256","typ":"at+jwt"}`, payload), set, ErrUnknownKey},
		{"empty kid", signRaw(t, es, ES256, hdr(ES256, ""), payload), set, ErrUnknownKey},
		{"null kid", signRaw(t, es, ES256, `{"alg":"ES256","kid":null,"typ":"at+jwt"}`, payload), set, ErrUnknownKey},
		{"unknown kid", signRaw(t, es, ES256, hdr(ES256, "nope"), payload), set, ErrUnknownKey},
		{"kid case differs", signRaw(t, es, ES256, hdr(ES256, strings.ToUpper(es.ID)), payload), set, ErrUnknownKey},
		{"kid not a string", signRaw(t, es, ES256, `{"alg":"ES256","kid":1}`, payload), set, ErrMalformed},
		{"nil key set", valid, nil, ErrUnknownKey},
		{"empty key set", valid, StaticKeySet{}, ErrUnknownKey},
		{"key set without this kid", valid, StaticKeySet{rs, ed, hs}, ErrUnknownKey},

		// headers that bring their own key or extensions
		{"jku", signRaw(t, evil, ES256, hdr(ES256, es.ID, `"jku":"https://evil.example/jwks"`), payload), set, ErrHeader},
		{"x5u", signRaw(t, evil, ES256, hdr(ES256, es.ID, `"x5u":"https://evil.example/cert"`), payload), set, ErrHeader},
		{"x5t", signRaw(t, es, ES256, hdr(ES256, es.ID, `"x5t":"abc"`), payload), set, ErrHeader},
		{"x5t#S256", signRaw(t, es, ES256, hdr(ES256, es.ID, `"x5t#S256":"abc"`), payload), set, ErrHeader},
		{"jwk", signRaw(t, evil, ES256, hdr(ES256, es.ID, `"jwk":`+string(evilJWKJSON)), payload), set, ErrHeader},
		{"jwk without kid", signRaw(t, evil, ES256, `{"alg":"ES256","jwk":`+string(evilJWKJSON)+`}`, payload), set, ErrHeader},
		{"x5c", signRaw(t, evil, ES256, hdr(ES256, es.ID, `"x5c":["`+base64.StdEncoding.EncodeToString(evilCertDER)+`"]`), payload), set, ErrHeader},
		{"jku with the right key", signRaw(t, es, ES256, hdr(ES256, es.ID, `"jku":"https://latch.example/jwks"`), payload), set, ErrHeader},
		{"crit", signRaw(t, es, ES256, hdr(ES256, es.ID, `"crit":["exp"]`, `"exp":1`), payload), set, ErrHeader},
		{"crit empty", signRaw(t, es, ES256, hdr(ES256, es.ID, `"crit":[]`), payload), set, ErrHeader},
		{"crit b64", signRaw(t, es, ES256, hdr(ES256, es.ID, `"crit":["b64"]`, `"b64":false`), payload), set, ErrHeader},
		{"b64 without crit", signRaw(t, es, ES256, hdr(ES256, es.ID, `"b64":false`), payload), set, ErrHeader},

		// typ: only an access token is taken for one
		{"an ID token (typ JWT)", idToken, set, ErrHeader},
		{"typ JWT", signRaw(t, es, ES256, `{"alg":"ES256","kid":"`+es.ID+`","typ":"JWT"}`, payload), set, ErrHeader},
		{"no typ", signRaw(t, es, ES256, `{"alg":"ES256","kid":"`+es.ID+`"}`, payload), set, ErrHeader},
		{"typ JOSE", signRaw(t, es, ES256, `{"alg":"ES256","kid":"`+es.ID+`","typ":"JOSE"}`, payload), set, ErrHeader},
		{"typ JWE-ish", signRaw(t, es, ES256, `{"alg":"ES256","kid":"`+es.ID+`","typ":"application/jose+json"}`, payload), set, ErrHeader},
		{"typ id_token+jwt", signRaw(t, es, ES256, `{"alg":"ES256","kid":"`+es.ID+`","typ":"secevent+jwt"}`, payload), set, ErrHeader},
		{"typ at+jwt suffix", signRaw(t, es, ES256, `{"alg":"ES256","kid":"`+es.ID+`","typ":"at+jwt; x=y"}`, payload), set, ErrHeader},
		{"typ empty", signRaw(t, es, ES256, `{"alg":"ES256","kid":"`+es.ID+`","typ":""}`, payload), set, ErrHeader},
		{"typ bare application/", signRaw(t, es, ES256, `{"alg":"ES256","kid":"`+es.ID+`","typ":"application/"}`, payload), set, ErrHeader},
		{"typ null", signRaw(t, es, ES256, `{"alg":"ES256","kid":"`+es.ID+`","typ":null}`, payload), set, ErrHeader},
		{"typ not a string", signRaw(t, es, ES256, `{"alg":"ES256","kid":"`+es.ID+`","typ":7}`, payload), set, ErrMalformed},

		// structure
		{"JSON serialization", jsonSerialized(), set, ErrMalformed},
		{"flattened JSON serialization", `{"payload":"` + validParts[1] + `","protected":"` + validParts[0] + `","signature":"` + validParts[2] + `"}`, set, ErrMalformed},
		{"empty", "", set, ErrMalformed},
		{"3-part garbage", "abc.def.ghi", set, ErrMalformed},
		{"3-part binary garbage", "____.____.____", set, ErrMalformed},
		{"dots only", "..", set, ErrMalformed},
		{"two parts", validParts[0] + "." + validParts[1], set, ErrMalformed},
		{"four parts", valid + ".AAAA", set, ErrMalformed},
		{"JWE shape", validParts[0] + ".." + validParts[1] + ".AAAA." + validParts[2], set, ErrMalformed},
		{"empty header", "." + validParts[1] + "." + validParts[2], set, ErrMalformed},
		{"empty payload", validParts[0] + ".." + validParts[2], set, ErrMalformed},
		{"padding", validParts[0] + "=." + validParts[1] + "." + validParts[2], set, ErrMalformed},
		{"standard base64 alphabet", strings.NewReplacer("-", "+", "_", "/").Replace(valid) + "+", set, ErrMalformed},
		{"embedded newline", validParts[0] + "\n." + validParts[1] + "." + validParts[2], set, ErrMalformed},
		{"leading space", " " + valid, set, ErrMalformed},
		{"trailing newline", valid + "\n", set, ErrMalformed},
		{"non-canonical base64 signature", validParts[0] + "." + validParts[1] + "." + nonCanonical(validParts[2]), set, ErrMalformed},
		{"header not JSON", b64("alg=ES256") + "." + validParts[1] + "." + validParts[2], set, ErrMalformed},
		{"header JSON array", signRaw(t, es, ES256, `["alg","ES256"]`, payload), set, ErrMalformed},
		{"header JSON string", signRaw(t, es, ES256, `"ES256"`, payload), set, ErrMalformed},
		{"header trailing data", signRaw(t, es, ES256, hdr(ES256, es.ID)+`{}`, payload), set, ErrMalformed},
		{"header invalid UTF-8", signRaw(t, es, ES256, `{"alg":"ES256","kid":"`+es.ID+`","x":"`+"\xff"+`"}`, payload), set, ErrMalformed},
		{"duplicate alg", signRaw(t, es, ES256, `{"alg":"ES256","kid":"`+es.ID+`","alg":"none"}`, payload), set, ErrMalformed},
		{"duplicate kid", signRaw(t, es, ES256, `{"alg":"ES256","kid":"other","kid":"`+es.ID+`"}`, payload), set, ErrMalformed},
		{"oversized garbage", strings.Repeat("A", MaxTokenSize+1), set, ErrMalformed},
		{"oversized signed token", signRaw(t, es, ES256, hdr(ES256, es.ID), `{"pad":"`+strings.Repeat("x", MaxTokenSize)+`"}`), set, ErrMalformed},
		{"signed payload not an object", signRaw(t, es, ES256, hdr(ES256, es.ID), `["sub"]`), set, ErrMalformed},
		{"signed payload not JSON", signRaw(t, es, ES256, hdr(ES256, es.ID), `sub=admin`), set, ErrMalformed},
		{"signed payload trailing data", signRaw(t, es, ES256, hdr(ES256, es.ID), `{"sub":"a"}{"sub":"b"}`), set, ErrMalformed},

		// signatures
		{"tampered payload ES256", tamperPayload(valid), set, ErrSignature},
		{"tampered signature ES256", tamperSig(valid), set, ErrSignature},
		{"high-S twin of a valid ES256 token", highS(valid), set, ErrSignature},
		{"signed by another ES256 key with our kid", signRaw(t, evil, ES256, hdr(ES256, es.ID), payload), set, ErrSignature},
		{"empty signature", validParts[0] + "." + validParts[1] + ".", set, ErrSignature},
		{"truncated signature", validParts[0] + "." + validParts[1] + "." + validParts[2][:40], set, ErrSignature},
		{"signature from another token", validParts[0] + "." + b64(payload) + "." + validParts[2], set, ErrSignature},
	}
	for _, alg := range []string{RS256, EdDSA, HS256} {
		tok, err := Sign(keys[alg], TypeAccessToken, map[string]any{"sub": "user"})
		if err != nil {
			t.Fatal(err)
		}
		tests = append(tests,
			attack{"tampered payload " + alg, tamperPayload(tok), set, ErrSignature},
			attack{"tampered signature " + alg, tamperSig(tok), set, ErrSignature},
		)
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			payload, kid, err := Verify(tt.token, tt.keys, TypeAccessToken)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Verify error = %v, want %v", err, tt.want)
			}
			if payload != nil || kid != "" {
				t.Fatalf("Verify returned payload %q / kid %q with an error", payload, kid)
			}
			if !strings.HasPrefix(err.Error(), "token: ") {
				t.Fatalf("error %q lacks the package prefix", err)
			}
			for _, other := range sentinels {
				if other != tt.want && errors.Is(err, other) {
					t.Fatalf("error %v also matches %v", err, other)
				}
			}
		})
	}
}

// nonCanonical rewrites the last character of an unpadded base64url string
// so that its unused low bits are set: same bytes to a lax decoder, refused
// by a strict one.
func nonCanonical(s string) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	last := strings.IndexByte(alphabet, s[len(s)-1])
	var unused int
	switch len(s) % 4 {
	case 2:
		unused = 0x0f
	case 3:
		unused = 0x03
	default:
		panic("nonCanonical: no unused bits")
	}
	return s[:len(s)-1] + string(alphabet[last|unused])
}

func TestStaticKeySet(t *testing.T) {
	keys := fixedKeys(t)
	set := StaticKeySet{nil, keys[ES256], keys[RS256]}
	if k, ok := set.Key(kidRS256); !ok || k != keys[RS256] {
		t.Fatal("Key(rs256) not found")
	}
	for _, kid := range []string{"", "missing", strings.ToUpper(kidES256)} {
		if _, ok := set.Key(kid); ok {
			t.Fatalf("Key(%q) found", kid)
		}
	}
}

// TestVerifyKeySetMismatch guards against a KeySet that returns a key
// under a different kid than asked for.
func TestVerifyKeySetMismatch(t *testing.T) {
	keys := fixedKeys(t)
	tok, err := Sign(keys[ES256], TypeAccessToken, map[string]any{})
	if err != nil {
		t.Fatal(err)
	}
	other := *keys[ES256]
	other.ID = "renamed"
	if _, _, err := Verify(tok, lyingKeySet{&other}, TypeAccessToken); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("Verify = %v, want ErrUnknownKey", err)
	}
	if _, _, err := Verify(tok, lyingKeySet{nil}, TypeAccessToken); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("Verify with nil key = %v, want ErrUnknownKey", err)
	}
	broken := &Key{ID: kidES256, Algorithm: ES256}
	if _, _, err := Verify(tok, StaticKeySet{broken}, TypeAccessToken); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("Verify with empty key = %v, want ErrUnknownKey", err)
	}
}

type lyingKeySet struct{ k *Key }

func (l lyingKeySet) Key(string) (*Key, bool) { return l.k, true }

// TestVerifyMaxSize accepts a token of exactly MaxTokenSize bytes and
// refuses one byte more.
func TestVerifyMaxSize(t *testing.T) {
	k := fixedKeys(t)[HS256]
	build := func(size int) string {
		for spaces := 0; spaces < 4; spaces++ {
			header := `{"alg":"HS256","kid":"` + k.ID + `","typ":"at+jwt"` + strings.Repeat(" ", spaces) + `}`
			for n := 0; n < size; n++ {
				tok := signRaw(t, k, HS256, header, `{"p":"`+strings.Repeat("x", n)+`"}`)
				if len(tok) == size {
					return tok
				}
				if len(tok) > size {
					break
				}
				n += max(0, (size-len(tok))*3/4-2)
			}
		}
		t.Fatalf("cannot build a token of %d bytes", size)
		return ""
	}
	if _, _, err := Verify(build(MaxTokenSize), StaticKeySet{k}, TypeAccessToken); err != nil {
		t.Fatalf("token of exactly MaxTokenSize refused: %v", err)
	}
	if _, _, err := Verify(build(MaxTokenSize+1), StaticKeySet{k}, TypeAccessToken); !errors.Is(err, ErrMalformed) {
		t.Fatalf("token of MaxTokenSize+1 bytes: %v, want ErrMalformed", err)
	}
}

func selfSignedCert(t *testing.T, priv *ecdsa.PrivateKey) []byte {
	t.Helper()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &priv.PublicKey, priv)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func TestErrorMessages(t *testing.T) {
	for _, err := range append(sentinels, ErrExpired, ErrNotYetValid, ErrIssuer, ErrAudience) {
		if !strings.HasPrefix(err.Error(), "token: ") {
			t.Errorf("%q lacks the package prefix", err)
		}
	}
}
