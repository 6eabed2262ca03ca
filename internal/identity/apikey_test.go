package identity

import (
	"errors"
	"strings"
	"testing"

	"github.com/latchid/latch/api"
)

// TestPermits: no permissions allow everything; otherwise the endpoint,
// as the route names it (a trailing slash aside), must be listed with the
// method.
func TestPermits(t *testing.T) {
	t.Parallel()
	user := map[string][]string{"/api/user": {"GET", "POST"}, "/api/application/": {"GET"}}
	for _, tc := range []struct {
		endpoints        map[string][]string
		method, endpoint string
		want             bool
	}{
		{nil, "DELETE", "/api/tenant", true},
		{map[string][]string{}, "DELETE", "/api/tenant", true},
		{user, "GET", "/api/user", true},
		{user, "POST", "/api/user/", true},
		{user, "DELETE", "/api/user", false},
		{user, "GET", "/api/user/registration", false},
		{user, "GET", "/api/application", true},
		{user, "GET", "/api/tenant", false},
		{user, "get", "/api/user", false},
	} {
		if got := Permits(tc.endpoints, tc.method, tc.endpoint); got != tc.want {
			t.Errorf("Permits(%v, %s, %s) = %v, want %v", tc.endpoints, tc.method, tc.endpoint, got, tc.want)
		}
	}
}

// TestAPIKey_Rules: a key's fields are checked with FusionAuth's codes;
// its secret is shown when it is made and never again, and only its hash
// is stored; it authenticates for what its permissions allow, locked to
// its tenant when it names one; a deleted key authenticates nothing.
func TestAPIKey_Rules(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	other := e.mustTenant(t, "Other", nil)
	for _, tc := range []struct {
		name  string
		id    string
		in    api.APIKey
		codes []string
	}{
		{"id not a UUID", "key", api.APIKey{}, []string{"[couldNotConvert]apiKeyId"}},
		{"tenant not a UUID", "", api.APIKey{TenantID: "other"}, []string{"[couldNotConvert]apiKey.tenantId"}},
		{"unknown tenant", "", api.APIKey{TenantID: nilID}, []string{"[invalid]apiKey.tenantId"}},
		{"short key", "", api.APIKey{Key: strings.Repeat("k", minAPIKeyLength-1)}, []string{"[tooShort]apiKey.key"}},
		{"endpoint not a path", "", api.APIKey{Permissions: api.APIKeyPermissions{Endpoints: map[string][]string{"api/user": {"GET"}}}},
			[]string{"[invalid]apiKey.permissions.endpoints"}},
		{"not a method", "", api.APIKey{Permissions: api.APIKeyPermissions{Endpoints: map[string][]string{"/api/user": {"FETCH"}}}},
			[]string{"[invalid]apiKey.permissions.endpoints"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.CreateAPIKey(e.ctx, tc.id, tc.in)
			wantCodes(t, "create", err, tc.codes...)
		})
	}

	chosen := strings.Repeat("c", minAPIKeyLength)
	locked, err := e.CreateAPIKey(e.ctx, "", api.APIKey{Key: chosen, TenantID: strings.ToUpper(other.ID),
		Permissions: api.APIKeyPermissions{Endpoints: map[string][]string{"/api/user": {"GET"}}}})
	if err != nil {
		t.Fatal(err)
	}
	if locked.Key != chosen || locked.TenantID != other.ID {
		t.Errorf("created %+v: want the chosen key, locked to %s (canonical)", locked, other.ID)
	}
	_, err = e.CreateAPIKey(e.ctx, "", api.APIKey{Key: chosen})
	wantCodes(t, "the same secret again", err, "[duplicate]apiKey")
	_, err = e.CreateAPIKey(e.ctx, locked.ID, api.APIKey{})
	wantCodes(t, "the same id again", err, "[duplicate]apiKey")
	open, err := e.CreateAPIKey(e.ctx, "", api.APIKey{})
	if err != nil || len(open.Key) < minAPIKeyLength {
		t.Fatalf("a made key: %+v, %v", open, err)
	}

	if got, err := e.GetAPIKey(e.ctx, locked.ID); err != nil || got.Key != "" || got.TenantID != other.ID {
		t.Errorf("get: %+v, %v; want no secret", got, err)
	}
	all, err := e.ListAPIKeys(e.ctx)
	if err != nil || len(all) != 3 { // with Bootstrap's
		t.Errorf("list: %d keys, %v; want 3", len(all), err)
	}
	for _, k := range all {
		if k.Key != "" {
			t.Errorf("list shows the secret of %s", k.ID)
		}
	}
	rec, err := e.store.GetAPIKey(e.ctx, locked.ID)
	if err != nil || len(rec.Hash) == 0 || strings.Contains(string(rec.Hash), chosen) {
		t.Errorf("stored %+v, %v: want a hash only", rec, err)
	}

	for _, tc := range []struct {
		name, raw, method, endpoint string
		want                        string // the key's id, "" for ErrUnauthorized
	}{
		{"no key", "", "GET", "/api/user", ""},
		{"unknown key", strings.Repeat("u", 43), "GET", "/api/user", ""},
		{"permitted", chosen, "GET", "/api/user", locked.ID},
		{"method not permitted", chosen, "DELETE", "/api/user", ""},
		{"endpoint not permitted", chosen, "GET", "/api/tenant", ""},
		{"no permissions", open.Key, "DELETE", "/api/tenant", open.ID},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k, err := e.AuthenticateAPIKey(e.ctx, tc.raw, tc.method, tc.endpoint)
			switch {
			case tc.want == "" && !errors.Is(err, ErrUnauthorized):
				t.Errorf("%v, %v; want ErrUnauthorized", k.ID, err)
			case tc.want != "" && (err != nil || k.ID != tc.want):
				t.Errorf("%v, %v; want %s", k.ID, err, tc.want)
			case tc.want == locked.ID && k.TenantID != other.ID:
				t.Errorf("tenant %q, want %s", k.TenantID, other.ID)
			}
		})
	}

	if err := e.DeleteAPIKey(e.ctx, locked.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.AuthenticateAPIKey(e.ctx, chosen, "GET", "/api/user"); !errors.Is(err, ErrUnauthorized) {
		t.Errorf("a deleted key: %v, want ErrUnauthorized", err)
	}
	wantNotFound(t, "delete again", e.DeleteAPIKey(e.ctx, locked.ID))
	_, err = e.GetAPIKey(e.ctx, "key")
	wantNotFound(t, "get a malformed id", err)
}
