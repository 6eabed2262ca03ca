package httpapi_test

import (
	"strings"
	"testing"
)

// A refused API key gets FusionAuth's answer, 401 with an empty body, and
// one log line that says why; the key itself is never logged.
func TestAPIKey_RefusalLogged(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	other := e.mustCreateTenant(t, "Other")
	locked := e.mustCreateAPIKey(t, map[string]any{"tenantId": other})
	limited := e.mustCreateAPIKey(t, map[string]any{"permissions": map[string]any{"endpoints": map[string]any{
		"/api/user": []string{"GET"},
	}}})
	const unknown = "an-api-key-that-latch-never-made-0123456789"
	login := withJSON(map[string]any{"loginId": "nobody@example.org", "password": testPassword, "applicationId": e.appID})

	for _, tc := range []struct {
		name       string
		method     string
		path       string
		opts       []reqOpt
		wantReason string
		secret     string // must not be logged
	}{
		{"no key", "GET", "/api/tenant", nil, "reason=\"no API key\"", ""},
		{"a bearer token instead of a key", "GET", "/api/tenant", []reqOpt{withBearer(unknown)},
			"no API key (the Authorization header holds a Bearer credential", unknown},
		{"unknown key", "GET", "/api/tenant", []reqOpt{withKey(unknown)}, "reason=\"unknown API key\"", unknown},
		{"key not permitted for the endpoint", "POST", "/api/user", []reqOpt{withKey(limited.Key), withJSON(map[string]any{})},
			"the API key is not permitted to POST /api/user", limited.Key},
		{"key not permitted for the method", "DELETE", "/api/user/" + e.tenantID, []reqOpt{withKey(limited.Key)},
			"the API key is not permitted to DELETE /api/user", limited.Key},
		{"key locked to another tenant than the header names", "GET", "/api/tenant/" + other,
			[]reqOpt{withKey(locked.Key), withTenant(e.tenantID)},
			"the API key " + locked.ID + " is locked to tenant " + other + ", and X-FusionAuth-TenantId names another", locked.Key},
		{"key locked to a tenant on a server-wide API", "GET", "/api/prometheus/metrics", []reqOpt{withKey(locked.Key)},
			"the API key " + locked.ID + " is locked to tenant " + other + ", and this API takes only a key of every tenant", locked.Key},
		{"login without the key the application requires", "POST", "/api/login", []reqOpt{login},
			"no API key: the application requires one to log in", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := len(e.logs.String())
			e.do(t, tc.method, tc.path, tc.opts...).wantEmpty(t, 401)
			// The refusal is logged before the answer is written.
			logged := e.logs.String()[before:]
			var line string
			for _, l := range strings.Split(logged, "\n") {
				if strings.Contains(l, `msg="API key refused"`) {
					if line != "" {
						t.Errorf("two refusal lines:\n%s", logged)
					}
					line = l
				}
			}
			if line == "" {
				t.Fatalf("no refusal logged:\n%s", logged)
			}
			if !strings.Contains(line, tc.wantReason) || !strings.Contains(line, "path="+strings.SplitN(tc.path, "?", 2)[0]) {
				t.Errorf("refusal line %q, want the path and %q", line, tc.wantReason)
			}
			if tc.secret != "" && strings.Contains(logged, tc.secret) {
				t.Errorf("the log holds the key:\n%s", logged)
			}
		})
	}

	// A key that is accepted logs no refusal.
	before := len(e.logs.String())
	e.do(t, "GET", "/api/tenant", withKey(e.key)).wantJSON(t, 200, nil)
	if logged := e.logs.String()[before:]; strings.Contains(logged, "API key refused") {
		t.Errorf("an accepted key logged a refusal:\n%s", logged)
	}
}
