package main

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/latchid/latch/client"
)

// newApp checks the configuration with the SDK before it creates the
// state directory.
func TestNewApp_Config(t *testing.T) {
	tests := []struct {
		name     string
		backend  string
		insecure bool
		wantErr  string // a part of the error; "" for none
		is       error
	}{
		{"Loopback", "http://127.0.0.1:8080", false, "", nil},
		{"HTTPS", "https://shop.example.com/", false, "", nil},
		{"InsecureAllowed", "http://shop.example.com", true, "", nil},
		{"Insecure", "http://shop.example.com", false, "--insecure-http", nil},
		{"NoBackend", "", false, "BaseURL: not set", client.ErrNotSet},
		{"NoScheme", "shop.example.com", false, "no scheme", nil},
		{"FTP", "ftp://shop.example.com", false, "scheme must be https or http", nil},
		{"Query", "https://shop.example.com/?x=1", false, "query", nil},
		{"Unparsable", "http://[::1", false, "missing ']'", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			state := filepath.Join(t.TempDir(), "state")
			a, err := newApp(config{Backend: tt.backend, StateDir: state, InsecureHTTP: tt.insecure})
			_, statErr := os.Stat(state)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("newApp: %v", err)
				}
				if statErr != nil {
					t.Errorf("state directory: %v", statErr)
				}
				if s, err := a.Session(context.Background(), false); err != nil || s.LoggedIn {
					t.Errorf("Session = %+v, %v; want logged out", s, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("newApp: err = %v, want one that says %q", err, tt.wantErr)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("newApp: err = %v, want errors.Is %v", err, tt.is)
			}
			if statErr == nil {
				t.Errorf("a refused configuration created the state directory")
			}
		})
	}
}

// The backend's error answers, decoded by client.CheckResponse, reach the
// user as the backend's message, and a 401 as the end of the session.
func TestApp_Errors(t *testing.T) {
	tests := []struct {
		name          string
		status        int
		contentType   string
		body          string
		wantStatus    int  // of the *client.APIError; 0 for none
		loginRequired bool // a *sessionEndedError
		describe      string
	}{
		{"OK", 200, "application/json", `{"products":[]}`, 0, false, ""},
		{"NotFound", 404, "application/json", `{"error":"not_found","message":"No product NOPE."}`, 404, false, "No product NOPE."},
		{"Guard401", 401, "application/json", `{"error":"invalid_token","error_description":"log in again"}`, 0, true, "the backend ended the session: log in again"},
		{"Bare401", 401, "", ``, 0, true, "the backend ended the session"},
		{"PlainText", 503, "text/plain; charset=utf-8", "down for maintenance\n", 503, false, "down for maintenance"},
		{"HTML", 502, "text/html", `<html>Bad Gateway</html>`, 502, false, "client: backend answered 502 Bad Gateway"},
		{"ErrorObject", 500, "application/json", `{"error":{"id":7},"message":"The server broke."}`, 500, false, "The server broke."},
		{"CodeOnly", 400, "application/json", `{"error":"invalid_request"}`, 400, false, "invalid_request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tt.status == http.StatusUnauthorized {
					w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
				}
				if tt.contentType != "" {
					w.Header().Set("Content-Type", tt.contentType)
				}
				w.WriteHeader(tt.status)
				io.WriteString(w, tt.body)
			}))
			defer srv.Close()
			a, err := newApp(config{Backend: srv.URL, StateDir: t.TempDir()})
			if err != nil {
				t.Fatal(err)
			}
			_, err = a.Products(context.Background())
			if tt.describe == "" {
				if err != nil {
					t.Fatalf("Products: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Products succeeded, want %q", tt.describe)
			}
			gotStatus := 0
			if apiErr := (*client.APIError)(nil); errors.As(err, &apiErr) {
				gotStatus = apiErr.Status
			}
			if gotStatus != tt.wantStatus {
				t.Errorf("err = %v: *client.APIError with status %d, want %d (0: none)", err, gotStatus, tt.wantStatus)
			}
			var se *sessionEndedError
			if errors.As(err, &se) != tt.loginRequired || isLoginRequired(err) != tt.loginRequired {
				t.Errorf("err = %v: login required %v, want %v", err, isLoginRequired(err), tt.loginRequired)
			}
			if got := describeError(err); got != tt.describe {
				t.Errorf("describeError = %q, want %q", got, tt.describe)
			}
		})
	}
}

func TestApp_LoginErrors(t *testing.T) {
	tests := []struct {
		name        string
		status      int
		body        string
		is          error // errBadCredentials, or nil for a *client.APIError
		wantMessage string
	}{
		{"BadCredentials", 401, `{"error":"invalid_credentials","message":"Wrong login id or password."}`, errBadCredentials, ""},
		{"Prevented", 409, `{"error":"login_prevented","message":"Too many failed logins."}`, nil, "Too many failed logins."},
		{"LockedNoMessage", 423, ``, nil, "the account is locked"},
		{"Unavailable", 503, `{"error":"temporarily_unavailable","message":"Try again later."}`, nil, "Try again later."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(tt.status)
				io.WriteString(w, tt.body)
			}))
			defer srv.Close()
			a, err := newApp(config{Backend: srv.URL, StateDir: t.TempDir()})
			if err != nil {
				t.Fatal(err)
			}
			_, err = a.Login(context.Background(), testLogin, testPassword)
			if tt.is != nil {
				if !errors.Is(err, tt.is) {
					t.Errorf("Login: %v, want %v", err, tt.is)
				}
				return
			}
			var apiErr *client.APIError
			if !errors.As(err, &apiErr) || apiErr.Status != tt.status || apiErr.Message != tt.wantMessage {
				t.Errorf("Login: %v, want a %d *client.APIError saying %q", err, tt.status, tt.wantMessage)
			}
		})
	}
}
