package httpapi

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/latchid/latch/internal/identity"
)

// metrics are the Prometheus metrics of a Server, in a registry of its
// own, served to API keys at GET /api/prometheus/metrics (FusionAuth's path).
type metrics struct {
	reg       *prometheus.Registry
	requests  *prometheus.CounterVec
	duration  *prometheus.HistogramVec
	logins    *prometheus.CounterVec
	refreshes *prometheus.CounterVec
}

func newMetrics(id *identity.Service) *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "latch_http_requests_total", Help: "HTTP requests by route pattern, method and status code.",
		}, []string{"route", "method", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "latch_http_request_duration_seconds", Help: "HTTP request durations by route pattern.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"route"}),
		logins: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "latch_logins_total", Help: "Login API answers by status (404: unknown user or wrong password; 409: locked out).",
		}, []string{"status"}),
		refreshes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "latch_refreshes_total", Help: "Refresh-token exchanges (JWT refresh API and refresh_token grant) by outcome: rotated, reused (the value did not rotate) or refused.",
		}, []string{"outcome"}),
	}
	checks := prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "latch_password_checks_total", Help: "Passwords checked by logins (attempts refused by a lockout check none).",
	}, func() float64 { return float64(id.PasswordChecks()) })
	m.reg.MustRegister(m.requests, m.duration, m.logins, m.refreshes, checks,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// observe records one request. Every label is bounded whatever the
// client sends, so that no request can add series without end: route is
// the ServeMux pattern (or "unmatched"), the method is one the route
// serves (or "other"), and code a status code Latch wrote.
func (m *metrics) observe(route, method string, code int, d time.Duration) {
	if route == "" {
		route = "unmatched"
	}
	m.requests.WithLabelValues(route, methodLabel(route, method), codeLabel(code)).Inc()
	m.duration.WithLabelValues(route).Observe(d.Seconds())
}

// methodLabel is the method label of a request that route served: the
// method when the route's pattern names it (or HEAD of a GET route),
// else, for a pattern that takes any method, one of HTTP's standard
// methods; anything else is "other".
func methodLabel(route, method string) string {
	if m, _, ok := strings.Cut(route, " "); ok {
		if method == m || (m == http.MethodGet && method == http.MethodHead) {
			return method
		}
		return "other"
	}
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return method
	}
	return "other"
}

// codeLabel is the status label: a handler that wrote nothing answered
// 200, as net/http sends; a code outside 100-599 is "other".
func codeLabel(code int) string {
	switch {
	case code == 0:
		return "200"
	case code < 100 || code > 599:
		return "other"
	}
	return strconv.Itoa(code)
}

// serveMetrics serves GET /api/prometheus/metrics.
func (s *Server) serveMetrics(w http.ResponseWriter, r *http.Request) error {
	promhttp.HandlerFor(s.metrics.reg, promhttp.HandlerOpts{}).ServeHTTP(w, r)
	return nil
}
