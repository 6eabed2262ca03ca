package httpapi

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/latchid/latch/api"
)

// requestBodies are the JSON bodies the API decodes; every fuzz input is
// decoded into each of them.
func requestBodies() []any {
	return []any{
		&api.LoginRequest{}, &api.RefreshRequest{}, &api.LogoutRequest{}, &api.RefreshTokenRevokeRequest{},
		&api.UserRequest{}, &api.UserDeleteRequest{}, &api.RegistrationRequest{}, &api.ImportRequest{},
		&api.ApplicationRequest{}, &api.TenantRequest{}, &api.KeyRequest{}, &api.APIKeyRequest{},
	}
}

// FuzzRequestBody: any body either decodes or is refused with
// FusionAuth's [invalidJSON] error; nothing panics, and a body that
// decodes also survives a round trip through the merge patch.
func FuzzRequestBody(f *testing.F) {
	for _, seed := range []string{
		`{"loginId":"ana@example.org","password":"pw","applicationId":"6b1f0e3a-2c4d-4e8f-9a1b-3c5d7e9f1a2b"}`,
		`{"user":{"email":"a@b.c","password":"12345678","data":{"k":[1,2,{"x":null}]}}}`,
		`{"registration":{"applicationId":"x","roles":["a"]},"user":{"active":false}}`,
		`{"application":{"name":"n","jwtConfiguration":{"enabled":true,"timeToLiveInSeconds":"9"}}}`,
		`{"tenant":{"name":"t"}} {"x":1}`, `null`, `[]`, `"s"`, `{"users":[{"factor":1e400}]}`,
		"{\"loginId\":\"\xff\"}", `{"loginId":"\u0000"}`, `{`, ``,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, dst := range requestBodies() {
			err := unmarshalJSON(body, dst)
			var ae *api.Errors
			if err != nil && !errors.As(err, &ae) {
				t.Fatalf("decode %T: error %v is not an *api.Errors", dst, err)
			}
			if err != nil && ae.GeneralErrors[0].Code != "[invalidJSON]" {
				t.Fatalf("decode %T: code %q", dst, ae.GeneralErrors[0].Code)
			}
		}
		var patch any
		if json.Unmarshal(body, &patch) == nil {
			doc := map[string]any{"user": map[string]any{"email": "a@b.c", "data": map[string]any{"k": 1}}}
			merged := mergePatch(doc, patch)
			if _, err := json.Marshal(merged); err != nil {
				t.Fatalf("merge patch result does not marshal: %v", err)
			}
		}
	})
}

// FuzzCredentialHeaders: the Authorization header parsers never panic,
// and an API key is never mistaken for a bearer token or the reverse.
func FuzzCredentialHeaders(f *testing.F) {
	for _, seed := range []string{"Bearer abc.def.ghi", "bearer x", "JWT x", "Basic Zm9vOmJhcg==", "DPoP x", "raw-api-key", "", " ", "Basic %zz:%zz", "Basic Og=="} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, h string) {
		r := httptest.NewRequest(http.MethodPost, "/oauth2/token", strings.NewReader(""))
		r.Header.Set("Authorization", h)
		key, tok := apiKeyHeader(r), bearer(r)
		if key != "" && tok != "" {
			t.Fatalf("%q read as both an API key (%q) and a bearer token (%q)", h, key, tok)
		}
		if d, ok := dpopToken(r); ok && (key != "" || tok != "") {
			t.Fatalf("%q read as a DPoP token (%q) and as an API key (%q) or bearer token (%q)", h, d, key, tok)
		}
		// What a client wrote may end up in an error_description and a
		// WWW-Authenticate quoted string: printable ASCII, no quote or
		// backslash.
		for _, c := range []byte(describe(h)) {
			if c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
				t.Fatalf("describe(%q) holds %q", h, c)
			}
		}
		if validJKT(h) && len(h) != 43 {
			t.Fatalf("validJKT(%q) of length %d", h, len(h))
		}
		_ = r.ParseForm()
		_, _, _, _ = clientCredentials(r)
	})
}
