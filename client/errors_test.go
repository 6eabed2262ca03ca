package client_test

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/latchid/latch/api"
	"github.com/latchid/latch/client"
)

func TestAPIError_Error(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err  *client.APIError
		want string
	}{
		{&client.APIError{Status: 401}, "client: backend answered 401 Unauthorized"},
		{&client.APIError{Status: 423, Message: "account locked"}, "client: backend answered 423 Locked: account locked"},
		{&client.APIError{Status: 404, Code: "not_found", Message: "No product NOPE."}, "client: backend answered 404 Not Found: No product NOPE."},
		{&client.APIError{Status: 404, Code: "not_found"}, "client: backend answered 404 Not Found: not_found"},
		{&client.APIError{Status: 400, Errors: api.FieldError("loginId", "blank", "x")}, "client: backend answered 400 Bad Request: [blank]loginId"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
	if errors.Unwrap(&client.APIError{Status: 401}) != nil {
		t.Errorf("Unwrap of an APIError without Errors is not nil")
	}
}

func TestClient_PlainTextError(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "too many requests", http.StatusTooManyRequests)
	}))
	defer srv.Close()
	c := &client.Client{BaseURL: srv.URL}
	_, err := c.Login(t.Context(), "a", "b")
	var apiErr *client.APIError
	if !errors.As(err, &apiErr) || apiErr.Message != "too many requests" || !bytes.Contains(apiErr.Body, []byte("too many")) {
		t.Errorf("err = %#v", err)
	}
}

func TestCheckResponse(t *testing.T) {
	t.Parallel()
	const jsonType = "application/json"
	huge := strings.Repeat("x", 100<<10)
	tests := []struct {
		name        string
		status      int
		contentType string
		body        string
		want        *client.APIError // nil for no error; Body is checked apart
	}{
		{"OK", 200, jsonType, `{"items":[]}`, nil},
		{"Created", 201, jsonType, `{"sku":"MUG-1"}`, nil},
		{"NoContent", 204, "", ``, nil},
		{"Storefront", 404, jsonType, `{"error":"not_found","message":"No product NOPE."}`,
			&client.APIError{Status: 404, Code: "not_found", Message: "No product NOPE."}},
		{"Guard", 401, jsonType, `{"error":"invalid_token","error_description":"log in again"}`,
			&client.APIError{Status: 401, Code: "invalid_token", Message: "log in again"}},
		{"CodeOnly", 400, jsonType, `{"error":"invalid_request"}`,
			&client.APIError{Status: 400, Code: "invalid_request", Message: "invalid_request"}},
		{"GeneralErrors", 400, jsonType, `{"generalErrors":[{"code":"[TooMany]","message":"Too many items."}]}`,
			&client.APIError{Status: 400, Errors: api.GeneralError("[TooMany]", "Too many items."), Message: "Too many items."}},
		{"FieldErrors", 400, jsonType, `{"fieldErrors":{"sku":[{"code":"[blank]sku","message":"sku is required"}]}}`,
			&client.APIError{Status: 400, Errors: api.FieldError("sku", "blank", "sku is required")}},
		{"LoginPrevented", 409, jsonType, `{"actions":[{"localizedName":"Too many attempts"}]}`,
			&client.APIError{Status: 409, Message: "Too many attempts"}},
		// A member of an unexpected type spoils nothing else.
		{"ErrorObject", 500, jsonType, `{"error":{"reason":"boom"},"message":"The server broke."}`,
			&client.APIError{Status: 500, Message: "The server broke."}},
		{"MessageNumber", 500, jsonType, `{"error":"internal_error","message":42}`,
			&client.APIError{Status: 500, Code: "internal_error", Message: "internal_error"}},
		{"BadJSON", 502, jsonType, `{"error":`, &client.APIError{Status: 502}},
		{"PlainText", 503, "text/plain; charset=utf-8", "down for maintenance\n",
			&client.APIError{Status: 503, Message: "down for maintenance"}},
		{"LongPlainText", 503, "text/plain", strings.Repeat("down ", 50), &client.APIError{Status: 503}},
		{"MultiLinePlainText", 503, "text/plain", "down\nfor maintenance", &client.APIError{Status: 503}},
		{"HTML", 502, "text/html", `<html><body>Bad Gateway</body></html>`, &client.APIError{Status: 502}},
		{"Empty", 500, "", ``, &client.APIError{Status: 500}},
		{"NotModified", 304, "", ``, &client.APIError{Status: 304}},
		{"Huge", 500, "text/plain", huge, &client.APIError{Status: 500}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tt.contentType != "" {
					w.Header().Set("Content-Type", tt.contentType)
				}
				w.WriteHeader(tt.status)
				io.WriteString(w, tt.body)
			}))
			defer srv.Close()
			resp, err := srv.Client().Get(srv.URL)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()

			err = client.CheckResponse(resp)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("CheckResponse = %v, want nil", err)
				}
				// The body is left for the caller.
				if b, err := io.ReadAll(resp.Body); err != nil || string(b) != tt.body {
					t.Errorf("body after CheckResponse = %q, %v; want %q", b, err, tt.body)
				}
				return
			}
			var got *client.APIError
			if !errors.As(err, &got) {
				t.Fatalf("CheckResponse = %v, want *APIError", err)
			}
			if diff := cmp.Diff(tt.want, got, cmpopts.IgnoreFields(client.APIError{}, "Body")); diff != "" {
				t.Errorf("APIError (-want +got):\n%s", diff)
			}
			if wantBody := tt.body[:min(len(tt.body), 64<<10)]; string(got.Body) != wantBody {
				t.Errorf("Body = %.40q (%d bytes), want %.40q (%d bytes)", got.Body, len(got.Body), wantBody, len(wantBody))
			}
			if tt.want.Errors != nil {
				if errs := (*api.Errors)(nil); !errors.As(err, &errs) {
					t.Errorf("errors.As(%v, *api.Errors) = false", err)
				}
			}
			// The body is closed (an empty one is http.NoBody, which
			// has nothing to close).
			if _, err := resp.Body.Read(make([]byte, 1)); tt.body != "" && (err == nil || err == io.EOF) {
				t.Errorf("Read after CheckResponse: %v, want the body closed", err)
			}
		})
	}
	if err := client.CheckResponse(nil); err == nil {
		t.Errorf("CheckResponse(nil) = nil")
	}
}

// A 401 that ends the session still calls OnLoginRequired once and clears
// the session, then reaches CheckResponse as an APIError.
func TestCheckResponse_SessionEnded(t *testing.T) {
	t.Parallel()
	b := newBackend(t)
	c := b.newClient()
	var calls atomic.Int32
	c.OnLoginRequired = func() { calls.Add(1) }
	mustLogin(t, c)
	b.revokeAll()
	b.clock.Advance(11 * time.Minute)

	resp, err := c.HTTP().Get(b.srv.URL + "/api/cart")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if got := calls.Load(); got != 1 {
		t.Errorf("OnLoginRequired called %d times, want 1", got)
	}
	err = client.CheckResponse(resp)
	want := &client.APIError{Status: http.StatusUnauthorized, Code: "invalid_token", Message: "invalid_token"}
	var got *client.APIError
	if !errors.As(err, &got) {
		t.Fatalf("CheckResponse = %v, want *APIError", err)
	}
	if diff := cmp.Diff(want, got, cmpopts.IgnoreFields(client.APIError{}, "Body")); diff != "" {
		t.Errorf("APIError (-want +got):\n%s", diff)
	}
	wantLoggedOut(t, c)
}
