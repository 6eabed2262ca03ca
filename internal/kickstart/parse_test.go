package kickstart_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/latchid/latch/api"
	"github.com/latchid/latch/internal/kickstart"
)

// adminKey is long enough for the minimum length of a chosen API key.
const adminKey = "kickstart-admin-key-0123456789abcdefghijklmnop"

// envOf returns a getenv over a fixed environment.
func envOf(vars map[string]string) func(string) (string, bool) {
	return func(name string) (string, bool) {
		v, ok := vars[name]
		return v, ok
	}
}

// parse parses a kickstart file that must be valid.
func parse(t *testing.T, file string, env map[string]string) *kickstart.File {
	t.Helper()
	f, err := kickstart.Parse([]byte(file), envOf(env))
	if err != nil {
		t.Fatalf("Parse: %v\nfile: %s", err, file)
	}
	return f
}

// bodyOf decodes a request body for comparison.
func bodyOf(t *testing.T, raw json.RawMessage) any {
	t.Helper()
	var v any
	d := json.NewDecoder(strings.NewReader(string(raw)))
	d.UseNumber()
	if err := d.Decode(&v); err != nil {
		t.Fatalf("request body %s: %v", raw, err)
	}
	return v
}

// mustUUID fails unless s is a canonical UUID.
func mustUUID(t *testing.T, what, s string) {
	t.Helper()
	if u, err := uuid.Parse(s); err != nil || u.String() != s {
		t.Errorf("%s = %q, want a fresh UUID", what, s)
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		file string
		env  map[string]string
		want []string // substrings of the error
	}{
		{
			name: "invalid JSON",
			file: `{"variables": {`,
			want: []string{"not valid JSON"},
		},
		{
			name: "not an object",
			file: `["requests"]`,
			want: []string{"not valid JSON"},
		},
		{
			name: "requests without apiKeys",
			file: `{"requests": [{"method": "GET", "url": "/api/tenant"}]}`,
			want: []string{"apiKeys"},
		},
		{
			name: "url without leading slash",
			file: `{"apiKeys": [{"key": "` + adminKey + `"}], "requests": [{"method": "GET", "url": "api/tenant"}]}`,
			want: []string{"requests[0]", "url"},
		},
		{
			name: "absolute url",
			file: `{"apiKeys": [{"key": "` + adminKey + `"}], "requests": [{"method": "GET", "url": "http://example.org/api/tenant"}]}`,
			want: []string{"requests[0]", "url"},
		},
		{
			name: "method missing",
			file: `{"apiKeys": [{"key": "` + adminKey + `"}], "requests": [{"url": "/api/tenant"}]}`,
			want: []string{"requests[0]", "method"},
		},
		{
			name: "blank API key",
			file: `{"apiKeys": [{"key": ""}]}`,
			want: []string{"apiKeys[0]"},
		},
		{
			name: "unset ENV in a variable",
			file: `{"variables": {"adminKey": "#{ENV.LATCH_TEST_UNSET}"}}`,
			want: []string{`"adminKey"`, "LATCH_TEST_UNSET", "not set"},
		},
		{
			name: "unset ENV in an API key",
			file: `{"apiKeys": [{"key": "#{ENV.LATCH_TEST_UNSET}"}]}`,
			want: []string{"apiKeys[0]", "LATCH_TEST_UNSET", "not set"},
		},
		{
			name: "unset ENV in a request body",
			file: `{"apiKeys": [{"key": "` + adminKey + `"}], "requests": [
				{"method": "POST", "url": "/api/user", "body": {"user": {"password": "#{ENV.LATCH_TEST_UNSET}"}}}]}`,
			want: []string{"requests[0]", "LATCH_TEST_UNSET", "not set"},
		},
		{
			name: "unknown placeholder in a request",
			file: `{"apiKeys": [{"key": "` + adminKey + `"}], "requests": [{"method": "GET", "url": "/api/application/#{appId}"}]}`,
			want: []string{"requests[0]", "#{appId}"},
		},
		{
			name: "unknown placeholder in a nested body",
			file: `{"variables": {"a": "x"}, "apiKeys": [{"key": "` + adminKey + `"}], "requests": [
				{"method": "GET", "url": "/api/tenant"},
				{"method": "POST", "url": "/api/user", "body": {"user": {"data": {"list": ["#{a}", "#{b}"]}}}}]}`,
			want: []string{"requests[1]", "#{b}"},
		},
		{
			name: "variable referring to another variable",
			file: `{"variables": {"a": "x", "b": "#{a}"}}`,
			want: []string{`"b"`, "#{a}"},
		},
		{
			name: "unknown function",
			file: `{"variables": {"a": "#{NOW()}"}}`,
			want: []string{`"a"`, "#{NOW()}"},
		},
		{
			name: "null variable",
			file: `{"variables": {"a": null}}`,
			want: []string{`"a"`},
		},
		{
			name: "object variable",
			file: `{"variables": {"a": {"b": 1}}}`,
			want: []string{`"a"`},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := kickstart.Parse([]byte(tc.file), envOf(tc.env))
			if err == nil {
				t.Fatalf("Parse succeeded (%+v), want an error", f)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			if !strings.HasPrefix(err.Error(), "kickstart: ") {
				t.Errorf("error %q does not say it is the kickstart's", err)
			}
		})
	}
}

func TestParseVariables(t *testing.T) {
	file := `{
	  "variables": {
	    "defaultTenantId": "d7d09513-a3f5-401c-9685-34ab6c552453",
	    "appId": "#{UUID()}",
	    "adminKey": "#{ENV.LATCH_TEST_ADMIN_KEY}",
	    "issuer": "https://#{ENV.LATCH_TEST_HOST}/auth",
	    "empty": "#{ENV.LATCH_TEST_EMPTY}",
	    "ttl": 300,
	    "refreshMinutes": 2592000,
	    "ratio": 1.5,
	    "verified": true
	  },
	  "apiKeys": [
	    {"key": "#{adminKey}", "description": "admin #{appId}", "tenantId": "#{defaultTenantId}",
	     "permissions": {"endpoints": {"/api/user": ["GET", "POST"]}}}
	  ],
	  "requests": [
	    {"method": "post", "url": "/api/application/#{appId}", "tenantId": "#{defaultTenantId}",
	     "body": {"application": {"name": "Store #{ttl}", "ttl": 300, "flag": false, "none": null,
	       "roles": [{"name": "customer", "isDefault": true}], "big": 9007199254740993,
	       "ids": ["#{appId}", "#{defaultTenantId}"], "issuer": "#{issuer}",
	       "text": "ttl=#{ttl} minutes=#{refreshMinutes} ratio=#{ratio} verified=#{verified} empty=[#{empty}]"}}},
	    {"method": "Patch", "url": "/api/tenant/#{defaultTenantId}"}
	  ]
	}`
	f := parse(t, file, map[string]string{
		"LATCH_TEST_ADMIN_KEY": adminKey,
		"LATCH_TEST_HOST":      "auth.example.org",
		"LATCH_TEST_EMPTY":     "",
	})
	appID, _ := f.Variables["appId"].(string)
	mustUUID(t, "variable appId", appID)
	wantVars := map[string]any{
		"defaultTenantId": "d7d09513-a3f5-401c-9685-34ab6c552453",
		"appId":           appID,
		"adminKey":        adminKey,
		"issuer":          "https://auth.example.org/auth",
		"empty":           "",
		"ttl":             "300",
		"refreshMinutes":  "2592000",
		"ratio":           "1.5",
		"verified":        "true",
	}
	if diff := cmp.Diff(wantVars, f.Variables); diff != "" {
		t.Errorf("Variables (-want +got):\n%s", diff)
	}

	wantKeys := []kickstart.APIKey{{
		Key: adminKey, Description: "admin " + appID, TenantID: "d7d09513-a3f5-401c-9685-34ab6c552453",
		Permissions: api.APIKeyPermissions{Endpoints: map[string][]string{"/api/user": {"GET", "POST"}}},
	}}
	if diff := cmp.Diff(wantKeys, f.APIKeys); diff != "" {
		t.Errorf("APIKeys (-want +got):\n%s", diff)
	}

	if len(f.Requests) != 2 {
		t.Fatalf("got %d requests, want 2", len(f.Requests))
	}
	r := f.Requests[0]
	if r.Method != "POST" || r.URL != "/api/application/"+appID || r.TenantID != "d7d09513-a3f5-401c-9685-34ab6c552453" {
		t.Errorf("request 0 = %s %s (tenant %q), want POST /api/application/%s (tenant d7d09513-...)", r.Method, r.URL, r.TenantID, appID)
	}
	wantBody := map[string]any{"application": map[string]any{
		"name": "Store 300", "ttl": json.Number("300"), "flag": false, "none": nil,
		"roles":  []any{map[string]any{"name": "customer", "isDefault": true}},
		"big":    json.Number("9007199254740993"),
		"ids":    []any{appID, "d7d09513-a3f5-401c-9685-34ab6c552453"},
		"issuer": "https://auth.example.org/auth",
		"text":   "ttl=300 minutes=2592000 ratio=1.5 verified=true empty=[]",
	}}
	if diff := cmp.Diff(wantBody, bodyOf(t, r.Body)); diff != "" {
		t.Errorf("request 0 body (-want +got):\n%s", diff)
	}
	if r := f.Requests[1]; r.Method != "PATCH" || r.URL != "/api/tenant/d7d09513-a3f5-401c-9685-34ab6c552453" || len(r.Body) != 0 {
		t.Errorf("request 1 = %s %s body %q, want PATCH /api/tenant/d7d09513-... without a body", r.Method, r.URL, r.Body)
	}
}

// TestParseUUID: every #{UUID()} occurrence is a fresh id; a variable made
// with UUID() is one id wherever it is used.
func TestParseUUID(t *testing.T) {
	file := `{
	  "variables": {"userId": "#{UUID()}", "otherId": "#{UUID()}"},
	  "apiKeys": [{"key": "` + adminKey + `", "id": "#{UUID()}"}],
	  "requests": [
	    {"method": "POST", "url": "/api/user/#{UUID()}", "body": {"a": "#{UUID()}", "b": "#{UUID()} #{UUID()}", "u": "#{userId}"}},
	    {"method": "POST", "url": "/api/user/#{userId}", "body": {"u": "#{userId}", "o": "#{otherId}"}}
	  ]
	}`
	f := parse(t, file, nil)
	var body0 struct{ A, B, U string }
	if err := json.Unmarshal(f.Requests[0].Body, &body0); err != nil {
		t.Fatal(err)
	}
	b1, b2, _ := strings.Cut(body0.B, " ")
	fresh := []string{
		f.APIKeys[0].ID,
		strings.TrimPrefix(f.Requests[0].URL, "/api/user/"),
		body0.A, b1, b2,
	}
	userID, _ := f.Variables["userId"].(string)
	otherID, _ := f.Variables["otherId"].(string)
	fresh = append(fresh, userID, otherID)
	seen := map[string]bool{}
	for i, id := range fresh {
		mustUUID(t, "id "+string(rune('0'+i)), id)
		if seen[id] {
			t.Errorf("UUID %s made twice; every #{UUID()} must be fresh: %q", id, fresh)
		}
		seen[id] = true
	}
	var body1 struct{ U, O string }
	if err := json.Unmarshal(f.Requests[1].Body, &body1); err != nil {
		t.Fatal(err)
	}
	if body0.U != userID || body1.U != userID || f.Requests[1].URL != "/api/user/"+userID || body1.O != otherID {
		t.Errorf("the variable userId (%s) was not one id everywhere: %q, %q, %q (otherId %s: %q)",
			userID, body0.U, body1.U, f.Requests[1].URL, otherID, body1.O)
	}

	// A second parse of the same file makes new ids.
	g := parse(t, file, nil)
	if g.Variables["userId"] == userID {
		t.Errorf("a second Parse kept the id %s", userID)
	}
}

// TestParseEmpty: a file with nothing to do is valid.
func TestParseEmpty(t *testing.T) {
	for _, file := range []string{`{}`, `{"variables": {}, "apiKeys": [], "requests": []}`, `{"apiKeys": [{"key": "` + adminKey + `"}]}`} {
		f := parse(t, file, nil)
		if len(f.Requests) != 0 {
			t.Errorf("%s: got requests %+v", file, f.Requests)
		}
	}
}
