package httpapi

import (
	"slices"
	"testing"
)

func TestPatternWildcards(t *testing.T) {
	for _, tc := range []struct {
		pattern string
		want    []string
	}{
		{"GET /api/user/{id}", []string{"id"}},
		{"POST /api/user/registration/{userId}/{applicationId}", []string{"userId", "applicationId"}},
		{"GET /{tenantId}/.well-known/openid-configuration", []string{"tenantId"}},
		{"GET /files/{path...}", []string{"path"}},
		{"GET /{$}", nil},
		{"GET /api/status", nil},
		{"", nil},
	} {
		if got := patternWildcards(tc.pattern); !slices.Equal(got, tc.want) {
			t.Errorf("patternWildcards(%q) = %q, want %q", tc.pattern, got, tc.want)
		}
	}
}

// A JSON body's ids are made canonical in id members at any depth and in
// id lists; values of other members, values that are no UUIDs and the
// free-form members are kept as sent, and a body that is not one JSON
// value is left for the decoder to refuse.
func TestCanonicalJSON(t *testing.T) {
	const (
		upper = "E9FDB985-9173-4E01-9D73-AC2D60D1DC8E"
		lower = "e9fdb985-9173-4e01-9d73-ac2d60d1dc8e"
	)
	for _, tc := range []struct{ name, in, want string }{
		{"id member", `{"applicationId":"` + upper + `"}`, `{"applicationId":"` + lower + `"}`},
		{"nested", `{"users":[{"id":"` + upper + `","registrations":[{"applicationId":"` + upper + `"}]}]}`,
			`{"users":[{"id":"` + lower + `","registrations":[{"applicationId":"` + lower + `"}]}]}`},
		{"id list", `{"webhook":{"tenantIds":["` + upper + `","x"]}}`, `{"webhook":{"tenantIds":["` + lower + `","x"]}}`},
		{"OAuth name", `{"client_id":"` + upper + `"}`, `{"client_id":"` + lower + `"}`},
		{"other member", `{"name":"` + upper + `","applicationId":"` + upper + `"}`, `{"applicationId":"` + lower + `","name":"` + upper + `"}`},
		{"user data", `{"user":{"data":{"externalId":"` + upper + `"},"tenantId":"` + upper + `"}}`,
			`{"user":{"data":{"externalId":"` + upper + `"},"tenantId":"` + lower + `"}}`},
		{"webhook headers", `{"headers":{"X-Request-Id":"` + upper + `"}}`, `{"headers":{"X-Request-Id":"` + upper + `"}}`},
		{"numbers kept", `{"applicationId":"` + upper + `","expiry":12345678901234567890}`, `{"applicationId":"` + lower + `","expiry":12345678901234567890}`},
		{"nothing to change", `{"applicationId": "` + lower + `", "n": 1.50}`, `{"applicationId": "` + lower + `", "n": 1.50}`},
		{"not an id value", `{"applicationId":"Store"}`, `{"applicationId":"Store"}`},
		{"trailing data", `{"applicationId":"` + upper + `"} {}`, `{"applicationId":"` + upper + `"} {}`},
		{"invalid", `{"applicationId":"` + upper + `"`, `{"applicationId":"` + upper + `"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := string(canonicalJSON([]byte(tc.in))); got != tc.want {
				t.Errorf("canonicalJSON(%s)\n = %s\nwant %s", tc.in, got, tc.want)
			}
		})
	}
}
