package httpapi_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

func TestMetrics(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	appID, email := e.policyApp(t, map[string]any{"refreshTokenUsagePolicy": "OneTimeUse"})
	login := e.mustLogin(t, email, appID)
	e.mustRefresh(t, login.RefreshToken)

	get := func(auth string) (int, string) {
		t.Helper()
		req, err := http.NewRequest("GET", e.url+"/api/prometheus/metrics", nil)
		if err != nil {
			t.Fatal(err)
		}
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, _ := get(""); code != http.StatusUnauthorized {
		t.Errorf("metrics without an API key: %d, want 401", code)
	}
	code, body := get(e.key)
	if code != http.StatusOK {
		t.Fatalf("metrics: %d", code)
	}
	for _, want := range []string{
		`latch_http_requests_total{code="200",method="POST",route="POST /api/login"} 1`,
		`latch_logins_total{status="200"} 1`,
		`latch_refreshes_total{outcome="rotated"} 1`,
		`latch_http_request_duration_seconds_bucket{route="POST /api/jwt/refresh"`,
		"go_goroutines",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}
