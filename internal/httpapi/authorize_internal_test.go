package httpapi

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

func TestSetCookie(t *testing.T) {
	for _, tc := range []struct {
		name    string
		tls     bool
		baseURL string
		maxAge  time.Duration
		secure  bool
		wantAge int
	}{
		{"plain HTTP", false, "", time.Hour, false, 3600},
		{"TLS", true, "", time.Hour, true, 3600},
		{"behind a TLS proxy", false, "https://login.example", 0, true, 0},
		{"cleared", true, "", -1, true, -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &Server{baseURL: tc.baseURL}
			r := httptest.NewRequest("GET", "/oauth2/authorize", nil)
			if tc.tls {
				r.TLS = &tls.ConnectionState{}
			}
			w := httptest.NewRecorder()
			s.setCookie(w, r, ssoCookie, "v", tc.maxAge)
			cs := w.Result().Cookies()
			if len(cs) != 1 {
				t.Fatalf("cookies %v", cs)
			}
			c := cs[0]
			if c.Secure != tc.secure || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Domain != "" || c.Path != "/" || c.MaxAge != tc.wantAge {
				t.Fatalf("cookie %+v: want Secure %v, HttpOnly, SameSite=Lax, host-only, Max-Age %d", c, tc.secure, tc.wantAge)
			}
		})
	}
}
