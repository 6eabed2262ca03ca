package httpapi_test

import (
	"fmt"
	"io"
	"net/http"
	"slices"
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

// Made-up methods and paths add no series: every label of the request
// counter is bounded.
func TestMetrics_BoundedLabels(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	series := func() []string {
		t.Helper()
		req, err := http.NewRequest("GET", e.url+"/api/prometheus/metrics", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", e.key)
		resp, err := e.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("metrics: %d %v", resp.StatusCode, err)
		}
		var out []string
		for _, line := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(line, "latch_http_requests_total{") {
				out = append(out, line[:strings.LastIndexByte(line, ' ')])
			}
		}
		return out
	}
	send := func(method, path string) {
		t.Helper()
		req, err := http.NewRequest(method, e.url+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := e.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	// One of each kind first, so that the flood below meets its series.
	send("BREW", "/api/status")
	send("GET", "/no/such/path")
	send("DELETE", "/api/login")
	before := series()

	for i := range 100 {
		send(fmt.Sprintf("M%d", i), "/api/status")                       // a route, a made-up method
		send(fmt.Sprintf("X%d", i), fmt.Sprintf("/made/up/%d", i))       // no route, a made-up method
		send("GET", fmt.Sprintf("/api/user/%d/x/%d", i, i))              // no route
		send(fmt.Sprintf("PURGE%d", i), fmt.Sprintf("/api/login/%d", i)) // near a route
	}
	after := series()
	// The metrics request itself may add its own series once.
	if len(after) > len(before)+1 {
		t.Errorf("%d series of latch_http_requests_total after 400 made-up requests, %d before:\n%s",
			len(after), len(before), strings.Join(after, "\n"))
	}
	for _, s := range after {
		if strings.Contains(s, `method="M`) || strings.Contains(s, `method="X`) || strings.Contains(s, `method="PURGE`) ||
			strings.Contains(s, "/made/up") || strings.Contains(s, `method="BREW"`) {
			t.Errorf("a client's method or path became a label: %s", s)
		}
	}
	if !slices.Contains(after, `latch_http_requests_total{code="405",method="other",route="unmatched"}`) &&
		!slices.Contains(after, `latch_http_requests_total{code="404",method="other",route="/"}`) {
		t.Errorf("no series for the made-up methods:\n%s", strings.Join(after, "\n"))
	}
}
