package httpapi

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/latchid/latch/api"
	"github.com/latchid/latch/internal/storage"
)

// jwks serves GET /.well-known/jwks.json: every public key that may still
// verify a token. Caches may keep it briefly; verifiers refetch on an
// unknown kid.
func (s *Server) jwks(w http.ResponseWriter, r *http.Request) error {
	set, err := s.id.JWKS(r.Context())
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "public, max-age=60")
	return writeJSON(w, http.StatusOK, set)
}

// discovery serves the OpenID Provider / RFC 8414 metadata of a tenant
// (from the path or ?tenantId=, else the only one).
func (s *Server) discovery(w http.ResponseWriter, r *http.Request) error {
	tenantID := r.PathValue("tenantId")
	if tenantID == "" {
		tenantID = query(r, "tenantId")
	}
	if tenantID == "" {
		tenantID = strings.TrimSpace(r.Header.Get(api.HeaderTenantID))
	}
	// Several tenants and none named: the default (oldest) tenant's
	// document, as FusionAuth answers.
	t, err := s.discoveryTenant(r.Context(), tenantID)
	if errors.Is(err, storage.ErrUnavailable) {
		return err
	} else if err != nil {
		return status(http.StatusNotFound)
	}
	issuer := s.id.Issuer(t)
	base := s.publicBase(r, issuer)
	algs, err := s.id.SigningAlgorithms(r.Context())
	if err != nil {
		return err
	}
	doc := map[string]any{
		"issuer":                                         issuer,
		"token_endpoint":                                 base + "/oauth2/token",
		"jwks_uri":                                       base + "/.well-known/jwks.json",
		"revocation_endpoint":                            base + "/oauth2/revoke",
		"introspection_endpoint":                         base + "/oauth2/introspect",
		"userinfo_endpoint":                              base + "/oauth2/userinfo",
		"authorization_endpoint":                         base + "/oauth2/authorize",
		"end_session_endpoint":                           base + "/oauth2/logout",
		"grant_types_supported":                          []string{"authorization_code", "password", "refresh_token"},
		"response_types_supported":                       []string{"code"},
		"response_modes_supported":                       []string{"query"},
		"code_challenge_methods_supported":               []string{"S256"},
		"authorization_response_iss_parameter_supported": true,
		"request_parameter_supported":                    false,
		"request_uri_parameter_supported":                false,
		"claims_parameter_supported":                     false,
		"prompt_values_supported":                        []string{"login", "none"},
		"scopes_supported":                               []string{"openid", "offline_access"},
		"subject_types_supported":                        []string{"public"},
		"id_token_signing_alg_values_supported":          algs,
		"token_endpoint_auth_methods_supported":          []string{"client_secret_basic", "client_secret_post", "none"},
		"revocation_endpoint_auth_methods_supported":     []string{"client_secret_basic", "client_secret_post", "none"},
		"introspection_endpoint_auth_methods_supported":  []string{"client_secret_basic", "client_secret_post", "none"},
		"dpop_signing_alg_values_supported":              s.dpop.Algorithms(),
		"claims_supported": []string{"aud", "exp", "iat", "iss", "sub", "jti", "authenticationType", "email",
			"email_verified", "preferred_username", "applicationId", "roles", "sid", "tid", "auth_time", "scope", "cnf", "nonce", "at_hash"},
		"backchannel_logout_supported":  false,
		"frontchannel_logout_supported": false,
	}
	w.Header().Set("Cache-Control", "public, max-age=60")
	return writeJSON(w, http.StatusOK, doc)
}

// publicBase is the URL endpoints are published under: the configured
// base URL, else the issuer when it is an http(s) URL, else the request's
// own scheme and host.
func (s *Server) publicBase(r *http.Request, issuer string) string {
	if s.baseURL != "" {
		return s.baseURL
	}
	if u, err := url.Parse(issuer); err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" {
		return strings.TrimSuffix(issuer, "/")
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}
