package guard_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/latchid/latch/api"
	"github.com/latchid/latch/guard"
)

const (
	testIssuer   = "https://latch.example.com"
	testAudience = "3c219e58-ed0e-4b18-ad48-f4f92793ae32"
)

// keys are the static keys of the tests that need no Latch.
type keys struct {
	ec     *ecdsa.PrivateKey
	ec384  *ecdsa.PrivateKey
	rsa    *rsa.PrivateKey
	ed     ed25519.PrivateKey
	secret []byte
}

var testKeys = func() keys {
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ec384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	rk, _ := rsa.GenerateKey(rand.Reader, 2048)
	_, ed, _ := ed25519.GenerateKey(rand.Reader)
	return keys{ec: ec, ec384: ec384, rsa: rk, ed: ed, secret: []byte("0123456789abcdef0123456789abcdef")}
}()

// staticKeys publishes the public test keys under kids named for their
// algorithm.
func staticKeys() guard.StaticKeySet {
	return guard.StaticKeySet{
		{ID: "ec", Algorithm: "ES256", Key: &testKeys.ec.PublicKey},
		{ID: "ec384", Algorithm: "ES384", Key: &testKeys.ec384.PublicKey},
		{ID: "rsa", Algorithm: "RS256", Key: &testKeys.rsa.PublicKey},
		{ID: "ed", Algorithm: "EdDSA", Key: testKeys.ed.Public()},
	}
}

// staticGuard is a Guard over staticKeys with the clock at epoch.
func staticGuard(t testing.TB, change ...func(*guard.Config)) *guard.Guard {
	t.Helper()
	cfg := guard.Config{
		Issuer: testIssuer, Audience: testAudience, LatchURL: testIssuer,
		Keys: guard.KeyOptions{Set: staticKeys()}, Now: func() time.Time { return epoch },
	}
	for _, c := range change {
		c(&cfg)
	}
	g, err := guard.New(cfg)
	if err != nil {
		t.Fatalf("guard.New: %v", err)
	}
	return g
}

// goodClaims are claims every check passes at epoch.
func goodClaims() map[string]any {
	now := epoch.Unix()
	return map[string]any{
		"iss": testIssuer, "aud": testAudience, "sub": "8f3e5b4e-5c0f-4d38-9c5a-0d8a1f0c3a11",
		"iat": now - 10, "exp": now + 60, "jti": "j1", "email": "ana@example.org", "roles": []string{"user"},
	}
}

func with(m map[string]any, kv ...any) map[string]any {
	for i := 0; i < len(kv); i += 2 {
		if kv[i+1] == nil {
			delete(m, kv[i].(string))
		} else {
			m[kv[i].(string)] = kv[i+1]
		}
	}
	return m
}

func hdr(alg, kid string, kv ...any) map[string]any {
	h := map[string]any{"alg": alg, "kid": kid, "typ": "at+jwt"}
	return with(h, kv...)
}

// TestVerify is the table of Verify's checks, go-oidc's TestVerify style.
func TestVerify(t *testing.T) {
	t.Parallel()
	es := es256Key(testKeys.ec)
	now := epoch.Unix()
	for _, tc := range []struct {
		name  string
		token string
		want  error // nil: valid
	}{
		{"ES256", signToken(t, es, hdr("ES256", "ec"), goodClaims()), nil},
		{"ES384", signToken(t, es256Key384(testKeys.ec384), hdr("ES384", "ec384"), goodClaims()), guard.ErrAlgorithm}, // not in the default list
		{"RS256", signToken(t, rs256Key(testKeys.rsa), hdr("RS256", "rsa"), goodClaims()), nil},
		{"EdDSA", signToken(t, edKey(testKeys.ed), hdr("EdDSA", "ed"), goodClaims()), nil},
		{"typ application/at+JWT", signToken(t, es, hdr("ES256", "ec", "typ", "application/at+JWT"), goodClaims()), nil},
		{"aud array", signToken(t, es, hdr("ES256", "ec"), with(goodClaims(), "aud", []string{"other", testAudience})), nil},

		// Only an access token is one: Latch types its ID tokens JWT.
		{"typ JWT, an ID token", signToken(t, es, hdr("ES256", "ec", "typ", "JWT"), goodClaims()), guard.ErrHeader},
		{"typ application/jwt", signToken(t, es, hdr("ES256", "ec", "typ", "application/jwt"), goodClaims()), guard.ErrHeader},
		{"no typ", signToken(t, es, hdr("ES256", "ec", "typ", nil), goodClaims()), guard.ErrHeader},
		{"typ null", signToken(t, es, `{"alg":"ES256","kid":"ec","typ":null}`, goodClaims()), guard.ErrHeader},
		{"typ JOSE", signToken(t, es, hdr("ES256", "ec", "typ", "JOSE"), goodClaims()), guard.ErrHeader},
		{"typ dpop+jwt", signToken(t, es, hdr("ES256", "ec", "typ", "dpop+jwt"), goodClaims()), guard.ErrHeader},
		{"no kid", signToken(t, es, hdr("ES256", "ec", "kid", nil), goodClaims()), guard.ErrHeader},
		{"empty kid", signToken(t, es, hdr("ES256", ""), goodClaims()), guard.ErrHeader},
		{"jku", signToken(t, es, hdr("ES256", "ec", "jku", "https://evil.example/jwks"), goodClaims()), guard.ErrHeader},
		{"x5u", signToken(t, es, hdr("ES256", "ec", "x5u", "https://evil.example/cert"), goodClaims()), guard.ErrHeader},
		{"x5t", signToken(t, es, hdr("ES256", "ec", "x5t", "abc"), goodClaims()), guard.ErrHeader},
		{"x5t#S256", signToken(t, es, hdr("ES256", "ec", "x5t#S256", "abc"), goodClaims()), guard.ErrHeader},
		{"jwk", signToken(t, es, hdr("ES256", "ec", "jwk", map[string]any{"kty": "EC"}), goodClaims()), guard.ErrHeader},
		{"x5c", signToken(t, es, hdr("ES256", "ec", "x5c", []string{"MIIB"}), goodClaims()), guard.ErrHeader},
		{"crit", signToken(t, es, hdr("ES256", "ec", "crit", []string{"exp"}), goodClaims()), guard.ErrHeader},
		{"b64", signToken(t, es, hdr("ES256", "ec", "b64", false), goodClaims()), guard.ErrHeader},
		{"duplicate alg", signToken(t, es, `{"alg":"ES256","alg":"HS256","kid":"ec","typ":"at+jwt"}`, goodClaims()), guard.ErrMalformed},
		{"kid not a string", signToken(t, es, `{"alg":"ES256","kid":7,"typ":"at+jwt"}`, goodClaims()), guard.ErrMalformed},

		{"alg none", encodeSegment(t, hdr("none", "ec")) + "." + encodeSegment(t, goodClaims()) + ".", guard.ErrAlgorithm},
		{"HS256 keyed with the public key", signToken(t, hs256Key(pemOf(t, &testKeys.ec.PublicKey)), hdr("HS256", "ec"), goodClaims()), guard.ErrAlgorithm},
		{"RS256 token naming the EC key", signToken(t, rs256Key(testKeys.rsa), hdr("RS256", "ec"), goodClaims()), guard.ErrAlgorithm},
		{"ES256 token naming the Ed25519 key", signToken(t, es, hdr("ES256", "ed"), goodClaims()), guard.ErrAlgorithm},
		{"unknown kid", signToken(t, es, hdr("ES256", "nope"), goodClaims()), guard.ErrUnknownKey},
		{"signed by another key", signToken(t, es256Key(forgeKey), hdr("ES256", "ec"), goodClaims()), guard.ErrSignature},
		{"tampered signature", tamperSignature(signToken(t, es, hdr("ES256", "ec"), goodClaims())), guard.ErrSignature},
		{"high-S twin", highSTwin(t, signToken(t, es, hdr("ES256", "ec"), goodClaims())), guard.ErrSignature},

		{"other issuer", signToken(t, es, hdr("ES256", "ec"), with(goodClaims(), "iss", "https://evil.example")), guard.ErrIssuer},
		{"other audience", signToken(t, es, hdr("ES256", "ec"), with(goodClaims(), "aud", "another-app")), guard.ErrAudience},
		{"no audience", signToken(t, es, hdr("ES256", "ec"), with(goodClaims(), "aud", nil)), guard.ErrAudience},
		{"no exp", signToken(t, es, hdr("ES256", "ec"), with(goodClaims(), "exp", nil)), guard.ErrMalformed},
		{"no sub", signToken(t, es, hdr("ES256", "ec"), with(goodClaims(), "sub", nil)), guard.ErrMalformed},
		{"exp a string", signToken(t, es, hdr("ES256", "ec"), with(goodClaims(), "exp", "tomorrow")), guard.ErrMalformed},
		{"expired beyond the leeway", signToken(t, es, hdr("ES256", "ec"), with(goodClaims(), "exp", now-30)), guard.ErrExpired},
		{"expired within the leeway", signToken(t, es, hdr("ES256", "ec"), with(goodClaims(), "exp", now-29)), nil},
		{"nbf beyond the leeway", signToken(t, es, hdr("ES256", "ec"), with(goodClaims(), "nbf", now+31)), guard.ErrNotYetValid},
		{"nbf within the leeway", signToken(t, es, hdr("ES256", "ec"), with(goodClaims(), "nbf", now+30)), nil},
		{"iat in the future", signToken(t, es, hdr("ES256", "ec"), with(goodClaims(), "iat", now+31)), guard.ErrNotYetValid},

		{"empty", "", guard.ErrMalformed},
		{"two parts", "eyJhbGciOiJFUzI1NiJ9.e30", guard.ErrMalformed},
		{"four parts", signToken(t, es, hdr("ES256", "ec"), goodClaims()) + ".x", guard.ErrMalformed},
		{"padding", strings.Replace(signToken(t, es, hdr("ES256", "ec"), goodClaims()), ".", "=.", 1), guard.ErrMalformed},
		{"JSON serialization", `{"payload":"e30","signatures":[]}`, guard.ErrMalformed},
		{"header not JSON", encodeSegment(t, "nope") + "." + encodeSegment(t, goodClaims()) + ".c2ln", guard.ErrMalformed},
		{"payload not an object", signToken(t, es, hdr("ES256", "ec"), `[1,2]`), guard.ErrMalformed},
		{"oversize", signToken(t, es, hdr("ES256", "ec"), with(goodClaims(), "pad", strings.Repeat("x", guard.MaxTokenSize))), guard.ErrMalformed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := staticGuard(t)
			claims, err := g.Verify(context.Background(), tc.token)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("Verify = %v, want valid", err)
				}
				if claims.Subject != "8f3e5b4e-5c0f-4d38-9c5a-0d8a1f0c3a11" {
					t.Errorf("claims.Subject = %q", claims.Subject)
				}
				return
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("Verify = %v, want %v", err, tc.want)
			}
			if claims != nil {
				t.Errorf("claims returned with an error")
			}
			checkRefusal(t, err)
		})
	}
}

// checkRefusal fails t unless err is an *guard.Error of exactly one of the
// five kinds, with its Kind that one, and the code of its answer.
func checkRefusal(t *testing.T, err error) {
	t.Helper()
	var e *guard.Error
	if !errors.As(err, &e) {
		t.Fatalf("%v (%T) is no *guard.Error", err, err)
	}
	var kinds []error
	for _, k := range []error{guard.ErrNoToken, guard.ErrInvalidToken, guard.ErrExpired, guard.ErrRevoked, guard.ErrUnavailable} {
		if errors.Is(err, k) {
			kinds = append(kinds, k)
		}
	}
	if len(kinds) != 1 || kinds[0] != e.Kind {
		t.Errorf("%v: kinds %v, Kind %v", err, kinds, e.Kind)
	}
	wantCode := "invalid_token"
	if e.Kind == guard.ErrUnavailable {
		wantCode = "temporarily_unavailable"
	}
	if e.Code != wantCode || e.Description == "" {
		t.Errorf("%v: code %q, description %q", err, e.Code, e.Description)
	}
}

// An Audience configured in upper case, as FusionAuth's example apps
// write application ids, is the application whose id Latch puts in aud
// in lowercase.
func TestVerify_AudienceInUpperCase(t *testing.T) {
	t.Parallel()
	es := es256Key(testKeys.ec)
	g := staticGuard(t, func(c *guard.Config) { c.Audience = strings.ToUpper(testAudience) })
	if _, err := g.Verify(context.Background(), signToken(t, es, hdr("ES256", "ec"), goodClaims())); err != nil {
		t.Fatalf("Verify = %v, want valid", err)
	}
	if _, err := g.Verify(context.Background(), signToken(t, es, hdr("ES256", "ec"), with(goodClaims(), "aud", "another-app"))); !errors.Is(err, guard.ErrAudience) {
		t.Fatalf("Verify of another audience = %v, want ErrAudience", err)
	}
}

// Verify fills every claim Latch sends.
func TestVerify_Claims(t *testing.T) {
	t.Parallel()
	g := staticGuard(t)
	tok := signToken(t, es256Key(testKeys.ec), hdr("ES256", "ec"), with(goodClaims(),
		"authenticationType", "PASSWORD", "email_verified", true, "applicationId", testAudience,
		"sid", "s1", "tid", "t1", "auth_time", epoch.Unix()-10, "roles", []string{"admin", "user"}))
	got, err := g.Verify(context.Background(), tok)
	if err != nil {
		t.Fatal(err)
	}
	want := &api.Claims{
		Issuer: testIssuer, Subject: "8f3e5b4e-5c0f-4d38-9c5a-0d8a1f0c3a11", Audience: api.Audience{testAudience},
		Expiry: epoch.Unix() + 60, IssuedAt: epoch.Unix() - 10, ID: "j1", AuthenticationType: "PASSWORD",
		Email: "ana@example.org", EmailVerified: true, ApplicationID: testAudience, Roles: []string{"admin", "user"},
		SessionID: "s1", TenantID: "t1", AuthTime: epoch.Unix() - 10,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("claims (-want +got):\n%s", diff)
	}
}

// An expired token's error is an *Error of kind ErrExpired, with the
// answer Handler gives, and names its expiry.
func TestVerify_Expired(t *testing.T) {
	t.Parallel()
	exp := epoch.Add(-time.Hour).Unix()
	_, err := staticGuard(t).Verify(context.Background(), signToken(t, es256Key(testKeys.ec), hdr("ES256", "ec"), with(goodClaims(), "exp", exp)))
	var e *guard.Error
	if !errors.As(err, &e) || e.Kind != guard.ErrExpired || e.Code != "invalid_token" || e.Description != "The access token expired." {
		t.Fatalf("Verify = %#v, want an *Error of kind ErrExpired", err)
	}
	if !errors.Is(err, guard.ErrExpired) || errors.Is(err, guard.ErrInvalidToken) {
		t.Errorf("errors.Is(%v, ErrExpired) is false, or it is ErrInvalidToken too", err)
	}
	if want := time.Unix(exp, 0).UTC().Format(time.RFC3339); !strings.Contains(err.Error(), want) {
		t.Errorf("Verify = %v, want the expiry %s in it", err, want)
	}
}

// The high-S twin of a valid ECDSA token, the same token with s replaced
// by n−s, is refused: Latch signs with low S, so each token has one
// string, and no cache or deny-list keyed by the string is sidestepped by
// a second one. The twins are real signatures: plain ECDSA accepts them.
func TestVerify_HighS(t *testing.T) {
	t.Parallel()
	g := staticGuard(t, func(c *guard.Config) { c.Keys.Algorithms = []string{"ES256", "ES384"} })
	for _, tc := range []struct {
		alg, kid string
		sign     signFunc
		pub      *ecdsa.PublicKey
		hash     func([]byte) []byte
	}{
		{"ES256", "ec", es256Key(testKeys.ec), &testKeys.ec.PublicKey, func(b []byte) []byte { h := sha256.Sum256(b); return h[:] }},
		{"ES384", "ec384", es256Key384(testKeys.ec384), &testKeys.ec384.PublicKey, func(b []byte) []byte { h := sha512.Sum384(b); return h[:] }},
	} {
		t.Run(tc.alg, func(t *testing.T) {
			for i := range 16 {
				tok := signToken(t, tc.sign, hdr(tc.alg, tc.kid), with(goodClaims(), "jti", fmt.Sprint(i)))
				if _, err := g.Verify(context.Background(), tok); err != nil {
					t.Fatalf("Verify: %v", err)
				}
				twin := highSTwin(t, tok)
				if _, err := g.Verify(context.Background(), twin); !errors.Is(err, guard.ErrSignature) {
					t.Fatalf("Verify(high-S twin) = %v, want ErrSignature", err)
				}
				dot := strings.LastIndex(twin, ".")
				sig, _ := base64.RawURLEncoding.DecodeString(twin[dot+1:])
				n := len(sig) / 2
				if !ecdsa.Verify(tc.pub, tc.hash([]byte(twin[:dot])), new(big.Int).SetBytes(sig[:n]), new(big.Int).SetBytes(sig[n:])) {
					t.Fatal("the twin is no valid ECDSA signature, so the test proves nothing")
				}
			}
		})
	}
}

// HMAC is accepted only with a static HMAC key and HS256 named in
// Algorithms, and then only for the HMAC key: a token that names an
// asymmetric key with HS256 still fails.
func TestVerify_HMAC(t *testing.T) {
	t.Parallel()
	ks := append(staticKeys(), guard.Key{ID: "hmac", Algorithm: "HS256", Key: testKeys.secret})
	g := staticGuard(t, func(c *guard.Config) {
		c.Keys.Set = ks
		c.Keys.Algorithms = []string{"ES256", "HS256"}
	})
	ctx := context.Background()
	if _, err := g.Verify(ctx, signToken(t, hs256Key(testKeys.secret), hdr("HS256", "hmac"), goodClaims())); err != nil {
		t.Errorf("HS256 with the HMAC key: %v", err)
	}
	confused := signToken(t, hs256Key(pemOf(t, &testKeys.ec.PublicKey)), hdr("HS256", "ec"), goodClaims())
	if _, err := g.Verify(ctx, confused); !errors.Is(err, guard.ErrAlgorithm) {
		t.Errorf("HS256 naming the EC key: %v, want ErrAlgorithm", err)
	}
	if _, err := g.Verify(ctx, signToken(t, es256Key(testKeys.ec), hdr("ES256", "hmac"), goodClaims())); !errors.Is(err, guard.ErrAlgorithm) {
		t.Errorf("ES256 naming the HMAC key: %v, want ErrAlgorithm", err)
	}
	// Without HS256 in Algorithms, the HMAC key is never used.
	g2 := staticGuard(t, func(c *guard.Config) { c.Keys.Set = ks })
	if _, err := g2.Verify(ctx, signToken(t, hs256Key(testKeys.secret), hdr("HS256", "hmac"), goodClaims())); !errors.Is(err, guard.ErrAlgorithm) {
		t.Errorf("HS256 not configured: %v, want ErrAlgorithm", err)
	}
}

// New refuses configurations that would be unsafe or cannot work.
func TestNew_Config(t *testing.T) {
	t.Parallel()
	base := func() guard.Config {
		return guard.Config{Issuer: testIssuer, Audience: testAudience, LatchURL: testIssuer}
	}
	hmacSet := guard.StaticKeySet{{ID: "h", Algorithm: "HS256", Key: testKeys.secret}}
	for _, tc := range []struct {
		name   string
		change func(*guard.Config)
		want   string // "" when valid; else part of the error
	}{
		{"defaults", func(c *guard.Config) {}, ""},
		{"trailing slash", func(c *guard.Config) { c.LatchURL += "/" }, ""},
		{"no issuer", func(c *guard.Config) { c.Issuer = "" }, "Issuer is required"},
		{"no audience", func(c *guard.Config) { c.Audience = "" }, "Audience"},
		{"no Latch URL", func(c *guard.Config) { c.LatchURL = "" }, "LatchURL"},
		{"relative Latch URL", func(c *guard.Config) { c.LatchURL = "latch:9011" }, "LatchURL"},
		{"bad JWKS URL", func(c *guard.Config) { c.Keys.JWKSURL = "/jwks.json" }, "Keys.JWKSURL"},
		{"JWKS URL and key set", func(c *guard.Config) { c.Keys.JWKSURL = testIssuer + "/jwks"; c.Keys.Set = staticKeys() }, "mutually exclusive"},
		{"alg none", func(c *guard.Config) { c.Keys.Algorithms = []string{"none"} }, `"none" is not supported`},
		{"unknown alg", func(c *guard.Config) { c.Keys.Algorithms = []string{"ES256K"} }, "not supported"},
		{"HS256 with remote keys", func(c *guard.Config) { c.Keys.Algorithms = []string{"HS256"} }, "HS256 needs a StaticKeySet"},
		{"HS256 with static asymmetric keys", func(c *guard.Config) { c.Keys.Algorithms = []string{"HS256"}; c.Keys.Set = staticKeys() }, "HS256 needs"},
		{"HS256 with a static HMAC key", func(c *guard.Config) { c.Keys.Algorithms = []string{"HS256"}; c.Keys.Set = hmacSet }, ""},
		{"short HMAC key", func(c *guard.Config) {
			c.Keys.Set = guard.StaticKeySet{{ID: "h", Algorithm: "HS256", Key: []byte("short")}}
		}, "not a usable HS256 key"},
		{"key of the wrong type", func(c *guard.Config) {
			c.Keys.Set = guard.StaticKeySet{{ID: "k", Algorithm: "RS256", Key: &testKeys.ec.PublicKey}}
		}, "not a usable RS256 key"},
		{"key without kid", func(c *guard.Config) {
			c.Keys.Set = guard.StaticKeySet{{Algorithm: "ES256", Key: &testKeys.ec.PublicKey}}
		}, "no kid"},
		{"P-384 key for ES256", func(c *guard.Config) {
			c.Keys.Set = guard.StaticKeySet{{ID: "k", Algorithm: "ES256", Key: &testKeys.ec384.PublicKey}}
		}, "not a usable ES256 key"},
		{"negative leeway", func(c *guard.Config) { c.Leeway = -time.Second }, "Leeway is negative"},
		{"huge leeway", func(c *guard.Config) { c.Leeway = time.Hour }, "exceeds"},
		{"negative floor", func(c *guard.Config) { c.Keys.MinRefetchInterval = -1 }, "Keys.MinRefetchInterval"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := base()
			tc.change(&cfg)
			g, err := guard.New(cfg)
			if tc.want == "" {
				if err != nil || g == nil {
					t.Fatalf("New = %v, want a Guard", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("New = %v, want an error containing %q", err, tc.want)
			}
			if !strings.HasPrefix(err.Error(), "guard: ") {
				t.Errorf("error %q lacks the guard: prefix", err)
			}
		})
	}
}

// FuzzVerify: Verify never panics, and the only token it accepts is the
// one that was signed.
func FuzzVerify(f *testing.F) {
	valid := signToken(f, es256Key(testKeys.ec), hdr("ES256", "ec"), goodClaims())
	f.Add(valid)
	f.Add(tamperSignature(valid))
	f.Add(signToken(f, es256Key(testKeys.ec), hdr("ES256", "ec", "jku", "x"), goodClaims()))
	f.Add(encodeSegment(f, hdr("none", "ec")) + "." + encodeSegment(f, goodClaims()) + ".")
	g := staticGuard(f)
	f.Fuzz(func(t *testing.T, raw string) {
		claims, err := g.Verify(context.Background(), raw)
		if err == nil && raw != valid {
			t.Errorf("accepted a token that was never signed: %q", raw)
		}
		if (err == nil) != (claims != nil) {
			t.Errorf("claims %v with error %v", claims, err)
		}
	})
}

// Once a token of a header has verified, the next tokens with the same
// header skip decoding it, and nothing else: each is still refused for its
// own signature, key, claims or payload.
func TestVerify_KnownHeader(t *testing.T) {
	t.Parallel()
	g := staticGuard(t)
	ctx := context.Background()
	es := es256Key(testKeys.ec)
	good := signToken(t, es, hdr("ES256", "ec"), goodClaims())
	if _, err := g.Verify(ctx, good); err != nil {
		t.Fatalf("first token: %v", err)
	}
	header := strings.Split(good, ".")[0]
	now := epoch.Unix()
	for _, tc := range []struct {
		name  string
		token string
		want  error // nil: valid
	}{
		{"another token", signToken(t, es, hdr("ES256", "ec"), with(goodClaims(), "jti", "j2")), nil},
		{"the same token", good, nil},
		{"tampered signature", tamperSignature(good), guard.ErrSignature},
		{"high-S twin", highSTwin(t, good), guard.ErrSignature},
		{"signed by another key", signToken(t, es256Key(forgeKey), hdr("ES256", "ec"), goodClaims()), guard.ErrSignature},
		{"expired", signToken(t, es, hdr("ES256", "ec"), with(goodClaims(), "exp", now-3600)), guard.ErrExpired},
		{"another audience", signToken(t, es, hdr("ES256", "ec"), with(goodClaims(), "aud", "other")), guard.ErrAudience},
		{"payload not base64url", header + ".e30*." + strings.Split(good, ".")[2], guard.ErrMalformed},
		{"claims not an object", signToken(t, es, hdr("ES256", "ec"), `[1]`), guard.ErrMalformed},
		{"empty signature", header + "." + strings.Split(good, ".")[1] + ".", guard.ErrSignature},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if !strings.HasPrefix(tc.token, header+".") {
				t.Fatalf("the case's header is not the known one")
			}
			_, err := g.Verify(ctx, tc.token)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				return
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("Verify = %v, want %v", err, tc.want)
			}
		})
	}
}
