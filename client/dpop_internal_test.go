package client

import (
	"encoding/base64"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseChallenges(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   []string
		want []challenge
	}{
		{[]string{`DPoP error="use_dpop_nonce"`}, []challenge{{"DPoP", map[string]string{"error": "use_dpop_nonce"}}}},
		{[]string{`dpop algs="ES256 EdDSA", error="use_dpop_nonce", error_description="Resource server requires nonce in DPoP proof"`},
			[]challenge{{"dpop", map[string]string{"algs": "ES256 EdDSA", "error": "use_dpop_nonce", "error_description": "Resource server requires nonce in DPoP proof"}}}},
		{[]string{`Bearer realm="shop", error="invalid_token", DPoP ERROR=use_dpop_nonce`},
			[]challenge{{"Bearer", map[string]string{"realm": "shop", "error": "invalid_token"}}, {"DPoP", map[string]string{"error": "use_dpop_nonce"}}}},
		{[]string{`Basic abc/def==`, `DPoP error = "a\"b"`},
			[]challenge{{"Basic", map[string]string{}}, {"DPoP", map[string]string{"error": `a"b`}}}},
		{[]string{`Newauth realm="apps", type=1, title="Login to \"apps\"", Basic realm="simple"`},
			[]challenge{{"Newauth", map[string]string{"realm": "apps", "type": "1", "title": `Login to "apps"`}}, {"Basic", map[string]string{"realm": "simple"}}}},
		{[]string{`DPoP error="use_dpop_nonce", error="x"`}, []challenge{{"DPoP", map[string]string{"error": "use_dpop_nonce"}}}},
		{[]string{`DPoP error="unterminated`}, []challenge{{"DPoP", map[string]string{}}}},
		{[]string{``, ` , `}, nil},
	}
	for _, tt := range tests {
		got := parseChallenges(tt.in)
		if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(challenge{})); diff != "" {
			t.Errorf("parseChallenges(%q) (-want +got):\n%s", tt.in, diff)
		}
	}
}

func TestUseNonce(t *testing.T) {
	t.Parallel()
	resp := func(status int, nonce, challenge, body string) *http.Response {
		h := http.Header{}
		if nonce != "" {
			h.Set("DPoP-Nonce", nonce)
		}
		if challenge != "" {
			h.Set("WWW-Authenticate", challenge)
		}
		return &http.Response{StatusCode: status, Header: h, Body: io.NopCloser(strings.NewReader(body))}
	}
	tests := []struct {
		name string
		resp *http.Response
		want bool
	}{
		{"401", resp(401, "n-1", `DPoP error="use_dpop_nonce"`, ""), true},
		{"400", resp(400, "n-1", "", `{"error":"use_dpop_nonce","error_description":"x"}`), true},
		{"401NoNonce", resp(401, "", `DPoP error="use_dpop_nonce"`, ""), false},
		{"401BadNonce", resp(401, `a"b`, `DPoP error="use_dpop_nonce"`, ""), false},
		{"401OtherError", resp(401, "n-1", `DPoP error="invalid_token"`, ""), false},
		{"401Bearer", resp(401, "n-1", `Bearer error="use_dpop_nonce"`, ""), false},
		{"400OtherError", resp(400, "n-1", "", `{"error":"invalid_dpop_proof"}`), false},
		{"400NotJSON", resp(400, "n-1", "", `use_dpop_nonce`), false},
		{"200", resp(200, "n-1", "", `{"error":"use_dpop_nonce"}`), false},
	}
	for _, tt := range tests {
		nonce, ok := useNonce(tt.resp)
		if ok != tt.want || (ok && nonce != "n-1") {
			t.Errorf("%s: useNonce = %q, %v; want n-1, %v", tt.name, nonce, ok, tt.want)
		}
	}
	// A 400's body is read and put back.
	body := `{"error":"use_dpop_nonce"}` + strings.Repeat(" ", 2*maxErrorBody)
	r := resp(400, "n-1", "", body)
	useNonce(r)
	got, _ := io.ReadAll(r.Body)
	if string(got) != body {
		t.Errorf("the 400's body changed: %d bytes, want %d", len(got), len(body))
	}
}

func TestValidNonce(t *testing.T) {
	t.Parallel()
	for _, n := range []string{"a", "eyJ7S_zG.eyJH0-Z.HX4w-7v", "!#[]~", strings.Repeat("n", maxNonce)} {
		if !validNonce(n) {
			t.Errorf("validNonce(%q) = false", n)
		}
	}
	for _, n := range []string{"", "a b", `a"b`, `a\b`, "a\x7f", "é", strings.Repeat("n", maxNonce+1)} {
		if validNonce(n) {
			t.Errorf("validNonce(%q) = true", n)
		}
	}
}

func TestJWTJKT(t *testing.T) {
	t.Parallel()
	enc := func(payload string) string {
		return "eyJhbGciOiJFUzI1NiJ9." + base64.RawURLEncoding.EncodeToString([]byte(payload)) + ".c2ln"
	}
	tests := []struct{ token, want string }{
		{enc(`{"cnf":{"jkt":"0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"}}`), "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"},
		{enc(`{"cnf":{"x5t#S256":"abc"}}`), ""},
		{enc(`{"cnf":"abc"}`), ""},
		{enc(`{"sub":"x"}`), ""},
		{"not-a-jwt", ""},
	}
	for _, tt := range tests {
		if got := jwtJKT(tt.token); got != tt.want {
			t.Errorf("jwtJKT(%q) = %q, want %q", tt.token, got, tt.want)
		}
	}
}
