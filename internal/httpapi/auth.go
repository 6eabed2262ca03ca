package httpapi

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/latchid/latch/api"
	"github.com/latchid/latch/internal/identity"
	"github.com/latchid/latch/internal/storage"
)

// apiKeyHeader returns the API key of a request: the raw Authorization
// header, as FusionAuth takes it. A blank header is no key.
func apiKeyHeader(r *http.Request) string {
	v := strings.TrimSpace(r.Header.Get("Authorization"))
	if scheme, _, ok := strings.Cut(v, " "); ok {
		switch strings.ToLower(scheme) {
		case "bearer", "basic", "dpop", "jwt":
			return "" // a credential of another kind
		}
	}
	return v
}

// bearer returns the JWT of an Authorization header (Bearer or the older
// JWT scheme), or of the access_token cookie.
func bearer(r *http.Request) string {
	v := strings.TrimSpace(r.Header.Get("Authorization"))
	for _, scheme := range []string{"Bearer ", "JWT "} {
		if len(v) > len(scheme) && strings.EqualFold(v[:len(scheme)], scheme) {
			return strings.TrimSpace(v[len(scheme):])
		}
	}
	if c, err := r.Cookie("access_token"); err == nil {
		return c.Value
	}
	return ""
}

// requireAPIKey authenticates the request's API key for its route, and
// keeps the key in the context.
func (s *Server) requireAPIKey(r *http.Request) (*http.Request, error) {
	key, err := s.apiKey(r)
	if err != nil {
		return r, err
	}
	if key == nil {
		return r, noAPIKey(r, "")
	}
	return withAPIKey(r, key), nil
}

// apiKeyRefusal refuses a request's API key: 401 with an empty body, as
// FusionAuth answers, and a log line that says why (never the key).
type apiKeyRefusal struct{ reason string }

func (e *apiKeyRefusal) Error() string { return "API key refused: " + e.reason }

// Unwrap makes a refusal an identity.ErrUnauthorized.
func (e *apiKeyRefusal) Unwrap() error { return identity.ErrUnauthorized }

// noAPIKey is the refusal of a request that carries no API key; why, when
// not "" (say, the application requires one to log in), follows.
func noAPIKey(r *http.Request, why string) error {
	reason := "no API key"
	if scheme, _, ok := strings.Cut(strings.TrimSpace(r.Header.Get("Authorization")), " "); ok {
		reason += " (the Authorization header holds a " + scheme + " credential; an API key is the header's whole value)"
	}
	if why != "" {
		reason += ": " + why
	}
	return &apiKeyRefusal{reason: reason}
}

// withAPIKey keeps an authenticated key in the request's context.
func withAPIKey(r *http.Request, k *storage.APIKey) *http.Request {
	return r.WithContext(context.WithValue(r.Context(), ctxAPIKey, k))
}

// apiKey authenticates the API key a request carries, if any: nil when it
// carries none, identity.ErrUnauthorized when the key is wrong, not
// permitted for the route, or locked to another tenant than the header names.
func (s *Server) apiKey(r *http.Request) (*storage.APIKey, error) {
	if k, ok := r.Context().Value(ctxAPIKey).(*storage.APIKey); ok {
		return k, nil
	}
	raw := apiKeyHeader(r)
	if raw == "" {
		return nil, nil
	}
	k, err := s.id.AuthenticateAPIKey(r.Context(), raw, r.Method, endpoint(r))
	switch {
	case errors.Is(err, identity.ErrAPIKeyUnknown):
		return nil, &apiKeyRefusal{reason: "unknown API key"}
	case errors.Is(err, identity.ErrAPIKeyNotPermitted):
		return nil, &apiKeyRefusal{reason: "the API key is not permitted to " + r.Method + " " + endpoint(r)}
	case err != nil:
		return nil, err
	}
	if h := r.Header.Get(api.HeaderTenantID); k.TenantID != "" && h != "" && h != k.TenantID {
		return nil, &apiKeyRefusal{reason: "the API key " + k.ID + " is locked to tenant " + k.TenantID +
			", and " + api.HeaderTenantID + " names another"}
	}
	return &k, nil
}

// tenant returns the tenant a request is pinned to: the one its API key
// is locked to, else the X-FusionAuth-TenantId header ("" for none). A
// header that is no UUID is a 400.
func (s *Server) tenant(r *http.Request) (string, error) {
	if k, ok := r.Context().Value(ctxAPIKey).(*storage.APIKey); ok && k.TenantID != "" {
		return k.TenantID, nil
	}
	h := strings.TrimSpace(r.Header.Get(api.HeaderTenantID))
	if h != "" && !identity.ValidID(h) {
		return "", api.GeneralError("[invalid]tenantId", "The X-FusionAuth-TenantId header must be a tenant id (a UUID).")
	}
	return h, nil
}

// lockedTenant is the tenant the request's API key is locked to, "" for
// a key that is not (or no key).
func lockedTenant(r *http.Request) string {
	if k, ok := r.Context().Value(ctxAPIKey).(*storage.APIKey); ok {
		return k.TenantID
	}
	return ""
}

// endpoint names the API a request calls, as API key permissions list
// them: its route's path without its wildcards ("/api/user" for
// /api/user/{id}, "/api/user/registration" for
// /api/user/registration/{userId}/{applicationId},
// "/api/application/role" for /api/application/{id}/role/{roleId}).
func endpoint(r *http.Request) string {
	p := r.Pattern
	if i := strings.IndexByte(p, ' '); i >= 0 {
		p = p[i+1:]
	}
	segments := strings.Split(strings.Trim(p, "/"), "/")
	kept := segments[:0]
	for _, seg := range segments {
		if !strings.HasPrefix(seg, "{") {
			kept = append(kept, seg)
		}
	}
	if len(kept) == 0 || kept[0] == "" {
		return r.URL.Path
	}
	return "/" + strings.Join(kept, "/")
}
