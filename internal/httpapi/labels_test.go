package httpapi

import "testing"

func TestMetricLabels(t *testing.T) {
	t.Parallel()
	methods := []struct{ route, method, want string }{
		{"GET /api/status", "GET", "GET"},
		{"GET /api/status", "HEAD", "HEAD"},
		{"POST /api/login", "POST", "POST"},
		{"POST /api/login", "GET", "other"},
		{"/", "DELETE", "DELETE"},
		{"/", "OPTIONS", "OPTIONS"},
		{"/", "BREW", "other"},
		{"/", "get", "other"},
		{"unmatched", "PROPFIND", "other"},
		{"unmatched", "PATCH", "PATCH"},
	}
	for _, tt := range methods {
		if got := methodLabel(tt.route, tt.method); got != tt.want {
			t.Errorf("methodLabel(%q, %q) = %q, want %q", tt.route, tt.method, got, tt.want)
		}
	}
	codes := []struct {
		code int
		want string
	}{{0, "200"}, {200, "200"}, {404, "404"}, {599, "599"}, {99, "other"}, {600, "other"}, {999, "other"}}
	for _, tt := range codes {
		if got := codeLabel(tt.code); got != tt.want {
			t.Errorf("codeLabel(%d) = %q, want %q", tt.code, got, tt.want)
		}
	}
}
