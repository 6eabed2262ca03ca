package token

import (
	"crypto/elliptic"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

var updateSeeds = flag.Bool("update-fuzz-seeds", false, "rewrite testdata/fuzz/FuzzVerify from the fixed test keys")

// FuzzVerify checks that Verify never panics, that every failure wraps one
// sentinel, and that a success returns a JSON object and a known kid.
func FuzzVerify(f *testing.F) {
	keys := fixedKeys(f)
	set := keySetOf(keys)
	for _, alg := range SupportedAlgorithms() {
		tok, err := Sign(keys[alg], TypeAccessToken, map[string]any{"sub": "seed", "exp": 1})
		if err != nil {
			f.Fatal(err)
		}
		f.Add(tok)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		payload, kid, err := Verify(raw, set, TypeAccessToken)
		if err != nil {
			if payload != nil || kid != "" {
				t.Fatalf("payload/kid returned with error %v", err)
			}
			n := 0
			for _, s := range sentinels {
				if errors.Is(err, s) {
					n++
				}
			}
			if n != 1 {
				t.Fatalf("error %v matches %d sentinels, want 1", err, n)
			}
			return
		}
		if _, ok := set.Key(kid); !ok {
			t.Fatalf("verified with unknown kid %q", kid)
		}
		var obj map[string]any
		if err := json.Unmarshal(payload, &obj); err != nil {
			t.Fatalf("verified payload is not a JSON object: %v", err)
		}
	})
}

// FuzzAudience checks that any aud value Audience accepts survives a
// marshal/unmarshal round trip.
func FuzzAudience(f *testing.F) {
	for _, s := range []string{`"a"`, `["a","b"]`, `[]`, `null`, `""`, `[""]`, `1`, `{"a":1}`, `["a",null]`, `"\u00e9"`, `[`, ` "x" `} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		var a Audience
		if err := json.Unmarshal(in, &a); err != nil {
			return
		}
		out, err := json.Marshal(a)
		if err != nil {
			t.Fatalf("Marshal(%q): %v", a, err)
		}
		var b Audience
		if err := json.Unmarshal(out, &b); err != nil {
			t.Fatalf("Unmarshal(Marshal(%q)) = %s: %v", a, out, err)
		}
		if !slices.Equal(a, b) {
			t.Fatalf("round trip %q -> %s -> %q", a, out, b)
		}
		if len(a) == 1 && (len(out) == 0 || out[0] != '"') {
			t.Fatalf("single audience marshaled as %s", out)
		}
	})
}

// TestFuzzVerifySeeds rewrites the FuzzVerify seed corpus when run with
// -update-fuzz-seeds; the seeds themselves run as part of FuzzVerify.
func TestFuzzVerifySeeds(t *testing.T) {
	dir := filepath.Join("testdata", "fuzz", "FuzzVerify")
	if !*updateSeeds {
		entries, err := os.ReadDir(dir)
		if err != nil || len(entries) == 0 {
			t.Fatalf("missing seed corpus in %s (run with -update-fuzz-seeds): %v", dir, err)
		}
		// The valid_* seeds must still verify, so the corpus reaches the
		// success path.
		set := keySetOf(fixedKeys(t))
		for _, e := range entries {
			b, err := os.ReadFile(filepath.Join(dir, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(strings.TrimSpace(string(b)), "\n")
			if len(lines) != 2 || lines[0] != "go test fuzz v1" || !strings.HasPrefix(lines[1], "string(") {
				t.Fatalf("%s: not a go fuzz corpus file", e.Name())
			}
			raw, err := strconv.Unquote(strings.TrimSuffix(strings.TrimPrefix(lines[1], "string("), ")"))
			if err != nil {
				t.Fatalf("%s: %v", e.Name(), err)
			}
			_, _, err = Verify(raw, set, TypeAccessToken)
			if valid := strings.HasPrefix(e.Name(), "valid_"); valid != (err == nil) {
				t.Errorf("%s: Verify = %v", e.Name(), err)
			}
		}
		return
	}
	keys := fixedKeys(t)
	es, rs, hs := keys[ES256], keys[RS256], keys[HS256]
	valid, err := Sign(es, TypeAccessToken, map[string]any{"sub": "seed", "exp": 1})
	if err != nil {
		t.Fatal(err)
	}
	p := strings.Split(valid, ".")
	pub, _ := rs.PublicKeyPEM()
	hmacRSA := func() string {
		input := b64(`{"alg":"HS256","kid":"`+rs.ID+`","typ":"at+jwt"}`) + "." + b64(`{"sub":"admin"}`)
		return input + "." + b64(string(rawSignature(t, []byte(pub), HS256, []byte(input))))
	}
	seeds := map[string]string{
		"valid_es256":      valid,
		"valid_hs256":      must(Sign(hs, TypeAccessToken, map[string]any{"sub": "seed"})),
		"valid_at_jwt":     signRaw(t, es, ES256, `{"alg":"ES256","kid":"`+es.ID+`","typ":"at+jwt"}`, `{"sub":"seed"}`),
		"id_token":         must(Sign(es, TypeJWT, map[string]any{"sub": "seed", "exp": 1})),
		"no_typ":           signRaw(t, es, ES256, `{"alg":"ES256","kid":"`+es.ID+`"}`, `{"sub":"seed"}`),
		"high_s":           p[0] + "." + p[1] + "." + b64(string(highS(t, p[2]))),
		"alg_none":         b64(`{"alg":"none","kid":"`+es.ID+`","typ":"at+jwt"}`) + "." + p[1] + ".",
		"hs256_rsa_pem":    hmacRSA(),
		"rs256_for_es_kid": signRaw(t, rs, RS256, `{"alg":"RS256","kid":"`+es.ID+`","typ":"at+jwt"}`, `{"sub":"x"}`),
		"jku":              signRaw(t, es, ES256, `{"alg":"ES256","kid":"`+es.ID+`","jku":"https://x","typ":"at+jwt"}`, `{}`),
		"crit":             signRaw(t, es, ES256, `{"alg":"ES256","kid":"`+es.ID+`","crit":["b64"],"b64":false,"typ":"at+jwt"}`, `{}`),
		"duplicate_alg":    signRaw(t, es, ES256, `{"alg":"ES256","kid":"`+es.ID+`","alg":"none","typ":"at+jwt"}`, `{}`),
		"no_kid":           signRaw(t, es, ES256, `{"alg":"ES256","typ":"at+jwt"}`, `{}`),
		"payload_array":    signRaw(t, es, ES256, `{"alg":"ES256","kid":"`+es.ID+`","typ":"at+jwt"}`, `[]`),
		"json_serialized":  `{"payload":"` + p[1] + `","protected":"` + p[0] + `","signature":"` + p[2] + `"}`,
		"garbage":          "abc.def.ghi",
		"tampered_sig":     p[0] + "." + p[1] + "." + strings.ToUpper(p[2]),
	}
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

// highS is the twin of sig, an ES256 signature in base64url: s replaced
// by n−s.
func highS(t *testing.T, sig string) []byte {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil || len(b) != 64 {
		t.Fatalf("not an ES256 signature: %q", sig)
	}
	new(big.Int).Sub(elliptic.P256().Params().N, new(big.Int).SetBytes(b[32:])).FillBytes(b[32:])
	return b
}

func must(s string, err error) string {
	if err != nil {
		panic(err)
	}
	return s
}
